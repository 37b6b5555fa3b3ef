/* tx_timesheets: hourly contracts Each week is a milestone
 * of rate * weekly cap that the client funds into escrow; the engineer's
 * timesheet for the week submits it; approval (the client's, or the
 * system's after 5 days of silence) releases hours * rate, less the fee,
 * refunds the rest of the week's escrow, and opens the next week. */
#include "../core/clock.h"
#include "../core/token.h"
#include "../rules/contracts.h"
#include "../rules/ledger.h"
#include "../rules/requests.h"
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_timesheet(db_conn *c, const char *id, store_timesheet *t)
{
    db_stmt *st = db_prep(c, ST_TIMESHEET_READ);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    memset(t, 0, sizeof *t);
    db_copy_col(t->id, sizeof t->id, st, 0);
    db_copy_col(t->contract_id, sizeof t->contract_id, st, 1);
    db_copy_col(t->milestone_id, sizeof t->milestone_id, st, 2);
    db_copy_col(t->week_start, sizeof t->week_start, st, 3);
    t->hours = db_col_int(st, 4);
    db_copy_col(t->note, sizeof t->note, st, 5);
    db_copy_col(t->status, sizeof t->status, st, 6);
    t->amount = db_col_int(st, 7);
    t->submitted_at = db_col_int(st, 8);
    t->approved_at = db_col_int(st, 9);
    db_reset(st);
    return STORE_OK;
}

/* the week after `week` opens for funding, once (an hourly contract goes on) */
int tx_open_next_week(db_conn *c, const store_contract *k, const char *week, int position,
                      int64_t now)
{
    int64_t next = requests_parse_date(week);
    if (next < 0 || strcmp(k->type, "hourly") != 0) return STORE_OK;
    char day[32], next_week[11], title[32], nid[ID_STR_MAX];
    clock_rfc3339(next + 7 * 86400, day);
    memcpy(next_week, day, 10);
    next_week[10] = '\0';
    snprintf(title, sizeof title, "Week of %s", next_week);
    id_new("mst", nid);
    db_stmt *st = db_prep(c, ST_OPEN_NEXT_WEEK_INS);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, nid);
    db_bind_text(st, 2, k->id);
    db_bind_int(st, 3, position);
    db_bind_text_copy(st, 4, title);
    db_bind_int(st, 5, k->hourly_rate * k->weekly_cap_hours);
    db_bind_text_copy(st, 6, next_week);
    db_bind_int(st, 7, now);
    return db_rc(db_step(st));
}

typedef struct {
    char contract_id[32], engineer_id[32], week_start[11], id[32];
    int hours;
    char note[8004];
    int64_t now;
    store_timesheet *out;
    store_money_conflict *why;
} submit_args;

static int run_submit(db_conn *c, db_job *j)
{
    const submit_args *a = j->in;
    store_contract *k = j->out;
    int rc = tx_contract_read(c, a->contract_id, k);
    if (rc < 0) return rc;
    if (strcmp(k->engineer_id, a->engineer_id) != 0) return STORE_NOTFOUND;
    if (strcmp(k->type, "hourly") != 0 || strcmp(k->status, "active") != 0) {
        tx_money_conflict(a->why, "contract", strcmp(k->type, "hourly") != 0 ? k->type : k->status,
                          "timesheets are for active hourly contracts");
        return STORE_CONFLICT;
    }
    if (a->hours > k->weekly_cap_hours) {
        tx_money_conflict(a->why, "cap", "", "more hours than the weekly cap");
        return STORE_CONFLICT;
    }
    const store_milestone *m = NULL;
    for (int i = 0; i < k->nmilestones; i++)
        if (strcmp(k->milestones[i].week_start, a->week_start) == 0) m = &k->milestones[i];
    if (!m) {
        tx_money_conflict(a->why, "week", "",
                          "this week is not open on the contract: fund the current week first");
        return STORE_CONFLICT;
    }
    if (strcmp(m->status, "funded") != 0) {
        tx_money_conflict(a->why, "milestone", m->status,
                          strcmp(m->status, "pending") == 0
                              ? "the client has not funded this week yet"
                              : "this week has a timesheet already");
        return STORE_CONFLICT;
    }
    char mid[32];
    memcpy(mid, m->id, sizeof mid);
    db_stmt *st = db_prep(c, ST_TIMESHEET_SUBMIT_INS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->id);
    db_bind_text(st, 2, a->contract_id);
    db_bind_text(st, 3, mid);
    db_bind_text(st, 4, a->week_start);
    db_bind_int(st, 5, a->hours);
    db_bind_text(st, 6, a->note);
    db_bind_int(st, 7, a->now);
    rc = db_rc(db_step(st));
    if (rc == STORE_CONFLICT)
        tx_money_conflict(a->why, "timesheet", "submitted", "this week has a timesheet already");
    if (rc < 0) return rc;
    st = db_prep(c, ST_TIMESHEET_SUBMIT_UPD);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->note);
    db_bind_int(st, 2, a->now);
    db_bind_text(st, 3, mid);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    if ((rc = tx_audit(c, a->now, a->engineer_id, "timesheet.submitted", "timesheet", a->id,
                       NULL)) < 0)
        return rc;
    if ((rc = tx_job_schedule(c, "timesheet.autorelease", a->id,
                              a->now + TIMESHEET_AUTO_RELEASE_S)) < 0)
        return rc;
    if ((rc = tx_contract_read(c, a->contract_id, k)) < 0) return rc;
    if ((rc = tx_contract_announce(c, k, "timesheet.submitted", k->client_id, a->now)) < 0)
        return rc;
    return read_timesheet(c, a->id, a->out);
}

