/* webhooks: POST /api/v1/webhooks/stripe, Stripe's word on a payment that
 * finished after our call gave up (a timeout, a crash). The signature is
 * checked first: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
 * "t.body" with the endpoint secret>`, constant-time, within a 5-minute
 * tolerance of our clock; anything else is 400 and changes nothing. A
 * payment_intent.succeeded / .payment_failed event for one of our pending
 * charges (metadata.opx_payment_id) records its outcome exactly as the
 * charge call would have (the same store operation, which only moves a
 * payment that is still pending, so a late or repeated event moves nothing
 * twice). Money going out is told the same way: refund.updated (or
 * refund.failed, charge.refund.updated) settles one of our card refunds
 * (metadata.opx_payment_id), transfer.reversed takes a payout back
 * (metadata.opx_payout_id); both through the store's money_out_result,
 * which moves only a row whose state allows it. Other events are
 * acknowledged and ignored. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "api.h"

#define TOLERANCE_S 300

static void bad_signature(http_req *req, const char *why)
{
    jv_errors errs = {.n = 0};
    jv_add_error(&errs, "Stripe-Signature", "%s", why);
    http_problem(req, 400, "bad-signature", "Bad Request", "the webhook's signature does not verify", &errs);
}

/* 1 when one of the header's v1 signatures matches the body at its t */
static int verify(http_req *req, const char *secret, const char *hdr, size_t n, const char **why)
{
    char copy[1024];
    if (n >= sizeof copy) {
        *why = "is too long";
        return 0;
    }
    memcpy(copy, hdr, n);
    copy[n] = '\0';
    long long t = -1;
    const char *sigs[8];
    int nsigs = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ') item++;
        if (strncmp(item, "t=", 2) == 0) {
            char *end = NULL;
            t = strtoll(item + 2, &end, 10);
            if (!end || *end || item[2] == '\0') t = -1;
        } else if (strncmp(item, "v1=", 3) == 0 && nsigs < 8) {
            sigs[nsigs++] = item + 3;
        }
    }
    if (t < 0 || nsigs == 0) {
        *why = "must carry t=<unix time> and v1=<signature>";
        return 0;
    }
    long long now = (long long)(clock_now_s() - clock_offset_s()); /* the real clock: Stripe signs with it */
    if (t < now - TOLERANCE_S || t > now + TOLERANCE_S) {
        *why = "is older (or newer) than the 5-minute tolerance";
        return 0;
    }
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    char ts[24];
    int tl = snprintf(ts, sizeof ts, "%lld.", t);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)(req->body.data ? req->body.data : ""), req->body.len);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    int ok = 0;
    for (int i = 0; i < nsigs; i++)
        if (strlen(sigs[i]) == sizeof hex - 1 && sodium_memcmp(sigs[i], hex, sizeof hex - 1) == 0) ok = 1;
    if (!ok) *why = "does not match the body (wrong secret, or the body was altered)";
    return ok;
}

typedef struct {
    http_req *req;
    store_payment pay;
    int succeeded;
    char payment_id[32]; /* the store reads it later, on its thread: it lives here, not on the stack */
    char ref[128], error[256];
} hook_state;

static void on_recorded(void *ctx, int rc)
{
    hook_state *st = ctx;
    if (!http_req_cancelled(st->req)) {
        if (rc < 0) api_store_error(st->req, rc);
        else http_respond_json(st->req, 200, json_pack("{s:b,s:b}", "received", 1, "applied", 1));
    }
    http_req_unref(st->req);
}

static void on_payment(void *ctx, int rc)
{
    hook_state *st = ctx;
    http_req *req = st->req;
    if (rc == STORE_OK && strcmp(st->pay.status, "pending") == 0) {
        snprintf(st->pay.status, sizeof st->pay.status, "%s", st->succeeded ? "succeeded" : "failed");
        snprintf(st->pay.gateway_ref, sizeof st->pay.gateway_ref, "%s", st->ref);
        snprintf(st->pay.error, sizeof st->pay.error, "%s", st->error);
        log_msgf(LOG_INFO, "webhook: payment %s %s", st->pay.id, st->pay.status);
        int src = STORE_CALL(APP->store, fund_finish, &st->pay, clock_now_s(), NULL, clock_mono_ns() + 10000000000ull,
                             on_recorded, st);
        if (src >= 0) return;
        rc = src;
    }
    if (!http_req_cancelled(req)) {
        if (rc < 0 && rc != STORE_NOTFOUND) api_store_error(req, rc);
        else http_respond_json(req, 200, json_pack("{s:b,s:b}", "received", 1, "applied", 0));
    }
    http_req_unref(req);
}

