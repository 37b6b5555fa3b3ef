/* sqlite_talk: conversations, messages and read markers on SQLite. A
 * message is acknowledged only after the writer's COMMIT returns, so an
 * answered POST survives a crash. Messages carry a sequence (the rowid)
 * that orders them and makes the cursor. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_internal.h"

/* Creates the conversation of an accepted candidate (inside its move). */
int sqlite_conversation_open(sq_conn *c, const char *id, const char *candidate_id, int64_t now)
{
    static const char sql[] =
        "INSERT INTO conversations(id, request_id, candidate_id, client_id, engineer_id, created_at)"
        " SELECT ?, k.request_id, k.id, r.client_id, k.engineer_id, ? FROM candidates k"
        " JOIN requests r ON r.id = k.request_id WHERE k.id = ?"
        " ON CONFLICT(candidate_id) DO NOTHING";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, candidate_id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0 || sqlite3_changes(c->db) != 1) return rc;
    static const char what[] =
        "SELECT json_object('conversation_id', id, 'request_id', request_id, 'candidate_id',"
        " candidate_id, 'client_id', client_id, 'engineer_id', engineer_id)"
        " FROM conversations WHERE id = ?";
    char *payload = sqlite_json_row(c, what, &rc, 1, id);
    if (!payload) return rc;
    rc = sqlite_event_parties(c, id, "conversation.created", payload, now);
    free(payload);
    return rc;
}

/* what both parties may know of each other's context: the request's title
 * and the zone each works in (the request's for the client) */
#define CONV_CONTEXT                                                                               \
    "r.title, coalesce(json_extract(r.spec, '$.timezone'), 'UTC'), coalesce(ep.timezone, 'UTC')"

#define CONV_COLS                                                                                  \
    "v.id, v.request_id, v.candidate_id, v.client_id, cu.name, v.engineer_id, eu.name,"          \
    " v.created_at, coalesce(v.last_message_at, 0),"                                               \
    " (SELECT count(*) FROM messages m WHERE m.conversation_id = v.id AND m.sender_id <> ?1"     \
    "   AND m.seq > coalesce((SELECT last_read_seq FROM read_markers rm"                          \
    "     WHERE rm.conversation_id = v.id AND rm.user_id = ?1), 0)),"                            \
    " lm.id, lm.sender_id, lm.body, lm.created_at, " CONV_CONTEXT                                 \
    " FROM conversations v JOIN users cu ON cu.id = v.client_id JOIN users eu ON eu.id = v.engineer_id" \
    " JOIN requests r ON r.id = v.request_id LEFT JOIN engineer_profiles ep ON ep.user_id = v.engineer_id" \
    " LEFT JOIN messages lm ON lm.seq = (SELECT max(seq) FROM messages WHERE conversation_id = v.id)"

static int read_conv(sqlite3_stmt *st, store_conversation *v)
{
    memset(v, 0, sizeof *v);
    sqlite_copy_col(v->id, sizeof v->id, st, 0);
    sqlite_copy_col(v->request_id, sizeof v->request_id, st, 1);
    sqlite_copy_col(v->candidate_id, sizeof v->candidate_id, st, 2);
    sqlite_copy_col(v->client_id, sizeof v->client_id, st, 3);
    sqlite_copy_col(v->client_name, sizeof v->client_name, st, 4);
    sqlite_copy_col(v->engineer_id, sizeof v->engineer_id, st, 5);
    sqlite_copy_col(v->engineer_name, sizeof v->engineer_name, st, 6);
    v->created_at = sqlite3_column_int64(st, 7);
    v->last_message_at = sqlite3_column_int64(st, 8);
    v->unread = sqlite3_column_int(st, 9);
    sqlite_copy_col(v->request_title, sizeof v->request_title, st, 14);
    sqlite_copy_col(v->client_timezone, sizeof v->client_timezone, st, 15);
    sqlite_copy_col(v->engineer_timezone, sizeof v->engineer_timezone, st, 16);
    v->has_last = sqlite3_column_type(st, 10) != SQLITE_NULL;
    if (v->has_last) {
        sqlite_copy_col(v->last_id, sizeof v->last_id, st, 10);
        sqlite_copy_col(v->last_sender, sizeof v->last_sender, st, 11);
        const unsigned char *b = sqlite3_column_text(st, 12);
        v->last_body = strdup(b ? (const char *)b : "");
        v->last_created_at = sqlite3_column_int64(st, 13);
        if (!v->last_body) return STORE_BUSY;
    }
    return STORE_OK;
}

static int run_conv_list(sq_conn *c, sq_job *j)
{
    store_conversation_list *out = j->out;
    /* ?1 is the viewer (for unread), ?2 the owner filter (NULL: all) */
    static const char sql[] = "SELECT " CONV_COLS
                              " WHERE (?2 IS NULL OR v.client_id = ?2 OR v.engineer_id = ?2)"
                              " ORDER BY coalesce(v.last_message_at, v.created_at) DESC,"
                              " coalesce(lm.seq, 0) DESC, v.id LIMIT ?3";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1 ? j->s1 : "", -1, SQLITE_STATIC);
    if (j->s1) sqlite3_bind_text(st, 2, j->s1, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 2);
    sqlite3_bind_int(st, 3, STORE_CONVERSATIONS_MAX);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_CONVERSATIONS_MAX)
        if (read_conv(st, &out->items[out->n++]) < 0) return STORE_BUSY;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqt_conversations_list(store *s, const char *user_id, store_conversation_list *out, uint64_t d,
                           store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_conv_list, 0, d, cb, ctx, NULL, out, user_id, NULL, 0);
}

