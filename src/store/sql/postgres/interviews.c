/* interviews statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define IV_COLS                                                                                    \
    "i.id, i.conversation_id, i.status, i.slots, i.duration_minutes, i.video_url,"               \
    " coalesce(i.slot, 0), i.sequence, coalesce(i.cancelled_by, ''), i.created_at, i.updated_at"

const sql_stmt sql_postgres_interviews[] = {
    {ST_INTERVIEW_ANNOUNCE, "SELECT json_build_object('interview', json_build_object('id', i.id, 'conversation_id', i.conversation_id,"
                  "   'status', i.status," "   'slots', (SELECT coalesce(json_agg(" SQL_RFC3339("e.value::bigint")
                  " ORDER BY e.ord), '[]'::json) FROM json_array_elements_text(i.slots::json) WITH ORDINALITY e(value, ord)),"
                  "   'duration_minutes', i.duration_minutes, 'video_url', i.video_url,"
                  "   'slot', CASE WHEN i.slot IS NULL THEN NULL ELSE " SQL_RFC3339("i.slot") " END,"
                  "   'cancelled_by', i.cancelled_by, 'created_at', " SQL_RFC3339("i.created_at") ","
                  "   'updated_at', " SQL_RFC3339("i.updated_at") ")),"
                  " json_build_object('interview_id', i.id, 'conversation_id', v.id, 'request_id', r.id,"
                  "   'request_title', r.title, 'status', i.status, 'slots', i.slots::jsonb, 'slot', i.slot,"
                  "   'duration_minutes', i.duration_minutes, 'video_url', i.video_url,"
                  "   'sequence', i.sequence, 'created_at', i.created_at,"
                  "   'client_id', v.client_id, 'client_name', cu.name, 'client_email', cu.email,"
                  "   'client_timezone', coalesce(r.spec::json->>'timezone', 'UTC'),"
                  "   'engineer_id', v.engineer_id, 'engineer_name', eu.name, 'engineer_email', eu.email,"
                  "   'engineer_timezone', coalesce(p.timezone, 'UTC'))," " v.client_id, v.engineer_id"
                  " FROM interviews i JOIN conversations v ON v.id = i.conversation_id"
                  " JOIN requests r ON r.id = v.request_id JOIN users cu ON cu.id = v.client_id"
                  " JOIN users eu ON eu.id = v.engineer_id LEFT JOIN engineer_profiles p ON p.user_id = v.engineer_id"
                  " WHERE i.id = $1"},
    {ST_INTERVIEW_PROPOSE, "INSERT INTO interviews(id, conversation_id, status, slots, duration_minutes, video_url,"
                 " created_at, updated_at) VALUES ($1, $2, 'proposed', $3, $4, $5, $6, $6)"},
    {ST_INTERVIEW_ACCEPT, "UPDATE interviews SET status = 'accepted', slot = $1, updated_at = $2,"
                " sequence = sequence + 1 WHERE id = $3 AND status = 'proposed'"},
    {ST_INTERVIEW_CANCEL, "UPDATE interviews SET status = 'cancelled', cancelled_by = $1, updated_at = $2,"
                " sequence = sequence + 1 WHERE id = $3 AND status IN ('proposed', 'accepted')"},
    {ST_INTERVIEW_BY_ID, "SELECT " IV_COLS " FROM interviews i WHERE i.id = $1"},
    {ST_INTERVIEW_LATEST, "SELECT " IV_COLS " FROM interviews i WHERE i.conversation_id = $1"
                          " ORDER BY i.created_at DESC, i.seq DESC LIMIT 1"},
    {0, NULL},
};
