/* requests statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define CANDIDATE_COLS                                                                             \
    "k.id, k.request_id, k.engineer_id, k.status, k.score, k.rank, k.explain, k.invited_at,"      \
    " k.expires_at, coalesce(k.responded_at, 0)"

const sql_stmt sql_postgres_requests[] = {
    {ST_INSERT_CANDIDATE, "INSERT INTO candidates(id, request_id, engineer_id, status, score, rank, explain,"
                          " invited_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"},
    {ST_INSERT_CANDIDATE_NOTE, "INSERT INTO notifications(user_id, kind, payload, created_at)"
                               " VALUES ($1, 'invitation', json_build_object('candidate_id', $2::text, 'request_id', $3::text)::text, $4)"},
    {ST_INSERT_CANDIDATE_WHAT, "SELECT json_build_object('candidate_id', k.id, 'request_id', r.id, 'request_title', r.title,"
                               " 'status', k.status, 'expires_at', " SQL_RFC3339("k.expires_at") ")"
                               " FROM candidates k JOIN requests r ON r.id = k.request_id WHERE k.id = $1"},
    {ST_ANNOUNCE_CANDIDATE_WHAT, "SELECT json_build_object('candidate_id', k.id, 'request_id', r.id, 'request_title', r.title,"
                                 " 'status', k.status, 'engineer_id', k.engineer_id, 'engineer_name', u.name,"
                                 " 'client_id', r.client_id,"
                                 " 'conversation_id', (SELECT id FROM conversations WHERE candidate_id = k.id))"
                                 " FROM candidates k JOIN requests r ON r.id = k.request_id JOIN users u ON u.id = k.engineer_id"
                                 " WHERE k.id = $1"},
    {ST_REQUEST_CREATE, "INSERT INTO requests(id, client_id, title, description, spec, status, relaxed,"
                        " sla_deadline, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"},
    {ST_REQUEST_GET, "SELECT id, client_id, title, description, spec, status, relaxed, sla_deadline, created_at,"
                     " coalesce(matched_at, 0), coalesce(breached_at, 0) FROM requests WHERE id = $1"},
    {ST_REQUEST_GET_CANDIDATES, "SELECT k.id, k.engineer_id, k.status, k.score, k.rank, k.explain, k.invited_at,"
                          " k.expires_at, coalesce(k.responded_at, 0), u.name FROM candidates k"
                          " JOIN users u ON u.id = k.engineer_id WHERE k.request_id = $1 ORDER BY k.rank, k.id"},
    {ST_MATCHABLE, "SELECT p.user_id, p.rate_currency, p.timezone, coalesce(p.level, 'mid'), p.available,"
                   " p.hours_per_week, p.rate_amount,"
                   " coalesce((SELECT round(avg(r.rating) * 100) FROM reviews r WHERE r.subject_id = p.user_id"
                   "   AND r.published_at IS NOT NULL), 0),"
                   " EXISTS (SELECT 1 FROM contracts k WHERE k.engineer_id = p.user_id AND k.status = 'active')"
                   " FROM engineer_profiles p" " WHERE p.status = 'vetted' AND p.user_id > $1"
                   " AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id AND u.status = 'suspended')"
                   " ORDER BY p.user_id LIMIT $2"},
    {ST_MATCHABLE_SKILLS, "SELECT skill_id, self_level, coalesce(vetted_level, 0)"
                        " FROM engineer_skills WHERE user_id = $1"},
    {ST_CANDIDATE_GET, "SELECT " CANDIDATE_COLS " FROM candidates k WHERE k.id = $1"},
    {ST_REQUEST_STATE, "SELECT status, created_at, sla_deadline,"
                       " (SELECT count(*) FROM candidates WHERE request_id = r.id AND status = 'accepted')"
                       " FROM requests r WHERE id = $1"},
    {ST_REQUEST_MOVE, "UPDATE requests SET status = $1,"
                      " matched_at = CASE WHEN $1 = 'matched' THEN coalesce(matched_at, $2) ELSE matched_at END,"
                      " breached_at = CASE WHEN $1 = 'breached' THEN $2 ELSE breached_at END"
                      " WHERE id = $3 AND status = $4"},
    {ST_REQUEST_MOVE_WHAT, "SELECT json_build_object('request_id', id, 'title', title, 'from', $2::text, 'status', status), client_id"
                           " FROM requests WHERE id = $1"},
    {ST_REQUEST_FILL, "SELECT status FROM requests WHERE id = $1"},
    {ST_REQUEST_NOTIFY, "INSERT INTO notifications(user_id, kind, payload, created_at) VALUES ($1,$2,$3,$4)"},
    {ST_CANDIDATE_MOVE, "SELECT " CANDIDATE_COLS " FROM candidates k WHERE k.id = $1"},
    {ST_CANDIDATE_MOVE_UPD, "UPDATE candidates SET status = $1, responded_at = $2, decline_reason = $3"
                            " WHERE id = $4 AND status = 'invited'"},
    {ST_INVITATIONS_LIST, "SELECT " CANDIDATE_COLS ", r.title, r.status, r.spec FROM candidates k"
                     " JOIN requests r ON r.id = k.request_id"
                     " WHERE k.engineer_id = $1 AND k.status = 'invited' AND k.expires_at > $2"
                     " AND r.status IN ('matching', 'matched', 'breached')"
                     " ORDER BY k.invited_at DESC, k.id LIMIT $3"},
    {ST_REQUEST_WIDEN, "UPDATE requests SET relaxed = $1 WHERE id = $2"},
    {ST_DEADLINE_OWNER, "SELECT client_id FROM requests WHERE id = $1"},
    {ST_DEADLINE_ADMINS, "SELECT id FROM users WHERE role = 'admin' ORDER BY id"},
    {ST_SLA_BOARD, "SELECT r.id, r.client_id, r.title, r.status, r.relaxed, r.sla_deadline, r.created_at,"
                   " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id),"
                   " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id AND k.status = 'accepted')"
                   " FROM requests r WHERE r.status IN ('matching', 'breached')"
                   " ORDER BY r.sla_deadline, r.id LIMIT $1"},
    {ST_REQUESTS_LIST, "SELECT r.id, r.client_id, r.title, r.status, r.sla_deadline, r.created_at,"
              " coalesce(r.matched_at, 0)," " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id),"
              " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id AND k.status = 'accepted'),"
              " r.seq FROM requests r WHERE ($1::text IS NULL OR r.client_id = $1)"
              " AND ($2::bigint = 0 OR r.seq < $2) ORDER BY r.seq DESC LIMIT $3"},
    {ST_WITHDRAW_CANDIDATES, "SELECT k.id, k.engineer_id, k.status, r.title FROM candidates k"
                             " JOIN requests r ON r.id = k.request_id"
                             " WHERE k.request_id = $1 AND k.status IN ('invited','accepted') ORDER BY k.rank, k.id"},
    {ST_WITHDRAW_CANDIDATES_UPD, "UPDATE candidates SET status = 'withdrawn', responded_at = coalesce(responded_at, $1)"
                                 " WHERE id = $2"},
    {ST_REQUEST_CANCEL, "SELECT status, client_id,"
                        " (SELECT id FROM contracts WHERE request_id = r.id AND status = 'offered' LIMIT 1)"
                        " FROM requests r WHERE id = $1"},
    {ST_REQUEST_CANCEL_UPD, "UPDATE requests SET cancelled_at = $1, cancelled_by = $2, cancel_reason = $3 WHERE id = $4"},
    {0, NULL},
};
