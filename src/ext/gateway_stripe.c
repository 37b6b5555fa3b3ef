/* gateway_stripe: Stripe's REST API (see gateway.h). A charge is one
 * `POST /v1/payment_intents` with confirm=true, a refund one `POST
 * /v1/refunds` against the charge's PaymentIntent, a payout one `POST
 * /v1/transfers` to the engineer's connected account (Connect); each with
 * the gateway key as Stripe's Idempotency-Key, so every retry (ours after
 * a timeout, or a job's after a crash) names the same movement and Stripe
 * makes it once. A refund left pending is read back with `GET
 * /v1/refunds/{id}`. Each attempt runs on the loop (curl_loop) with its
 * own deadline; connection errors, timeouts, 429 and 5xx are retried with
 * exponential backoff and jitter up to max_attempts; a declined card is
 * final. A circuit breaker stops calling a Stripe that keeps failing: while
 * it is open, charges answer "unavailable" at once (the API says 503 and
 * the client retries with its key). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/breaker.h"
#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "curl_loop.h"
#include "gateway.h"

#define RESPONSE_MAX (64 * 1024)
#define BACKOFF_MS 100

typedef struct {
    gateway base;
    uv_loop_t *loop;
    stripe_config cfg;
    char *api_base, *secret;
    breaker br;
} stripe;

/* reads Stripe's answer (HTTP status below 429, not 5xx) into r */
typedef void (*parse_fn)(long code, json_t *j, gateway_result *r);

typedef struct {
    stripe *sg;
    char path[192];            /* /v1/... */
    const char *metric;        /* opx_gateway_<call>s_total */
    parse_fn parse;
    char *form;                /* the request body; NULL: a GET */
    char key[160];
    int attempt;
    gateway_done_fn done;
    void *ctx;
    buf body;                  /* the response */
    struct curl_slist *hdrs;   /* the running attempt's headers */
    uv_timer_t backoff;
} call_op;

static double m_breaker_state;

static double m_breaker(void *a)
{
    (void)a;
    return m_breaker_state;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    call_op *op = arg;
    if (buf_append(&op->body, data, size * n) < 0) return 0; /* too large: the transfer fails */
    return size * n;
}

static void op_free_after_timer(uv_handle_t *h)
{
    call_op *op = h->data;
    buf_free(&op->body);
    free(op->form);
    free(op);
}

static const char *outcome_name(int outcome)
{
    return outcome == GATEWAY_OK         ? "succeeded"
           : outcome == GATEWAY_DECLINED ? "declined"
           : outcome == GATEWAY_PENDING  ? "pending"
                                         : "unavailable";
}

static void finish(call_op *op, const gateway_result *r)
{
    stripe *sg = op->sg;
    breaker_result(&sg->br, r->outcome != GATEWAY_UNAVAILABLE, clock_now_ms());
    m_breaker_state = sg->br.state;
    metrics_count(op->metric, "outcome", outcome_name(r->outcome));
    op->done(op->ctx, r);
    uv_close((uv_handle_t *)&op->backoff, op_free_after_timer); /* frees op once the timer handle is closed */
}

static void attempt(call_op *op);

static void on_backoff(uv_timer_t *t)
{
    attempt(t->data);
}

/* a failure that may be retried with the same key */
static void retry_or_give_up(call_op *op, const char *why)
{
    if (op->attempt < op->sg->cfg.max_attempts) {
        uint64_t base = (uint64_t)BACKOFF_MS << (op->attempt - 1);
        uint64_t wait = base / 2 + randombytes_uniform((uint32_t)base + 1); /* 50%..150% */
        log_msgf(LOG_WARN, "stripe %s %s: attempt %d failed (%s); retrying in %llu ms", op->path, op->key, op->attempt, why,
                 (unsigned long long)wait);
        metrics_count("opx_gateway_retries_total", "gateway", "stripe");
        uv_timer_start(&op->backoff, on_backoff, wait, 0);
        return;
    }
    gateway_result r = {.outcome = GATEWAY_UNAVAILABLE};
    snprintf(r.error, sizeof r.error, "stripe: %s (after %d attempts)", why, op->attempt);
    finish(op, &r);
}

