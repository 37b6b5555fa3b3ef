/* db_postgres: the PostgreSQL driver of the db interface (see db.h), over
 * libpq: connecting and migrating. Opening a postgres:// URL for serving
 * is not built yet and says so. */
#include "../core/clock.h"
#include "db.h"
#include "migrations.h"
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* every opx session takes this advisory lock while it migrates, so nodes
 * started together apply each version once */
#define PG_MIGRATE_LOCK 0x6f70786d /* "opxm" */

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* A blocking connection to url (start-up and worker threads only), in
 * UTC, with notices (CREATE ... IF NOT EXISTS) silenced. NULL with err
 * filled on failure. */
static PGconn *pg_connect(const char *url, char *err, size_t errlen)
{
    /* defaults first: the URL's own settings override them */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {"10", "opx", url, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
                 pg ? PQerrorMessage(pg) : "out of memory");
        /* libpq's messages end with a newline */
        size_t n = strlen(err);
        if (n && err[n - 1] == '\n') err[n - 1] = 0;
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, quiet, NULL);
    PGresult *r = PQexec(pg, "SET TimeZone = 'UTC'");
    PQclear(r);
    return pg;
}

/* Runs sql (any number of statements); 0, or -1 with the server's message
 * in err. */
static int pg_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        size_t n = strlen(err);
        if (n && err[n - 1] == '\n') err[n - 1] = 0;
    }
    PQclear(r);
    return ok ? 0 : -1;
}

/* Applies pending migrations on a connection of its own (start-up only:
 * this blocks), each version in one transaction with its row in
 * schema_migrations. */
int db_postgres_migrate(const char *url, int *applied, int *current, char *err, size_t errlen)
{
    char msg[512] = "";
    *applied = 0;
    PGconn *pg = pg_connect(url, err, errlen);
    if (!pg) return -1;
    int rc = -1;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d)", PG_MIGRATE_LOCK);
    if (pg_exec(pg, sql, msg, sizeof msg) < 0 ||
        pg_exec(pg,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                msg, sizeof msg) < 0)
        goto out;
    PGresult *r = PQexec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        goto out;
    }
    char *end;
    long stored = strtol(PQgetvalue(r, 0, 0), &end, 10);
    int readable = *end == '\0' && stored >= 0 && stored <= INT32_MAX;
    int have = (int)stored;
    PQclear(r);
    if (!readable) {
        snprintf(msg, sizeof msg, "schema_migrations holds a version that is not a number");
        goto out;
    }
    int latest = postgres_migrations[postgres_migrations_count - 1].version;
    if (have > latest) {
        snprintf(err, errlen, "database schema version %d is newer than this binary knows (%d)",
                 have, latest);
        PQfinish(pg); /* the advisory lock goes with the session */
        return -1;
    }
    for (int i = 0; i < postgres_migrations_count; i++) {
        const migration *m = &postgres_migrations[i];
        if (m->version <= have) continue;
        if (pg_exec(pg, "BEGIN", msg, sizeof msg) < 0) goto out;
        char version[16], at[24];
        snprintf(version, sizeof version, "%d", m->version);
        snprintf(at, sizeof at, "%lld", (long long)clock_now_s());
        const char *params[] = {version, m->name, at};
        if (pg_exec(pg, m->sql, msg, sizeof msg) < 0) {
            char why[512];
            snprintf(why, sizeof why, "version %d: %s", m->version, msg);
            snprintf(msg, sizeof msg, "%s", why);
            pg_exec(pg, "ROLLBACK", why, sizeof why);
            goto out;
        }
        r = PQexecParams(pg,
                         "INSERT INTO schema_migrations(version, name, applied_at)"
                         " VALUES ($1, $2, $3)",
                         3, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok || pg_exec(pg, "COMMIT", msg, sizeof msg) < 0) {
            char ignore[256];
            pg_exec(pg, "ROLLBACK", ignore, sizeof ignore);
            goto out;
        }
        (*applied)++;
        have = m->version;
    }
    *current = have;
    rc = 0;
out:
    if (rc < 0) snprintf(err, errlen, "migration failed: %s", msg);
    PQfinish(pg);
    return rc;
}

database *db_postgres_open(uv_loop_t *loop, const char *url, char *err, size_t errlen)
{
    (void)loop;
    (void)url;
    snprintf(err, errlen, "the PostgreSQL driver cannot serve yet (only `opx migrate` works)");
    return NULL;
}
