/* money_jobs: the durable jobs of the money path. `milestone.autorelease`
 * releases a submitted milestone nobody acted on within 14 days (it is
 * scheduled by the submit's own transaction and completed by the client's
 * approval, a request for changes, or a dispute); the release is the same
 * store move as an approval, by "system", ledger and all.
 * `timesheet.autorelease` does the same for an hourly week after 5 days;
 * `reviews.publish` shows a contract's reviews when their window closes.
 * `idempotency.prune` (hourly) forgets Idempotency-Keys after
 * MONEY_IDEM_KEEP_S (48 h; the rule is at least 24 h). */
#include "money_jobs.h"
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"
#include "jobs.h"

static store *ST;

typedef struct {
    store_job job;
    jobs_finish_fn finish;
    void *finish_ctx;
    store_contract k;
    store_money_conflict why;
    store_timesheet t;
    int64_t pruned;
} release_op;

static void on_job_done(void *ctx, int rc)
{
    release_op *op = ctx;
    op->finish(op->finish_ctx, rc);
    free(op);
}

static void on_released(void *ctx, int rc)
{
    release_op *op = ctx;
    store_contract_free(&op->k);
    if (rc == STORE_OK) {
        log_msgf(LOG_INFO, "%s %s: released after its silence period", op->job.kind, op->job.ref);
        op->finish(op->finish_ctx, rc);
        free(op);
        return;
    }
    if (rc == STORE_CONFLICT || rc == STORE_NOTFOUND) { /* acted on meanwhile: nothing to do */
        rc = STORE_CALL(ST, job_done, op->job.id, clock_now_s(), NULL, clock_mono_ns() + 10000000000ull,
                        on_job_done, op);
        if (rc < 0) on_job_done(op, rc);
        return;
    }
    on_job_done(op, rc);
}

/* the job's state, or NULL (and the job finished as busy: retried later) */
static release_op *op_new(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    release_op *op = calloc(1, sizeof *op);
    if (!op) {
        finish(finish_ctx, STORE_BUSY);
        return NULL;
    }
    op->job = *job;
    op->finish = finish;
    op->finish_ctx = finish_ctx;
    return op;
}

static void on_autorelease(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    release_op *op = op_new(job, finish, finish_ctx);
    if (!op) return;
    int rc = STORE_CALL(ST, milestone_move, op->job.ref, "system", "released", NULL, NULL, clock_now_s(), NULL,
                        &op->k, &op->why, clock_mono_ns() + 10000000000ull, on_released, op);
    if (rc < 0) on_job_done(op, rc);
}

static void on_pruned(void *ctx, int rc)
{
    release_op *op = ctx;
    if (rc == STORE_OK && op->pruned) log_msgf(LOG_INFO, "forgot %lld idempotency keys", (long long)op->pruned);
    on_job_done(op, rc);
}

/* a timesheet nobody approved within 5 days: approved by "system" */
static void on_timesheet_autorelease(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    release_op *op = op_new(job, finish, finish_ctx);
    if (!op) return;
    int rc = STORE_CALL(ST, timesheet_approve, op->job.ref, "system", clock_now_s(), NULL, &op->t, &op->k, &op->why,
                        clock_mono_ns() + 10000000000ull, on_released, op);
    if (rc < 0) on_job_done(op, rc);
}

/* the review window closed: what was written shows */
static void on_publish(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    release_op *op = op_new(job, finish, finish_ctx);
    if (!op) return;
    int rc = STORE_CALL(ST, reviews_publish, op->job.ref, op->job.id, clock_now_s(),
                        clock_mono_ns() + 10000000000ull, on_job_done, op);
    if (rc < 0) on_job_done(op, rc);
}

/* the keys' retention ran out: forget them, hourly */
static void on_prune(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    release_op *op = op_new(job, finish, finish_ctx);
    if (!op) return;
    int64_t now = clock_now_s();
    int rc = STORE_CALL(ST, idem_prune, now - MONEY_IDEM_KEEP_S, op->job.id, now, now + MONEY_IDEM_PRUNE_EVERY_S,
                        &op->pruned, clock_mono_ns() + 10000000000ull, on_pruned, op);
    if (rc < 0) on_job_done(op, rc);
}

static void on_ensured(void *ctx, int rc)
{
    (void)ctx;
    if (rc < 0) log_msgf(LOG_WARN, "scheduling the idempotency key pruning failed: %s", store_strerror(rc));
}

void money_jobs_init(store *s)
{
    ST = s;
    int rc = STORE_CALL(s, job_ensure, "idempotency.prune", "keys", clock_now_s() + MONEY_IDEM_PRUNE_EVERY_S,
                        clock_mono_ns() + 10000000000ull, on_ensured, NULL);
    if (rc < 0) on_ensured(NULL, rc);
    static int registered;
    if (!registered) {
        registered = 1;
        jobs_register("milestone.autorelease", on_autorelease);
        jobs_register("timesheet.autorelease", on_timesheet_autorelease);
        jobs_register("reviews.publish", on_publish);
        jobs_register("idempotency.prune", on_prune);
    }
}
