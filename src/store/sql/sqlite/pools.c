/* pools statements, SQLite dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

#define POOL                                                                                        \
    "pool AS (SELECT p.*, s.vetted_level AS fw_level FROM engineer_profiles p"                     \
    " JOIN engineer_skills s ON s.user_id = p.user_id AND s.skill_id = ?1 AND s.vetted_level IS NOT NULL" \
    " WHERE p.status = 'vetted')"

const sql_stmt sql_sqlite_pools[] = {
    {ST_POOL_COUNTS, "SELECT json_group_array(json_object('id', f.value, 'vetted_count',"
                " (SELECT count(*) FROM engineer_profiles p JOIN engineer_skills s ON s.user_id = p.user_id"
                "  AND s.skill_id = f.value AND s.vetted_level IS NOT NULL WHERE p.status = 'vetted')))"
                " FROM json_each(?1) f"},
    {ST_POOL_FRAMEWORK, "WITH " POOL ","
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
              "     FROM top t ORDER BY t.fw_level DESC, t.years_experience DESC, t.user_id))))"},
    {0, NULL},
};
