/* contract_views statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_contract_views[] = {
    {ST_CONTRACTS_LIST, "SELECT k.seq, k.id, k.request_id, r.title, k.client_id, cu.name, k.engineer_id, eu.name, k.type,"
                        " k.status, k.currency, coalesce(k.hourly_rate, 0), coalesce(k.weekly_cap_hours, 0), k.fee_bps,"
                        " (SELECT coalesce(sum(amount), 0)::bigint FROM milestones WHERE contract_id = k.id),"
                        " (SELECT count(*) FROM milestones WHERE contract_id = k.id),"
                        " coalesce((SELECT balance FROM ledger_accounts WHERE id = 'escrow:' || k.id), 0),"
                        " k.created_at, coalesce(k.accepted_at, 0), coalesce(k.ended_at, 0),"
                        " (SELECT coalesce(json_agg(json_build_object('id', id, 'position', position, 'title', title, 'amount', amount,"
                        "   'due', due, 'week_start', week_start, 'status', status, 'changes_note', changes_note)"
                        "   ORDER BY position), '[]'::json)"
                        "  FROM milestones WHERE contract_id = k.id)"
                        " FROM contracts k JOIN users cu ON cu.id = k.client_id JOIN users eu ON eu.id = k.engineer_id"
                        " JOIN requests r ON r.id = k.request_id"
                        " WHERE ($1::text IS NULL OR k.client_id = $1) AND ($2::text IS NULL OR k.engineer_id = $2)"
                        " AND ($3::text IS NULL OR k.request_id = $3) AND ($4::text IS NULL OR k.status = $4)"
                        " AND ($5::bigint = 0 OR k.seq < $5) ORDER BY k.seq DESC LIMIT $6"},
    {ST_CONTRACT_PARTY_CHECK, "SELECT client_id, engineer_id, currency FROM contracts WHERE id = $1"},
    {ST_CONTRACT_RECEIPTS, "SELECT p.id, p.kind, p.milestone_id, m.title, p.gateway, coalesce(p.gateway_ref, ''), p.amount, p.currency,"
                  " p.status, coalesce(p.error, ''), p.created_at, p.updated_at,"
                  " CASE WHEN p.kind = 'refund' THEN coalesce((SELECT ch.id FROM payments ch WHERE ch.milestone_id = p.milestone_id"
                  "   AND ch.kind = 'charge' AND ch.status = 'succeeded' ORDER BY ch.created_at, ch.seq LIMIT 1), '') ELSE '' END"
                  " FROM payments p JOIN milestones m ON m.id = p.milestone_id"
                  " WHERE m.contract_id = $1 AND p.kind IN ('charge', 'refund') ORDER BY p.created_at, p.seq LIMIT $2"},
    {ST_CONTRACT_TIMESHEETS, "SELECT t.id, t.milestone_id, t.week_start, t.hours, t.note, t.status, t.hours * k.hourly_rate,"
                    " t.submitted_at, coalesce(t.approved_at, 0)"
                    " FROM timesheets t JOIN contracts k ON k.id = t.contract_id WHERE t.contract_id = $1"
                    " ORDER BY t.week_start LIMIT $2"},
    {0, NULL},
};
