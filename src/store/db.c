/* db: what every driver shares: choosing the driver from the --db string,
 * jobs, column copying (see db.h). */
#include "db.h"
#include "../core/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int db_is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

static int pool_size = 4;

void db_set_pool_size(int n)
{
    if (n > 0) pool_size = n;
}

int db_migrate(const char *url, int *applied, int *current, char *err, size_t errlen)
{
    if (db_is_postgres(url)) return db_postgres_migrate(url, applied, current, err, errlen);
    return db_sqlite_migrate(url, applied, current, err, errlen);
}

database *db_open(uv_loop_t *loop, const char *url, int migrate, char *err, size_t errlen)
{
    if (migrate) {
        int applied = 0, current = 0;
        if (db_migrate(url, &applied, &current, err, errlen) < 0) return NULL;
        if (applied)
            log_msgf(LOG_INFO, "applied %d migration(s); schema at version %d", applied, current);
    }
    if (db_is_postgres(url)) return db_postgres_open(loop, url, pool_size, err, errlen);
    return db_sqlite_open(loop, url, 2, err, errlen);
}

db_job *db_job_new(db_run_fn run, uint64_t deadline_ns, store_done_cb cb, void *ctx)
{
    db_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->run = run;
    j->deadline_ns = deadline_ns;
    j->cb = cb;
    j->ctx = ctx;
    return j;
}

void db_copy_col(char *dst, size_t cap, db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);
    snprintf(dst, cap, "%s", t ? t : "");
}

void db_notice(db_conn *c, const char *topic, const char *arg)
{
    if (!c->drv->notice) return;
    char text[DB_NOTICE_MAX];
    int n = snprintf(text, sizeof text, "%s:%s", topic, arg ? arg : "");
    if (n < 0 || (size_t)n >= sizeof text) return;
    /* ids and hashes only: the text is quoted as it is where it is sent */
    for (const char *p = text; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == ':' || *p == '-'))
            return;
    c->drv->notice(c, text);
}
