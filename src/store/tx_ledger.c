/* tx_ledger: appending to the ledger (tx_ledger_post), and
 * re-deriving it from its entries to check every
 * money invariant (`opx ledger verify`, GET /api/v1/admin/ledger). Nothing
 * here trusts the stored balances: each is recomputed from the append-only
 * entries and compared. The checks:
 *   1. every transaction has at least two entries and sums to zero per currency;
 *   2. every entry is in its account's currency;
 *   3. every account's stored balance equals the sum of its entries;
 *   4. no escrow, payable, client funding or revenue balance is negative;
 *   5. each milestone's escrow is its amount while funded, submitted or
 *      disputed, and zero otherwise;
 *   6. each contract's escrow account equals the sum of its milestones' escrow;
 *   7. no milestone was funded twice;
 *   8. each milestone's card refunds (not failed) equal what the ledger
 *      gave back through the gateway for it;
 *   9. each engineer's paid_out equals their payouts not failed or reversed.
 * Runs in one read job, so every check sees one snapshot; the report is text. */
#include "../core/token.h"
#include "ledger_verify.h"
#include "tx_internal.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the ledger ------------------------------------------------------------------ */

int tx_ledger_post(db_conn *c, const ledger_txn *t, int64_t now)
{
    char err[160];
    if (ledger_check(t, err, sizeof err) < 0) return STORE_CONFLICT; /* a bug upstream: refused */
    char id[ID_STR_MAX];
    id_new("ltx", id);
    db_stmt *st = db_prep(c, ST_LEDGER_POST_TXN);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    db_bind_text(st, 2, t->kind);
    if (t->contract_id[0]) db_bind_text(st, 3, t->contract_id);
    if (t->milestone_id[0]) db_bind_text(st, 4, t->milestone_id);
    db_bind_text(st, 5, t->memo);
    db_bind_int(st, 6, now);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    for (int i = 0; i < t->n; i++) {
        const ledger_entry *e = &t->e[i];
        st = db_prep(c, ST_LEDGER_POST_ACCT);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, e->account);
        db_bind_text(st, 2, e->kind);
        if (e->owner[0]) db_bind_text(st, 3, e->owner);
        db_bind_text(st, 4, e->currency);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
        /* the CHECK on balance refuses what would go negative */
        st = db_prep(c, ST_LEDGER_POST_BAL);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, e->amount);
        db_bind_text(st, 2, e->account);
        db_bind_text(st, 3, e->currency);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
        if (db_changes(c) != 1) return STORE_CONFLICT; /* the account is in another currency */
        st = db_prep(c, ST_LEDGER_POST_ENT);
        if (!st) return STORE_IO;
        db_bind_text_copy(st, 1, id);
        db_bind_text(st, 2, e->account);
        db_bind_text(st, 3, e->currency);
        db_bind_int(st, 4, e->amount);
        if (e->milestone_id[0]) db_bind_text(st, 5, e->milestone_id);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
    }
    return STORE_OK;
}

/* ---- verification ---------------------------------------------------------------------------- */

static const struct {
    int id; /* each row is one violation; column 0 names it */
    const char *what;
} checks[] = {
    {ST_LEDGER_CHECK_BALANCED, "transaction does not balance"},
    {ST_LEDGER_CHECK_TWO_ENTRIES, "transaction with fewer than two entries"},
    {ST_LEDGER_CHECK_CURRENCY, "entry in another currency than its account"},
    {ST_LEDGER_CHECK_STORED, "stored balance differs from its entries"},
    {ST_LEDGER_CHECK_NEGATIVE, "negative balance"},
    {ST_LEDGER_CHECK_MILESTONE_ESCROW, "milestone escrow does not match its state"},
    {ST_LEDGER_CHECK_CONTRACT_ESCROW, "contract escrow differs from its milestones"},
    {ST_LEDGER_CHECK_FUNDED_TWICE, "milestone funded more than once"},
    {ST_LEDGER_CHECK_REFUNDS, "card refunds differ from the ledger"},
    {ST_LEDGER_CHECK_PAYOUTS, "payouts differ from the ledger"},
};

static int scalar(db_conn *c, int id, int64_t *out)
{
    db_stmt *st = db_prep(c, id);
    if (!st) return STORE_IO;
    int rc = db_step(st);
    if (rc != DB_ROW) return rc < 0 ? rc : STORE_IO;
    *out = db_col_int(st, 0);
    db_reset(st);
    return STORE_OK;
}

