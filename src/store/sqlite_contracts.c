/* sqlite_contracts: contracts, milestones, payments, idempotency keys and
 * ledger postings on SQLite. Every money move is one transaction that
 * checks the state tables (src/domain/contracts.c), appends the ledger
 * transaction (src/domain/ledger.c builds it; the accounts' CHECK refuses
 * a negative escrow or payable, rolling everything back), moves the
 * milestone, writes the audit row, the events and the mails, and saves
 * the idempotent answer — so a crash leaves all of it or none. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/token.h"
#include "../domain/contracts.h"
#include "../domain/ledger.h"
#include "sqlite_internal.h"

void sqlite_money_conflict(store_money_conflict *why, const char *entity, const char *state, const char *detail)
{
    if (!why) return;
    snprintf(why->entity, sizeof why->entity, "%s", entity);
    snprintf(why->state, sizeof why->state, "%s", state);
    snprintf(why->detail, sizeof why->detail, "%s", detail);
}

/* ---- reading a contract --------------------------------------------------------------- */

int sqlite_contract_read(sq_conn *c, const char *id, store_contract *k)
{
    static const char sql[] =
        "SELECT k.id, k.request_id, k.candidate_id, k.client_id, cu.name, k.engineer_id, eu.name, r.title,"
        " k.type, k.status, k.currency, coalesce(k.hourly_rate, 0), coalesce(k.weekly_cap_hours, 0),"
        " k.fee_bps, k.created_at, coalesce(k.accepted_at, 0), coalesce(k.ended_at, 0),"
        " coalesce((SELECT balance FROM ledger_accounts WHERE id = 'escrow:' || k.id), 0)"
        " FROM contracts k JOIN users cu ON cu.id = k.client_id JOIN users eu ON eu.id = k.engineer_id"
        " JOIN requests r ON r.id = k.request_id WHERE k.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    store_contract_free(k);
    memset(k, 0, sizeof *k);
    sqlite_copy_col(k->id, sizeof k->id, st, 0);
    sqlite_copy_col(k->request_id, sizeof k->request_id, st, 1);
    sqlite_copy_col(k->candidate_id, sizeof k->candidate_id, st, 2);
    sqlite_copy_col(k->client_id, sizeof k->client_id, st, 3);
    sqlite_copy_col(k->client_name, sizeof k->client_name, st, 4);
    sqlite_copy_col(k->engineer_id, sizeof k->engineer_id, st, 5);
    sqlite_copy_col(k->engineer_name, sizeof k->engineer_name, st, 6);
    sqlite_copy_col(k->request_title, sizeof k->request_title, st, 7);
    sqlite_copy_col(k->type, sizeof k->type, st, 8);
    sqlite_copy_col(k->status, sizeof k->status, st, 9);
    sqlite_copy_col(k->currency, sizeof k->currency, st, 10);
    k->hourly_rate = sqlite3_column_int64(st, 11);
    k->weekly_cap_hours = sqlite3_column_int(st, 12);
    k->fee_bps = sqlite3_column_int(st, 13);
    k->created_at = sqlite3_column_int64(st, 14);
    k->accepted_at = sqlite3_column_int64(st, 15);
    k->ended_at = sqlite3_column_int64(st, 16);
    k->escrow = sqlite3_column_int64(st, 17);
    sqlite3_reset(st);
    static const char ms[] =
        "SELECT m.id, m.position, m.title, m.amount, coalesce(m.due, ''), coalesce(m.week_start, ''),"
        " m.status, m.note, m.links, coalesce(m.changes_note, ''), coalesce(m.dispute_id, ''),"
        " coalesce((SELECT sum(amount) FROM ledger_entries e WHERE e.milestone_id = m.id"
        "   AND e.account_id = 'escrow:' || m.contract_id), 0),"
        " m.created_at, coalesce(m.funded_at, 0), coalesce(m.submitted_at, 0), coalesce(m.settled_at, 0)"
        " FROM milestones m WHERE m.contract_id = ? ORDER BY m.position";
    st = sq_prep(c, ms);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && k->nmilestones < STORE_MILESTONES_MAX) {
        store_milestone *m = &k->milestones[k->nmilestones++];
        sqlite_copy_col(m->id, sizeof m->id, st, 0);
        memcpy(m->contract_id, k->id, sizeof m->contract_id);
        m->position = sqlite3_column_int(st, 1);
        sqlite_copy_col(m->title, sizeof m->title, st, 2);
        m->amount = sqlite3_column_int64(st, 3);
        sqlite_copy_col(m->due, sizeof m->due, st, 4);
        sqlite_copy_col(m->week_start, sizeof m->week_start, st, 5);
        sqlite_copy_col(m->status, sizeof m->status, st, 6);
        const unsigned char *note = sqlite3_column_text(st, 7);
        if (note && !(m->note = strdup((const char *)note))) return STORE_BUSY;
        sqlite_copy_col(m->links, sizeof m->links, st, 8);
        sqlite_copy_col(m->changes_note, sizeof m->changes_note, st, 9);
        sqlite_copy_col(m->dispute_id, sizeof m->dispute_id, st, 10);
        m->escrow = sqlite3_column_int64(st, 11);
        m->created_at = sqlite3_column_int64(st, 12);
        m->funded_at = sqlite3_column_int64(st, 13);
        m->submitted_at = sqlite3_column_int64(st, 14);
        m->settled_at = sqlite3_column_int64(st, 15);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

static int run_get(sq_conn *c, sq_job *j)
{
    return sqlite_contract_read(c, j->s1, j->out);
}

int sqk_contract_get(store *s, const char *id, store_contract *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

/* a contract's change, live to both parties, with a mail to one of them */
int sqlite_contract_announce(sq_conn *c, const store_contract *k, const char *kind, const char *mail_to,
                    const char *subject, const char *text, int64_t now)
{
    static const char ev[] =
        "SELECT json_object('contract_id', ?1, 'status', ?2, 'request_id', ?3, 'kind', ?4)";
    int rc;
    char *payload = sqlite_json_row(c, ev, &rc, 4, k->id, k->status, k->request_id, kind);
    if (!payload) return rc;
    rc = sqlite_event(c, k->client_id, kind, payload, now);
    if (rc == STORE_OK) rc = sqlite_event(c, k->engineer_id, kind, payload, now);
    free(payload);
    if (rc < 0 || !mail_to) return rc;
    static const char mail[] = "SELECT json_object('subject', ?1, 'text', ?2, 'contract_id', ?3)";
    char *data = sqlite_json_row(c, mail, &rc, 3, subject, text, k->id);
    if (!data) return rc;
    rc = sqlite_mail(c, mail_to, kind, data, now);
    free(data);
    return rc;
}

/* ---- offering and answering -------------------------------------------------------------- */

static int run_offer(sq_conn *c, sq_job *j)
{
    store_contract *k = j->out;
    store_money_conflict *why = (store_money_conflict *)j->in;
    static const char cand[] = "SELECT k.status, k.engineer_id, r.client_id, r.id FROM candidates k"
                               " JOIN requests r ON r.id = k.request_id WHERE k.id = ?";
    sqlite3_stmt *st = sq_prep(c, cand);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, k->candidate_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char status[16], engineer[32], client[32], request[32];
    sqlite_copy_col(status, sizeof status, st, 0);
    sqlite_copy_col(engineer, sizeof engineer, st, 1);
    sqlite_copy_col(client, sizeof client, st, 2);
    sqlite_copy_col(request, sizeof request, st, 3);
    sqlite3_reset(st);
    if (strcmp(client, k->client_id) != 0) return STORE_NOTFOUND;
    if (strcmp(status, "accepted") != 0) {
        sqlite_money_conflict(why, "candidate", status, "only a candidate who accepted the invitation can be offered a contract");
        return STORE_CONFLICT;
    }
    memcpy(k->engineer_id, engineer, sizeof k->engineer_id);
    memcpy(k->request_id, request, sizeof k->request_id);
    static const char ins[] =
        "INSERT INTO contracts(id, request_id, candidate_id, client_id, engineer_id, type, status, currency,"
        " hourly_rate, weekly_cap_hours, fee_bps, created_at) VALUES (?,?,?,?,?,?,'offered',?,?,?,?,?)";
    st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->request_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->candidate_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, k->engineer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, k->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, k->currency, -1, SQLITE_STATIC);
    if (k->hourly_rate) sqlite3_bind_int64(st, 8, k->hourly_rate);
    if (k->weekly_cap_hours) sqlite3_bind_int(st, 9, k->weekly_cap_hours);
    sqlite3_bind_int(st, 10, k->fee_bps);
    sqlite3_bind_int64(st, 11, k->created_at);
    rc = sq_rc(c, sqlite3_step(st));
    if (rc == STORE_CONFLICT) {
        sqlite_money_conflict(why, "contract", "offered", "this candidate already has an open contract");
        return rc;
    }
    if (rc < 0) return rc;
    for (int i = 0; i < k->nmilestones; i++) {
        const store_milestone *m = &k->milestones[i];
        static const char mi[] = "INSERT INTO milestones(id, contract_id, position, title, amount, due, week_start,"
                                 " status, created_at) VALUES (?,?,?,?,?,?,?,'pending',?)";
        st = sq_prep(c, mi);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, i + 1);
        sqlite3_bind_text(st, 4, m->title, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, m->amount);
        if (m->due[0]) sqlite3_bind_text(st, 6, m->due, -1, SQLITE_STATIC);
        if (m->week_start[0]) sqlite3_bind_text(st, 7, m->week_start, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, k->created_at);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    }
    if ((rc = sqlite_audit(c, k->created_at, k->client_id, "contract.offered", "contract", k->id, NULL)) < 0)
        return rc;
    int64_t now = k->created_at;
    char id[32];
    memcpy(id, k->id, sizeof id);
    if ((rc = sqlite_contract_read(c, id, k)) < 0) return rc;
    return sqlite_contract_announce(c, k, "contract.offered", k->engineer_id, "You have a contract offer",
                    "A client offered you a contract. Review and accept it in Offline Pixel.", now);
}

