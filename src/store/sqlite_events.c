/* sqlite_events: the durable event log behind GET /api/v1/events and the
 * email outbox, on SQLite. Both are written by the transaction of the
 * change they announce (sqlite_event, sqlite_mail), so an event or a mail
 * exists exactly when its change committed. The writer reports the highest
 * committed event id to the loop (sqlite_exec), which pokes the event hub. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/token.h"
#include "sqlite_internal.h"

static char *json_row(sq_conn *c, const char *sql, int *rc, char *col1, size_t col1_cap, int nparams,
                      va_list ap)
{
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) {
        *rc = STORE_IO;
        return NULL;
    }
    for (int i = 1; i <= nparams; i++) sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE) {
        *rc = STORE_NOTFOUND;
        return NULL;
    }
    if (r != SQLITE_ROW) {
        *rc = sq_rc(c, r);
        return NULL;
    }
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *out = strdup(t ? (const char *)t : "{}");
    if (col1) sqlite_copy_col(col1, col1_cap, st, 1);
    sqlite3_reset(st);
    *rc = out ? STORE_OK : STORE_BUSY;
    return out;
}

char *sqlite_json_row(sq_conn *c, const char *sql, int *rc, int nparams, ...)
{
    va_list ap;
    va_start(ap, nparams);
    char *out = json_row(c, sql, rc, NULL, 0, nparams, ap);
    va_end(ap);
    return out;
}

char *sqlite_json_row_with(sq_conn *c, const char *sql, int *rc, char *col1, size_t col1_cap, int nparams, ...)
{
    va_list ap;
    va_start(ap, nparams);
    char *out = json_row(c, sql, rc, col1, col1_cap, nparams, ap);
    va_end(ap);
    return out;
}

int sqlite_event(sq_conn *c, const char *user_id, const char *kind, const char *payload, int64_t now)
{
    static const char sql[] =
        "INSERT INTO events(user_id, kind, payload, created_at) VALUES (?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    int64_t id = sqlite3_last_insert_rowid(c->db);
    if (id > c->events_max) c->events_max = id;
    return STORE_OK;
}

int sqlite_event_parties(sq_conn *c, const char *conversation_id, const char *kind,
                         const char *payload, int64_t now)
{
    static const char sql[] = "SELECT client_id, engineer_id FROM conversations WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, conversation_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char client[32], engineer[32];
    sqlite_copy_col(client, sizeof client, st, 0);
    sqlite_copy_col(engineer, sizeof engineer, st, 1);
    sqlite3_reset(st);
    if ((rc = sqlite_event(c, client, kind, payload, now)) < 0) return rc;
    return sqlite_event(c, engineer, kind, payload, now);
}

int sqlite_event_admins(sq_conn *c, const char *kind, const char *payload, int64_t now)
{
    static const char sql[] = "INSERT INTO events(user_id, kind, payload, created_at)"
                              " SELECT id, ?, ?, ? FROM users WHERE role = 'admin' ORDER BY id";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) > 0) {
        int64_t id = sqlite3_last_insert_rowid(c->db);
        if (id > c->events_max) c->events_max = id;
    }
    return STORE_OK;
}

int sqlite_mail(sq_conn *c, const char *user_id, const char *kind, const char *data, int64_t now)
{
    static const char sql[] =
        "INSERT INTO outbox(id, user_id, to_addr, to_name, kind, data, status, created_at,"
        " next_attempt_at) SELECT ?1, id, email, name, ?2, ?3, 'queued', ?4, ?4 FROM users"
        " WHERE id = ?5";
    char id[ID_STR_MAX];
    id_new("mail", id);
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, data, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_text(st, 5, user_id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_OK; /* no such user: nobody to write to */
    return sqlite_job_schedule(c, "email.send", id, now);
}

/* ---- events --------------------------------------------------------------- */

