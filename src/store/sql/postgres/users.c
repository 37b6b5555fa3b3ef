/* users statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_users[] = {
    {ST_PING, "SELECT 1"},
    {ST_AUDIT, "INSERT INTO audit_log(at, actor_id, action, entity, entity_id, detail)" " VALUES ($1,$2,$3,$4,$5,$6)"},
    {ST_USER_CREATE, "INSERT INTO users(id, email, name, role, password_hash, created_at)"
                     " VALUES ($1,$2,$3,$4,$5,$6)"},
    {ST_USER_BY_EMAIL, "SELECT id, email, name, role, password_hash, created_at, status"
                       " FROM users WHERE email = $1"},
    {ST_SESSION_CREATE_PURGE, "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2"},
    {ST_SESSION_CREATE, "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at,"
                        " expires_at) VALUES ($1,$2,$3,$4,$5)"},
    {ST_SESSION_GET, "SELECT s.token_hash, s.csrf_token, s.created_at, s.expires_at,"
                     " u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.status"
                     " FROM sessions s JOIN users u ON u.id = s.user_id"
                     " WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.status = 'active'"},
    {ST_SESSION_DELETE, "DELETE FROM sessions WHERE token_hash = $1"},
    {0, NULL},
};
