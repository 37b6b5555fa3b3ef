/* money: the POSTs that move money — fund and approve a milestone, resolve
 * a dispute, approve a timesheet, run a payout batch, send a refused
 * refund again — with Stripe's idempotency semantics. The caller's Idempotency-Key is claimed
 * in the database before anything happens:
 *   - a key seen with the same route and body replays the first answer
 *     (status and body, byte for byte; Idempotent-Replayed: true);
 *   - the same key with another route or body is 409 idempotency-key-reuse;
 *   - a key whose request is still running here is 409 (retry shortly);
 *   - a key left unfinished by a process that died is taken over, and the
 *     work resumes where it stopped: a charge already recorded under the
 *     key is asked of the gateway again with the same gateway key, which
 *     names the same charge, so no card is charged twice.
 * The answer is made and saved inside the transaction of the effect
 * (store_idem_done), so effect and replayable answer commit together.
 * An answer that is not final (the gateway or the database unavailable)
 * releases the key so the client may retry with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../services/money_out.h"
#include "../ext/gateway.h"
#include "api.h"

#define INFLIGHT_MAX 4096
/* how long a money effect may run on after its request's deadline: the
 * gateway's attempts (3 x --stripe-timeout and their backoff) and recording
 * what they answered. Another node takes a claimed key over only after. */
#define CLAIM_LEASE_AFTER_S 60

/* (user, key) pairs whose requests run here now */
static struct {
    char k[300];
} inflight[INFLIGHT_MAX];
static int ninflight;

static void flight_key(const char *user, const char *key, char out[300])
{
    snprintf(out, 300, "%s\n%s", user, key);
}

static int inflight_has(const char *k)
{
    for (int i = 0; i < ninflight; i++)
        if (strcmp(inflight[i].k, k) == 0) return 1;
    return 0;
}

static int inflight_add(const char *k)
{
    if (ninflight >= INFLIGHT_MAX) return -1;
    snprintf(inflight[ninflight++].k, sizeof inflight[0].k, "%s", k);
    return 0;
}

static void inflight_del(const char *k)
{
    for (int i = 0; i < ninflight; i++)
        if (strcmp(inflight[i].k, k) == 0) {
            inflight[i] = inflight[--ninflight];
            return;
        }
}

typedef enum { OP_FUND, OP_APPROVE, OP_RESOLVE, OP_TIMESHEET, OP_PAYOUTS, OP_REFUND_RETRY } money_op;

typedef struct money_state {
    http_req *req;
    money_op op;
    char milestone_id[32]; /* resolve: the dispute's id; a refund's id */
    char payment_method[256];
    int64_t release, refund;
    store_dispute dispute;
    store_timesheet timesheet;
    char flight[300];
    int flying;
    int effect_rc;                      /* what to answer once the key is free again */
    void (*answer)(struct money_state *); /* ... and how */
    store_idem claim;
    store_idem_result claimed;
    store_contract *k;
    store_money_conflict why;
    store_payment pay;
    store_idem_done done;
    char problem[512]; /* a declined charge's answer */
    store_payout_batch *batch; /* OP_PAYOUTS */
    store_money_out out;       /* OP_REFUND_RETRY */
} money_state;

static void finish(money_state *st)
{
    if (st->flying) inflight_del(st->flight);
    free(st->claimed.response);
    free(st->done.response);
    free(st->batch);
    if (st->k) {
        store_contract_free(st->k);
        free(st->k);
    }
    http_req_unref(st->req);
}

static void on_released(void *ctx, int rc)
{
    (void)rc;
    money_state *st = ctx;
    if (!http_req_cancelled(st->req)) st->answer(st);
    finish(st);
}

/* An answer that is not final frees the key first and is sent after: a
 * client that retries as soon as it reads the answer finds the key free
 * (with PostgreSQL's pool two writes of one client may run at once, so
 * the release could otherwise land after the retry's claim). */
static void release_then(money_state *st, int rc, void (*answer)(money_state *))
{
    st->effect_rc = rc;
    st->answer = answer;
    int r = STORE_CALL(APP->store, idem_release, st->claim.user_id, st->claim.key,
                       clock_mono_ns() + 5000000000ull, on_released, st);
    if (r < 0) on_released(st, r);
}

static void answer_store_error(money_state *st)
{
    api_store_error(st->req, st->effect_rc);
}

