/* sqlite_contract_views: reading contracts in bulk: a caller's list with
 * filters and a cursor, a contract's receipts (every charge and refund of
 * its milestones) and its timesheets. A contract belongs to its two
 * parties: the per-contract reads take the caller (NULL: an admin) and
 * answer NOTFOUND to anyone else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_internal.h"

static int run_contracts_list(sq_conn *c, sq_job *j)
{
    const store_contract_filter *f = j->in;
    store_contract_list *out = j->out;
    static const char sql[] =
        "SELECT k.rowid, k.id, k.request_id, r.title, k.client_id, cu.name, k.engineer_id, eu.name, k.type,"
        " k.status, k.currency, coalesce(k.hourly_rate, 0), coalesce(k.weekly_cap_hours, 0), k.fee_bps,"
        " (SELECT coalesce(sum(amount), 0) FROM milestones WHERE contract_id = k.id),"
        " (SELECT count(*) FROM milestones WHERE contract_id = k.id),"
        " coalesce((SELECT balance FROM ledger_accounts WHERE id = 'escrow:' || k.id), 0),"
        " k.created_at, coalesce(k.accepted_at, 0), coalesce(k.ended_at, 0),"
        " (SELECT json_group_array(json_object('id', id, 'position', position, 'title', title, 'amount', amount,"
        "   'due', due, 'week_start', week_start, 'status', status, 'changes_note', changes_note))"
        "  FROM (SELECT * FROM milestones WHERE contract_id = k.id ORDER BY position))"
        " FROM contracts k JOIN users cu ON cu.id = k.client_id JOIN users eu ON eu.id = k.engineer_id"
        " JOIN requests r ON r.id = k.request_id"
        " WHERE (?1 IS NULL OR k.client_id = ?1) AND (?2 IS NULL OR k.engineer_id = ?2)"
        " AND (?3 IS NULL OR k.request_id = ?3) AND (?4 IS NULL OR k.status = ?4)"
        " AND (?5 = 0 OR k.rowid < ?5) ORDER BY k.rowid DESC LIMIT ?6";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    const char *txt[4] = {f->client_id, f->engineer_id, f->request_id, f->status};
    for (int i = 0; i < 4; i++)
        if (txt[i]) sqlite3_bind_text(st, i + 1, txt[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, f->before_seq);
    sqlite3_bind_int(st, 6, f->limit < STORE_CONTRACT_LIST_MAX ? f->limit : STORE_CONTRACT_LIST_MAX);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_CONTRACT_LIST_MAX) {
        store_contract_row *k = &out->items[out->n++];
        k->seq = sqlite3_column_int64(st, 0);
        sqlite_copy_col(k->id, sizeof k->id, st, 1);
        sqlite_copy_col(k->request_id, sizeof k->request_id, st, 2);
        sqlite_copy_col(k->request_title, sizeof k->request_title, st, 3);
        sqlite_copy_col(k->client_id, sizeof k->client_id, st, 4);
        sqlite_copy_col(k->client_name, sizeof k->client_name, st, 5);
        sqlite_copy_col(k->engineer_id, sizeof k->engineer_id, st, 6);
        sqlite_copy_col(k->engineer_name, sizeof k->engineer_name, st, 7);
        sqlite_copy_col(k->type, sizeof k->type, st, 8);
        sqlite_copy_col(k->status, sizeof k->status, st, 9);
        sqlite_copy_col(k->currency, sizeof k->currency, st, 10);
        k->hourly_rate = sqlite3_column_int64(st, 11);
        k->weekly_cap_hours = sqlite3_column_int(st, 12);
        k->fee_bps = sqlite3_column_int(st, 13);
        k->total = sqlite3_column_int64(st, 14);
        k->milestones = sqlite3_column_int(st, 15);
        k->escrow = sqlite3_column_int64(st, 16);
        k->created_at = sqlite3_column_int64(st, 17);
        k->accepted_at = sqlite3_column_int64(st, 18);
        k->ended_at = sqlite3_column_int64(st, 19);
        const unsigned char *ms = sqlite3_column_text(st, 20);
        k->milestones_json = strdup(ms ? (const char *)ms : "[]");
        if (!k->milestones_json) return STORE_BUSY;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqk_contracts_list(store *s, const store_contract_filter *f, store_contract_list *out, uint64_t d,
                       store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_contracts_list, 0, d, cb, ctx, f, out, NULL, NULL, 0);
}

/* NOTFOUND unless the contract exists and user_id (NULL: anyone) is a party;
 * its currency into currency when given */
