/* payouts: what people see of money leaving through the gateway.
 *   GET/PUT /api/v1/me/payout-account  an engineer's Stripe Connect account
 *                                      (acct_...), where payouts go
 *   GET /api/v1/me/payouts             an engineer's payouts, newest first
 *   GET /api/v1/admin/payouts          every payout (?status)
 *   GET /api/v1/admin/refunds          every card refund (?status)
 * The POSTs that move this money (a payout run, a refund sent again) are
 * idempotent and live with the other money POSTs in money.c; this file
 * also renders a refund or payout for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "api.h"

#define ACCOUNT_MAX 60 /* after acct_: fits STORE_PAYOUT_ACCOUNT_MAX */
_Static_assert(5 + ACCOUNT_MAX < STORE_PAYOUT_ACCOUNT_MAX, "a payout account fits its buffers");

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

json_t *api_money_out_json(const store_money_out *o)
{
    int refund = strcmp(o->kind, "refund") == 0;
    json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:o,s:o,s:i,s:o,s:o}", "id", o->id, "kind", o->kind, "status",
                          o->status, "amount", (json_int_t)o->amount, "currency", o->currency, "gateway", o->gateway,
                          "gateway_ref", str_or_null(o->gateway_ref), "error", str_or_null(o->error), "attempts",
                          o->attempts, "created_at", api_time_json(o->created_at), "updated_at",
                          api_time_json(o->updated_at));
    if (!j) return NULL;
    if (refund) {
        json_object_set_new(j, "client_id", json_string(o->owner_id));
        json_object_set_new(j, "contract_id", json_string(o->contract_id));
        json_object_set_new(j, "milestone_id", json_string(o->milestone_id));
    } else {
        json_object_set_new(j, "engineer_id", json_string(o->owner_id));
        json_object_set_new(j, "batch_id", json_string(o->batch_id));
        json_object_set_new(j, "destination", json_string(o->destination));
    }
    return j;
}

/* ---- lists ------------------------------------------------------------------------------------------ */

static void on_list(void *ctx, int rc)
{
    api_call *c = ctx;
    store_money_out_list *l = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < l->n; i++) json_array_append_new(items, api_money_out_json(&l->items[i]));
            api_respond_page(req, items, l->next_seq > 0, 'c', l->next_seq);
        }
    }
    api_call_end(c);
}

/* ?status (one of statuses), ?limit (1..100, default 50), ?before (a cursor) */
static void list(http_req *req, const char *kind, const char *owner, const char *const *statuses, const char *names)
{
    jv_errors errs = {.n = 0};
    const char *status = http_query_get(req, "status");
    if (status) {
        int known = 0;
        for (int i = 0; statuses[i]; i++) known |= strcmp(status, statuses[i]) == 0;
        if (!known) jv_add_error(&errs, "status", "must be %s", names);
    }
    long limit;
    long long before;
    api_page_params(req, &errs, 50, STORE_MONEY_OUT_PAGE, "before", 'c', &limit, &before);
    if (errs.n) {
        http_problem(req, 400, "bad-query", "Bad Request", "some query parameters are invalid; see errors", &errs);
        return;
    }
    api_call *c = api_call_new(req, sizeof(store_money_out_list));
    if (!c) return;
    int rc = STORE_CALL(APP->store, money_out_list, kind, status, owner, before, (int)limit, c->out,
                        req->deadline_ns, on_list, c);
    api_call_track(c, rc);
}

static const char *const payout_statuses[] = {"pending", "succeeded", "failed", "reversed", NULL};
static const char *const refund_statuses[] = {"pending", "succeeded", "failed", NULL};

void api_my_payouts(http_req *req)
{
    list(req, "payout", req->auth.id, payout_statuses, "pending, succeeded, failed or reversed");
}

void api_admin_payouts(http_req *req)
{
    list(req, "payout", NULL, payout_statuses, "pending, succeeded, failed or reversed");
}

void api_admin_refunds(http_req *req)
{
    list(req, "refund", NULL, refund_statuses, "pending, succeeded or failed");
}

/* ---- the payout account --------------------------------------------------------------------------------- */

typedef struct {
    char account[STORE_PAYOUT_ACCOUNT_MAX];
    int64_t updated_at;
} account_state;

static void respond_account(http_req *req, const account_state *a)
{
    http_respond_json(req, 200, json_pack("{s:s,s:o}", "stripe_account", a->account, "updated_at",
                                          api_time_json(a->updated_at)));
}

static void on_account(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND)
            http_problem(req, 404, "not-found", "Not Found",
                         "no payout account yet: PUT one (your Stripe account id, acct_...) to be paid out", NULL);
        else if (rc < 0) api_store_error(req, rc);
        else respond_account(req, c->out);
    }
    api_call_end(c);
}

void api_payout_account_get(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(account_state));
    if (!c) return;
    account_state *a = c->out;
    int rc = STORE_CALL(APP->store, payout_account_get, req->auth.id, a->account, &a->updated_at, req->deadline_ns,
                        on_account, c);
    api_call_track(c, rc);
}

static void on_account_set(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) api_store_error(req, rc);
        else respond_account(req, c->out);
    }
    api_call_end(c);
}

/* acct_ and 1..ACCOUNT_MAX letters and digits, as Stripe names accounts */
static int account_ok(const char *s)
{
    if (strncmp(s, "acct_", 5) != 0) return 0;
    size_t n = strlen(s + 5);
    if (n < 1 || n > ACCOUNT_MAX) return 0;
    for (const char *p = s + 5; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) return 0;
    return 1;
}

static const jv_field account_fields[] = {
    {"stripe_account", JV_STRING, 1, 1, 80, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_payout_account_put(http_req *req)
{
    json_t *body = http_json_body(req, account_fields);
    if (!body) return;
    const char *acct = json_string_value(json_object_get(body, "stripe_account"));
    if (!account_ok(acct)) {
        json_decref(body);
        jv_errors errs = {.n = 0};
        jv_add_error(&errs, "stripe_account", "must be a Stripe account id: acct_ and 1 to %d letters or digits",
                     ACCOUNT_MAX);
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    api_call *c = api_call_new(req, sizeof(account_state));
    if (!c) {
        json_decref(body);
        return;
    }
    account_state *a = c->out;
    snprintf(a->account, sizeof a->account, "%s", acct);
    json_decref(body);
    a->updated_at = clock_now_s();
    int rc = STORE_CALL(APP->store, payout_account_set, req->auth.id, a->account, a->updated_at, req->deadline_ns,
                        on_account_set, c);
    api_call_track(c, rc);
}