static void on_done(CURL *easy, CURLcode res, void *ctx)
{
    call_op *op = ctx;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(easy);
    curl_slist_free_all(op->hdrs);
    op->hdrs = NULL;
    char why[200];
    if (res != CURLE_OK) {
        snprintf(why, sizeof why, "%s", curl_easy_strerror(res));
        if (res == CURLE_ABORTED_BY_CALLBACK) { /* shutting down: no retry */
            gateway_result r = {.outcome = GATEWAY_UNAVAILABLE};
            snprintf(r.error, sizeof r.error, "stripe: %s", why);
            finish(op, &r);
            return;
        }
        retry_or_give_up(op, why);
        return;
    }
    if (code == 429 || code >= 500) {
        snprintf(why, sizeof why, "HTTP %ld", code);
        retry_or_give_up(op, why);
        return;
    }
    json_t *j = json_loadb(op->body.data ? op->body.data : "", op->body.len, 0, NULL);
    gateway_result r = {0};
    op->parse(code, j, &r);
    json_decref(j);
    finish(op, &r);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* an error answer (400, 402) is final; anything else unexpected too (401,
 * 403, 404, 409: the same request again will not help) */
static void parse_error(long code, json_t *j, gateway_result *r, const char *what)
{
    json_t *err = json_object_get(j, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));
    const char *ecode = json_string_value(json_object_get(err, "code"));
    if (code == 402 || code == 400) {
        r->outcome = GATEWAY_DECLINED;
        snprintf(r->error, sizeof r->error, "%s: %s", ecode ? ecode : "declined", msg ? msg : what);
    } else {
        r->outcome = GATEWAY_UNAVAILABLE;
        snprintf(r->error, sizeof r->error, "stripe: HTTP %ld: %s", code, msg ? msg : "refused");
    }
}

static void parse_charge(long code, json_t *j, gateway_result *r)
{
    const char *status = jstr(j, "status");
    if (code != 200) {
        parse_error(code, j, r, "the card was declined");
        return;
    }
    snprintf(r->ref, sizeof r->ref, "%s", jstr(j, "id"));
    if (strcmp(status, "succeeded") == 0) {
        r->outcome = GATEWAY_OK;
    } else {
        r->outcome = GATEWAY_DECLINED;
        snprintf(r->error, sizeof r->error, "payment_intent_%s: the payment did not complete",
                 status[0] ? status : "unknown");
    }
}

/* a refund may answer pending (the card network has not confirmed): its
 * outcome comes by webhook (refund.updated) */
static void parse_refund(long code, json_t *j, gateway_result *r)
{
    const char *status = jstr(j, "status");
    if (code != 200) {
        parse_error(code, j, r, "the refund was refused");
        return;
    }
    snprintf(r->ref, sizeof r->ref, "%s", jstr(j, "id"));
    if (strcmp(status, "succeeded") == 0) {
        r->outcome = GATEWAY_OK;
    } else if (strcmp(status, "pending") == 0 || strcmp(status, "requires_action") == 0) {
        r->outcome = GATEWAY_PENDING;
    } else {
        r->outcome = GATEWAY_DECLINED;
        snprintf(r->error, sizeof r->error, "refund_%s: the refund did not complete", status[0] ? status : "unknown");
    }
}

static void parse_transfer(long code, json_t *j, gateway_result *r)
{
    if (code != 200) {
        parse_error(code, j, r, "the transfer was refused");
        return;
    }
    r->outcome = GATEWAY_OK;
    snprintf(r->ref, sizeof r->ref, "%s", jstr(j, "id"));
}

