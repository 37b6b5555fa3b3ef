/* tx_contracts: contracts, milestones, payments, idempotency keys and
 * ledger postings Every money move is one transaction that
 * checks the state tables (src/rules/contracts.c), appends the ledger
 * transaction (src/rules/ledger.c builds it; the accounts' CHECK refuses
 * a negative escrow or payable, rolling everything back), moves the
 * milestone, writes the audit row, the events and the mails, and saves
 * the idempotent answer — so a crash leaves all of it or none. */
#include "../core/clock.h"
#include "../core/token.h"
#include "../rules/contracts.h"
#include "../rules/ledger.h"
#include "../rules/notices.h"
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tx_money_conflict(store_money_conflict *why, const char *entity, const char *state,
                       const char *detail)
{
    if (!why) return;
    snprintf(why->entity, sizeof why->entity, "%s", entity);
    snprintf(why->state, sizeof why->state, "%s", state);
    snprintf(why->detail, sizeof why->detail, "%s", detail);
}

/* ---- reading a contract --------------------------------------------------------------- */

int tx_contract_read(db_conn *c, const char *id, store_contract *k)
{
    db_stmt *st = db_prep(c, ST_CONTRACT_READ);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    store_contract_free(k);
    memset(k, 0, sizeof *k);
    db_copy_col(k->id, sizeof k->id, st, 0);
    db_copy_col(k->request_id, sizeof k->request_id, st, 1);
    db_copy_col(k->candidate_id, sizeof k->candidate_id, st, 2);
    db_copy_col(k->client_id, sizeof k->client_id, st, 3);
    db_copy_col(k->client_name, sizeof k->client_name, st, 4);
    db_copy_col(k->engineer_id, sizeof k->engineer_id, st, 5);
    db_copy_col(k->engineer_name, sizeof k->engineer_name, st, 6);
    db_copy_col(k->request_title, sizeof k->request_title, st, 7);
    db_copy_col(k->type, sizeof k->type, st, 8);
    db_copy_col(k->status, sizeof k->status, st, 9);
    db_copy_col(k->currency, sizeof k->currency, st, 10);
    k->hourly_rate = db_col_int(st, 11);
    k->weekly_cap_hours = db_col_int(st, 12);
    k->fee_bps = db_col_int(st, 13);
    k->created_at = db_col_int(st, 14);
    k->accepted_at = db_col_int(st, 15);
    k->ended_at = db_col_int(st, 16);
    k->escrow = db_col_int(st, 17);
    db_reset(st);
    st = db_prep(c, ST_CONTRACT_READ_MS);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    while ((rc = db_step(st)) == DB_ROW && k->nmilestones < STORE_MILESTONES_MAX) {
        store_milestone *m = &k->milestones[k->nmilestones++];
        db_copy_col(m->id, sizeof m->id, st, 0);
        memcpy(m->contract_id, k->id, sizeof m->contract_id);
        m->position = db_col_int(st, 1);
        db_copy_col(m->title, sizeof m->title, st, 2);
        m->amount = db_col_int(st, 3);
        db_copy_col(m->due, sizeof m->due, st, 4);
        db_copy_col(m->week_start, sizeof m->week_start, st, 5);
        db_copy_col(m->status, sizeof m->status, st, 6);
        const char *note = db_col_text(st, 7);
        if (note && !(m->note = strdup(note))) return STORE_BUSY;
        db_copy_col(m->links, sizeof m->links, st, 8);
        db_copy_col(m->changes_note, sizeof m->changes_note, st, 9);
        db_copy_col(m->dispute_id, sizeof m->dispute_id, st, 10);
        m->escrow = db_col_int(st, 11);
        m->created_at = db_col_int(st, 12);
        m->funded_at = db_col_int(st, 13);
        m->submitted_at = db_col_int(st, 14);
        m->settled_at = db_col_int(st, 15);
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

static int run_get(db_conn *c, db_job *j)
{
    return tx_contract_read(c, j->s1, j->out);
}

int tx_contract_get(store *s, const char *id, store_contract *out, uint64_t d, store_done_cb cb,
                    void *ctx)
{
    return store_submit(s, run_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

/* a contract's change, live to both parties, with a mail to one of them */
int tx_contract_announce(db_conn *c, const store_contract *k, const char *kind, const char *mail_to,
                         int64_t now)
{
    int rc;
    char *payload =
        tx_json_row(c, ST_CONTRACT_ANNOUNCE_EV, &rc, 4, k->id, k->status, k->request_id, kind);
    if (!payload) return rc;
    rc = tx_event(c, k->client_id, kind, payload, now);
    if (rc == STORE_OK) rc = tx_event(c, k->engineer_id, kind, payload, now);
    free(payload);
    const notice_words *w = notice_words_for(kind);
    if (rc < 0 || !mail_to || !w) return rc;
    char *data = tx_json_row(c, ST_CONTRACT_ANNOUNCE_MAIL, &rc, 3, w->subject, w->text, k->id);
    if (!data) return rc;
    rc = tx_mail(c, mail_to, kind, data, now);
    free(data);
    return rc;
}

/* ---- offering and answering -------------------------------------------------------------- */

static int run_offer(db_conn *c, db_job *j)
{
    store_contract *k = j->out;
    store_money_conflict *why = (store_money_conflict *)j->in;
    db_stmt *st = db_prep(c, ST_OFFER_CAND);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, k->candidate_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    char status[16], engineer[32], client[32], request[32];
    db_copy_col(status, sizeof status, st, 0);
    db_copy_col(engineer, sizeof engineer, st, 1);
    db_copy_col(client, sizeof client, st, 2);
    db_copy_col(request, sizeof request, st, 3);
    db_reset(st);
    if (strcmp(client, k->client_id) != 0) return STORE_NOTFOUND;
    if (strcmp(status, "accepted") != 0) {
        tx_money_conflict(why, "candidate", status,
                          "only a candidate who accepted the invitation can be offered a contract");
        return STORE_CONFLICT;
    }
    memcpy(k->engineer_id, engineer, sizeof k->engineer_id);
    memcpy(k->request_id, request, sizeof k->request_id);
    st = db_prep(c, ST_OFFER_INS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, k->id);
    db_bind_text(st, 2, k->request_id);
    db_bind_text(st, 3, k->candidate_id);
    db_bind_text(st, 4, k->client_id);
    db_bind_text(st, 5, k->engineer_id);
    db_bind_text(st, 6, k->type);
    db_bind_text(st, 7, k->currency);
    if (k->hourly_rate) db_bind_int(st, 8, k->hourly_rate);
    if (k->weekly_cap_hours) db_bind_int(st, 9, k->weekly_cap_hours);
    db_bind_int(st, 10, k->fee_bps);
    db_bind_int(st, 11, k->created_at);
    rc = db_rc(db_step(st));
    if (rc == STORE_CONFLICT) {
        tx_money_conflict(why, "contract", "offered",
                          "this candidate already has an open contract");
        return rc;
    }
    if (rc < 0) return rc;
    for (int i = 0; i < k->nmilestones; i++) {
        const store_milestone *m = &k->milestones[i];
        st = db_prep(c, ST_OFFER_MI);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, m->id);
        db_bind_text(st, 2, k->id);
        db_bind_int(st, 3, i + 1);
        db_bind_text(st, 4, m->title);
        db_bind_int(st, 5, m->amount);
        if (m->due[0]) db_bind_text(st, 6, m->due);
        if (m->week_start[0]) db_bind_text(st, 7, m->week_start);
        db_bind_int(st, 8, k->created_at);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
    }
    if ((rc = tx_audit(c, k->created_at, k->client_id, "contract.offered", "contract", k->id,
                       NULL)) < 0)
        return rc;
    int64_t now = k->created_at;
    char id[32];
    memcpy(id, k->id, sizeof id);
    if ((rc = tx_contract_read(c, id, k)) < 0) return rc;
    return tx_contract_announce(c, k, "contract.offered", k->engineer_id, now);
}

int tx_contract_offer(store *s, store_contract *k, store_money_conflict *why, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    return store_submit(s, run_offer, 1, d, cb, ctx, why, k, NULL, NULL, 0);
}

typedef struct {
    char id[32], user_id[32], to[16];
    int64_t now;
    store_money_conflict *why;
} answer_args;

static int run_answer(db_conn *c, db_job *j)
{
    const answer_args *a = j->in;
    store_contract *k = j->out;
    int rc = tx_contract_read(c, a->id, k);
    if (rc < 0) return rc;
    if (strcmp(k->engineer_id, a->user_id) != 0) return STORE_NOTFOUND;
    if (!contracts_can_move(k->status, a->to)) {
        tx_money_conflict(a->why, "contract", k->status,
                          "this contract is no longer an open offer");
        return STORE_CONFLICT;
    }
    db_stmt *st = db_prep(c, ST_ANSWER_UPD);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->to);
    db_bind_int(st, 2, a->now);
    db_bind_text(st, 3, a->id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"from\":\"offered\",\"to\":\"%s\"}", a->to);
    if ((rc = tx_audit(c, a->now, a->user_id, "contract.transition", "contract", a->id, detail)) <
        0)
        return rc;
    int active = strcmp(a->to, "active") == 0;
    if (active) {
        /* the engineer is hired and the request filled, in this transaction */
        st = db_prep(c, ST_ANSWER_HIRE);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, k->candidate_id);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
        if ((rc = tx_request_fill(c, k->request_id, a->user_id, a->now)) < 0) return rc;
    }
    if ((rc = tx_contract_read(c, a->id, k)) < 0) return rc;
    if ((rc = tx_engineer_busy(c, k)) < 0) return rc;
    return tx_contract_announce(c, k, active ? "contract.accepted" : "contract.declined",
                                k->client_id, a->now);
}

int tx_contract_answer(store *s, const char *id, const char *engineer_id, const char *to,
                       int64_t now, store_contract *out, store_money_conflict *why, uint64_t d,
                       store_done_cb cb, void *ctx)
{
    answer_args a = {.now = now, .why = why};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.user_id, sizeof a.user_id, "%s", engineer_id);
    snprintf(a.to, sizeof a.to, "%s", to);
    return store_submit_args(s, run_answer, 1, d, cb, ctx, &a, sizeof a, out);
}

