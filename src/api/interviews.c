/* interviews: proposing, accepting, cancelling and reading a
 * conversation's interview (POST .../interview, .../interview/accept,
 * .../interview/cancel, GET .../interview). The client proposes up to
 * three future slots and a video link; the engineer accepts one; either
 * party cancels. Each step first loads the conversation to authorize (404
 * to outsiders, like every conversation route), then asks the store, whose
 * transaction also writes the events and the mails with calendar invites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/token.h"
#include "../app.h"
#include "api.h"

#define SLOT_MIN_LEAD_S 300            /* a slot starts at least 5 minutes from now */
#define SLOT_MAX_AHEAD_S (180 * 86400) /* and within 180 days */

enum iv_op { IV_GET, IV_PROPOSE, IV_ACCEPT, IV_CANCEL };

typedef struct {
    http_req *req;
    enum iv_op op;
    store_conversation v;
    store_interview in, out;
    int64_t slot;
} iv_state;

static json_t *interview_json(const store_interview *iv)
{
    json_t *slots = json_array();
    for (int i = 0; i < iv->nslots; i++) json_array_append_new(slots, api_time_json(iv->slots[i]));
    return json_pack("{s:s,s:s,s:s,s:o,s:i,s:s,s:o,s:o,s:o,s:o}", "id", iv->id, "conversation_id",
                     iv->conversation_id, "status", iv->status, "slots", slots, "duration_minutes",
                     iv->duration_minutes, "video_url", iv->video_url, "slot", api_time_json(iv->slot),
                     "cancelled_by", iv->cancelled_by[0] ? json_string(iv->cancelled_by) : json_null(),
                     "created_at", api_time_json(iv->created_at), "updated_at",
                     api_time_json(iv->updated_at));
}

static void conflict(http_req *req, const store_interview *iv, const char *detail)
{
    json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s,s:o}", "type", "urn:opx:problem:interview-state",
                          "title", "Conflict", "status", 409, "detail", detail, "state", iv->status,
                          "interview", interview_json(iv));
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    http_respond(req, 409, "application/problem+json", text, strlen(text));
    free(text);
}

static void on_done(void *ctx, int rc)
{
    iv_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_CONFLICT) {
        conflict(req, &st->out,
                 st->op == IV_PROPOSE ? "this conversation has an open interview; cancel it first"
                 : st->op == IV_ACCEPT ? "this interview is no longer waiting for an answer"
                                       : "this interview is cancelled already");
    } else if (rc == STORE_NOTFOUND) {
        http_problem(req, 404, "not-found", "Not Found", "this conversation has no interview", NULL);
    } else if (rc < 0) {
        api_store_error(req, rc);
    } else {
        int status = st->op == IV_PROPOSE ? 201 : 200;
        if (status == 201)
            http_add_header(req, "Location: /api/v1/conversations/%s/interview", st->v.id);
        http_respond_json(req, status, interview_json(&st->out));
    }
out:
    http_req_unref(req);
}

/* the current interview, for accept and cancel: which one, and in what state */
static void on_current(void *ctx, int rc)
{
    iv_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_NOTFOUND) {
        http_problem(req, 404, "not-found", "Not Found", "this conversation has no interview", NULL);
        goto out;
    }
    if (rc < 0) {
        api_store_error(req, rc);
        goto out;
    }
    const store_interview *cur = &st->out;
    int src;
    if (st->op == IV_ACCEPT) {
        if (strcmp(cur->status, "proposed") != 0) {
            conflict(req, cur, "this interview is no longer waiting for an answer");
            goto out;
        }
        int known = 0;
        for (int i = 0; i < cur->nslots; i++) known |= cur->slots[i] == st->slot;
        jv_errors errs = {.n = 0};
        if (!known) jv_add_error(&errs, "slot", "is not one of the proposed slots");
        else if (st->slot <= clock_now_s()) jv_add_error(&errs, "slot", "has already begun; ask for new slots");
        if (errs.n) {
            http_problem(req, 422, "validation", "Unprocessable Content",
                         "some fields are invalid; see errors", &errs);
            goto out;
        }
        char id[32];
        memcpy(id, cur->id, sizeof id);
        src = STORE_CALL(APP->store, interview_accept, id, st->slot, clock_now_s(), &st->out,
                         req->deadline_ns, on_done, st);
    } else {
        if (strcmp(cur->status, "cancelled") == 0) {
            conflict(req, cur, "this interview is cancelled already");
            goto out;
        }
        char id[32];
        memcpy(id, cur->id, sizeof id);
        src = STORE_CALL(APP->store, interview_cancel, id, req->auth.id, clock_now_s(), &st->out,
                         req->deadline_ns, on_done, st);
    }
    if (src >= 0) return; /* on_done drops the reference */
    api_store_error(req, src);
out:
    http_req_unref(req);
}