int sqk_contract_offer(store *s, store_contract *k, store_money_conflict *why, uint64_t d,
                       store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_offer, 1, d, cb, ctx, why, k, NULL, NULL, 0);
}

typedef struct {
    char id[32], user_id[32], to[16];
    int64_t now;
    store_money_conflict *why;
} answer_args;

static int run_answer(sq_conn *c, sq_job *j)
{
    const answer_args *a = j->in;
    store_contract *k = j->out;
    int rc = sqlite_contract_read(c, a->id, k);
    if (rc < 0) return rc;
    if (strcmp(k->engineer_id, a->user_id) != 0) return STORE_NOTFOUND;
    if (!contracts_can_move(k->status, a->to)) {
        sqlite_money_conflict(a->why, "contract", k->status, "this contract is no longer an open offer");
        return STORE_CONFLICT;
    }
    static const char upd[] = "UPDATE contracts SET status = ?1,"
                              " accepted_at = CASE WHEN ?1 = 'active' THEN ?2 ELSE accepted_at END,"
                              " ended_at = CASE WHEN ?1 = 'active' THEN ended_at ELSE ?2 END"
                              " WHERE id = ?3 AND status = 'offered'";
    sqlite3_stmt *st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->now);
    sqlite3_bind_text(st, 3, a->id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"from\":\"offered\",\"to\":\"%s\"}", a->to);
    if ((rc = sqlite_audit(c, a->now, a->user_id, "contract.transition", "contract", a->id, detail)) < 0)
        return rc;
    int active = strcmp(a->to, "active") == 0;
    if (active) {
        /* the engineer is hired and the request filled, in this transaction */
        static const char hire[] = "UPDATE candidates SET status = 'hired' WHERE id = ? AND status = 'accepted'";
        st = sq_prep(c, hire);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, k->candidate_id, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
        if ((rc = sqlite_request_fill(c, k->request_id, a->user_id, a->now)) < 0) return rc;
    }
    if ((rc = sqlite_contract_read(c, a->id, k)) < 0) return rc;
    if ((rc = sqlite_engineer_busy(c, k)) < 0) return rc;
    return sqlite_contract_announce(c, k, active ? "contract.accepted" : "contract.declined", k->client_id,
                    active ? "Your contract was accepted" : "Your contract offer was declined",
                    active ? "The engineer accepted your contract. Fund the first milestone to start."
                           : "The engineer declined your contract offer.",
                    a->now);
}

