/* db_backup: a consistent copy of a database while it serves, and putting
 * one back (opx backup, opx restore; see store.h store_backup).
 *
 * SQLite: the online backup API copies the pages a batch at a time from a
 * read-only connection, pausing between batches, so the serving process
 * keeps writing; a write meanwhile makes SQLite start the copy again from
 * a fresh snapshot, so what lands is one committed state. The copy is
 * written beside the target and renamed into place once complete and
 * checked (PRAGMA integrity_check). Restore copies the same way into the
 * database file.
 *
 * PostgreSQL: pg_dump (Debian's postgresql-client) in its custom format,
 * which reads one snapshot and may run while nodes serve; pg_restore
 * puts it back in one transaction. The password, when the URL has one,
 * goes to them in PGPASSWORD, never on a command line that ps shows. */
#include "db_postgres.h"
#include "store.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PAGES_PER_STEP 256
#define PAUSE_MS 5

/* ---- SQLite ------------------------------------------------------------------------------------
 */

/* copies every page of from into to, a batch at a time */
static int sqlite_copy(sqlite3 *to, sqlite3 *from, char *err, size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(to));
        return -1;
    }
    int rc;
    while ((rc = sqlite3_backup_step(b, PAGES_PER_STEP)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED)
        sqlite3_sleep(PAUSE_MS); /* the server's writers go meanwhile */
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "copying: %s", sqlite3_errstr(rc));
        return -1;
    }
    return 0;
}

static int sqlite_check(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (!ok)
        snprintf(err, errlen, "the copy fails its integrity check: %s",
                 st ? (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* how many opx tables path holds (0 for a new or empty file), or -1 */
static int sqlite_tables(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) < 0) return 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    else
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* from (a database, or a backup file) copied into a new file at to */
static int sqlite_copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.partial", to);
    unlink(tmp);
    sqlite3 *src = NULL, *dst = NULL;
    int rc = -1;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", from, src ? sqlite3_errmsg(src) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(src, 5000);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", tmp, dst ? sqlite3_errmsg(dst) : "out of memory");
        goto out;
    }
    if (sqlite_copy(dst, src, err, errlen) < 0 || sqlite_check(dst, err, errlen) < 0) goto out;
    /* one self-contained file: reading it makes no -wal beside it (a server
     * opening it turns WAL on again) */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", tmp, sqlite3_errmsg(dst));
        goto out;
    }
    sqlite3_close(dst);
    dst = NULL;
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        goto out;
    }
    close(fd);
    if (rename(tmp, to) < 0) {
        snprintf(err, errlen, "%s: %s", to, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    if (rc < 0) unlink(tmp);
    return rc;
}

/* ---- PostgreSQL --------------------------------------------------------------------------------
 */

/* url as a conninfo string without its password (*password: malloc'd, or
 * NULL); NULL with err on a URL libpq cannot read */
static char *conninfo_without_password(const char *url, char **password, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        snprintf(err, errlen, "the database URL: %s", perr ? perr : "out of memory");
        PQfreemem(perr);
        return NULL;
    }
    size_t cap = strlen(url) * 2 + 64, n = 0;
    char *out = malloc(cap);
    *password = NULL;
    for (PQconninfoOption *o = opts; out && o->keyword; o++) {
        if (!o->val || !o->val[0]) continue;
        if (strcmp(o->keyword, "password") == 0) {
            *password = strdup(o->val);
            continue;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s='", n ? " " : "", o->keyword);
        for (const char *p = o->val; *p && n + 3 < cap; p++) {
            if (*p == '\'' || *p == '\\') out[n++] = '\\';
            out[n++] = *p;
        }
        n += (size_t)snprintf(out + n, cap - n, "'");
    }
    PQconninfoFree(opts);
    if (!out) snprintf(err, errlen, "out of memory");
    return out;
}

/* runs argv[0] (found on PATH) with PGPASSWORD set when password is; its
 * exit status, or -1 with err when it could not start */
static int run_tool(char *const argv[], const char *password, char *err, size_t errlen)
{
    char **env = NULL;
    size_t n = 0;
    while (environ[n])
        n++;
    env = calloc(n + 2, sizeof *env);
    if (!env) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "PGPASSWORD=", 11) != 0) env[k++] = environ[i];
    char *pw = NULL;
    if (password && asprintf(&pw, "PGPASSWORD=%s", password) > 0) env[k++] = pw;
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, env);
    free(pw);
    free(env);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s%s", argv[0], strerror(rc),
                 rc == ENOENT ? " (install Debian's postgresql-client)" : "");
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status)) {
        snprintf(err, errlen, "%s was killed", argv[0]);
        return -1;
    }
    if (WEXITSTATUS(status) != 0)
        snprintf(err, errlen, "%s failed (exit %d; its message is above)", argv[0],
                 WEXITSTATUS(status));
    return WEXITSTATUS(status);
}

