/* sqlite_money_out: money leaving through the gateway. A card refund is
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
#include <stdio.h>
#include <string.h>
#include "../core/token.h"
#include "../domain/ledger.h"
#include "sqlite_internal.h"

/* one column order for both kinds, so one reader fills store_money_out */
#define REFUND_COLS                                                                                          \
    "SELECT p.rowid, p.id, p.gateway, coalesce(p.gateway_ref, ''),"                                           \
    " coalesce((SELECT ch.gateway_ref FROM payments ch WHERE ch.milestone_id = p.milestone_id"              \
    "   AND ch.kind = 'charge' AND ch.status = 'succeeded' LIMIT 1), ''),"                                   \
    " k.client_id, p.milestone_id, k.id, p.amount, p.currency, p.status, coalesce(p.error, ''), p.attempts," \
    " p.created_at, p.updated_at, '', '' FROM payments p JOIN milestones m ON m.id = p.milestone_id"        \
    " JOIN contracts k ON k.id = m.contract_id"
#define PAYOUT_COLS                                                                                  \
    "SELECT seq, id, gateway, coalesce(gateway_ref, ''), '', engineer_id, '', '', amount, currency, status," \
    " coalesce(error, ''), attempts, created_at, updated_at, destination, batch_id FROM payouts"

static void read_row(sqlite3_stmt *st, const char *kind, store_money_out *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->kind, sizeof o->kind, "%s", kind);
    o->seq = sqlite3_column_int64(st, 0);
    sqlite_copy_col(o->id, sizeof o->id, st, 1);
    sqlite_copy_col(o->gateway, sizeof o->gateway, st, 2);
    sqlite_copy_col(o->gateway_ref, sizeof o->gateway_ref, st, 3);
    sqlite_copy_col(o->charge_ref, sizeof o->charge_ref, st, 4);
    sqlite_copy_col(o->owner_id, sizeof o->owner_id, st, 5);
    sqlite_copy_col(o->milestone_id, sizeof o->milestone_id, st, 6);
    sqlite_copy_col(o->contract_id, sizeof o->contract_id, st, 7);
    o->amount = sqlite3_column_int64(st, 8);
    sqlite_copy_col(o->currency, sizeof o->currency, st, 9);
    sqlite_copy_col(o->status, sizeof o->status, st, 10);
    sqlite_copy_col(o->error, sizeof o->error, st, 11);
    o->attempts = sqlite3_column_int(st, 12);
    o->created_at = sqlite3_column_int64(st, 13);
    o->updated_at = sqlite3_column_int64(st, 14);
    sqlite_copy_col(o->destination, sizeof o->destination, st, 15);
    sqlite_copy_col(o->batch_id, sizeof o->batch_id, st, 16);
}

static int is_refund(const char *kind)
{
    return strcmp(kind, "refund") == 0;
}

static int read_one(sq_conn *c, const char *kind, const char *id, store_money_out *o)
{
    static const char refund[] = REFUND_COLS " WHERE p.id = ? AND p.kind = 'refund'";
    static const char payout[] = PAYOUT_COLS " WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, is_refund(kind) ? refund : payout);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    read_row(st, kind, o);
    sqlite3_reset(st);
    return STORE_OK;
}

/* ---- queueing a refund ------------------------------------------------------------------------------ */

int sqlite_refund_queue(sq_conn *c, const char *milestone_id, int64_t amount, const char *currency, int64_t now,
                        char id[ID_STR_MAX])
{
    static const char charge[] = "SELECT gateway FROM payments WHERE milestone_id = ? AND kind = 'charge'"
                                 " AND status = 'succeeded' LIMIT 1";
    sqlite3_stmt *st = sq_prep(c, charge);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, milestone_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_CONFLICT; /* escrow that no charge paid for: refuse the move */
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char gw[16], own[ID_STR_MAX];
    sqlite_copy_col(gw, sizeof gw, st, 0);
    sqlite3_reset(st);
    if (!id) id = own;
    id_new("ref", id);
    static const char ins[] = "INSERT INTO payments(id, milestone_id, kind, gateway, gateway_key, amount, currency,"
                              " status, created_at, updated_at) VALUES (?1, ?2, 'refund', ?3, ?1, ?4, ?5,"
                              " 'pending', ?6, ?6)";
    if (!(st = sq_prep(c, ins))) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, milestone_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, gw, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, amount);
    sqlite3_bind_text(st, 5, currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    return sqlite_job_schedule(c, "payment.refund", id, now);
}

