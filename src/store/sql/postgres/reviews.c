/* reviews statements, PostgreSQL dialect (see sql.h). */
#include <stddef.h>
#include "../../sql.h"
#include "dialect.h"

const sql_stmt sql_postgres_reviews[] = {
    {ST_REVIEWS_CONTRACT, "SELECT CASE WHEN status = 'ended' THEN coalesce(ended_at, 0) ELSE 0 END,"
                        " client_id, engineer_id, status FROM contracts WHERE id = $1"},
    {ST_REVIEWS_READ, "SELECT r.author_id, u.name, u.role, r.subject_id, r.rating, r.comment, r.created_at,"
                      " coalesce(r.published_at, 0) FROM reviews r JOIN users u ON u.id = r.author_id"
                      " WHERE r.contract_id = $1 ORDER BY r.created_at, r.author_id"},
    {ST_REVIEWS_PUBLISH, "UPDATE reviews SET published_at = $1 WHERE contract_id = $2 AND published_at IS NULL"},
    {ST_REVIEWS_PUBLISH_EV, "SELECT json_build_object('contract_id', $1::text)"},
    {ST_REVIEW_CREATE, "INSERT INTO reviews(contract_id, author_id, subject_id, rating, comment, created_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6)"},
    {0, NULL},
};