int sqk_contract_answer(store *s, const char *id, const char *engineer_id, const char *to, int64_t now,
                        store_contract *out, store_money_conflict *why, uint64_t d, store_done_cb cb,
                        void *ctx)
{
    answer_args a = {.now = now, .why = why};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.user_id, sizeof a.user_id, "%s", engineer_id);
    snprintf(a.to, sizeof a.to, "%s", to);
    return sqlite_submit_args(s, run_answer, 1, d, cb, ctx, &a, sizeof a, out);
}

int sqlite_engineer_busy(sq_conn *c, store_contract *k)
{
    static const char sql[] = "SELECT EXISTS (SELECT 1 FROM contracts WHERE engineer_id = ? AND status = 'active')";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, k->engineer_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    k->engineer_busy = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return STORE_OK;
}

/* ---- funding ------------------------------------------------------------------------------------ */

const store_milestone *sqlite_milestone_find(const store_contract *k, const char *id)
{
    for (int i = 0; i < k->nmilestones; i++)
        if (strcmp(k->milestones[i].id, id) == 0) return &k->milestones[i];
    return NULL;
}

/* the contract holding milestone_id, into k */
int sqlite_contract_of(sq_conn *c, const char *milestone_id, store_contract *k)
{
    static const char sql[] = "SELECT contract_id FROM milestones WHERE id = ?";
    int rc;
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, milestone_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char id[32];
    sqlite_copy_col(id, sizeof id, st, 0);
    sqlite3_reset(st);
    return sqlite_contract_read(c, id, k);
}

