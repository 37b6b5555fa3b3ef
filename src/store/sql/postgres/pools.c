/* pools statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define POOL                                                                                        \
    "pool AS (SELECT p.*, s.vetted_level AS fw_level FROM engineer_profiles p"                     \
    " JOIN engineer_skills s ON s.user_id = p.user_id AND s.skill_id = $1 AND s.vetted_level IS NOT NULL" \
    " WHERE p.status = 'vetted')"

const sql_stmt sql_postgres_pools[] = {
    {ST_POOL_COUNTS, "SELECT coalesce(json_agg(json_build_object('id', f.value, 'vetted_count',"
                " (SELECT count(*) FROM engineer_profiles p JOIN engineer_skills s ON s.user_id = p.user_id"
                "  AND s.skill_id = f.value AND s.vetted_level IS NOT NULL WHERE p.status = 'vetted')) ORDER BY f.ord),"
                " '[]'::json) FROM json_array_elements_text($1::json) WITH ORDINALITY f(value, ord)"},
    {ST_POOL_FRAMEWORK, "WITH " POOL ","
              " cur AS (SELECT rate_currency AS c FROM pool GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),"
              " r AS (SELECT rate_amount AS a, row_number() OVER (ORDER BY rate_amount) AS rn, count(*) OVER () AS n"
              "       FROM pool WHERE rate_currency = (SELECT c FROM cur)),"
              " top AS (SELECT * FROM pool ORDER BY fw_level DESC, years_experience DESC, user_id LIMIT 6)"
              " SELECT json_build_object('id', $1::text, 'vetted_count', (SELECT count(*) FROM pool),"
              "  'levels', json_build_object('mid', (SELECT count(*) FROM pool WHERE level = 'mid'),"
              "                        'senior', (SELECT count(*) FROM pool WHERE level = 'senior'),"
              "                        'staff', (SELECT count(*) FROM pool WHERE level = 'staff')),"
              "  'rate', (SELECT json_build_object('min', min(a), 'median', (SELECT a FROM r WHERE rn = (n + 1) / 2),"
              "                'max', max(a), 'currency', (SELECT c FROM cur)) FROM r HAVING count(*) > 0),"
              "  'profiles', (SELECT coalesce(json_agg(json_build_object('level', t.level,"
              "     'years_experience', t.years_experience, 'timezone', t.timezone, 'headline', t.headline,"
              "     'skills', (SELECT coalesce(json_agg(json_build_object('id', sk.skill_id, 'level', sk.vetted_level)"
              "       ORDER BY sk.vetted_level DESC, sk.skill_id), '[]'::json)"
              "       FROM (SELECT skill_id, vetted_level FROM engineer_skills WHERE user_id = t.user_id"
              "             AND vetted_level IS NOT NULL ORDER BY vetted_level DESC, skill_id LIMIT 6) sk))"
              "     ORDER BY t.fw_level DESC, t.years_experience DESC, t.user_id), '[]'::json) FROM top t))"},
    {0, NULL},
};
