/* tx_disputes: disputes (opened by a party, resolved by an admin's
 * split of the escrow) and ending a contract (funded escrow refunded,
 * pending work dropped), each one transaction with its ledger postings,
 * audit rows, events and mails. */
#include "../core/token.h"
#include "../rules/contracts.h"
#include "../rules/ledger.h"
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- disputes ---------------------------------------------------------------------------------
 */

/* a dispute with its milestone, contract, request and parties: what every
 * read of one shares (the money moves, GET /disputes/{id}, the list) */

static int read_view(db_stmt *st, store_dispute_view *v)
{
    memset(v, 0, sizeof *v);
    store_dispute *d = &v->d;
    db_copy_col(d->id, sizeof d->id, st, 0);
    db_copy_col(d->milestone_id, sizeof d->milestone_id, st, 1);
    db_copy_col(d->contract_id, sizeof d->contract_id, st, 2);
    db_copy_col(d->opened_by, sizeof d->opened_by, st, 3);
    db_copy_col(d->status, sizeof d->status, st, 4);
    d->release = db_col_int(st, 5);
    d->refund = db_col_int(st, 6);
    db_copy_col(d->resolved_by, sizeof d->resolved_by, st, 7);
    d->created_at = db_col_int(st, 8);
    d->resolved_at = db_col_int(st, 9);
    d->amount = db_col_int(st, 10);
    db_copy_col(d->currency, sizeof d->currency, st, 11);
    const char *r = db_col_text(st, 12);
    v->text = strdup(r ? r : "");
    db_copy_col(v->milestone_title, sizeof v->milestone_title, st, 13);
    db_copy_col(v->client_id, sizeof v->client_id, st, 14);
    db_copy_col(v->client_name, sizeof v->client_name, st, 15);
    db_copy_col(v->engineer_id, sizeof v->engineer_id, st, 16);
    db_copy_col(v->engineer_name, sizeof v->engineer_name, st, 17);
    v->seq = db_col_int(st, 18);
    db_copy_col(v->request_id, sizeof v->request_id, st, 19);
    db_copy_col(v->request_title, sizeof v->request_title, st, 20);
    db_copy_col(d->from_status, sizeof d->from_status, st, 21);
    return v->text ? STORE_OK : STORE_BUSY;
}

static int read_dispute(db_conn *c, const char *id, store_dispute *d)
{
    db_stmt *st = db_prep(c, ST_READ_DISPUTE);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    store_dispute_view v;
    rc = read_view(st, &v);
    db_reset(st);
    if (rc < 0) return rc;
    *d = v.d;
    snprintf(d->reason, sizeof d->reason, "%s", v.text);
    store_dispute_view_free(&v);
    return STORE_OK;
}

typedef struct {
    char milestone_id[32], user_id[32], dispute_id[32];
    char reason[8004];
    int64_t now;
    store_dispute *out;
    store_money_conflict *why;
} open_args;