#define PAYMENT_COLS                                                                                       \
    "SELECT id, milestone_id, kind, gateway, gateway_key, coalesce(gateway_ref, ''), amount, currency, status,"  \
    " coalesce(error, '') FROM payments"

static int read_payment_by(sq_conn *c, const char *sql, const char *key, store_payment *p);

static int read_payment(sq_conn *c, const char *gateway_key, store_payment *p)
{
    static const char sql[] = PAYMENT_COLS " WHERE gateway_key = ?";
    return read_payment_by(c, sql, gateway_key, p);
}

static int run_payment_get(sq_conn *c, sq_job *j)
{
    static const char sql[] = PAYMENT_COLS " WHERE id = ?";
    return read_payment_by(c, sql, j->s1, j->out);
}

int sqk_payment_get(store *s, const char *id, store_payment *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_payment_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int read_payment_by(sq_conn *c, const char *sql, const char *key, store_payment *p)
{
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    sqlite_copy_col(p->id, sizeof p->id, st, 0);
    sqlite_copy_col(p->milestone_id, sizeof p->milestone_id, st, 1);
    sqlite_copy_col(p->kind, sizeof p->kind, st, 2);
    sqlite_copy_col(p->gateway, sizeof p->gateway, st, 3);
    sqlite_copy_col(p->gateway_key, sizeof p->gateway_key, st, 4);
    sqlite_copy_col(p->gateway_ref, sizeof p->gateway_ref, st, 5);
    p->amount = sqlite3_column_int64(st, 6);
    sqlite_copy_col(p->currency, sizeof p->currency, st, 7);
    sqlite_copy_col(p->status, sizeof p->status, st, 8);
    sqlite_copy_col(p->error, sizeof p->error, st, 9);
    sqlite3_reset(st);
    return STORE_OK;
}

typedef struct {
    char milestone_id[32], client_id[32];
    int64_t now;
    store_payment *p;
    store_money_conflict *why;
} fund_args;

static int run_fund_begin(sq_conn *c, sq_job *j)
{
    const fund_args *a = j->in;
    store_contract *k = j->out;
    store_payment *p = a->p;
    int rc = sqlite_contract_of(c, a->milestone_id, k);
    if (rc < 0) return rc;
    if (strcmp(k->client_id, a->client_id) != 0) return STORE_NOTFOUND;
    const store_milestone *m = sqlite_milestone_find(k, a->milestone_id);
    if (!m) return STORE_NOTFOUND;
    /* a retry of the same key finds its charge, whatever became of it */
    char key[128];
    memcpy(key, p->gateway_key, sizeof key);
    if (read_payment(c, key, p) == STORE_OK) return STORE_OK;
    if (strcmp(k->status, "active") != 0) {
        sqlite_money_conflict(a->why, "contract", k->status, "only an active contract's milestones are funded");
        return STORE_CONFLICT;
    }
    if (strcmp(m->status, "pending") != 0) {
        sqlite_money_conflict(a->why, "milestone", m->status, "this milestone is funded already");
        return STORE_CONFLICT;
    }
    static const char busy[] = "SELECT 1 FROM payments WHERE milestone_id = ? AND kind = 'charge'"
                               " AND status = 'pending'";
    sqlite3_stmt *st = sq_prep(c, busy);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) { /* another key's charge is in flight: never two */
        sqlite_money_conflict(a->why, "milestone", "pending", "another payment for this milestone is in progress");
        return STORE_CONFLICT;
    }
    id_new("pay", p->id);
    snprintf(p->milestone_id, sizeof p->milestone_id, "%s", m->id);
    snprintf(p->kind, sizeof p->kind, "charge");
    p->amount = m->amount;
    memcpy(p->currency, k->currency, sizeof p->currency);
    snprintf(p->status, sizeof p->status, "pending");
    static const char ins[] = "INSERT INTO payments(id, milestone_id, kind, gateway, gateway_key, amount, currency,"
                              " status, created_at, updated_at) VALUES (?,?,'charge',?,?,?,?,'pending',?,?)";
    st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->milestone_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->gateway, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p->gateway_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, p->amount);
    sqlite3_bind_text(st, 6, p->currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, a->now);
    sqlite3_bind_int64(st, 8, a->now);
    return sq_rc(c, sqlite3_step(st));
}

