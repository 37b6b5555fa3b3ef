/* challenge statements, PostgreSQL dialect (see sql.h): the practical
 * challenge's attempts, which are also its grading queue. */
#include <stddef.h>
#include "../../sql.h"

#define CH_COLS "id, user_id, challenge_id, status, started_at, expires_at, coalesce(submitted_at, 0)," \
                " coalesce(graded_at, 0), lease_until, tries, coalesce(score, 0), coalesce(passed, 0), code, result"

const sql_stmt sql_postgres_challenges[] = {
    {ST_CHALLENGE_OPEN, "SELECT id FROM challenge_attempts WHERE user_id = $1"
                        " AND (status IN ('queued', 'running') OR (status = 'open' AND expires_at > $2))"
                        " ORDER BY started_at DESC LIMIT 1"},
    {ST_CHALLENGE_COUNT, "SELECT count(*), coalesce(min(started_at), 0)"
                         " FROM challenge_attempts WHERE user_id = $1 AND started_at > $2"},
    {ST_CHALLENGE_INS, "INSERT INTO challenge_attempts(id, user_id, challenge_id, started_at, expires_at)"
                       " VALUES ($1, $2, $3, $4, $5)"},
    {ST_CHALLENGE_GET, "SELECT " CH_COLS " FROM challenge_attempts WHERE id = $1"},
    {ST_CHALLENGE_LATEST, "SELECT " CH_COLS " FROM challenge_attempts WHERE user_id = $1"
                          " ORDER BY started_at DESC, id DESC LIMIT 1"},
    {ST_CHALLENGE_SUBMIT, "UPDATE challenge_attempts SET status = 'queued', code = $1, submitted_at = $2"
                          " WHERE id = $3 AND user_id = $4 AND status = 'open' AND expires_at > $2"},
    {ST_CHALLENGE_DEPTH, "SELECT count(*) FROM challenge_attempts WHERE status IN ('queued', 'running')"},
    {ST_CHALLENGE_DUE, "SELECT id FROM challenge_attempts"
                       " WHERE status = 'queued' OR (status = 'running' AND lease_until <= $1)"
                       " ORDER BY submitted_at, id LIMIT $2"},
    {ST_CHALLENGE_CLAIM, "UPDATE challenge_attempts SET status = 'running', lease_until = $1, tries = tries + 1"
                         " WHERE id = $2 AND (status = 'queued' OR (status = 'running' AND lease_until <= $3))"},
    {ST_CHALLENGE_GRADE, "UPDATE challenge_attempts SET status = 'graded', graded_at = $1, score = $2,"
                         " passed = $3, result = $4, lease_until = 0"
                         " WHERE id = $5 AND status = 'running' AND tries = $6"},
    {ST_CHALLENGE_RELEASE, "UPDATE challenge_attempts SET status = 'queued', lease_until = 0, tries = tries - 1"
                           " WHERE id = $1 AND status = 'running' AND tries = $2"},
    {ST_CHALLENGE_STATS, "SELECT coalesce(sum(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0),"
                         " coalesce(sum(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0),"
                         " coalesce(min(CASE WHEN status = 'queued' THEN submitted_at END), 0)"
                         " FROM challenge_attempts WHERE status IN ('queued', 'running')"},
    {0, NULL},
};
