/* sqlite_timesheets: hourly contracts on SQLite. Each week is a milestone
 * of rate * weekly cap that the client funds into escrow; the engineer's
 * timesheet for the week submits it; approval (the client's, or the
 * system's after 5 days of silence) releases hours * rate, less the fee,
 * refunds the rest of the week's escrow, and opens the next week. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/token.h"
#include "../domain/contracts.h"
#include "../domain/ledger.h"
#include "../domain/requests.h"
#include "sqlite_internal.h"

static int read_timesheet(sq_conn *c, const char *id, store_timesheet *t)
{
    static const char sql[] =
        "SELECT t.id, t.contract_id, t.milestone_id, t.week_start, t.hours, t.note, t.status,"
        " t.hours * k.hourly_rate, t.submitted_at, coalesce(t.approved_at, 0)"
        " FROM timesheets t JOIN contracts k ON k.id = t.contract_id WHERE t.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    memset(t, 0, sizeof *t);
    sqlite_copy_col(t->id, sizeof t->id, st, 0);
    sqlite_copy_col(t->contract_id, sizeof t->contract_id, st, 1);
    sqlite_copy_col(t->milestone_id, sizeof t->milestone_id, st, 2);
    sqlite_copy_col(t->week_start, sizeof t->week_start, st, 3);
    t->hours = sqlite3_column_int(st, 4);
    sqlite_copy_col(t->note, sizeof t->note, st, 5);
    sqlite_copy_col(t->status, sizeof t->status, st, 6);
    t->amount = sqlite3_column_int64(st, 7);
    t->submitted_at = sqlite3_column_int64(st, 8);
    t->approved_at = sqlite3_column_int64(st, 9);
    sqlite3_reset(st);
    return STORE_OK;
}

/* the week after `week` opens for funding, once (an hourly contract goes on) */
int sqlite_open_next_week(sq_conn *c, const store_contract *k, const char *week, int position, int64_t now)
{
    int64_t next = requests_parse_date(week);
    if (next < 0 || strcmp(k->type, "hourly") != 0) return STORE_OK;
    char day[32], next_week[11], title[32], nid[ID_STR_MAX];
    clock_rfc3339(next + 7 * 86400, day);
    memcpy(next_week, day, 10);
    next_week[10] = '\0';
    snprintf(title, sizeof title, "Week of %s", next_week);
    id_new("mst", nid);
    static const char ins[] =
        "INSERT INTO milestones(id, contract_id, position, title, amount, week_start, status, created_at)"
        " SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7"
        " WHERE NOT EXISTS (SELECT 1 FROM milestones WHERE contract_id = ?2 AND week_start = ?6)";
    sqlite3_stmt *st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, nid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, position);
    sqlite3_bind_text(st, 4, title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, k->hourly_rate * k->weekly_cap_hours);
    sqlite3_bind_text(st, 6, next_week, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, now);
    return sq_rc(c, sqlite3_step(st));
}

typedef struct {
    char contract_id[32], engineer_id[32], week_start[11], id[32];
    int hours;
    char note[8004];
    int64_t now;
    store_timesheet *out;
    store_money_conflict *why;
} submit_args;

static int run_submit(sq_conn *c, sq_job *j)
{
    const submit_args *a = j->in;
    store_contract *k = j->out;
    int rc = sqlite_contract_read(c, a->contract_id, k);
    if (rc < 0) return rc;
    if (strcmp(k->engineer_id, a->engineer_id) != 0) return STORE_NOTFOUND;
    if (strcmp(k->type, "hourly") != 0 || strcmp(k->status, "active") != 0) {
        sqlite_money_conflict(a->why, "contract", strcmp(k->type, "hourly") != 0 ? k->type : k->status,
                              "timesheets are for active hourly contracts");
        return STORE_CONFLICT;
    }
    if (a->hours > k->weekly_cap_hours) {
        sqlite_money_conflict(a->why, "cap", "", "more hours than the weekly cap");
        return STORE_CONFLICT;
    }
    const store_milestone *m = NULL;
    for (int i = 0; i < k->nmilestones; i++)
        if (strcmp(k->milestones[i].week_start, a->week_start) == 0) m = &k->milestones[i];
    if (!m) {
        sqlite_money_conflict(a->why, "week", "", "this week is not open on the contract: fund the current week first");
        return STORE_CONFLICT;
    }
    if (strcmp(m->status, "funded") != 0) {
        sqlite_money_conflict(a->why, "milestone", m->status,
                              strcmp(m->status, "pending") == 0 ? "the client has not funded this week yet"
                                                                : "this week has a timesheet already");
        return STORE_CONFLICT;
    }
    char mid[32];
    memcpy(mid, m->id, sizeof mid);
    static const char ins[] = "INSERT INTO timesheets(id, contract_id, milestone_id, week_start, hours, note, status,"
                              " submitted_at) VALUES (?,?,?,?,?,?,'submitted',?)";
    sqlite3_stmt *st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->contract_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->week_start, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, a->hours);
    sqlite3_bind_text(st, 6, a->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, a->now);
    rc = sq_rc(c, sqlite3_step(st));
    if (rc == STORE_CONFLICT) sqlite_money_conflict(a->why, "timesheet", "submitted", "this week has a timesheet already");
    if (rc < 0) return rc;
    static const char upd[] = "UPDATE milestones SET status = 'submitted', note = ?, submitted_at = ?"
                              " WHERE id = ? AND status = 'funded'";
    st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->now);
    sqlite3_bind_text(st, 3, mid, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    if ((rc = sqlite_audit(c, a->now, a->engineer_id, "timesheet.submitted", "timesheet", a->id, NULL)) < 0) return rc;
    if ((rc = sqlite_job_schedule(c, "timesheet.autorelease", a->id, a->now + TIMESHEET_AUTO_RELEASE_S)) < 0) return rc;
    if ((rc = sqlite_contract_read(c, a->contract_id, k)) < 0) return rc;
    if ((rc = sqlite_contract_announce(c, k, "timesheet.submitted", k->client_id, "A timesheet was submitted",
                                       "Your engineer submitted a weekly timesheet. Approve it within 5 days; after "
                                       "that the hours are released automatically.",
                                       a->now)) < 0)
        return rc;
    return read_timesheet(c, a->id, a->out);
}