static int party_check(sq_conn *c, const char *contract_id, const char *user_id, char currency[4])
{
    static const char sql[] = "SELECT client_id, engineer_id, currency FROM contracts WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, contract_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    const char *cl = (const char *)sqlite3_column_text(st, 0), *en = (const char *)sqlite3_column_text(st, 1);
    int party = !user_id || (cl && strcmp(cl, user_id) == 0) || (en && strcmp(en, user_id) == 0);
    if (currency) sqlite_copy_col(currency, 4, st, 2);
    sqlite3_reset(st);
    return party ? STORE_OK : STORE_NOTFOUND;
}

static int run_receipts(sq_conn *c, sq_job *j)
{
    store_receipts *out = j->out;
    out->n = 0;
    int rc = party_check(c, j->s1, j->s2, out->currency);
    if (rc < 0) return rc;
    static const char sql[] =
        "SELECT p.id, p.kind, p.milestone_id, m.title, p.gateway, coalesce(p.gateway_ref, ''), p.amount, p.currency,"
        " p.status, coalesce(p.error, ''), p.created_at, p.updated_at,"
        " CASE WHEN p.kind = 'refund' THEN coalesce((SELECT ch.id FROM payments ch WHERE ch.milestone_id = p.milestone_id"
        "   AND ch.kind = 'charge' AND ch.status = 'succeeded' ORDER BY ch.created_at, ch.rowid LIMIT 1), '') ELSE '' END"
        " FROM payments p JOIN milestones m ON m.id = p.milestone_id"
        " WHERE m.contract_id = ? AND p.kind IN ('charge', 'refund') ORDER BY p.created_at, p.rowid LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, STORE_RECEIPTS_MAX);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_RECEIPTS_MAX) {
        int i = out->n++;
        sqlite_copy_col(out->items[i].id, sizeof out->items[i].id, st, 0);
        sqlite_copy_col(out->items[i].kind, sizeof out->items[i].kind, st, 1);
        sqlite_copy_col(out->items[i].milestone_id, sizeof out->items[i].milestone_id, st, 2);
        sqlite_copy_col(out->items[i].milestone_title, sizeof out->items[i].milestone_title, st, 3);
        sqlite_copy_col(out->items[i].gateway, sizeof out->items[i].gateway, st, 4);
        sqlite_copy_col(out->items[i].gateway_ref, sizeof out->items[i].gateway_ref, st, 5);
        out->items[i].amount = sqlite3_column_int64(st, 6);
        sqlite_copy_col(out->items[i].currency, sizeof out->items[i].currency, st, 7);
        sqlite_copy_col(out->items[i].status, sizeof out->items[i].status, st, 8);
        sqlite_copy_col(out->items[i].error, sizeof out->items[i].error, st, 9);
        out->items[i].created_at = sqlite3_column_int64(st, 10);
        out->items[i].updated_at = sqlite3_column_int64(st, 11);
        sqlite_copy_col(out->items[i].refund_of, sizeof out->items[i].refund_of, st, 12);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqk_contract_receipts(store *s, const char *contract_id, const char *user_id, store_receipts *out, uint64_t d,
                          store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_receipts, 0, d, cb, ctx, NULL, out, contract_id, user_id, 0);
}

static int run_timesheets(sq_conn *c, sq_job *j)
{
    store_timesheet_list *out = j->out;
    out->n = 0;
    int rc = party_check(c, j->s1, j->s2, NULL);
    if (rc < 0) return rc;
    static const char sql[] =
        "SELECT t.id, t.milestone_id, t.week_start, t.hours, t.note, t.status, t.hours * k.hourly_rate,"
        " t.submitted_at, coalesce(t.approved_at, 0)"
        " FROM timesheets t JOIN contracts k ON k.id = t.contract_id WHERE t.contract_id = ?"
        " ORDER BY t.week_start LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, STORE_TIMESHEETS_MAX);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_TIMESHEETS_MAX) {
        store_timesheet *t = &out->items[out->n++];
        snprintf(t->contract_id, sizeof t->contract_id, "%s", j->s1);
        sqlite_copy_col(t->id, sizeof t->id, st, 0);
        sqlite_copy_col(t->milestone_id, sizeof t->milestone_id, st, 1);
        sqlite_copy_col(t->week_start, sizeof t->week_start, st, 2);
        t->hours = sqlite3_column_int(st, 3);
        sqlite_copy_col(t->note, sizeof t->note, st, 4);
        sqlite_copy_col(t->status, sizeof t->status, st, 5);
        t->amount = sqlite3_column_int64(st, 6);
        t->submitted_at = sqlite3_column_int64(st, 7);
        t->approved_at = sqlite3_column_int64(st, 8);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqk_contract_timesheets(store *s, const char *contract_id, const char *user_id, store_timesheet_list *out,
                            uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_timesheets, 0, d, cb, ctx, NULL, out, contract_id, user_id, 0);
}
