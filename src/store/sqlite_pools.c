/* sqlite_pools: the public figures of the vetted pool per framework (the
 * landing page's counts, the /hire pages): how many are vetted, at which
 * levels, their hourly rates, and a few anonymised profiles. Each answer is
 * one statement that builds its JSON, read on a reader connection. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_internal.h"

/* a vetted engineer whose vetted skills include framework ?1 */
#define POOL                                                                                        \
    "pool AS (SELECT p.*, s.vetted_level AS fw_level FROM engineer_profiles p"                     \
    " JOIN engineer_skills s ON s.user_id = p.user_id AND s.skill_id = ?1 AND s.vetted_level IS NOT NULL" \
    " WHERE p.status = 'vetted')"

static int run_counts(sq_conn *c, sq_job *j)
{
    static const char sql[] =
        "SELECT json_group_array(json_object('id', f.value, 'vetted_count',"
        " (SELECT count(*) FROM engineer_profiles p JOIN engineer_skills s ON s.user_id = p.user_id"
        "  AND s.skill_id = f.value AND s.vetted_level IS NOT NULL WHERE p.status = 'vetted')))"
        " FROM json_each(?1) f";
    int rc;
    *(char **)j->out = sqlite_json_row(c, sql, &rc, 1, j->s1);
    return rc;
}

int sqp_framework_counts(store *s, const char *ids_json, char **out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_counts, 0, d, cb, ctx, NULL, out, ids_json, NULL, 0);
}

static int run_pool(sq_conn *c, sq_job *j)
{
    /* rates in the pool's most common currency; the median is the lower
     * middle one; profiles: the highest vetted at the framework first */
    static const char sql[] =
        "WITH " POOL ","
        " cur AS (SELECT rate_currency AS c FROM pool GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),"
        " r AS (SELECT rate_amount AS a, row_number() OVER (ORDER BY rate_amount) AS rn, count(*) OVER () AS n"
        "       FROM pool WHERE rate_currency = (SELECT c FROM cur)),"
        " top AS (SELECT * FROM pool ORDER BY fw_level DESC, years_experience DESC, user_id LIMIT 6)"
        " SELECT json_object('id', ?1, 'vetted_count', (SELECT count(*) FROM pool),"
        "  'levels', json_object('mid', (SELECT count(*) FROM pool WHERE level = 'mid'),"
        "                        'senior', (SELECT count(*) FROM pool WHERE level = 'senior'),"
        "                        'staff', (SELECT count(*) FROM pool WHERE level = 'staff')),"
        "  'rate', json((SELECT json_object('min', min(a), 'median', (SELECT a FROM r WHERE rn = (n + 1) / 2),"
        "                'max', max(a), 'currency', (SELECT c FROM cur)) FROM r HAVING count(*) > 0)),"
        "  'profiles', json((SELECT json_group_array(json(pr)) FROM (SELECT json_object('level', t.level,"
        "     'years_experience', t.years_experience, 'timezone', t.timezone, 'headline', t.headline,"
        "     'skills', json((SELECT json_group_array(json_object('id', skill_id, 'level', vetted_level))"
        "       FROM (SELECT skill_id, vetted_level FROM engineer_skills WHERE user_id = t.user_id"
        "             AND vetted_level IS NOT NULL ORDER BY vetted_level DESC, skill_id LIMIT 6)))) AS pr"
        "     FROM top t ORDER BY t.fw_level DESC, t.years_experience DESC, t.user_id))))";
    int rc;
    *(char **)j->out = sqlite_json_row(c, sql, &rc, 1, j->s1);
    return rc;
}

int sqp_framework_pool(store *s, const char *skill_id, char **out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_pool, 0, d, cb, ctx, NULL, out, skill_id, NULL, 0);
}
