/* test_vetting: the lifecycle table, the assessment's draw and grading, and
 * the demo population generator. */
#include <criterion/criterion.h>
#include <string.h>
#include "core/token.h"
#include "rules/assessment.h"
#include "rules/seed_data.h"
#include "rules/skills.h"
#include "rules/vetting.h"

static void setup(void)
{
    cr_assert_eq(token_init(), 0);
    char err[256] = "";
    cr_assert_eq(assessment_init(err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
    assessment_free();
}

TestSuite(vetting, .init = setup, .fini = teardown);

Test(vetting, lifecycle_table)
{
    cr_assert(vetting_can_move("registered", "profile_complete"));
    cr_assert(vetting_can_move("profile_complete", "assessment_passed"));
    cr_assert(vetting_can_move("assessment_passed", "interviewed"));
    cr_assert(vetting_can_move("interviewed", "vetted"));
    cr_assert(vetting_can_move("interviewed", "rejected"));
    cr_assert(vetting_can_move("rejected", "profile_complete"));
    cr_assert_not(vetting_can_move("registered", "vetted"));
    cr_assert_not(vetting_can_move("profile_complete", "vetted"));
    cr_assert_not(vetting_can_move("assessment_passed", "vetted"), "an interview comes first");
    cr_assert_not(vetting_can_move("vetted", "rejected"));
    cr_assert_not(vetting_can_move("rejected", "vetted"));
    cr_assert(vetting_valid_level("staff"));
    cr_assert_not(vetting_valid_level("principal"));
}

Test(vetting, bank_is_large_enough)
{
    cr_assert_geq(assessment_bank_size(), 40);
}

/* the right choice's index as shown, found through the public questions */
static json_t *questions_of(const char *draw)
{
    json_t *q = assessment_questions_json(draw);
    cr_assert_eq(json_array_size(q), VETTING_QUESTIONS);
    return q;
}

Test(vetting, draw_has_distinct_questions_and_hides_answers)
{
    char draw[4096];
    cr_assert_eq(assessment_draw(draw, sizeof draw), 0);
    json_t *q = questions_of(draw);
    for (size_t i = 0; i < json_array_size(q); i++) {
        json_t *item = json_array_get(q, i);
        cr_assert_eq(json_object_size(item), 3, "only id, prompt and choices");
        cr_assert_null(json_object_get(item, "answer"));
        cr_assert_null(json_object_get(item, "explanation"));
        cr_assert_eq(json_array_size(json_object_get(item, "choices")), 4);
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(json_string_value(json_object_get(item, "id")),
                              json_string_value(json_object_get(json_array_get(q, k), "id")));
    }
    json_decref(q);
}

Test(vetting, draws_differ)
{
    char a[4096], b[4096];
    assessment_draw(a, sizeof a);
    assessment_draw(b, sizeof b);
    cr_assert_str_neq(a, b, "two draws of 20 from 72 with shuffled choices are not equal");
}

static json_t *answers(json_t *q, int (*pick)(int i))
{
    json_t *arr = json_array();
    for (size_t i = 0; i < json_array_size(q); i++)
        json_array_append_new(arr, json_pack("{s:O,s:i}", "question_id",
                                             json_object_get(json_array_get(q, i), "id"), "choice",
                                             pick((int)i)));
    return arr;
}

static int zero(int i)
{
    (void)i;
    return 0;
}

Test(vetting, grading_reveals_and_counts_once)
{
    char draw[4096], record[2048];
    assessment_draw(draw, sizeof draw);
    json_t *q = questions_of(draw);
    json_t *ans = answers(q, zero);
    jv_errors errs = {.n = 0};
    int score = -1;
    json_t *results = NULL;
    cr_assert_eq(assessment_grade(draw, ans, &errs, &score, &results, record, sizeof record), 0);
    cr_assert_eq(json_array_size(results), VETTING_QUESTIONS);
    int right = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *r = json_array_get(results, i);
        int correct = json_is_true(json_object_get(r, "correct"));
        int cc = (int)json_integer_value(json_object_get(r, "correct_choice"));
        cr_assert_eq(correct, cc == 0, "choice 0 is right exactly when correct_choice is 0");
        cr_assert_not_null(json_object_get(r, "explanation"));
        right += correct;
    }
    cr_assert_eq(score, right);
    /* answering each with its revealed correct choice scores 20 */
    json_t *perfect = json_array();
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *r = json_array_get(results, i);
        json_array_append_new(perfect, json_pack("{s:O,s:O}", "question_id", json_object_get(r, "question_id"),
                                                 "choice", json_object_get(r, "correct_choice")));
    }
    json_t *results2 = NULL;
    cr_assert_eq(assessment_grade(draw, perfect, &errs, &score, &results2, record, sizeof record), 0);
    cr_assert_eq(score, VETTING_QUESTIONS);
    json_decref(results);
    json_decref(results2);
    json_decref(perfect);
    json_decref(ans);
    json_decref(q);
}

Test(vetting, grading_refuses_foreign_and_duplicate_questions)
{
    char draw[4096], record[2048];
    assessment_draw(draw, sizeof draw);
    json_t *q = questions_of(draw);
    const char *first = json_string_value(json_object_get(json_array_get(q, 0), "id"));
    json_t *ans = json_pack("[{s:s,s:i},{s:s,s:i},{s:s,s:i}]", "question_id", first, "choice", 1,
                            "question_id", first, "choice", 2, "question_id", "q-not-in-this-attempt",
                            "choice", 0);
    jv_errors errs = {.n = 0};
    int score = 0;
    json_t *results = NULL;
    cr_assert_eq(assessment_grade(draw, ans, &errs, &score, &results, record, sizeof record), -1);
    cr_assert_eq(errs.n, 2);
    cr_assert_str_eq(errs.e[0].field, "answers[1].question_id");
    cr_assert_str_eq(errs.e[1].field, "answers[2].question_id");
    cr_assert_null(results);
    json_decref(ans);
    json_decref(q);
}

Test(vetting, seed_population_is_deterministic_and_valid)
{
    seed_engineer a, b;
    seed_engineer_make(7, 42, &a);
    seed_engineer_make(7, 42, &b);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
    int levels[3] = {0, 0, 0};
    for (int i = 0; i < 200; i++) {
        seed_engineer e;
        seed_engineer_make(20261124u, i, &e);
        cr_assert(vetting_valid_level(e.level));
        levels[strcmp(e.level, "mid") == 0 ? 0 : strcmp(e.level, "senior") == 0 ? 1 : 2]++;
        cr_assert(e.quiz_score >= VETTING_PASS_MARK && e.quiz_score <= VETTING_QUESTIONS);
        cr_assert(e.nskills >= 4 && e.nskills <= SEED_MAX_SKILLS);
        for (int k = 0; k < e.nskills; k++) cr_assert_geq(skills_find(e.skills[k].id), 0, "%s", e.skills[k].id);
    }
    cr_assert(levels[0] > 0 && levels[1] > 0 && levels[2] > 0, "all three levels appear");
}
