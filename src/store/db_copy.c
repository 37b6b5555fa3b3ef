/* db_copy: every row of a SQLite database into an empty PostgreSQL one
 * (opx copy; see store.h store_copy), for an operator moving from one node
 * to many.
 *
 * Both schemas come from the same migrations, so the tables and columns
 * match by name, but for one thing: where PostgreSQL has an identity
 * column `seq` (the order of rows), SQLite's tables use their rowid, which
 * is what fills it. The target is migrated first and must hold no rows;
 * the source must be at the same schema version. Tables go parents first
 * (the target's foreign keys give the order), each with COPY FROM STDIN in
 * text format, all in one transaction on one snapshot of the source; the
 * identity sequences are then moved past the rows copied, and the row
 * counts of both sides are compared before COMMIT. */
#include "../core/buf.h"
#include "db_postgres.h"
#include "store.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TABLES 64

typedef struct {
    char name[64];
    int done;
} table;

typedef struct {
    PGconn *pg;
    sqlite3 *lite;
    char *err;
    size_t errlen;
    buf *report;
} copier;

static int fail_pg(copier *k, const char *what)
{
    snprintf(k->err, k->errlen, "%s: %s", what, PQerrorMessage(k->pg));
    size_t n = strlen(k->err);
    while (n && (k->err[n - 1] == '\n' || k->err[n - 1] == ' '))
        k->err[--n] = '\0';
    return -1;
}

static PGresult *query(copier *k, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(k->pg, sql);
    if (PQresultStatus(r) != want) {
        fail_pg(k, sql);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int sqlite_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                                &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW;
    if (ok) *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* the target's tables, parents before the tables that point at them */
static int table_order(copier *k, table *t, int *n)
{
    PGresult *r = query(k,
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'schema_migrations' ORDER BY tablename",
                        PGRES_TUPLES_OK);
    if (!r) return -1;
    *n = PQntuples(r);
    if (*n > MAX_TABLES) {
        PQclear(r);
        snprintf(k->err, k->errlen, "more tables than opx copy knows how to order");
        return -1;
    }
    for (int i = 0; i < *n; i++) {
        snprintf(t[i].name, sizeof t[i].name, "%s", PQgetvalue(r, i, 0));
        t[i].done = 0;
    }
    PQclear(r);
    PGresult *fk = query(
        k,
        "SELECT c.relname, p.relname FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid"
        " JOIN pg_class p ON p.oid = f.confrelid WHERE f.contype = 'f'",
        PGRES_TUPLES_OK);
    if (!fk) return -1;
    /* repeatedly: a table whose parents are all placed comes next */
    table order[MAX_TABLES];
    int placed = 0;
    while (placed < *n) {
        int progress = 0;
        for (int i = 0; i < *n; i++) {
            if (t[i].done) continue;
            int ready = 1;
            for (int e = 0; e < PQntuples(fk) && ready; e++) {
                if (strcmp(PQgetvalue(fk, e, 0), t[i].name) != 0) continue;
                const char *parent = PQgetvalue(fk, e, 1);
                if (strcmp(parent, t[i].name) == 0) continue;
                for (int j = 0; j < *n; j++)
                    if (strcmp(t[j].name, parent) == 0 && !t[j].done) ready = 0;
            }
            if (ready) {
                t[i].done = 1;
                order[placed++] = t[i];
                progress = 1;
            }
        }
        if (!progress) {
            PQclear(fk);
            snprintf(k->err, k->errlen, "the foreign keys of the target form a cycle");
            return -1;
        }
    }
    PQclear(fk);
    memcpy(t, order, sizeof order[0] * (size_t)*n);
    return 0;
}

/* one value in COPY's text format */
static void put_value(buf *b, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        buf_puts(b, "\\N");
        break;
    case SQLITE_INTEGER:
        buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        buf_printf(b, "%.17g", sqlite3_column_double(st, i));
        break;
    default: {
        const unsigned char *s = sqlite3_column_text(st, i);
        for (; s && *s; s++) {
            if (*s == '\\')
                buf_puts(b, "\\\\");
            else if (*s == '\t')
                buf_puts(b, "\\t");
            else if (*s == '\n')
                buf_puts(b, "\\n");
            else if (*s == '\r')
                buf_puts(b, "\\r");
            else
                buf_append(b, s, 1);
        }
    }
    }
}

/* the rows of table t; *rows copied */
static int copy_table(copier *k, const char *t, long long *rows)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT column_name, is_identity FROM information_schema.columns"
             " WHERE table_schema = 'public' AND table_name = '%s' ORDER BY ordinal_position",
             t);
    PGresult *cols = query(k, sql, PGRES_TUPLES_OK);
    if (!cols) return -1;
    buf select, copy;
    buf_init(&select, 65536);
    buf_init(&copy, 65536);
    buf_puts(&select, "SELECT ");
    buf_printf(&copy, "COPY %s (", t);
    int ncols = PQntuples(cols), rc = -1;
    for (int i = 0; i < ncols; i++) {
        const char *c = PQgetvalue(cols, i, 0);
        /* PostgreSQL's identity seq is SQLite's rowid */
        int rowid = strcmp(c, "seq") == 0 && strcmp(PQgetvalue(cols, i, 1), "YES") == 0;
        buf_printf(&select, "%s%s", i ? ", " : "", rowid ? "rowid" : c);
        buf_printf(&copy, "%s%s", i ? ", " : "", c);
    }
    buf_printf(&select, " FROM %s", t);
    buf_puts(&copy, ") FROM STDIN");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(k->lite, select.data, -1, &st, NULL) != SQLITE_OK) {
        snprintf(k->err, k->errlen, "reading %s from SQLite: %s", t, sqlite3_errmsg(k->lite));
        goto out;
    }
    PGresult *r = PQexec(k->pg, copy.data);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        PQclear(r);
        fail_pg(k, copy.data);
        goto out;
    }
    PQclear(r);
    buf line;
    buf_init(&line, 16 << 20);
    int s;
    *rows = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        buf_reset(&line);
        for (int i = 0; i < ncols; i++) {
            if (i) buf_append(&line, "\t", 1);
            put_value(&line, st, i);
        }
        buf_append(&line, "\n", 1);
        if (PQputCopyData(k->pg, line.data, (int)line.len) != 1) {
            buf_free(&line);
            fail_pg(k, "COPY");
            goto out;
        }
        (*rows)++;
    }
    buf_free(&line);
    if (s != SQLITE_DONE) {
        PQputCopyEnd(k->pg, "the source could not be read");
        snprintf(k->err, k->errlen, "reading %s from SQLite: %s", t, sqlite3_errmsg(k->lite));
        goto out;
    }
    if (PQputCopyEnd(k->pg, NULL) != 1) {
        fail_pg(k, "COPY");
        goto out;
    }
    r = PQgetResult(k->pg);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(k->pg)) != NULL)
        PQclear(r);
    if (!ok) {
        fail_pg(k, t);
        goto out;
    }
    /* the next rows made there are numbered past the ones copied */
    for (int i = 0; i < ncols; i++) {
        if (strcmp(PQgetvalue(cols, i, 1), "YES") != 0) continue;
        const char *c = PQgetvalue(cols, i, 0);
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, "
                 "false) FROM %s",
                 t, c, c, t);
        PGresult *sv = query(k, sql, PGRES_TUPLES_OK);
        if (!sv) goto out;
        PQclear(sv);
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t);
    PGresult *cnt = query(k, sql, PGRES_TUPLES_OK);
    if (!cnt) goto out;
    char *end = NULL;
    long long there = strtoll(PQgetvalue(cnt, 0, 0), &end, 10);
    if (!end || *end) there = -1; /* not a count: never equal */
    PQclear(cnt);
    if (there != *rows) {
        snprintf(k->err, k->errlen, "%s: %lld rows read, %lld in the target", t, *rows, there);
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    PQclear(cols);
    buf_free(&select);
    buf_free(&copy);
    return rc;
}

