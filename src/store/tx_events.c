/* tx_events: the durable event log behind GET /api/v1/events and the
 * email outbox, Both are written by the transaction of the
 * change they announce (tx_event, tx_mail), so an event or a mail
 * exists exactly when its change committed. The writer reports the highest
 * committed event id to the loop (sqlite_exec), which pokes the event hub. */
#include "../core/token.h"
#include "tx_internal.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *json_row(db_conn *c, int sql, int *rc, char *col1, size_t col1_cap, int nparams,
                      va_list ap)
{
    db_stmt *st = db_prep(c, sql);
    if (!st) {
        *rc = STORE_IO;
        return NULL;
    }
    for (int i = 1; i <= nparams; i++)
        db_bind_text_copy(st, i, va_arg(ap, const char *));
    int r = db_step(st);
    if (r == DB_DONE) {
        *rc = STORE_NOTFOUND;
        return NULL;
    }
    if (r != DB_ROW) {
        *rc = db_rc(r);
        return NULL;
    }
    const char *t = db_col_text(st, 0);
    char *out = strdup(t ? t : "{}");
    if (col1) db_copy_col(col1, col1_cap, st, 1);
    db_reset(st);
    *rc = out ? STORE_OK : STORE_BUSY;
    return out;
}

char *tx_json_row(db_conn *c, int sql, int *rc, int nparams, ...)
{
    va_list ap;
    va_start(ap, nparams);
    char *out = json_row(c, sql, rc, NULL, 0, nparams, ap);
    va_end(ap);
    return out;
}

char *tx_json_row_with(db_conn *c, int sql, int *rc, char *col1, size_t col1_cap, int nparams, ...)
{
    va_list ap;
    va_start(ap, nparams);
    char *out = json_row(c, sql, rc, col1, col1_cap, nparams, ap);
    va_end(ap);
    return out;
}

/* PostgreSQL's json_build_object writes {"a" : 1}: a payload goes out as
 * one compact data line, as SQLite's json_object writes it. NULL when it
 * is compact already (SQLite) or not JSON; else free it. */
static char *compact(db_conn *c, const char *payload)
{
    if (!payload || c->drv->dialect != SQL_POSTGRES || !strstr(payload, " : ")) return NULL;
    json_t *v = json_loads(payload, JSON_DECODE_ANY, NULL);
    char *out = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    return out;
}

int tx_event(db_conn *c, const char *user_id, const char *kind, const char *payload, int64_t now)
{
    db_stmt *st = db_prep(c, ST_EVENT);
    if (!st) return STORE_IO;
    char *tight = compact(c, payload);
    db_bind_text(st, 1, user_id);
    db_bind_text(st, 2, kind);
    if (tight)
        db_bind_text_copy(st, 3, tight);
    else
        db_bind_text(st, 3, payload);
    free(tight);
    db_bind_int(st, 4, now);
    int rc = db_step(st);
    if (rc != DB_ROW) return rc < 0 ? rc : STORE_IO;
    int64_t id = db_col_int(st, 0);
    db_reset(st);
    if (id > c->events_max) c->events_max = id;
    return STORE_OK;
}

int tx_event_parties(db_conn *c, const char *conversation_id, const char *kind, const char *payload,
                     int64_t now)
{
    db_stmt *st = db_prep(c, ST_EVENT_PARTIES);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, conversation_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    char client[32], engineer[32];
    db_copy_col(client, sizeof client, st, 0);
    db_copy_col(engineer, sizeof engineer, st, 1);
    db_reset(st);
    if ((rc = tx_event(c, client, kind, payload, now)) < 0) return rc;
    return tx_event(c, engineer, kind, payload, now);
}

int tx_event_admins(db_conn *c, const char *kind, const char *payload, int64_t now)
{
    db_stmt *st = db_prep(c, ST_EVENT_ADMINS);
    if (!st) return STORE_IO;
    char *tight = compact(c, payload);
    db_bind_text(st, 1, kind);
    if (tight)
        db_bind_text_copy(st, 2, tight);
    else
        db_bind_text(st, 2, payload);
    free(tight);
    db_bind_int(st, 3, now);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t id = db_col_int(st, 0);
        if (id > c->events_max) c->events_max = id;
    }
    return db_rc(rc);
}

