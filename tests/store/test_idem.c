/* test_idem: Idempotency-Key claims (new, ours, taken over, mismatch,
 * replay after the money transaction saved its answer, release, prune)
 * through the store. */
#include "harness.h"
#include "store/tx_internal.h"

static store_idem claim_of(const store_user *u, const char *key, const char *owner)
{
    store_idem in = {0};
    snprintf(in.user_id, sizeof in.user_id, "%s", u->id);
    snprintf(in.key, sizeof in.key, "%s", key);
    snprintf(in.route, sizeof in.route, "POST /milestones/{id}/fund");
    snprintf(in.body_hash, sizeof in.body_hash, "%064d", 7);
    snprintf(in.owner, sizeof in.owner, "%s", owner);
    in.lease_until = H.now + 100;
    return in;
}

/* node is alive for s seconds of the database's clock (0: gone) */
static void beat(const char *node, int s)
{
    h_call w = {0};
    cr_assert_eq(h_wait(tx_node_beat(S, node, s, h_deadline(), h_cb, &w), &w), STORE_OK);
}

STORE_TEST(idem_claim_new_ours_taken_over_mismatch)
{
    store_user *u = fx_user("client", "Carla");
    store_idem in = claim_of(u, "k-1", "boot-a");
    store_idem_result *out = NEW(store_idem_result);
    OK(idem_claim, &in, H.now, out);
    cr_assert_eq(out->state, STORE_IDEM_NEW);
    OK(idem_claim, &in, H.now + 1, out);
    cr_assert_eq(out->state, STORE_IDEM_OURS);
    store_idem other = claim_of(u, "k-1", "boot-b");
    int64_t t = H.now + 2;
    if (H.postgres) {
        /* beside other nodes, boot-a may be alive: while its heartbeat goes
         * on, its claim holds until the claim lapses */
        beat("boot-a", 60);
        OK(idem_claim, &other, H.now + 99, out);
        cr_assert_eq(out->state, STORE_IDEM_ELSEWHERE);
        t = H.now + 100;
        other.lease_until = t + 100;
    }
    /* another process carries on (alone on SQLite: the first one died) */
    OK(idem_claim, &other, t, out);
    cr_assert_eq(out->state, STORE_IDEM_TAKEN_OVER);
    OK(idem_claim, &other, t + 1, out);
    cr_assert_eq(out->state, STORE_IDEM_OURS);
    if (H.postgres) { /* the take-over renewed the claim, until boot-b stops beating */
        beat("boot-b", 60);
        OK(idem_claim, &in, t + 2, out);
        cr_assert_eq(out->state, STORE_IDEM_ELSEWHERE);
        beat("boot-b", 0);
    }
    OK(idem_claim, &in, t + 2, out); /* boot-a is not the owner any more */
    cr_assert_eq(out->state, STORE_IDEM_TAKEN_OVER);
    /* the same key with another body, or on another route */
    store_idem diff = in;
    snprintf(diff.body_hash, sizeof diff.body_hash, "%064d", 8);
    OK(idem_claim, &diff, H.now + 5, out);
    cr_assert_eq(out->state, STORE_IDEM_MISMATCH);
    diff = in;
    snprintf(diff.route, sizeof diff.route, "POST /milestones/{id}/approve");
    OK(idem_claim, &diff, H.now + 5, out);
    cr_assert_eq(out->state, STORE_IDEM_MISMATCH);
    /* keys are per user */
    store_user *v = fx_user("client", "Vera");
    store_idem hers = claim_of(v, "k-1", "boot-a");
    OK(idem_claim, &hers, H.now + 6, out);
    cr_assert_eq(out->state, STORE_IDEM_NEW);
}

STORE_TEST(idem_release_forgets_the_claim)
{
    store_user *u = fx_user("client", "Carla");
    store_idem in = claim_of(u, "k-rel", "boot-a");
    store_idem_result *out = NEW(store_idem_result);
    OK(idem_claim, &in, H.now, out);
    cr_assert_eq(out->state, STORE_IDEM_NEW);
    OK(idem_release, u->id, "k-rel");
    OK(idem_claim, &in, H.now + 1, out);
    cr_assert_eq(out->state, STORE_IDEM_NEW);
    OK(idem_release, u->id, "k-never-claimed"); /* harmless */
}

/* the money transaction saves the answer: the next claim replays it */
STORE_TEST(idem_saved_with_the_effect_then_replayed)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {50000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 1);
    store_idem in = claim_of(p.client, "fund-1", "boot-a");
    store_idem_result *out = NEW(store_idem_result);
    OK(idem_claim, &in, H.now, out);
    cr_assert_eq(out->state, STORE_IDEM_NEW);

    store_payment *pay = NEW(store_payment);
    store_money_conflict *why = NEW(store_money_conflict);
    store_contract *after = h_contract();
    snprintf(pay->gateway, sizeof pay->gateway, "sandbox");
    snprintf(pay->gateway_key, sizeof pay->gateway_key, "fund:%s:fund-1", k->milestones[0].id);
    OK(fund_begin, k->milestones[0].id, p.client->id, pay, H.now + 400, after, why);
    snprintf(pay->status, sizeof pay->status, "succeeded");
    snprintf(pay->gateway_ref, sizeof pay->gateway_ref, "ch_1");
    store_idem_done done = {.user_id = p.client->id, .key = "fund-1", .render = fx_render};
    OK(fund_finish, pay, H.now + 401, &done);
    cr_assert_eq(done.status, 200);
    cr_assert(done.response && strstr(done.response, k->id), "%s", done.response);

    OK(idem_claim, &in, H.now + 500, out);
    cr_assert_eq(out->state, STORE_IDEM_REPLAY);
    cr_assert_eq(out->status, 200);
    STR_EQ(out->response, done.response);
    free(out->response);
    free(done.response);
    /* another process replays it too */
    store_idem other = claim_of(p.client, "fund-1", "boot-b");
    OK(idem_claim, &other, H.now + 501, out);
    cr_assert_eq(out->state, STORE_IDEM_REPLAY);
    free(out->response);
    /* release forgets only a claim without an answer: this one stays */
    OK(idem_release, p.client->id, "fund-1");
    OK(idem_claim, &in, H.now + 502, out);
    cr_assert_eq(out->state, STORE_IDEM_REPLAY);
    free(out->response);
    store_contract_free(after);
}

STORE_TEST(idem_prune_deletes_old_keys_and_reschedules_its_job)
{
    store_user *u = fx_user("client", "Carla");
    store_idem_result *out = NEW(store_idem_result);
    store_idem old = claim_of(u, "old", "boot-a"), fresh = claim_of(u, "fresh", "boot-a");
    OK(idem_claim, &old, H.now - 100000, out);
    OK(idem_claim, &fresh, H.now, out);
    OK(job_ensure, "idem.prune", "", H.now);
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now, 60, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->jobs[0].kind, "idem.prune");
    int64_t deleted = -1;
    OK(idem_prune, H.now - 50000, b->jobs[0].id, H.now, H.now + 86400, &deleted);
    cr_assert_eq(deleted, 1);
    /* the old key is gone (a claim is new again), the fresh one stays */
    OK(idem_claim, &old, H.now + 1, out);
    cr_assert_eq(out->state, STORE_IDEM_NEW);
    OK(idem_claim, &fresh, H.now + 1, out);
    cr_assert_eq(out->state, STORE_IDEM_OURS);
    /* the job waits for its next run */
    OK(jobs_claim, H.now + 86400 - 1, 60, b);
    cr_assert_eq(b->n, 0);
    OK(jobs_claim, H.now + 86400, 60, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->jobs[0].kind, "idem.prune");
}