/* ---- reading ---------------------------------------------------------------------------------------------- */

typedef struct {
    char kind[8], id[32];
} get_args;

static int run_get(sq_conn *c, sq_job *j)
{
    const get_args *a = j->in;
    return read_one(c, a->kind, a->id, j->out);
}

int sqo_money_out_get(store *s, const char *kind, const char *id, store_money_out *out, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    get_args a;
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.id, sizeof a.id, "%s", id);
    return sqlite_submit_args(s, run_get, 0, d, cb, ctx, &a, sizeof a, out);
}

typedef struct {
    char kind[8], status[12], owner[32];
    int64_t before;
    int limit;
} list_args;

static int run_list(sq_conn *c, sq_job *j)
{
    const list_args *a = j->in;
    store_money_out_list *out = j->out;
    out->n = 0;
    out->next_seq = 0;
    static const char refunds[] = REFUND_COLS " WHERE p.kind = 'refund' AND (?1 = '' OR p.status = ?1)"
                                  " AND (?2 = '' OR k.client_id = ?2) AND (?3 = 0 OR p.rowid < ?3)"
                                  " ORDER BY p.rowid DESC LIMIT ?4";
    static const char payouts[] = PAYOUT_COLS " WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR engineer_id = ?2)"
                                  " AND (?3 = 0 OR seq < ?3) ORDER BY seq DESC LIMIT ?4";
    sqlite3_stmt *st = sq_prep(c, is_refund(a->kind) ? refunds : payouts);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, a->before);
    sqlite3_bind_int(st, 4, a->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == a->limit) {
            out->next_seq = out->items[out->n - 1].seq;
            break;
        }
        read_row(st, a->kind, &out->items[out->n++]);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : sq_rc(c, rc);
}

int sqo_money_out_list(store *s, const char *kind, const char *status, const char *owner_id, int64_t before_seq,
                       int limit, store_money_out_list *out, uint64_t d, store_done_cb cb, void *ctx)
{
    list_args a = {.before = before_seq};
    a.limit = limit < 1 ? 1 : limit > STORE_MONEY_OUT_PAGE ? STORE_MONEY_OUT_PAGE : limit;
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    snprintf(a.status, sizeof a.status, "%s", status ? status : "");
    snprintf(a.owner, sizeof a.owner, "%s", owner_id ? owner_id : "");
    return sqlite_submit_args(s, run_list, 0, d, cb, ctx, &a, sizeof a, out);
}

/* ---- the gateway's answer ------------------------------------------------------------------------------ */

/* the row's owner (and admins, when it went wrong) hear of it; the owner gets a mail */
static int announce(sq_conn *c, const store_money_out *o, const char *event, int admins, const char *subject,
                    const char *text, int64_t now)
{
    char amount[24];
    snprintf(amount, sizeof amount, "%lld", (long long)o->amount);
    static const char ev[] = "SELECT json_object('id', ?1, 'kind', ?2, 'status', ?3, 'amount', CAST(?4 AS INTEGER),"
                             " 'currency', ?5, 'contract_id', nullif(?6, ''), 'milestone_id', nullif(?7, ''),"
                             " 'batch_id', nullif(?8, ''), 'error', nullif(?9, ''))";
    int rc;
    char *payload = sqlite_json_row(c, ev, &rc, 9, o->id, o->kind, o->status, amount, o->currency, o->contract_id,
                                    o->milestone_id, o->batch_id, o->error);
    if (!payload) return rc;
    rc = sqlite_event(c, o->owner_id, event, payload, now);
    if (rc == STORE_OK && admins) rc = sqlite_event_admins(c, event, payload, now);
    free(payload);
    if (rc < 0) return rc;
    static const char mail[] = "SELECT json_object('subject', ?1, 'text', ?2, 'id', ?3)";
    char *data = sqlite_json_row(c, mail, &rc, 3, subject, text, o->id);
    if (!data) return rc;
    rc = sqlite_mail(c, o->owner_id, event, data, now);
    free(data);
    return rc;
}

