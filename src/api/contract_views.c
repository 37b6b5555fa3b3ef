/* contract_views: contracts read in bulk: GET /contracts (a client's or an
 * engineer's own, an admin's all; ?request_id, ?status, cursor), a
 * contract's receipts (GET /contracts/{id}/payments) and its timesheets.
 * Someone else's contract is 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "api.h"

static const char *const contract_states[] = {"offered", "active", "ended", "declined", "withdrawn", NULL};

/* ---- GET /api/v1/contracts ------------------------------------------------------------ */

typedef struct {
    api_call *c;
    store_contract_filter f;
} list_state;

static json_t *row_json(const store_contract_row *k)
{
    int hourly = strcmp(k->type, "hourly") == 0;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", k->id, "request_id", k->request_id,
                          "request_title", k->request_title, "client_id", k->client_id, "client_name",
                          k->client_name, "engineer_id", k->engineer_id, "engineer_name", k->engineer_name, "type",
                          k->type, "status", k->status, "currency", k->currency);
    json_object_set_new(o, "hourly_rate", hourly ? json_integer(k->hourly_rate) : json_null());
    json_object_set_new(o, "weekly_cap_hours", hourly ? json_integer(k->weekly_cap_hours) : json_null());
    json_object_set_new(o, "fee_bps", json_integer(k->fee_bps));
    json_object_set_new(o, "total", json_integer(k->total));
    json_object_set_new(o, "escrow", json_integer(k->escrow));
    json_object_set_new(o, "milestone_count", json_integer(k->milestones));
    json_t *ms = json_loads(k->milestones_json ? k->milestones_json : "[]", 0, NULL);
    json_object_set_new(o, "milestones", json_is_array(ms) ? ms : json_array());
    if (ms && !json_is_array(ms)) json_decref(ms);
    json_object_set_new(o, "created_at", api_time_json(k->created_at));
    json_object_set_new(o, "accepted_at", api_time_json(k->accepted_at));
    json_object_set_new(o, "ended_at", api_time_json(k->ended_at));
    return o;
}

static void on_contracts(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_contract_list *l = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < l->n; i++) json_array_append_new(items, row_json(&l->items[i]));
            /* opaque to clients: "k" + the creation order */
            api_respond_page(req, items, l->n == c->limit, 'k', l->n ? l->items[l->n - 1].seq : 0);
        }
    }
    store_contract_list_free(c->out);
    api_call_end(c);
}

void api_contracts_list(http_req *req)
{
    jv_errors errs = {.n = 0};
    long limit;
    long long before;
    api_page_params(req, &errs, 20, STORE_CONTRACT_LIST_MAX, "cursor", 'k', &limit, &before);
    const char *status = http_query_get(req, "status"), *rid = http_query_get(req, "request_id");
    if (status) {
        int ok = 0;
        for (int i = 0; contract_states[i]; i++) ok |= strcmp(status, contract_states[i]) == 0;
        if (!ok) jv_add_error(&errs, "status", "must be one of offered, active, ended, declined, withdrawn");
    }
    if (rid && (!*rid || strlen(rid) > 31)) jv_add_error(&errs, "request_id", "is not a request id");
    if (errs.n) {
        http_problem(req, 400, "bad-query", "Bad Request", "some query parameters are invalid; see errors", &errs);
        return;
    }
    list_state *st = arena_alloc(&req->arena, sizeof *st);
    api_call *c = st ? api_call_new(req, sizeof(store_contract_list)) : NULL;
    if (!c) {
        if (!st) api_store_error(req, STORE_BUSY);
        return;
    }
    c->limit = (int)limit;
    memset(&st->f, 0, sizeof st->f);
    unsigned role = req->auth.role_bit;
    if (role & ROLE_CLIENT) st->f.client_id = req->auth.id;
    else if (role & ROLE_ENGINEER) st->f.engineer_id = req->auth.id;
    st->f.request_id = rid;
    st->f.status = status;
    st->f.before_seq = before;
    st->f.limit = (int)limit;
    api_call_track(c, STORE_CALL(APP->store, contracts_list, &st->f, c->out, req->deadline_ns, on_contracts, c));
}

/* ---- GET /api/v1/contracts/{id}/payments ------------------------------------------------ */

static const char *viewer(const http_req *req)
{
    return (req->auth.role_bit & ROLE_ADMIN) ? NULL : req->auth.id;
}

static void on_receipts(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_receipts *r = c->out;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) {
            http_problem(req, 404, "not-found", "Not Found", "no such contract", NULL);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            int64_t charged = 0, refunded = 0;
            for (int i = 0; i < r->n; i++) {
                const char *kind = r->items[i].kind, *status = r->items[i].status;
                if (strcmp(status, "succeeded") == 0) {
                    if (strcmp(kind, "charge") == 0) charged += r->items[i].amount;
                    else refunded += r->items[i].amount;
                }
                json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "id", r->items[i].id, "kind", kind,
                                      "milestone_id", r->items[i].milestone_id, "milestone_title",
                                      r->items[i].milestone_title, "amount", (json_int_t)r->items[i].amount,
                                      "currency", r->items[i].currency, "status", status, "gateway",
                                      r->items[i].gateway);
                json_object_set_new(o, "gateway_ref",
                                    r->items[i].gateway_ref[0] ? json_string(r->items[i].gateway_ref) : json_null());
                json_object_set_new(o, "error", r->items[i].error[0] ? json_string(r->items[i].error) : json_null());
                json_object_set_new(o, "refund_of",
                                    r->items[i].refund_of[0] ? json_string(r->items[i].refund_of) : json_null());
                json_object_set_new(o, "created_at", api_time_json(r->items[i].created_at));
                json_object_set_new(o, "updated_at", api_time_json(r->items[i].updated_at));
                json_array_append_new(items, o);
            }
            http_respond_json(req, 200,
                              json_pack("{s:s,s:s,s:o,s:I,s:I}", "contract_id", http_param_get(req, "id"), "currency",
                                        r->currency, "items", items, "charged", (json_int_t)charged, "refunded",
                                        (json_int_t)refunded));
        }
    }
    api_call_end(c);
}

void api_contract_payments(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_receipts));
    if (!c) return;
    api_call_track(c, STORE_CALL(APP->store, contract_receipts, http_param_get(req, "id"), viewer(req), c->out,
                                 req->deadline_ns, on_receipts, c));
}

/* ---- GET /api/v1/contracts/{id}/timesheets ---------------------------------------------- */

static void on_timesheets(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_timesheet_list *l = c->out;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) {
            http_problem(req, 404, "not-found", "Not Found", "no such contract", NULL);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < l->n; i++) json_array_append_new(items, api_timesheet_json(&l->items[i]));
            http_respond_json(req, 200,
                              json_pack("{s:s,s:o}", "contract_id", http_param_get(req, "id"), "items", items));
        }
    }
    api_call_end(c);
}

void api_contract_timesheets(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_timesheet_list));
    if (!c) return;
    api_call_track(c, STORE_CALL(APP->store, contract_timesheets, http_param_get(req, "id"), viewer(req), c->out,
                                 req->deadline_ns, on_timesheets, c));
}