int tx_timesheet_submit(store *s, const char *contract_id, const char *engineer_id,
                        const char *week_start, int hours, const char *note, int64_t now,
                        store_timesheet *out, store_contract *k, store_money_conflict *why,
                        uint64_t d, store_done_cb cb, void *ctx)
{
    submit_args *a = calloc(1, sizeof *a);
    if (!a) return STORE_BUSY;
    snprintf(a->contract_id, sizeof a->contract_id, "%s", contract_id);
    snprintf(a->engineer_id, sizeof a->engineer_id, "%s", engineer_id);
    snprintf(a->week_start, sizeof a->week_start, "%s", week_start);
    snprintf(a->note, sizeof a->note, "%s", note);
    id_new("tms", a->id);
    a->hours = hours;
    a->now = now;
    a->out = out;
    a->why = why;
    int rc = store_submit_args(s, run_submit, 1, d, cb, ctx, a, sizeof *a, k);
    free(a);
    return rc;
}

typedef struct {
    char id[32], user_id[32];
    int64_t now;
    store_idem_done *idem;
    store_timesheet *out;
    store_money_conflict *why;
} approve_args;

static int run_approve(db_conn *c, db_job *j)
{
    const approve_args *a = j->in;
    store_contract *k = j->out;
    store_timesheet *t = a->out;
    int rc = read_timesheet(c, a->id, t);
    if (rc < 0) return rc;
    if ((rc = tx_contract_read(c, t->contract_id, k)) < 0) return rc;
    int system = strcmp(a->user_id, "system") == 0;
    if (!system && strcmp(k->client_id, a->user_id) != 0) return STORE_NOTFOUND;
    const store_milestone *m = tx_milestone_find(k, t->milestone_id);
    if (!m) return STORE_NOTFOUND;
    if (strcmp(t->status, "submitted") != 0 || strcmp(m->status, "submitted") != 0) {
        tx_money_conflict(a->why, "timesheet",
                          strcmp(t->status, "submitted") != 0 ? t->status : m->status,
                          "only a submitted timesheet is approved");
        return STORE_CONFLICT;
    }
    int64_t pay = t->amount < m->escrow ? t->amount : m->escrow;
    ledger_txn lt;
    ledger_split(&lt, k->client_id, k->engineer_id, k->id, m->id, k->currency, pay, m->escrow - pay,
                 k->fee_bps);
    snprintf(lt.kind, sizeof lt.kind, "timesheet");
    snprintf(lt.memo, sizeof lt.memo, "%d hours, week of %s%s", t->hours, t->week_start,
             system ? " (auto-approved after 5 days)" : "");
    if (lt.n > 0 && (rc = tx_ledger_post(c, &lt, a->now)) < 0) return rc;
    if (m->escrow > pay &&
        (rc = tx_refund_queue(c, m->id, m->escrow - pay, k->currency, a->now, NULL)) < 0)
        return rc;
    char mid[32], week[11];
    memcpy(mid, m->id, sizeof mid);
    memcpy(week, m->week_start, sizeof week);
    int next_position = k->nmilestones + 1;
    db_stmt *st = db_prep(c, ST_TIMESHEET_APPROVE_MV);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->now);
    db_bind_text(st, 2, mid);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    st = db_prep(c, ST_TIMESHEET_APPROVE_TS);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->now);
    db_bind_text(st, 2, t->id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if ((rc = tx_job_cancel(c, "timesheet.autorelease", t->id, a->now)) < 0) return rc;
    if ((rc = tx_audit(c, a->now, a->user_id, "timesheet.approved", "timesheet", t->id, NULL)) < 0)
        return rc;
    if ((rc = tx_open_next_week(c, k, week, next_position, a->now)) < 0) return rc;
    char cid[32], tid[32];
    memcpy(cid, k->id, sizeof cid);
    memcpy(tid, t->id, sizeof tid);
    if ((rc = tx_contract_read(c, cid, k)) < 0) return rc;
    if ((rc = tx_contract_announce(c, k, "timesheet.approved", k->engineer_id, a->now)) < 0)
        return rc;
    if ((rc = read_timesheet(c, tid, t)) < 0) return rc;
    return tx_idem_save(c, a->idem, k, a->now);
}

int tx_timesheet_approve(store *s, const char *timesheet_id, const char *user_id, int64_t now,
                         store_idem_done *idem, store_timesheet *out, store_contract *k,
                         store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    approve_args a = {.now = now, .idem = idem, .out = out, .why = why};
    snprintf(a.id, sizeof a.id, "%s", timesheet_id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    return store_submit_args(s, run_approve, 1, d, cb, ctx, &a, sizeof a, k);
}