int tx_engineer_busy(db_conn *c, store_contract *k)
{
    db_stmt *st = db_prep(c, ST_ENGINEER_BUSY);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, k->engineer_id);
    int rc = db_step(st);
    if (rc != DB_ROW) return db_rc(rc);
    k->engineer_busy = db_col_int(st, 0);
    db_reset(st);
    char arg[48];
    snprintf(arg, sizeof arg, "%d:%s", k->engineer_busy ? 1 : 0, k->engineer_id);
    db_notice(c, "busy", arg); /* other nodes' matching index */
    return STORE_OK;
}

/* ---- funding ------------------------------------------------------------------------------------
 */

const store_milestone *tx_milestone_find(const store_contract *k, const char *id)
{
    for (int i = 0; i < k->nmilestones; i++)
        if (strcmp(k->milestones[i].id, id) == 0) return &k->milestones[i];
    return NULL;
}

/* the contract holding milestone_id, into k */
int tx_contract_of(db_conn *c, const char *milestone_id, store_contract *k)
{
    int rc;
    db_stmt *st = db_prep(c, ST_CONTRACT_OF);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, milestone_id);
    rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    char id[32];
    db_copy_col(id, sizeof id, st, 0);
    db_reset(st);
    return tx_contract_read(c, id, k);
}

