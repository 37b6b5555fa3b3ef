/* money_out statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define REFUND_COLS                                                                                          \
    "SELECT p.seq, p.id, p.gateway, coalesce(p.gateway_ref, ''),"                                           \
    " coalesce((SELECT ch.gateway_ref FROM payments ch WHERE ch.milestone_id = p.milestone_id"              \
    "   AND ch.kind = 'charge' AND ch.status = 'succeeded' ORDER BY ch.seq LIMIT 1), ''),"                              \
    " k.client_id, p.milestone_id, k.id, p.amount, p.currency, p.status, coalesce(p.error, ''), p.attempts," \
    " p.created_at, p.updated_at, '', '' FROM payments p JOIN milestones m ON m.id = p.milestone_id"        \
    " JOIN contracts k ON k.id = m.contract_id"

#define PAYOUT_COLS                                                                                  \
    "SELECT seq, id, gateway, coalesce(gateway_ref, ''), '', engineer_id, '', '', amount, currency, status," \
    " coalesce(error, ''), attempts, created_at, updated_at, destination, batch_id FROM payouts"

const sql_stmt sql_postgres_money_out[] = {
    {ST_READ_ONE_REFUND, REFUND_COLS " WHERE p.id = $1 AND p.kind = 'refund'"},
    {ST_READ_ONE_PAYOUT, PAYOUT_COLS " WHERE id = $1"},
    {ST_REFUND_QUEUE_CHARGE, "SELECT gateway FROM payments WHERE milestone_id = $1 AND kind = 'charge'"
                             " AND status = 'succeeded' LIMIT 1"},
    {ST_REFUND_QUEUE_INS, "INSERT INTO payments(id, milestone_id, kind, gateway, gateway_key, amount, currency,"
                          " status, created_at, updated_at) VALUES ($1, $2, 'refund', $3, $1, $4, $5,"
                          " 'pending', $6, $6)"},
    {ST_LIST_REFUNDS, REFUND_COLS " WHERE p.kind = 'refund' AND ($1 = '' OR p.status = $1)"
                      " AND ($2 = '' OR k.client_id = $2) AND ($3::bigint = 0 OR p.seq < $3)"
                      " ORDER BY p.seq DESC LIMIT $4"},
    {ST_LIST_PAYOUTS, PAYOUT_COLS " WHERE ($1 = '' OR status = $1) AND ($2 = '' OR engineer_id = $2)"
                      " AND ($3::bigint = 0 OR seq < $3) ORDER BY seq DESC LIMIT $4"},
    {ST_MONEY_OUT_ANNOUNCE_EV, "SELECT json_build_object('id', $1::text, 'kind', $2::text, 'status', $3::text, 'amount', $4::bigint,"
                     " 'currency', $5::text, 'contract_id', nullif($6::text, ''), 'milestone_id', nullif($7::text, ''),"
                     " 'batch_id', nullif($8::text, ''), 'error', nullif($9::text, ''))"},
    {ST_MONEY_OUT_ANNOUNCE_MAIL, "SELECT json_build_object('subject', $1::text, 'text', $2::text, 'id', $3::text)"},
    {ST_SET_STATUS_REFUND, "UPDATE payments SET status = $1, gateway_ref = coalesce(nullif($2, ''), gateway_ref),"
                           " error = nullif($3, ''), attempts = attempts + $4, updated_at = $5 WHERE id = $6"},
    {ST_SET_STATUS_PAYOUT, "UPDATE payouts SET status = $1, gateway_ref = coalesce(nullif($2, ''), gateway_ref),"
                           " error = nullif($3, ''), attempts = attempts + $4, updated_at = $5 WHERE id = $6"},
    {ST_MONEY_OUT_RESCHEDULE, "UPDATE jobs SET run_at = $1, lease_until = 0, last_error = $2"
                          " WHERE id = $3 AND done_at IS NULL"},
    {ST_REFUND_RETRY_DONE, "SELECT 1 FROM audit_log WHERE entity = 'payment' AND entity_id = $1"
                    " AND action = 'refund.retried'"},
    {ST_PAYOUT_BATCH_OWED, "SELECT a.owner, a.currency, a.balance, coalesce(pa.stripe_account, '')"
                    " FROM ledger_accounts a LEFT JOIN payout_accounts pa ON pa.user_id = a.owner"
                    " WHERE a.kind = 'payable' AND a.balance >= $1 AND a.balance > 0" " ORDER BY a.balance DESC, a.id"},
    {ST_PAYOUT_BATCH_INS, "INSERT INTO payouts(id, batch_id, engineer_id, amount, currency, gateway,"
                   " destination, status, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,'pending',$8,$9)"},
    {ST_PAYOUT_ACCOUNT_SET, "INSERT INTO payout_accounts(user_id, stripe_account, updated_at) VALUES ($1, $2, $3)"
                     " ON CONFLICT(user_id) DO UPDATE SET stripe_account = excluded.stripe_account,"
                     " updated_at = excluded.updated_at"},
    {ST_PAYOUT_ACCOUNT_GET, "SELECT stripe_account, updated_at FROM payout_accounts WHERE user_id = $1"},
    {0, NULL},
};
