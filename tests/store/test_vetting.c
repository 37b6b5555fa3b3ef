/* test_vetting: profiles, assessment attempts (open, limit, closed),
 * the interview queue, scorecards (vetted, rejected and the re-apply
 * wait), the audit trail, and what matching and the public pool read of
 * vetted engineers. */
#include "harness.h"
#include <jansson.h>

static store_attempt *attempt_of(const store_user *u, int64_t at)
{
    store_attempt *a = NEW(store_attempt);
    id_new("att", a->id);
    snprintf(a->user_id, sizeof a->user_id, "%s", u->id);
    snprintf(a->questions, sizeof a->questions, "[{\"q\":\"q1\",\"p\":[2,0,1,3]}]");
    a->started_at = at;
    a->expires_at = at + 1800;
    return a;
}

static store_scorecard *scorecard_of(const store_user *e, const store_user *vetter,
                                     const char *decision, int64_t at)
{
    store_scorecard *sc = NEW(store_scorecard);
    id_new("scd", sc->id);
    snprintf(sc->engineer_id, sizeof sc->engineer_id, "%s", e->id);
    snprintf(sc->vetter_id, sizeof sc->vetter_id, "%s", vetter->id);
    for (int i = 0; i < 5; i++)
        sc->scores[i] = 3;
    snprintf(sc->decision, sizeof sc->decision, "%s", decision);
    if (strcmp(decision, "vetted") == 0) snprintf(sc->level, sizeof sc->level, "staff");
    snprintf(sc->notes, sizeof sc->notes, "notes");
    sc->created_at = at;
    return sc;
}

STORE_TEST(vetting_engineer_get_and_profile_put)
{
    store_user *client = fx_user("client", "Carla");
    store_engineer *e = NEW(store_engineer);
    cr_assert_eq(CALL(engineer_get, client->id, e), STORE_NOTFOUND, "not an engineer");
    store_user *u = fx_user("engineer", "Erik");
    OK(engineer_get, u->id, e);
    cr_assert_eq(e->has_profile, 0);
    STR_EQ(e->status, "registered");
    STR_EQ(e->name, "Erik");

    store_engineer *in = NEW(store_engineer), *out = NEW(store_engineer);
    snprintf(in->user_id, sizeof in->user_id, "%s", u->id);
    snprintf(in->headline, sizeof in->headline, "Go and Postgres");
    snprintf(in->bio, sizeof in->bio, "Backend work since 2012.");
    in->rate_amount = 12000;
    snprintf(in->currency, sizeof in->currency, "EUR");
    snprintf(in->timezone, sizeof in->timezone, "Europe/Lisbon");
    in->hours_per_week = 30;
    in->years_experience = 12;
    in->available = 1;
    in->nlinks = 2;
    snprintf(in->links[0], sizeof in->links[0], "https://github.com/erik");
    snprintf(in->links[1], sizeof in->links[1], "https://erik.dev");
    in->nskills = 2;
    snprintf(in->skills[0].id, sizeof in->skills[0].id, "go");
    in->skills[0].self_level = 5;
    snprintf(in->skills[1].id, sizeof in->skills[1].id, "postgres");
    in->skills[1].self_level = 4;
    OK(profile_put, in, H.now + 10, out);
    cr_assert_eq(out->has_profile, 1);
    STR_EQ(out->status, "profile_complete");
    STR_EQ(out->headline, "Go and Postgres");
    STR_EQ(out->timezone, "Europe/Lisbon");
    cr_assert_eq(out->rate_amount, 12000);
    cr_assert_eq(out->hours_per_week, 30);
    cr_assert_eq(out->years_experience, 12);
    cr_assert_eq(out->available, 1);
    cr_assert_eq(out->nlinks, 2);
    STR_EQ(out->links[1], "https://erik.dev");
    cr_assert_eq(out->nskills, 2);
    cr_assert_eq(out->rating_x100, 0);
    /* a second put replaces the self-rated skills and keeps the state */
    in->nskills = 1;
    snprintf(in->skills[0].id, sizeof in->skills[0].id, "rust");
    in->skills[0].self_level = 3;
    in->available = 0;
    OK(profile_put, in, H.now + 20, out);
    STR_EQ(out->status, "profile_complete");
    cr_assert_eq(out->nskills, 1);
    STR_EQ(out->skills[0].id, "rust");
    cr_assert_eq(out->skills[0].self_level, 3);
    cr_assert_eq(out->skills[0].vetted_level, 0);
    cr_assert_eq(out->available, 0);
    store_audit *a = NEW(store_audit);
    OK(audit_list, "engineer", u->id, a);
    cr_assert_eq(a->n, 1, "one transition, not one per put");
    STR_EQ(a->items[0].action, "vetting.transition");
    cr_assert(strstr(a->items[0].detail, "profile_complete"));
}

