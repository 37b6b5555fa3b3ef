/* breaker: a circuit breaker for one outbound dependency (SMTP relay,
 * payment gateway). Closed: calls go through; `threshold` failures in a
 * row open it. Open: calls are refused (the caller queues for later or
 * answers 503) until `cooldown_ms` has passed. Half-open: one trial call
 * goes through; its success closes the breaker, its failure opens it again
 * for another cooldown. Loop-thread only. */
#ifndef OPX_BREAKER_H
#define OPX_BREAKER_H
#include <stdint.h>

enum { BREAKER_CLOSED = 0, BREAKER_OPEN = 1, BREAKER_HALF_OPEN = 2 };

typedef struct {
    int threshold;
    int64_t cooldown_ms;
    int state, failures, trial_out;
    int64_t opened_at_ms;
    uint64_t opened_total;
} breaker;

void breaker_init(breaker *b, int threshold, int64_t cooldown_ms);
/* 1: make the call (and report it with breaker_result); 0: refused */
int breaker_allow(breaker *b, int64_t now_ms);
void breaker_result(breaker *b, int ok, int64_t now_ms);
/* when an open breaker lets a trial through (now_ms when not open) */
int64_t breaker_retry_at_ms(const breaker *b, int64_t now_ms);
#endif
