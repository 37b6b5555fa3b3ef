/* test_contracts_more: hourly contracts (a funded week's timesheet,
 * approval releasing hours * rate and refunding the rest, the next week
 * opened), reviews of an ended contract (double-blind, the window, the
 * publish job, the rating matching reads), the contract views, and the
 * events watch. */
#include "harness.h"
#include <jansson.h>

static char acct_buf[96];
static const char *A(const char *kind, const char *owner)
{
    if (!owner)
        snprintf(acct_buf, sizeof acct_buf, "%s:EUR", kind);
    else if (strcmp(kind, "escrow") == 0)
        snprintf(acct_buf, sizeof acct_buf, "escrow:%s", owner);
    else
        snprintf(acct_buf, sizeof acct_buf, "%s:%s:EUR", kind, owner);
    return acct_buf;
}

static void assert_ledger_clean(void)
{
    store_ledger_report *r = NEW(store_ledger_report);
    OK(ledger_report, r);
    cr_assert_eq(r->violations, 0, "ledger: %s", r->report);
    free(r->report);
}

STORE_TEST(timesheets_submit_approve_and_open_the_next_week)
{
    fx_parties p = fx_hire();
    store_contract *k = fx_hourly(&p, 5000, 10, "2026-11-30", 1000);
    STR_EQ(k->type, "hourly");
    cr_assert_eq(k->hourly_rate, 5000);
    cr_assert_eq(k->weekly_cap_hours, 10);
    STR_EQ(k->milestones[0].week_start, "2026-11-30");
    store_timesheet *t = NEW(store_timesheet);
    store_contract *after = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    /* not funded yet */
    cr_assert_eq(CALL(timesheet_submit, k->id, p.engineer->id, "2026-11-30", 6, "", H.now + 500, t,
                      after, why),
                 STORE_CONFLICT);
    STR_EQ(why->state, "pending");
    store_contract_free(after);
    fx_fund(k, 0);
    cr_assert_eq(k->escrow, 50000);
    cr_assert_eq(CALL(timesheet_submit, k->id, p.engineer->id, "2026-11-30", 11, "", H.now + 500, t,
                      after, why),
                 STORE_CONFLICT);
    STR_EQ(why->entity, "cap");
    store_contract_free(after);
    cr_assert_eq(CALL(timesheet_submit, k->id, p.engineer->id, "2026-12-07", 6, "", H.now + 500, t,
                      after, why),
                 STORE_CONFLICT);
    STR_EQ(why->entity, "week");
    store_contract_free(after);
    cr_assert_eq(CALL(timesheet_submit, k->id, p.client->id, "2026-11-30", 6, "", H.now + 500, t,
                      after, why),
                 STORE_NOTFOUND);
    OK(timesheet_submit, k->id, p.engineer->id, "2026-11-30", 6, "API and tests", H.now + 500, t,
       after, why);
    STR_EQ(t->status, "submitted");
    cr_assert_eq(t->hours, 6);
    cr_assert_eq(t->amount, 30000);
    STR_EQ(t->note, "API and tests");
    STR_EQ(t->week_start, "2026-11-30");
    STR_EQ(t->milestone_id, k->milestones[0].id);
    STR_EQ(after->milestones[0].status, "submitted");
    store_contract_free(after);
    /* a fixed-price move does not apply to an hourly week */
    store_contract *out = h_contract();
    cr_assert_eq(CALL(milestone_move, k->milestones[0].id, p.client->id, "released", NULL, NULL,
                      H.now + 501, NULL, out, why),
                 STORE_CONFLICT);
    store_contract_free(out);
    store_timesheet *ap = NEW(store_timesheet);
    cr_assert_eq(CALL(timesheet_approve, t->id, p.engineer->id, H.now + 600, NULL, ap, after, why),
                 STORE_NOTFOUND);
    store_contract_free(after);
    store_idem_done done = {.render = fx_render};
    OK(timesheet_approve, t->id, p.client->id, H.now + 600, &done, ap, after, why);
    free(done.response);
    STR_EQ(ap->status, "approved");
    cr_assert_eq(ap->approved_at, H.now + 600);
    cr_assert_eq(after->nmilestones, 2, "the next week is open");
    STR_EQ(after->milestones[0].status, "released");
    STR_EQ(after->milestones[1].week_start, "2026-12-07");
    STR_EQ(after->milestones[1].status, "pending");
    cr_assert_eq(after->milestones[1].amount, 50000);
    cr_assert_eq(after->escrow, 0);
    store_contract_free(after);
    cr_assert_eq(fx_account(A("payable", p.engineer->id)), 27000);
    cr_assert_eq(fx_account(A("revenue", NULL)), 3000);
    store_money_out_list *rl = NEW(store_money_out_list);
    OK(money_out_list, "refund", "pending", NULL, 0, 10, rl);
    cr_assert_eq(rl->n, 1);
    cr_assert_eq(rl->items[0].amount, 20000, "the unworked hours go back");
    cr_assert_eq(CALL(timesheet_approve, t->id, p.client->id, H.now + 601, NULL, ap, after, why),
                 STORE_CONFLICT);
    store_contract_free(after);
    store_timesheet_list *tl = NEW(store_timesheet_list);
    OK(contract_timesheets, k->id, p.engineer->id, tl);
    cr_assert_eq(tl->n, 1);
    STR_EQ(tl->items[0].id, t->id);
    STR_EQ(tl->items[0].status, "approved");
    OK(contract_timesheets, k->id, NULL, tl);
    cr_assert_eq(tl->n, 1);
    cr_assert_eq(CALL(contract_timesheets, k->id, p.admin->id, tl), STORE_NOTFOUND, "not a party");
    assert_ledger_clean();
}

