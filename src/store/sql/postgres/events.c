/* events statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

/* the advisory lock that orders event ids ("opxe") */
#define EVENTS_ORDER_LOCK "1869641829"

#define MAIL_COLS                                                                                  \
    "seq, id, coalesce(user_id, ''), to_addr, to_name, kind, data, status, attempts,"            \
    " coalesce(last_error, ''), created_at, next_attempt_at, coalesce(sent_at, 0)"

const sql_stmt sql_postgres_events[] = {
    /* Event ids must become visible in the order they are issued: the
     * hub reads "after the last id it saw", so an id that commits after
     * a higher one would never be sent live. Each transaction that adds
     * events first takes one advisory lock, held to its commit, and only
     * then draws its ids (the locking subquery is volatile, so it runs
     * before the row that draws the id is made). */
    {ST_EVENT, "INSERT INTO events(user_id, kind, payload, created_at)"
              " SELECT $1::text, $2::text, $3::text, $4::bigint"
              " FROM (SELECT pg_advisory_xact_lock(" EVENTS_ORDER_LOCK ")) AS ordered"
              " RETURNING id"},
    {ST_EVENT_PARTIES, "SELECT client_id, engineer_id FROM conversations WHERE id = $1"},
    {ST_EVENT_ADMINS, "INSERT INTO events(user_id, kind, payload, created_at)"
                      " SELECT u.id, $1::text, $2::text, $3::bigint"
                      " FROM (SELECT pg_advisory_xact_lock(" EVENTS_ORDER_LOCK ")) AS ordered,"
                      " users u WHERE u.role = 'admin' ORDER BY u.id"
                      " RETURNING id"},
    {ST_MAIL, "INSERT INTO outbox(id, user_id, to_addr, to_name, kind, data, status, created_at,"
              " next_attempt_at) SELECT $1, id, email, name, $2, $3, 'queued', $4, $4 FROM users" " WHERE id = $5"},
    /* the newest committed id; with none left (pruned), the last one
     * ever issued, as SQLite's sqlite_sequence keeps it */
    {ST_EVENTS_HEAD, "SELECT coalesce((SELECT max(id) FROM events),"
              " pg_sequence_last_value(pg_get_serial_sequence('events', 'id')::regclass), 0),"
              " (SELECT min(id) FROM events)"},
    {ST_EVENTS_AFTER, "SELECT id, user_id, kind, payload, created_at FROM events"
               " WHERE ($1::text IS NULL OR user_id = $1) AND id > $2 ORDER BY id LIMIT $3"},
    {ST_EVENTS_PRUNE, "DELETE FROM events WHERE id IN (SELECT id FROM events"
               " WHERE created_at < $1 ORDER BY id LIMIT 10000) RETURNING id"},
    {ST_MAIL_GET, "SELECT " MAIL_COLS " FROM outbox WHERE id = $1"},
    {ST_MAIL_RESULT_LATER, "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND status = 'queued'"},
    {ST_MAIL_DEFER_JOB, "UPDATE jobs SET run_at = $1, lease_until = 0 WHERE id = $2 AND done_at IS NULL"},
    {ST_MAIL_RESULT, "UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2,"
                     " next_attempt_at = $3, sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END"
                     " WHERE id = $5 AND status = 'queued'"},
    {ST_MAIL_RETRY_JOB, "UPDATE jobs SET run_at = $1, lease_until = 0, last_error = $2"
                                  " WHERE id = $3 AND done_at IS NULL"},
    {ST_OUTBOX_LIST, "SELECT " MAIL_COLS " FROM outbox" " WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint = 0 OR seq < $2)"
                " ORDER BY seq DESC LIMIT $3"},
    {ST_MAIL_REQUEUE, "UPDATE outbox SET status = 'queued', attempts = 0, last_error = NULL,"
                 " next_attempt_at = $1 WHERE id = $2 AND status = 'failed'"},
    {ST_MAIL_REQUEUE_GET, "SELECT " MAIL_COLS " FROM outbox WHERE id = $1"},
    {ST_MAIL_DIGEST, "WITH unread AS (SELECT m.seq, m.sender_id, m.body FROM messages m"
                "   JOIN conversations v ON v.id = m.conversation_id"
                "  WHERE v.id = $1 AND $2 IN (v.client_id, v.engineer_id) AND m.sender_id <> $2"
                "    AND m.seq > coalesce((SELECT last_read_seq FROM read_markers"
                "      WHERE conversation_id = $1 AND user_id = $2), 0)),"
                " last AS (SELECT * FROM unread ORDER BY seq DESC LIMIT 1)"
                " SELECT json_build_object('conversation_id', v.id, 'request_id', v.request_id,"
                "  'request_title', r.title, 'count', (SELECT count(*) FROM unread),"
                "  'from_name', u.name, 'excerpt', substr(last.body, 1, 280))"
                " FROM last JOIN conversations v ON v.id = $1 JOIN requests r ON r.id = v.request_id"
                " JOIN users u ON u.id = last.sender_id"},
    {0, NULL},
};
