/* matching_json: a match's explain as the API shows it (the shortlist's
 * `explain` on each candidate): points with two decimals, skills by
 * catalog id, levels by name. The numbers come from match_query
 * (matching.c); nothing here scores. */
#include <jansson.h>
#include "matching.h"
#include "skills.h"

static json_t *points_json(int p)
{
    return json_real(p / 100.0);
}

static json_t *skills_matched_json(uint32_t set, const uint8_t *levels)
{
    json_t *a = json_array();
    for (int i = 0; a && i < MATCH_SKILLS; i++)
        if (set >> i & 1)
            json_array_append_new(a, json_pack("{s:s,s:i}", "skill", skills_catalog[i].id,
                                               "vetted_level", levels[i]));
    return a;
}

static json_t *skills_ids_json(uint32_t set)
{
    json_t *a = json_array();
    for (int i = 0; a && i < MATCH_SKILLS; i++)
        if (set >> i & 1) json_array_append_new(a, json_string(skills_catalog[i].id));
    return a;
}

static json_t *money_json(int64_t amount, const char *currency)
{
    return json_pack("{s:I,s:s}", "amount", (json_int_t)amount, "currency", currency);
}

json_t *match_explain_json(const match_result *res)
{
    const match_explain *x = &res->explain;
    json_t *missing = json_array();
    for (int i = 0; missing && i < MATCH_SKILLS; i++)
        if (x->must_have.missing >> i & 1)
            json_array_append_new(missing,
                                  json_pack("{s:s,s:i,s:i}", "skill", skills_catalog[i].id,
                                            "vetted_level", x->levels[i], "min_level",
                                            x->must_have.min_level[i]));
    json_t *budget = x->rate.budget > 0 ? money_json(x->rate.budget, x->rate.budget_currency)
                                        : json_null();
    json_t *rating = x->rating.rating ? json_real(x->rating.rating / 100.0) : json_null();
    /* json_pack "o" steals each reference, also on failure */
    return json_pack(
        "{s:{s:o,s:i,s:o,s:o}, s:{s:o,s:i,s:o,s:o,s:b}, s:{s:o,s:i,s:o,s:o},"
        " s:{s:o,s:i,s:s,s:s}, s:{s:o,s:i,s:o,s:o}, s:{s:o,s:i,s:f,s:i,s:b},"
        " s:{s:o,s:i,s:o}, s:{s:o,s:i,s:i}}",
        "must_have", "points", points_json(x->must_have.points), "max", MATCH_W_MUST, "matched",
        skills_matched_json(x->must_have.matched, x->levels), "missing", missing,
        "nice_to_have", "points", points_json(x->nice_to_have.points), "max", MATCH_W_NICE,
        "matched", skills_matched_json(x->nice_to_have.matched, x->levels), "missing",
        skills_ids_json(x->nice_to_have.missing), "dropped", x->nice_to_have.dropped,
        "frameworks", "points", points_json(x->frameworks.points), "max", MATCH_W_FRAMEWORKS,
        "matched", skills_matched_json(x->frameworks.matched, x->levels), "missing",
        skills_ids_json(x->frameworks.missing),
        "seniority", "points", points_json(x->seniority.points), "max", MATCH_W_SENIORITY,
        "wanted", match_level_name(x->seniority.wanted), "has", match_level_name(x->seniority.has),
        "rate", "points", points_json(x->rate.points), "max", MATCH_W_RATE, "rate",
        money_json(x->rate.rate, x->rate.currency), "budget", budget,
        "overlap", "points", points_json(x->overlap.points), "max", MATCH_W_OVERLAP, "hours",
        x->overlap.hours, "required_hours", x->overlap.required_hours, "ignored",
        x->overlap.ignored,
        "rating", "points", points_json(x->rating.points), "max", MATCH_W_RATING, "rating", rating,
        "responsiveness", "points", points_json(x->responsiveness.points), "max",
        MATCH_W_RESPONSIVENESS, "value", x->responsiveness.value);
}