STORE_TEST(timesheet_auto_approved_by_the_system)
{
    fx_parties p = fx_hire();
    store_contract *k = fx_hourly(&p, 4000, 5, "2026-11-30", 1000);
    fx_fund(k, 0);
    store_timesheet *t = NEW(store_timesheet);
    store_contract *after = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    OK(timesheet_submit, k->id, p.engineer->id, "2026-11-30", 5, "", H.now + 500, t, after, why);
    store_contract_free(after);
    OK(timesheet_approve, t->id, "system", H.now + 500 + 5 * 86400, NULL, t, after, why);
    STR_EQ(t->status, "approved");
    store_contract_free(after);
    cr_assert_eq(fx_account(A("payable", p.engineer->id)), 18000);
    store_money_out_list *rl = NEW(store_money_out_list);
    OK(money_out_list, "refund", NULL, NULL, 0, 10, rl);
    cr_assert_eq(rl->n, 0, "the whole week was worked");
    assert_ledger_clean();
}

static store_contract *ended_contract(fx_parties *p, int64_t at)
{
    *p = fx_hire();
    int64_t amounts[] = {10000};
    store_contract *k = fx_contract(p, amounts, 1, 1000, 1);
    store_contract *out = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    OK(contract_end, k->id, p->client->id, at, out, why);
    store_contract_free(out);
    return k;
}

STORE_TEST(reviews_double_blind_then_published_and_rated)
{
    fx_parties p;
    store_contract *k = ended_contract(&p, H.now + 1000);
    store_reviews *rv = NEW(store_reviews);
    store_money_conflict *why = NEW(store_money_conflict);
    store_user *stranger = fx_user("client", "Sam");
    cr_assert_eq(CALL(review_create, k->id, stranger->id, 5, "x", H.now + 2000, rv, why),
                 STORE_NOTFOUND);
    OK(review_create, k->id, p.client->id, 5, "Great work", H.now + 2000, rv, why);
    cr_assert_eq(rv->n, 1);
    cr_assert_eq(rv->items[0].published_at, 0, "nothing shows until both wrote");
    STR_EQ(rv->items[0].author_id, p.client->id);
    STR_EQ(rv->items[0].subject_id, p.engineer->id);
    cr_assert_eq(rv->ended_at, H.now + 1000);
    STR_EQ(rv->contract_status, "ended");
    cr_assert_eq(CALL(review_create, k->id, p.client->id, 4, "again", H.now + 2001, rv, why),
                 STORE_CONFLICT);
    STR_EQ(why->state, "written");
    store_engineer *e = NEW(store_engineer);
    OK(engineer_get, p.engineer->id, e);
    cr_assert_eq(e->rating_x100, 0);
    OK(review_create, k->id, p.engineer->id, 4, "Clear brief", H.now + 3000, rv, why);
    cr_assert_eq(rv->n, 2);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(rv->items[i].published_at, H.now + 3000);
    OK(reviews_get, k->id, rv);
    cr_assert_eq(rv->n, 2);
    STR_EQ(rv->client_id, p.client->id);
    STR_EQ(rv->engineer_id, p.engineer->id);
    int found = 0;
    for (int i = 0; i < 2; i++)
        if (strcmp(rv->items[i].author_id, p.engineer->id) == 0) {
            found = 1;
            cr_assert_eq(rv->items[i].rating, 4);
            STR_EQ(rv->items[i].comment, "Clear brief");
            STR_EQ(rv->items[i].author_role, "engineer");
            STR_EQ(rv->items[i].author_name, "Erik");
        }
    cr_assert(found);
    OK(engineer_get, p.engineer->id, e);
    cr_assert_eq(e->rating_x100, 500);
    cr_assert_eq(CALL(reviews_get, "ctr_nobody", rv), STORE_NOTFOUND);
}