/* how many tables the database's public schema holds, or -1 */
static int pg_tables(const char *url, char *err, size_t errlen)
{
    PGconn *pg = pg_connect(url, err, errlen);
    if (!pg) return -1;
    PGresult *r = PQexec(pg, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
    int n = -1;
    char *end = NULL;
    long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), &end, 10) : -1;
    if (end && !*end && v >= 0 && v <= INT_MAX)
        n = (int)v;
    else
        snprintf(err, errlen, "%s", PQerrorMessage(pg));
    PQclear(r);
    PQfinish(pg);
    return n;
}

static int pg_backup(const char *url, const char *file, char *err, size_t errlen)
{
    char *password = NULL;
    char *conninfo = conninfo_without_password(url, &password, err, errlen);
    if (!conninfo) return -1;
    char tmp[4096], dbname[8192];
    snprintf(tmp, sizeof tmp, "%s.partial", file);
    snprintf(dbname, sizeof dbname, "--dbname=%s", conninfo);
    char out[4200];
    snprintf(out, sizeof out, "--file=%s", tmp);
    char *argv[] = {"pg_dump", "--format=custom", "--no-owner", "--no-privileges", out, dbname,
                    NULL};
    int rc = run_tool(argv, password, err, errlen);
    free(conninfo);
    free(password);
    if (rc == 0 && rename(tmp, file) < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        rc = -1;
    }
    if (rc != 0) unlink(tmp);
    return rc == 0 ? 0 : -1;
}

static int pg_restore(const char *url, const char *file, char *err, size_t errlen)
{
    char *password = NULL;
    char *conninfo = conninfo_without_password(url, &password, err, errlen);
    if (!conninfo) return -1;
    char dbname[8192];
    snprintf(dbname, sizeof dbname, "--dbname=%s", conninfo);
    char *argv[] = {
        "pg_restore",           "--clean",         "--if-exists", "--no-owner", "--no-privileges",
        "--single-transaction", "--exit-on-error", dbname,        (char *)file, NULL};
    int rc = run_tool(argv, password, err, errlen);
    free(conninfo);
    free(password);
    return rc == 0 ? 0 : -1;
}

/* ---- both
 * ---------------------------------------------------------------------------------------- */

int store_backup(const char *url, const char *file, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(file, &sb) == 0) {
        snprintf(err, errlen, "%s exists; a backup never overwrites one", file);
        return -1;
    }
    if (db_is_postgres(url)) return pg_backup(url, file, err, errlen);
    if (stat(url, &sb) < 0) {
        snprintf(err, errlen, "%s: %s", url, strerror(errno));
        return -1;
    }
    return sqlite_copy_file(url, file, err, errlen);
}

int store_restore(const char *url, const char *file, int force, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(file, &sb) < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }
    int pg = db_is_postgres(url);
    int tables = pg ? pg_tables(url, err, errlen) : sqlite_tables(url, err, errlen);
    if (tables < 0) return -1;
    if (tables > 0 && !force) {
        snprintf(
            err, errlen,
            "%s is not empty (%d tables); stop every server on it and add --force to replace it",
            url, tables);
        return -1;
    }
    if (pg) return pg_restore(url, file, err, errlen);
    /* the old file's journal would be replayed over the copy */
    char side[4200];
    for (int i = 0; i < 2; i++) {
        snprintf(side, sizeof side, "%s%s", url, i ? "-wal" : "-shm");
        unlink(side);
    }
    return sqlite_copy_file(file, url, err, errlen);
}