int store_copy(const char *from, const char *to, buf *report, char *err, size_t errlen)
{
    if (db_is_postgres(from) || !db_is_postgres(to)) {
        snprintf(
            err, errlen,
            "opx copy moves a SQLite database into PostgreSQL: --from a file, --to postgres://...");
        return -1;
    }
    int applied = 0, target_version = 0, source_version = 0;
    if (store_migrate(to, &applied, &target_version, err, errlen) < 0) return -1;
    copier k = {.err = err, .errlen = errlen, .report = report};
    int rc = -1;
    if (sqlite3_open_v2(from, &k.lite, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", from, k.lite ? sqlite3_errmsg(k.lite) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(k.lite, 5000);
    if (sqlite_version(k.lite, &source_version) < 0) {
        snprintf(err, errlen, "%s: not an opx database (%s)", from, sqlite3_errmsg(k.lite));
        goto out;
    }
    if (source_version != target_version) {
        snprintf(err, errlen,
                 "%s is at schema version %d, this opx at %d: run opx migrate --db %s first", from,
                 source_version, target_version, from);
        goto out;
    }
    if (!(k.pg = pg_connect(to, err, errlen))) goto out;
    table t[MAX_TABLES];
    int n = 0;
    if (table_order(&k, t, &n) < 0) goto out;
    /* nothing there yet: a copy never mixes two marketplaces */
    for (int i = 0; i < n; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s)", t[i].name);
        PGresult *r = query(&k, sql, PGRES_TUPLES_OK);
        if (!r) goto out;
        int used = PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (used) {
            snprintf(err, errlen, "the target is not empty (%s has rows): copy into a new database",
                     t[i].name);
            goto out;
        }
    }
    if (sqlite3_exec(k.lite, "BEGIN", NULL, NULL, NULL) !=
        SQLITE_OK) { /* one snapshot of the source */
        snprintf(err, errlen, "%s: %s", from, sqlite3_errmsg(k.lite));
        goto out;
    }
    PGresult *r = query(&k, "BEGIN", PGRES_COMMAND_OK);
    if (!r) goto out;
    PQclear(r);
    long long total = 0;
    for (int i = 0; i < n; i++) {
        long long rows = 0;
        if (copy_table(&k, t[i].name, &rows) < 0) goto out;
        buf_printf(report, "%-24s %10lld rows\n", t[i].name, rows);
        total += rows;
    }
    if (!(r = query(&k, "COMMIT", PGRES_COMMAND_OK))) goto out;
    PQclear(r);
    buf_printf(report, "%d tables, %lld rows, schema version %d\n", n, total, target_version);
    rc = 0;
out:
    if (k.pg) PQfinish(k.pg); /* an open transaction rolls back with it */
    sqlite3_close(k.lite);
    return rc;
}
