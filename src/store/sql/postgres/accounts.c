/* accounts statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define ACCOUNT_COLS                                                                                  \
    "u.seq, u.id, u.email, u.name, u.role, u.created_at, u.status, coalesce(u.suspended_at, 0),"   \
    " coalesce(u.suspended_reason, '')"

const sql_stmt sql_postgres_accounts[] = {
    {ST_READ_ONE_USER, "SELECT id, email, name, role, password_hash, created_at, status" " FROM users WHERE id = $1"},
    {ST_USER_RENAME, "UPDATE users SET name = $1 WHERE id = $2"},
    {ST_SESSIONS_END, "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> coalesce($2, '')"},
    {ST_PASSWORD_CHANGE, "UPDATE users SET password_hash = $1 WHERE id = $2"},
    {ST_USERS_LIST, "SELECT " ACCOUNT_COLS " FROM users u"
                    " WHERE ($1::text IS NULL OR u.name ILIKE $1 ESCAPE '\\' OR u.email ILIKE $1 ESCAPE '\\')"
                    " AND ($2::text IS NULL OR u.role = $2) AND ($3::text IS NULL OR u.status = $3)"
                    " AND ($4::bigint = 0 OR u.seq < $4) ORDER BY u.seq DESC LIMIT $5"},
    {ST_READ_ACCOUNT_BY_ID, "SELECT " ACCOUNT_COLS " FROM users u WHERE u.id = $1"},
    {ST_USER_SET_STATUS, "UPDATE users SET status = $1, suspended_at = CASE WHEN $1 = 'suspended' THEN $2::bigint END,"
                         " suspended_reason = CASE WHEN $1 = 'suspended' THEN $3::text END WHERE id = $4"},
    {0, NULL},
};
