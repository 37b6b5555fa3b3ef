/* gateway: where card money comes from and goes back to, as one interface
 * with adapters. Three calls: charge a card (funding), refund part of a
 * charge (a contract's money going back to the client), and transfer to
 * an engineer's connected account (a payout). `sandbox` (the default) is
 * built in: test tokens succeed, decline or answer slowly, as API.md
 * documents; refunds and transfers succeed. `stripe` speaks Stripe's REST
 * API (PaymentIntents, Refunds, Connect Transfers) over curl_loop with a
 * deadline per attempt, retries with backoff and jitter for what may be
 * retried, and one circuit breaker for all of them. A refund that stays
 * pending can be asked about again (refund_status). Every call carries an
 * idempotency key: the same key always names the same movement, so a
 * retry after a crash never moves money twice. Calls run on the loop and
 * answer through a callback, once. */
#ifndef OPX_GATEWAY_H
#define OPX_GATEWAY_H
#include <stdint.h>
#include <uv.h>

typedef struct {
    const char *idempotency_key;
    const char *payment_method;  /* a card token */
    int64_t amount;              /* minor units */
    const char *currency;
    const char *description;
    const char *payment_id, *milestone_id; /* ours, sent as metadata (webhooks name them back) */
} gateway_charge;

/* part of a charge back to the card it came from */
typedef struct {
    const char *idempotency_key;
    const char *charge_ref;      /* the charge's gateway_ref (a PaymentIntent at Stripe) */
    int64_t amount;
    const char *currency;
    const char *payment_id, *milestone_id; /* ours, as metadata */
} gateway_refund;

/* money to an engineer's connected account */
typedef struct {
    const char *idempotency_key;
    const char *destination;     /* acct_... (the sandbox takes anything) */
    int64_t amount;
    const char *currency;
    const char *payout_id, *batch_id; /* ours: metadata and transfer_group */
} gateway_transfer;

/* DECLINED is final (a card declined, a refund or transfer refused);
 * UNAVAILABLE may be retried with the same key; PENDING: accepted, the
 * outcome comes later by webhook (refunds at Stripe may do this) */
enum { GATEWAY_OK, GATEWAY_DECLINED, GATEWAY_UNAVAILABLE, GATEWAY_PENDING };
typedef struct {
    int outcome;                 /* GATEWAY_* */
    char ref[128];               /* the gateway's id of the charge, refund or transfer */
    char error[256];             /* declined or unavailable: why */
} gateway_result;

typedef void (*gateway_done_fn)(void *ctx, const gateway_result *r);

typedef struct gateway gateway;
struct gateway {
    const char *name;
    /* Returns 0 (done runs once, later) or -1 (it never runs). */
    int (*charge)(gateway *g, const gateway_charge *c, gateway_done_fn done, void *ctx);
    int (*refund)(gateway *g, const gateway_refund *r, gateway_done_fn done, void *ctx);
    int (*transfer)(gateway *g, const gateway_transfer *t, gateway_done_fn done, void *ctx);
    /* where a refund answered PENDING stands now (ref: its gateway_ref):
     * OK succeeded, DECLINED failed, PENDING still pending */
    int (*refund_status)(gateway *g, const char *ref, gateway_done_fn done, void *ctx);
    void (*close)(gateway *g);
};

gateway *gateway_sandbox_new(uv_loop_t *loop);

typedef struct {
    const char *api_base;      /* https://api.stripe.com, or a test double */
    const char *secret_key;    /* sk_... (from the environment only) */
    long timeout_ms;           /* one HTTP attempt */
    int max_attempts;          /* retried: connection errors, timeouts, 429 and 5xx (same key) */
    int breaker_threshold;     /* failures in a row that open the circuit */
    int breaker_cooldown_s;
} stripe_config;

/* Stripe over curl_loop; NULL when curl cannot start */
gateway *gateway_stripe_new(uv_loop_t *loop, const stripe_config *cfg);
#endif
