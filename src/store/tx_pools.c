/* tx_pools: the public figures of the vetted pool per framework (the
 * landing page's counts, the /hire pages): how many are vetted, at which
 * levels, their hourly rates, and a few anonymised profiles. Each answer is
 * one statement that builds its JSON, read on a reader connection. */
#include "tx_internal.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* a vetted engineer whose vetted skills include framework ?1 */

static int run_counts(db_conn *c, db_job *j)
{
    int rc;
    *(char **)j->out = tx_json_row(c, ST_POOL_COUNTS, &rc, 1, j->s1);
    return rc;
}

int tx_framework_counts(store *s, const char *ids_json, char **out, uint64_t d, store_done_cb cb,
                        void *ctx)
{
    return store_submit(s, run_counts, 0, d, cb, ctx, NULL, out, ids_json, NULL, 0);
}

static int run_pool(db_conn *c, db_job *j)
{
    /* rates in the pool's most common currency; the median is the lower
     * middle one; profiles: the highest vetted at the framework first */
    int rc;
    *(char **)j->out = tx_json_row(c, ST_POOL_FRAMEWORK, &rc, 1, j->s1);
    return rc;
}

int tx_framework_pool(store *s, const char *skill_id, char **out, uint64_t d, store_done_cb cb,
                      void *ctx)
{
    return store_submit(s, run_pool, 0, d, cb, ctx, NULL, out, skill_id, NULL, 0);
}
