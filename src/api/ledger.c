/* ledger: what the ledger says to people — an engineer's balance (GET
 * /api/v1/me/balance) and the admins' view (GET /api/v1/admin/ledger:
 * totals per currency and account kind, the largest accounts, and a full
 * verification run in the same snapshot). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "api.h"

static void on_balance(void *ctx, int rc)
{
    api_call *c = ctx;
    store_balance *b = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < b->n; i++)
                json_array_append_new(items, json_pack("{s:s,s:I,s:I,s:I,s:I}", "currency", b->rows[i].currency,
                                                       "payable", (json_int_t)b->rows[i].payable, "paid_out",
                                                       (json_int_t)b->rows[i].paid_out, "pending",
                                                       (json_int_t)b->rows[i].pending, "in_transit",
                                                       (json_int_t)b->rows[i].in_transit));
            http_respond_json(req, 200, json_pack("{s:o}", "balances", items));
        }
    }
    api_call_end(c);
}

void api_balance(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_balance));
    if (!c) return;
    int rc = STORE_CALL(APP->store, balance, req->auth.id, c->out, req->deadline_ns, on_balance, c);
    api_call_track(c, rc);
}

static void on_report(void *ctx, int rc)
{
    api_call *c = ctx;
    store_ledger_report *r = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *totals = json_array(), *accounts = json_array();
            for (int i = 0; i < r->ntotals; i++)
                json_array_append_new(totals, json_pack("{s:s,s:s,s:I}", "currency", r->totals[i].currency, "kind",
                                                        r->totals[i].kind, "balance",
                                                        (json_int_t)r->totals[i].balance));
            for (int i = 0; i < r->naccounts; i++)
                json_array_append_new(accounts,
                                      json_pack("{s:s,s:s,s:o,s:s,s:I}", "id", r->accounts[i].id, "kind",
                                                r->accounts[i].kind, "owner",
                                                r->accounts[i].owner[0] ? json_string(r->accounts[i].owner)
                                                                        : json_null(),
                                                "currency", r->accounts[i].currency, "balance",
                                                (json_int_t)r->accounts[i].balance));
            json_t *verify = json_pack("{s:b,s:I,s:s,s:o}", "ok", r->violations == 0, "violations",
                                       (json_int_t)r->violations, "report", r->report ? r->report : "",
                                       "checked_at", api_time_json(clock_now_s()));
            http_respond_json(req, 200, json_pack("{s:o,s:o,s:o}", "totals", totals, "accounts", accounts,
                                                  "verify", verify));
        }
    }
    free(r->report);
    r->report = NULL;
    api_call_end(c);
}

void api_admin_ledger(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_ledger_report));
    if (!c) return;
    int rc = STORE_CALL(APP->store, ledger_report, c->out, req->deadline_ns, on_report, c);
    api_call_track(c, rc);
}
