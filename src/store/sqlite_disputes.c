/* sqlite_disputes: disputes (opened by a party, resolved by an admin's
 * split of the escrow) and ending a contract (funded escrow refunded,
 * pending work dropped), each one transaction with its ledger postings,
 * audit rows, events and mails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/token.h"
#include "../domain/contracts.h"
#include "../domain/ledger.h"
#include "sqlite_internal.h"

/* ---- disputes --------------------------------------------------------------------------------- */

/* a dispute with its milestone, contract, request and parties: what every
 * read of one shares (the money moves, GET /disputes/{id}, the list) */
#define VIEW_COLS                                                                                   \
    "d.id, d.milestone_id, m.contract_id, d.opened_by, d.status, coalesce(d.release_amount, 0),"    \
    " coalesce(d.refund_amount, 0), coalesce(d.resolved_by, ''), d.created_at,"                    \
    " coalesce(d.resolved_at, 0), m.amount, k.currency, d.reason, m.title, k.client_id, cu.name,"  \
    " k.engineer_id, eu.name, d.rowid, k.request_id, r.title, d.from_status"                       \
    " FROM disputes d JOIN milestones m ON m.id = d.milestone_id JOIN contracts k ON k.id = m.contract_id" \
    " JOIN users cu ON cu.id = k.client_id JOIN users eu ON eu.id = k.engineer_id"                  \
    " JOIN requests r ON r.id = k.request_id"

static int read_view(sqlite3_stmt *st, store_dispute_view *v)
{
    memset(v, 0, sizeof *v);
    store_dispute *d = &v->d;
    sqlite_copy_col(d->id, sizeof d->id, st, 0);
    sqlite_copy_col(d->milestone_id, sizeof d->milestone_id, st, 1);
    sqlite_copy_col(d->contract_id, sizeof d->contract_id, st, 2);
    sqlite_copy_col(d->opened_by, sizeof d->opened_by, st, 3);
    sqlite_copy_col(d->status, sizeof d->status, st, 4);
    d->release = sqlite3_column_int64(st, 5);
    d->refund = sqlite3_column_int64(st, 6);
    sqlite_copy_col(d->resolved_by, sizeof d->resolved_by, st, 7);
    d->created_at = sqlite3_column_int64(st, 8);
    d->resolved_at = sqlite3_column_int64(st, 9);
    d->amount = sqlite3_column_int64(st, 10);
    sqlite_copy_col(d->currency, sizeof d->currency, st, 11);
    const unsigned char *r = sqlite3_column_text(st, 12);
    v->text = strdup(r ? (const char *)r : "");
    sqlite_copy_col(v->milestone_title, sizeof v->milestone_title, st, 13);
    sqlite_copy_col(v->client_id, sizeof v->client_id, st, 14);
    sqlite_copy_col(v->client_name, sizeof v->client_name, st, 15);
    sqlite_copy_col(v->engineer_id, sizeof v->engineer_id, st, 16);
    sqlite_copy_col(v->engineer_name, sizeof v->engineer_name, st, 17);
    v->seq = sqlite3_column_int64(st, 18);
    sqlite_copy_col(v->request_id, sizeof v->request_id, st, 19);
    sqlite_copy_col(v->request_title, sizeof v->request_title, st, 20);
    sqlite_copy_col(d->from_status, sizeof d->from_status, st, 21);
    return v->text ? STORE_OK : STORE_BUSY;
}