static int set_status(sq_conn *c, const store_money_out *o, const char *status, const char *ref, const char *error,
                      int attempts, int64_t now)
{
    static const char refund[] = "UPDATE payments SET status = ?1, gateway_ref = coalesce(nullif(?2, ''), gateway_ref),"
                                 " error = nullif(?3, ''), attempts = attempts + ?4, updated_at = ?5 WHERE id = ?6";
    static const char payout[] = "UPDATE payouts SET status = ?1, gateway_ref = coalesce(nullif(?2, ''), gateway_ref),"
                                 " error = nullif(?3, ''), attempts = attempts + ?4, updated_at = ?5 WHERE id = ?6";
    sqlite3_stmt *st = sq_prep(c, is_refund(o->kind) ? refund : payout);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, attempts);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_text(st, 6, o->id, -1, SQLITE_STATIC);
    return sq_rc(c, sqlite3_step(st));
}

/* the money comes back into the ledger: a refused refund is held for the
 * client, a failed or reversed payout is payable again */
static int move_back(sq_conn *c, const store_money_out *o, int reversed, int64_t now)
{
    ledger_txn t;
    if (is_refund(o->kind)) {
        ledger_refund_failed(&t, o->owner_id, o->contract_id, o->milestone_id, o->currency, o->amount);
        snprintf(t.memo, sizeof t.memo, "refund %s refused by the gateway", o->id);
    } else {
        ledger_payout_back(&t, reversed ? "payout_reversed" : "payout_failed", o->owner_id, o->currency, o->amount);
        snprintf(t.memo, sizeof t.memo, "payout %s %s", o->id, reversed ? "reversed" : "failed");
    }
    return sqlite_ledger_post(c, &t, now);
}

static int reschedule(sq_conn *c, const char *job_id, int64_t run_at, const char *error)
{
    static const char again[] = "UPDATE jobs SET run_at = ?, lease_until = 0, last_error = ?"
                                " WHERE id = ? AND done_at IS NULL";
    sqlite3_stmt *st = sq_prep(c, again);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, run_at);
    if (error) sqlite3_bind_text(st, 2, error, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, job_id, -1, SQLITE_STATIC);
    return sq_rc(c, sqlite3_step(st));
}

typedef struct {
    store_money_out_result r;
    int64_t now;
} result_args;

static int run_result(sq_conn *c, sq_job *j)
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
    case STORE_OUT_SUCCEEDED: to = pending ? "succeeded" : NULL; break;
    case STORE_OUT_PENDING: to = pending ? "pending" : NULL; break;
    case STORE_OUT_RETRY: to = pending ? "pending" : NULL; break;
    case STORE_OUT_FAILED: to = pending || (refund && succeeded) ? "failed" : NULL; break;
    case STORE_OUT_REVERSED: to = !refund && (pending || succeeded) ? "reversed" : NULL; break;
    }
    if (!to) return STORE_CONFLICT; /* late, repeated, or out of order: nothing moves */
    if (r->outcome == STORE_OUT_PENDING && o->gateway_ref[0] && strcmp(o->gateway_ref, r->gateway_ref) == 0) {
        /* still pending: nothing changes but when the job asks again */
        if (!r->job_id[0]) return STORE_CONFLICT;
        return reschedule(c, r->job_id, r->retry_at, NULL);
    }
    const char *error = r->outcome == STORE_OUT_SUCCEEDED || r->outcome == STORE_OUT_PENDING ? "" : r->error;
    if ((rc = set_status(c, o, to, r->gateway_ref, error, r->outcome == STORE_OUT_RETRY, a->now)) < 0) return rc;
    if (r->outcome == STORE_OUT_FAILED || r->outcome == STORE_OUT_REVERSED) {
        if ((rc = move_back(c, o, r->outcome == STORE_OUT_REVERSED, a->now)) < 0) return rc;
    }
    char detail[400];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", o->status, to);
    if ((rc = sqlite_audit(c, a->now, r->job_id[0] ? "system" : "gateway", refund ? "refund.transition"
                                                                                  : "payout.transition",
                           refund ? "payment" : "payout", o->id, detail)) < 0)
        return rc;
    if (r->job_id[0]) { /* the job runs again (unavailable; a refund still pending), or is done */
        if (r->outcome == STORE_OUT_RETRY || (r->outcome == STORE_OUT_PENDING && r->retry_at > 0))
            rc = reschedule(c, r->job_id, r->retry_at, r->outcome == STORE_OUT_RETRY ? r->error : NULL);
        else if ((rc = sqlite_job_mark_done(c, r->job_id, a->now, NULL)) == STORE_CONFLICT)
            rc = STORE_OK;
        if (rc < 0) return rc;
    }
    if ((rc = read_one(c, r->kind, r->id, o)) < 0) return rc;
    switch (r->outcome) {
    case STORE_OUT_SUCCEEDED:
        return refund ? announce(c, o, "refund.succeeded", 0, "Your refund is on its way",
                                 "A refund to your card went through; your bank shows it within a few days.", a->now)
                      : announce(c, o, "payout.succeeded", 0, "A payout is on its way",
                                 "A payout of your released earnings was sent to your payout account.", a->now);
    case STORE_OUT_FAILED:
        return refund ? announce(c, o, "refund.failed", 1, "A refund could not be made",
                                 "The card refund was refused. The money is held for you and our team will "
                                 "send it again.",
                                 a->now)
                      : announce(c, o, "payout.failed", 1, "A payout failed",
                                 "A payout to your payout account failed; the money is back in your balance and "
                                 "goes out in the next payout once your payout account is fixed.",
                                 a->now);
    case STORE_OUT_REVERSED:
        return announce(c, o, "payout.reversed", 1, "A payout was reversed",
                        "A payout to your account was reversed; the money is back in your balance.", a->now);
    default: return STORE_OK;
    }
}