/* One conversation for an access check: who its parties are. No unread
 * count and no last message: counting would cost O(messages) on every
 * POST of a long conversation (measured: 4 ms at 28,000 messages). */
static int run_conv_get(sq_conn *c, sq_job *j)
{
    static const char sql[] =
        "SELECT v.id, v.request_id, v.candidate_id, v.client_id, cu.name, v.engineer_id, eu.name,"
        " v.created_at, coalesce(v.last_message_at, 0), 0, NULL, NULL, NULL, NULL, " CONV_CONTEXT
        " FROM conversations v JOIN users cu ON cu.id = v.client_id JOIN users eu ON eu.id = v.engineer_id"
        " JOIN requests r ON r.id = v.request_id LEFT JOIN engineer_profiles ep ON ep.user_id = v.engineer_id"
        " WHERE v.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    return read_conv(st, j->out);
}

int sqt_conversation_get(store *s, const char *id, store_conversation *out, uint64_t d,
                         store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_conv_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_messages(sq_conn *c, sq_job *j)
{
    store_message_page *out = j->out;
    int limit = (int)(intptr_t)j->in;
    static const char sql[] = "SELECT seq, id, conversation_id, sender_id, body, created_at"
                              " FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->n1);
    sqlite3_bind_int(st, 3, limit);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_MESSAGES_MAX) {
        store_message *m = &out->items[out->n++];
        m->seq = sqlite3_column_int64(st, 0);
        sqlite_copy_col(m->id, sizeof m->id, st, 1);
        sqlite_copy_col(m->conversation_id, sizeof m->conversation_id, st, 2);
        sqlite_copy_col(m->sender_id, sizeof m->sender_id, st, 3);
        const unsigned char *b = sqlite3_column_text(st, 4);
        m->body = strdup(b ? (const char *)b : "");
        if (!m->body) {
            out->n--;
            return STORE_BUSY;
        }
        m->created_at = sqlite3_column_int64(st, 5);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqt_messages_list(store *s, const char *conversation_id, int64_t after, int limit,
                      store_message_page *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_messages, 0, d, cb, ctx, (const void *)(intptr_t)limit, out,
                         conversation_id, NULL, after);
}

static int run_message_create(sq_conn *c, sq_job *j)
{
    store_message *m = j->out;
    static const char sql[] = "INSERT INTO messages(id, conversation_id, sender_id, body, created_at)"
                              " VALUES (?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->conversation_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->sender_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, m->created_at);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    m->seq = sqlite3_last_insert_rowid(c->db);
    static const char upd[] = "UPDATE conversations SET last_message_at = ? WHERE id = ?";
    st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, m->created_at);
    sqlite3_bind_text(st, 2, m->conversation_id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    /* live to both parties (the sender's other tabs too) */
    static const char what[] =
        "SELECT json_object('conversation_id', m.conversation_id, 'message', json_object('id', m.id,"
        " 'conversation_id', m.conversation_id, 'sender_id', m.sender_id, 'body', m.body,"
        " 'created_at', " SQL_RFC3339("m.created_at") ")),"
        " CASE WHEN v.client_id = m.sender_id THEN v.engineer_id ELSE v.client_id END"
        " FROM messages m JOIN conversations v ON v.id = m.conversation_id WHERE m.id = ?";
    st = sq_prep(c, what);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) return rc == SQLITE_DONE ? STORE_IO : sq_rc(c, rc);
    char *payload = strdup((const char *)sqlite3_column_text(st, 0));
    char ref[72];
    snprintf(ref, sizeof ref, "%s:%s", m->conversation_id, (const char *)sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    if (!payload) return STORE_BUSY;
    rc = sqlite_event_parties(c, m->conversation_id, "message.created", payload, m->created_at);
    free(payload);
    if (rc < 0) return rc;
    /* one email for a burst of messages: the digest job, once per
     * (conversation, recipient) while one is pending */
    return m->digest_at ? sqlite_job_schedule_once(c, "email.digest", ref, m->digest_at) : STORE_OK;
}

int sqt_message_create(store *s, store_message *m, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_message_create, 1, d, cb, ctx, NULL, m, NULL, NULL, 0);
}

static int run_read(sq_conn *c, sq_job *j)
{
    const char *user_id = j->in;
    static const char find[] = "SELECT seq FROM messages WHERE id = ? AND conversation_id = ?";
    sqlite3_stmt *st = sq_prep(c, find);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s2, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    int64_t seq = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    static const char mark[] = "INSERT INTO read_markers(conversation_id, user_id, last_read_seq)"
                               " VALUES (?1, ?2, ?3) ON CONFLICT(conversation_id, user_id)"
                               " DO UPDATE SET last_read_seq = max(last_read_seq, ?3)";
    st = sq_prep(c, mark);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    return sq_rc(c, sqlite3_step(st));
}

int sqt_conversation_read(store *s, const char *conversation_id, const char *user_id,
                          const char *message_id, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_read, 1, d, cb, ctx, user_id, NULL, conversation_id, message_id, 0);
}
