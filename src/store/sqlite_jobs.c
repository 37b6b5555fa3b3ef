/* sqlite_jobs: the durable job table on SQLite: scheduling a job inside
 * the transaction that needs it, claiming due jobs under a lease, and
 * marking them done. A job whose effect and completion commit in one
 * transaction runs exactly once in effect, whatever crashes: a holder that
 * dies leaves its lease to run out and the work uncommitted. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "../core/token.h"
#include "sqlite_internal.h"

int sqlite_job_schedule(sq_conn *c, const char *kind, const char *ref, int64_t run_at)
{
    static const char sql[] = "INSERT INTO jobs(id, kind, ref, run_at) VALUES (?,?,?,?)"
                              " ON CONFLICT(kind, ref) DO UPDATE SET run_at = excluded.run_at,"
                              " done_at = NULL, lease_until = 0";
    char id[ID_STR_MAX];
    id_new("job", id);
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, run_at);
    return sq_rc(c, sqlite3_step(st));
}

int sqlite_job_schedule_once(sq_conn *c, const char *kind, const char *ref, int64_t run_at)
{
    static const char sql[] = "INSERT INTO jobs(id, kind, ref, run_at) VALUES (?,?,?,?)"
                              " ON CONFLICT(kind, ref) DO UPDATE SET run_at = excluded.run_at,"
                              " done_at = NULL, lease_until = 0, attempts = 0, last_error = NULL"
                              " WHERE jobs.done_at IS NOT NULL";
    char id[ID_STR_MAX];
    id_new("job", id);
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ref, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, run_at);
    return sq_rc(c, sqlite3_step(st));
}

int sqlite_job_cancel(sq_conn *c, const char *kind, const char *ref, int64_t now)
{
    static const char sql[] = "UPDATE jobs SET done_at = ? WHERE kind = ? AND ref = ? AND done_at IS NULL";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ref, -1, SQLITE_TRANSIENT);
    return sq_rc(c, sqlite3_step(st));
}

int sqlite_job_mark_done(sq_conn *c, const char *id, int64_t now, const char *error)
{
    static const char sql[] = "UPDATE jobs SET done_at = ?, last_error = ? WHERE id = ? AND done_at IS NULL";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, now);
    if (error) sqlite3_bind_text(st, 2, error, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    return sqlite3_changes(c->db) == 1 ? STORE_OK : STORE_CONFLICT; /* done already: skip */
}

static int run_claim(sq_conn *c, sq_job *j)
{
    store_job_batch *b = j->out;
    int64_t now = j->n1;
    int lease = (int)(intptr_t)j->in;
    static const char sql[] =
        "UPDATE jobs SET lease_until = ?1 + ?2, attempts = attempts + 1 WHERE id IN"
        " (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= ?1 AND lease_until <= ?1"
        "  ORDER BY run_at, id LIMIT ?3)"
        " RETURNING id, kind, ref, run_at, attempts";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, lease);
    sqlite3_bind_int(st, 3, STORE_JOBS_CLAIM_MAX);
    int rc;
    b->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && b->n < STORE_JOBS_CLAIM_MAX) {
        store_job *x = &b->jobs[b->n++];
        sqlite_copy_col(x->id, sizeof x->id, st, 0);
        sqlite_copy_col(x->kind, sizeof x->kind, st, 1);
        sqlite_copy_col(x->ref, sizeof x->ref, st, 2);
        x->run_at = sqlite3_column_int64(st, 3);
        x->attempts = sqlite3_column_int(st, 4);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_rc(c, rc);
    sqlite3_reset(st);
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

int sqj_jobs_claim(store *s, int64_t now, int lease_s, store_job_batch *out, uint64_t d,
                   store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_claim, 1, d, cb, ctx, (const void *)(intptr_t)lease_s, out, NULL,
                         NULL, now);
}

static int run_done(sq_conn *c, sq_job *j)
{
    return sqlite_job_mark_done(c, j->s1, j->n1, j->s2);
}

int sqj_job_done(store *s, const char *id, int64_t now, const char *error, uint64_t d,
                 store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_done, 1, d, cb, ctx, NULL, NULL, id, error, now);
}

static int run_ensure(sq_conn *c, sq_job *j)
{
    return sqlite_job_schedule_once(c, j->s1, j->s2, j->n1);
}

int sqj_job_ensure(store *s, const char *kind, const char *ref, int64_t run_at, uint64_t d, store_done_cb cb,
                   void *ctx)
{
    return sqlite_submit(s, run_ensure, 1, d, cb, ctx, NULL, NULL, kind, ref, run_at);
}
