/* jobs statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_jobs[] = {
    {ST_JOB_SCHEDULE, "INSERT INTO jobs(id, kind, ref, run_at) VALUES ($1,$2,$3,$4)"
                      " ON CONFLICT(kind, ref) DO UPDATE SET run_at = excluded.run_at,"
                      " done_at = NULL, lease_until = 0"},
    {ST_JOB_SCHEDULE_ONCE, "INSERT INTO jobs(id, kind, ref, run_at) VALUES ($1,$2,$3,$4)"
                           " ON CONFLICT(kind, ref) DO UPDATE SET run_at = excluded.run_at,"
                           " done_at = NULL, lease_until = 0, attempts = 0, last_error = NULL"
                           " WHERE jobs.done_at IS NOT NULL"},
    {ST_JOB_CANCEL, "UPDATE jobs SET done_at = $1 WHERE kind = $2 AND ref = $3 AND done_at IS NULL"},
    {ST_JOB_MARK_DONE, "UPDATE jobs SET done_at = $1, last_error = $2 WHERE id = $3 AND done_at IS NULL"},
    {ST_JOBS_CLAIM, "UPDATE jobs SET lease_until = $1 + $2, attempts = attempts + 1 WHERE id IN"
               " (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND lease_until <= $1"
               "  ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)" " RETURNING id, kind, ref, run_at, attempts"},
    {0, NULL},
};
