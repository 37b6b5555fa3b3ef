/* jobs: the loop side of durable background jobs.
 *
 * Jobs are rows (store: jobs table) scheduled inside the transaction that
 * needs them. Every JOBS_TICK_MS, at once after jobs_kick(), and while a
 * backlog drains as soon as half the slots are free, the runner claims
 * due ones (no more than there are free slots) under a lease and hands
 * each to the handler registered for its kind. A handler commits its effect and marks the job
 * done in one transaction; if the process dies first, the lease runs out
 * and the job is claimed again, so each job's effect happens once. At most
 * one claim is in flight, and at most STORE_JOBS_CLAIM_MAX jobs run at once.
 * Time is clock_now_s(), so --test-clock moves jobs too. */
#ifndef OPX_JOBS_H
#define OPX_JOBS_H
#include <uv.h>
#include "../store/store.h"

#define JOBS_TICK_MS 1000
#define JOBS_LEASE_S 60

/* A handler calls finish(finish_ctx, rc) exactly once, when its work has
 * committed (rc 0) or failed (rc < 0: the job is retried when its lease
 * runs out). */
typedef void (*jobs_finish_fn)(void *finish_ctx, int rc);
typedef void (*jobs_handler)(const store_job *job, jobs_finish_fn finish, void *finish_ctx);

int jobs_register(const char *kind, jobs_handler fn);
int jobs_start(uv_loop_t *loop, store *s);
void jobs_kick(void);
/* Stops claiming; on_idle runs once no job is running (maybe at once). */
void jobs_stop(void (*on_idle)(void *arg), void *arg);
int jobs_running(void);
uint64_t jobs_done_total(void);
uint64_t jobs_failed_total(void);
#endif