STORE_TEST(vetting_attempt_needs_a_profile_and_one_at_a_time)
{
    store_user *bare = fx_user("engineer", "Bare");
    store_vet_result *res = NEW(store_vet_result);
    cr_assert_eq(CALL(attempt_start, attempt_of(bare, H.now), res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_PROFILE_INCOMPLETE);

    store_user *u = fx_engineer("Erik", 9000);
    store_attempt *a = attempt_of(u, H.now);
    OK(attempt_start, a, res);
    cr_assert_eq(res->attempts_left, 2);
    store_attempt *got = NEW(store_attempt);
    OK(attempt_get, a->id, got);
    STR_EQ(got->user_id, u->id);
    STR_EQ(got->questions, a->questions);
    cr_assert_eq(got->expires_at, H.now + 1800);
    cr_assert_eq(got->submitted_at, 0);
    cr_assert_eq(CALL(attempt_get, "att_nobody", got), STORE_NOTFOUND);
    /* one open at a time */
    cr_assert_eq(CALL(attempt_start, attempt_of(u, H.now + 60), res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_OPEN);
    STR_EQ(res->open_attempt_id, a->id);
    /* a failing grade leaves the engineer where they were */
    snprintf(a->answers, sizeof a->answers, "[1,2,3]");
    a->score = 9;
    a->passed = 0;
    OK(attempt_finish, a, H.now + 600, res);
    STR_EQ(res->status, "profile_complete");
    OK(attempt_get, a->id, got);
    cr_assert_eq(got->submitted_at, H.now + 600);
    cr_assert_eq(got->score, 9);
    cr_assert_eq(got->passed, 0);
    STR_EQ(got->answers, "[1,2,3]");
    /* submitted once */
    cr_assert_eq(CALL(attempt_finish, a, H.now + 601, res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_CLOSED);
    /* a late submission changes nothing */
    store_attempt *b = attempt_of(u, H.now + 700);
    OK(attempt_start, b, res);
    cr_assert_eq(res->attempts_left, 1);
    b->score = 20;
    b->passed = 1;
    cr_assert_eq(CALL(attempt_finish, b, H.now + 700 + 1801, res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_CLOSED);
    /* the third and last in the window */
    store_attempt *c = attempt_of(u, H.now + 4000);
    OK(attempt_start, c, res);
    cr_assert_eq(res->attempts_left, 0);
    c->score = 15;
    c->passed = 1;
    OK(attempt_finish, c, H.now + 4100, res);
    STR_EQ(res->status, "assessment_passed");
    store_engineer *e = NEW(store_engineer);
    OK(engineer_get, u->id, e);
    STR_EQ(e->status, "assessment_passed");
    /* passed: no more attempts */
    cr_assert_eq(CALL(attempt_start, attempt_of(u, H.now + 5000), res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_WRONG_STATE);
}

STORE_TEST(vetting_attempt_limit_per_window)
{
    store_user *u = fx_engineer("Erik", 9000);
    store_vet_result *res = NEW(store_vet_result);
    for (int i = 0; i < 3; i++) {
        store_attempt *a = attempt_of(u, H.now + i * 2000);
        OK(attempt_start, a, res);
        a->score = 1;
        OK(attempt_finish, a, H.now + i * 2000 + 100, res);
    }
    cr_assert_eq(CALL(attempt_start, attempt_of(u, H.now + 7000), res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_ATTEMPT_LIMIT);
    cr_assert_eq(res->next_attempt_at, H.now + 30 * 86400);
    OK(attempt_start, attempt_of(u, H.now + 30 * 86400), res);
}

STORE_TEST(vetting_queue_scorecard_vetted)
{
    store_user *vetter = fx_user("vetter", "Vic");
    store_user *u = fx_engineer("Erik", 9000);
    store_vet_result *res = NEW(store_vet_result);
    /* no scorecard before the assessment */
    cr_assert_eq(CALL(scorecard_create, scorecard_of(u, vetter, "vetted", H.now), res),
                 STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_WRONG_STATE);
    STR_EQ(res->status, "profile_complete");
    store_queue *q = NEW(store_queue);
    OK(vetting_queue, q);
    cr_assert_eq(q->n, 0);
    store_attempt *a = attempt_of(u, H.now);
    OK(attempt_start, a, res);
    a->score = 17;
    a->passed = 1;
    OK(attempt_finish, a, H.now + 300, res);
    OK(vetting_queue, q);
    cr_assert_eq(q->n, 1);
    STR_EQ(q->items[0].user_id, u->id);
    STR_EQ(q->items[0].name, "Erik");
    cr_assert_eq(q->items[0].score, 17);
    cr_assert_eq(q->items[0].rate_amount, 9000);
    cr_assert_eq(q->items[0].nskills, 1);
    STR_EQ(q->items[0].skills[0].id, "react");

    store_scorecard *sc = scorecard_of(u, vetter, "vetted", H.now + 1000);
    sc->nconfirm = 1;
    snprintf(sc->confirm[0].id, sizeof sc->confirm[0].id, "react");
    sc->confirm[0].vetted_level = 5;
    OK(scorecard_create, sc, res);
    STR_EQ(res->status, "vetted");
    store_engineer *e = NEW(store_engineer);
    OK(engineer_get, u->id, e);
    STR_EQ(e->status, "vetted");
    STR_EQ(e->level, "staff");
    cr_assert_eq(e->skills[0].vetted_level, 5);
    OK(vetting_queue, q);
    cr_assert_eq(q->n, 0);
    /* once */
    cr_assert_eq(CALL(scorecard_create, scorecard_of(u, vetter, "vetted", H.now + 1001), res),
                 STORE_CONFLICT);
    /* the confirmed level survives a profile edit */
    store_engineer *in = NEW(store_engineer), *out = NEW(store_engineer);
    *in = *e;
    in->skills[0].self_level = 2;
    OK(profile_put, in, H.now + 2000, out);
    cr_assert_eq(out->skills[0].vetted_level, 5);
    cr_assert_eq(out->skills[0].self_level, 2);
    STR_EQ(out->status, "vetted");

    store_audit *au = NEW(store_audit);
    OK(audit_list, "engineer", u->id, au);
    int transitions = 0, started = 0, submitted = 0;
    for (int i = 0; i < au->n; i++) {
        transitions += strcmp(au->items[i].action, "vetting.transition") == 0;
        started += strcmp(au->items[i].action, "assessment.started") == 0;
        submitted += strcmp(au->items[i].action, "assessment.submitted") == 0;
    }
    cr_assert_eq(transitions, 4,
                 "registered->profile_complete->assessment_passed->interviewed->vetted");
    cr_assert_eq(started, 1);
    cr_assert_eq(submitted, 1);
}

STORE_TEST(vetting_rejected_waits_to_reapply)
{
    store_user *vetter = fx_user("vetter", "Vic");
    store_user *u = fx_engineer("Erik", 9000);
    store_vet_result *res = NEW(store_vet_result);
    store_attempt *a = attempt_of(u, H.now);
    OK(attempt_start, a, res);
    a->passed = 1;
    a->score = 16;
    OK(attempt_finish, a, H.now + 100, res);
    store_scorecard *sc = scorecard_of(u, vetter, "rejected", H.now + 200);
    sc->reapply_after = H.now + 90 * 86400;
    OK(scorecard_create, sc, res);
    STR_EQ(res->status, "rejected");
    store_engineer *e = NEW(store_engineer);
    OK(engineer_get, u->id, e);
    STR_EQ(e->status, "rejected");
    cr_assert_eq(e->reapply_after, H.now + 90 * 86400);
    STR_EQ(e->level, "");
    cr_assert_eq(CALL(attempt_start, attempt_of(u, H.now + 86400), res), STORE_CONFLICT);
    cr_assert_eq(res->reason, VET_WRONG_STATE);
    cr_assert_eq(res->next_attempt_at, H.now + 90 * 86400);
    /* after the wait, a new attempt moves them back to profile_complete */
    OK(attempt_start, attempt_of(u, H.now + 90 * 86400), res);
    OK(engineer_get, u->id, e);
    STR_EQ(e->status, "profile_complete");
}

STORE_TEST(vetting_matchable_page_and_pool_figures)
{
    store_user *vetter = fx_user("vetter", "Vic");
    store_user *v1 = fx_vetted("Vera", 10000, vetter);
    store_user *v2 = fx_vetted("Vlad", 14000, vetter);
    fx_engineer("Nora", 8000); /* not vetted */
    store_match_page *pg = NEW(store_match_page);
    OK(matchable_page, "", pg);
    cr_assert_eq(pg->n, 2);
    cr_assert(strcmp(pg->rows[0].user_id, pg->rows[1].user_id) < 0, "in id order");
    const store_match_row *r1 =
        strcmp(pg->rows[0].user_id, v1->id) == 0 ? &pg->rows[0] : &pg->rows[1];
    STR_EQ(r1->user_id, v1->id);
    STR_EQ(r1->level, "senior");
    STR_EQ(r1->currency, "EUR");
    STR_EQ(r1->timezone, "Europe/Berlin");
    cr_assert_eq(r1->rate_amount, 10000);
    cr_assert_eq(r1->available, 1);
    cr_assert_eq(r1->busy, 0);
    cr_assert_eq(r1->rating_x100, 0);
    cr_assert_eq(r1->nskills, 1);
    STR_EQ(r1->skills[0].id, "react");
    cr_assert_eq(r1->skills[0].vetted_level, 4);
    OK(matchable_page, pg->rows[0].user_id, pg);
    cr_assert_eq(pg->n, 1, "the page after the first id");
    /* a suspended engineer is not matched */
    store_user *admin = fx_user("admin", "Ada");
    store_account *acct = NEW(store_account);
    int ended = 0;
    OK(user_set_status, v2->id, "suspended", admin->id, NULL, H.now + 10, acct, &ended);
    OK(matchable_page, "", pg);
    cr_assert_eq(pg->n, 1);
    STR_EQ(pg->rows[0].user_id, v1->id);

    char *text = NULL;
    OK(framework_counts, "[\"react\",\"vue\"]", &text);
    json_t *j = json_loads(text, 0, NULL);
    cr_assert(json_is_array(j), "%s", text);
    cr_assert_eq(json_array_size(j), 2);
    STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "id")), "react");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(j, 0), "vetted_count")), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(j, 1), "vetted_count")), 0);
    json_decref(j);
    free(text);
    text = NULL;
    OK(framework_pool, "react", &text);
    j = json_loads(text, 0, NULL);
    cr_assert(json_is_object(j), "%s", text);
    cr_assert_eq(json_integer_value(json_object_get(j, "vetted_count")), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "levels"), "senior")), 2);
    json_t *rate = json_object_get(j, "rate");
    cr_assert_eq(json_integer_value(json_object_get(rate, "min")), 10000);
    cr_assert_eq(json_integer_value(json_object_get(rate, "max")), 14000);
    cr_assert_eq(json_integer_value(json_object_get(rate, "median")), 10000,
                 "the lower middle one");
    STR_EQ(json_string_value(json_object_get(rate, "currency")), "EUR");
    cr_assert_eq(json_array_size(json_object_get(j, "profiles")), 2);
    json_decref(j);
    free(text);
}
