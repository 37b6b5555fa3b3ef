/* disputes statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define VIEW_COLS                                                                                   \
    "d.id, d.milestone_id, m.contract_id, d.opened_by, d.status, coalesce(d.release_amount, 0),"    \
    " coalesce(d.refund_amount, 0), coalesce(d.resolved_by, ''), d.created_at,"                    \
    " coalesce(d.resolved_at, 0), m.amount, k.currency, d.reason, m.title, k.client_id, cu.name,"  \
    " k.engineer_id, eu.name, d.seq, k.request_id, r.title, d.from_status"                       \
    " FROM disputes d JOIN milestones m ON m.id = d.milestone_id JOIN contracts k ON k.id = m.contract_id" \
    " JOIN users cu ON cu.id = k.client_id JOIN users eu ON eu.id = k.engineer_id"                  \
    " JOIN requests r ON r.id = k.request_id"

const sql_stmt sql_postgres_disputes[] = {
    {ST_READ_DISPUTE, "SELECT " VIEW_COLS " WHERE d.id = $1"},
    {ST_DISPUTE_OPEN_INS, "INSERT INTO disputes(id, milestone_id, opened_by, reason, from_status, status, created_at)"
                          " VALUES ($1,$2,$3,$4,$5,'open',$6)"},
    {ST_DISPUTE_OPEN_UPD, "UPDATE milestones SET status = 'disputed', dispute_id = $1 WHERE id = $2 AND status = $3"},
    {ST_DISPUTE_OPEN_EV, "SELECT json_build_object('dispute_id', $1::text, 'milestone_id', $2::text, 'contract_id', $3::text)"},
    {ST_DISPUTE_RESOLVE_UPD, "UPDATE milestones SET status = 'resolved', settled_at = $1 WHERE id = $2 AND status = 'disputed'"},
    {ST_DISPUTE_RESOLVE_DD, "UPDATE disputes SET status = 'resolved', release_amount = $1, refund_amount = $2,"
                            " resolved_by = $3, resolved_at = $4 WHERE id = $5 AND status = 'open'"},
    {ST_DISPUTE_RESOLVE_MAIL, "SELECT json_build_object('subject', 'A dispute was resolved'::text, 'text',"
                              " 'An admin resolved a dispute on your contract; see the contract for the split.'::text)"},
    {ST_END_BUSY, "SELECT 1 FROM payments p JOIN milestones m ON m.id = p.milestone_id"
                  " WHERE m.contract_id = $1 AND p.kind = 'charge' AND p.status = 'pending'"},
    {ST_END_REFUND_MILESTONE, "UPDATE milestones SET status = 'refunded', settled_at = $1 WHERE id = $2"},
    {ST_END_CONTRACT, "UPDATE contracts SET status = 'ended', ended_at = $1, ended_by = $2 WHERE id = $3"
                          " AND status = 'active'"},
    {ST_DISPUTE_GET, "SELECT " VIEW_COLS " WHERE d.id = $1"},
    {ST_DISPUTES_LIST, "SELECT " VIEW_COLS " WHERE ($1::text IS NULL OR d.status = $1)"
                       "   AND ($2::bigint = 0 OR (d.status = 'open')::int < $3::bigint"
                       "        OR ((d.status = 'open')::int = $3 AND d.seq < $2))"
                       " ORDER BY d.status = 'open' DESC, d.seq DESC LIMIT $4"},
    {0, NULL},
};
