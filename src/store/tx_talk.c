/* tx_talk: conversations, messages and read markers A
 * message is acknowledged only after the writer's COMMIT returns, so an
 * answered POST survives a crash. Messages carry a sequence (the rowid)
 * that orders them and makes the cursor. */
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creates the conversation of an accepted candidate (inside its move). */
int tx_conversation_open(db_conn *c, const char *id, const char *candidate_id, int64_t now)
{
    db_stmt *st = db_prep(c, ST_CONVERSATION_OPEN);
    if (!st) return STORE_IO;
    db_bind_text_copy(st, 1, id);
    db_bind_int(st, 2, now);
    db_bind_text(st, 3, candidate_id);
    int rc = db_rc(db_step(st));
    if (rc < 0 || db_changes(c) != 1) return rc;
    char *payload = tx_json_row(c, ST_CONVERSATION_OPEN_WHAT, &rc, 1, id);
    if (!payload) return rc;
    rc = tx_event_parties(c, id, "conversation.created", payload, now);
    free(payload);
    return rc;
}

/* what both parties may know of each other's context: the request's title
 * and the zone each works in (the request's for the client) */

static int read_conv(db_stmt *st, store_conversation *v)
{
    memset(v, 0, sizeof *v);
    db_copy_col(v->id, sizeof v->id, st, 0);
    db_copy_col(v->request_id, sizeof v->request_id, st, 1);
    db_copy_col(v->candidate_id, sizeof v->candidate_id, st, 2);
    db_copy_col(v->client_id, sizeof v->client_id, st, 3);
    db_copy_col(v->client_name, sizeof v->client_name, st, 4);
    db_copy_col(v->engineer_id, sizeof v->engineer_id, st, 5);
    db_copy_col(v->engineer_name, sizeof v->engineer_name, st, 6);
    v->created_at = db_col_int(st, 7);
    v->last_message_at = db_col_int(st, 8);
    v->unread = db_col_int(st, 9);
    db_copy_col(v->request_title, sizeof v->request_title, st, 14);
    db_copy_col(v->client_timezone, sizeof v->client_timezone, st, 15);
    db_copy_col(v->engineer_timezone, sizeof v->engineer_timezone, st, 16);
    v->has_last = !db_col_null(st, 10);
    if (v->has_last) {
        db_copy_col(v->last_id, sizeof v->last_id, st, 10);
        db_copy_col(v->last_sender, sizeof v->last_sender, st, 11);
        const char *b = db_col_text(st, 12);
        v->last_body = strdup(b ? b : "");
        v->last_created_at = db_col_int(st, 13);
        if (!v->last_body) return STORE_BUSY;
    }
    return STORE_OK;
}

static int run_conv_list(db_conn *c, db_job *j)
{
    store_conversation_list *out = j->out;
    /* ?1 is the viewer (for unread), ?2 the owner filter (NULL: all) */
    db_stmt *st = db_prep(c, ST_CONV_LIST);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1 ? j->s1 : "");
    db_bind_text(st, 2, j->s1);
    db_bind_int(st, 3, STORE_CONVERSATIONS_MAX);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_CONVERSATIONS_MAX)
        if (read_conv(st, &out->items[out->n++]) < 0) return STORE_BUSY;
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_conversations_list(store *s, const char *user_id, store_conversation_list *out, uint64_t d,
                          store_done_cb cb, void *ctx)
{
    return store_submit(s, run_conv_list, 0, d, cb, ctx, NULL, out, user_id, NULL, 0);
}

/* One conversation for an access check: who its parties are. No unread
 * count and no last message: counting would cost O(messages) on every
 * POST of a long conversation (measured: 4 ms at 28,000 messages). */
static int run_conv_get(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_CONV_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    return read_conv(st, j->out);
}

int tx_conversation_get(store *s, const char *id, store_conversation *out, uint64_t d,
                        store_done_cb cb, void *ctx)
{
    return store_submit(s, run_conv_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_messages(db_conn *c, db_job *j)
{
    store_message_page *out = j->out;
    int limit = (int)(intptr_t)j->in;
    db_stmt *st = db_prep(c, ST_MESSAGES_LIST);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, j->n1);
    db_bind_int(st, 3, limit);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_MESSAGES_MAX) {
        store_message *m = &out->items[out->n++];
        m->seq = db_col_int(st, 0);
        db_copy_col(m->id, sizeof m->id, st, 1);
        db_copy_col(m->conversation_id, sizeof m->conversation_id, st, 2);
        db_copy_col(m->sender_id, sizeof m->sender_id, st, 3);
        const char *b = db_col_text(st, 4);
        m->body = strdup(b ? b : "");
        if (!m->body) {
            out->n--;
            return STORE_BUSY;
        }
        m->created_at = db_col_int(st, 5);
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_messages_list(store *s, const char *conversation_id, int64_t after, int limit,
                     store_message_page *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_messages, 0, d, cb, ctx, (const void *)(intptr_t)limit, out,
                        conversation_id, NULL, after);
}

static int run_message_create(db_conn *c, db_job *j)
{
    store_message *m = j->out;
    db_stmt *st = db_prep(c, ST_MESSAGE_CREATE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, m->id);
    db_bind_text(st, 2, m->conversation_id);
    db_bind_text(st, 3, m->sender_id);
    db_bind_text(st, 4, m->body);
    db_bind_int(st, 5, m->created_at);
    int rc = db_step(st);
    if (rc != DB_ROW) return rc < 0 ? rc : STORE_IO;
    m->seq = db_col_int(st, 0);
    db_reset(st);
    st = db_prep(c, ST_MESSAGE_CREATE_UPD);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, m->created_at);
    db_bind_text(st, 2, m->conversation_id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    /* live to both parties (the sender's other tabs too) */
    st = db_prep(c, ST_MESSAGE_CREATE_WHAT);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, m->id);
    if ((rc = db_step(st)) != DB_ROW) return rc == DB_DONE ? STORE_IO : db_rc(rc);
    char *payload = strdup(db_col_text(st, 0));
    char ref[72];
    snprintf(ref, sizeof ref, "%s:%s", m->conversation_id, db_col_text(st, 1));
    db_reset(st);
    if (!payload) return STORE_BUSY;
    rc = tx_event_parties(c, m->conversation_id, "message.created", payload, m->created_at);
    free(payload);
    if (rc < 0) return rc;
    /* one email for a burst of messages: the digest job, once per
     * (conversation, recipient) while one is pending */
    return m->digest_at ? tx_job_schedule_once(c, "email.digest", ref, m->digest_at) : STORE_OK;
}

int tx_message_create(store *s, store_message *m, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_message_create, 1, d, cb, ctx, NULL, m, NULL, NULL, 0);
}

static int run_read(db_conn *c, db_job *j)
{
    const char *user_id = j->in;
    db_stmt *st = db_prep(c, ST_CONVERSATION_READ_FIND);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s2);
    db_bind_text(st, 2, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    int64_t seq = db_col_int(st, 0);
    db_reset(st);
    st = db_prep(c, ST_CONVERSATION_READ_MARK);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_text(st, 2, user_id);
    db_bind_int(st, 3, seq);
    return db_rc(db_step(st));
}

int tx_conversation_read(store *s, const char *conversation_id, const char *user_id,
                         const char *message_id, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_read, 1, d, cb, ctx, user_id, NULL, conversation_id, message_id, 0);
}
