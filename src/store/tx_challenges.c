/* tx_challenges: the store side of the practical challenge: starting an
 * attempt under the retake rules, the submission, and the attempt as the
 * durable job that grades it (claimed under a lease, graded once: the
 * claim count is the fencing token, so a grader that lost its lease cannot
 * overwrite the grade of the one that took over). */
#include "../rules/vetting.h"
#include "tx_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int refuse(store_vet_result *res, int reason)
{
    res->reason = reason;
    return STORE_CONFLICT;
}

static char *col_dup(db_stmt *st, int col)
{
    const char *t = db_col_null(st, col) ? NULL : db_col_text(st, col);
    return t ? strdup(t) : NULL;
}

/* one row of CH_COLS into a (code and result malloc'd) */
static void read_row(db_stmt *st, store_challenge *a)
{
    memset(a, 0, sizeof *a);
    db_copy_col(a->id, sizeof a->id, st, 0);
    db_copy_col(a->user_id, sizeof a->user_id, st, 1);
    db_copy_col(a->challenge_id, sizeof a->challenge_id, st, 2);
    db_copy_col(a->status, sizeof a->status, st, 3);
    a->started_at = db_col_int(st, 4);
    a->expires_at = db_col_int(st, 5);
    a->submitted_at = db_col_int(st, 6);
    a->graded_at = db_col_int(st, 7);
    a->lease_until = db_col_int(st, 8);
    a->tries = (int)db_col_int(st, 9);
    a->score = (int)db_col_int(st, 10);
    a->passed = (int)db_col_int(st, 11);
    a->code = col_dup(st, 12);
    a->result = col_dup(st, 13);
}

static int read_one(db_conn *c, int sql, const char *key, store_challenge *out)
{
    db_stmt *st = db_prep(c, sql);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, key);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    read_row(st, out);
    db_reset(st);
    return STORE_OK;
}

/* ---- challenge_start ------------------------------------------------------------- */

typedef struct {
    const store_challenge *a;
    store_challenge_rules rules;
} start_args;

static int run_start(db_conn *c, db_job *j)
{
    const start_args *x = j->in;
    const store_challenge *a = x->a;
    store_vet_result *res = j->out;
    int64_t now = a->started_at;
    memset(res, 0, sizeof *res);
    db_stmt *st = db_prep(c, ST_VETTING_READ_STATUS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->user_id);
    int rc = db_step(st);
    if (rc == DB_DONE) {
        snprintf(res->status, sizeof res->status, "registered");
        return refuse(res, VET_WRONG_STATE);
    }
    if (rc != DB_ROW) return db_rc(rc);
    db_copy_col(res->status, sizeof res->status, st, 0);
    db_reset(st);
    if (!vetting_may_take_challenge(res->status)) return refuse(res, VET_WRONG_STATE);

    st = db_prep(c, ST_CHALLENGE_OPEN);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->user_id);
    db_bind_int(st, 2, now);
    rc = db_step(st);
    if (rc == DB_ROW) {
        db_copy_col(res->open_attempt_id, sizeof res->open_attempt_id, st, 0);
        db_reset(st);
        return refuse(res, VET_ATTEMPT_OPEN);
    }
    if (rc != DB_DONE) return db_rc(rc);

    st = db_prep(c, ST_CHALLENGE_COUNT);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->user_id);
    db_bind_int(st, 2, now - x->rules.window_s);
    if ((rc = db_step(st)) != DB_ROW) return db_rc(rc);
    int used = (int)db_col_int(st, 0);
    int64_t oldest = db_col_int(st, 1);
    db_reset(st);
    if (used >= x->rules.max_attempts) {
        res->next_attempt_at = oldest + x->rules.window_s;
        return refuse(res, VET_ATTEMPT_LIMIT);
    }
    st = db_prep(c, ST_CHALLENGE_INS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->id);
    db_bind_text(st, 2, a->user_id);
    db_bind_text(st, 3, a->challenge_id);
    db_bind_int(st, 4, a->started_at);
    db_bind_int(st, 5, a->expires_at);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    res->attempts_left = x->rules.max_attempts - used - 1;
    char detail[128];
    snprintf(detail, sizeof detail, "{\"attempt\":\"%s\",\"challenge\":\"%s\"}", a->id, a->challenge_id);
    return tx_audit(c, now, a->user_id, "challenge.started", "engineer", a->user_id, detail);
}

