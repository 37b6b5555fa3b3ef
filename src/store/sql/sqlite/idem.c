/* idem statements, SQLite dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_sqlite_idem[] = {
    {ST_IDEM_CLAIM_GET, "SELECT route, body_hash, owner, status, response, lease_until,"
                        " EXISTS (SELECT 1 FROM nodes n WHERE n.id = owner AND n.alive_until >= unixepoch())"
                        " FROM idempotency_keys WHERE user_id = ?1 AND key = ?2"},
    {ST_IDEM_CLAIM_INS, "INSERT INTO idempotency_keys(user_id, key, route, body_hash, owner, created_at,"
                        " lease_until) VALUES (?1,?2,?3,?4,?5,?6,?7)"},
    {ST_IDEM_CLAIM_TAKE, "UPDATE idempotency_keys SET owner = ?1, lease_until = ?4"
                         " WHERE user_id = ?2 AND key = ?3"},
    {ST_IDEM_RELEASE, "DELETE FROM idempotency_keys WHERE user_id = ?1 AND key = ?2 AND status IS NULL"},
    {ST_IDEM_SAVE, "UPDATE idempotency_keys SET status = ?1, response = ?2, completed_at = ?3"
                   " WHERE user_id = ?4 AND key = ?5 AND status IS NULL"},
    {ST_IDEM_PRUNE_DEL, "DELETE FROM idempotency_keys WHERE (user_id, key) IN (SELECT user_id, key"
                   " FROM idempotency_keys WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)"},
    {ST_IDEM_PRUNE_AGAIN, "UPDATE jobs SET run_at = ?1, lease_until = 0 WHERE id = ?2 AND done_at IS NULL"},
    /* a node's heartbeat and its going, in the database's own time (the
     * nodes' clocks may differ, and a test clock is only business time) */
    {ST_NODE_BEAT, "INSERT INTO nodes(id, alive_until) VALUES (?1, unixepoch() + ?2)"
                   " ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until"},
    {ST_NODE_GONE, "DELETE FROM nodes WHERE id = ?1 OR alive_until < unixepoch() - 3600"},
    {0, NULL},
};
