/* pgtest: fresh databases on the server OPX_TEST_PG names (see pgtest.h). */
#include "pgtest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *pgtest_server(void)
{
    const char *u = getenv("OPX_TEST_PG");
    return u && *u ? u : NULL;
}

void pgtest_url(const char *url, const char *name, char *out, size_t cap)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *slash = strchr(host, '/');
    const char *query = strchr(host, '?');
    if (slash && query && query < slash) slash = NULL;
    size_t keep = slash ? (size_t)(slash - url) : query ? (size_t)(query - url) : strlen(url);
    snprintf(out, cap, "%.*s/%s%s", (int)keep, url, name, query ? query : "");
}

PGconn *pgtest_connect(const char *url, char *err, size_t errlen)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        snprintf(err, errlen, "%s: %s", url, PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    PGresult *r = PQexec(pg, "SET client_min_messages = warning");
    PQclear(r);
    return pg;
}

static int run(PGconn *pg, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok && err) snprintf(err, errlen, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int pgtest_fresh(const char *tag, char *out, size_t cap, char *err, size_t errlen)
{
    const char *server = pgtest_server();
    if (!server) {
        snprintf(err, errlen, "OPX_TEST_PG is not set");
        return -1;
    }
    PGconn *pg = pgtest_connect(server, err, errlen);
    if (!pg) return -1;
    char name[64], sql[160];
    snprintf(name, sizeof name, "opx_t_%s_%d", tag, (int)getpid());
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    int rc = run(pg, sql, err, errlen);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    if (rc == 0) rc = run(pg, sql, err, errlen);
    PQfinish(pg);
    if (rc == 0) pgtest_url(server, name, out, cap);
    return rc;
}

void pgtest_drop(const char *url)
{
    const char *server = pgtest_server();
    const char *name = strrchr(url, '/');
    if (!server || !name) return;
    char err[256], sql[160];
    PGconn *pg = pgtest_connect(server, err, sizeof err);
    if (!pg) return;
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %.*s WITH (FORCE)",
             (int)strcspn(name + 1, "?"), name + 1);
    run(pg, sql, NULL, 0);
    PQfinish(pg);
}