int tx_mail(db_conn *c, const char *user_id, const char *kind, const char *data, int64_t now)
{
    char id[ID_STR_MAX];
    id_new("mail", id);
    db_stmt *st = db_prep(c, ST_MAIL);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, data);
    db_bind_int(st, 4, now);
    db_bind_text(st, 5, user_id);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (db_changes(c) != 1) return STORE_OK; /* no such user: nobody to write to */
    return tx_job_schedule(c, "email.send", id, now);
}

/* ---- events --------------------------------------------------------------- */

static int run_head(db_conn *c, db_job *j)
{
    /* sqlite_sequence keeps the high-water mark even after deletions */
    db_stmt *st = db_prep(c, ST_EVENTS_HEAD);
    if (!st) return STORE_IO;
    int rc = db_step(st);
    if (rc != DB_ROW) return db_rc(rc);
    int64_t *out = j->out;
    out[0] = db_col_int(st, 0);
    /* below the oldest kept id everything was pruned (or never was) */
    out[1] = db_col_null(st, 1) ? out[0] : db_col_int(st, 1) - 1;
    return STORE_OK;
}

int tx_events_head(store *s, int64_t out[2], uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_head, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

static int run_after(db_conn *c, db_job *j)
{
    store_event_page *out = j->out;
    int limit = (int)(intptr_t)j->in;
    db_stmt *st = db_prep(c, ST_EVENTS_AFTER);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, j->n1);
    db_bind_int(st, 3, limit);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_EVENTS_MAX) {
        store_event *e = &out->items[out->n];
        e->id = db_col_int(st, 0);
        db_copy_col(e->user_id, sizeof e->user_id, st, 1);
        db_copy_col(e->kind, sizeof e->kind, st, 2);
        const char *p = db_col_text(st, 3);
        e->payload = strdup(p ? p : "{}");
        if (!e->payload) return STORE_BUSY;
        e->created_at = db_col_int(st, 4);
        out->n++;
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_events_after(store *s, const char *user_id, int64_t after, int limit, store_event_page *out,
                    uint64_t d, store_done_cb cb, void *ctx)
{
    if (limit < 1 || limit > STORE_EVENTS_MAX) limit = STORE_EVENTS_MAX;
    return store_submit(s, run_after, 0, d, cb, ctx, (const void *)(intptr_t)limit, out, user_id,
                        NULL, after);
}

static int run_prune(db_conn *c, db_job *j)
{
    /* ids grow with time: the oldest events are the lowest ids */
    db_stmt *st = db_prep(c, ST_EVENTS_PRUNE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, j->n1);
    int64_t *max = j->out, m = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t id = db_col_int(st, 0);
        if (id > m) m = id;
    }
    *max = m;
    return rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_events_prune(store *s, int64_t before, int64_t *max_deleted, uint64_t d, store_done_cb cb,
                    void *ctx)
{
    return store_submit(s, run_prune, 1, d, cb, ctx, NULL, max_deleted, NULL, NULL, before);
}

/* ---- outbox ----------------------------------------------------------------- */

static int read_mail(db_stmt *st, store_mail *m)
{
    m->seq = db_col_int(st, 0);
    db_copy_col(m->id, sizeof m->id, st, 1);
    db_copy_col(m->user_id, sizeof m->user_id, st, 2);
    db_copy_col(m->to_addr, sizeof m->to_addr, st, 3);
    db_copy_col(m->to_name, sizeof m->to_name, st, 4);
    db_copy_col(m->kind, sizeof m->kind, st, 5);
    const char *d = db_col_text(st, 6);
    m->data = strdup(d ? d : "{}");
    db_copy_col(m->status, sizeof m->status, st, 7);
    m->attempts = db_col_int(st, 8);
    db_copy_col(m->last_error, sizeof m->last_error, st, 9);
    m->created_at = db_col_int(st, 10);
    m->next_attempt_at = db_col_int(st, 11);
    m->sent_at = db_col_int(st, 12);
    return m->data ? STORE_OK : STORE_BUSY;
}

static int run_mail_get(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_MAIL_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    return read_mail(st, j->out);
}

int tx_mail_get(store *s, const char *id, store_mail *out, uint64_t d, store_done_cb cb, void *ctx)
{
    memset(out, 0, sizeof *out);
    return store_submit(s, run_mail_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_mail_result(db_conn *c, db_job *j)
{
    const store_mail_result *r = j->in;
    if (r->deferred) {
        db_stmt *st = db_prep(c, ST_MAIL_RESULT_LATER);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, r->retry_at);
        db_bind_text(st, 2, r->mail_id);
        int rc = db_rc(db_step(st));
        if (rc < 0) return rc;
        st = db_prep(c, ST_MAIL_DEFER_JOB);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, r->retry_at);
        db_bind_text(st, 2, r->job_id);
        return db_rc(db_step(st));
    }
    const char *status = r->sent ? "sent" : r->retry_at > 0 ? "queued" : "failed";
    db_stmt *st = db_prep(c, ST_MAIL_RESULT);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, status);
    db_bind_text(st, 2, r->error);
    db_bind_int(st, 3, r->retry_at > 0 ? r->retry_at : r->now);
    db_bind_int(st, 4, r->now);
    db_bind_text(st, 5, r->mail_id);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (db_changes(c) != 1) { /* settled already: the job has nothing left */
        rc = tx_job_mark_done(c, r->job_id, r->now, NULL);
        return rc == STORE_CONFLICT ? STORE_OK : rc;
    }
    if (!r->sent && r->retry_at > 0) {
        st = db_prep(c, ST_MAIL_RETRY_JOB);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, r->retry_at);
        db_bind_text(st, 2, r->error);
        db_bind_text(st, 3, r->job_id);
        return db_rc(db_step(st));
    }
    rc = tx_job_mark_done(c, r->job_id, r->now, r->sent ? NULL : r->error);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int tx_mail_result(store *s, const store_mail_result *r, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_mail_result, 1, d, cb, ctx, r, NULL, NULL, NULL, 0);
}

