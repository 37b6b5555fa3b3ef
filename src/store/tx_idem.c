/* tx_idem: Idempotency-Key claims (see store.h and
 * src/api/money.c for the semantics): a key is claimed by the first request,
 * replayed once answered, refused with another body, and taken over when the
 * process that claimed it has died. The answer itself is saved by the money
 * transaction (tx_idem_save in tx_contracts.c). */
#include "../core/token.h"
#include "../rules/contracts.h"
#include "../rules/ledger.h"
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- idempotency keys ------------------------------------------------------------------------ */

typedef struct {
    store_idem in;
    int64_t now;
} claim_args;

static int run_idem_claim(db_conn *c, db_job *j)
{
    const claim_args *a = j->in;
    const store_idem *in = &a->in;
    store_idem_result *out = j->out;
    memset(out, 0, sizeof *out);
    db_stmt *st = db_prep(c, ST_IDEM_CLAIM_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, in->user_id);
    db_bind_text(st, 2, in->key);
    int rc = db_step(st);
    if (rc == DB_DONE) {
        st = db_prep(c, ST_IDEM_CLAIM_INS);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, in->user_id);
        db_bind_text(st, 2, in->key);
        db_bind_text(st, 3, in->route);
        db_bind_text(st, 4, in->body_hash);
        db_bind_text(st, 5, in->owner);
        db_bind_int(st, 6, a->now);
        db_bind_int(st, 7, in->lease_until);
        out->state = STORE_IDEM_NEW;
        return db_rc(db_step(st));
    }
    if (rc != DB_ROW) return db_rc(rc);
    char route[64], hash[65], owner[33];
    db_copy_col(route, sizeof route, st, 0);
    db_copy_col(hash, sizeof hash, st, 1);
    db_copy_col(owner, sizeof owner, st, 2);
    int done = !db_col_null(st, 3);
    int64_t lease_until = db_col_int(st, 5);
    int owner_alive = db_col_int(st, 6) != 0;
    if (strcmp(route, in->route) != 0 || strcmp(hash, in->body_hash) != 0) {
        out->state = STORE_IDEM_MISMATCH;
        return STORE_OK;
    }
    if (done) {
        out->state = STORE_IDEM_REPLAY;
        out->status = db_col_int(st, 3);
        const char *r = db_col_text(st, 4);
        out->response = strdup(r ? r : "");
        return out->response ? STORE_OK : STORE_BUSY;
    }
    db_reset(st);
    if (strcmp(owner, in->owner) == 0) {
        out->state = STORE_IDEM_OURS; /* this process: the caller knows whether it still runs */
        return STORE_OK;
    }
    /* another process claimed it. Alone on the database, that process is
     * gone (it restarted); beside others, it may be a live node whose
     * request still runs: while its heartbeat goes on (store_node_beat),
     * until the claim lapses with that request's deadline */
    if (db_shared(c) && owner_alive && a->now < lease_until) {
        out->state = STORE_IDEM_ELSEWHERE;
        return STORE_OK;
    }
    /* the process that claimed it is gone: carry on where it stopped */
    st = db_prep(c, ST_IDEM_CLAIM_TAKE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, in->owner);
    db_bind_text(st, 2, in->user_id);
    db_bind_text(st, 3, in->key);
    db_bind_int(st, 4, in->lease_until);
    out->state = STORE_IDEM_TAKEN_OVER;
    return db_rc(db_step(st));
}

int tx_idem_claim(store *s, const store_idem *in, int64_t now, store_idem_result *out, uint64_t d,
                  store_done_cb cb, void *ctx)
{
    claim_args a = {.in = *in, .now = now};
    return store_submit_args(s, run_idem_claim, 1, d, cb, ctx, &a, sizeof a, out);
}

static int run_idem_release(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_IDEM_RELEASE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_text(st, 2, j->s2);
    return db_rc(db_step(st));
}

int tx_idem_release(store *s, const char *user_id, const char *key, uint64_t d, store_done_cb cb,
                    void *ctx)
{
    return store_submit(s, run_idem_release, 1, d, cb, ctx, NULL, NULL, user_id, key, 0);
}

/* the answer, made from the contract as it is now and saved beside the effect */
int tx_idem_save(db_conn *c, store_idem_done *idem, const store_contract *k, int64_t now)
{
    if (!idem) return STORE_OK;
    free(idem->response);
    idem->response = idem->render ? idem->render(idem, k, &idem->status) : NULL;
    if (!idem->response) return STORE_BUSY;
    if (!idem->key) return STORE_OK;
    db_stmt *st = db_prep(c, ST_IDEM_SAVE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, idem->status);
    db_bind_text(st, 2, idem->response);
    db_bind_int(st, 3, now);
    db_bind_text(st, 4, idem->user_id);
    db_bind_text(st, 5, idem->key);
    return db_rc(db_step(st));
}

/* ---- pruning
 * ---------------------------------------------------------------------------------------------- */

#define PRUNE_BATCH 5000

typedef struct {
    int64_t before, now, next_run_at;
    char job_id[40];
} prune_args;

/* keys older than before go, PRUNE_BATCH a transaction; the job runs again
 * at once while more wait, else at next_run_at */
static int run_prune(db_conn *c, db_job *j)
{
    const prune_args *a = j->in;
    int64_t *deleted = j->out;
    db_stmt *st = db_prep(c, ST_IDEM_PRUNE_DEL);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->before);
    db_bind_int(st, 2, PRUNE_BATCH);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    *deleted = db_changes(c);
    if (!(st = db_prep(c, ST_IDEM_PRUNE_AGAIN))) return STORE_IO;
    db_bind_int(st, 1, *deleted == PRUNE_BATCH ? a->now : a->next_run_at);
    db_bind_text(st, 2, a->job_id);
    return db_rc(db_step(st));
}

int tx_idem_prune(store *s, int64_t before, const char *job_id, int64_t now, int64_t next_run_at,
                  int64_t *deleted, uint64_t d, store_done_cb cb, void *ctx)
{
    prune_args a = {.before = before, .now = now, .next_run_at = next_run_at};
    snprintf(a.job_id, sizeof a.job_id, "%s", job_id);
    return store_submit_args(s, run_prune, 1, d, cb, ctx, &a, sizeof a, deleted);
}

/* ---- nodes ------------------------------------------------------------------------------------ */

static int run_node_beat(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, j->n1 ? ST_NODE_BEAT : ST_NODE_GONE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    if (j->n1) db_bind_int(st, 2, j->n1);
    return db_rc(db_step(st));
}

int tx_node_beat(store *s, const char *node_id, int64_t alive_s, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_node_beat, 1, d, cb, ctx, NULL, NULL, node_id, NULL, alive_s);
}
