/* ledger statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_ledger[] = {
    {ST_LEDGER_POST_TXN, "INSERT INTO ledger_txns(id, kind, contract_id, milestone_id, memo, created_at)"
                         " VALUES ($1,$2,$3,$4,$5,$6)"},
    {ST_LEDGER_POST_ACCT, "INSERT INTO ledger_accounts(id, kind, owner, currency) VALUES ($1,$2,$3,$4)"
                          " ON CONFLICT(id) DO NOTHING"},
    {ST_LEDGER_POST_BAL, "UPDATE ledger_accounts SET balance = balance + $1" " WHERE id = $2 AND currency = $3"},
    {ST_LEDGER_POST_ENT, "INSERT INTO ledger_entries(txn_id, account_id, currency, amount, milestone_id)"
                         " VALUES ($1,$2,$3,$4,$5)"},
    {ST_BALANCE, "SELECT currency, sum(CASE WHEN kind = 'payable' THEN balance ELSE 0 END)::bigint,"
                 " sum(CASE WHEN kind = 'paid_out' THEN balance ELSE 0 END)::bigint, 0, 0 FROM ledger_accounts"
                 " WHERE owner = $1 AND kind IN ('payable', 'paid_out') GROUP BY currency"
                 " UNION ALL SELECT k.currency, 0, 0, sum(m.amount)::bigint, 0 FROM milestones m JOIN contracts k ON k.id = m.contract_id"
                 " WHERE k.engineer_id = $1 AND m.status IN ('funded', 'submitted', 'disputed') GROUP BY k.currency"
                 " UNION ALL SELECT currency, 0, 0, 0, sum(amount)::bigint FROM payouts WHERE engineer_id = $1 AND status = 'pending'"
                 " GROUP BY currency"},
    {ST_REPORT_TOTALS, "SELECT currency, kind, sum(balance)::bigint FROM ledger_accounts GROUP BY currency, kind"
                       " ORDER BY currency, kind"},
    {ST_REPORT_ACCTS, "SELECT id, kind, coalesce(owner, ''), currency, balance FROM ledger_accounts"
                      " ORDER BY abs(balance) DESC, id LIMIT $1"},
    {ST_LEDGER_CHECK_BALANCED, "SELECT t.id || ' ' || coalesce(e.currency, '?') || ' sums to ' || coalesce(sum(e.amount), 0)"
                              " FROM ledger_txns t LEFT JOIN ledger_entries e ON e.txn_id = t.id"
                              " GROUP BY t.id, e.currency HAVING coalesce(sum(e.amount), 0) <> 0 OR count(e.id) = 0"},
    {ST_LEDGER_CHECK_TWO_ENTRIES, "SELECT t.id FROM ledger_txns t WHERE (SELECT count(*) FROM ledger_entries e WHERE e.txn_id = t.id) < 2"},
    {ST_LEDGER_CHECK_CURRENCY, "SELECT 'entry ' || e.id || ' ' || e.currency || ' on ' || a.id || ' ' || a.currency"
                              " FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id WHERE e.currency <> a.currency"},
    {ST_LEDGER_CHECK_STORED, "SELECT a.id || ' stored ' || a.balance || ', entries ' || coalesce((SELECT sum(amount) FROM ledger_entries"
                            " WHERE account_id = a.id), 0) FROM ledger_accounts a"
                            " WHERE a.balance <> coalesce((SELECT sum(amount) FROM ledger_entries WHERE account_id = a.id), 0)"},
    {ST_LEDGER_CHECK_NEGATIVE, "SELECT a.id || ' = ' || s.total FROM ledger_accounts a JOIN (SELECT account_id, sum(amount) AS total"
                              " FROM ledger_entries GROUP BY account_id) s ON s.account_id = a.id"
                              " WHERE a.kind NOT IN ('gateway_clearing', 'paid_out') AND s.total < 0"},
    {ST_LEDGER_CHECK_MILESTONE_ESCROW, "SELECT m.id || ' (' || m.status || ', amount ' || m.amount || ') holds ' || x.held FROM milestones m"
                                      " JOIN (SELECT mm.id AS id, coalesce((SELECT sum(e.amount) FROM ledger_entries e WHERE e.milestone_id = mm.id"
                                      "   AND e.account_id = 'escrow:' || mm.contract_id), 0) AS held FROM milestones mm) x ON x.id = m.id"
                                      " WHERE (m.status IN ('funded', 'submitted', 'disputed') AND x.held <> m.amount)"
                                      "    OR (m.status NOT IN ('funded', 'submitted', 'disputed') AND x.held <> 0)"},
    {ST_LEDGER_CHECK_CONTRACT_ESCROW, "SELECT k.id || ' escrow ' || coalesce(a.balance, 0) || ', milestones ' || coalesce((SELECT sum(e.amount)"
                                     " FROM ledger_entries e JOIN milestones m ON m.id = e.milestone_id WHERE m.contract_id = k.id"
                                     "   AND e.account_id = 'escrow:' || k.id), 0) FROM contracts k"
                                     " LEFT JOIN ledger_accounts a ON a.id = 'escrow:' || k.id"
                                     " WHERE coalesce(a.balance, 0) <> coalesce((SELECT sum(e.amount) FROM ledger_entries e"
                                     "   JOIN milestones m ON m.id = e.milestone_id WHERE m.contract_id = k.id"
                                     "   AND e.account_id = 'escrow:' || k.id), 0)"},
    {ST_LEDGER_CHECK_FUNDED_TWICE, "SELECT milestone_id || ' funded ' || count(*) || ' times' FROM ledger_txns WHERE kind = 'fund'"
                                  " GROUP BY milestone_id HAVING count(*) > 1"},
    {ST_LEDGER_CHECK_REFUNDS, "SELECT m.id || ' ledger refunded ' || coalesce(l.led, 0) || ', card refunds ' || coalesce(p.total, 0)"
                             " FROM milestones m LEFT JOIN (SELECT t.milestone_id AS mid, sum(e.amount) AS led FROM ledger_txns t"
                             "   JOIN ledger_entries e ON e.txn_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
                             "   WHERE a.kind = 'gateway_clearing' AND t.kind <> 'fund' AND t.milestone_id IS NOT NULL"
                             "   GROUP BY t.milestone_id) l ON l.mid = m.id"
                             " LEFT JOIN (SELECT milestone_id, sum(amount) AS total FROM payments WHERE kind = 'refund'"
                             "   AND status <> 'failed' GROUP BY milestone_id) p ON p.milestone_id = m.id"
                             " WHERE coalesce(l.led, 0) <> coalesce(p.total, 0)"},
    {ST_LEDGER_CHECK_PAYOUTS, "SELECT a.id || ' = ' || a.balance || ', payouts ' || coalesce(p.total, 0) FROM ledger_accounts a"
                             " LEFT JOIN (SELECT engineer_id, currency, sum(amount) AS total FROM payouts"
                             "   WHERE status IN ('pending', 'succeeded') GROUP BY engineer_id, currency) p"
                             "   ON p.engineer_id = a.owner AND p.currency = a.currency"
                             " WHERE a.kind = 'paid_out' AND a.balance <> coalesce(p.total, 0)"},
    {ST_LEDGER_COUNT_TXNS, "SELECT count(*) FROM ledger_txns"},
    {ST_LEDGER_COUNT_ENTRIES, "SELECT count(*) FROM ledger_entries"},
    {ST_LEDGER_COUNT_ACCOUNTS, "SELECT count(*) FROM ledger_accounts"},
    {ST_LEDGER_ENTRY_TOTALS, "SELECT a.currency, a.kind, sum(e.amount)::bigint FROM ledger_entries e"
                            " JOIN ledger_accounts a ON a.id = e.account_id GROUP BY a.currency, a.kind"
                            " ORDER BY a.currency, a.kind"},
    {0, NULL},
};