/* the checks, in the job's one snapshot, appending the text report */
static int verify_checks(db_conn *c, buf *report, int64_t *violations_out)
{
    int64_t violations = 0, n = 0, entries = 0, accounts = 0;
    int rc;
    if ((rc = scalar(c, ST_LEDGER_COUNT_TXNS, &n)) < 0 ||
        (rc = scalar(c, ST_LEDGER_COUNT_ENTRIES, &entries)) < 0 ||
        (rc = scalar(c, ST_LEDGER_COUNT_ACCOUNTS, &accounts)) < 0) {
        buf_printf(report, "cannot read the ledger: %s\n", store_strerror(rc));
        return rc;
    }
    buf_printf(report, "ledger: %lld transactions, %lld entries, %lld accounts\n", (long long)n,
               (long long)entries, (long long)accounts);
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        db_stmt *st = db_prep(c, checks[i].id);
        if (!st) {
            buf_printf(report, "check \"%s\" could not run\n", checks[i].what);
            return STORE_IO;
        }
        int shown = 0;
        while ((rc = db_step(st)) == DB_ROW) {
            violations++;
            if (shown++ < 20)
                buf_printf(report, "VIOLATION %s: %s\n", checks[i].what, db_col_text(st, 0));
        }
        if (rc != DB_DONE) {
            buf_printf(report, "check \"%s\" failed: %s\n", checks[i].what, store_strerror(rc));
            return rc;
        }
        if (shown > 20) buf_printf(report, "  (%d more)\n", shown - 20);
    }
    /* totals per currency and kind, recomputed from the entries */
    db_stmt *st = db_prep(c, ST_LEDGER_ENTRY_TOTALS);
    if (!st) return STORE_IO;
    while ((rc = db_step(st)) == DB_ROW)
        buf_printf(report, "  %s %-16s %lld\n", db_col_text(st, 0), db_col_text(st, 1),
                   (long long)db_col_int(st, 2));
    if (rc < 0) return rc;
    buf_printf(report, "%s: %lld violation%s\n", violations ? "FAILED" : "OK",
               (long long)violations, violations == 1 ? "" : "s");
    if (violations_out) *violations_out = violations;
    return STORE_OK;
}

/* ---- the store operations over it ------------------------------------------------------- */

static int run_balance(db_conn *c, db_job *j)
{
    store_balance *out = j->out;
    memset(out, 0, sizeof *out);
    db_stmt *st = db_prep(c, ST_BALANCE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *cur = db_col_text(st, 0);
        int i = 0;
        while (i < out->n && strcmp(out->rows[i].currency, cur) != 0)
            i++;
        if (i == out->n) {
            if (out->n == 16) continue;
            snprintf(out->rows[out->n++].currency, 4, "%s", cur);
        }
        out->rows[i].payable += db_col_int(st, 1);
        out->rows[i].paid_out += db_col_int(st, 2);
        out->rows[i].pending += db_col_int(st, 3);
        out->rows[i].in_transit += db_col_int(st, 4);
    }
    return rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_balance(store *s, const char *engineer_id, store_balance *out, uint64_t d, store_done_cb cb,
               void *ctx)
{
    return store_submit(s, run_balance, 0, d, cb, ctx, NULL, out, engineer_id, NULL, 0);
}

static int run_report(db_conn *c, db_job *j)
{
    store_ledger_report *out = j->out;
    db_stmt *st = db_prep(c, ST_REPORT_TOTALS);
    if (!st) return STORE_IO;
    int rc;
    out->ntotals = 0;
    while ((rc = db_step(st)) == DB_ROW && out->ntotals < 96) {
        db_copy_col(out->totals[out->ntotals].currency, 4, st, 0);
        db_copy_col(out->totals[out->ntotals].kind, 20, st, 1);
        out->totals[out->ntotals++].balance = db_col_int(st, 2);
    }
    db_reset(st);
    st = db_prep(c, ST_REPORT_ACCTS);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, STORE_LEDGER_ACCOUNTS_MAX);
    out->naccounts = 0;
    while ((rc = db_step(st)) == DB_ROW && out->naccounts < STORE_LEDGER_ACCOUNTS_MAX) {
        int i = out->naccounts++;
        db_copy_col(out->accounts[i].id, 80, st, 0);
        db_copy_col(out->accounts[i].kind, 20, st, 1);
        db_copy_col(out->accounts[i].owner, 32, st, 2);
        db_copy_col(out->accounts[i].currency, 4, st, 3);
        out->accounts[i].balance = db_col_int(st, 4);
    }
    db_reset(st);
    buf report;
    buf_init(&report, 1 << 20);
    rc = verify_checks(c, &report, &out->violations);
    out->report = report.data ? strdup(report.data) : strdup("");
    buf_free(&report);
    if (!out->report) return STORE_BUSY;
    return rc;
}

int tx_ledger_report(store *s, store_ledger_report *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_report, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

/* ---- opx ledger verify -------------------------------------------------------------------------
 */

typedef struct {
    buf *report;
    int64_t *violations;
    int rc, done;
} verify_run;

static int run_verify(db_conn *c, db_job *j)
{
    verify_run *v = j->out;
    return verify_checks(c, v->report, v->violations);
}

static void verify_done(void *ctx, int rc)
{
    verify_run *v = ctx;
    v->rc = rc;
    v->done = 1;
}

int store_ledger_verify(const char *url, buf *report, int64_t *violations)
{
    /* verifying never creates a database that was not there */
    if (!db_is_postgres(url) && access(url, R_OK) != 0) {
        buf_printf(report, "cannot open %s: %s\n", url, strerror(errno));
        return -1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[256];
    store *s = store_open(&loop, url, 0, err, sizeof err);
    if (!s) {
        buf_printf(report, "%s\n", err);
        uv_loop_close(&loop);
        return -1;
    }
    /* a read job: one snapshot for every check */
    verify_run v = {report, violations, 0, 0};
    int rc = store_submit(s, run_verify, 0, UINT64_MAX, verify_done, &v, NULL, &v, NULL, NULL, 0);
    while (rc == 0 && !v.done)
        uv_run(&loop, UV_RUN_ONCE);
    s->v->close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (rc < 0 || v.rc < 0) {
        buf_printf(report, "cannot verify the ledger: %s\n", store_strerror(rc < 0 ? rc : v.rc));
        return -1;
    }
    return 0;
}
