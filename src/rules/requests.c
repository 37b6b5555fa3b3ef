/* requests: request validation, spec and states (see requests.h). */
#include "ledger.h"
#include "requests.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "skills.h"
#include "tz.h"

static const char *const seniorities[] = {"mid", "senior", "staff", NULL};
static const char *const engagements[] = {"fixed", "hourly", NULL};
static const jv_field budget_fields[] = {
    {"amount", JV_INT, 1, 1, 100000000, NULL, NULL},
    {"currency", JV_STRING, 1, 0, 0, ledger_currencies, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

const jv_field request_spec_fields[] = {
    {"title", JV_STRING, 1, 1, 120, NULL, NULL},
    {"description", JV_STRING, 1, 1, 10000, NULL, NULL},
    {"frameworks", JV_ARRAY_OF_STRING, 0, 0, 5, NULL, NULL},
    {"must_have", JV_ARRAY_OF_STRING, 1, 1, 10, NULL, NULL},
    {"nice_to_have", JV_ARRAY_OF_STRING, 0, 0, 10, NULL, NULL},
    {"seniority", JV_STRING, 1, 0, 0, seniorities, NULL},
    {"engagement", JV_STRING, 1, 0, 0, engagements, NULL},
    {"budget", JV_OBJECT, 1, 0, 0, NULL, budget_fields},
    {"hours_per_week", JV_INT, 1, 1, 60, NULL, NULL},
    {"timezone", JV_STRING, 1, 1, 64, NULL, NULL},
    {"min_overlap_hours", JV_INT, 1, 0, 12, NULL, NULL},
    {"start_date", JV_STRING, 1, 10, 10, NULL, NULL},
    {"estimated_weeks", JV_INT, 0, 1, 104, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

int64_t requests_parse_date(const char *s)
{
    int y, m, d;
    char tail;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return -1;
    if (s[4] != '-' || s[7] != '-' || y < 2000 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 0};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != d || back.tm_mon != m - 1) return -1; /* 2026-02-30 */
    return (int64_t)t;
}

/* each id a catalog skill (of group, when given), no duplicates, none in avoid */
static void check_skills(json_t *arr, const char *field, const char *group, json_t *avoid,
                         jv_errors *errs)
{
    if (!arr || jv_has_error(errs, field)) return;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        char path[48];
        snprintf(path, sizeof path, "%s[%zu]", field, i);
        const char *id = json_string_value(v);
        if (!id || jv_has_error(errs, path)) continue;
        int k = skills_find(id);
        if (k < 0) {
            jv_add_error(errs, path, "unknown skill: %.40s (see GET /api/v1/skills)", id);
            continue;
        }
        if (group && strcmp(skills_catalog[k].group, group) != 0) {
            jv_add_error(errs, path, "%s is not a framework", id);
            continue;
        }
        for (size_t p = 0; p < i; p++)
            if (json_equal(json_array_get(arr, p), v)) {
                jv_add_error(errs, path, "duplicate skill: %s", id);
                break;
            }
        size_t a;
        json_t *w;
        json_array_foreach(avoid, a, w) {
            if (json_equal(w, v)) {
                jv_add_error(errs, path, "%s is already a must-have", id);
                break;
            }
        }
    }
}

int requests_check(json_t *body, int64_t today_s, jv_errors *errs, char *spec, size_t speclen)
{
    check_skills(json_object_get(body, "frameworks"), "frameworks", "frameworks", NULL, errs);
    json_t *must = json_object_get(body, "must_have");
    check_skills(must, "must_have", NULL, NULL, errs);
    check_skills(json_object_get(body, "nice_to_have"), "nice_to_have", NULL, must, errs);
    const char *tz = json_string_value(json_object_get(body, "timezone"));
    if (tz && !jv_has_error(errs, "timezone") && !tz_valid(tz))
        jv_add_error(errs, "timezone", "is not an IANA time zone known to this server (e.g. Europe/Berlin)");
    const char *start = json_string_value(json_object_get(body, "start_date"));
    if (start && !jv_has_error(errs, "start_date")) {
        int64_t t = requests_parse_date(start);
        if (t < 0) jv_add_error(errs, "start_date", "must be a date as YYYY-MM-DD");
        else if (t < today_s - today_s % 86400) jv_add_error(errs, "start_date", "must not be in the past");
    }
    const char *eng = json_string_value(json_object_get(body, "engagement"));
    json_t *weeks = json_object_get(body, "estimated_weeks");
    if (eng && strcmp(eng, "fixed") == 0 && (!weeks || json_is_null(weeks)) &&
        !jv_has_error(errs, "estimated_weeks"))
        jv_add_error(errs, "estimated_weeks", "is required for a fixed-price engagement (it sets the hourly budget)");
    if (errs->n) return -1;
    json_t *o = json_object();
    static const char *const keys[] = {"frameworks", "must_have", "nice_to_have", "seniority",
                                       "engagement", "budget", "hours_per_week", "timezone",
                                       "min_overlap_hours", "start_date", "estimated_weeks"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v && !json_is_null(v)) json_object_set(o, keys[i], v);
    }
    if (!json_object_get(o, "frameworks")) json_object_set_new(o, "frameworks", json_array());
    if (!json_object_get(o, "nice_to_have")) json_object_set_new(o, "nice_to_have", json_array());
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s || strlen(s) >= speclen) {
        free(s);
        jv_add_error(errs, "", "the request is too large");
        return -1;
    }
    memcpy(spec, s, strlen(s) + 1);
    free(s);
    return 0;
}

static const struct {
    const char *from, *to;
} moves[] = {
    {"matching", "matched"},   {"breached", "matched"},  {"matched", "filled"},
    {"matching", "filled"},    {"breached", "filled"}, /* hired before three accepted */
    {"matching", "breached"},  {"matching", "cancelled"}, {"matched", "cancelled"},
    {"breached", "cancelled"},
};

int requests_can_move(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (strcmp(moves[i].from, from) == 0 && strcmp(moves[i].to, to) == 0) return 1;
    return 0;
}
