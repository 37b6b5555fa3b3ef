/* contracts: state tables and offer validation (see contracts.h). */
#include "contracts.h"
#include <stdio.h>
#include <string.h>
#include "ledger.h"
#include "requests.h"

typedef struct {
    const char *from, *to;
} move;

static int allowed(const move *t, size_t n, const char *from, const char *to)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].from, from) == 0 && strcmp(t[i].to, to) == 0) return 1;
    return 0;
}

static const move contract_moves[] = {
    {"offered", "active"}, {"offered", "declined"}, {"offered", "withdrawn"}, {"active", "ended"},
};

static const move milestone_moves[] = {
    {"pending", "funded"},    {"funded", "submitted"},   {"submitted", "released"},
    {"submitted", "funded"},  {"funded", "disputed"},    {"submitted", "disputed"},
    {"disputed", "resolved"}, {"pending", "refunded"},   {"funded", "refunded"},
};

static const move timesheet_moves[] = {
    {"submitted", "approved"}, {"submitted", "disputed"},
};

int contracts_can_move(const char *from, const char *to)
{
    return allowed(contract_moves, sizeof contract_moves / sizeof *contract_moves, from, to);
}

int milestones_can_move(const char *from, const char *to)
{
    return allowed(milestone_moves, sizeof milestone_moves / sizeof *milestone_moves, from, to);
}

int timesheets_can_move(const char *from, const char *to)
{
    return allowed(timesheet_moves, sizeof timesheet_moves / sizeof *timesheet_moves, from, to);
}

int milestone_holds_escrow(const char *status)
{
    return strcmp(status, "funded") == 0 || strcmp(status, "submitted") == 0 ||
           strcmp(status, "disputed") == 0;
}

static const char *const types[] = {"fixed", "hourly", NULL};

static const jv_field milestone_fields[] = {
    {"title", JV_STRING, 1, 1, 200, NULL, NULL},
    {"amount", JV_INT, 1, 100, LEDGER_MAX_AMOUNT / 1000, NULL, NULL},
    {"due", JV_STRING, 1, 10, 10, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

const jv_field contract_offer_fields[] = {
    {"candidate_id", JV_STRING, 1, 1, 31, NULL, NULL},
    {"type", JV_STRING, 1, 0, 0, types, NULL},
    {"currency", JV_STRING, 1, 0, 0, ledger_currencies, NULL},
    {"milestones", JV_ARRAY_OF_OBJECT, 0, 1, CONTRACT_MAX_MILESTONES, NULL, milestone_fields},
    {"hourly_rate", JV_INT, 0, 500, 100000, NULL, NULL},
    {"weekly_cap_hours", JV_INT, 0, 1, 60, NULL, NULL},
    {"start_date", JV_STRING, 0, 10, 10, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* a member that is there and not null (the field table lets null stand for absent) */
static json_t *given(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return v && !json_is_null(v) ? v : NULL;
}

void contracts_check_offer(json_t *body, int64_t today_s, jv_errors *errs)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    if (!type || jv_has_error(errs, "type")) return;
    int fixed = strcmp(type, "fixed") == 0;
    json_t *ms = given(body, "milestones");
    if (fixed) {
        if (!ms && !jv_has_error(errs, "milestones")) jv_add_error(errs, "milestones", "is required for a fixed-price contract");
        if (given(body, "hourly_rate")) jv_add_error(errs, "hourly_rate", "is only for hourly contracts");
        if (given(body, "weekly_cap_hours")) jv_add_error(errs, "weekly_cap_hours", "is only for hourly contracts");
        if (given(body, "start_date")) jv_add_error(errs, "start_date", "is only for hourly contracts");
        size_t i;
        json_t *m;
        json_array_foreach(ms, i, m) {
            char field[40];
            snprintf(field, sizeof field, "milestones[%zu].due", i);
            const char *due = json_string_value(json_object_get(m, "due"));
            if (!due || jv_has_error(errs, field)) continue;
            int64_t t = requests_parse_date(due);
            if (t < 0) jv_add_error(errs, field, "must be a date YYYY-MM-DD");
            else if (t < today_s) jv_add_error(errs, field, "must not be in the past");
        }
    } else {
        if (ms) jv_add_error(errs, "milestones", "are only for fixed-price contracts (hourly ones are funded per week)");
        if (!given(body, "hourly_rate") && !jv_has_error(errs, "hourly_rate"))
            jv_add_error(errs, "hourly_rate", "is required for an hourly contract");
        if (!given(body, "weekly_cap_hours") && !jv_has_error(errs, "weekly_cap_hours"))
            jv_add_error(errs, "weekly_cap_hours", "is required for an hourly contract");
        const char *start = json_string_value(json_object_get(body, "start_date"));
        if (start && !jv_has_error(errs, "start_date")) {
            int64_t t = requests_parse_date(start);
            if (t < 0) jv_add_error(errs, "start_date", "must be a date YYYY-MM-DD");
            else if (t < today_s) jv_add_error(errs, "start_date", "must not be in the past");
        }
    }
}