/* the answer was not final: the key is free again for a retry */
static void give_up(money_state *st, int status_rc)
{
    release_then(st, status_rc, answer_store_error);
}

static void respond_saved(money_state *st)
{
    http_req *req = st->req;
    if (http_req_cancelled(req)) return;
    const char *body = st->done.response ? st->done.response : "{}";
    http_respond(req, st->done.status,
                 st->done.status >= 400 ? "application/problem+json" : "application/json; charset=utf-8", body,
                 strlen(body));
}

static char *render_milestone(const store_idem_done *self, const store_contract *k, int *status)
{
    const money_state *st = self->arg;
    if (st->op == OP_PAYOUTS) {
        *status = 201;
        json_t *items = json_array();
        for (int i = 0; i < st->batch->payouts.n; i++)
            json_array_append_new(items, api_money_out_json(&st->batch->payouts.items[i]));
        json_t *j = json_pack("{s:s,s:o,s:i,s:b}", "batch_id", st->batch->batch_id, "payouts", items, "skipped",
                              st->batch->skipped, "more", st->batch->more);
        char *t = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return t;
    }
    if (st->op == OP_REFUND_RETRY) {
        *status = 202;
        json_t *j = api_money_out_json(&st->out);
        char *t = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return t;
    }
    if (st->op == OP_FUND && strcmp(st->pay.status, "failed") == 0) {
        *status = 402;
        return strdup(st->problem);
    }
    *status = 200;
    if (st->op == OP_RESOLVE || st->op == OP_TIMESHEET) {
        json_t *j = st->op == OP_RESOLVE ? api_dispute_json(&st->dispute) : api_timesheet_json(&st->timesheet);
        char *t = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return t;
    }
    for (int i = 0; i < k->nmilestones; i++)
        if (strcmp(k->milestones[i].id, self->milestone_id) == 0) {
            json_t *j = api_milestone_json(k, &k->milestones[i]);
            char *t = json_dumps(j, JSON_COMPACT);
            json_decref(j);
            return t;
        }
    return strdup("{}");
}

/* ---- the effect ---------------------------------------------------------------------- */

static void answer_effect(money_state *st)
{
    http_req *req = st->req;
    int rc = st->effect_rc;
    {
        if (rc == STORE_NOTFOUND)
            http_problem(req, 404, "not-found", "Not Found",
                         st->op == OP_RESOLVE           ? "no such dispute"
                         : st->op == OP_TIMESHEET       ? "no such timesheet"
                         : st->op == OP_REFUND_RETRY    ? "no such refund"
                                                        : "no such milestone",
                         NULL);
        else if (rc == STORE_CONFLICT && st->op == OP_REFUND_RETRY) {
            char detail[160];
            snprintf(detail, sizeof detail, "only a failed refund is sent again, once; this one is %s%s",
                     st->out.status, strcmp(st->out.status, "failed") == 0 ? " and was sent again already" : "");
            json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", "urn:opx:problem:refund-state", "title",
                                  "Conflict", "status", 409, "detail", detail, "state", st->out.status);
            char *t = json_dumps(p, JSON_COMPACT);
            json_decref(p);
            if (t) http_respond(req, 409, "application/problem+json", t, strlen(t));
            else api_store_error(req, STORE_BUSY);
            free(t);
        }
        else if (rc == STORE_CONFLICT && st->op == OP_RESOLVE && strcmp(st->why.entity, "escrow") == 0) {
            jv_errors errs = {.n = 0};
            jv_add_error(&errs, "release", "release + refund must equal the disputed escrow");
            jv_add_error(&errs, "refund", "release + refund must equal the disputed escrow");
            http_problem(req, 422, "validation", "Unprocessable Content", st->why.detail, &errs);
        } else if (rc == STORE_CONFLICT) api_money_conflict(req, &st->why);
        else respond_saved(st);
    }
}

static void on_effect(void *ctx, int rc)
{
    money_state *st = ctx;
    if (rc == STORE_BUSY || rc == STORE_TIMEOUT || rc == STORE_CLOSED || rc == STORE_IO ||
        rc == STORE_UNAVAILABLE) {
        give_up(st, rc);
        return;
    }
    if (rc == STORE_NOTFOUND || rc == STORE_CONFLICT) { /* nothing moved: the key may be used again */
        release_then(st, rc, answer_effect);
        return;
    }
    st->effect_rc = rc;
    if (!http_req_cancelled(st->req)) answer_effect(st);
    finish(st);
}