STORE_TEST(reviews_window_closes_and_the_job_publishes_one)
{
    fx_parties p;
    store_contract *k = ended_contract(&p, H.now + 1000);
    store_reviews *rv = NEW(store_reviews);
    store_money_conflict *why = NEW(store_money_conflict);
    OK(review_create, k->id, p.client->id, 3, "ok", H.now + 2000, rv, why);
    /* the publish job, 14 days after the end */
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now + 1000 + 14 * 86400, 60, b);
    const store_job *job = NULL;
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->jobs[i].kind, "reviews.publish") == 0) job = &b->jobs[i];
    cr_assert(job, "reviews.publish is due");
    STR_EQ(job->ref, k->id);
    cr_assert_eq(CALL(review_create, k->id, p.engineer->id, 5, "late",
                      H.now + 1000 + 14 * 86400 + 1, rv, why),
                 STORE_CONFLICT);
    STR_EQ(why->state, "closed");
    OK(reviews_publish, k->id, job->id, H.now + 1000 + 14 * 86400);
    OK(reviews_get, k->id, rv);
    cr_assert_eq(rv->n, 1);
    cr_assert_eq(rv->items[0].published_at, H.now + 1000 + 14 * 86400);
    cr_assert_eq(CALL(job_done, job->id, H.now, NULL), STORE_CONFLICT, "publish completed its job");
    store_engineer *e = NEW(store_engineer);
    OK(engineer_get, p.engineer->id, e);
    cr_assert_eq(e->rating_x100, 300);
}

STORE_TEST(reviews_refused_before_the_end)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {10000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 1);
    store_reviews *rv = NEW(store_reviews);
    store_money_conflict *why = NEW(store_money_conflict);
    cr_assert_eq(CALL(review_create, k->id, p.client->id, 5, "", H.now + 500, rv, why),
                 STORE_CONFLICT);
    STR_EQ(why->entity, "contract");
    STR_EQ(why->state, "active");
}

STORE_TEST(contracts_list_filters_pages_and_milestones)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {10000, 20000};
    store_contract *k1 = fx_contract(&p, amounts, 2, 1000, 0);
    store_contract *out = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    OK(contract_answer, k1->id, p.engineer->id, "declined", H.now + 300, out, why);
    store_contract_free(out);
    store_contract *k2 = fx_contract(&p, amounts, 1, 1000, 1);
    store_contract_list *l = NEW(store_contract_list);
    store_contract_filter f = {.client_id = p.client->id, .limit = 10};
    OK(contracts_list, &f, l);
    cr_assert_eq(l->n, 2);
    STR_EQ(l->items[0].id, k2->id, "newest first");
    STR_EQ(l->items[0].status, "active");
    STR_EQ(l->items[0].request_title, "A React dashboard");
    STR_EQ(l->items[0].engineer_name, "Erik");
    cr_assert_eq(l->items[0].milestones, 1);
    cr_assert_eq(l->items[1].milestones, 2);
    cr_assert_eq(l->items[1].total, 30000);
    json_t *ms = json_loads(l->items[1].milestones_json, 0, NULL);
    cr_assert(json_is_array(ms), "%s", l->items[1].milestones_json);
    cr_assert_eq(json_array_size(ms), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(ms, 1), "amount")), 20000);
    STR_EQ(json_string_value(json_object_get(json_array_get(ms, 0), "status")), "pending");
    json_decref(ms);
    int64_t seq = l->items[0].seq;
    store_contract_list_free(l);
    f.status = "declined";
    OK(contracts_list, &f, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].id, k1->id);
    store_contract_list_free(l);
    store_contract_filter g = {.engineer_id = p.engineer->id, .before_seq = seq, .limit = 10};
    OK(contracts_list, &g, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].id, k1->id);
    store_contract_list_free(l);
    store_contract_filter h = {.request_id = "req_nobody", .limit = 10};
    OK(contracts_list, &h, l);
    cr_assert_eq(l->n, 0);
    store_contract_filter all = {.limit = 1};
    OK(contracts_list, &all, l);
    cr_assert_eq(l->n, 1);
    store_contract_list_free(l);
}

static int64_t watched;
static void on_watch(void *data, int64_t max_id)
{
    (void)data;
    watched = max_id;
}

STORE_TEST(events_watch_hears_each_commit_that_added_events)
{
    watched = 0;
    S->v->events_watch(S, on_watch, NULL);
    store_user *client = fx_user("client", "Carla");
    cr_assert_eq(watched, 0, "no events yet");
    store_user *e[1] = {fx_engineer("Erik", 9000)};
    fx_request(client, e, 1);
    int64_t head[2];
    OK(events_head, head);
    cr_assert(head[0] > 0);
    /* the callback runs on the loop after the commit; the request's own
     * callback may come first, so give the loop a turn */
    for (int i = 0; i < 100 && watched != head[0]; i++)
        uv_run(&H.loop, UV_RUN_NOWAIT);
    cr_assert_eq(watched, head[0]);
    S->v->events_watch(S, NULL, NULL);
}
