/* webhooks: POST /api/v1/webhooks/stripe, Stripe's word on a payment that
 * finished after our call gave up (a timeout, a crash). The signature is
 * checked first: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
 * "t.body" with the endpoint secret>`, constant-time, within a 5-minute
 * tolerance of our clock; anything else is 400 and changes nothing. A
 * payment_intent.succeeded / .payment_failed event for one of our pending
 * charges (metadata.opx_payment_id) records its outcome exactly as the
 * charge call would have (the same store operation, which only moves a
 * payment that is still pending, so a late or repeated event moves nothing
 * twice). Other events are acknowledged and ignored. */
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