static int run_head(sq_conn *c, sq_job *j)
{
    /* sqlite_sequence keeps the high-water mark even after deletions */
    static const char sql[] =
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),"
        " coalesce((SELECT max(id) FROM events), 0)), (SELECT min(id) FROM events)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    int64_t *out = j->out;
    out[0] = sqlite3_column_int64(st, 0);
    /* below the oldest kept id everything was pruned (or never was) */
    out[1] = sqlite3_column_type(st, 1) == SQLITE_NULL ? out[0] : sqlite3_column_int64(st, 1) - 1;
    return STORE_OK;
}

int sqe_events_head(store *s, int64_t out[2], uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_head, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

static int run_after(sq_conn *c, sq_job *j)
{
    store_event_page *out = j->out;
    int limit = (int)(intptr_t)j->in;
    static const char sql[] = "SELECT id, user_id, kind, payload, created_at FROM events"
                              " WHERE (?1 IS NULL OR user_id = ?1) AND id > ?2 ORDER BY id LIMIT ?3";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    if (j->s1) sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, j->n1);
    sqlite3_bind_int(st, 3, limit);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_EVENTS_MAX) {
        store_event *e = &out->items[out->n];
        e->id = sqlite3_column_int64(st, 0);
        sqlite_copy_col(e->user_id, sizeof e->user_id, st, 1);
        sqlite_copy_col(e->kind, sizeof e->kind, st, 2);
        const unsigned char *p = sqlite3_column_text(st, 3);
        e->payload = strdup(p ? (const char *)p : "{}");
        if (!e->payload) return STORE_BUSY;
        e->created_at = sqlite3_column_int64(st, 4);
        out->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqe_events_after(store *s, const char *user_id, int64_t after, int limit,
                     store_event_page *out, uint64_t d, store_done_cb cb, void *ctx)
{
    if (limit < 1 || limit > STORE_EVENTS_MAX) limit = STORE_EVENTS_MAX;
    return sqlite_submit(s, run_after, 0, d, cb, ctx, (const void *)(intptr_t)limit, out, user_id,
                         NULL, after);
}

static int run_prune(sq_conn *c, sq_job *j)
{
    /* ids grow with time: the oldest events are the lowest ids */
    static const char sql[] = "DELETE FROM events WHERE id IN (SELECT id FROM events"
                              " WHERE created_at < ? ORDER BY id LIMIT 10000) RETURNING id";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, j->n1);
    int64_t *max = j->out, m = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id > m) m = id;
    }
    *max = m;
    return rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqe_events_prune(store *s, int64_t before, int64_t *max_deleted, uint64_t d, store_done_cb cb,
                     void *ctx)
{
    return sqlite_submit(s, run_prune, 1, d, cb, ctx, NULL, max_deleted, NULL, NULL, before);
}

/* ---- outbox ----------------------------------------------------------------- */

#define MAIL_COLS                                                                                  \
    "seq, id, coalesce(user_id, ''), to_addr, to_name, kind, data, status, attempts,"            \
    " coalesce(last_error, ''), created_at, next_attempt_at, coalesce(sent_at, 0)"

static int read_mail(sqlite3_stmt *st, store_mail *m)
{
    m->seq = sqlite3_column_int64(st, 0);
    sqlite_copy_col(m->id, sizeof m->id, st, 1);
    sqlite_copy_col(m->user_id, sizeof m->user_id, st, 2);
    sqlite_copy_col(m->to_addr, sizeof m->to_addr, st, 3);
    sqlite_copy_col(m->to_name, sizeof m->to_name, st, 4);
    sqlite_copy_col(m->kind, sizeof m->kind, st, 5);
    const unsigned char *d = sqlite3_column_text(st, 6);
    m->data = strdup(d ? (const char *)d : "{}");
    sqlite_copy_col(m->status, sizeof m->status, st, 7);
    m->attempts = sqlite3_column_int(st, 8);
    sqlite_copy_col(m->last_error, sizeof m->last_error, st, 9);
    m->created_at = sqlite3_column_int64(st, 10);
    m->next_attempt_at = sqlite3_column_int64(st, 11);
    m->sent_at = sqlite3_column_int64(st, 12);
    return m->data ? STORE_OK : STORE_BUSY;
}

