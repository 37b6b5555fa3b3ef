/* requests: a client raises a request and sees its ranked, explained
 * shortlist at once; the owner (and admins) read it back. The shortlist
 * comes from the in-memory matching index (services/shortlist.c); the
 * request, its invitations and its SLA jobs are stored in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../rules/requests.h"
#include "../services/shortlist.h"
#include "api.h"

static json_t *candidate_json(const store_candidate *k)
{
    json_t *explain = json_loads(k->explain, 0, NULL);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:f,s:i,s:o,s:o,s:o,s:o}", "id", k->id, "request_id",
                     k->request_id, "engineer_id", k->engineer_id, "engineer_name", k->engineer_name,
                     "status", k->status, "score", k->score, "rank", k->rank, "explain",
                     explain ? explain : json_object(), "invited_at", api_time_json(k->invited_at),
                     "expires_at", api_time_json(k->expires_at), "responded_at", api_time_json(k->responded_at));
}

json_t *api_request_json(const store_request *r)
{
    json_t *cands = json_array();
    for (int i = 0; i < r->ncand; i++) json_array_append_new(cands, candidate_json(&r->cand[i]));
    json_t *spec = json_loads(r->spec, 0, NULL);
    json_t *relaxed = json_loads(r->relaxed[0] ? r->relaxed : "[]", 0, NULL);
    int64_t left = r->sla_deadline - clock_now_s();
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:o,s:o,s:o,s:o}", "id", r->id,
                          "client_id", r->client_id, "title", r->title, "description",
                          r->description, "status", r->status, "sla_deadline", api_time_json(r->sla_deadline),
                          "created_at", api_time_json(r->created_at), "sla_seconds_left",
                          (json_int_t)(left > 0 ? left : 0), "matched_at", api_time_json(r->matched_at),
                          "breached_at", api_time_json(r->breached_at), "relaxed",
                          relaxed ? relaxed : json_array(), "candidates", cands);
    json_object_update(o, spec); /* the matching fields, as given */
    json_decref(spec);
    return o;
}

/* ---- POST /api/v1/requests ------------------------------------------------------ */

typedef struct {
    http_req *req;
    char id[32]; /* the key of a re-read, which must outlive the call */
    store_request r;
} create_state;

static void on_reread(void *ctx, int rc)
{
    create_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_add_header(req, "Location: /api/v1/requests/%s", st->r.id);
            http_respond_json(req, 201, api_request_json(&st->r));
        }
    }
    http_req_unref(req);
}

/* stored: answer with the request as a later GET shows it (names joined in) */
static void on_created(void *ctx, int rc)
{
    create_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc < 0) {
        api_store_error(req, rc);
        goto out;
    }
    memcpy(st->id, st->r.id, sizeof st->id);
    int src = STORE_CALL(APP->store, request_get, st->id, &st->r, req->deadline_ns, on_reread, st);
    if (src >= 0) return;
    api_store_error(req, src);
out:
    http_req_unref(req);
}

void api_request_create(http_req *req)
{
    json_t *body = http_json_body(req, NULL);
    if (!body) return;
    create_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    store_request *r = &st->r;
    jv_errors errs = {.n = 0};
    int64_t now = clock_now_s();
    jv_validate(body, request_spec_fields, "", &errs);
    requests_check(body, now, &errs, r->spec, sizeof r->spec); /* rules beside the schema */
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        return;
    }
    id_new("req", r->id);
    snprintf(r->client_id, sizeof r->client_id, "%s", req->auth.id);
    snprintf(r->title, sizeof r->title, "%s", json_string_value(json_object_get(body, "title")));
    snprintf(r->description, sizeof r->description, "%s",
             json_string_value(json_object_get(body, "description")));
    json_decref(body);
    snprintf(r->status, sizeof r->status, "matching");
    snprintf(r->relaxed, sizeof r->relaxed, "[]");
    r->created_at = now;
    r->sla_deadline = now + REQUEST_SLA_S;
    /* the shortlist, at once, from memory */
    int n = shortlist_pick(r->spec, 0, NULL, 1, r->cand, REQUEST_SHORTLIST);
    if (n < 0) {
        http_problem(req, 500, "internal", "Internal Server Error", "matching failed", NULL);
        return;
    }
    r->ncand = n;
    requests_prepare_invites(r->id, r->cand, n, now);
    api_track(req, STORE_CALL(APP->store, request_create, r, req->deadline_ns, on_created, st));
}

/* ---- GET /api/v1/requests/{id} --------------------------------------------------- */

static void on_request(void *ctx, int rc)
{
    create_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        int mine = rc == STORE_OK && (strcmp(st->r.client_id, req->auth.id) == 0 ||
                                      (req->auth.role_bit & ROLE_ADMIN));
        if (rc == STORE_NOTFOUND || (rc == STORE_OK && !mine))
            http_problem(req, 404, "not-found", "Not Found", "no such request", NULL);
        else if (rc < 0)
            api_store_error(req, rc);
        else
            http_respond_json(req, 200, api_request_json(&st->r));
    }
    http_req_unref(req);
}

