/* talk: conversations between a client and an engineer who accepted the
 * client's invitation. Participants read and write; admins read. Anyone
 * else gets 404, so a conversation's existence is not confirmed to
 * outsiders. A message is answered 201 only after it is committed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "api.h"

#define MESSAGE_MAX_CHARS 10000

static json_t *message_json(const store_message *m)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", m->id, "conversation_id", m->conversation_id,
                     "sender_id", m->sender_id, "body", m->body, "created_at",
                     api_time_json(m->created_at));
}

static json_t *conversation_json(const store_conversation *v, int viewer_is_admin)
{
    json_t *last = json_null();
    if (v->has_last)
        last = json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", v->last_id, "conversation_id", v->id,
                         "sender_id", v->last_sender, "body", v->last_body, "created_at",
                         api_time_json(v->last_created_at));
    return json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s}],s:i,s:o,s:o,s:o}", "id", v->id,
                     "request_id", v->request_id, "request_title", v->request_title, "candidate_id",
                     v->candidate_id, "participants", "id", v->client_id, "name", v->client_name, "role",
                     "client", "timezone", v->client_timezone, "id", v->engineer_id, "name",
                     v->engineer_name, "role", "engineer", "timezone", v->engineer_timezone, "unread",
                     viewer_is_admin ? 0 : v->unread, "last_message", last, "created_at",
                     api_time_json(v->created_at), "last_message_at",
                     api_time_json(v->last_message_at));
}

/* ---- GET /api/v1/conversations ------------------------------------------------------ */

static void on_list(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    store_conversation_list *l = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            int admin = (req->auth.role_bit & ROLE_ADMIN) != 0;
            json_t *items = json_array();
            for (int i = 0; i < l->n; i++)
                json_array_append_new(items, conversation_json(&l->items[i], admin));
            http_respond_json(req, 200, json_pack("{s:o}", "items", items));
        }
    }
    for (int i = 0; i < l->n; i++) store_conversation_free(&l->items[i]);
    api_call_end(c);
}

void api_conversations(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_conversation_list));
    if (!c) return;
    const char *who = (req->auth.role_bit & ROLE_ADMIN) ? NULL : req->auth.id;
    api_call_track(c, STORE_CALL(APP->store, conversations_list, who, c->out, req->deadline_ns,
                                 on_list, c));
}

/* ---- one conversation: who may do what ------------------------------------------------- */

enum talk_op { TALK_LIST, TALK_POST, TALK_READ };

typedef struct {
    http_req *req;
    enum talk_op op;
    store_conversation v;
    int64_t after;
    int limit;
    char message_id[32];
    store_message *m;         /* post: malloc'd */
    store_message_page *page; /* list: malloc'd */
} conv_state;

static void conv_end(conv_state *st)
{
    store_conversation_free(&st->v);
    if (st->m) free(st->m->body);
    free(st->m);
    if (st->page) store_page_free(st->page);
    free(st->page);
    st->m = NULL;
    st->page = NULL;
    http_req_unref(st->req);
}

static void on_messages(void *ctx, int rc)
{
    conv_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < st->page->n; i++) json_array_append_new(items, message_json(&st->page->items[i]));
            const store_message_page *pg = st->page;
            api_respond_page(req, items, pg->n == st->limit, 'm', pg->n ? pg->items[pg->n - 1].seq : 0);
        }
    }
    conv_end(st);
}

static void on_posted(void *ctx, int rc)
{
    conv_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_add_header(req, "Location: /api/v1/conversations/%s/messages", st->v.id);
            http_respond_json(req, 201, message_json(st->m));
        }
    }
    conv_end(st);
}

static void on_read(void *ctx, int rc)
{
    conv_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) {
            jv_errors errs = {.n = 0};
            jv_add_error(&errs, "message_id", "is not a message of this conversation");
            http_problem(req, 422, "validation", "Unprocessable Content",
                         "some fields are invalid; see errors", &errs);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_respond(req, 204, NULL, NULL, 0);
        }
    }
    conv_end(st);
}

