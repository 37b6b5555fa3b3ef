/* tx_money_out: money leaving through the gateway. A card refund is
 * queued (a payments row of kind 'refund' and its `payment.refund` job) in
 * the same transaction that moved the escrow back in the ledger; a payout
 * run turns payable balances into payouts rows, each moving payable ->
 * paid_out in the ledger and queueing its `payout.send` job. The jobs call
 * the gateway with the row's id as the idempotency key and record the
 * answer here (money_out_result), where a refusal moves the money back in
 * the ledger in the same transaction: a refused refund is held for the
 * client (client_funding) until an admin sends it again, a failed or
 * reversed payout is payable again and goes in the next run. Payout
 * accounts (the engineer's Stripe Connect account) live here too. */
#include "../core/token.h"
#include "../rules/ledger.h"
#include "../rules/notices.h"
#include "tx_internal.h"
#include <stdio.h>
#include <string.h>

/* one column order for both kinds, so one reader fills store_money_out */

static void read_row(db_stmt *st, const char *kind, store_money_out *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->kind, sizeof o->kind, "%s", kind);
    o->seq = db_col_int(st, 0);
    db_copy_col(o->id, sizeof o->id, st, 1);
    db_copy_col(o->gateway, sizeof o->gateway, st, 2);
    db_copy_col(o->gateway_ref, sizeof o->gateway_ref, st, 3);
    db_copy_col(o->charge_ref, sizeof o->charge_ref, st, 4);
    db_copy_col(o->owner_id, sizeof o->owner_id, st, 5);
    db_copy_col(o->milestone_id, sizeof o->milestone_id, st, 6);
    db_copy_col(o->contract_id, sizeof o->contract_id, st, 7);
    o->amount = db_col_int(st, 8);
    db_copy_col(o->currency, sizeof o->currency, st, 9);
    db_copy_col(o->status, sizeof o->status, st, 10);
    db_copy_col(o->error, sizeof o->error, st, 11);
    o->attempts = db_col_int(st, 12);
    o->created_at = db_col_int(st, 13);
    o->updated_at = db_col_int(st, 14);
    db_copy_col(o->destination, sizeof o->destination, st, 15);
    db_copy_col(o->batch_id, sizeof o->batch_id, st, 16);
}

static int is_refund(const char *kind)
{
    return strcmp(kind, "refund") == 0;
}

static int read_one(db_conn *c, const char *kind, const char *id, store_money_out *o)
{
    db_stmt *st = db_prep(c, is_refund(kind) ? ST_READ_ONE_REFUND : ST_READ_ONE_PAYOUT);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    read_row(st, kind, o);
    db_reset(st);
    return STORE_OK;
}

/* ---- queueing a refund
 * ------------------------------------------------------------------------------ */

int tx_refund_queue(db_conn *c, const char *milestone_id, int64_t amount, const char *currency,
                    int64_t now, char id[ID_STR_MAX])
{
    db_stmt *st = db_prep(c, ST_REFUND_QUEUE_CHARGE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, milestone_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_CONFLICT; /* escrow that no charge paid for: refuse the move */
    if (rc != DB_ROW) return db_rc(rc);
    char gw[16], own[ID_STR_MAX];
    db_copy_col(gw, sizeof gw, st, 0);
    db_reset(st);
    if (!id) id = own;
    id_new("ref", id);
    if (!(st = db_prep(c, ST_REFUND_QUEUE_INS))) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    db_bind_text(st, 2, milestone_id);
    db_bind_text_copy(st, 3, gw);
    db_bind_int(st, 4, amount);
    db_bind_text(st, 5, currency);
    db_bind_int(st, 6, now);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    return tx_job_schedule(c, "payment.refund", id, now);
}

/* ---- reading
 * ---------------------------------------------------------------------------------------------- */

typedef struct {
    char kind[8], id[32];
} get_args;

static int run_get(db_conn *c, db_job *j)
{
    const get_args *a = j->in;
    return read_one(c, a->kind, a->id, j->out);
}

int tx_money_out_get(store *s, const char *kind, const char *id, store_money_out *out, uint64_t d,
                     store_done_cb cb, void *ctx)
{
    get_args a;
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.id, sizeof a.id, "%s", id);
    return store_submit_args(s, run_get, 0, d, cb, ctx, &a, sizeof a, out);
}

