/* vetting: the lifecycle table (see vetting.h). */
#include "vetting.h"
#include <string.h>

static const struct {
    const char *from, *to;
} moves[] = {
    {"registered", "profile_complete"},       /* first complete profile */
    {"profile_complete", "assessment_passed"}, /* quiz at or above the pass mark */
    {"assessment_passed", "interviewed"},      /* scorecard recorded */
    {"interviewed", "vetted"},                 /* decision */
    {"interviewed", "rejected"},               /* decision */
    {"rejected", "profile_complete"},          /* re-applies after reapply_after */
};

static const char *const states[] = {"registered",  "profile_complete", "assessment_passed",
                                     "interviewed", "vetted",           "rejected"};

int vetting_can_move(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (strcmp(moves[i].from, from) == 0 && strcmp(moves[i].to, to) == 0) return 1;
    return 0;
}

int vetting_valid_state(const char *s)
{
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(states[i], s) == 0) return 1;
    return 0;
}

int vetting_valid_level(const char *s)
{
    return strcmp(s, "mid") == 0 || strcmp(s, "senior") == 0 || strcmp(s, "staff") == 0;
}

int vetting_may_take_challenge(const char *state)
{
    return state && strcmp(state, "assessment_passed") == 0;
}