static void attempt(call_op *op)
{
    stripe *sg = op->sg;
    op->attempt++;
    buf_free(&op->body);
    buf_init(&op->body, RESPONSE_MAX);
    CURL *e = curl_easy_init();
    if (!e) {
        retry_or_give_up(op, "curl_easy_init failed");
        return;
    }
    char url[512], auth[300], idem[200];
    snprintf(url, sizeof url, "%s%s", sg->api_base, op->path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", sg->secret);
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", op->key);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Stripe-Version: 2024-06-20");
    if (op->form) {
        h = curl_slist_append(h, idem);
        h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (op->form) curl_easy_setopt(e, CURLOPT_POSTFIELDS, op->form);
    else curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, op);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, sg->cfg.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, sg->cfg.timeout_ms);
    op->hdrs = h; /* libcurl reads it during the transfer: freed in on_done */
    if (curl_loop_add(e, on_done, op) < 0) {
        curl_slist_free_all(h);
        op->hdrs = NULL;
        curl_easy_cleanup(e);
        retry_or_give_up(op, "the transfer could not start");
    }
}

static int form_add(buf *b, CURL *esc, const char *name, const char *value)
{
    char *v = curl_easy_escape(esc, value ? value : "", 0);
    if (!v) return -1;
    int rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, v);
    curl_free(v);
    return rc;
}

/* the breaker answers for a Stripe that keeps failing: "unavailable" at once */
static int circuit_open(stripe *sg, const char *metric, gateway_done_fn done, void *ctx)
{
    if (breaker_allow(&sg->br, clock_now_ms())) return 0;
    m_breaker_state = sg->br.state;
    gateway_result r = {.outcome = GATEWAY_UNAVAILABLE};
    snprintf(r.error, sizeof r.error, "stripe: circuit open after repeated failures");
    metrics_count(metric, "outcome", "unavailable");
    done(ctx, &r);
    return 1;
}

/* starts a call whose form is complete (NULL: a GET): takes form's text either way */
static int start(stripe *sg, const char *path, const char *metric, parse_fn parse, buf *form, const char *key,
                 gateway_done_fn done, void *ctx)
{
    call_op *op = calloc(1, sizeof *op);
    if (!op || (form && !form->data)) {
        free(op);
        if (form) buf_free(form);
        return -1;
    }
    if (form) {
        op->form = strdup(form->data);
        buf_free(form);
        if (!op->form) {
            free(op);
            return -1;
        }
    }
    op->sg = sg;
    snprintf(op->path, sizeof op->path, "%s", path);
    op->metric = metric;
    op->parse = parse;
    snprintf(op->key, sizeof op->key, "%s", key);
    op->done = done;
    op->ctx = ctx;
    uv_timer_init(sg->loop, &op->backoff);
    op->backoff.data = op;
    attempt(op);
    return 0;
}

static void lower3(const char *cur, char out[4])
{
    for (int i = 0; i < 3; i++) out[i] = (char)(cur[i] | 0x20);
    out[3] = '\0';
}

static int sg_charge(gateway *g, const gateway_charge *c, gateway_done_fn done, void *ctx)
{
    stripe *sg = (stripe *)g;
    static const char metric[] = "opx_gateway_charges_total";
    if (circuit_open(sg, metric, done, ctx)) return 0;
    CURL *esc = curl_easy_init();
    if (!esc) return -1;
    char amount[32], currency[4];
    snprintf(amount, sizeof amount, "%lld", (long long)c->amount);
    lower3(c->currency, currency);
    buf form;
    buf_init(&form, 16384);
    int rc = form_add(&form, esc, "amount", amount) | form_add(&form, esc, "currency", currency) |
             form_add(&form, esc, "payment_method", c->payment_method) | form_add(&form, esc, "confirm", "true") |
             form_add(&form, esc, "description", c->description) |
             form_add(&form, esc, "metadata[opx_payment_id]", c->payment_id) |
             form_add(&form, esc, "metadata[opx_milestone_id]", c->milestone_id);
    curl_easy_cleanup(esc);
    if (rc) {
        buf_free(&form);
        return -1;
    }
    return start(sg, "/v1/payment_intents", metric, parse_charge, &form, c->idempotency_key, done, ctx);
}