int sqo_money_out_result(store *s, const store_money_out_result *r, int64_t now, store_money_out *out, uint64_t d,
                         store_done_cb cb, void *ctx)
{
    result_args a = {.r = *r, .now = now};
    return sqlite_submit_args(s, run_result, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- an admin sends a refused refund again ---------------------------------------------------------- */

typedef struct {
    char id[32], admin[32];
    int64_t now;
    store_idem_done *idem;
} retry_args;

static int run_retry(sq_conn *c, sq_job *j)
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
    static const char done[] = "SELECT 1 FROM audit_log WHERE entity = 'payment' AND entity_id = ?"
                               " AND action = 'refund.retried'";
    sqlite3_stmt *st = sq_prep(c, done);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) {
        *o = old;
        return STORE_CONFLICT; /* sent again already */
    }
    ledger_txn t;
    ledger_refund_again(&t, old.owner_id, old.contract_id, old.milestone_id, old.currency, old.amount);
    snprintf(t.memo, sizeof t.memo, "refund %s sent again", old.id);
    if ((rc = sqlite_ledger_post(c, &t, a->now)) < 0) return rc;
    char id[ID_STR_MAX];
    if ((rc = sqlite_refund_queue(c, old.milestone_id, old.amount, old.currency, a->now, id)) < 0) return rc;
    if ((rc = sqlite_audit(c, a->now, a->admin, "refund.retried", "payment", old.id, "{}")) < 0) return rc;
    if ((rc = read_one(c, "refund", id, o)) < 0) return rc;
    return a->idem ? sqlite_idem_save(c, a->idem, NULL, a->now) : STORE_OK; /* its render reads o */
}