int sqk_fund_begin(store *s, const char *milestone_id, const char *client_id, store_payment *p, int64_t now,
                   store_contract *out, store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    fund_args a = {.now = now, .p = p, .why = why};
    snprintf(a.milestone_id, sizeof a.milestone_id, "%s", milestone_id);
    snprintf(a.client_id, sizeof a.client_id, "%s", client_id);
    return sqlite_submit_args(s, run_fund_begin, 1, d, cb, ctx, &a, sizeof a, out);
}

typedef struct {
    store_payment p;
    int64_t now;
    store_idem_done *idem;
} finish_args;

static int run_fund_finish(sq_conn *c, sq_job *j)
{
    const finish_args *a = j->in;
    const store_payment *p = &a->p;
    static const char upd[] = "UPDATE payments SET status = ?, gateway_ref = ?, error = ?, updated_at = ?"
                              " WHERE id = ? AND status = 'pending'";
    sqlite3_stmt *st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, p->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->gateway_ref, -1, SQLITE_STATIC);
    if (p->error[0]) sqlite3_bind_text(st, 3, p->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->now);
    sqlite3_bind_text(st, 5, p->id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    int moved = sqlite3_changes(c->db) == 1;
    store_contract *k = calloc(1, sizeof *k);
    if (!k) return STORE_BUSY;
    if (moved && strcmp(p->status, "succeeded") == 0) {
        rc = sqlite_contract_of(c, p->milestone_id, k);
        const store_milestone *m = rc == STORE_OK ? sqlite_milestone_find(k, p->milestone_id) : NULL;
        if (rc == STORE_OK && (!m || !milestones_can_move(m->status, "funded"))) rc = STORE_CONFLICT;
        ledger_txn t;
        if (rc == STORE_OK) {
            ledger_fund(&t, k->client_id, k->id, m->id, k->currency, m->amount);
            snprintf(t.memo, sizeof t.memo, "charge %s", p->gateway_ref);
            rc = sqlite_ledger_post(c, &t, a->now);
        }
        if (rc == STORE_OK) {
            static const char mv[] = "UPDATE milestones SET status = 'funded', funded_at = ? WHERE id = ?"
                                     " AND status = 'pending'";
            st = sq_prep(c, mv);
            rc = st ? STORE_OK : STORE_IO;
            if (st) {
                sqlite3_bind_int64(st, 1, a->now);
                sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
                rc = sq_rc(c, sqlite3_step(st));
            }
        }
        if (rc == STORE_OK)
            rc = sqlite_audit(c, a->now, k->client_id, "milestone.transition", "milestone", m->id,
                              "{\"from\":\"pending\",\"to\":\"funded\"}");
        if (rc == STORE_OK && (rc = sqlite_contract_read(c, k->id, k)) == STORE_OK)
            rc = sqlite_contract_announce(c, k, "milestone.funded", k->engineer_id, "A milestone was funded",
                          "Your client funded a milestone: its money is in escrow. You can start.", a->now);
    } else {
        rc = sqlite_contract_of(c, p->milestone_id, k);
    }
    if (rc == STORE_OK) rc = sqlite_idem_save(c, a->idem, k, a->now);
    store_contract_free(k);
    free(k);
    return rc;
}