static void answer_gateway_unavailable(money_state *st)
{
    http_add_header(st->req, "Retry-After: 5");
    http_problem(st->req, 503, "gateway-unavailable", "Service Unavailable",
                 "the payment gateway did not answer; retry with the same Idempotency-Key", NULL);
}

static void on_charged(void *ctx, const gateway_result *r)
{
    money_state *st = ctx;
    if (r->outcome == GATEWAY_UNAVAILABLE) {
        log_msgf(LOG_WARN, "charge %s: gateway unavailable: %s", st->pay.id, r->error);
        release_then(st, 0, answer_gateway_unavailable);
        return;
    }
    snprintf(st->pay.status, sizeof st->pay.status, "%s", r->outcome == GATEWAY_OK ? "succeeded" : "failed");
    snprintf(st->pay.gateway_ref, sizeof st->pay.gateway_ref, "%s", r->ref);
    snprintf(st->pay.error, sizeof st->pay.error, "%s", r->error);
    if (r->outcome == GATEWAY_DECLINED) {
        json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", "urn:opx:problem:payment-declined", "title",
                              "Payment Required", "status", 402, "detail", r->error, "milestone_id",
                              st->milestone_id);
        char *t = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        snprintf(st->problem, sizeof st->problem, "%s", t ? t : "{}");
        free(t);
    }
    /* whatever became of the client, the charge is recorded */
    int rc = STORE_CALL(APP->store, fund_finish, &st->pay, clock_now_s(), &st->done,
                        clock_mono_ns() + 10000000000ull, on_effect, st);
    if (rc < 0) give_up(st, rc);
}

static void on_fund_begun(void *ctx, int rc)
{
    money_state *st = ctx;
    if (rc < 0) {
        on_effect(st, rc);
        return;
    }
    if (strcmp(st->pay.status, "pending") != 0) { /* settled before a crash: record the outcome again */
        gateway_result r = {.outcome = strcmp(st->pay.status, "succeeded") == 0 ? GATEWAY_OK : GATEWAY_DECLINED};
        snprintf(r.ref, sizeof r.ref, "%s", st->pay.gateway_ref);
        snprintf(r.error, sizeof r.error, "%s", st->pay.error);
        on_charged(st, &r);
        return;
    }
    const store_milestone *m = NULL;
    for (int i = 0; i < st->k->nmilestones; i++)
        if (strcmp(st->k->milestones[i].id, st->milestone_id) == 0) m = &st->k->milestones[i];
    gateway_charge c = {.idempotency_key = st->pay.gateway_key, .payment_method = st->payment_method,
                        .amount = st->pay.amount, .currency = st->pay.currency,
                        .description = m ? m->title : "milestone", .payment_id = st->pay.id,
                        .milestone_id = st->milestone_id};
    if (APP->gateway->charge(APP->gateway, &c, on_charged, st) < 0) {
        gateway_result r = {.outcome = GATEWAY_UNAVAILABLE};
        snprintf(r.error, sizeof r.error, "the charge could not start");
        on_charged(st, &r);
    }
}

static void start_effect(money_state *st)
{
    http_req *req = st->req;
    int rc;
    st->done.user_id = st->claim.user_id;
    st->done.key = st->claim.key;
    st->done.render = render_milestone;
    st->done.arg = st;
    memcpy(st->done.milestone_id, st->milestone_id, sizeof st->done.milestone_id);
    if (st->op == OP_FUND) {
        snprintf(st->pay.gateway, sizeof st->pay.gateway, "%s", APP->gateway->name);
        /* the gateway key is a function of the caller's key: a retry names the same charge */
        snprintf(st->pay.gateway_key, sizeof st->pay.gateway_key, "fund:%s:%s", st->milestone_id, st->claim.key);
        rc = STORE_CALL(APP->store, fund_begin, st->milestone_id, req->auth.id, &st->pay, clock_now_s(), st->k,
                        &st->why, clock_mono_ns() + 10000000000ull, on_fund_begun, st);
    } else if (st->op == OP_APPROVE) {
        rc = STORE_CALL(APP->store, milestone_move, st->milestone_id, req->auth.id, "released", NULL, NULL,
                        clock_now_s(), &st->done, st->k, &st->why, req->deadline_ns, on_effect, st);
    } else if (st->op == OP_TIMESHEET) {
        rc = STORE_CALL(APP->store, timesheet_approve, st->milestone_id, req->auth.id, clock_now_s(), &st->done,
                        &st->timesheet, st->k, &st->why, req->deadline_ns, on_effect, st);
    } else if (st->op == OP_PAYOUTS) {
        store_payout_run run;
        money_out_run_init(&run, req->auth.id, NULL);
        rc = STORE_CALL(APP->store, payout_batch, &run, &st->done, st->batch, req->deadline_ns, on_effect, st);
    } else if (st->op == OP_REFUND_RETRY) {
        rc = STORE_CALL(APP->store, refund_retry, st->milestone_id, req->auth.id, clock_now_s(), &st->done, &st->out,
                        req->deadline_ns, on_effect, st);
    } else {
        rc = STORE_CALL(APP->store, dispute_resolve, st->milestone_id, req->auth.id, st->release, st->refund,
                        clock_now_s(), &st->done, &st->dispute, st->k, &st->why, req->deadline_ns, on_effect, st);
    }
    if (rc < 0) give_up(st, rc);
}

