/* sql: the statement table of each dialect, assembled from the areas'
 * files under sql/ (see sql.h). */
#include "sql.h"
#include <pthread.h>
#include <stddef.h>

extern const sql_stmt sql_sqlite_accounts[], sql_postgres_accounts[];
extern const sql_stmt sql_sqlite_contract_views[], sql_postgres_contract_views[];
extern const sql_stmt sql_sqlite_contracts[], sql_postgres_contracts[];
extern const sql_stmt sql_sqlite_disputes[], sql_postgres_disputes[];
extern const sql_stmt sql_sqlite_events[], sql_postgres_events[];
extern const sql_stmt sql_sqlite_idem[], sql_postgres_idem[];
extern const sql_stmt sql_sqlite_interviews[], sql_postgres_interviews[];
extern const sql_stmt sql_sqlite_jobs[], sql_postgres_jobs[];
extern const sql_stmt sql_sqlite_ledger[], sql_postgres_ledger[];
extern const sql_stmt sql_sqlite_money_out[], sql_postgres_money_out[];
extern const sql_stmt sql_sqlite_notifications[], sql_postgres_notifications[];
extern const sql_stmt sql_sqlite_pools[], sql_postgres_pools[];
extern const sql_stmt sql_sqlite_requests[], sql_postgres_requests[];
extern const sql_stmt sql_sqlite_reviews[], sql_postgres_reviews[];
extern const sql_stmt sql_sqlite_talk[], sql_postgres_talk[];
extern const sql_stmt sql_sqlite_timesheets[], sql_postgres_timesheets[];
extern const sql_stmt sql_sqlite_users[], sql_postgres_users[];
extern const sql_stmt sql_sqlite_vetting[], sql_postgres_vetting[];
extern const sql_stmt sql_sqlite_challenges[], sql_postgres_challenges[];

const sql_stmt *const sql_tables[SQL_DIALECTS][32] = {
    {sql_sqlite_accounts, sql_sqlite_contract_views, sql_sqlite_contracts, sql_sqlite_disputes,
     sql_sqlite_events, sql_sqlite_idem, sql_sqlite_interviews, sql_sqlite_jobs, sql_sqlite_ledger,
     sql_sqlite_money_out, sql_sqlite_notifications, sql_sqlite_pools, sql_sqlite_requests,
     sql_sqlite_reviews, sql_sqlite_talk, sql_sqlite_timesheets, sql_sqlite_users,
     sql_sqlite_vetting, sql_sqlite_challenges, NULL},
    {sql_postgres_accounts, sql_postgres_contract_views, sql_postgres_contracts,
     sql_postgres_disputes, sql_postgres_events, sql_postgres_idem, sql_postgres_interviews,
     sql_postgres_jobs, sql_postgres_ledger, sql_postgres_money_out, sql_postgres_notifications,
     sql_postgres_pools, sql_postgres_requests, sql_postgres_reviews, sql_postgres_talk,
     sql_postgres_timesheets, sql_postgres_users, sql_postgres_vetting, sql_postgres_challenges, NULL},
};

static const char *names[ST__COUNT] = {
    [ST_NONE] = "ST_NONE",
#define STMT(id) [id] = #id,
#include "stmt_ids.def"
#undef STMT
};

static const char *texts[SQL_DIALECTS][ST__COUNT];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    for (int d = 0; d < SQL_DIALECTS; d++)
        for (int t = 0; sql_tables[d][t]; t++)
            for (const sql_stmt *s = sql_tables[d][t]; s->sql; s++)
                if (s->id > ST_NONE && s->id < ST__COUNT) texts[d][s->id] = s->sql;
}

const char *sql_text(int dialect, int id)
{
    if (dialect < 0 || dialect >= SQL_DIALECTS || id <= ST_NONE || id >= ST__COUNT) return NULL;
    pthread_once(&once, build);
    return texts[dialect][id];
}

const char *sql_name(int id)
{
    return id >= 0 && id < ST__COUNT ? names[id] : "?";
}

unsigned long long sql_params(int dialect, const char *text)
{
    unsigned long long set = 0;
    char mark = dialect == SQL_SQLITE ? '?' : '$';
    int quoted = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\'') quoted = !quoted;
        if (quoted || *p != mark) continue;
        int n = 0, digits = 0;
        while (p[1] >= '0' && p[1] <= '9' && digits < 4)
            n = n * 10 + (*++p - '0'), digits++;
        if (!digits || n < 1 || n > 63)
            set |= 1ull;
        else
            set |= 1ull << n;
    }
    return set;
}
