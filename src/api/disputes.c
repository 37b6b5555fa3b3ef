/* disputes: reading them. GET /api/v1/disputes/{id} for the contract's two
 * parties and admins (anyone else gets 404 and learns nothing), and GET
 * /api/v1/admin/disputes, the admins' list: open ones first, then newest
 * first. Opening and resolving a dispute are money moves (money.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "api.h"

static json_t *view_json(const store_dispute_view *v)
{
    json_t *o = api_dispute_json(&v->d);
    if (!o) return NULL;
    json_object_set_new(o, "reason", json_string(v->text ? v->text : ""));
    json_object_set_new(o, "milestone_title", json_string(v->milestone_title));
    json_object_set_new(o, "request_id", json_string(v->request_id));
    json_object_set_new(o, "request_title", json_string(v->request_title));
    json_object_set_new(o, "client_id", json_string(v->client_id));
    json_object_set_new(o, "client_name", json_string(v->client_name));
    json_object_set_new(o, "engineer_id", json_string(v->engineer_id));
    json_object_set_new(o, "engineer_name", json_string(v->engineer_name));
    return o;
}

/* ---- GET /api/v1/disputes/{id} ------------------------------------------------------------ */

static void on_get(void *ctx, int rc)
{
    api_call *c = ctx;
    store_dispute_view *v = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        const http_auth *a = &req->auth;
        if (rc == STORE_OK && !(a->role_bit & ROLE_ADMIN) && strcmp(a->id, v->client_id) != 0 &&
            strcmp(a->id, v->engineer_id) != 0)
            rc = STORE_NOTFOUND;
        if (rc == STORE_NOTFOUND)
            http_problem(req, 404, "not-found", "Not Found", "no such dispute", NULL);
        else if (rc < 0)
            api_store_error(req, rc);
        else
            http_respond_json(req, 200, view_json(v));
    }
    store_dispute_view_free(v);
    api_call_end(c);
}

void api_dispute_get(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_dispute_view));
    if (!c) return;
    int rc = STORE_CALL(APP->store, dispute_get, http_param_get(req, "id"), c->out, req->deadline_ns, on_get, c);
    api_call_track(c, rc);
}

/* ---- GET /api/v1/admin/disputes ------------------------------------------------------------ */

/* the cursor carries the last item's place in the order: seq * 2 + open */
static void on_list(void *ctx, int rc)
{
    api_call *c = ctx;
    store_dispute_list *l = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < l->n; i++) json_array_append_new(items, view_json(&l->items[i]));
            const store_dispute_view *last = l->n ? &l->items[l->n - 1] : NULL;
            api_respond_page(req, items, last && l->n == c->limit, 'd',
                             last ? (long long)last->seq * 2 + (strcmp(last->d.status, "open") == 0) : 0);
        }
    }
    store_dispute_list_free(l);
    api_call_end(c);
}

void api_admin_disputes(http_req *req)
{
    jv_errors errs = {.n = 0};
    const char *status = http_query_get(req, "status");
    if (status && strcmp(status, "open") != 0 && strcmp(status, "resolved") != 0)
        jv_add_error(&errs, "status", "must be open or resolved");
    long limit;
    long long cursor;
    api_page_params(req, &errs, 50, STORE_DISPUTES_MAX, "cursor", 'd', &limit, &cursor);
    if (errs.n) {
        http_problem(req, 400, "bad-query", "Bad Request", "some query parameters are invalid; see errors", &errs);
        return;
    }
    api_call *c = api_call_new(req, sizeof(store_dispute_list));
    if (!c) return;
    c->limit = (int)limit;
    int rc = STORE_CALL(APP->store, disputes_list, status, (int)(cursor % 2), (int64_t)(cursor / 2), (int)limit,
                        c->out, req->deadline_ns, on_list, c);
    api_call_track(c, rc);
}
