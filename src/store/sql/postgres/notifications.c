/* notifications statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_notifications[] = {
    {ST_NOTES_COUNT_UNREAD, "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"},
    {ST_NOTES_LIST, "SELECT id, created_at, coalesce(read_at, 0), kind, payload"
               " FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2"},
    {ST_NOTES_READ_OWN, "SELECT 1 FROM notifications WHERE id = $1 AND user_id = $2"},
    {ST_NOTES_READ, "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL" " AND id <= $3"},
    {0, NULL},
};