static int run_dispute_open(db_conn *c, db_job *j)
{
    const open_args *a = j->in;
    store_contract *k = j->out;
    int rc = tx_contract_of(c, a->milestone_id, k);
    if (rc < 0) return rc;
    if (strcmp(k->client_id, a->user_id) != 0 && strcmp(k->engineer_id, a->user_id) != 0)
        return STORE_NOTFOUND;
    const store_milestone *m = tx_milestone_find(k, a->milestone_id);
    if (!m) return STORE_NOTFOUND;
    char from[12];
    memcpy(from, m->status, sizeof from);
    if (!milestones_can_move(from, "disputed") || strcmp(k->status, "active") != 0) {
        tx_money_conflict(a->why, "milestone", from,
                          "only a funded or submitted milestone of an active contract is disputed");
        return STORE_CONFLICT;
    }
    db_stmt *st = db_prep(c, ST_DISPUTE_OPEN_INS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->dispute_id);
    db_bind_text(st, 2, a->milestone_id);
    db_bind_text(st, 3, a->user_id);
    db_bind_text(st, 4, a->reason);
    db_bind_text(st, 5, from);
    db_bind_int(st, 6, a->now);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    st = db_prep(c, ST_DISPUTE_OPEN_UPD);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->dispute_id);
    db_bind_text(st, 2, a->milestone_id);
    db_bind_text(st, 3, from);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    /* the 14-day silence rule stops while an admin decides */
    if ((rc = tx_job_cancel(c, "milestone.autorelease", a->milestone_id, a->now)) < 0) return rc;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"disputed\"}", from);
    if ((rc = tx_audit(c, a->now, a->user_id, "milestone.transition", "milestone", a->milestone_id,
                       detail)) < 0)
        return rc;
    char cid[32];
    memcpy(cid, k->id, sizeof cid);
    if ((rc = tx_contract_read(c, cid, k)) < 0) return rc;
    const char *other = strcmp(a->user_id, k->client_id) == 0 ? k->engineer_id : k->client_id;
    if ((rc = tx_contract_announce(c, k, "milestone.disputed", other, a->now)) < 0) return rc;
    /* every admin hears of it */
    char *payload =
        tx_json_row(c, ST_DISPUTE_OPEN_EV, &rc, 3, a->dispute_id, a->milestone_id, k->id);
    if (!payload) return rc;
    rc = tx_event_admins(c, "admin.dispute_opened", payload, a->now);
    free(payload);
    if (rc < 0) return rc;
    return read_dispute(c, a->dispute_id, a->out);
}

int tx_dispute_open(store *s, const char *milestone_id, const char *user_id, const char *reason,
                    int64_t now, store_dispute *out, store_contract *k, store_money_conflict *why,
                    uint64_t d, store_done_cb cb, void *ctx)
{
    open_args *a = calloc(1, sizeof *a);
    if (!a) return STORE_BUSY;
    snprintf(a->milestone_id, sizeof a->milestone_id, "%s", milestone_id);
    snprintf(a->user_id, sizeof a->user_id, "%s", user_id);
    snprintf(a->reason, sizeof a->reason, "%s", reason);
    id_new("dsp", a->dispute_id);
    a->now = now;
    a->out = out;
    a->why = why;
    int rc = store_submit_args(s, run_dispute_open, 1, d, cb, ctx, a, sizeof *a, k);
    free(a);
    return rc;
}

typedef struct {
    char dispute_id[32], admin_id[32];
    int64_t release, refund, now;
    store_dispute *out;
    store_idem_done *idem;
    store_money_conflict *why;
} resolve_args;

