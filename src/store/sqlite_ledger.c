/* sqlite_ledger: appending to the ledger (sqlite_ledger_post), and
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
 * Runs on any connection (read-only is enough); the report is text. */
#include <stdio.h>
#include <string.h>
#include "../core/token.h"
#include "ledger_verify.h"
#include "sqlite_internal.h"

/* ---- the ledger ------------------------------------------------------------------ */

int sqlite_ledger_post(sq_conn *c, const ledger_txn *t, int64_t now)
{
    char err[160];
    if (ledger_check(t, err, sizeof err) < 0) return STORE_CONFLICT; /* a bug upstream: refused */
    char id[ID_STR_MAX];
    id_new("ltx", id);
    static const char txn[] = "INSERT INTO ledger_txns(id, kind, contract_id, milestone_id, memo, created_at)"
                              " VALUES (?,?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, txn);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t->kind, -1, SQLITE_STATIC);
    if (t->contract_id[0]) sqlite3_bind_text(st, 3, t->contract_id, -1, SQLITE_STATIC);
    if (t->milestone_id[0]) sqlite3_bind_text(st, 4, t->milestone_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, t->memo, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    for (int i = 0; i < t->n; i++) {
        const ledger_entry *e = &t->e[i];
        static const char acct[] = "INSERT INTO ledger_accounts(id, kind, owner, currency) VALUES (?,?,?,?)"
                                   " ON CONFLICT(id) DO NOTHING";
        st = sq_prep(c, acct);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, e->account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, e->kind, -1, SQLITE_STATIC);
        if (e->owner[0]) sqlite3_bind_text(st, 3, e->owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, e->currency, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
        /* the CHECK on balance refuses what would go negative */
        static const char bal[] = "UPDATE ledger_accounts SET balance = balance + ?1"
                                  " WHERE id = ?2 AND currency = ?3";
        st = sq_prep(c, bal);
        if (!st) return STORE_IO;
        sqlite3_bind_int64(st, 1, e->amount);
        sqlite3_bind_text(st, 2, e->account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, e->currency, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
        if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT; /* the account is in another currency */
        static const char ent[] = "INSERT INTO ledger_entries(txn_id, account_id, currency, amount, milestone_id)"
                                  " VALUES (?,?,?,?,?)";
        st = sq_prep(c, ent);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, e->account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, e->currency, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, e->amount);
        if (e->milestone_id[0]) sqlite3_bind_text(st, 5, e->milestone_id, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    }
    return STORE_OK;
}

/* ---- verification ---------------------------------------------------------------------------- */

typedef struct {
    const char *what;
    const char *sql; /* each row is one violation; column 0 names it */
} check;

static const check checks[] = {
    {"transaction does not balance",
     "SELECT t.id || ' ' || coalesce(e.currency, '?') || ' sums to ' || coalesce(sum(e.amount), 0)"
     " FROM ledger_txns t LEFT JOIN ledger_entries e ON e.txn_id = t.id"
     " GROUP BY t.id, e.currency HAVING coalesce(sum(e.amount), 0) <> 0 OR count(e.id) = 0"},
    {"transaction with fewer than two entries",
     "SELECT t.id FROM ledger_txns t WHERE (SELECT count(*) FROM ledger_entries e WHERE e.txn_id = t.id) < 2"},
    {"entry in another currency than its account",
     "SELECT 'entry ' || e.id || ' ' || e.currency || ' on ' || a.id || ' ' || a.currency"
     " FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id WHERE e.currency <> a.currency"},
    {"stored balance differs from its entries",
     "SELECT a.id || ' stored ' || a.balance || ', entries ' || coalesce((SELECT sum(amount) FROM ledger_entries"
     " WHERE account_id = a.id), 0) FROM ledger_accounts a"
     " WHERE a.balance <> coalesce((SELECT sum(amount) FROM ledger_entries WHERE account_id = a.id), 0)"},
    {"negative balance",
     "SELECT a.id || ' = ' || s.total FROM ledger_accounts a JOIN (SELECT account_id, sum(amount) AS total"
     " FROM ledger_entries GROUP BY account_id) s ON s.account_id = a.id"
     " WHERE a.kind NOT IN ('gateway_clearing', 'paid_out') AND s.total < 0"},
    {"milestone escrow does not match its state",
     "SELECT m.id || ' (' || m.status || ', amount ' || m.amount || ') holds ' || x.held FROM milestones m"
     " JOIN (SELECT mm.id AS id, coalesce((SELECT sum(e.amount) FROM ledger_entries e WHERE e.milestone_id = mm.id"
     "   AND e.account_id = 'escrow:' || mm.contract_id), 0) AS held FROM milestones mm) x ON x.id = m.id"
     " WHERE (m.status IN ('funded', 'submitted', 'disputed') AND x.held <> m.amount)"
     "    OR (m.status NOT IN ('funded', 'submitted', 'disputed') AND x.held <> 0)"},
    {"contract escrow differs from its milestones",
     "SELECT k.id || ' escrow ' || coalesce(a.balance, 0) || ', milestones ' || coalesce((SELECT sum(e.amount)"
     " FROM ledger_entries e JOIN milestones m ON m.id = e.milestone_id WHERE m.contract_id = k.id"
     "   AND e.account_id = 'escrow:' || k.id), 0) FROM contracts k"
     " LEFT JOIN ledger_accounts a ON a.id = 'escrow:' || k.id"
     " WHERE coalesce(a.balance, 0) <> coalesce((SELECT sum(e.amount) FROM ledger_entries e"
     "   JOIN milestones m ON m.id = e.milestone_id WHERE m.contract_id = k.id"
     "   AND e.account_id = 'escrow:' || k.id), 0)"},
    {"milestone funded more than once",
     "SELECT milestone_id || ' funded ' || count(*) || ' times' FROM ledger_txns WHERE kind = 'fund'"
     " GROUP BY milestone_id HAVING count(*) > 1"},
    {"card refunds differ from the ledger",
     "SELECT m.id || ' ledger refunded ' || coalesce(l.led, 0) || ', card refunds ' || coalesce(p.total, 0)"
     " FROM milestones m LEFT JOIN (SELECT t.milestone_id AS mid, sum(e.amount) AS led FROM ledger_txns t"
     "   JOIN ledger_entries e ON e.txn_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
     "   WHERE a.kind = 'gateway_clearing' AND t.kind <> 'fund' AND t.milestone_id IS NOT NULL"
     "   GROUP BY t.milestone_id) l ON l.mid = m.id"
     " LEFT JOIN (SELECT milestone_id, sum(amount) AS total FROM payments WHERE kind = 'refund'"
     "   AND status <> 'failed' GROUP BY milestone_id) p ON p.milestone_id = m.id"
     " WHERE coalesce(l.led, 0) <> coalesce(p.total, 0)"},
    {"payouts differ from the ledger",
     "SELECT a.id || ' = ' || a.balance || ', payouts ' || coalesce(p.total, 0) FROM ledger_accounts a"
     " LEFT JOIN (SELECT engineer_id, currency, sum(amount) AS total FROM payouts"
     "   WHERE status IN ('pending', 'succeeded') GROUP BY engineer_id, currency) p"
     "   ON p.engineer_id = a.owner AND p.currency = a.currency"
     " WHERE a.kind = 'paid_out' AND a.balance <> coalesce(p.total, 0)"},
};

static int scalar(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    if (rc == 0) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int sqlite_ledger_verify(sqlite3 *db, buf *report, int64_t *violations_out)
{
    int64_t violations = 0;
    int64_t n;
    if (scalar(db, "SELECT count(*) FROM ledger_txns", &n) < 0) {
        buf_printf(report, "cannot read the ledger: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    int64_t entries = 0, accounts = 0;
    scalar(db, "SELECT count(*) FROM ledger_entries", &entries);
    scalar(db, "SELECT count(*) FROM ledger_accounts", &accounts);
    buf_printf(report, "ledger: %lld transactions, %lld entries, %lld accounts\n", (long long)n,
               (long long)entries, (long long)accounts);
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, checks[i].sql, -1, &st, NULL) != SQLITE_OK) {
            buf_printf(report, "check \"%s\" could not run: %s\n", checks[i].what, sqlite3_errmsg(db));
            return -1;
        }
        int shown = 0, rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            violations++;
            if (shown++ < 20) buf_printf(report, "VIOLATION %s: %s\n", checks[i].what, sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            buf_printf(report, "check \"%s\" failed: %s\n", checks[i].what, sqlite3_errmsg(db));
            return -1;
        }
        if (shown > 20) buf_printf(report, "  (%d more)\n", shown - 20);
    }
    /* totals per currency and kind, recomputed from the entries */
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT a.currency, a.kind, sum(e.amount) FROM ledger_entries e"
                      " JOIN ledger_accounts a ON a.id = e.account_id GROUP BY a.currency, a.kind"
                      " ORDER BY a.currency, a.kind";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            buf_printf(report, "  %s %-16s %lld\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                       (long long)sqlite3_column_int64(st, 2));
        sqlite3_finalize(st);
    }
    buf_printf(report, "%s: %lld violation%s\n", violations ? "FAILED" : "OK", (long long)violations,
               violations == 1 ? "" : "s");
    if (violations_out) *violations_out = violations;
    return 0;
}

int store_ledger_verify(const char *path, buf *report, int64_t *violations)
{
    sqlite3 *db = NULL;
    char err[256];
    if (sq_open_conn(path, &db, 1, err, sizeof err) < 0) {
        buf_printf(report, "%s\n", err);
        return -1;
    }
    /* one read transaction: every check sees the same snapshot */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    int rc = sqlite_ledger_verify(db, report, violations);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* ---- the store operations over it ------------------------------------------------------- */

static int run_balance(sq_conn *c, sq_job *j)
{
    store_balance *out = j->out;
    memset(out, 0, sizeof *out);
    static const char sql[] =
        "SELECT currency, sum(CASE WHEN kind = 'payable' THEN balance ELSE 0 END),"
        " sum(CASE WHEN kind = 'paid_out' THEN balance ELSE 0 END), 0, 0 FROM ledger_accounts"
        " WHERE owner = ?1 AND kind IN ('payable', 'paid_out') GROUP BY currency"
        " UNION ALL SELECT k.currency, 0, 0, sum(m.amount), 0 FROM milestones m JOIN contracts k ON k.id = m.contract_id"
        " WHERE k.engineer_id = ?1 AND m.status IN ('funded', 'submitted', 'disputed') GROUP BY k.currency"
        " UNION ALL SELECT currency, 0, 0, 0, sum(amount) FROM payouts WHERE engineer_id = ?1 AND status = 'pending'"
        " GROUP BY currency";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cur = (const char *)sqlite3_column_text(st, 0);
        int i = 0;
        while (i < out->n && strcmp(out->rows[i].currency, cur) != 0) i++;
        if (i == out->n) {
            if (out->n == 16) continue;
            snprintf(out->rows[out->n++].currency, 4, "%s", cur);
        }
        out->rows[i].payable += sqlite3_column_int64(st, 1);
        out->rows[i].paid_out += sqlite3_column_int64(st, 2);
        out->rows[i].pending += sqlite3_column_int64(st, 3);
        out->rows[i].in_transit += sqlite3_column_int64(st, 4);
    }
    return rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqlite_balance(store *s, const char *engineer_id, store_balance *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_balance, 0, d, cb, ctx, NULL, out, engineer_id, NULL, 0);
}

static int run_report(sq_conn *c, sq_job *j)
{
    store_ledger_report *out = j->out;
    static const char totals[] = "SELECT currency, kind, sum(balance) FROM ledger_accounts GROUP BY currency, kind"
                                 " ORDER BY currency, kind";
    sqlite3_stmt *st = sq_prep(c, totals);
    if (!st) return STORE_IO;
    int rc;
    out->ntotals = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->ntotals < 96) {
        sqlite_copy_col(out->totals[out->ntotals].currency, 4, st, 0);
        sqlite_copy_col(out->totals[out->ntotals].kind, 20, st, 1);
        out->totals[out->ntotals++].balance = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    static const char accts[] = "SELECT id, kind, coalesce(owner, ''), currency, balance FROM ledger_accounts"
                                " ORDER BY abs(balance) DESC, id LIMIT ?";
    st = sq_prep(c, accts);
    if (!st) return STORE_IO;
    sqlite3_bind_int(st, 1, STORE_LEDGER_ACCOUNTS_MAX);
    out->naccounts = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->naccounts < STORE_LEDGER_ACCOUNTS_MAX) {
        int i = out->naccounts++;
        sqlite_copy_col(out->accounts[i].id, 80, st, 0);
        sqlite_copy_col(out->accounts[i].kind, 20, st, 1);
        sqlite_copy_col(out->accounts[i].owner, 32, st, 2);
        sqlite_copy_col(out->accounts[i].currency, 4, st, 3);
        out->accounts[i].balance = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    buf report;
    buf_init(&report, 1 << 20);
    rc = sqlite_ledger_verify(c->db, &report, &out->violations);
    out->report = report.data ? strdup(report.data) : strdup("");
    buf_free(&report);
    if (!out->report) return STORE_BUSY;
    return rc < 0 ? STORE_IO : STORE_OK;
}

int sqlite_ledger_report(store *s, store_ledger_report *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_report, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}
