/* gateway: where card money comes from, as one interface with adapters.
 * `sandbox` (the default) is built in: test tokens succeed, decline or
 * answer slowly, as API.md documents. `stripe` speaks Stripe's REST API
 * (PaymentIntents) over curl_loop with a deadline per attempt, retries
 * with backoff and jitter for what may be retried, and a circuit breaker. Every call carries an
 * idempotency key: the same key always names the same charge, so a retry
 * after a crash never charges twice. Calls run on the loop and answer
 * through a callback, once. */
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

enum { GATEWAY_OK, GATEWAY_DECLINED, GATEWAY_UNAVAILABLE };
typedef struct {
    int outcome;                 /* GATEWAY_* */
    char ref[128];               /* the gateway's id of the charge */
    char error[256];             /* declined or unavailable: why */
} gateway_result;

typedef void (*gateway_done_fn)(void *ctx, const gateway_result *r);

typedef struct gateway gateway;
struct gateway {
    const char *name;
    /* Returns 0 (done runs once, later) or -1 (it never runs). */
    int (*charge)(gateway *g, const gateway_charge *c, gateway_done_fn done, void *ctx);
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

/* Stripe's PaymentIntents over curl_loop; NULL when curl cannot start */
gateway *gateway_stripe_new(uv_loop_t *loop, const stripe_config *cfg);
#endif