/* ---- claiming the key ---------------------------------------------------------------------- */

/* it usually ends within a second, here or on another node (whose claim
 * lapses only CLAIM_LEASE_AFTER_S after its deadline, should it die) */
static void answer_in_use(http_req *req)
{
    http_add_header(req, "Retry-After: 1");
    http_problem(req, 409, "idempotency-key-in-use", "Conflict",
                 "a request with this Idempotency-Key is still running; retry shortly", NULL);
}

static void on_claimed(void *ctx, int rc)
{
    money_state *st = ctx;
    http_req *req = st->req;
    if (rc < 0) {
        if (!http_req_cancelled(req)) api_store_error(req, rc);
        finish(st);
        return;
    }
    switch (st->claimed.state) {
    case STORE_IDEM_REPLAY:
        if (!http_req_cancelled(req)) {
            http_add_header(req, "Idempotent-Replayed: true");
            const char *b = st->claimed.response ? st->claimed.response : "";
            http_respond(req, st->claimed.status,
                         st->claimed.status >= 400 ? "application/problem+json" : "application/json; charset=utf-8",
                         b, strlen(b));
        }
        finish(st);
        return;
    case STORE_IDEM_MISMATCH:
        if (!http_req_cancelled(req)) {
            jv_errors errs = {.n = 0};
            jv_add_error(&errs, "Idempotency-Key", "was used for another request; use a new key for a new request");
            http_problem(req, 409, "idempotency-key-reuse", "Conflict",
                         "this Idempotency-Key came with another request or body", &errs);
        }
        finish(st);
        return;
    case STORE_IDEM_ELSEWHERE:
        if (!http_req_cancelled(req)) answer_in_use(req);
        finish(st);
        return;
    default: break; /* new, taken over, or ours from a request that ended: carry on */
    }
    start_effect(st);
}

static int key_ok(const char *k, size_t n)
{
    if (n < 1 || n > 255) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e) return 0;
    return 1;
}

