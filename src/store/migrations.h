/* migrations: the versioned schema, oldest first. A migration is applied
 * once, inside one transaction with the row that records it in
 * schema_migrations; versions are never edited after they ship, only
 * added. */
#ifndef OPX_MIGRATIONS_H
#define OPX_MIGRATIONS_H

typedef struct {
    int version;
    const char *name;
    const char *sql;
} migration;

extern const migration sqlite_migrations[];
extern const int sqlite_migrations_count;
extern const migration postgres_migrations[];
extern const int postgres_migrations_count;
#endif
