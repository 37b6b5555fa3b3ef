/* ratelimit: fixed-size token-bucket tables (see ratelimit.h). */
#include "ratelimit.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 96
#define PROBE 8

typedef struct {
    char key[KEY_MAX]; /* truncated for long keys; hash tells those apart */
    uint64_t hash;     /* of the whole key */
    double tokens;
    uint64_t updated_ms;
    int used;
} bucket;

struct ratelimit {
    bucket *slots;
    size_t n;
    double burst, refill;
};

ratelimit *ratelimit_new(size_t slots, double burst, double refill_per_s)
{
    ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl) return NULL;
    rl->slots = calloc(slots, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return NULL;
    }
    rl->n = slots;
    rl->burst = burst;
    rl->refill = refill_per_s;
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl) return;
    free(rl->slots);
    free(rl);
}

double ratelimit_burst(const ratelimit *rl)
{
    return rl->burst;
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static double level(const ratelimit *rl, const bucket *b, uint64_t now_ms)
{
    double t = b->tokens;
    if (now_ms > b->updated_ms) t += (double)(now_ms - b->updated_ms) / 1000.0 * rl->refill;
    return t > rl->burst ? rl->burst : t;
}

/* Finds the key's bucket; with create, claims a slot (evicting the fullest). */
static bucket *find(ratelimit *rl, const char *key, uint64_t now_ms, int create)
{
    uint64_t h = hash_key(key);
    size_t start = (size_t)(h % rl->n);
    bucket *victim = NULL;
    double victim_level = -1;
    for (size_t i = 0; i < PROBE && i < rl->n; i++) {
        bucket *b = &rl->slots[(start + i) % rl->n];
        if (b->used && b->hash == h && strncmp(b->key, key, KEY_MAX - 1) == 0) return b;
        double lv = b->used ? level(rl, b, now_ms) : rl->burst + 1;
        if (lv > victim_level) {
            victim_level = lv;
            victim = b;
        }
    }
    if (!create || !victim) return NULL;
    memset(victim, 0, sizeof *victim);
    strncpy(victim->key, key, KEY_MAX - 1);
    victim->hash = h;
    victim->used = 1;
    victim->tokens = rl->burst;
    victim->updated_ms = now_ms;
    return victim;
}

int ratelimit_check(ratelimit *rl, const char *key, uint64_t now_ms, int *remaining,
                    int *retry_after_s)
{
    bucket *b = find(rl, key, now_ms, 0);
    double t = b ? level(rl, b, now_ms) : rl->burst;
    if (remaining) *remaining = (int)floor(t);
    if (t >= 1.0) {
        if (retry_after_s) *retry_after_s = 0;
        return 1;
    }
    if (retry_after_s) {
        /* no refill (or a tiny one) must not overflow the int: cap at a day */
        double wait = rl->refill > 0 ? ceil((1.0 - t) / rl->refill) : 86400;
        *retry_after_s = wait < 1 ? 1 : wait > 86400 ? 86400 : (int)wait;
    }
    return 0;
}

void ratelimit_charge(ratelimit *rl, const char *key, uint64_t now_ms)
{
    bucket *b = find(rl, key, now_ms, 1);
    if (!b) return;
    double t = level(rl, b, now_ms) - 1.0;
    b->tokens = t < 0 ? 0 : t;
    b->updated_ms = now_ms;
}

void ratelimit_give(ratelimit *rl, const char *key, uint64_t now_ms)
{
    bucket *b = find(rl, key, now_ms, 0);
    if (!b) return; /* evicted, so as good as full */
    double t = level(rl, b, now_ms) + 1.0;
    b->tokens = t > rl->burst ? rl->burst : t;
    b->updated_ms = now_ms;
}

void ratelimit_clear(ratelimit *rl, const char *key)
{
    bucket *b = find(rl, key, 0, 0);
    if (b) b->used = 0;
}
