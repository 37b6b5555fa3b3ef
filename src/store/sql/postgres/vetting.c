/* vetting statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_vetting[] = {
    {ST_VETTING_READ_STATUS, "SELECT status, coalesce(reapply_after, 0) FROM engineer_profiles WHERE user_id = $1"},
    {ST_VETTING_MOVE, "UPDATE engineer_profiles SET status = $1, status_at = $2" " WHERE user_id = $3 AND status = $4"},
    {ST_LOAD_SKILLS, "SELECT skill_id, self_level, coalesce(vetted_level, 0)"
                     " FROM engineer_skills WHERE user_id = $1 ORDER BY skill_id"},
    {ST_LOAD_ENGINEER, "SELECT u.id, u.name, u.email, u.role, p.user_id IS NOT NULL, coalesce(p.headline, ''),"
                       " coalesce(p.bio, ''), coalesce(p.rate_amount, 0), coalesce(p.rate_currency, ''),"
                       " coalesce(p.timezone, ''), coalesce(p.hours_per_week, 0),"
                       " coalesce(p.years_experience, 0), coalesce(p.links, '[]'), coalesce(p.available, 1),"
                       " coalesce(p.status, 'registered'), coalesce(p.level, ''),"
                       " coalesce(p.reapply_after, 0), coalesce(p.status_at, u.created_at),"
                       " (SELECT round(avg(r.rating) * 100) FROM reviews r WHERE r.subject_id = u.id"
                       "   AND r.published_at IS NOT NULL), u.status = 'suspended'"
                       " FROM users u LEFT JOIN engineer_profiles p ON p.user_id = u.id WHERE u.id = $1"},
    {ST_PROFILE_PUT_INS, "INSERT INTO engineer_profiles(user_id, headline, bio, rate_amount, rate_currency, timezone,"
                         " hours_per_week, years_experience, links, available, status, status_at, updated_at)"
                         " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'registered',$11,$11)"
                         " ON CONFLICT(user_id) DO UPDATE SET headline=$2, bio=$3, rate_amount=$4,"
                         " rate_currency=$5, timezone=$6, hours_per_week=$7, years_experience=$8, links=$9,"
                         " available=$10, updated_at=$11"},
    {ST_PROFILE_PUT_DEL, "DELETE FROM engineer_skills WHERE user_id = $1 AND vetted_level IS NULL"},
    {ST_PROFILE_PUT_UP, "INSERT INTO engineer_skills(user_id, skill_id, self_level) VALUES ($1,$2,$3)"
                        " ON CONFLICT(user_id, skill_id) DO UPDATE SET self_level = excluded.self_level"},
    {ST_ATTEMPT_START_OPEN, "SELECT id FROM assessment_attempts WHERE user_id = $1"
                                " AND submitted_at IS NULL AND expires_at > $2" " ORDER BY started_at DESC LIMIT 1"},
    {ST_ATTEMPT_START_COUNT, "SELECT count(*), coalesce(min(started_at), 0)"
                                 " FROM assessment_attempts WHERE user_id = $1 AND started_at > $2"},
    {ST_ATTEMPT_START_INS, "INSERT INTO assessment_attempts(id, user_id, questions, started_at,"
                           " expires_at) VALUES ($1,$2,$3,$4,$5)"},
    {ST_ATTEMPT_GET, "SELECT id, user_id, questions, started_at, expires_at, coalesce(submitted_at, 0),"
                     " coalesce(answers, ''), coalesce(score, 0), coalesce(passed, 0)"
                     " FROM assessment_attempts WHERE id = $1"},
    {ST_ATTEMPT_FINISH, "UPDATE assessment_attempts SET submitted_at = $1, answers = $2,"
                        " score = $3, passed = $4 WHERE id = $5 AND user_id = $6"
                        " AND submitted_at IS NULL AND expires_at > $7"},
    {ST_VETTING_QUEUE, "SELECT u.id, u.name, u.email, p.headline, p.timezone, p.hours_per_week,"
               " p.years_experience, p.rate_amount, p.rate_currency, p.status_at,"
               " (SELECT coalesce(max(score), 0) FROM assessment_attempts a"
               "   WHERE a.user_id = u.id AND a.passed = 1),"
               " coalesce(lc.id, ''), coalesce(lc.status, ''), coalesce(lc.score, 0), coalesce(lc.passed, 0)"
               " FROM engineer_profiles p JOIN users u ON u.id = p.user_id"
               " LEFT JOIN challenge_attempts lc ON lc.id = (SELECT c.id FROM challenge_attempts c"
               "   WHERE c.user_id = u.id ORDER BY c.started_at DESC, c.id DESC LIMIT 1)"
               " WHERE p.status = 'assessment_passed' ORDER BY p.status_at, u.id LIMIT $1"},
    {ST_SCORECARD_INS, "INSERT INTO scorecards(id, engineer_id, vetter_id, concepts, must_have, testing,"
                       " production, senior, decision, level, notes, created_at)"
                       " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"},
    {ST_SCORECARD_CONF, "UPDATE engineer_skills SET vetted_level = $1" " WHERE user_id = $2 AND skill_id = $3"},
    {ST_SCORECARD_UPD, "UPDATE engineer_profiles SET level = $1, reapply_after = $2" " WHERE user_id = $3"},
    {ST_AUDIT_LIST, "SELECT at, coalesce(actor_id, ''), action, coalesce(detail, '')"
                    " FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id LIMIT $3"},
    {0, NULL},
};
