/* test_concurrency: what must hold when calls overlap, as they do across
 * requests on one node and across nodes on PostgreSQL: concurrent claims
 * never hand out the same job, a key is claimed new once, a milestone
 * gets one charge in flight and is released once; and the lifecycle
 * rules of store.h (a passed deadline answers TIMEOUT, close delivers
 * every queued callback). */
#include "core/clock.h"
#include "harness.h"

#define CLAIMS 4

STORE_TEST(concurrency_claims_never_share_a_job)
{
    for (int i = 0; i < 40; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "r%02d", i);
        OK(job_ensure, "test.race", ref, H.now);
    }
    h_call w[CLAIMS] = {0};
    store_job_batch *b[CLAIMS];
    for (int i = 0; i < CLAIMS; i++) {
        b[i] = NEW(store_job_batch);
        SUBMIT(&w[i], jobs_claim, H.now, 60, b[i]);
    }
    h_wait_all(w, CLAIMS);
    int total = 0;
    for (int i = 0; i < CLAIMS; i++) {
        cr_assert_eq(w[i].rc, STORE_OK, "claim %d: %s", i, store_strerror(w[i].rc));
        total += b[i]->n;
        for (int x = 0; x < b[i]->n; x++)
            for (int k = i; k < CLAIMS; k++)
                for (int y = (k == i ? x + 1 : 0); y < b[k]->n; y++)
                    cr_assert_str_neq(b[i]->jobs[x].id, b[k]->jobs[y].id, "handed out twice");
    }
    cr_assert_eq(total, 40, "every due job, each once");
}

STORE_TEST(concurrency_a_key_is_claimed_new_once)
{
    store_user *u = fx_user("client", "Carla");
    store_idem in[CLAIMS];
    h_call w[CLAIMS] = {0};
    store_idem_result *out[CLAIMS];
    for (int i = 0; i < CLAIMS; i++) {
        memset(&in[i], 0, sizeof in[i]);
        snprintf(in[i].user_id, sizeof in[i].user_id, "%s", u->id);
        snprintf(in[i].key, sizeof in[i].key, "race-key");
        snprintf(in[i].route, sizeof in[i].route, "POST /milestones/{id}/fund");
        snprintf(in[i].body_hash, sizeof in[i].body_hash, "%064d", 1);
        snprintf(in[i].owner, sizeof in[i].owner, "node-%d", i);
        out[i] = NEW(store_idem_result);
        SUBMIT(&w[i], idem_claim, &in[i], H.now, out[i]);
    }
    h_wait_all(w, CLAIMS);
    int fresh = 0;
    for (int i = 0; i < CLAIMS; i++) {
        /* each caller gets an answer, not a uniqueness error */
        cr_assert_eq(w[i].rc, STORE_OK, "claim %d: %s", i, store_strerror(w[i].rc));
        fresh += out[i]->state == STORE_IDEM_NEW;
        cr_assert(out[i]->state == STORE_IDEM_NEW || out[i]->state == STORE_IDEM_TAKEN_OVER,
                  "claim %d: state %d", i, out[i]->state);
    }
    cr_assert_eq(fresh, 1);
}

STORE_TEST(concurrency_one_charge_in_flight_per_milestone)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {10000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 1);
    h_call w[CLAIMS] = {0};
    store_payment *pay[CLAIMS];
    store_contract *out[CLAIMS];
    store_money_conflict *why[CLAIMS];
    for (int i = 0; i < CLAIMS; i++) {
        pay[i] = NEW(store_payment);
        out[i] = h_contract();
        why[i] = NEW(store_money_conflict);
        snprintf(pay[i]->gateway, sizeof pay[i]->gateway, "sandbox");
        snprintf(pay[i]->gateway_key, sizeof pay[i]->gateway_key, "fund:%s:key-%d",
                 k->milestones[0].id, i);
        SUBMIT(&w[i], fund_begin, k->milestones[0].id, p.client->id, pay[i], H.now + 400, out[i],
               why[i]);
    }
    h_wait_all(w, CLAIMS);
    int ok = 0;
    for (int i = 0; i < CLAIMS; i++) {
        cr_assert(w[i].rc == STORE_OK || w[i].rc == STORE_CONFLICT, "fund %d: %s", i,
                  store_strerror(w[i].rc));
        ok += w[i].rc == STORE_OK;
        store_contract_free(out[i]);
    }
    cr_assert_eq(ok, 1, "never two charges for one milestone");
}

