/* money_out: the jobs that send money out through the gateway.
 *   payment.refund  a card refund queued when escrow went back to a client
 *                   (a contract ended, a dispute split, an hourly week's
 *                   unused cap): refunds the milestone's charge.
 *   payout.send     one payout of a batch: a transfer to the engineer's
 *                   connected account.
 *   payouts.batch   the recurring payout run (every --payout-interval):
 *                   each payable balance of at least --payout-min becomes
 *                   a payout; then it reschedules itself.
 * Each send reads its row, calls the gateway with the row's id as the
 * idempotency key (a retry after a crash or a timeout names the same
 * movement), and records the answer in one store transaction that also
 * completes or reschedules the job: refused is final (the ledger moves
 * the money back), unavailable is retried with exponential backoff and
 * jitter (capped at an hour, never given up: the money is owed). A
 * refund the gateway answers "pending" keeps its job: every hour it asks
 * the gateway where the refund stands, until it settles (or a webhook
 * settles it first). */
#include "money_out.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "jobs.h"

#define STORE_DEADLINE_NS 10000000000ull
#define RETRY_BASE_S 30
#define RETRY_MAX_S 3600
#define PENDING_CHECK_S 3600

static store *ST;
static gateway *GW;
static money_out_config CFG;

int64_t money_out_retry_after(int attempts, uint32_t jitter)
{
    int64_t base = RETRY_BASE_S;
    for (int i = 1; i < attempts && base < RETRY_MAX_S; i++) base *= 2;
    if (base > RETRY_MAX_S) base = RETRY_MAX_S;
    return base / 2 + (int64_t)(jitter % (uint32_t)(base + 1)); /* 50%..150% */
}

typedef struct {
    store_job job;
    jobs_finish_fn finish;
    void *finish_ctx;
    store_money_out row;
    store_money_out_result res;
} send_op;

static void op_end(send_op *op, int rc)
{
    op->finish(op->finish_ctx, rc);
    free(op);
}

static void on_job_done(void *ctx, int rc)
{
    op_end(ctx, rc);
}

/* nothing (more) to do for this job */
static void complete(send_op *op)
{
    int rc = STORE_CALL(ST, job_done, op->job.id, clock_now_s(), NULL, clock_mono_ns() + STORE_DEADLINE_NS,
                        on_job_done, op);
    if (rc < 0) op_end(op, rc);
}

static void on_recorded(void *ctx, int rc)
{
    send_op *op = ctx;
    if (rc == STORE_CONFLICT) { /* a webhook got there first: nothing moved */
        complete(op);
        return;
    }
    op_end(op, rc);
}

static void record(send_op *op, int outcome, const char *ref, const char *error)
{
    store_money_out_result *r = &op->res;
    memset(r, 0, sizeof *r);
    snprintf(r->kind, sizeof r->kind, "%s", op->row.kind);
    snprintf(r->id, sizeof r->id, "%s", op->row.id);
    snprintf(r->job_id, sizeof r->job_id, "%s", op->job.id);
    r->outcome = outcome;
    snprintf(r->gateway_ref, sizeof r->gateway_ref, "%s", ref ? ref : "");
    snprintf(r->error, sizeof r->error, "%s", error ? error : "");
    /* backoff by the row's count of unavailable answers (the job's claims also count crashes) */
    if (outcome == STORE_OUT_RETRY)
        r->retry_at = clock_now_s() + money_out_retry_after(op->row.attempts + 1, randombytes_random());
    else if (outcome == STORE_OUT_PENDING)
        r->retry_at = clock_now_s() + PENDING_CHECK_S; /* ask again then, unless a webhook settles it */
    const char *what = outcome == STORE_OUT_SUCCEEDED ? "succeeded"
                       : outcome == STORE_OUT_PENDING ? "pending"
                       : outcome == STORE_OUT_FAILED  ? "failed"
                                                      : "retry";
    metrics_count(strcmp(op->row.kind, "refund") == 0 ? "opx_refunds_total" : "opx_payouts_total", "outcome", what);
    log_msgf(outcome == STORE_OUT_SUCCEEDED || outcome == STORE_OUT_PENDING ? LOG_INFO : LOG_WARN,
             "%s %s (%lld %s): %s%s%s", op->row.kind, op->row.id, (long long)op->row.amount, op->row.currency, what,
             error && error[0] ? ": " : "", error ? error : "");
    int rc = STORE_CALL(ST, money_out_result, r, clock_now_s(), &op->row, clock_mono_ns() + STORE_DEADLINE_NS,
                        on_recorded, op);
    if (rc < 0) op_end(op, rc);
}

static void on_gateway(void *ctx, const gateway_result *g)
{
    send_op *op = ctx;
    switch (g->outcome) {
    case GATEWAY_OK: record(op, STORE_OUT_SUCCEEDED, g->ref, NULL); break;
    case GATEWAY_PENDING: record(op, STORE_OUT_PENDING, g->ref, NULL); break;
    case GATEWAY_DECLINED: record(op, STORE_OUT_FAILED, g->ref, g->error); break;
    default: record(op, STORE_OUT_RETRY, NULL, g->error); break;
    }
}