static int read_payment_by(db_conn *c, int sql, const char *key, store_payment *p);

static int read_payment(db_conn *c, const char *gateway_key, store_payment *p)
{
    return read_payment_by(c, ST_READ_PAYMENT, gateway_key, p);
}

static int run_payment_get(db_conn *c, db_job *j)
{
    return read_payment_by(c, ST_PAYMENT_GET, j->s1, j->out);
}

int tx_payment_get(store *s, const char *id, store_payment *out, uint64_t d, store_done_cb cb,
                   void *ctx)
{
    return store_submit(s, run_payment_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int read_payment_by(db_conn *c, int sql, const char *key, store_payment *p)
{
    db_stmt *st = db_prep(c, sql);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, key);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    db_copy_col(p->id, sizeof p->id, st, 0);
    db_copy_col(p->milestone_id, sizeof p->milestone_id, st, 1);
    db_copy_col(p->kind, sizeof p->kind, st, 2);
    db_copy_col(p->gateway, sizeof p->gateway, st, 3);
    db_copy_col(p->gateway_key, sizeof p->gateway_key, st, 4);
    db_copy_col(p->gateway_ref, sizeof p->gateway_ref, st, 5);
    p->amount = db_col_int(st, 6);
    db_copy_col(p->currency, sizeof p->currency, st, 7);
    db_copy_col(p->status, sizeof p->status, st, 8);
    db_copy_col(p->error, sizeof p->error, st, 9);
    db_reset(st);
    return STORE_OK;
}

typedef struct {
    char milestone_id[32], client_id[32];
    int64_t now;
    store_payment *p;
    store_money_conflict *why;
} fund_args;

static int run_fund_begin(db_conn *c, db_job *j)
{
    const fund_args *a = j->in;
    store_contract *k = j->out;
    store_payment *p = a->p;
    int rc = tx_contract_of(c, a->milestone_id, k);
    if (rc < 0) return rc;
    if (strcmp(k->client_id, a->client_id) != 0) return STORE_NOTFOUND;
    const store_milestone *m = tx_milestone_find(k, a->milestone_id);
    if (!m) return STORE_NOTFOUND;
    /* a retry of the same key finds its charge, whatever became of it */
    char key[128];
    memcpy(key, p->gateway_key, sizeof key);
    if (read_payment(c, key, p) == STORE_OK) return STORE_OK;
    if (strcmp(k->status, "active") != 0) {
        tx_money_conflict(a->why, "contract", k->status,
                          "only an active contract's milestones are funded");
        return STORE_CONFLICT;
    }
    if (strcmp(m->status, "pending") != 0) {
        tx_money_conflict(a->why, "milestone", m->status, "this milestone is funded already");
        return STORE_CONFLICT;
    }
    db_stmt *st = db_prep(c, ST_FUND_BEGIN_BUSY);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, m->id);
    rc = db_step(st);
    db_reset(st);
    if (rc == DB_ROW) { /* another key's charge is in flight: never two */
        tx_money_conflict(a->why, "milestone", "pending",
                          "another payment for this milestone is in progress");
        return STORE_CONFLICT;
    }
    id_new("pay", p->id);
    snprintf(p->milestone_id, sizeof p->milestone_id, "%s", m->id);
    snprintf(p->kind, sizeof p->kind, "charge");
    p->amount = m->amount;
    memcpy(p->currency, k->currency, sizeof p->currency);
    snprintf(p->status, sizeof p->status, "pending");
    st = db_prep(c, ST_FUND_BEGIN_INS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, p->id);
    db_bind_text(st, 2, p->milestone_id);
    db_bind_text(st, 3, p->gateway);
    db_bind_text(st, 4, p->gateway_key);
    db_bind_int(st, 5, p->amount);
    db_bind_text(st, 6, p->currency);
    db_bind_int(st, 7, a->now);
    db_bind_int(st, 8, a->now);
    return db_rc(db_step(st));
}

