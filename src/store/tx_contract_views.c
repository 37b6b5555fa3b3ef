/* tx_contract_views: reading contracts in bulk: a caller's list with
 * filters and a cursor, a contract's receipts (every charge and refund of
 * its milestones) and its timesheets. A contract belongs to its two
 * parties: the per-contract reads take the caller (NULL: an admin) and
 * answer NOTFOUND to anyone else. */
#include "tx_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run_contracts_list(db_conn *c, db_job *j)
{
    const store_contract_filter *f = j->in;
    store_contract_list *out = j->out;
    db_stmt *st = db_prep(c, ST_CONTRACTS_LIST);
    if (!st) return STORE_IO;
    const char *txt[4] = {f->client_id, f->engineer_id, f->request_id, f->status};
    for (int i = 0; i < 4; i++)
        if (txt[i]) db_bind_text(st, i + 1, txt[i]);
    db_bind_int(st, 5, f->before_seq);
    db_bind_int(st, 6, f->limit < STORE_CONTRACT_LIST_MAX ? f->limit : STORE_CONTRACT_LIST_MAX);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_CONTRACT_LIST_MAX) {
        store_contract_row *k = &out->items[out->n++];
        k->seq = db_col_int(st, 0);
        db_copy_col(k->id, sizeof k->id, st, 1);
        db_copy_col(k->request_id, sizeof k->request_id, st, 2);
        db_copy_col(k->request_title, sizeof k->request_title, st, 3);
        db_copy_col(k->client_id, sizeof k->client_id, st, 4);
        db_copy_col(k->client_name, sizeof k->client_name, st, 5);
        db_copy_col(k->engineer_id, sizeof k->engineer_id, st, 6);
        db_copy_col(k->engineer_name, sizeof k->engineer_name, st, 7);
        db_copy_col(k->type, sizeof k->type, st, 8);
        db_copy_col(k->status, sizeof k->status, st, 9);
        db_copy_col(k->currency, sizeof k->currency, st, 10);
        k->hourly_rate = db_col_int(st, 11);
        k->weekly_cap_hours = db_col_int(st, 12);
        k->fee_bps = db_col_int(st, 13);
        k->total = db_col_int(st, 14);
        k->milestones = db_col_int(st, 15);
        k->escrow = db_col_int(st, 16);
        k->created_at = db_col_int(st, 17);
        k->accepted_at = db_col_int(st, 18);
        k->ended_at = db_col_int(st, 19);
        const char *ms = db_col_text(st, 20);
        k->milestones_json = strdup(ms ? ms : "[]");
        if (!k->milestones_json) return STORE_BUSY;
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_contracts_list(store *s, const store_contract_filter *f, store_contract_list *out,
                      uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_contracts_list, 0, d, cb, ctx, f, out, NULL, NULL, 0);
}

/* NOTFOUND unless the contract exists and user_id (NULL: anyone) is a party;
 * its currency into currency when given */
static int party_check(db_conn *c, const char *contract_id, const char *user_id, char currency[4])
{
    db_stmt *st = db_prep(c, ST_CONTRACT_PARTY_CHECK);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, contract_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    const char *cl = db_col_text(st, 0), *en = db_col_text(st, 1);
    int party = !user_id || (cl && strcmp(cl, user_id) == 0) || (en && strcmp(en, user_id) == 0);
    if (currency) db_copy_col(currency, 4, st, 2);
    db_reset(st);
    return party ? STORE_OK : STORE_NOTFOUND;
}

static int run_receipts(db_conn *c, db_job *j)
{
    store_receipts *out = j->out;
    out->n = 0;
    int rc = party_check(c, j->s1, j->s2, out->currency);
    if (rc < 0) return rc;
    db_stmt *st = db_prep(c, ST_CONTRACT_RECEIPTS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, STORE_RECEIPTS_MAX);
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_RECEIPTS_MAX) {
        int i = out->n++;
        db_copy_col(out->items[i].id, sizeof out->items[i].id, st, 0);
        db_copy_col(out->items[i].kind, sizeof out->items[i].kind, st, 1);
        db_copy_col(out->items[i].milestone_id, sizeof out->items[i].milestone_id, st, 2);
        db_copy_col(out->items[i].milestone_title, sizeof out->items[i].milestone_title, st, 3);
        db_copy_col(out->items[i].gateway, sizeof out->items[i].gateway, st, 4);
        db_copy_col(out->items[i].gateway_ref, sizeof out->items[i].gateway_ref, st, 5);
        out->items[i].amount = db_col_int(st, 6);
        db_copy_col(out->items[i].currency, sizeof out->items[i].currency, st, 7);
        db_copy_col(out->items[i].status, sizeof out->items[i].status, st, 8);
        db_copy_col(out->items[i].error, sizeof out->items[i].error, st, 9);
        out->items[i].created_at = db_col_int(st, 10);
        out->items[i].updated_at = db_col_int(st, 11);
        db_copy_col(out->items[i].refund_of, sizeof out->items[i].refund_of, st, 12);
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_contract_receipts(store *s, const char *contract_id, const char *user_id,
                         store_receipts *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_receipts, 0, d, cb, ctx, NULL, out, contract_id, user_id, 0);
}

static int run_timesheets(db_conn *c, db_job *j)
{
    store_timesheet_list *out = j->out;
    out->n = 0;
    int rc = party_check(c, j->s1, j->s2, NULL);
    if (rc < 0) return rc;
    db_stmt *st = db_prep(c, ST_CONTRACT_TIMESHEETS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, STORE_TIMESHEETS_MAX);
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_TIMESHEETS_MAX) {
        store_timesheet *t = &out->items[out->n++];
        snprintf(t->contract_id, sizeof t->contract_id, "%s", j->s1);
        db_copy_col(t->id, sizeof t->id, st, 0);
        db_copy_col(t->milestone_id, sizeof t->milestone_id, st, 1);
        db_copy_col(t->week_start, sizeof t->week_start, st, 2);
        t->hours = db_col_int(st, 3);
        db_copy_col(t->note, sizeof t->note, st, 4);
        db_copy_col(t->status, sizeof t->status, st, 5);
        t->amount = db_col_int(st, 6);
        t->submitted_at = db_col_int(st, 7);
        t->approved_at = db_col_int(st, 8);
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_contract_timesheets(store *s, const char *contract_id, const char *user_id,
                           store_timesheet_list *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_timesheets, 0, d, cb, ctx, NULL, out, contract_id, user_id, 0);
}