static int read_dispute(sq_conn *c, const char *id, store_dispute *d)
{
    static const char sql[] = "SELECT " VIEW_COLS " WHERE d.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    store_dispute_view v;
    rc = read_view(st, &v);
    sqlite3_reset(st);
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

static int run_dispute_open(sq_conn *c, sq_job *j)
{
    const open_args *a = j->in;
    store_contract *k = j->out;
    int rc = sqlite_contract_of(c, a->milestone_id, k);
    if (rc < 0) return rc;
    if (strcmp(k->client_id, a->user_id) != 0 && strcmp(k->engineer_id, a->user_id) != 0) return STORE_NOTFOUND;
    const store_milestone *m = sqlite_milestone_find(k, a->milestone_id);
    if (!m) return STORE_NOTFOUND;
    char from[12];
    memcpy(from, m->status, sizeof from);
    if (!milestones_can_move(from, "disputed") || strcmp(k->status, "active") != 0) {
        sqlite_money_conflict(a->why, "milestone", from, "only a funded or submitted milestone of an active contract is disputed");
        return STORE_CONFLICT;
    }
    static const char ins[] = "INSERT INTO disputes(id, milestone_id, opened_by, reason, from_status, status, created_at)"
                              " VALUES (?,?,?,?,?,'open',?)";
    sqlite3_stmt *st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->dispute_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->milestone_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, from, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, a->now);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    static const char upd[] = "UPDATE milestones SET status = 'disputed', dispute_id = ? WHERE id = ? AND status = ?";
    st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->dispute_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->milestone_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, from, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    /* the 14-day silence rule stops while an admin decides */
    if ((rc = sqlite_job_cancel(c, "milestone.autorelease", a->milestone_id, a->now)) < 0) return rc;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"disputed\"}", from);
    if ((rc = sqlite_audit(c, a->now, a->user_id, "milestone.transition", "milestone", a->milestone_id, detail)) < 0)
        return rc;
    char cid[32];
    memcpy(cid, k->id, sizeof cid);
    if ((rc = sqlite_contract_read(c, cid, k)) < 0) return rc;
    const char *other = strcmp(a->user_id, k->client_id) == 0 ? k->engineer_id : k->client_id;
    if ((rc = sqlite_contract_announce(c, k, "milestone.disputed", other, "A milestone is disputed",
                       "A milestone was disputed; its money stays in escrow until an admin resolves it.", a->now)) < 0)
        return rc;
    /* every admin hears of it */
    static const char ev[] = "SELECT json_object('dispute_id', ?1, 'milestone_id', ?2, 'contract_id', ?3)";
    char *payload = sqlite_json_row(c, ev, &rc, 3, a->dispute_id, a->milestone_id, k->id);
    if (!payload) return rc;
    rc = sqlite_event_admins(c, "admin.dispute_opened", payload, a->now);
    free(payload);
    if (rc < 0) return rc;
    return read_dispute(c, a->dispute_id, a->out);
}

int sqk_dispute_open(store *s, const char *milestone_id, const char *user_id, const char *reason, int64_t now,
                     store_dispute *out, store_contract *k, store_money_conflict *why, uint64_t d,
                     store_done_cb cb, void *ctx)
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
    int rc = sqlite_submit_args(s, run_dispute_open, 1, d, cb, ctx, a, sizeof *a, k);
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

static int run_dispute_resolve(sq_conn *c, sq_job *j)
{
    const resolve_args *a = j->in;
    store_contract *k = j->out;
    store_dispute *d = a->out;
    int rc = read_dispute(c, a->dispute_id, d);
    if (rc < 0) return rc;
    if (strcmp(d->status, "open") != 0) {
        sqlite_money_conflict(a->why, "dispute", d->status, "this dispute is resolved already");
        return STORE_CONFLICT;
    }
    if ((rc = sqlite_contract_read(c, d->contract_id, k)) < 0) return rc;
    const store_milestone *m = sqlite_milestone_find(k, d->milestone_id);
    if (!m) return STORE_NOTFOUND;
    if (a->release + a->refund != m->escrow) {
        sqlite_money_conflict(a->why, "escrow", m->status, "release and refund must add up to the milestone's escrow");
        return STORE_CONFLICT;
    }
    ledger_txn t;
    ledger_split(&t, k->client_id, k->engineer_id, k->id, m->id, k->currency, a->release, a->refund, k->fee_bps);
    snprintf(t.memo, sizeof t.memo, "dispute %s resolved", d->id);
    if ((rc = sqlite_ledger_post(c, &t, a->now)) < 0) return rc;
    if (a->refund > 0 && (rc = sqlite_refund_queue(c, m->id, a->refund, k->currency, a->now, NULL)) < 0) return rc;
    static const char upd[] = "UPDATE milestones SET status = 'resolved', settled_at = ? WHERE id = ? AND status = 'disputed'";
    sqlite3_stmt *st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->now);
    sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    static const char dd[] = "UPDATE disputes SET status = 'resolved', release_amount = ?, refund_amount = ?,"
                             " resolved_by = ?, resolved_at = ? WHERE id = ? AND status = 'open'";
    st = sq_prep(c, dd);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->release);
    sqlite3_bind_int64(st, 2, a->refund);
    sqlite3_bind_text(st, 3, a->admin_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->now);
    sqlite3_bind_text(st, 5, d->id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"release\":%lld,\"refund\":%lld}", (long long)a->release, (long long)a->refund);
    if ((rc = sqlite_audit(c, a->now, a->admin_id, "dispute.resolved", "dispute", d->id, detail)) < 0) return rc;
    char cid[32], did[32], mid[32];
    memcpy(cid, k->id, sizeof cid);
    memcpy(did, d->id, sizeof did);
    memcpy(mid, m->id, sizeof mid);
    /* an hourly week settled by the split: the contract goes on with the next week */
    if (m->week_start[0] && (rc = sqlite_open_next_week(c, k, m->week_start, k->nmilestones + 1, a->now)) < 0)
        return rc;
    if ((rc = sqlite_contract_read(c, cid, k)) < 0) return rc;
    if ((rc = sqlite_contract_announce(c, k, "milestone.resolved", k->engineer_id, "A dispute was resolved",
                       "An admin resolved a dispute: part of the milestone was released, part refunded.", a->now)) < 0)
        return rc;
    static const char mail[] = "SELECT json_object('subject', 'A dispute was resolved', 'text',"
                               " 'An admin resolved a dispute on your contract; see the contract for the split.')";
    char *data = sqlite_json_row(c, mail, &rc, 0);
    if (!data) return rc;
    rc = sqlite_mail(c, k->client_id, "dispute.resolved", data, a->now);
    free(data);
    if (rc < 0) return rc;
    if ((rc = read_dispute(c, did, d)) < 0) return rc;
    if (a->idem) memcpy(a->idem->milestone_id, mid, sizeof mid);
    return sqlite_idem_save(c, a->idem, k, a->now);
}