static int run_dispute_resolve(db_conn *c, db_job *j)
{
    const resolve_args *a = j->in;
    store_contract *k = j->out;
    store_dispute *d = a->out;
    int rc = read_dispute(c, a->dispute_id, d);
    if (rc < 0) return rc;
    if (strcmp(d->status, "open") != 0) {
        tx_money_conflict(a->why, "dispute", d->status, "this dispute is resolved already");
        return STORE_CONFLICT;
    }
    if ((rc = tx_contract_read(c, d->contract_id, k)) < 0) return rc;
    const store_milestone *m = tx_milestone_find(k, d->milestone_id);
    if (!m) return STORE_NOTFOUND;
    if (a->release + a->refund != m->escrow) {
        tx_money_conflict(a->why, "escrow", m->status,
                          "release and refund must add up to the milestone's escrow");
        return STORE_CONFLICT;
    }
    ledger_txn t;
    ledger_split(&t, k->client_id, k->engineer_id, k->id, m->id, k->currency, a->release, a->refund,
                 k->fee_bps);
    snprintf(t.memo, sizeof t.memo, "dispute %s resolved", d->id);
    if ((rc = tx_ledger_post(c, &t, a->now)) < 0) return rc;
    if (a->refund > 0 && (rc = tx_refund_queue(c, m->id, a->refund, k->currency, a->now, NULL)) < 0)
        return rc;
    db_stmt *st = db_prep(c, ST_DISPUTE_RESOLVE_UPD);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->now);
    db_bind_text(st, 2, m->id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    st = db_prep(c, ST_DISPUTE_RESOLVE_DD);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->release);
    db_bind_int(st, 2, a->refund);
    db_bind_text(st, 3, a->admin_id);
    db_bind_int(st, 4, a->now);
    db_bind_text(st, 5, d->id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"release\":%lld,\"refund\":%lld}", (long long)a->release,
             (long long)a->refund);
    if ((rc = tx_audit(c, a->now, a->admin_id, "dispute.resolved", "dispute", d->id, detail)) < 0)
        return rc;
    char cid[32], did[32], mid[32];
    memcpy(cid, k->id, sizeof cid);
    memcpy(did, d->id, sizeof did);
    memcpy(mid, m->id, sizeof mid);
    /* an hourly week settled by the split: the contract goes on with the next week */
    if (m->week_start[0] &&
        (rc = tx_open_next_week(c, k, m->week_start, k->nmilestones + 1, a->now)) < 0)
        return rc;
    if ((rc = tx_contract_read(c, cid, k)) < 0) return rc;
    if ((rc = tx_contract_announce(c, k, "milestone.resolved", k->engineer_id, a->now)) < 0)
        return rc;
    char *data = tx_json_row(c, ST_DISPUTE_RESOLVE_MAIL, &rc, 0);
    if (!data) return rc;
    rc = tx_mail(c, k->client_id, "dispute.resolved", data, a->now);
    free(data);
    if (rc < 0) return rc;
    if ((rc = read_dispute(c, did, d)) < 0) return rc;
    if (a->idem) memcpy(a->idem->milestone_id, mid, sizeof mid);
    return tx_idem_save(c, a->idem, k, a->now);
}

int tx_dispute_resolve(store *s, const char *dispute_id, const char *admin_id, int64_t release,
                       int64_t refund, int64_t now, store_idem_done *idem, store_dispute *out,
                       store_contract *k, store_money_conflict *why, uint64_t d, store_done_cb cb,
                       void *ctx)
{
    resolve_args a = {
        .release = release, .refund = refund, .now = now, .out = out, .idem = idem, .why = why};
    snprintf(a.dispute_id, sizeof a.dispute_id, "%s", dispute_id);
    snprintf(a.admin_id, sizeof a.admin_id, "%s", admin_id);
    return store_submit_args(s, run_dispute_resolve, 1, d, cb, ctx, &a, sizeof a, k);
}

/* ---- ending a contract
 * ----------------------------------------------------------------------------- */

typedef struct {
    char id[32], user_id[32];
    int64_t now;
    store_money_conflict *why;
} end_args;