typedef struct {
    char kind[8], status[12], owner[32];
    int64_t before;
    int limit;
} list_args;

static int run_list(db_conn *c, db_job *j)
{
    const list_args *a = j->in;
    store_money_out_list *out = j->out;
    out->n = 0;
    out->next_seq = 0;
    db_stmt *st = db_prep(c, is_refund(a->kind) ? ST_LIST_REFUNDS : ST_LIST_PAYOUTS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->status);
    db_bind_text(st, 2, a->owner);
    db_bind_int(st, 3, a->before);
    db_bind_int(st, 4, a->limit + 1);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (out->n == a->limit) {
            out->next_seq = out->items[out->n - 1].seq;
            break;
        }
        read_row(st, a->kind, &out->items[out->n++]);
    }
    db_reset(st);
    return rc == DB_DONE || rc == DB_ROW ? STORE_OK : db_rc(rc);
}

int tx_money_out_list(store *s, const char *kind, const char *status, const char *owner_id,
                      int64_t before_seq, int limit, store_money_out_list *out, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    list_args a = {.before = before_seq};
    a.limit = limit < 1 ? 1 : limit > STORE_MONEY_OUT_PAGE ? STORE_MONEY_OUT_PAGE : limit;
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.status, sizeof a.status, "%s", status ? status : "");
    snprintf(a.owner, sizeof a.owner, "%s", owner_id ? owner_id : "");
    return store_submit_args(s, run_list, 0, d, cb, ctx, &a, sizeof a, out);
}

/* ---- the gateway's answer
 * ------------------------------------------------------------------------------ */

/* the row's owner (and admins, when it went wrong) hear of it; the owner gets a mail */
static int announce(db_conn *c, const store_money_out *o, const char *event, int admins,
                    int64_t now)
{
    char amount[24];
    snprintf(amount, sizeof amount, "%lld", (long long)o->amount);
    int rc;
    char *payload =
        tx_json_row(c, ST_MONEY_OUT_ANNOUNCE_EV, &rc, 9, o->id, o->kind, o->status, amount,
                    o->currency, o->contract_id, o->milestone_id, o->batch_id, o->error);
    if (!payload) return rc;
    rc = tx_event(c, o->owner_id, event, payload, now);
    if (rc == STORE_OK && admins) rc = tx_event_admins(c, event, payload, now);
    free(payload);
    const notice_words *w = notice_words_for(event);
    if (rc < 0 || !w) return rc;
    char *data = tx_json_row(c, ST_MONEY_OUT_ANNOUNCE_MAIL, &rc, 3, w->subject, w->text, o->id);
    if (!data) return rc;
    rc = tx_mail(c, o->owner_id, event, data, now);
    free(data);
    return rc;
}

static int set_status(db_conn *c, const store_money_out *o, const char *status, const char *ref,
                      const char *error, int attempts, int64_t now)
{
    db_stmt *st = db_prep(c, is_refund(o->kind) ? ST_SET_STATUS_REFUND : ST_SET_STATUS_PAYOUT);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, status);
    db_bind_text(st, 2, ref);
    db_bind_text(st, 3, error);
    db_bind_int(st, 4, attempts);
    db_bind_int(st, 5, now);
    db_bind_text(st, 6, o->id);
    return db_rc(db_step(st));
}

/* the money comes back into the ledger: a refused refund is held for the
 * client, a failed or reversed payout is payable again */
static int move_back(db_conn *c, const store_money_out *o, int reversed, int64_t now)
{
    ledger_txn t;
    if (is_refund(o->kind)) {
        ledger_refund_failed(&t, o->owner_id, o->contract_id, o->milestone_id, o->currency,
                             o->amount);
        snprintf(t.memo, sizeof t.memo, "refund %s refused by the gateway", o->id);
    } else {
        ledger_payout_back(&t, reversed ? "payout_reversed" : "payout_failed", o->owner_id,
                           o->currency, o->amount);
        snprintf(t.memo, sizeof t.memo, "payout %s %s", o->id, reversed ? "reversed" : "failed");
    }
    return tx_ledger_post(c, &t, now);
}

