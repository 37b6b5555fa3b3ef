/* gateway_sandbox: the built-in test gateway (see gateway.h). Tokens:
 * tok_visa succeeds, tok_chargeDeclined is declined, tok_slow succeeds
 * after 3 s (a timer on the loop: nothing blocks); any other token is
 * declined as unknown. Refunds and transfers succeed at once. Every id
 * is derived from the idempotency key, so the same key names the same
 * movement, as at a real gateway. */
#include "gateway.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOW_MS 3000

typedef struct {
    gateway base;
    uv_loop_t *loop;
    int pending;
} sandbox;

typedef struct {
    uv_timer_t timer;
    gateway_result r;
    gateway_done_fn done;
    void *ctx;
    sandbox *sb;
} slow_op;

static void key_ref(const char *prefix, const char *key, char out[128])
{
    unsigned char h[12];
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
    char hex[25];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, 128, "%s_sandbox_%s", prefix, hex);
}

static void on_slow_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_slow(uv_timer_t *t)
{
    slow_op *op = t->data;
    op->sb->pending--;
    op->done(op->ctx, &op->r);
    uv_close((uv_handle_t *)&op->timer, on_slow_closed);
}

static int sb_charge(gateway *g, const gateway_charge *c, gateway_done_fn done, void *ctx)
{
    sandbox *sb = (sandbox *)g;
    gateway_result r = {0};
    const char *pm = c->payment_method ? c->payment_method : "";
    int slow = strcmp(pm, "tok_slow") == 0;
    if (strcmp(pm, "tok_visa") == 0 || slow) {
        r.outcome = GATEWAY_OK;
        key_ref("ch", c->idempotency_key, r.ref);
    } else if (strcmp(pm, "tok_chargeDeclined") == 0) {
        r.outcome = GATEWAY_DECLINED;
        snprintf(r.error, sizeof r.error, "card_declined: the card was declined");
    } else {
        r.outcome = GATEWAY_DECLINED;
        snprintf(r.error, sizeof r.error,
                 "invalid_payment_method: the sandbox knows tok_visa, tok_chargeDeclined and tok_slow");
    }
    if (!slow) {
        done(ctx, &r);
        return 0;
    }
    slow_op *op = calloc(1, sizeof *op);
    if (!op) return -1;
    op->r = r;
    op->done = done;
    op->ctx = ctx;
    op->sb = sb;
    uv_timer_init(sb->loop, &op->timer);
    op->timer.data = op;
    sb->pending++;
    uv_timer_start(&op->timer, on_slow, SLOW_MS, 0);
    return 0;
}

static int sb_refund(gateway *g, const gateway_refund *f, gateway_done_fn done, void *ctx)
{
    (void)g;
    gateway_result r = {.outcome = GATEWAY_OK};
    key_ref("re", f->idempotency_key, r.ref);
    done(ctx, &r);
    return 0;
}

static int sb_transfer(gateway *g, const gateway_transfer *t, gateway_done_fn done, void *ctx)
{
    (void)g;
    gateway_result r = {.outcome = GATEWAY_OK};
    key_ref("tr", t->idempotency_key, r.ref);
    done(ctx, &r);
    return 0;
}

static int sb_refund_status(gateway *g, const char *ref, gateway_done_fn done, void *ctx)
{
    (void)g;
    gateway_result r = {.outcome = GATEWAY_OK}; /* sandbox refunds never wait */
    snprintf(r.ref, sizeof r.ref, "%s", ref);
    done(ctx, &r);
    return 0;
}

static void sb_close(gateway *g)
{
    free(g); /* slow charges hold their own timers and finish on their own */
}

gateway *gateway_sandbox_new(uv_loop_t *loop)
{
    sandbox *sb = calloc(1, sizeof *sb);
    if (!sb) return NULL;
    sb->base.name = "sandbox";
    sb->base.charge = sb_charge;
    sb->base.refund = sb_refund;
    sb->base.transfer = sb_transfer;
    sb->base.refund_status = sb_refund_status;
    sb->base.close = sb_close;
    sb->loop = loop;
    return &sb->base;
}