/* ---- refunds and payouts ------------------------------------------------------------------- */

typedef struct {
    http_req *req;
    store_money_out_result r;
    store_money_out out;
} out_state;

static void on_out_recorded(void *ctx, int rc)
{
    out_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0 && rc != STORE_NOTFOUND && rc != STORE_CONFLICT) api_store_error(req, rc);
        else http_respond_json(req, 200, json_pack("{s:b,s:b}", "received", 1, "applied", rc == STORE_OK));
    }
    http_req_unref(req);
}

/* 1 when the event was one of ours and went to the store (it answers) */
static int money_out_event(http_req *req, const char *type, json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    const char *status = json_string_value(json_object_get(obj, "status"));
    const char *id = NULL, *kind = NULL;
    int outcome = -1;
    if (strcmp(type, "refund.updated") == 0 || strcmp(type, "refund.failed") == 0 ||
        strcmp(type, "charge.refund.updated") == 0) {
        kind = "refund";
        id = json_string_value(json_object_get(meta, "opx_payment_id"));
        if (status && strcmp(status, "succeeded") == 0) outcome = STORE_OUT_SUCCEEDED;
        else if (status && (strcmp(status, "failed") == 0 || strcmp(status, "canceled") == 0)) outcome = STORE_OUT_FAILED;
    } else if (strcmp(type, "transfer.reversed") == 0) {
        kind = "payout";
        id = json_string_value(json_object_get(meta, "opx_payout_id"));
        outcome = STORE_OUT_REVERSED;
    }
    if (!kind || !id || outcome < 0) return 0;
    out_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return 1;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    snprintf(st->r.kind, sizeof st->r.kind, "%s", kind);
    snprintf(st->r.id, sizeof st->r.id, "%s", id);
    st->r.outcome = outcome;
    const char *ref = json_string_value(json_object_get(obj, "id"));
    snprintf(st->r.gateway_ref, sizeof st->r.gateway_ref, "%s", ref ? ref : "");
    const char *reason = json_string_value(json_object_get(obj, "failure_reason"));
    if (outcome == STORE_OUT_FAILED)
        snprintf(st->r.error, sizeof st->r.error, "refund_failed: %s", reason ? reason : "refused by the card issuer");
    else if (outcome == STORE_OUT_REVERSED)
        snprintf(st->r.error, sizeof st->r.error, "transfer_reversed: the transfer was reversed at Stripe");
    log_msgf(LOG_INFO, "webhook: %s %s %s", type, kind, id);
    int rc = STORE_CALL(APP->store, money_out_result, &st->r, clock_now_s(), &st->out, req->deadline_ns,
                        on_out_recorded, st);
    api_track(req, rc);
    return 1;
}

void api_stripe_webhook(http_req *req)
{
    const char *secret = APP->cfg.stripe.webhook_secret;
    if (!secret || !secret[0]) {
        http_problem(req, 404, "not-found", "Not Found", "Stripe webhooks are not configured on this server", NULL);
        return;
    }
    size_t n = 0;
    const char *sig = http_header_get(req, "stripe-signature", &n);
    const char *why = "is required";
    if (!sig || !verify(req, secret, sig, n, &why)) {
        bad_signature(req, why);
        return;
    }
    json_t *ev = http_json_body(req, NULL); /* any JSON object: 415/400 answered there */
    if (!ev) return;
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *obj = json_object_get(json_object_get(ev, "data"), "object");
    const char *pid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "opx_payment_id"));
    if (type && money_out_event(req, type, obj)) {
        json_decref(ev);
        return;
    }
    int succeeded = type && strcmp(type, "payment_intent.succeeded") == 0;
    int failed = type && strcmp(type, "payment_intent.payment_failed") == 0;
    if ((!succeeded && !failed) || !pid) {
        json_decref(ev);
        http_respond_json(req, 200, json_pack("{s:b,s:b}", "received", 1, "applied", 0));
        return;
    }
    hook_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(ev);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    st->succeeded = succeeded;
    const char *ref = json_string_value(json_object_get(obj, "id"));
    snprintf(st->ref, sizeof st->ref, "%s", ref ? ref : "");
    const char *msg = json_string_value(json_object_get(json_object_get(obj, "last_payment_error"), "message"));
    snprintf(st->error, sizeof st->error, "%s", failed ? (msg ? msg : "payment_failed") : "");
    snprintf(st->payment_id, sizeof st->payment_id, "%s", pid);
    json_decref(ev);
    int rc = STORE_CALL(APP->store, payment_get, st->payment_id, &st->pay, req->deadline_ns, on_payment, st);
    api_track(req, rc);
}