static int reschedule(db_conn *c, const char *job_id, int64_t run_at, const char *error)
{
    db_stmt *st = db_prep(c, ST_MONEY_OUT_RESCHEDULE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, run_at);
    db_bind_text(st, 2, error);
    db_bind_text(st, 3, job_id);
    return db_rc(db_step(st));
}

typedef struct {
    store_money_out_result r;
    int64_t now;
} result_args;

static int run_result(db_conn *c, db_job *j)
{
    const result_args *a = j->in;
    const store_money_out_result *r = &a->r;
    store_money_out *o = j->out;
    int rc = read_one(c, r->kind, r->id, o);
    if (rc < 0) return rc;
    int refund = is_refund(o->kind), pending = strcmp(o->status, "pending") == 0;
    int succeeded = strcmp(o->status, "succeeded") == 0;
    const char *to = NULL;
    switch (r->outcome) {
    case STORE_OUT_SUCCEEDED:
        to = pending ? "succeeded" : NULL;
        break;
    case STORE_OUT_PENDING:
        to = pending ? "pending" : NULL;
        break;
    case STORE_OUT_RETRY:
        to = pending ? "pending" : NULL;
        break;
    case STORE_OUT_FAILED:
        to = pending || (refund && succeeded) ? "failed" : NULL;
        break;
    case STORE_OUT_REVERSED:
        to = !refund && (pending || succeeded) ? "reversed" : NULL;
        break;
    }
    if (!to) return STORE_CONFLICT; /* late, repeated, or out of order: nothing moves */
    if (r->outcome == STORE_OUT_PENDING && o->gateway_ref[0] &&
        strcmp(o->gateway_ref, r->gateway_ref) == 0) {
        /* still pending: nothing changes but when the job asks again */
        if (!r->job_id[0]) return STORE_CONFLICT;
        return reschedule(c, r->job_id, r->retry_at, NULL);
    }
    const char *error =
        r->outcome == STORE_OUT_SUCCEEDED || r->outcome == STORE_OUT_PENDING ? "" : r->error;
    if ((rc = set_status(c, o, to, r->gateway_ref, error, r->outcome == STORE_OUT_RETRY, a->now)) <
        0)
        return rc;
    if (r->outcome == STORE_OUT_FAILED || r->outcome == STORE_OUT_REVERSED) {
        if ((rc = move_back(c, o, r->outcome == STORE_OUT_REVERSED, a->now)) < 0) return rc;
    }
    char detail[400];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", o->status, to);
    if ((rc = tx_audit(c, a->now, r->job_id[0] ? "system" : "gateway",
                       refund ? "refund.transition" : "payout.transition",
                       refund ? "payment" : "payout", o->id, detail)) < 0)
        return rc;
    if (r->job_id[0]) { /* the job runs again (unavailable; a refund still pending), or is done */
        if (r->outcome == STORE_OUT_RETRY || (r->outcome == STORE_OUT_PENDING && r->retry_at > 0))
            rc = reschedule(c, r->job_id, r->retry_at,
                            r->outcome == STORE_OUT_RETRY ? r->error : NULL);
        else if ((rc = tx_job_mark_done(c, r->job_id, a->now, NULL)) == STORE_CONFLICT)
            rc = STORE_OK;
        if (rc < 0) return rc;
    }
    if ((rc = read_one(c, r->kind, r->id, o)) < 0) return rc;
    switch (r->outcome) {
    case STORE_OUT_SUCCEEDED:
        return refund ? announce(c, o, "refund.succeeded", 0, a->now)
                      : announce(c, o, "payout.succeeded", 0, a->now);
    case STORE_OUT_FAILED:
        return refund ? announce(c, o, "refund.failed", 1, a->now)
                      : announce(c, o, "payout.failed", 1, a->now);
    case STORE_OUT_REVERSED:
        return announce(c, o, "payout.reversed", 1, a->now);
    default:
        return STORE_OK;
    }
}

