/* contracts statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define PAYMENT_COLS                                                                                       \
    "SELECT id, milestone_id, kind, gateway, gateway_key, coalesce(gateway_ref, ''), amount, currency, status,"  \
    " coalesce(error, '') FROM payments"

const sql_stmt sql_postgres_contracts[] = {
    {ST_CONTRACT_READ, "SELECT k.id, k.request_id, k.candidate_id, k.client_id, cu.name, k.engineer_id, eu.name, r.title,"
                       " k.type, k.status, k.currency, coalesce(k.hourly_rate, 0), coalesce(k.weekly_cap_hours, 0),"
                       " k.fee_bps, k.created_at, coalesce(k.accepted_at, 0), coalesce(k.ended_at, 0),"
                       " coalesce((SELECT balance FROM ledger_accounts WHERE id = 'escrow:' || k.id), 0)"
                       " FROM contracts k JOIN users cu ON cu.id = k.client_id JOIN users eu ON eu.id = k.engineer_id"
                       " JOIN requests r ON r.id = k.request_id WHERE k.id = $1"},
    {ST_CONTRACT_READ_MS, "SELECT m.id, m.position, m.title, m.amount, coalesce(m.due, ''), coalesce(m.week_start, ''),"
                          " m.status, m.note, m.links, coalesce(m.changes_note, ''), coalesce(m.dispute_id, ''),"
                          " coalesce((SELECT sum(amount)::bigint FROM ledger_entries e WHERE e.milestone_id = m.id"
                          "   AND e.account_id = 'escrow:' || m.contract_id), 0),"
                          " m.created_at, coalesce(m.funded_at, 0), coalesce(m.submitted_at, 0), coalesce(m.settled_at, 0)"
                          " FROM milestones m WHERE m.contract_id = $1 ORDER BY m.position"},
    {ST_CONTRACT_ANNOUNCE_EV, "SELECT json_build_object('contract_id', $1::text, 'status', $2::text, 'request_id', $3::text, 'kind', $4::text)"},
    {ST_CONTRACT_ANNOUNCE_MAIL, "SELECT json_build_object('subject', $1::text, 'text', $2::text, 'contract_id', $3::text)"},
    {ST_OFFER_CAND, "SELECT k.status, k.engineer_id, r.client_id, r.id FROM candidates k"
                    " JOIN requests r ON r.id = k.request_id WHERE k.id = $1"},
    {ST_OFFER_INS, "INSERT INTO contracts(id, request_id, candidate_id, client_id, engineer_id, type, status, currency,"
                   " hourly_rate, weekly_cap_hours, fee_bps, created_at) VALUES ($1,$2,$3,$4,$5,$6,'offered',$7,$8,$9,$10,$11)"},
    {ST_OFFER_MI, "INSERT INTO milestones(id, contract_id, position, title, amount, due, week_start,"
                  " status, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,'pending',$8)"},
    {ST_ANSWER_UPD, "UPDATE contracts SET status = $1,"
                    " accepted_at = CASE WHEN $1 = 'active' THEN $2 ELSE accepted_at END,"
                    " ended_at = CASE WHEN $1 = 'active' THEN ended_at ELSE $2 END"
                    " WHERE id = $3 AND status = 'offered'"},
    {ST_ANSWER_HIRE, "UPDATE candidates SET status = 'hired' WHERE id = $1 AND status = 'accepted'"},
    {ST_ENGINEER_BUSY, "SELECT EXISTS (SELECT 1 FROM contracts WHERE engineer_id = $1 AND status = 'active')"},
    {ST_CONTRACT_OF, "SELECT contract_id FROM milestones WHERE id = $1"},
    {ST_READ_PAYMENT, PAYMENT_COLS " WHERE gateway_key = $1"},
    {ST_PAYMENT_GET, PAYMENT_COLS " WHERE id = $1"},
    {ST_FUND_BEGIN_BUSY, "SELECT 1 FROM payments WHERE milestone_id = $1 AND kind = 'charge'"
                         " AND status = 'pending'"},
    {ST_FUND_BEGIN_INS, "INSERT INTO payments(id, milestone_id, kind, gateway, gateway_key, amount, currency,"
                        " status, created_at, updated_at) VALUES ($1,$2,'charge',$3,$4,$5,$6,'pending',$7,$8)"},
    {ST_FUND_FINISH_UPD, "UPDATE payments SET status = $1, gateway_ref = $2, error = $3, updated_at = $4"
                         " WHERE id = $5 AND status = 'pending'"},
    {ST_FUND_FINISH_MV, "UPDATE milestones SET status = 'funded', funded_at = $1 WHERE id = $2"
                        " AND status = 'pending'"},
    {ST_MILESTONE_MOVE_UPD, "UPDATE milestones SET status = $1," " note = CASE WHEN $1 = 'submitted' THEN $2 ELSE note END,"
                  " links = CASE WHEN $1 = 'submitted' THEN coalesce($3, '[]') ELSE links END,"
                  " submitted_at = CASE WHEN $1 = 'submitted' THEN $4 ELSE submitted_at END,"
                  " changes_note = CASE WHEN $1 = 'funded' THEN $2 ELSE changes_note END,"
                  " settled_at = CASE WHEN $1 = 'released' THEN $4 ELSE settled_at END"
                  " WHERE id = $5 AND status = $6"},
    {0, NULL},
};