STORE_TEST(concurrency_a_milestone_is_released_once)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {10000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 1);
    fx_fund(k, 0);
    store_contract *after = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    OK(milestone_move, k->milestones[0].id, p.engineer->id, "submitted", NULL, NULL, H.now + 500,
       NULL, after, why);
    store_contract_free(after);
    h_call w[CLAIMS] = {0};
    store_contract *out[CLAIMS];
    store_money_conflict *whys[CLAIMS];
    store_idem_done done[CLAIMS];
    for (int i = 0; i < CLAIMS; i++) {
        out[i] = h_contract();
        whys[i] = NEW(store_money_conflict);
        done[i] = (store_idem_done){.render = fx_render};
        SUBMIT(&w[i], milestone_move, k->milestones[0].id, p.client->id, "released", NULL, NULL,
               H.now + 600, &done[i], out[i], whys[i]);
    }
    h_wait_all(w, CLAIMS);
    int ok = 0;
    for (int i = 0; i < CLAIMS; i++) {
        cr_assert(w[i].rc == STORE_OK || w[i].rc == STORE_CONFLICT, "approve %d: %s", i,
                  store_strerror(w[i].rc));
        ok += w[i].rc == STORE_OK;
        free(done[i].response);
        store_contract_free(out[i]);
    }
    cr_assert_eq(ok, 1);
    store_balance *b = NEW(store_balance);
    OK(balance, p.engineer->id, b);
    cr_assert_eq(b->rows[0].payable, 9000);
    store_ledger_report *r = NEW(store_ledger_report);
    OK(ledger_report, r);
    cr_assert_eq(r->violations, 0, "%s", r->report);
    free(r->report);
}

STORE_TEST(lifecycle_a_passed_deadline_answers_timeout)
{
    h_call w = {0};
    int rc = h_wait(S->v->ping(S, clock_mono_ns() - 1, h_cb, &w), &w);
    cr_assert_eq(rc, STORE_TIMEOUT, "%s", store_strerror(rc));
    store_user *u = NEW(store_user);
    id_new("usr", u->id);
    snprintf(u->email, sizeof u->email, "late@example.com");
    snprintf(u->name, sizeof u->name, "Late");
    snprintf(u->role, sizeof u->role, "client");
    snprintf(u->password_hash, sizeof u->password_hash, "h");
    u->created_at = H.now;
    h_call w2 = {0};
    rc = h_wait(S->v->user_create(S, u, "127.0.0.1", clock_mono_ns() - 1, h_cb, &w2), &w2);
    cr_assert_eq(rc, STORE_TIMEOUT, "%s", store_strerror(rc));
    cr_assert_eq(CALL(user_by_email, "late@example.com", NEW(store_user)), STORE_NOTFOUND,
                 "nothing was written");
}

STORE_TEST(lifecycle_close_delivers_every_queued_callback)
{
    enum { N = 20 };
    h_call w[N] = {0};
    store_user *u[N];
    for (int i = 0; i < N; i++) {
        u[i] = NEW(store_user);
        id_new("usr", u[i]->id);
        snprintf(u[i]->email, sizeof u[i]->email, "u%d.%s@example.com", i, u[i]->id + 4);
        snprintf(u[i]->name, sizeof u[i]->name, "U%d", i);
        snprintf(u[i]->role, sizeof u[i]->role, "client");
        snprintf(u[i]->password_hash, sizeof u[i]->password_hash, "h");
        u[i]->created_at = H.now;
        if (i % 2)
            SUBMIT(&w[i], user_create, u[i], "127.0.0.1");
        else
            SUBMIT(&w[i], ping);
    }
    S->v->close(S);
    S = NULL;
    for (int i = 0; i < N; i++)
        cr_assert(w[i].done, "call %d had no callback by the end of close", i);
    for (int i = 0; i < N; i++)
        cr_assert(w[i].rc == STORE_OK || w[i].rc == STORE_CLOSED, "call %d: %s", i,
                  store_strerror(w[i].rc));
}