int tx_money_out_result(store *s, const store_money_out_result *r, int64_t now,
                        store_money_out *out, uint64_t d, store_done_cb cb, void *ctx)
{
    result_args a = {.r = *r, .now = now};
    return store_submit_args(s, run_result, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- an admin sends a refused refund again
 * ---------------------------------------------------------- */

typedef struct {
    char id[32], admin[32];
    int64_t now;
    store_idem_done *idem;
} retry_args;

static int run_retry(db_conn *c, db_job *j)
{
    const retry_args *a = j->in;
    store_money_out *o = j->out;
    store_money_out old;
    int rc = read_one(c, "refund", a->id, &old);
    if (rc < 0) return rc;
    if (strcmp(old.status, "failed") != 0) {
        *o = old;
        return STORE_CONFLICT;
    }
    /* the failed row keeps its history; this one is a new movement with its own key */
    db_stmt *st = db_prep(c, ST_REFUND_RETRY_DONE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->id);
    rc = db_step(st);
    db_reset(st);
    if (rc == DB_ROW) {
        *o = old;
        return STORE_CONFLICT; /* sent again already */
    }
    ledger_txn t;
    ledger_refund_again(&t, old.owner_id, old.contract_id, old.milestone_id, old.currency,
                        old.amount);
    snprintf(t.memo, sizeof t.memo, "refund %s sent again", old.id);
    if ((rc = tx_ledger_post(c, &t, a->now)) < 0) return rc;
    char id[ID_STR_MAX];
    if ((rc = tx_refund_queue(c, old.milestone_id, old.amount, old.currency, a->now, id)) < 0)
        return rc;
    if ((rc = tx_audit(c, a->now, a->admin, "refund.retried", "payment", old.id, "{}")) < 0)
        return rc;
    if ((rc = read_one(c, "refund", id, o)) < 0) return rc;
    return a->idem ? tx_idem_save(c, a->idem, NULL, a->now) : STORE_OK; /* its render reads o */
}

int tx_refund_retry(store *s, const char *id, const char *admin_id, int64_t now,
                    store_idem_done *idem, store_money_out *out, uint64_t d, store_done_cb cb,
                    void *ctx)
{
    retry_args a = {.now = now, .idem = idem};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.admin, sizeof a.admin, "%s", admin_id);
    return store_submit_args(s, run_retry, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- payout runs
 * ------------------------------------------------------------------------------------ */

typedef struct {
    store_payout_run run;
    store_idem_done *idem;
} batch_args;

static int run_batch(db_conn *c, db_job *j)
{
    const batch_args *a = j->in;
    const store_payout_run *run = &a->run;
    store_payout_batch *out = j->out;
    memset(out, 0, sizeof *out);
    id_new("pob", out->batch_id);
    /* the largest balances first, so a capped run pays the most owed */
    db_stmt *st = db_prep(c, ST_PAYOUT_BATCH_OWED);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, run->min_amount);
    struct owe {
        char engineer[32], currency[4], dest[STORE_PAYOUT_ACCOUNT_MAX];
        int64_t amount;
    } *todo = calloc(STORE_MONEY_OUT_PAGE, sizeof *todo);
    if (!todo) return STORE_BUSY;
    int n = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct owe w;
        db_copy_col(w.engineer, sizeof w.engineer, st, 0);
        db_copy_col(w.currency, sizeof w.currency, st, 1);
        w.amount = db_col_int(st, 2);
        db_copy_col(w.dest, sizeof w.dest, st, 3);
        if (!w.dest[0]) {
            if (run->need_destination) {
                out->skipped++;
                continue;
            }
            snprintf(w.dest, sizeof w.dest, "%s", run->gateway); /* the sandbox pays anyone */
        }
        if (n == STORE_MONEY_OUT_PAGE) {
            out->more = 1;
            break;
        }
        todo[n++] = w;
    }
    db_reset(st);
    if (rc != DB_DONE && rc != DB_ROW) {
        free(todo);
        return db_rc(rc);
    }
    rc = STORE_OK;
    for (int i = 0; i < n && rc == STORE_OK; i++) {
        char id[ID_STR_MAX];
        id_new("po", id);
        ledger_txn t;
        ledger_payout(&t, todo[i].engineer, todo[i].currency, todo[i].amount);
        snprintf(t.memo, sizeof t.memo, "payout %s in batch %s", id, out->batch_id);
        if ((rc = tx_ledger_post(c, &t, run->now)) < 0) break;
        if (!(st = db_prep(c, ST_PAYOUT_BATCH_INS))) {
            rc = STORE_IO;
            break;
        }
        db_bind_text_copy(st, 1, id);
        db_bind_text(st, 2, out->batch_id);
        db_bind_text(st, 3, todo[i].engineer);
        db_bind_int(st, 4, todo[i].amount);
        db_bind_text(st, 5, todo[i].currency);
        db_bind_text(st, 6, run->gateway);
        db_bind_text(st, 7, todo[i].dest);
        db_bind_int(st, 8, run->now);
        db_bind_int(st, 9, run->now);
        if ((rc = db_rc(db_step(st))) < 0) break;
        if ((rc = tx_job_schedule(c, "payout.send", id, run->now)) < 0) break;
        if ((rc = read_one(c, "payout", id, &out->payouts.items[out->payouts.n])) < 0) break;
        out->payouts.n++;
    }
    free(todo);
    if (rc < 0) return rc;
    char detail[120];
    snprintf(detail, sizeof detail, "{\"payouts\":%d,\"skipped\":%d,\"more\":%s}", out->payouts.n,
             out->skipped, out->more ? "true" : "false");
    if (out->payouts.n > 0 && (rc = tx_audit(c, run->now, run->actor, "payout.batch",
                                             "payout_batch", out->batch_id, detail)) < 0)
        return rc;
    /* the recurring run: again at its next time, or at once when more wait */
    if (run->job_id[0] &&
        (rc = reschedule(c, run->job_id, out->more ? run->now : run->next_run_at, NULL)) < 0)
        return rc;
    return a->idem ? tx_idem_save(c, a->idem, NULL, run->now) : STORE_OK; /* its render reads out */
}

int tx_payout_batch(store *s, const store_payout_run *run, store_idem_done *idem,
                    store_payout_batch *out, uint64_t d, store_done_cb cb, void *ctx)
{
    batch_args a = {.run = *run, .idem = idem};
    return store_submit_args(s, run_batch, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- payout accounts
 * ------------------------------------------------------------------------------------- */

typedef struct {
    char user[32], account[STORE_PAYOUT_ACCOUNT_MAX];
    int64_t now;
} account_args;

static int run_account_set(db_conn *c, db_job *j)
{
    const account_args *a = j->in;
    db_stmt *st = db_prep(c, ST_PAYOUT_ACCOUNT_SET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->user);
    db_bind_text(st, 2, a->account);
    db_bind_int(st, 3, a->now);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    char detail[120];
    snprintf(detail, sizeof detail, "{\"stripe_account\":\"%s\"}",
             a->account); /* checked: acct_ and [A-Za-z0-9] */
    return tx_audit(c, a->now, a->user, "payout_account.set", "user", a->user, detail);
}

int tx_payout_account_set(store *s, const char *user_id, const char *stripe_account, int64_t now,
                          uint64_t d, store_done_cb cb, void *ctx)
{
    account_args a = {.now = now};
    snprintf(a.user, sizeof a.user, "%s", user_id);
    snprintf(a.account, sizeof a.account, "%s", stripe_account);
    return store_submit_args(s, run_account_set, 1, d, cb, ctx, &a, sizeof a, NULL);
}

static int run_account_get(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_PAYOUT_ACCOUNT_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    db_copy_col(j->out, STORE_PAYOUT_ACCOUNT_MAX, st, 0);
    *(int64_t *)j->in = db_col_int(st, 1);
    db_reset(st);
    return STORE_OK;
}

int tx_payout_account_get(store *s, const char *user_id, char out[STORE_PAYOUT_ACCOUNT_MAX],
                          int64_t *updated_at, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_account_get, 0, d, cb, ctx, updated_at, out, user_id, NULL, 0);
}
