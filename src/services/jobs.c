/* jobs: claiming due jobs and running their handlers (see jobs.h). */
#include "jobs.h"
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"

#define MAX_KINDS 16

typedef struct {
    store_job job;
} running_job;

static struct {
    uv_loop_t *loop;
    store *st;
    uv_timer_t timer;
    int started, claiming, stopping, running, kicked;
    int backlog; /* the last claim filled its batch: more may be due now */
    struct {
        const char *kind;
        jobs_handler fn;
    } kinds[MAX_KINDS];
    int nkinds;
    store_job_batch batch;
    void (*on_idle)(void *);
    void *idle_arg;
    uint64_t done, failed;
} R;

int jobs_register(const char *kind, jobs_handler fn)
{
    if (R.nkinds >= MAX_KINDS) return -1;
    R.kinds[R.nkinds].kind = kind;
    R.kinds[R.nkinds].fn = fn;
    R.nkinds++;
    return 0;
}

int jobs_running(void)
{
    return R.running;
}

uint64_t jobs_done_total(void)
{
    return R.done;
}

uint64_t jobs_failed_total(void)
{
    return R.failed;
}

static void claim(void);

static void maybe_idle(void)
{
    if (R.stopping && R.running == 0 && !R.claiming && R.on_idle) {
        void (*cb)(void *) = R.on_idle;
        R.on_idle = NULL;
        cb(R.idle_arg);
    }
}

static void on_finished(void *ctx, int rc)
{
    running_job *rj = ctx;
    if (rc < 0) {
        R.failed++;
        log_msgf(LOG_WARN, "job %s (%s %s) failed: %s; retried when its lease ends", rj->job.id,
                 rj->job.kind, rj->job.ref, store_strerror(rc));
    } else {
        R.done++;
    }
    free(rj);
    R.running--;
    /* with a backlog, claim again once half the slots are free rather than
     * at the next tick: a claim's round trip overlaps the jobs still running */
    if (R.backlog && R.running <= STORE_JOBS_CLAIM_MAX / 2) claim();
    maybe_idle();
}

static void on_unknown_done(void *ctx, int rc)
{
    (void)rc;
    on_finished(ctx, STORE_OK);
}

static void on_claimed(void *ctx, int rc)
{
    (void)ctx;
    R.claiming = 0;
    if (rc < 0) {
        log_msgf(LOG_WARN, "claiming jobs failed: %s", store_strerror(rc));
        maybe_idle();
        return;
    }
    for (int i = 0; i < R.batch.n; i++) {
        running_job *rj = malloc(sizeof *rj);
        if (!rj) break;
        rj->job = R.batch.jobs[i];
        R.running++;
        jobs_handler fn = NULL;
        for (int k = 0; k < R.nkinds; k++)
            if (strcmp(R.kinds[k].kind, rj->job.kind) == 0) fn = R.kinds[k].fn;
        if (!fn) {
            log_msgf(LOG_ERROR, "job %s has unknown kind %s; marked done", rj->job.id, rj->job.kind);
            int src = STORE_CALL(R.st, job_done, rj->job.id, clock_now_s(), "unknown kind",
                                 clock_mono_ns() + 10000000000ull, on_unknown_done, rj);
            if (src < 0) on_finished(rj, src);
            continue;
        }
        fn(&rj->job, on_finished, rj);
    }
    /* a full batch or a kick during the claim: there may be more due now */
    R.backlog = R.batch.n == R.batch.limit;
    if ((R.backlog || R.kicked) && !R.stopping) {
        R.kicked = 0;
        claim();
    }
    maybe_idle();
}

static void claim(void)
{
    if (R.claiming || R.stopping || !R.st) return;
    if (R.running >= STORE_JOBS_CLAIM_MAX) { /* bounded: claim when these finish */
        R.backlog = 1;
        return;
    }
    R.claiming = 1;
    R.kicked = 0;
    R.batch.limit = STORE_JOBS_CLAIM_MAX - R.running; /* never more running than the max */
    int rc = STORE_CALL(R.st, jobs_claim, clock_now_s(), JOBS_LEASE_S, &R.batch,
                        clock_mono_ns() + 10000000000ull, on_claimed, NULL);
    if (rc < 0) R.claiming = 0;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    claim();
}

int jobs_start(uv_loop_t *loop, store *s)
{
    R.loop = loop;
    R.st = s;
    R.stopping = 0;
    uv_timer_init(loop, &R.timer);
    R.started = 1;
    return uv_timer_start(&R.timer, on_tick, 0, JOBS_TICK_MS);
}

void jobs_kick(void)
{
    if (R.claiming) R.kicked = 1;
    else claim();
}

void jobs_stop(void (*on_idle)(void *arg), void *arg)
{
    R.stopping = 1;
    R.on_idle = on_idle;
    R.idle_arg = arg;
    if (R.started) {
        uv_timer_stop(&R.timer);
        uv_close((uv_handle_t *)&R.timer, NULL);
        R.started = 0;
    }
    maybe_idle();
}