int tx_fund_begin(store *s, const char *milestone_id, const char *client_id, store_payment *p,
                  int64_t now, store_contract *out, store_money_conflict *why, uint64_t d,
                  store_done_cb cb, void *ctx)
{
    fund_args a = {.now = now, .p = p, .why = why};
    snprintf(a.milestone_id, sizeof a.milestone_id, "%s", milestone_id);
    snprintf(a.client_id, sizeof a.client_id, "%s", client_id);
    return store_submit_args(s, run_fund_begin, 1, d, cb, ctx, &a, sizeof a, out);
}

typedef struct {
    store_payment p;
    int64_t now;
    store_idem_done *idem;
} finish_args;

static int run_fund_finish(db_conn *c, db_job *j)
{
    const finish_args *a = j->in;
    const store_payment *p = &a->p;
    db_stmt *st = db_prep(c, ST_FUND_FINISH_UPD);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, p->status);
    db_bind_text(st, 2, p->gateway_ref);
    if (p->error[0]) db_bind_text(st, 3, p->error);
    db_bind_int(st, 4, a->now);
    db_bind_text(st, 5, p->id);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    int moved = db_changes(c) == 1;
    store_contract *k = calloc(1, sizeof *k);
    if (!k) return STORE_BUSY;
    if (moved && strcmp(p->status, "succeeded") == 0) {
        rc = tx_contract_of(c, p->milestone_id, k);
        const store_milestone *m = rc == STORE_OK ? tx_milestone_find(k, p->milestone_id) : NULL;
        if (rc == STORE_OK && (!m || !milestones_can_move(m->status, "funded")))
            rc = STORE_CONFLICT;
        ledger_txn t;
        if (rc == STORE_OK) {
            ledger_fund(&t, k->client_id, k->id, m->id, k->currency, m->amount);
            snprintf(t.memo, sizeof t.memo, "charge %s", p->gateway_ref);
            rc = tx_ledger_post(c, &t, a->now);
        }
        if (rc == STORE_OK) {
            st = db_prep(c, ST_FUND_FINISH_MV);
            rc = st ? STORE_OK : STORE_IO;
            if (st) {
                db_bind_int(st, 1, a->now);
                db_bind_text(st, 2, m->id);
                rc = db_rc(db_step(st));
            }
        }
        if (rc == STORE_OK)
            rc = tx_audit(c, a->now, k->client_id, "milestone.transition", "milestone", m->id,
                          "{\"from\":\"pending\",\"to\":\"funded\"}");
        if (rc == STORE_OK && (rc = tx_contract_read(c, k->id, k)) == STORE_OK)
            rc = tx_contract_announce(c, k, "milestone.funded", k->engineer_id, a->now);
    } else {
        rc = tx_contract_of(c, p->milestone_id, k);
    }
    if (rc == STORE_OK) rc = tx_idem_save(c, a->idem, k, a->now);
    store_contract_free(k);
    free(k);
    return rc;
}

