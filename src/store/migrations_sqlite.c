/* migrations_sqlite: the SQLite schema, version by version (see migrations.h).
 * Tables are STRICT so a wrong type is an error, not a silent conversion;
 * times are unix seconds (INTEGER), ids are opaque TEXT. */
#include "migrations.h"

const migration sqlite_migrations[] = {
    {1, "accounts and sessions",
     "CREATE TABLE users (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  email TEXT NOT NULL UNIQUE,\n"
     "  name TEXT NOT NULL,\n"
     "  role TEXT NOT NULL CHECK (role IN ('client','engineer','vetter','admin')),\n"
     "  password_hash TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE TABLE sessions (\n"
     "  token_hash TEXT PRIMARY KEY,\n"
     "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,\n"
     "  csrf_token TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  expires_at INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE INDEX sessions_user ON sessions(user_id);\n"
     "CREATE INDEX sessions_expiry ON sessions(expires_at);\n"
     "CREATE TABLE audit_log (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  at INTEGER NOT NULL,\n"
     "  actor_id TEXT,\n"
     "  action TEXT NOT NULL,\n"
     "  entity TEXT NOT NULL,\n"
     "  entity_id TEXT,\n"
     "  detail TEXT\n"
     ") STRICT;\n"
     "CREATE INDEX audit_entity ON audit_log(entity, entity_id);\n"},
};

const int sqlite_migrations_count = sizeof sqlite_migrations / sizeof sqlite_migrations[0];
