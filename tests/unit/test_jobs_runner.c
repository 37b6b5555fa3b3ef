/* test_jobs_runner: the loop side of durable jobs (services/jobs.c) over a
 * fake store whose claims and handlers answer on later loop turns, as the
 * real ones do: a backlog drains without waiting for the next tick, no
 * claim asks for more jobs than there are free slots, and no more than
 * STORE_JOBS_CLAIM_MAX handlers ever run at once. */
#include "services/jobs.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#define BACKLOG 500

static struct {
    uv_loop_t *loop;
    int left, claims, asked_too_much, running, max_running, done;
    int too_many;
} F;

typedef struct {
    uv_timer_t t;
    void (*fn)(void *ctx, int rc);
    void *ctx;
} later;

static void on_later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_later(uv_timer_t *t)
{
    later *l = t->data;
    l->fn(l->ctx, STORE_OK);
    uv_close((uv_handle_t *)&l->t, on_later_closed);
}

/* cb(ctx, STORE_OK) on a later loop turn, as a worker thread's answer */
static void answer_later(void (*fn)(void *ctx, int rc), void *ctx)
{
    later *l = calloc(1, sizeof *l);
    cr_assert(l);
    l->fn = fn;
    l->ctx = ctx;
    l->t.data = l;
    uv_timer_init(F.loop, &l->t);
    uv_timer_start(&l->t, on_later, 0, 0);
}

static int fake_claim(store *s, int64_t now, int lease_s, store_job_batch *out, uint64_t deadline_ns,
                      store_done_cb cb, void *ctx)
{
    (void)s, (void)now, (void)lease_s, (void)deadline_ns;
    F.claims++;
    int limit = out->limit > 0 && out->limit <= STORE_JOBS_CLAIM_MAX ? out->limit : STORE_JOBS_CLAIM_MAX;
    if (F.running + limit > STORE_JOBS_CLAIM_MAX) F.asked_too_much++;
    out->n = 0;
    while (F.left > 0 && out->n < limit) {
        store_job *j = &out->jobs[out->n++];
        memset(j, 0, sizeof *j);
        snprintf(j->id, sizeof j->id, "job-%d", F.left);
        snprintf(j->kind, sizeof j->kind, "test.work");
        snprintf(j->ref, sizeof j->ref, "ref-%d", F.left);
        F.left--;
    }
    answer_later(cb, ctx);
    return 0;
}

typedef struct {
    jobs_finish_fn finish;
    void *finish_ctx;
} work;

static void on_work_done(void *ctx, int rc)
{
    work *w = ctx;
    F.running--;
    F.done++;
    w->finish(w->finish_ctx, rc);
    free(w);
}

static void work_handler(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    (void)job;
    if (++F.running > F.max_running) F.max_running = F.running;
    if (F.running > STORE_JOBS_CLAIM_MAX) F.too_many++;
    work *w = malloc(sizeof *w);
    cr_assert(w);
    w->finish = finish;
    w->finish_ctx = finish_ctx;
    answer_later(on_work_done, w);
}

static const store_vtbl fake_vtbl = {.jobs_claim = fake_claim};
static store fake_store = {.v = &fake_vtbl};

static void on_deadline(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void on_idle(void *arg)
{
    (void)arg;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

Test(jobs_runner, a_backlog_drains_before_the_next_tick_and_stays_bounded)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    F.loop = &loop;
    F.left = BACKLOG;
    cr_assert_eq(jobs_register("test.work", work_handler), 0);
    cr_assert_eq(jobs_start(&loop, &fake_store), 0);
    /* well before the tick at JOBS_TICK_MS: only the first claim is a tick's */
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    uv_timer_start(&deadline, on_deadline, JOBS_TICK_MS / 2, 0);
    uv_run(&loop, UV_RUN_DEFAULT);

    cr_expect_eq(F.done, BACKLOG, "%d of %d jobs done in half a tick (the rest waited for ticks)", F.done,
                 BACKLOG);
    cr_expect_eq(F.left, 0);
    cr_expect_eq(F.too_many, 0, "more than %d handlers ran at once (at most %d)", STORE_JOBS_CLAIM_MAX,
                 F.max_running);
    cr_expect_eq(F.asked_too_much, 0, "%d claims asked for more jobs than there were free slots",
                 F.asked_too_much);
    cr_expect_geq(F.max_running, STORE_JOBS_CLAIM_MAX / 2, "the slots were used: at most %d ran at once",
                  F.max_running);
    cr_expect_eq(jobs_done_total(), (uint64_t)BACKLOG);
    /* claims overlap the running half: fewer than one per job, more than one per full batch */
    cr_expect(F.claims >= BACKLOG / STORE_JOBS_CLAIM_MAX && F.claims < BACKLOG / 4, "%d claims", F.claims);

    jobs_stop(on_idle, NULL);
    uv_walk(&loop, close_any, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_expect_eq(uv_loop_close(&loop), 0);
}

Test(jobs_runner, an_idle_runner_claims_once_a_tick)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    F.loop = &loop;
    F.left = 0;
    cr_assert_eq(jobs_register("test.work", work_handler), 0);
    cr_assert_eq(jobs_start(&loop, &fake_store), 0);
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    uv_timer_start(&deadline, on_deadline, JOBS_TICK_MS + JOBS_TICK_MS / 2, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* the tick at 0 and the one at JOBS_TICK_MS: nothing due, no spinning */
    cr_expect_eq(F.claims, 2, "%d claims in one and a half ticks with nothing due", F.claims);
    jobs_stop(on_idle, NULL);
    uv_walk(&loop, close_any, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_expect_eq(uv_loop_close(&loop), 0);
}