int sqo_refund_retry(store *s, const char *id, const char *admin_id, int64_t now, store_idem_done *idem,
                     store_money_out *out, uint64_t d, store_done_cb cb, void *ctx)
{
    retry_args a = {.now = now, .idem = idem};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.admin, sizeof a.admin, "%s", admin_id);
    return sqlite_submit_args(s, run_retry, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- payout runs ------------------------------------------------------------------------------------ */

typedef struct {
    store_payout_run run;
    store_idem_done *idem;
} batch_args;

static int run_batch(sq_conn *c, sq_job *j)
{
    const batch_args *a = j->in;
    const store_payout_run *run = &a->run;
    store_payout_batch *out = j->out;
    memset(out, 0, sizeof *out);
    id_new("pob", out->batch_id);
    /* the largest balances first, so a capped run pays the most owed */
    static const char owed[] = "SELECT a.owner, a.currency, a.balance, coalesce(pa.stripe_account, '')"
                               " FROM ledger_accounts a LEFT JOIN payout_accounts pa ON pa.user_id = a.owner"
                               " WHERE a.kind = 'payable' AND a.balance >= ?1 AND a.balance > 0"
                               " ORDER BY a.balance DESC, a.id";
    sqlite3_stmt *st = sq_prep(c, owed);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, run->min_amount);
    struct owe {
        char engineer[32], currency[4], dest[STORE_PAYOUT_ACCOUNT_MAX];
        int64_t amount;
    } *todo = calloc(STORE_MONEY_OUT_PAGE, sizeof *todo);
    if (!todo) return STORE_BUSY;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct owe w;
        sqlite_copy_col(w.engineer, sizeof w.engineer, st, 0);
        sqlite_copy_col(w.currency, sizeof w.currency, st, 1);
        w.amount = sqlite3_column_int64(st, 2);
        sqlite_copy_col(w.dest, sizeof w.dest, st, 3);
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
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        free(todo);
        return sq_rc(c, rc);
    }
    rc = STORE_OK;
    for (int i = 0; i < n && rc == STORE_OK; i++) {
        char id[ID_STR_MAX];
        id_new("po", id);
        ledger_txn t;
        ledger_payout(&t, todo[i].engineer, todo[i].currency, todo[i].amount);
        snprintf(t.memo, sizeof t.memo, "payout %s in batch %s", id, out->batch_id);
        if ((rc = sqlite_ledger_post(c, &t, run->now)) < 0) break;
        static const char ins[] = "INSERT INTO payouts(id, batch_id, engineer_id, amount, currency, gateway,"
                                  " destination, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,'pending',?,?)";
        if (!(st = sq_prep(c, ins))) {
            rc = STORE_IO;
            break;
        }
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, out->batch_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, todo[i].engineer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, todo[i].amount);
        sqlite3_bind_text(st, 5, todo[i].currency, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, run->gateway, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, todo[i].dest, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, run->now);
        sqlite3_bind_int64(st, 9, run->now);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) break;
        if ((rc = sqlite_job_schedule(c, "payout.send", id, run->now)) < 0) break;
        if ((rc = read_one(c, "payout", id, &out->payouts.items[out->payouts.n])) < 0) break;
        out->payouts.n++;
    }
    free(todo);
    if (rc < 0) return rc;
    char detail[120];
    snprintf(detail, sizeof detail, "{\"payouts\":%d,\"skipped\":%d,\"more\":%s}", out->payouts.n, out->skipped,
             out->more ? "true" : "false");
    if (out->payouts.n > 0 &&
        (rc = sqlite_audit(c, run->now, run->actor, "payout.batch", "payout_batch", out->batch_id, detail)) < 0)
        return rc;
    /* the recurring run: again at its next time, or at once when more wait */
    if (run->job_id[0] && (rc = reschedule(c, run->job_id, out->more ? run->now : run->next_run_at, NULL)) < 0)
        return rc;
    return a->idem ? sqlite_idem_save(c, a->idem, NULL, run->now) : STORE_OK; /* its render reads out */
}

int sqo_payout_batch(store *s, const store_payout_run *run, store_idem_done *idem, store_payout_batch *out,
                     uint64_t d, store_done_cb cb, void *ctx)
{
    batch_args a = {.run = *run, .idem = idem};
    return sqlite_submit_args(s, run_batch, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- payout accounts ------------------------------------------------------------------------------------- */

typedef struct {
    char user[32], account[STORE_PAYOUT_ACCOUNT_MAX];
    int64_t now;
} account_args;

static int run_account_set(sq_conn *c, sq_job *j)
{
    const account_args *a = j->in;
    static const char sql[] = "INSERT INTO payout_accounts(user_id, stripe_account, updated_at) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT(user_id) DO UPDATE SET stripe_account = excluded.stripe_account,"
                              " updated_at = excluded.updated_at";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, a->now);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    char detail[120];
    snprintf(detail, sizeof detail, "{\"stripe_account\":\"%s\"}", a->account); /* checked: acct_ and [A-Za-z0-9] */
    return sqlite_audit(c, a->now, a->user, "payout_account.set", "user", a->user, detail);
}

int sqo_payout_account_set(store *s, const char *user_id, const char *stripe_account, int64_t now, uint64_t d,
                           store_done_cb cb, void *ctx)
{
    account_args a = {.now = now};
    snprintf(a.user, sizeof a.user, "%s", user_id);
    snprintf(a.account, sizeof a.account, "%s", stripe_account);
    return sqlite_submit_args(s, run_account_set, 1, d, cb, ctx, &a, sizeof a, NULL);
}

static int run_account_get(sq_conn *c, sq_job *j)
{
    static const char sql[] = "SELECT stripe_account, updated_at FROM payout_accounts WHERE user_id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    sqlite_copy_col(j->out, STORE_PAYOUT_ACCOUNT_MAX, st, 0);
    *(int64_t *)j->in = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return STORE_OK;
}

int sqo_payout_account_get(store *s, const char *user_id, char out[STORE_PAYOUT_ACCOUNT_MAX], int64_t *updated_at, uint64_t d,
                           store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_account_get, 0, d, cb, ctx, updated_at, out, user_id, NULL, 0);
}