int sqk_timesheet_submit(store *s, const char *contract_id, const char *engineer_id, const char *week_start, int hours,
                         const char *note, int64_t now, store_timesheet *out, store_contract *k,
                         store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
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
    int rc = sqlite_submit_args(s, run_submit, 1, d, cb, ctx, a, sizeof *a, k);
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

static int run_approve(sq_conn *c, sq_job *j)
{
    const approve_args *a = j->in;
    store_contract *k = j->out;
    store_timesheet *t = a->out;
    int rc = read_timesheet(c, a->id, t);
    if (rc < 0) return rc;
    if ((rc = sqlite_contract_read(c, t->contract_id, k)) < 0) return rc;
    int system = strcmp(a->user_id, "system") == 0;
    if (!system && strcmp(k->client_id, a->user_id) != 0) return STORE_NOTFOUND;
    const store_milestone *m = sqlite_milestone_find(k, t->milestone_id);
    if (!m) return STORE_NOTFOUND;
    if (strcmp(t->status, "submitted") != 0 || strcmp(m->status, "submitted") != 0) {
        sqlite_money_conflict(a->why, "timesheet", strcmp(t->status, "submitted") != 0 ? t->status : m->status,
                              "only a submitted timesheet is approved");
        return STORE_CONFLICT;
    }
    int64_t pay = t->amount < m->escrow ? t->amount : m->escrow;
    ledger_txn lt;
    ledger_split(&lt, k->client_id, k->engineer_id, k->id, m->id, k->currency, pay, m->escrow - pay, k->fee_bps);
    snprintf(lt.kind, sizeof lt.kind, "timesheet");
    snprintf(lt.memo, sizeof lt.memo, "%d hours, week of %s%s", t->hours, t->week_start,
             system ? " (auto-approved after 5 days)" : "");
    if (lt.n > 0 && (rc = sqlite_ledger_post(c, &lt, a->now)) < 0) return rc;
    if (m->escrow > pay && (rc = sqlite_refund_queue(c, m->id, m->escrow - pay, k->currency, a->now, NULL)) < 0) return rc;
    char mid[32], week[11];
    memcpy(mid, m->id, sizeof mid);
    memcpy(week, m->week_start, sizeof week);
    int next_position = k->nmilestones + 1;
    static const char mv[] = "UPDATE milestones SET status = 'released', settled_at = ? WHERE id = ? AND status = 'submitted'";
    sqlite3_stmt *st = sq_prep(c, mv);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->now);
    sqlite3_bind_text(st, 2, mid, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    static const char ts[] = "UPDATE timesheets SET status = 'approved', approved_at = ? WHERE id = ? AND status = 'submitted'";
    st = sq_prep(c, ts);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->now);
    sqlite3_bind_text(st, 2, t->id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if ((rc = sqlite_job_cancel(c, "timesheet.autorelease", t->id, a->now)) < 0) return rc;
    if ((rc = sqlite_audit(c, a->now, a->user_id, "timesheet.approved", "timesheet", t->id, NULL)) < 0) return rc;
    if ((rc = sqlite_open_next_week(c, k, week, next_position, a->now)) < 0) return rc;
    char cid[32], tid[32];
    memcpy(cid, k->id, sizeof cid);
    memcpy(tid, t->id, sizeof tid);
    if ((rc = sqlite_contract_read(c, cid, k)) < 0) return rc;
    if ((rc = sqlite_contract_announce(c, k, "timesheet.approved", k->engineer_id, "A timesheet was approved",
                                       "Your weekly hours were released to your balance, less the platform fee.",
                                       a->now)) < 0)
        return rc;
    if ((rc = read_timesheet(c, tid, t)) < 0) return rc;
    return sqlite_idem_save(c, a->idem, k, a->now);
}

int sqk_timesheet_approve(store *s, const char *timesheet_id, const char *user_id, int64_t now, store_idem_done *idem,
                          store_timesheet *out, store_contract *k, store_money_conflict *why, uint64_t d,
                          store_done_cb cb, void *ctx)
{
    approve_args a = {.now = now, .idem = idem, .out = out, .why = why};
    snprintf(a.id, sizeof a.id, "%s", timesheet_id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    return sqlite_submit_args(s, run_approve, 1, d, cb, ctx, &a, sizeof a, k);
}
