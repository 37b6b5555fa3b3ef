/* tx_jobs: the durable job table: scheduling a job inside
 * the transaction that needs it, claiming due jobs under a lease, and
 * marking them done. A job whose effect and completion commit in one
 * transaction runs exactly once in effect, whatever crashes: a holder that
 * dies leaves its lease to run out and the work uncommitted. */
#include "../core/token.h"
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int tx_job_schedule(db_conn *c, const char *kind, const char *ref, int64_t run_at)
{
    char id[ID_STR_MAX];
    id_new("job", id);
    db_stmt *st = db_prep(c, ST_JOB_SCHEDULE);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    db_bind_text(st, 2, kind);
    db_bind_text(st, 3, ref);
    db_bind_int(st, 4, run_at);
    return db_rc(db_step(st));
}

int tx_job_schedule_once(db_conn *c, const char *kind, const char *ref, int64_t run_at)
{
    char id[ID_STR_MAX];
    id_new("job", id);
    db_stmt *st = db_prep(c, ST_JOB_SCHEDULE_ONCE);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    db_bind_text(st, 2, kind);
    db_bind_text_copy(st, 3, ref);
    db_bind_int(st, 4, run_at);
    return db_rc(db_step(st));
}

int tx_job_cancel(db_conn *c, const char *kind, const char *ref, int64_t now)
{
    db_stmt *st = db_prep(c, ST_JOB_CANCEL);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, now);
    db_bind_text(st, 2, kind);
    db_bind_text_copy(st, 3, ref);
    return db_rc(db_step(st));
}

int tx_job_mark_done(db_conn *c, const char *id, int64_t now, const char *error)
{
    db_stmt *st = db_prep(c, ST_JOB_MARK_DONE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, now);
    db_bind_text(st, 2, error);
    db_bind_text(st, 3, id);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    return db_changes(c) == 1 ? STORE_OK : STORE_CONFLICT; /* done already: skip */
}

static int run_claim(db_conn *c, db_job *j)
{
    store_job_batch *b = j->out;
    int64_t now = j->n1;
    int lease = (int)(intptr_t)j->in;
    db_stmt *st = db_prep(c, ST_JOBS_CLAIM);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, now);
    db_bind_int(st, 2, lease);
    int limit = b->limit > 0 && b->limit < STORE_JOBS_CLAIM_MAX ? b->limit : STORE_JOBS_CLAIM_MAX;
    db_bind_int(st, 3, limit);
    int rc;
    b->n = 0;
    while ((rc = db_step(st)) == DB_ROW && b->n < limit) {
        store_job *x = &b->jobs[b->n++];
        db_copy_col(x->id, sizeof x->id, st, 0);
        db_copy_col(x->kind, sizeof x->kind, st, 1);
        db_copy_col(x->ref, sizeof x->ref, st, 2);
        x->run_at = db_col_int(st, 3);
        x->attempts = db_col_int(st, 4);
    }
    if (rc != DB_ROW && rc != DB_DONE) return db_rc(rc);
    db_reset(st);
    /* RETURNING does not promise an order */
    for (int i = 1; i < b->n; i++)
        for (int k = i; k > 0 && (b->jobs[k].run_at < b->jobs[k - 1].run_at ||
                                  (b->jobs[k].run_at == b->jobs[k - 1].run_at &&
                                   strcmp(b->jobs[k].id, b->jobs[k - 1].id) < 0));
             k--) {
            store_job t = b->jobs[k];
            b->jobs[k] = b->jobs[k - 1];
            b->jobs[k - 1] = t;
        }
    return STORE_OK;
}

int tx_jobs_claim(store *s, int64_t now, int lease_s, store_job_batch *out, uint64_t d,
                  store_done_cb cb, void *ctx)
{
    return store_submit(s, run_claim, 1, d, cb, ctx, (const void *)(intptr_t)lease_s, out, NULL,
                        NULL, now);
}

static int run_done(db_conn *c, db_job *j)
{
    return tx_job_mark_done(c, j->s1, j->n1, j->s2);
}

int tx_job_done(store *s, const char *id, int64_t now, const char *error, uint64_t d,
                store_done_cb cb, void *ctx)
{
    return store_submit(s, run_done, 1, d, cb, ctx, NULL, NULL, id, error, now);
}

static int run_ensure(db_conn *c, db_job *j)
{
    return tx_job_schedule_once(c, j->s1, j->s2, j->n1);
}

int tx_job_ensure(store *s, const char *kind, const char *ref, int64_t run_at, uint64_t d,
                  store_done_cb cb, void *ctx)
{
    return store_submit(s, run_ensure, 1, d, cb, ctx, NULL, NULL, kind, ref, run_at);
}
