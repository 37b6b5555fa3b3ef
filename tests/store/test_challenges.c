/* test_challenges: the practical challenge's attempts: who may start one,
 * one open at a time, the retake limit, submission (owner, expiry, once,
 * a full queue), and the attempt as its own grading job: claimed oldest
 * first under a lease, claimed again when the lease runs out, graded once
 * by the latest claim only, released unused; the live event and the
 * vetting queue's view of the result. */
#include "harness.h"
#include "rules/vetting.h"
#include <jansson.h>

static store_user *quiz_passed(const char *name)
{
    return fx_quiz_passed(name, 9000);
}

static store_challenge *challenge_of(const store_user *u, int64_t at)
{
    store_challenge *a = NEW(store_challenge);
    id_new("cha", a->id);
    snprintf(a->user_id, sizeof a->user_id, "%s", u->id);
    snprintf(a->challenge_id, sizeof a->challenge_id, "price-fetch");
    a->started_at = at;
    a->expires_at = at + 5400;
    return a;
}

static const store_challenge_rules RULES = {.max_attempts = 3, .window_s = 30 * 86400};

static store_challenge *read_back(const char *id)
{
    store_challenge *a = NEW(store_challenge);
    OK(challenge_get, id, a);
    return a;
}

STORE_TEST(challenge_start_rules)
{
    store_vet_result *res = NEW(store_vet_result);
    store_user *fresh = fx_engineer("Fresh", 9000);
    cr_assert_eq(CALL(challenge_start, challenge_of(fresh, H.now), &RULES, res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_WRONG_STATE);
    STR_EQ(res->status, "profile_complete");

    store_user *u = quiz_passed("Pia");
    store_challenge *a = challenge_of(u, H.now + 100);
    OK(challenge_start, a, &RULES, res);
    cr_assert_eq(res->attempts_left, 2);
    store_challenge *got = read_back(a->id);
    STR_EQ(got->status, "open");
    STR_EQ(got->challenge_id, "price-fetch");
    cr_assert_eq(got->expires_at, H.now + 100 + 5400);
    cr_assert_null(got->code);
    cr_assert_null(got->result);

    /* one at a time: open, then queued, refuse a second */
    cr_assert_eq(CALL(challenge_start, challenge_of(u, H.now + 200), &RULES, res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_OPEN);
    STR_EQ(res->open_attempt_id, a->id);
    OK(challenge_submit, a->id, u->id, "print(1)\n", H.now + 300, 10, res);
    STR_EQ(res->status, "queued");
    cr_assert_eq(CALL(challenge_start, challenge_of(u, H.now + 400), &RULES, res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_OPEN);

    /* graded frees the slot; an attempt left open frees it when it expires */
    store_challenge_batch *b = NEW(store_challenge_batch);
    OK(challenge_claim, H.now + 500, 60, 8, b);
    cr_assert_eq(b->n, 1);
    b->items[0].score = 50;
    b->items[0].result = strdup("{\"tests\":[]}");
    OK(challenge_grade, &b->items[0], H.now + 510);
    store_challenge_batch_free(b);
    store_challenge *second = challenge_of(u, H.now + 600);
    OK(challenge_start, second, &RULES, res);
    cr_assert_eq(res->attempts_left, 1);
    store_challenge *third = challenge_of(u, second->expires_at);
    OK(challenge_start, third, &RULES, res);
    cr_assert_eq(res->attempts_left, 0);
    /* three in the window: the fourth waits for the first to leave it */
    cr_assert_eq(CALL(challenge_start, challenge_of(u, third->expires_at + 1), &RULES, res),
                 STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_LIMIT);
    cr_assert_eq(res->next_attempt_at, H.now + 100 + RULES.window_s);
    OK(challenge_start, challenge_of(u, H.now + 100 + RULES.window_s + 1), &RULES, res);

    /* the latest is the newest start */
    store_challenge *latest = NEW(store_challenge);
    store_user *none = quiz_passed("Nobody yet");
    cr_assert_eq(CALL(challenge_latest, none->id, latest), STORE_NOTFOUND);
    OK(challenge_latest, u->id, latest);
    cr_assert_eq(latest->started_at, H.now + 100 + RULES.window_s + 1);
    store_challenge_free(latest);
    store_challenge_free(got);
}

STORE_TEST(challenge_submit_guards)
{
    store_vet_result *res = NEW(store_vet_result);
    store_user *u = quiz_passed("Quinn"), *other = quiz_passed("Other");
    store_challenge *a = challenge_of(u, H.now);
    OK(challenge_start, a, &RULES, res);
    /* somebody else's attempt does not exist for them */
    cr_assert_eq(CALL(challenge_submit, a->id, other->id, "x = 1\n", H.now + 10, 10, res), STORE_NOTFOUND);
    cr_assert_eq(CALL(challenge_submit, "cha_nope", u->id, "x = 1\n", H.now + 10, 10, res), STORE_NOTFOUND);
    /* late: closed, nothing stored */
    cr_assert_eq(CALL(challenge_submit, a->id, u->id, "x = 1\n", a->expires_at, 10, res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_CLOSED);
    store_challenge *got = read_back(a->id);
    STR_EQ(got->status, "open");
    cr_assert_null(got->code);
    store_challenge_free(got);

    /* a full queue sheds the submission and keeps the attempt open */
    store_challenge *b = challenge_of(other, H.now);
    OK(challenge_start, b, &RULES, res);
    OK(challenge_submit, b->id, other->id, "y = 2\n", H.now + 5, 10, res);
    cr_assert_eq(CALL(challenge_submit, a->id, u->id, "x = 1\n", H.now + 10, 1, res), STORE_BUSY);
    got = read_back(a->id);
    STR_EQ(got->status, "open");
    store_challenge_free(got);
    store_challenge_queue *q = NEW(store_challenge_queue);
    OK(challenge_queue, q);
    cr_assert_eq(q->queued, 1);
    cr_assert_eq(q->running, 0);
    cr_assert_eq(q->oldest_queued_at, H.now + 5);

    /* once */
    OK(challenge_submit, a->id, u->id, "x = 1\n", H.now + 10, 10, res);
    cr_assert_eq(CALL(challenge_submit, a->id, u->id, "x = 2\n", H.now + 11, 10, res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_CLOSED);
    got = read_back(a->id);
    STR_EQ(got->status, "queued");
    STR_EQ(got->code, "x = 1\n");
    cr_assert_eq(got->submitted_at, H.now + 10);
    store_challenge_free(got);
    OK(challenge_queue, q);
    cr_assert_eq(q->queued, 2);
}

STORE_TEST(challenge_grading_queue)
{
    store_vet_result *res = NEW(store_vet_result);
    store_user *u = quiz_passed("Rae"), *v = quiz_passed("Sam");
    store_challenge *a = challenge_of(u, H.now), *b = challenge_of(v, H.now);
    OK(challenge_start, a, &RULES, res);
    OK(challenge_start, b, &RULES, res);
    OK(challenge_submit, b->id, v->id, "second = True\n", H.now + 20, 10, res);
    OK(challenge_submit, a->id, u->id, "first = True\n", H.now + 10, 10, res);

    /* oldest submission first, at most max */
    store_challenge_batch *batch = NEW(store_challenge_batch);
    OK(challenge_claim, H.now + 30, 60, 1, batch);
    cr_assert_eq(batch->n, 1);
    STR_EQ(batch->items[0].id, a->id);
    STR_EQ(batch->items[0].status, "running");
    STR_EQ(batch->items[0].code, "first = True\n");
    cr_assert_eq(batch->items[0].tries, 1);
    cr_assert_eq(batch->items[0].lease_until, H.now + 90);
    store_challenge first = batch->items[0];
    first.code = first.result = NULL;
    store_challenge_batch_free(batch);
    OK(challenge_claim, H.now + 31, 60, 8, batch);
    cr_assert_eq(batch->n, 1, "the running one is leased");
    STR_EQ(batch->items[0].id, b->id);
    store_challenge second = batch->items[0];
    second.code = second.result = NULL;
    store_challenge_batch_free(batch);
    OK(challenge_claim, H.now + 40, 60, 8, batch);
    cr_assert_eq(batch->n, 0);

    /* the first grader dies: its lease runs out, the attempt is claimed again */
    OK(challenge_claim, H.now + 90, 60, 8, batch);
    cr_assert_eq(batch->n, 1);
    STR_EQ(batch->items[0].id, a->id);
    cr_assert_eq(batch->items[0].tries, 2);
    store_challenge retry = batch->items[0];
    retry.code = retry.result = NULL;
    store_challenge_batch_free(batch);
    /* the stale grader cannot write; the current one does, once */
    first.score = 100;
    first.passed = 1;
    first.result = "{\"stale\":true}";
    cr_assert_eq(CALL(challenge_grade, &first, H.now + 95), STORE_CONFLICT);
    retry.score = 75;
    retry.passed = 0;
    retry.result = "{\"tests\":[{\"name\":\"test_x\",\"passed\":false}]}";
    OK(challenge_grade, &retry, H.now + 100);
    cr_assert_eq(CALL(challenge_grade, &retry, H.now + 101), STORE_CONFLICT);
    store_challenge *got = read_back(a->id);
    STR_EQ(got->status, "graded");
    cr_assert_eq(got->score, 75);
    cr_assert_eq(got->passed, 0);
    cr_assert_eq(got->graded_at, H.now + 100);
    STR_EQ(got->result, retry.result);
    cr_assert_eq(got->tries, 2);
    store_challenge_free(got);

    /* the engineer hears of it */
    store_event_page *pg = NEW(store_event_page);
    OK(events_after, u->id, 0, STORE_EVENTS_MAX, pg);
    int seen = 0;
    for (int i = 0; i < pg->n; i++)
        if (strcmp(pg->items[i].kind, "challenge.graded") == 0) {
            json_t *p = json_loads(pg->items[i].payload, 0, NULL);
            cr_assert_not_null(p);
            STR_EQ(json_string_value(json_object_get(p, "id")), a->id);
            cr_assert_eq(json_integer_value(json_object_get(p, "score")), 75);
            json_decref(p);
            seen++;
        }
    store_events_free(pg);
    cr_assert_eq(seen, 1);

    /* shutdown gives a claim back unused; the next claim takes it with the same try count */
    OK(challenge_release, &second);
    cr_assert_eq(CALL(challenge_release, &second), STORE_CONFLICT);
    got = read_back(b->id);
    STR_EQ(got->status, "queued");
    cr_assert_eq(got->tries, 0);
    store_challenge_free(got);
    store_challenge_queue *q = NEW(store_challenge_queue);
    OK(challenge_queue, q);
    cr_assert_eq(q->queued, 1);
    cr_assert_eq(q->running, 0);
    OK(challenge_claim, H.now + 120, 60, 8, batch);
    cr_assert_eq(batch->n, 1);
    cr_assert_eq(batch->items[0].tries, 1);
    store_challenge_batch_free(batch);
    OK(challenge_queue, q);
    cr_assert_eq(q->running, 1);
}

STORE_TEST(challenge_in_the_vetting_queue)
{
    store_vet_result *res = NEW(store_vet_result);
    store_user *u = quiz_passed("Tia"), *w = quiz_passed("Uma");
    store_challenge *a = challenge_of(u, H.now);
    OK(challenge_start, a, &RULES, res);
    OK(challenge_submit, a->id, u->id, "ok = 1\n", H.now + 10, 10, res);
    store_challenge_batch *batch = NEW(store_challenge_batch);
    OK(challenge_claim, H.now + 20, 60, 8, batch);
    batch->items[0].score = 88;
    batch->items[0].passed = 1;
    batch->items[0].result = strdup("{\"tests\":[]}");
    OK(challenge_grade, &batch->items[0], H.now + 30);
    store_challenge_batch_free(batch);
    store_queue *q = NEW(store_queue);
    OK(vetting_queue, q);
    int found = 0;
    for (int i = 0; i < q->n; i++) {
        const store_queue_item *it = &q->items[i];
        if (strcmp(it->user_id, u->id) == 0) {
            found++;
            STR_EQ(it->challenge_id, a->id);
            STR_EQ(it->challenge_status, "graded");
            cr_assert_eq(it->challenge_score, 88);
            cr_assert_eq(it->challenge_passed, 1);
            cr_assert_eq(it->score, 18, "the quiz score beside it");
        } else if (strcmp(it->user_id, w->id) == 0) {
            found++;
            STR_EQ(it->challenge_status, "");
        }
    }
    cr_assert_eq(found, 2);
}