static int run_end(db_conn *c, db_job *j)
{
    const end_args *a = j->in;
    store_contract *k = j->out;
    int rc = tx_contract_read(c, a->id, k);
    if (rc < 0) return rc;
    if (strcmp(k->client_id, a->user_id) != 0 && strcmp(k->engineer_id, a->user_id) != 0)
        return STORE_NOTFOUND;
    if (!contracts_can_move(k->status, "ended")) {
        tx_money_conflict(a->why, "contract", k->status, "only an active contract is ended");
        return STORE_CONFLICT;
    }
    /* a card charge still in flight would land on a milestone that is gone */
    db_stmt *bs = db_prep(c, ST_END_BUSY);
    if (!bs) return STORE_IO;
    db_bind_text(bs, 1, a->id);
    rc = db_step(bs);
    db_reset(bs);
    if (rc == DB_ROW) {
        tx_money_conflict(a->why, "milestone", "pending",
                          "a payment for this contract is in progress; end it once it has settled");
        return STORE_CONFLICT;
    }
    for (int i = 0; i < k->nmilestones; i++) {
        const store_milestone *m = &k->milestones[i];
        if (strcmp(m->status, "submitted") == 0 || strcmp(m->status, "disputed") == 0) {
            tx_money_conflict(a->why, "milestone", m->status,
                              "a milestone awaits review or a dispute decision; settle it before "
                              "ending the contract");
            return STORE_CONFLICT;
        }
    }
    for (int i = 0; i < k->nmilestones; i++) {
        const store_milestone *m = &k->milestones[i];
        if (!milestones_can_move(m->status, "refunded"))
            continue;        /* released, resolved, refunded stay */
        if (m->escrow > 0) { /* funded: the money goes back to the client's card */
            ledger_txn t;
            ledger_refund(&t, k->client_id, k->id, m->id, k->currency, m->escrow);
            snprintf(t.memo, sizeof t.memo, "contract ended");
            if ((rc = tx_ledger_post(c, &t, a->now)) < 0) return rc;
            if ((rc = tx_refund_queue(c, m->id, m->escrow, k->currency, a->now, NULL)) < 0)
                return rc;
        }
        db_stmt *st = db_prep(c, ST_END_REFUND_MILESTONE);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, a->now);
        db_bind_text(st, 2, m->id);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
    }
    db_stmt *st = db_prep(c, ST_END_CONTRACT);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->now);
    db_bind_text(st, 2, a->user_id);
    db_bind_text(st, 3, a->id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    if ((rc = tx_audit(c, a->now, a->user_id, "contract.transition", "contract", a->id,
                       "{\"from\":\"active\",\"to\":\"ended\"}")) < 0)
        return rc;
    /* the reviews window: whatever was written shows after 14 days */
    if ((rc = tx_job_schedule(c, "reviews.publish", a->id, a->now + 14 * 86400)) < 0) return rc;
    if ((rc = tx_contract_read(c, a->id, k)) < 0) return rc;
    if ((rc = tx_engineer_busy(c, k)) < 0) return rc;
    const char *other = strcmp(a->user_id, k->client_id) == 0 ? k->engineer_id : k->client_id;
    return tx_contract_announce(c, k, "contract.ended", other, a->now);
}

int tx_contract_end(store *s, const char *id, const char *user_id, int64_t now, store_contract *out,
                    store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    end_args a = {.now = now, .why = why};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    return store_submit_args(s, run_end, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- reading disputes (GET /disputes/{id}, the admins' list) -------------------------------- */

static int run_dispute_get(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_DISPUTE_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    return read_view(st, j->out);
}

int tx_dispute_get(store *s, const char *id, store_dispute_view *out, uint64_t d, store_done_cb cb,
                   void *ctx)
{
    return store_submit(s, run_dispute_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

typedef struct {
    char status[12];
    int has_status, after_open, limit;
    int64_t after_seq;
} list_args;

static int run_disputes_list(db_conn *c, db_job *j)
{
    const list_args *a = j->in;
    store_dispute_list *out = j->out;
    /* open first, then newest first: the key (open DESC, rowid DESC) */
    db_stmt *st = db_prep(c, ST_DISPUTES_LIST);
    if (!st) return STORE_IO;
    if (a->has_status)
        db_bind_text(st, 1, a->status);
    else
        db_bind_null(st, 1);
    db_bind_int(st, 2, a->after_seq);
    db_bind_int(st, 3, a->after_open);
    db_bind_int(st, 4, a->limit);
    int rc;
    out->n = 0;
    while (out->n < a->limit && (rc = db_step(st)) == DB_ROW)
        if (read_view(st, &out->items[out->n++]) < 0) return STORE_BUSY;
    if (out->n == a->limit) return STORE_OK;
    return rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_disputes_list(store *s, const char *status, int after_open, int64_t after_seq, int limit,
                     store_dispute_list *out, uint64_t d, store_done_cb cb, void *ctx)
{
    list_args a = {.after_open = after_open ? 1 : 0, .after_seq = after_seq, .limit = limit};
    if (a.limit < 1 || a.limit > STORE_DISPUTES_MAX) a.limit = STORE_DISPUTES_MAX;
    if (status) {
        a.has_status = 1;
        snprintf(a.status, sizeof a.status, "%s", status);
    }
    return store_submit_args(s, run_disputes_list, 0, d, cb, ctx, &a, sizeof a, out);
}