void api_request_get(http_req *req)
{
    create_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    api_track(req, STORE_CALL(APP->store, request_get, http_param_get(req, "id"), &st->r,
                              req->deadline_ns, on_request, st));
}

/* ---- GET /api/v1/admin/sla -------------------------------------------------------- */

static void on_board(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_sla_board *board = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            int64_t now = clock_now_s();
            json_t *items = json_array();
            int breached = 0;
            for (int i = 0; i < board->n; i++) {
                const char *status = board->items[i].status;
                breached += strcmp(status, "breached") == 0;
                json_t *relaxed = json_loads(board->items[i].relaxed, 0, NULL);
                int64_t left = board->items[i].sla_deadline - now;
                json_array_append_new(
                    items, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:i,s:i,s:o}", "id",
                                     board->items[i].id, "client_id", board->items[i].client_id,
                                     "title", board->items[i].title, "status", status, "created_at",
                                     api_time_json(board->items[i].created_at), "sla_deadline",
                                     api_time_json(board->items[i].sla_deadline), "seconds_left",
                                     (json_int_t)(left > 0 ? left : 0), "invited",
                                     board->items[i].invited, "accepted", board->items[i].accepted,
                                     "relaxed", relaxed ? relaxed : json_array()));
            }
            http_respond_json(req, 200, json_pack("{s:o,s:i}", "items", items, "breached", breached));
        }
    }
    api_call_end(c);
}

void api_admin_sla(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_sla_board));
    if (!c) return;
    api_call_track(c, STORE_CALL(APP->store, sla_board, c->out, req->deadline_ns, on_board, c));
}

/* ---- GET /api/v1/requests ------------------------------------------------------------ */

static void on_list(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_request_list *l = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < l->n; i++)
                json_array_append_new(
                    items, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:i,s:i}", "id", l->items[i].id,
                                     "client_id", l->items[i].client_id, "title",
                                     l->items[i].title, "status", l->items[i].status,
                                     "created_at", api_time_json(l->items[i].created_at), "sla_deadline",
                                     api_time_json(l->items[i].sla_deadline), "matched_at",
                                     api_time_json(l->items[i].matched_at), "invited", l->items[i].invited,
                                     "accepted", l->items[i].accepted));
            /* opaque to clients: "r" + the creation sequence */
            api_respond_page(req, items, l->n == c->limit, 'r', l->n ? l->items[l->n - 1].seq : 0);
        }
    }
    api_call_end(c);
}

void api_requests_list(http_req *req)
{
    jv_errors errs = {.n = 0};
    long limit;
    long long before;
    api_page_params(req, &errs, 20, STORE_LIST_MAX, "cursor", 'r', &limit, &before);
    if (errs.n) {
        http_problem(req, 400, "bad-query", "Bad Request", "some query parameters are invalid; see errors", &errs);
        return;
    }
    api_call *c = api_call_new(req, sizeof(store_request_list));
    if (!c) return;
    c->limit = (int)limit;
    const char *client = (req->auth.role_bit & ROLE_ADMIN) ? NULL : req->auth.id;
    api_call_track(c, STORE_CALL(APP->store, requests_list, client, (int64_t)before, limit, c->out,
                                 req->deadline_ns, on_list, c));
}

/* ---- POST /api/v1/requests/{id}/cancel --------------------------------------------- */

static const jv_field cancel_spec[] = {
    {"reason", JV_STRING, 0, 1, 500, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    char reason[2004];
    store_money_conflict why;
    store_request r;
} cancel_state;

static void on_cancelled(void *ctx, int rc)
{
    cancel_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) http_problem(req, 404, "not-found", "Not Found", "no such request", NULL);
        else if (rc == STORE_CONFLICT) api_money_conflict(req, &st->why);
        else if (rc < 0) api_store_error(req, rc);
        else http_respond_json(req, 200, api_request_json(&st->r));
    }
    http_req_unref(req);
}

void api_request_cancel(http_req *req)
{
    const char *reason = NULL;
    json_t *b = NULL;
    if (req->body.len) { /* the body is optional */
        if (!(b = http_json_body(req, cancel_spec))) return;
        reason = json_string_value(json_object_get(b, "reason"));
    }
    cancel_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(b);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    if (reason) snprintf(st->reason, sizeof st->reason, "%s", reason);
    json_decref(b);
    /* someone else's request is 404 (the store checks the owner); admins may cancel any */
    const char *owner = (req->auth.role_bit & ROLE_ADMIN) ? NULL : req->auth.id;
    api_track(req, STORE_CALL(APP->store, request_cancel, http_param_get(req, "id"), req->auth.id, owner,
                              st->reason[0] ? st->reason : NULL, clock_now_s(), &st->r, &st->why, req->deadline_ns,
                              on_cancelled, st));
}