int sqk_fund_finish(store *s, const store_payment *p, int64_t now, store_idem_done *idem, uint64_t d,
                    store_done_cb cb, void *ctx)
{
    /* idem (and its strings) must outlive the job: the caller keeps them */
    finish_args a = {.p = *p, .now = now, .idem = idem};
    return sqlite_submit_args(s, run_fund_finish, 1, d, cb, ctx, &a, sizeof a, NULL);
}

/* ---- submit, approve, request changes ------------------------------------------------------------- */

typedef struct {
    char milestone_id[32], user_id[32], to[16];
    const char *note, *links;
    int64_t now;
    store_idem_done *idem;
    store_money_conflict *why;
} move_args;

static int run_move(sq_conn *c, sq_job *j)
{
    const move_args *a = j->in;
    store_contract *k = j->out;
    int rc = sqlite_contract_of(c, a->milestone_id, k);
    if (rc < 0) return rc;
    int system = strcmp(a->user_id, "system") == 0;
    int submit = strcmp(a->to, "submitted") == 0;
    const char *party = submit ? k->engineer_id : k->client_id;
    if (!system && strcmp(party, a->user_id) != 0) {
        /* the other party sees the milestone but may not make this move */
        if (strcmp(k->client_id, a->user_id) == 0 || strcmp(k->engineer_id, a->user_id) == 0) {
            sqlite_money_conflict(a->why, "role", "", submit ? "only the engineer submits a milestone"
                                                : "only the client approves or asks for changes");
            return STORE_CONFLICT;
        }
        return STORE_NOTFOUND;
    }
    const store_milestone *m = sqlite_milestone_find(k, a->milestone_id);
    if (!m) return STORE_NOTFOUND;
    if (strcmp(k->type, "hourly") == 0) { /* a week's money follows its timesheet */
        sqlite_money_conflict(a->why, "milestone", m->status,
                              "an hourly week is submitted and approved as a timesheet");
        return STORE_CONFLICT;
    }
    char from[12], mid[32];
    memcpy(from, m->status, sizeof from);
    memcpy(mid, m->id, sizeof mid);
    int approve = strcmp(a->to, "released") == 0;
    int changes = strcmp(a->to, "funded") == 0;
    int ok = milestones_can_move(from, a->to) && strcmp(k->status, "active") == 0;
    if (ok && (approve || changes) && strcmp(from, "submitted") != 0) ok = 0; /* not straight from funded */
    if (!ok) {
        sqlite_money_conflict(a->why, strcmp(k->status, "active") != 0 ? "contract" : "milestone",
                 strcmp(k->status, "active") != 0 ? k->status : from,
                 submit ? "only a funded milestone is submitted"
                        : "only a submitted milestone is approved or sent back");
        return STORE_CONFLICT;
    }
    if (approve) {
        ledger_txn t;
        ledger_release(&t, k->engineer_id, k->id, mid, k->currency, m->escrow, k->fee_bps);
        snprintf(t.memo, sizeof t.memo, "%s", system ? "auto-release after 14 days" : "approved by the client");
        if ((rc = sqlite_ledger_post(c, &t, a->now)) < 0) return rc;
    }
    static const char upd[] =
        "UPDATE milestones SET status = ?1,"
        " note = CASE WHEN ?1 = 'submitted' THEN ?2 ELSE note END,"
        " links = CASE WHEN ?1 = 'submitted' THEN coalesce(?3, '[]') ELSE links END,"
        " submitted_at = CASE WHEN ?1 = 'submitted' THEN ?4 ELSE submitted_at END,"
        " changes_note = CASE WHEN ?1 = 'funded' THEN ?2 ELSE changes_note END,"
        " settled_at = CASE WHEN ?1 = 'released' THEN ?4 ELSE settled_at END"
        " WHERE id = ?5 AND status = ?6";
    sqlite3_stmt *st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->to, -1, SQLITE_STATIC);
    if (a->note) sqlite3_bind_text(st, 2, a->note, -1, SQLITE_STATIC);
    if (a->links) sqlite3_bind_text(st, 3, a->links, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->now);
    sqlite3_bind_text(st, 5, mid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, from, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", from, a->to);
    if ((rc = sqlite_audit(c, a->now, a->user_id, "milestone.transition", "milestone", mid, detail)) < 0) return rc;
    /* the 14-day silence rule rides on a durable job */
    if (submit) rc = sqlite_job_schedule(c, "milestone.autorelease", mid, a->now + MILESTONE_AUTO_RELEASE_S);
    else {
        rc = sqlite_job_cancel(c, "milestone.autorelease", mid, a->now);
    }
    if (rc < 0) return rc;
    char cid[32];
    memcpy(cid, k->id, sizeof cid);
    if ((rc = sqlite_contract_read(c, cid, k)) < 0) return rc;
    if (submit)
        rc = sqlite_contract_announce(c, k, "milestone.submitted", k->client_id, "A milestone was submitted for review",
                      "Your engineer submitted a milestone. Approve it, ask for changes or open a dispute "
                      "within 14 days; after that it is released automatically.", a->now);
    else if (approve)
        rc = sqlite_contract_announce(c, k, "milestone.released", k->engineer_id, "A milestone was released to you",
                      "A milestone's money moved from escrow to your balance, less the platform fee.", a->now);
    else
        rc = sqlite_contract_announce(c, k, "milestone.changes_requested", k->engineer_id, "Changes were requested",
                      "Your client asked for changes to a milestone; it is back in progress.", a->now);
    if (rc < 0) return rc;
    return sqlite_idem_save(c, a->idem, k, a->now);
}

int sqk_milestone_move(store *s, const char *milestone_id, const char *user_id, const char *to, const char *note,
                       const char *links, int64_t now, store_idem_done *idem, store_contract *out,
                       store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    move_args a = {.note = note, .links = links, .now = now, .why = why, .idem = idem};
    snprintf(a.milestone_id, sizeof a.milestone_id, "%s", milestone_id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    snprintf(a.to, sizeof a.to, "%s", to);
    return sqlite_submit_args(s, run_move, 1, d, cb, ctx, &a, sizeof a, out);
}