static int sg_refund(gateway *g, const gateway_refund *f, gateway_done_fn done, void *ctx)
{
    stripe *sg = (stripe *)g;
    static const char metric[] = "opx_gateway_refunds_total";
    if (circuit_open(sg, metric, done, ctx)) return 0;
    CURL *esc = curl_easy_init();
    if (!esc) return -1;
    char amount[32];
    snprintf(amount, sizeof amount, "%lld", (long long)f->amount);
    buf form;
    buf_init(&form, 4096);
    int rc = form_add(&form, esc, "payment_intent", f->charge_ref) | form_add(&form, esc, "amount", amount) |
             form_add(&form, esc, "metadata[opx_payment_id]", f->payment_id) |
             form_add(&form, esc, "metadata[opx_milestone_id]", f->milestone_id);
    curl_easy_cleanup(esc);
    if (rc) {
        buf_free(&form);
        return -1;
    }
    return start(sg, "/v1/refunds", metric, parse_refund, &form, f->idempotency_key, done, ctx);
}

static int sg_transfer(gateway *g, const gateway_transfer *t, gateway_done_fn done, void *ctx)
{
    stripe *sg = (stripe *)g;
    static const char metric[] = "opx_gateway_transfers_total";
    if (circuit_open(sg, metric, done, ctx)) return 0;
    CURL *esc = curl_easy_init();
    if (!esc) return -1;
    char amount[32], currency[4];
    snprintf(amount, sizeof amount, "%lld", (long long)t->amount);
    lower3(t->currency, currency);
    buf form;
    buf_init(&form, 4096);
    int rc = form_add(&form, esc, "amount", amount) | form_add(&form, esc, "currency", currency) |
             form_add(&form, esc, "destination", t->destination) |
             form_add(&form, esc, "transfer_group", t->batch_id) |
             form_add(&form, esc, "metadata[opx_payout_id]", t->payout_id);
    curl_easy_cleanup(esc);
    if (rc) {
        buf_free(&form);
        return -1;
    }
    return start(sg, "/v1/transfers", metric, parse_transfer, &form, t->idempotency_key, done, ctx);
}

static int sg_refund_status(gateway *g, const char *ref, gateway_done_fn done, void *ctx)
{
    stripe *sg = (stripe *)g;
    static const char metric[] = "opx_gateway_refund_checks_total";
    if (circuit_open(sg, metric, done, ctx)) return 0;
    CURL *esc = curl_easy_init();
    if (!esc) return -1;
    char *id = curl_easy_escape(esc, ref, 0);
    curl_easy_cleanup(esc);
    if (!id) return -1;
    char path[192];
    int n = snprintf(path, sizeof path, "/v1/refunds/%s", id);
    curl_free(id);
    if (n < 0 || (size_t)n >= sizeof path) return -1;
    return start(sg, path, metric, parse_refund, NULL, ref, done, ctx);
}

static void sg_close(gateway *g)
{
    stripe *sg = (stripe *)g;
    curl_loop_close(); /* aborts what runs: each charge hears "unavailable" */
    free(sg->api_base);
    free(sg->secret);
    free(sg);
}

gateway *gateway_stripe_new(uv_loop_t *loop, const stripe_config *cfg)
{
    if (curl_loop_init(loop) < 0) return NULL;
    stripe *sg = calloc(1, sizeof *sg);
    if (!sg) return NULL;
    sg->base.name = "stripe";
    sg->base.charge = sg_charge;
    sg->base.refund = sg_refund;
    sg->base.transfer = sg_transfer;
    sg->base.refund_status = sg_refund_status;
    sg->base.close = sg_close;
    sg->loop = loop;
    sg->cfg = *cfg;
    sg->api_base = strdup(cfg->api_base);
    sg->secret = strdup(cfg->secret_key ? cfg->secret_key : "");
    if (!sg->api_base || !sg->secret) {
        free(sg->api_base);
        free(sg->secret);
        free(sg);
        return NULL;
    }
    size_t n = strlen(sg->api_base);
    while (n && sg->api_base[n - 1] == '/') sg->api_base[--n] = '\0';
    breaker_init(&sg->br, cfg->breaker_threshold, (int64_t)cfg->breaker_cooldown_s * 1000);
    static int registered;
    if (!registered) {
        registered = 1;
        metrics_register("opx_gateway_breaker_state", "Payment gateway circuit: 0 closed, 1 open, 2 half-open.",
                         "gauge", m_breaker, NULL);
    }
    return &sg->base;
}
