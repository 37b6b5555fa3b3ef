/* talk statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define CONV_COLS                                                                                  \
    "v.id, v.request_id, v.candidate_id, v.client_id, cu.name, v.engineer_id, eu.name,"          \
    " v.created_at, coalesce(v.last_message_at, 0),"                                               \
    " (SELECT count(*) FROM messages m WHERE m.conversation_id = v.id AND m.sender_id <> $1"     \
    "   AND m.seq > coalesce((SELECT last_read_seq FROM read_markers rm"                          \
    "     WHERE rm.conversation_id = v.id AND rm.user_id = $1), 0)),"                            \
    " lm.id, lm.sender_id, lm.body, lm.created_at, " CONV_CONTEXT                                 \
    " FROM conversations v JOIN users cu ON cu.id = v.client_id JOIN users eu ON eu.id = v.engineer_id" \
    " JOIN requests r ON r.id = v.request_id LEFT JOIN engineer_profiles ep ON ep.user_id = v.engineer_id" \
    " LEFT JOIN messages lm ON lm.seq = (SELECT max(seq) FROM messages WHERE conversation_id = v.id)"

#define CONV_CONTEXT                                                                               \
    "r.title, coalesce(r.spec::json->>'timezone', 'UTC'), coalesce(ep.timezone, 'UTC')"

const sql_stmt sql_postgres_talk[] = {
    {ST_CONVERSATION_OPEN, "INSERT INTO conversations(id, request_id, candidate_id, client_id, engineer_id, created_at)"
                           " SELECT $1, k.request_id, k.id, r.client_id, k.engineer_id, $2 FROM candidates k"
                           " JOIN requests r ON r.id = k.request_id WHERE k.id = $3"
                           " ON CONFLICT(candidate_id) DO NOTHING"},
    {ST_CONVERSATION_OPEN_WHAT, "SELECT json_build_object('conversation_id', id, 'request_id', request_id, 'candidate_id',"
                                " candidate_id, 'client_id', client_id, 'engineer_id', engineer_id)"
                                " FROM conversations WHERE id = $1"},
    {ST_CONV_LIST, "SELECT " CONV_COLS " WHERE ($2::text IS NULL OR v.client_id = $2 OR v.engineer_id = $2)"
                   " ORDER BY coalesce(v.last_message_at, v.created_at) DESC,"
                   " coalesce(lm.seq, 0) DESC, v.id LIMIT $3"},
    {ST_CONV_GET, "SELECT v.id, v.request_id, v.candidate_id, v.client_id, cu.name, v.engineer_id, eu.name,"
                  " v.created_at, coalesce(v.last_message_at, 0), 0, NULL, NULL, NULL, NULL, " CONV_CONTEXT
                  " FROM conversations v JOIN users cu ON cu.id = v.client_id JOIN users eu ON eu.id = v.engineer_id"
                  " JOIN requests r ON r.id = v.request_id LEFT JOIN engineer_profiles ep ON ep.user_id = v.engineer_id"
                  " WHERE v.id = $1"},
    {ST_MESSAGES_LIST, "SELECT seq, id, conversation_id, sender_id, body, created_at"
                  " FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"},
    {ST_MESSAGE_CREATE, "INSERT INTO messages(id, conversation_id, sender_id, body, created_at)"
                        " VALUES ($1,$2,$3,$4,$5) RETURNING seq"},
    {ST_MESSAGE_CREATE_UPD, "UPDATE conversations SET last_message_at = $1 WHERE id = $2"},
    {ST_MESSAGE_CREATE_WHAT, "SELECT json_build_object('conversation_id', m.conversation_id, 'message', json_build_object('id', m.id,"
                             " 'conversation_id', m.conversation_id, 'sender_id', m.sender_id, 'body', m.body,"
                             " 'created_at', " SQL_RFC3339("m.created_at") ")),"
                             " CASE WHEN v.client_id = m.sender_id THEN v.engineer_id ELSE v.client_id END"
                             " FROM messages m JOIN conversations v ON v.id = m.conversation_id WHERE m.id = $1"},
    {ST_CONVERSATION_READ_FIND, "SELECT seq FROM messages WHERE id = $1 AND conversation_id = $2"},
    {ST_CONVERSATION_READ_MARK, "INSERT INTO read_markers(conversation_id, user_id, last_read_seq)"
                   " VALUES ($1, $2, $3) ON CONFLICT(conversation_id, user_id)"
                   " DO UPDATE SET last_read_seq = greatest(read_markers.last_read_seq, $3)"},
    {0, NULL},
};