int api_conversation_access(http_req *req, int rc, const store_conversation *v, int write)
{
    const http_auth *a = &req->auth;
    int party = rc == STORE_OK && (strcmp(a->id, v->client_id) == 0 || strcmp(a->id, v->engineer_id) == 0);
    int admin = (a->role_bit & ROLE_ADMIN) != 0;
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && !party && !admin)) {
        http_problem(req, 404, "not-found", "Not Found", "no such conversation", NULL);
        return 0;
    }
    if (rc < 0) {
        api_store_error(req, rc);
        return 0;
    }
    if (write && !party) {
        http_problem(req, 403, "forbidden", "Forbidden", "admins read conversations; only the two parties write",
                     NULL);
        return 0;
    }
    return 1;
}

static void on_conversation(void *ctx, int rc)
{
    conv_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    const http_auth *a = &req->auth;
    if (!api_conversation_access(req, rc, &st->v, st->op != TALK_LIST)) goto out;
    int src;
    if (st->op == TALK_LIST) {
        if (!(st->page = calloc(1, sizeof *st->page))) src = STORE_BUSY;
        else src = STORE_CALL(APP->store, messages_list, st->v.id, st->after, st->limit, st->page,
                              req->deadline_ns, on_messages, st);
    } else if (st->op == TALK_POST) {
        memcpy(st->m->conversation_id, st->v.id, sizeof st->m->conversation_id);
        src = STORE_CALL(APP->store, message_create, st->m, req->deadline_ns, on_posted, st);
    } else {
        src = STORE_CALL(APP->store, conversation_read, st->v.id, a->id, st->message_id,
                         req->deadline_ns, on_read, st);
    }
    if (src >= 0) return; /* the next callback ends it */
    api_store_error(req, src);
out:
    conv_end(st);
}

static conv_state *conv_start(http_req *req, enum talk_op op)
{
    conv_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    st->op = op;
    return st;
}

static void conv_lookup(conv_state *st)
{
    http_req *req = st->req;
    int rc = STORE_CALL(APP->store, conversation_get, http_param_get(req, "id"), &st->v,
                        req->deadline_ns, on_conversation, st);
    api_track(req, rc);
    if (rc < 0 && st->m) {
        free(st->m->body);
        free(st->m);
        st->m = NULL;
    }
}

/* ---- GET /api/v1/conversations/{id}/messages ---------------------------------------- */

void api_messages_list(http_req *req)
{
    jv_errors errs = {.n = 0};
    long limit;
    long long after;
    api_page_params(req, &errs, 50, STORE_MESSAGES_MAX, "after", 'm', &limit, &after);
    if (errs.n) {
        http_problem(req, 400, "bad-query", "Bad Request", "some query parameters are invalid; see errors", &errs);
        return;
    }
    conv_state *st = conv_start(req, TALK_LIST);
    if (!st) return;
    st->after = after;
    st->limit = (int)limit;
    conv_lookup(st);
}

/* ---- POST /api/v1/conversations/{id}/messages ----------------------------------------- */

static const jv_field message_spec[] = {
    {"body", JV_STRING, 1, 1, MESSAGE_MAX_CHARS, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_message_post(http_req *req)
{
    json_t *body = http_json_body(req, message_spec);
    if (!body) return;
    conv_state *st = conv_start(req, TALK_POST);
    if (!st || !(st->m = calloc(1, sizeof *st->m))) {
        json_decref(body);
        if (st) api_store_error(req, STORE_BUSY);
        return;
    }
    json_t *b = json_object_get(body, "body");
    st->m->body = strdup(json_string_value(b));
    json_decref(body);
    if (!st->m->body) {
        free(st->m);
        st->m = NULL;
        api_store_error(req, STORE_BUSY);
        return;
    }
    id_new("msg", st->m->id);
    snprintf(st->m->sender_id, sizeof st->m->sender_id, "%s", req->auth.id);
    st->m->created_at = clock_now_s();
    int delay = email_config_get()->digest_delay_s;
    st->m->digest_at = delay > 0 ? st->m->created_at + delay : 0;
    conv_lookup(st);
}

/* ---- POST /api/v1/conversations/{id}/read ----------------------------------------------- */

static const jv_field read_spec[] = {
    {"message_id", JV_STRING, 1, 1, 31, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_conversation_read(http_req *req)
{
    json_t *body = http_json_body(req, read_spec);
    if (!body) return;
    conv_state *st = conv_start(req, TALK_READ);
    if (!st) {
        json_decref(body);
        return;
    }
    snprintf(st->message_id, sizeof st->message_id, "%s",
             json_string_value(json_object_get(body, "message_id")));
    json_decref(body);
    conv_lookup(st);
}
