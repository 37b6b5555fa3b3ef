/* timesheets statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_timesheets[] = {
    {ST_TIMESHEET_READ, "SELECT t.id, t.contract_id, t.milestone_id, t.week_start, t.hours, t.note, t.status,"
                        " t.hours * k.hourly_rate, t.submitted_at, coalesce(t.approved_at, 0)"
                        " FROM timesheets t JOIN contracts k ON k.id = t.contract_id WHERE t.id = $1"},
    {ST_OPEN_NEXT_WEEK_INS, "INSERT INTO milestones(id, contract_id, position, title, amount, week_start, status, created_at)"
                            " SELECT $1, $2, $3, $4, $5, $6, 'pending', $7"
                            " WHERE NOT EXISTS (SELECT 1 FROM milestones WHERE contract_id = $2 AND week_start = $6)"},
    {ST_TIMESHEET_SUBMIT_INS, "INSERT INTO timesheets(id, contract_id, milestone_id, week_start, hours, note, status,"
                    " submitted_at) VALUES ($1,$2,$3,$4,$5,$6,'submitted',$7)"},
    {ST_TIMESHEET_SUBMIT_UPD, "UPDATE milestones SET status = 'submitted', note = $1, submitted_at = $2"
                    " WHERE id = $3 AND status = 'funded'"},
    {ST_TIMESHEET_APPROVE_MV, "UPDATE milestones SET status = 'released', settled_at = $1 WHERE id = $2 AND status = 'submitted'"},
    {ST_TIMESHEET_APPROVE_TS, "UPDATE timesheets SET status = 'approved', approved_at = $1 WHERE id = $2 AND status = 'submitted'"},
    {0, NULL},
};