static void money_post(http_req *req, money_op op, const char *payment_method, int64_t release, int64_t refund)
{
    size_t n = 0;
    const char *key = http_header_get(req, "idempotency-key", &n);
    if (!key || !key_ok(key, n)) {
        jv_errors errs = {.n = 0};
        jv_add_error(&errs, "Idempotency-Key", key ? "must be 1 to 255 visible ASCII characters"
                                                   : "is required on every request that moves money");
        http_problem(req, 400, "idempotency-key", "Bad Request",
                     "send an Idempotency-Key header (a UUID is a good one)", &errs);
        return;
    }
    money_state *st = arena_alloc(&req->arena, sizeof *st);
    int on_contract = op != OP_PAYOUTS && op != OP_REFUND_RETRY; /* the others move no contract */
    store_contract *k = on_contract ? calloc(1, sizeof *k) : NULL;
    store_payout_batch *batch = op == OP_PAYOUTS ? calloc(1, sizeof *batch) : NULL;
    if (!st || (on_contract && !k) || (op == OP_PAYOUTS && !batch)) {
        free(k);
        free(batch);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->batch = batch;
    st->req = req;
    st->op = op;
    st->k = k;
    snprintf(st->milestone_id, sizeof st->milestone_id, "%s", http_param_get(req, "id"));
    if (payment_method) snprintf(st->payment_method, sizeof st->payment_method, "%s", payment_method);
    st->release = release;
    st->refund = refund;
    store_idem *c = &st->claim;
    snprintf(c->user_id, sizeof c->user_id, "%s", req->auth.id);
    memcpy(c->key, key, n);
    c->key[n] = '\0';
    static const char *const names[] = {"fund", "approve", "resolve", "timesheet", "payouts", "refund-retry"};
    snprintf(c->route, sizeof c->route, "%s %s", names[op], st->milestone_id);
    snprintf(c->owner, sizeof c->owner, "%s", APP->node_id); /* this process's name in its claims */
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)(req->body.data ? req->body.data : ""), req->body.len,
                       NULL, 0);
    sodium_bin2hex(c->body_hash, sizeof c->body_hash, h, sizeof h);
    flight_key(c->user_id, c->key, st->flight);
    /* a request with this key runs here now: the loop knows at once, and
     * marks the key before claiming it, so two claims of one process never
     * both proceed whatever order the pool answers them in */
    if (inflight_has(st->flight)) {
        answer_in_use(req);
        free(k);
        free(batch);
        return;
    }
    if (inflight_add(st->flight) < 0) {
        free(k);
        free(batch);
        api_store_error(req, STORE_BUSY);
        return;
    }
    st->flying = 1;
    uint64_t now_ns = clock_mono_ns();
    c->lease_until = clock_now_s() + CLAIM_LEASE_AFTER_S +
                     (int64_t)((req->deadline_ns > now_ns ? req->deadline_ns - now_ns : 0) / 1000000000u) + 1;
    http_req_ref(req);
    int rc = STORE_CALL(APP->store, idem_claim, c, clock_now_s(), &st->claimed, req->deadline_ns, on_claimed, st);
    if (rc < 0) {
        api_store_error(req, rc);
        finish(st);
    }
}

/* an empty body or {} */
static int no_fields(http_req *req)
{
    if (!req->body.len) return 1;
    static const jv_field none[] = {{NULL, 0, 0, 0, 0, NULL, NULL}};
    json_t *b = http_json_body(req, none);
    if (!b) return 0;
    json_decref(b);
    return 1;
}

/* ---- POST /api/v1/milestones/{id}/fund ------------------------------------------------------------ */

static const jv_field fund_fields[] = {
    {"payment_method", JV_STRING, 1, 1, 255, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_milestone_fund(http_req *req)
{
    json_t *body = http_json_body(req, fund_fields);
    if (!body) return;
    char pm[256];
    snprintf(pm, sizeof pm, "%s", json_string_value(json_object_get(body, "payment_method")));
    json_decref(body);
    money_post(req, OP_FUND, pm, 0, 0);
}

/* ---- POST /api/v1/milestones/{id}/approve ------------------------------------------------------------ */

void api_milestone_approve(http_req *req)
{
    if (no_fields(req)) money_post(req, OP_APPROVE, NULL, 0, 0);
}

/* ---- POST /api/v1/disputes/{id}/resolve ------------------------------------------------------------ */

static const jv_field resolve_fields[] = {
    {"release", JV_INT, 1, 0, 100000000, NULL, NULL},
    {"refund", JV_INT, 1, 0, 100000000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_dispute_resolve(http_req *req)
{
    json_t *body = http_json_body(req, resolve_fields);
    if (!body) return;
    int64_t release = json_integer_value(json_object_get(body, "release"));
    int64_t refund = json_integer_value(json_object_get(body, "refund"));
    json_decref(body);
    if (release + refund == 0) {
        jv_errors errs = {.n = 0};
        jv_add_error(&errs, "release", "release and refund cannot both be zero: together they are the escrow");
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    money_post(req, OP_RESOLVE, NULL, release, refund);
}

/* ---- POST /api/v1/timesheets/{id}/approve ----------------------------------------------------------- */

void api_timesheet_approve(http_req *req)
{
    if (no_fields(req)) money_post(req, OP_TIMESHEET, NULL, 0, 0);
}

/* ---- POST /api/v1/admin/payouts, POST /api/v1/admin/refunds/{id}/retry ----------------------------- */

void api_payouts_run(http_req *req)
{
    if (no_fields(req)) money_post(req, OP_PAYOUTS, NULL, 0, 0);
}

void api_refund_retry(http_req *req)
{
    if (no_fields(req)) money_post(req, OP_REFUND_RETRY, NULL, 0, 0);
}