static void on_conversation(void *ctx, int rc)
{
    iv_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (!api_conversation_access(req, rc, &st->v, st->op != IV_GET)) goto out;
    const char *me = req->auth.id;
    int src;
    if (st->op == IV_PROPOSE && strcmp(me, st->v.client_id) != 0) {
        http_problem(req, 403, "forbidden", "Forbidden", "only the client proposes an interview", NULL);
        goto out;
    }
    if (st->op == IV_ACCEPT && strcmp(me, st->v.engineer_id) != 0) {
        http_problem(req, 403, "forbidden", "Forbidden", "only the engineer accepts an interview", NULL);
        goto out;
    }
    switch (st->op) {
    case IV_GET:
        src = STORE_CALL(APP->store, interview_get, st->v.id, &st->out, req->deadline_ns, on_done, st);
        break;
    case IV_PROPOSE:
        memcpy(st->in.conversation_id, st->v.id, sizeof st->in.conversation_id);
        snprintf(st->in.proposed_by, sizeof st->in.proposed_by, "%s", me);
        src = STORE_CALL(APP->store, interview_propose, &st->in, &st->out, req->deadline_ns, on_done, st);
        break;
    default:
        src = STORE_CALL(APP->store, interview_get, st->v.id, &st->out, req->deadline_ns, on_current, st);
        break;
    }
    if (src >= 0) return;
    api_store_error(req, src);
out:
    http_req_unref(req);
}

static void start(http_req *req, iv_state *st)
{
    int rc = STORE_CALL(APP->store, conversation_get, http_param_get(req, "id"), &st->v,
                        req->deadline_ns, on_conversation, st);
    api_track(req, rc);
}

static iv_state *new_state(http_req *req, enum iv_op op)
{
    iv_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    st->op = op;
    return st;
}

/* ---- GET /api/v1/conversations/{id}/interview ---------------------------------- */

void api_interview_get(http_req *req)
{
    iv_state *st = new_state(req, IV_GET);
    if (st) start(req, st);
}

/* ---- POST /api/v1/conversations/{id}/interview ------------------------------------ */

static const jv_field propose_spec[] = {
    {"slots", JV_ARRAY_OF_STRING, 1, 1, STORE_INTERVIEW_SLOTS, NULL, NULL},
    {"video_url", JV_STRING, 1, 12, 2000, NULL, NULL},
    {"duration_minutes", JV_INT, 0, 15, 240, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* http(s)://host[...] with no spaces or control characters */
static int video_url_ok(const char *u)
{
    const char *rest = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
    if (!rest || !*rest || *rest == '/') return 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f) return 0;
    return 1;
}

void api_interview_propose(http_req *req)
{
    json_t *body = http_json_body(req, propose_spec);
    if (!body) return;
    jv_errors errs = {.n = 0};
    iv_state *st = new_state(req, IV_PROPOSE);
    if (!st) {
        json_decref(body);
        return;
    }
    store_interview *iv = &st->in;
    int64_t now = clock_now_s();
    json_t *slots = json_object_get(body, "slots");
    size_t i;
    json_t *s;
    json_array_foreach(slots, i, s) {
        char field[16];
        snprintf(field, sizeof field, "slots[%zu]", i);
        int64_t t;
        if (clock_parse_rfc3339(json_string_value(s), &t) < 0) {
            jv_add_error(&errs, field, "must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T15:00:00Z");
            continue;
        }
        if (t < now + SLOT_MIN_LEAD_S) {
            jv_add_error(&errs, field, "must start at least 5 minutes from now");
            continue;
        }
        if (t > now + SLOT_MAX_AHEAD_S) {
            jv_add_error(&errs, field, "must start within 180 days");
            continue;
        }
        int dup = 0;
        for (int k = 0; k < iv->nslots; k++) dup |= iv->slots[k] == t;
        if (dup) {
            jv_add_error(&errs, field, "repeats an earlier slot");
            continue;
        }
        iv->slots[iv->nslots++] = t;
    }
    const char *url = json_string_value(json_object_get(body, "video_url"));
    if (!video_url_ok(url)) jv_add_error(&errs, "video_url", "must be an http(s) URL with a host and no spaces");
    json_t *dur = json_object_get(body, "duration_minutes");
    iv->duration_minutes = dur ? (int)json_integer_value(dur) : 60;
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    /* ascending, so every view lists them in time order */
    for (int a = 1; a < iv->nslots; a++)
        for (int b = a; b > 0 && iv->slots[b] < iv->slots[b - 1]; b--) {
            int64_t t = iv->slots[b];
            iv->slots[b] = iv->slots[b - 1];
            iv->slots[b - 1] = t;
        }
    snprintf(iv->video_url, sizeof iv->video_url, "%s", url);
    json_decref(body);
    id_new("ivw", iv->id);
    iv->created_at = now;
    start(req, st);
}

/* ---- POST /api/v1/conversations/{id}/interview/accept -------------------------------- */

static const jv_field accept_spec[] = {
    {"slot", JV_STRING, 1, 20, 40, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_interview_accept(http_req *req)
{
    json_t *body = http_json_body(req, accept_spec);
    if (!body) return;
    int64_t t;
    if (clock_parse_rfc3339(json_string_value(json_object_get(body, "slot")), &t) < 0) {
        json_decref(body);
        jv_errors errs = {.n = 0};
        jv_add_error(&errs, "slot", "must be an RFC 3339 date-time, one of the proposed slots");
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    json_decref(body);
    iv_state *st = new_state(req, IV_ACCEPT);
    if (!st) return;
    st->slot = t;
    start(req, st);
}

/* ---- POST /api/v1/conversations/{id}/interview/cancel ---------------------------------- */

static const jv_field cancel_spec[] = {
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_interview_cancel(http_req *req)
{
    /* no fields; an empty body or {} */
    if (req->body.len) {
        json_t *body = http_json_body(req, cancel_spec);
        if (!body) return;
        json_decref(body);
    }
    iv_state *st = new_state(req, IV_CANCEL);
    if (st) start(req, st);
}
