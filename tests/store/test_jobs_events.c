/* test_jobs_events: durable jobs (ensure, claim under a lease, done; a
 * claimed job is not handed out twice while its lease holds) and live
 * events (ids increase, events_after pages, per-user filter, head, prune). */
#include "harness.h"

STORE_TEST(jobs_ensure_claim_lease_done)
{
    OK(job_ensure, "test.a", "ref-a", H.now + 10);
    OK(job_ensure, "test.b", "ref-b", H.now + 20);
    OK(job_ensure, "test.a", "ref-a", H.now + 5); /* pending already: keeps its time */
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now, 60, b);
    cr_assert_eq(b->n, 0, "nothing is due yet");
    OK(jobs_claim, H.now + 10, 60, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->jobs[0].kind, "test.a");
    STR_EQ(b->jobs[0].ref, "ref-a");
    cr_assert_eq(b->jobs[0].run_at, H.now + 10);
    cr_assert_eq(b->jobs[0].attempts, 1);
    char a_id[32];
    memcpy(a_id, b->jobs[0].id, sizeof a_id);
    /* while the lease holds, a second claim does not hand it out again */
    OK(jobs_claim, H.now + 20, 60, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->jobs[0].kind, "test.b");
    OK(jobs_claim, H.now + 30, 60, b);
    cr_assert_eq(b->n, 0);
    /* the holder died: once the lease ran out, the job is claimed again */
    OK(jobs_claim, H.now + 10 + 60, 60, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->jobs[0].id, a_id);
    cr_assert_eq(b->jobs[0].attempts, 2);
    OK(job_done, a_id, H.now + 71, NULL);
    cr_assert_eq(CALL(job_done, a_id, H.now + 72, NULL), STORE_CONFLICT, "done already");
    OK(jobs_claim, H.now + 100000, 60, b);
    cr_assert_eq(b->n, 1, "a done job never comes back; test.b's lease ran out");
    STR_EQ(b->jobs[0].kind, "test.b");
    OK(job_done, b->jobs[0].id, H.now + 100001, "it failed");
    OK(jobs_claim, H.now + 200000, 60, b);
    cr_assert_eq(b->n, 0);
    /* a done job can be ensured again (a recurring job's next round) */
    OK(job_ensure, "test.a", "ref-a", H.now + 300000);
    OK(jobs_claim, H.now + 300000, 60, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->jobs[0].kind, "test.a");
    cr_assert_eq(b->jobs[0].attempts, 1);
}

STORE_TEST(jobs_claim_orders_by_run_at_and_caps_the_batch)
{
    for (int i = 0; i < STORE_JOBS_CLAIM_MAX + 5; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "r%02d", i);
        OK(job_ensure, "test.many", ref, H.now + 1000 - i);
    }
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now + 1000, 60, b);
    cr_assert_eq(b->n, STORE_JOBS_CLAIM_MAX);
    for (int i = 1; i < b->n; i++)
        cr_assert(b->jobs[i - 1].run_at <= b->jobs[i].run_at);
    cr_assert_eq(b->jobs[0].run_at, H.now + 1000 - (STORE_JOBS_CLAIM_MAX + 4));
    /* a runner with three free slots asks for three */
    store_job_batch *l = NEW(store_job_batch);
    l->limit = 3;
    OK(jobs_claim, H.now + 1000, 60, l);
    cr_assert_eq(l->n, 3, "the limit caps the batch");
    store_job_batch *c = NEW(store_job_batch);
    OK(jobs_claim, H.now + 1000, 60, c);
    cr_assert_eq(c->n, 2, "the rest, none of the earlier batches");
    for (int i = 0; i < c->n; i++) {
        for (int k = 0; k < b->n; k++)
            cr_assert_str_neq(c->jobs[i].id, b->jobs[k].id);
        for (int k = 0; k < l->n; k++)
            cr_assert_str_neq(c->jobs[i].id, l->jobs[k].id);
    }
}

/* events come from the transactions they announce: a request with two
 * invitations gives each engineer an invitation.created event */
STORE_TEST(events_increase_page_filter_and_prune)
{
    int64_t head[2] = {-1, -1};
    OK(events_head, head);
    cr_assert_eq(head[0], 0);
    cr_assert_eq(head[1], 0);
    store_user *client = fx_user("client", "Carla");
    store_user *e[2] = {fx_engineer("Erik", 9000), fx_engineer("Eva", 9500)};
    fx_request(client, e, 2);
    store_event_page *pg = NEW(store_event_page);
    OK(events_after, NULL, 0, STORE_EVENTS_MAX, pg);
    cr_assert(pg->n >= 2, "%d events", pg->n);
    for (int i = 1; i < pg->n; i++)
        cr_assert(pg->items[i].id > pg->items[i - 1].id, "ids increase");
    int64_t last = pg->items[pg->n - 1].id;
    int total = pg->n;
    store_events_free(pg);
    OK(events_head, head);
    cr_assert_eq(head[0], last);
    /* one user's */
    OK(events_after, e[1]->id, 0, STORE_EVENTS_MAX, pg);
    cr_assert_eq(pg->n, 1);
    STR_EQ(pg->items[0].user_id, e[1]->id);
    STR_EQ(pg->items[0].kind, "invitation.created");
    cr_assert(pg->items[0].payload && pg->items[0].payload[0] == '{', "%s", pg->items[0].payload);
    cr_assert_eq(pg->items[0].created_at, H.now);
    store_events_free(pg);
    /* pages of one */
    int64_t after = 0;
    int seen = 0;
    for (;;) {
        OK(events_after, NULL, after, 1, pg);
        if (pg->n == 0) break;
        cr_assert_eq(pg->n, 1);
        cr_assert(pg->items[0].id > after);
        after = pg->items[0].id;
        seen++;
        store_events_free(pg);
    }
    cr_assert_eq(seen, total);
    /* later events, then prune the older ones */
    store_user *e2[1] = {fx_engineer("Ines", 8000)};
    store_request *r2 = NEW(store_request);
    (void)r2;
    int64_t saved = H.now;
    H.now += 1000;
    fx_request(client, e2, 1);
    H.now = saved;
    int64_t max_deleted = -1;
    OK(events_prune, H.now + 500, &max_deleted);
    cr_assert_eq(max_deleted, last);
    OK(events_head, head);
    cr_assert(head[0] > last);
    cr_assert_eq(head[1], last, "every id up to it is gone");
    OK(events_after, NULL, 0, STORE_EVENTS_MAX, pg);
    cr_assert(pg->n >= 1);
    for (int i = 0; i < pg->n; i++)
        cr_assert(pg->items[i].id > last);
    store_events_free(pg);
    OK(events_prune, H.now + 500, &max_deleted);
    cr_assert_eq(max_deleted, 0, "nothing more to prune");
}
