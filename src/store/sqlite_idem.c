/* sqlite_idem: Idempotency-Key claims on SQLite (see store.h and
 * src/api/money.c for the semantics): a key is claimed by the first request,
 * replayed once answered, refused with another body, and taken over when the
 * process that claimed it has died. The answer itself is saved by the money
 * transaction (sqlite_idem_save in sqlite_contracts.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/token.h"
#include "../domain/contracts.h"
#include "../domain/ledger.h"
#include "sqlite_internal.h"

/* ---- idempotency keys ------------------------------------------------------------------------ */

typedef struct {
    store_idem in;
    int64_t now;
} claim_args;

static int run_idem_claim(sq_conn *c, sq_job *j)
{
    const claim_args *a = j->in;
    const store_idem *in = &a->in;
    store_idem_result *out = j->out;
    memset(out, 0, sizeof *out);
    static const char get[] = "SELECT route, body_hash, owner, status, response FROM idempotency_keys"
                              " WHERE user_id = ? AND key = ?";
    sqlite3_stmt *st = sq_prep(c, get);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        static const char ins[] = "INSERT INTO idempotency_keys(user_id, key, route, body_hash, owner, created_at)"
                                  " VALUES (?,?,?,?,?,?)";
        st = sq_prep(c, ins);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, in->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, in->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, in->route, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, in->body_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, in->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, a->now);
        out->state = STORE_IDEM_NEW;
        return sq_rc(c, sqlite3_step(st));
    }
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char route[64], hash[65], owner[33];
    sqlite_copy_col(route, sizeof route, st, 0);
    sqlite_copy_col(hash, sizeof hash, st, 1);
    sqlite_copy_col(owner, sizeof owner, st, 2);
    int done = sqlite3_column_type(st, 3) != SQLITE_NULL;
    if (strcmp(route, in->route) != 0 || strcmp(hash, in->body_hash) != 0) {
        out->state = STORE_IDEM_MISMATCH;
        return STORE_OK;
    }
    if (done) {
        out->state = STORE_IDEM_REPLAY;
        out->status = sqlite3_column_int(st, 3);
        const unsigned char *r = sqlite3_column_text(st, 4);
        out->response = strdup(r ? (const char *)r : "");
        return out->response ? STORE_OK : STORE_BUSY;
    }
    sqlite3_reset(st);
    if (strcmp(owner, in->owner) == 0) {
        out->state = STORE_IDEM_OURS; /* this process: the caller knows whether it still runs */
        return STORE_OK;
    }
    /* the process that claimed it is gone: carry on where it stopped */
    static const char take[] = "UPDATE idempotency_keys SET owner = ? WHERE user_id = ? AND key = ?";
    st = sq_prep(c, take);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, in->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->key, -1, SQLITE_STATIC);
    out->state = STORE_IDEM_TAKEN_OVER;
    return sq_rc(c, sqlite3_step(st));
}

int sqk_idem_claim(store *s, const store_idem *in, int64_t now, store_idem_result *out, uint64_t d,
                   store_done_cb cb, void *ctx)
{
    claim_args a = {.in = *in, .now = now};
    return sqlite_submit_args(s, run_idem_claim, 1, d, cb, ctx, &a, sizeof a, out);
}

static int run_idem_release(sq_conn *c, sq_job *j)
{
    static const char sql[] = "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND status IS NULL";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->s2, -1, SQLITE_STATIC);
    return sq_rc(c, sqlite3_step(st));
}

int sqk_idem_release(store *s, const char *user_id, const char *key, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_idem_release, 1, d, cb, ctx, NULL, NULL, user_id, key, 0);
}

/* the answer, made from the contract as it is now and saved beside the effect */
int sqlite_idem_save(sq_conn *c, store_idem_done *idem, const store_contract *k, int64_t now)
{
    if (!idem) return STORE_OK;
    free(idem->response);
    idem->response = idem->render ? idem->render(idem, k, &idem->status) : NULL;
    if (!idem->response) return STORE_BUSY;
    if (!idem->key) return STORE_OK;
    static const char sql[] = "UPDATE idempotency_keys SET status = ?, response = ?, completed_at = ?"
                              " WHERE user_id = ? AND key = ? AND status IS NULL";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int(st, 1, idem->status);
    sqlite3_bind_text(st, 2, idem->response, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, idem->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, idem->key, -1, SQLITE_STATIC);
    return sq_rc(c, sqlite3_step(st));
}

/* ---- pruning ---------------------------------------------------------------------------------------------- */

#define PRUNE_BATCH 5000

typedef struct {
    int64_t before, now, next_run_at;
    char job_id[40];
} prune_args;

/* keys older than before go, PRUNE_BATCH a transaction; the job runs again
 * at once while more wait, else at next_run_at */
static int run_prune(sq_conn *c, sq_job *j)
{
    const prune_args *a = j->in;
    int64_t *deleted = j->out;
    static const char del[] = "DELETE FROM idempotency_keys WHERE (user_id, key) IN (SELECT user_id, key"
                              " FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)";
    sqlite3_stmt *st = sq_prep(c, del);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->before);
    sqlite3_bind_int(st, 2, PRUNE_BATCH);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    *deleted = sqlite3_changes(c->db);
    static const char again[] = "UPDATE jobs SET run_at = ?, lease_until = 0 WHERE id = ? AND done_at IS NULL";
    if (!(st = sq_prep(c, again))) return STORE_IO;
    sqlite3_bind_int64(st, 1, *deleted == PRUNE_BATCH ? a->now : a->next_run_at);
    sqlite3_bind_text(st, 2, a->job_id, -1, SQLITE_STATIC);
    return sq_rc(c, sqlite3_step(st));
}

int sqk_idem_prune(store *s, int64_t before, const char *job_id, int64_t now, int64_t next_run_at, int64_t *deleted,
                   uint64_t d, store_done_cb cb, void *ctx)
{
    prune_args a = {.before = before, .now = now, .next_run_at = next_run_at};
    snprintf(a.job_id, sizeof a.job_id, "%s", job_id);
    return sqlite_submit_args(s, run_prune, 1, d, cb, ctx, &a, sizeof a, deleted);
}