static int run_outbox(db_conn *c, db_job *j)
{
    store_outbox *out = j->out;
    int limit = (int)(intptr_t)j->in;
    db_stmt *st = db_prep(c, ST_OUTBOX_LIST);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, j->n1);
    db_bind_int(st, 3, limit);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_OUTBOX_MAX) {
        if (read_mail(st, &out->items[out->n]) < 0) return STORE_BUSY;
        out->n++;
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_outbox_list(store *s, const char *status, int64_t before_seq, int limit, store_outbox *out,
                   uint64_t d, store_done_cb cb, void *ctx)
{
    if (limit < 1 || limit > STORE_OUTBOX_MAX) limit = STORE_OUTBOX_MAX;
    return store_submit(s, run_outbox, 0, d, cb, ctx, (const void *)(intptr_t)limit, out, status,
                        NULL, before_seq);
}

static int run_requeue(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_MAIL_REQUEUE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, j->n1);
    db_bind_text(st, 2, j->s1);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    int changed = db_changes(c) == 1;
    if (changed && (rc = tx_job_schedule(c, "email.send", j->s1, j->n1)) < 0) return rc;
    st = db_prep(c, ST_MAIL_REQUEUE_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    if ((rc = read_mail(st, j->out)) < 0) return rc;
    return changed ? STORE_OK : STORE_CONFLICT;
}

int tx_mail_requeue(store *s, const char *id, int64_t now, store_mail *out, uint64_t d,
                    store_done_cb cb, void *ctx)
{
    memset(out, 0, sizeof *out);
    return store_submit(s, run_requeue, 1, d, cb, ctx, NULL, out, id, NULL, now);
}

/* the digest: one mail for whatever is still unread when the job runs */
static int run_digest(db_conn *c, db_job *j)
{
    const char *ref = j->s2;
    const char *colon = strchr(ref, ':');
    int rc;
    if (colon && (size_t)(colon - ref) < 32 && strlen(colon + 1) < 32) {
        char conv[32], user[32];
        memcpy(conv, ref, (size_t)(colon - ref));
        conv[colon - ref] = '\0';
        snprintf(user, sizeof user, "%s", colon + 1);
        db_stmt *st = db_prep(c, ST_MAIL_DIGEST);
        if (!st) return STORE_IO;
        db_bind_text_copy(st, 1, conv);
        db_bind_text_copy(st, 2, user);
        rc = db_step(st);
        if (rc == DB_ROW) {
            const char *t = db_col_text(st, 0);
            char *data = strdup(t ? t : "{}");
            db_reset(st);
            if (!data) return STORE_BUSY;
            rc = tx_mail(c, user, "message.digest", data, j->n1);
            free(data);
            if (rc < 0) return rc;
        } else if (rc != DB_DONE) {
            return db_rc(rc);
        }
    }
    rc = tx_job_mark_done(c, j->s1, j->n1, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int tx_mail_digest(store *s, const char *job_id, const char *ref, int64_t now, uint64_t d,
                   store_done_cb cb, void *ctx)
{
    return store_submit(s, run_digest, 1, d, cb, ctx, NULL, NULL, job_id, ref, now);
}