static int run_mail_get(sq_conn *c, sq_job *j)
{
    static const char sql[] = "SELECT " MAIL_COLS " FROM outbox WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    return read_mail(st, j->out);
}

int sqe_mail_get(store *s, const char *id, store_mail *out, uint64_t d, store_done_cb cb, void *ctx)
{
    memset(out, 0, sizeof *out);
    return sqlite_submit(s, run_mail_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_mail_result(sq_conn *c, sq_job *j)
{
    const store_mail_result *r = j->in;
    if (r->deferred) {
        static const char later[] = "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'queued'";
        sqlite3_stmt *st = sq_prep(c, later);
        if (!st) return STORE_IO;
        sqlite3_bind_int64(st, 1, r->retry_at);
        sqlite3_bind_text(st, 2, r->mail_id, -1, SQLITE_STATIC);
        int rc = sq_rc(c, sqlite3_step(st));
        if (rc < 0) return rc;
        static const char again[] = "UPDATE jobs SET run_at = ?, lease_until = 0 WHERE id = ? AND done_at IS NULL";
        st = sq_prep(c, again);
        if (!st) return STORE_IO;
        sqlite3_bind_int64(st, 1, r->retry_at);
        sqlite3_bind_text(st, 2, r->job_id, -1, SQLITE_STATIC);
        return sq_rc(c, sqlite3_step(st));
    }
    const char *status = r->sent ? "sent" : r->retry_at > 0 ? "queued" : "failed";
    static const char sql[] =
        "UPDATE outbox SET status = ?1, attempts = attempts + 1, last_error = ?2,"
        " next_attempt_at = ?3, sent_at = CASE WHEN ?1 = 'sent' THEN ?4 ELSE sent_at END"
        " WHERE id = ?5 AND status = 'queued'";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    if (r->error) sqlite3_bind_text(st, 2, r->error, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, r->retry_at > 0 ? r->retry_at : r->now);
    sqlite3_bind_int64(st, 4, r->now);
    sqlite3_bind_text(st, 5, r->mail_id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) != 1) { /* settled already: the job has nothing left */
        rc = sqlite_job_mark_done(c, r->job_id, r->now, NULL);
        return rc == STORE_CONFLICT ? STORE_OK : rc;
    }
    if (!r->sent && r->retry_at > 0) {
        static const char again[] = "UPDATE jobs SET run_at = ?, lease_until = 0, last_error = ?"
                                    " WHERE id = ? AND done_at IS NULL";
        st = sq_prep(c, again);
        if (!st) return STORE_IO;
        sqlite3_bind_int64(st, 1, r->retry_at);
        if (r->error) sqlite3_bind_text(st, 2, r->error, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 2);
        sqlite3_bind_text(st, 3, r->job_id, -1, SQLITE_STATIC);
        return sq_rc(c, sqlite3_step(st));
    }
    rc = sqlite_job_mark_done(c, r->job_id, r->now, r->sent ? NULL : r->error);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int sqe_mail_result(store *s, const store_mail_result *r, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_mail_result, 1, d, cb, ctx, r, NULL, NULL, NULL, 0);
}

static int run_outbox(sq_conn *c, sq_job *j)
{
    store_outbox *out = j->out;
    int limit = (int)(intptr_t)j->in;
    static const char sql[] = "SELECT " MAIL_COLS " FROM outbox"
                              " WHERE (?1 IS NULL OR status = ?1) AND (?2 = 0 OR seq < ?2)"
                              " ORDER BY seq DESC LIMIT ?3";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    if (j->s1) sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, j->n1);
    sqlite3_bind_int(st, 3, limit);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_OUTBOX_MAX) {
        if (read_mail(st, &out->items[out->n]) < 0) return STORE_BUSY;
        out->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqe_outbox_list(store *s, const char *status, int64_t before_seq, int limit, store_outbox *out,
                    uint64_t d, store_done_cb cb, void *ctx)
{
    if (limit < 1 || limit > STORE_OUTBOX_MAX) limit = STORE_OUTBOX_MAX;
    return sqlite_submit(s, run_outbox, 0, d, cb, ctx, (const void *)(intptr_t)limit, out, status,
                         NULL, before_seq);
}

static int run_requeue(sq_conn *c, sq_job *j)
{
    static const char sql[] = "UPDATE outbox SET status = 'queued', attempts = 0, last_error = NULL,"
                              " next_attempt_at = ?1 WHERE id = ?2 AND status = 'failed'";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, j->n1);
    sqlite3_bind_text(st, 2, j->s1, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    int changed = sqlite3_changes(c->db) == 1;
    if (changed && (rc = sqlite_job_schedule(c, "email.send", j->s1, j->n1)) < 0) return rc;
    static const char get[] = "SELECT " MAIL_COLS " FROM outbox WHERE id = ?";
    st = sq_prep(c, get);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    if ((rc = read_mail(st, j->out)) < 0) return rc;
    return changed ? STORE_OK : STORE_CONFLICT;
}

int sqe_mail_requeue(store *s, const char *id, int64_t now, store_mail *out, uint64_t d,
                     store_done_cb cb, void *ctx)
{
    memset(out, 0, sizeof *out);
    return sqlite_submit(s, run_requeue, 1, d, cb, ctx, NULL, out, id, NULL, now);
}

/* the digest: one mail for whatever is still unread when the job runs */
static int run_digest(sq_conn *c, sq_job *j)
{
    const char *ref = j->s2;
    const char *colon = strchr(ref, ':');
    int rc;
    if (colon && (size_t)(colon - ref) < 32 && strlen(colon + 1) < 32) {
        char conv[32], user[32];
        memcpy(conv, ref, (size_t)(colon - ref));
        conv[colon - ref] = '\0';
        snprintf(user, sizeof user, "%s", colon + 1);
        static const char sql[] =
            "WITH unread AS (SELECT m.seq, m.sender_id, m.body FROM messages m"
            "   JOIN conversations v ON v.id = m.conversation_id"
            "  WHERE v.id = ?1 AND ?2 IN (v.client_id, v.engineer_id) AND m.sender_id <> ?2"
            "    AND m.seq > coalesce((SELECT last_read_seq FROM read_markers"
            "      WHERE conversation_id = ?1 AND user_id = ?2), 0)),"
            " last AS (SELECT * FROM unread ORDER BY seq DESC LIMIT 1)"
            " SELECT json_object('conversation_id', v.id, 'request_id', v.request_id,"
            "  'request_title', r.title, 'count', (SELECT count(*) FROM unread),"
            "  'from_name', u.name, 'excerpt', substr(last.body, 1, 280))"
            " FROM last JOIN conversations v ON v.id = ?1 JOIN requests r ON r.id = v.request_id"
            " JOIN users u ON u.id = last.sender_id";
        sqlite3_stmt *st = sq_prep(c, sql);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, conv, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, user, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            char *data = strdup(t ? (const char *)t : "{}");
            sqlite3_reset(st);
            if (!data) return STORE_BUSY;
            rc = sqlite_mail(c, user, "message.digest", data, j->n1);
            free(data);
            if (rc < 0) return rc;
        } else if (rc != SQLITE_DONE) {
            return sq_rc(c, rc);
        }
    }
    rc = sqlite_job_mark_done(c, j->s1, j->n1, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int sqe_mail_digest(store *s, const char *job_id, const char *ref, int64_t now, uint64_t d,
                    store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_digest, 1, d, cb, ctx, NULL, NULL, job_id, ref, now);
}