int tx_fund_finish(store *s, const store_payment *p, int64_t now, store_idem_done *idem, uint64_t d,
                   store_done_cb cb, void *ctx)
{
    /* idem (and its strings) must outlive the job: the caller keeps them */
    finish_args a = {.p = *p, .now = now, .idem = idem};
    return store_submit_args(s, run_fund_finish, 1, d, cb, ctx, &a, sizeof a, NULL);
}

/* ---- submit, approve, request changes
 * ------------------------------------------------------------- */

typedef struct {
    char milestone_id[32], user_id[32], to[16];
    const char *note, *links;
    int64_t now;
    store_idem_done *idem;
    store_money_conflict *why;
} move_args;

static int run_move(db_conn *c, db_job *j)
{
    const move_args *a = j->in;
    store_contract *k = j->out;
    int rc = tx_contract_of(c, a->milestone_id, k);
    if (rc < 0) return rc;
    int system = strcmp(a->user_id, "system") == 0;
    int submit = strcmp(a->to, "submitted") == 0;
    const char *party = submit ? k->engineer_id : k->client_id;
    if (!system && strcmp(party, a->user_id) != 0) {
        /* the other party sees the milestone but may not make this move */
        if (strcmp(k->client_id, a->user_id) == 0 || strcmp(k->engineer_id, a->user_id) == 0) {
            tx_money_conflict(a->why, "role", "",
                              submit ? "only the engineer submits a milestone"
                                     : "only the client approves or asks for changes");
            return STORE_CONFLICT;
        }
        return STORE_NOTFOUND;
    }
    const store_milestone *m = tx_milestone_find(k, a->milestone_id);
    if (!m) return STORE_NOTFOUND;
    if (strcmp(k->type, "hourly") == 0) { /* a week's money follows its timesheet */
        tx_money_conflict(a->why, "milestone", m->status,
                          "an hourly week is submitted and approved as a timesheet");
        return STORE_CONFLICT;
    }
    char from[12], mid[32];
    memcpy(from, m->status, sizeof from);
    memcpy(mid, m->id, sizeof mid);
    int approve = strcmp(a->to, "released") == 0;
    int changes = strcmp(a->to, "funded") == 0;
    int ok = milestones_can_move(from, a->to) && strcmp(k->status, "active") == 0;
    if (ok && (approve || changes) && strcmp(from, "submitted") != 0)
        ok = 0; /* not straight from funded */
    if (!ok) {
        tx_money_conflict(a->why, strcmp(k->status, "active") != 0 ? "contract" : "milestone",
                          strcmp(k->status, "active") != 0 ? k->status : from,
                          submit ? "only a funded milestone is submitted"
                                 : "only a submitted milestone is approved or sent back");
        return STORE_CONFLICT;
    }
    if (approve) {
        ledger_txn t;
        ledger_release(&t, k->engineer_id, k->id, mid, k->currency, m->escrow, k->fee_bps);
        snprintf(t.memo, sizeof t.memo, "%s",
                 system ? "auto-release after 14 days" : "approved by the client");
        if ((rc = tx_ledger_post(c, &t, a->now)) < 0) return rc;
    }
    db_stmt *st = db_prep(c, ST_MILESTONE_MOVE_UPD);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->to);
    if (a->note) db_bind_text(st, 2, a->note);
    if (a->links) db_bind_text(st, 3, a->links);
    db_bind_int(st, 4, a->now);
    db_bind_text(st, 5, mid);
    db_bind_text(st, 6, from);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", from, a->to);
    if ((rc = tx_audit(c, a->now, a->user_id, "milestone.transition", "milestone", mid, detail)) <
        0)
        return rc;
    /* the 14-day silence rule rides on a durable job */
    if (submit)
        rc = tx_job_schedule(c, "milestone.autorelease", mid, a->now + MILESTONE_AUTO_RELEASE_S);
    else {
        rc = tx_job_cancel(c, "milestone.autorelease", mid, a->now);
    }
    if (rc < 0) return rc;
    char cid[32];
    memcpy(cid, k->id, sizeof cid);
    if ((rc = tx_contract_read(c, cid, k)) < 0) return rc;
    if (submit)
        rc = tx_contract_announce(c, k, "milestone.submitted", k->client_id, a->now);
    else if (approve)
        rc = tx_contract_announce(c, k, "milestone.released", k->engineer_id, a->now);
    else
        rc = tx_contract_announce(c, k, "milestone.changes_requested", k->engineer_id, a->now);
    if (rc < 0) return rc;
    return tx_idem_save(c, a->idem, k, a->now);
}

int tx_milestone_move(store *s, const char *milestone_id, const char *user_id, const char *to,
                      const char *note, const char *links, int64_t now, store_idem_done *idem,
                      store_contract *out, store_money_conflict *why, uint64_t d, store_done_cb cb,
                      void *ctx)
{
    move_args a = {.note = note, .links = links, .now = now, .why = why, .idem = idem};
    snprintf(a.milestone_id, sizeof a.milestone_id, "%s", milestone_id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    snprintf(a.to, sizeof a.to, "%s", to);
    return store_submit_args(s, run_move, 1, d, cb, ctx, &a, sizeof a, out);
}
