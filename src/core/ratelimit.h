/* ratelimit: token buckets keyed by a string (an IP, an account), in a
 * fixed-size table. The table never grows: when full, the entry that would
 * be fullest now (the least recently charged) is evicted, which can only
 * forgive, never wrongly punish. Loop-thread only. */
#ifndef OPX_RATELIMIT_H
#define OPX_RATELIMIT_H
#include <stddef.h>
#include <stdint.h>

typedef struct ratelimit ratelimit;

/* burst: tokens when full; refill_per_s: tokens added per second. */
ratelimit *ratelimit_new(size_t slots, double burst, double refill_per_s);
void ratelimit_free(ratelimit *rl);
/* Looks without charging: 1 if at least one token, else 0 and
 * *retry_after_s = seconds until one. *remaining gets whole tokens left. */
int ratelimit_check(ratelimit *rl, const char *key, uint64_t now_ms, int *remaining,
                    int *retry_after_s);
/* Takes one token (may go to zero; never below). */
void ratelimit_charge(ratelimit *rl, const char *key, uint64_t now_ms);
/* Gives one token back (one taken for an attempt that turned out not to
 * count); never above the burst. */
void ratelimit_give(ratelimit *rl, const char *key, uint64_t now_ms);
/* Forgets a key (e.g. after a successful login). */
void ratelimit_clear(ratelimit *rl, const char *key);
double ratelimit_burst(const ratelimit *rl);
#endif
