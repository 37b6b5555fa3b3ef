/* db_postgres: the PostgreSQL driver of the db interface (see db.h), over
 * libpq. Not built yet: opening a postgres:// URL says so. */
#include "db.h"
#include <stdio.h>

database *db_postgres_open(uv_loop_t *loop, const char *url, char *err, size_t errlen)
{
    (void)loop;
    (void)url;
    snprintf(err, errlen, "the PostgreSQL driver is not built yet; use a SQLite path");
    return NULL;
}

int db_postgres_migrate(const char *url, int *applied, int *current, char *err, size_t errlen)
{
    (void)url;
    (void)applied;
    (void)current;
    snprintf(err, errlen, "the PostgreSQL driver is not built yet; use a SQLite path");
    return -1;
}
