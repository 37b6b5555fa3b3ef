/* breaker: closed / open / half-open (see breaker.h). */
#include "breaker.h"

void breaker_init(breaker *b, int threshold, int64_t cooldown_ms)
{
    *b = (breaker){.threshold = threshold > 0 ? threshold : 1, .cooldown_ms = cooldown_ms};
}

int breaker_allow(breaker *b, int64_t now_ms)
{
    switch (b->state) {
    case BREAKER_CLOSED: return 1;
    case BREAKER_OPEN:
        if (now_ms - b->opened_at_ms < b->cooldown_ms) return 0;
        b->state = BREAKER_HALF_OPEN;
        b->trial_out = 1;
        return 1;
    default: /* half-open: one trial at a time */
        if (b->trial_out) return 0;
        b->trial_out = 1;
        return 1;
    }
}

void breaker_result(breaker *b, int ok, int64_t now_ms)
{
    if (ok) {
        b->state = BREAKER_CLOSED;
        b->failures = 0;
        b->trial_out = 0;
        return;
    }
    b->failures++;
    if (b->state == BREAKER_HALF_OPEN || b->failures >= b->threshold) {
        if (b->state != BREAKER_OPEN) b->opened_total++;
        b->state = BREAKER_OPEN;
        b->opened_at_ms = now_ms;
        b->trial_out = 0;
    }
}

int64_t breaker_retry_at_ms(const breaker *b, int64_t now_ms)
{
    if (b->state != BREAKER_OPEN) return now_ms;
    return b->opened_at_ms + b->cooldown_ms;
}