int sqk_dispute_resolve(store *s, const char *dispute_id, const char *admin_id, int64_t release, int64_t refund,
                        int64_t now, store_idem_done *idem, store_dispute *out, store_contract *k,
                        store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    resolve_args a = {.release = release, .refund = refund, .now = now, .out = out, .idem = idem, .why = why};
    snprintf(a.dispute_id, sizeof a.dispute_id, "%s", dispute_id);
    snprintf(a.admin_id, sizeof a.admin_id, "%s", admin_id);
    return sqlite_submit_args(s, run_dispute_resolve, 1, d, cb, ctx, &a, sizeof a, k);
}

/* ---- ending a contract ----------------------------------------------------------------------------- */

typedef struct {
    char id[32], user_id[32];
    int64_t now;
    store_money_conflict *why;
} end_args;

static int run_end(sq_conn *c, sq_job *j)
{
    const end_args *a = j->in;
    store_contract *k = j->out;
    int rc = sqlite_contract_read(c, a->id, k);
    if (rc < 0) return rc;
    if (strcmp(k->client_id, a->user_id) != 0 && strcmp(k->engineer_id, a->user_id) != 0) return STORE_NOTFOUND;
    if (!contracts_can_move(k->status, "ended")) {
        sqlite_money_conflict(a->why, "contract", k->status, "only an active contract is ended");
        return STORE_CONFLICT;
    }
    /* a card charge still in flight would land on a milestone that is gone */
    static const char busy[] = "SELECT 1 FROM payments p JOIN milestones m ON m.id = p.milestone_id"
                               " WHERE m.contract_id = ? AND p.kind = 'charge' AND p.status = 'pending'";
    sqlite3_stmt *bs = sq_prep(c, busy);
    if (!bs) return STORE_IO;
    sqlite3_bind_text(bs, 1, a->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(bs);
    sqlite3_reset(bs);
    if (rc == SQLITE_ROW) {
        sqlite_money_conflict(a->why, "milestone", "pending",
                              "a payment for this contract is in progress; end it once it has settled");
        return STORE_CONFLICT;
    }
    for (int i = 0; i < k->nmilestones; i++) {
        const store_milestone *m = &k->milestones[i];
        if (strcmp(m->status, "submitted") == 0 || strcmp(m->status, "disputed") == 0) {
            sqlite_money_conflict(a->why, "milestone", m->status,
                     "a milestone awaits review or a dispute decision; settle it before ending the contract");
            return STORE_CONFLICT;
        }
    }
    for (int i = 0; i < k->nmilestones; i++) {
        const store_milestone *m = &k->milestones[i];
        if (!milestones_can_move(m->status, "refunded")) continue; /* released, resolved, refunded stay */
        if (m->escrow > 0) { /* funded: the money goes back to the client's card */
            ledger_txn t;
            ledger_refund(&t, k->client_id, k->id, m->id, k->currency, m->escrow);
            snprintf(t.memo, sizeof t.memo, "contract ended");
            if ((rc = sqlite_ledger_post(c, &t, a->now)) < 0) return rc;
            if ((rc = sqlite_refund_queue(c, m->id, m->escrow, k->currency, a->now, NULL)) < 0) return rc;
        }
        static const char upd[] = "UPDATE milestones SET status = 'refunded', settled_at = ? WHERE id = ?";
        sqlite3_stmt *st = sq_prep(c, upd);
        if (!st) return STORE_IO;
        sqlite3_bind_int64(st, 1, a->now);
        sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    }
    static const char upd[] = "UPDATE contracts SET status = 'ended', ended_at = ?, ended_by = ? WHERE id = ?"
                              " AND status = 'active'";
    sqlite3_stmt *st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->now);
    sqlite3_bind_text(st, 2, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    if ((rc = sqlite_audit(c, a->now, a->user_id, "contract.transition", "contract", a->id,
                           "{\"from\":\"active\",\"to\":\"ended\"}")) < 0)
        return rc;
    /* the reviews window: whatever was written shows after 14 days */
    if ((rc = sqlite_job_schedule(c, "reviews.publish", a->id, a->now + 14 * 86400)) < 0) return rc;
    if ((rc = sqlite_contract_read(c, a->id, k)) < 0) return rc;
    if ((rc = sqlite_engineer_busy(c, k)) < 0) return rc;
    const char *other = strcmp(a->user_id, k->client_id) == 0 ? k->engineer_id : k->client_id;
    return sqlite_contract_announce(c, k, "contract.ended", other, "A contract ended",
                    "A contract ended. Unfunded work was dropped and escrow refunded; you can now review each other.",
                    a->now);
}

int sqk_contract_end(store *s, const char *id, const char *user_id, int64_t now, store_contract *out,
                     store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    end_args a = {.now = now, .why = why};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    return sqlite_submit_args(s, run_end, 1, d, cb, ctx, &a, sizeof a, out);
}

/* ---- reading disputes (GET /disputes/{id}, the admins' list) -------------------------------- */

static int run_dispute_get(sq_conn *c, sq_job *j)
{
    static const char sql[] = "SELECT " VIEW_COLS " WHERE d.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    return read_view(st, j->out);
}

int sqk_dispute_get(store *s, const char *id, store_dispute_view *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_dispute_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

typedef struct {
    char status[12];
    int has_status, after_open, limit;
    int64_t after_seq;
} list_args;

static int run_disputes_list(sq_conn *c, sq_job *j)
{
    const list_args *a = j->in;
    store_dispute_list *out = j->out;
    /* open first, then newest first: the key (open DESC, rowid DESC) */
    static const char sql[] = "SELECT " VIEW_COLS
                              " WHERE (?1 IS NULL OR d.status = ?1)"
                              "   AND (?2 = 0 OR (d.status = 'open') < ?3"
                              "        OR ((d.status = 'open') = ?3 AND d.rowid < ?2))"
                              " ORDER BY d.status = 'open' DESC, d.rowid DESC LIMIT ?4";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    if (a->has_status) sqlite3_bind_text(st, 1, a->status, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, a->after_seq);
    sqlite3_bind_int(st, 3, a->after_open);
    sqlite3_bind_int(st, 4, a->limit);
    int rc;
    out->n = 0;
    while (out->n < a->limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (read_view(st, &out->items[out->n++]) < 0) return STORE_BUSY;
    if (out->n == a->limit) return STORE_OK;
    return rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqk_disputes_list(store *s, const char *status, int after_open, int64_t after_seq, int limit,
                      store_dispute_list *out, uint64_t d, store_done_cb cb, void *ctx)
{
    list_args a = {.after_open = after_open ? 1 : 0, .after_seq = after_seq, .limit = limit};
    if (a.limit < 1 || a.limit > STORE_DISPUTES_MAX) a.limit = STORE_DISPUTES_MAX;
    if (status) {
        a.has_status = 1;
        snprintf(a.status, sizeof a.status, "%s", status);
    }
    return sqlite_submit_args(s, run_disputes_list, 0, d, cb, ctx, &a, sizeof a, out);
}