static void on_row(void *ctx, int rc)
{
    send_op *op = ctx;
    if (rc == STORE_NOTFOUND) {
        complete(op);
        return;
    }
    if (rc < 0) {
        op_end(op, rc);
        return;
    }
    store_money_out *o = &op->row;
    int sent = o->gateway_ref[0] != '\0';
    if (strcmp(o->status, "pending") != 0 || (sent && strcmp(o->kind, "refund") != 0)) { /* settled */
        complete(op);
        return;
    }
    if (!GW) {
        record(op, STORE_OUT_RETRY, NULL, "the payment gateway did not start");
        return;
    }
    if (sent) { /* a refund the gateway took but had not settled: where does it stand? */
        if (strcmp(o->gateway, GW->name) != 0 || GW->refund_status(GW, o->gateway_ref, on_gateway, op) < 0)
            record(op, STORE_OUT_PENDING, o->gateway_ref, NULL);
        return;
    }
    if (strcmp(o->gateway, GW->name) != 0) {
        char why[128];
        snprintf(why, sizeof why, "made through %s, but this server runs the %s gateway", o->gateway, GW->name);
        record(op, STORE_OUT_RETRY, NULL, why);
        return;
    }
    int grc;
    if (strcmp(o->kind, "refund") == 0) {
        if (!o->charge_ref[0]) {
            record(op, STORE_OUT_FAILED, NULL, "no succeeded charge to refund");
            return;
        }
        gateway_refund f = {.idempotency_key = o->id, .charge_ref = o->charge_ref, .amount = o->amount,
                            .currency = o->currency, .payment_id = o->id, .milestone_id = o->milestone_id};
        grc = GW->refund(GW, &f, on_gateway, op);
    } else {
        gateway_transfer t = {.idempotency_key = o->id, .destination = o->destination, .amount = o->amount,
                              .currency = o->currency, .payout_id = o->id, .batch_id = o->batch_id};
        grc = GW->transfer(GW, &t, on_gateway, op);
    }
    if (grc < 0) record(op, STORE_OUT_RETRY, NULL, "the gateway call could not start");
}

static void start_send(const char *kind, const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    send_op *op = calloc(1, sizeof *op);
    if (!op) {
        finish(finish_ctx, STORE_BUSY);
        return;
    }
    op->job = *job;
    op->finish = finish;
    op->finish_ctx = finish_ctx;
    int rc = STORE_CALL(ST, money_out_get, kind, op->job.ref, &op->row, clock_mono_ns() + STORE_DEADLINE_NS, on_row,
                        op);
    if (rc < 0) op_end(op, rc);
}

static void on_refund_job(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    start_send("refund", job, finish, finish_ctx);
}

static void on_payout_job(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    start_send("payout", job, finish, finish_ctx);
}

/* ---- the recurring run ------------------------------------------------------------------------------------ */

typedef struct {
    store_job job;
    jobs_finish_fn finish;
    void *finish_ctx;
    store_payout_run run;
    store_payout_batch out;
} batch_op;

static void on_batch_done(void *ctx, int rc)
{
    batch_op *op = ctx;
    if (rc == STORE_OK && (op->out.payouts.n || op->out.skipped))
        log_msgf(LOG_INFO, "payout batch %s: %d payouts, %d waiting for a payout account%s", op->out.batch_id,
                 op->out.payouts.n, op->out.skipped, op->out.more ? ", more to pay" : "");
    if (rc == STORE_OK && op->out.payouts.n) jobs_kick();
    op->finish(op->finish_ctx, rc);
    free(op);
}

void money_out_run_init(store_payout_run *run, const char *actor, const char *job_id)
{
    memset(run, 0, sizeof *run);
    run->now = clock_now_s();
    run->min_amount = CFG.payout_min;
    run->need_destination = GW && strcmp(GW->name, "sandbox") != 0;
    snprintf(run->gateway, sizeof run->gateway, "%s", GW ? GW->name : "sandbox");
    snprintf(run->actor, sizeof run->actor, "%s", actor);
    if (job_id) snprintf(run->job_id, sizeof run->job_id, "%s", job_id);
    run->next_run_at = run->now + CFG.payout_interval_s;
}

static void on_batch_job(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    batch_op *op = calloc(1, sizeof *op);
    if (!op) {
        finish(finish_ctx, STORE_BUSY);
        return;
    }
    op->job = *job;
    op->finish = finish;
    op->finish_ctx = finish_ctx;
    if (CFG.payout_interval_s <= 0) { /* turned off since it was scheduled */
        int rc = STORE_CALL(ST, job_done, op->job.id, clock_now_s(), NULL, clock_mono_ns() + STORE_DEADLINE_NS,
                            on_batch_done, op);
        if (rc < 0) on_batch_done(op, rc);
        return;
    }
    money_out_run_init(&op->run, "system", op->job.id);
    int rc = STORE_CALL(ST, payout_batch, &op->run, NULL, &op->out, clock_mono_ns() + STORE_DEADLINE_NS,
                        on_batch_done, op);
    if (rc < 0) on_batch_done(op, rc);
}

static void on_ensured(void *ctx, int rc)
{
    (void)ctx;
    if (rc < 0) log_msgf(LOG_WARN, "scheduling the payout run failed: %s", store_strerror(rc));
}

void money_out_init(store *s, gateway *g, const money_out_config *cfg)
{
    ST = s;
    GW = g;
    CFG = *cfg;
    static int registered;
    if (!registered) {
        registered = 1;
        jobs_register("payment.refund", on_refund_job);
        jobs_register("payout.send", on_payout_job);
        jobs_register("payouts.batch", on_batch_job);
    }
    if (CFG.payout_interval_s > 0) {
        int rc = STORE_CALL(s, job_ensure, "payouts.batch", "payouts", clock_now_s() + CFG.payout_interval_s,
                            clock_mono_ns() + STORE_DEADLINE_NS, on_ensured, NULL);
        if (rc < 0) on_ensured(NULL, rc);
    }
}