int tx_challenge_start(store *s, const store_challenge *a, const store_challenge_rules *rules,
                       store_vet_result *res, uint64_t d, store_done_cb cb, void *ctx)
{
    start_args x = {.a = a, .rules = *rules};
    return store_submit_args(s, run_start, 1, d, cb, ctx, &x, sizeof x, res);
}

/* ---- reads ------------------------------------------------------------------------ */

static int run_get(db_conn *c, db_job *j)
{
    return read_one(c, ST_CHALLENGE_GET, j->s1, j->out);
}

int tx_challenge_get(store *s, const char *id, store_challenge *out, uint64_t d, store_done_cb cb,
                     void *ctx)
{
    return store_submit(s, run_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_latest(db_conn *c, db_job *j)
{
    return read_one(c, ST_CHALLENGE_LATEST, j->s1, j->out);
}

int tx_challenge_latest(store *s, const char *user_id, store_challenge *out, uint64_t d,
                        store_done_cb cb, void *ctx)
{
    return store_submit(s, run_latest, 0, d, cb, ctx, NULL, out, user_id, NULL, 0);
}

static int run_stats(db_conn *c, db_job *j)
{
    store_challenge_queue *q = j->out;
    db_stmt *st = db_prep(c, ST_CHALLENGE_STATS);
    if (!st) return STORE_IO;
    int rc = db_step(st);
    if (rc != DB_ROW) return db_rc(rc);
    q->queued = (int)db_col_int(st, 0);
    q->running = (int)db_col_int(st, 1);
    q->oldest_queued_at = db_col_int(st, 2);
    db_reset(st);
    return STORE_OK;
}

int tx_challenge_queue(store *s, store_challenge_queue *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_stats, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

/* ---- challenge_submit -------------------------------------------------------------- */

typedef struct {
    const char *id, *user_id, *code;
    int64_t now;
    int queue_max;
} submit_args;

static int run_submit(db_conn *c, db_job *j)
{
    const submit_args *x = j->in;
    store_vet_result *res = j->out;
    memset(res, 0, sizeof *res);
    store_challenge a;
    int rc = read_one(c, ST_CHALLENGE_GET, x->id, &a);
    if (rc < 0) return rc;
    int mine = strcmp(a.user_id, x->user_id) == 0;
    snprintf(res->status, sizeof res->status, "%s", a.status);
    store_challenge_free(&a);
    if (!mine) return STORE_NOTFOUND;
    db_stmt *st = db_prep(c, ST_CHALLENGE_DEPTH);
    if (!st) return STORE_IO;
    if ((rc = db_step(st)) != DB_ROW) return db_rc(rc);
    int depth = (int)db_col_int(st, 0);
    db_reset(st);
    if (depth >= x->queue_max) {
        /* full, unless the attempt is closed anyway (that answer is more useful) */
        if (strcmp(res->status, "open") != 0) return refuse(res, VET_ATTEMPT_CLOSED);
        return STORE_BUSY;
    }
    /* the WHERE clause is the guard: a late or second submission changes nothing */
    st = db_prep(c, ST_CHALLENGE_SUBMIT);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, x->code);
    db_bind_int(st, 2, x->now);
    db_bind_text(st, 3, x->id);
    db_bind_text(st, 4, x->user_id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return refuse(res, VET_ATTEMPT_CLOSED);
    snprintf(res->status, sizeof res->status, "queued");
    char detail[96];
    snprintf(detail, sizeof detail, "{\"attempt\":\"%s\",\"bytes\":%zu}", x->id, strlen(x->code));
    return tx_audit(c, x->now, x->user_id, "challenge.submitted", "engineer", x->user_id, detail);
}

int tx_challenge_submit(store *s, const char *id, const char *user_id, const char *code, int64_t now,
                        int queue_max, store_vet_result *res, uint64_t d, store_done_cb cb, void *ctx)
{
    submit_args x = {.id = id, .user_id = user_id, .code = code, .now = now, .queue_max = queue_max};
    return store_submit_args(s, run_submit, 1, d, cb, ctx, &x, sizeof x, res);
}

/* ---- the grading queue ------------------------------------------------------------ */

typedef struct {
    int64_t now;
    int lease_s, max;
} claim_args;

static int run_claim(db_conn *c, db_job *j)
{
    const claim_args *x = j->in;
    store_challenge_batch *b = j->out;
    b->n = 0;
    int max = x->max < STORE_CHALLENGE_CLAIM_MAX ? x->max : STORE_CHALLENGE_CLAIM_MAX;
    char ids[STORE_CHALLENGE_CLAIM_MAX][32];
    int n = 0, rc;
    db_stmt *st = db_prep(c, ST_CHALLENGE_DUE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, x->now);
    db_bind_int(st, 2, max);
    while ((rc = db_step(st)) == DB_ROW && n < max) db_copy_col(ids[n++], sizeof ids[0], st, 0);
    if (rc != DB_ROW && rc != DB_DONE) return db_rc(rc);
    db_reset(st);
    for (int i = 0; i < n; i++) {
        st = db_prep(c, ST_CHALLENGE_CLAIM);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, x->now + x->lease_s);
        db_bind_text(st, 2, ids[i]);
        db_bind_int(st, 3, x->now);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
        if (db_changes(c) != 1) continue; /* another node took it */
        if ((rc = read_one(c, ST_CHALLENGE_GET, ids[i], &b->items[b->n])) < 0) return rc;
        b->n++;
    }
    return STORE_OK;
}

/* a claim that fails after reading some rows frees them */
typedef struct {
    store_done_cb cb;
    void *ctx;
    store_challenge_batch *out;
} claim_wrap;

static void claim_done(void *ctx, int rc)
{
    claim_wrap *w = ctx;
    if (rc < 0) store_challenge_batch_free(w->out);
    w->cb(w->ctx, rc);
    free(w);
}

int tx_challenge_claim(store *s, int64_t now, int lease_s, int max, store_challenge_batch *out,
                       uint64_t d, store_done_cb cb, void *ctx)
{
    claim_wrap *w = malloc(sizeof *w);
    if (!w) return STORE_BUSY;
    *w = (claim_wrap){.cb = cb, .ctx = ctx, .out = out};
    out->n = 0;
    claim_args x = {.now = now, .lease_s = lease_s, .max = max};
    int rc = store_submit_args(s, run_claim, 1, d, claim_done, w, &x, sizeof x, out);
    if (rc < 0) free(w);
    return rc;
}

static int run_grade(db_conn *c, db_job *j)
{
    const store_challenge *a = j->in;
    int64_t now = j->n1;
    db_stmt *st = db_prep(c, ST_CHALLENGE_GRADE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, now);
    db_bind_int(st, 2, a->score);
    db_bind_int(st, 3, a->passed);
    db_bind_text(st, 4, a->result);
    db_bind_text(st, 5, a->id);
    db_bind_int(st, 6, a->tries);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    char detail[160];
    snprintf(detail, sizeof detail, "{\"attempt\":\"%s\",\"score\":%d,\"passed\":%s}", a->id, a->score,
             a->passed ? "true" : "false");
    if ((rc = tx_audit(c, now, NULL, "challenge.graded", "engineer", a->user_id, detail)) < 0) return rc;
    char payload[192];
    snprintf(payload, sizeof payload,
             "{\"id\":\"%s\",\"status\":\"graded\",\"score\":%d,\"passed\":%s}", a->id, a->score,
             a->passed ? "true" : "false");
    return tx_event(c, a->user_id, "challenge.graded", payload, now);
}

int tx_challenge_grade(store *s, const store_challenge *a, int64_t now, uint64_t d, store_done_cb cb,
                       void *ctx)
{
    return store_submit(s, run_grade, 1, d, cb, ctx, a, NULL, NULL, NULL, now);
}

static int run_release(db_conn *c, db_job *j)
{
    const store_challenge *a = j->in;
    db_stmt *st = db_prep(c, ST_CHALLENGE_RELEASE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->id);
    db_bind_int(st, 2, a->tries);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    return db_changes(c) == 1 ? STORE_OK : STORE_CONFLICT;
}

int tx_challenge_release(store *s, const store_challenge *a, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_release, 1, d, cb, ctx, a, NULL, NULL, NULL, 0);
}
