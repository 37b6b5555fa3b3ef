/* money_out: the jobs that send refunds and payouts through the gateway,
 * and the recurring payout run (see money_out.c). */
#ifndef OPX_MONEY_OUT_H
#define OPX_MONEY_OUT_H
#include <stdint.h>
#include "../ext/gateway.h"
#include "../store/store.h"

typedef struct {
    int64_t payout_interval_s; /* the recurring run; 0: only when an admin runs it */
    int64_t payout_min;        /* minor units: smaller balances wait for the next run */
} money_out_config;

#define MONEY_OUT_INTERVAL_DEFAULT 86400
#define MONEY_OUT_MIN_DEFAULT 100

/* registers the job kinds and schedules the first recurring run */
void money_out_init(store *s, gateway *g, const money_out_config *cfg);
/* a payout run as configured, now, by actor (a job's when job_id is given) */
void money_out_run_init(store_payout_run *run, const char *actor, const char *job_id);
/* seconds before a send that found the gateway unavailable runs again:
 * 30 s doubling per attempt up to an hour, times 50%..150% by jitter */
int64_t money_out_retry_after(int attempts, uint32_t jitter);
#endif
