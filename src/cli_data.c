/* cli_data: the commands that move a database's data whole: opx backup,
 * opx restore and opx copy (the work is the store's: src/store/db_backup.c
 * and db_copy.c). */
#include "cli.h"
#include "core/buf.h"
#include "store/store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cli_usage_backup[] =
    "usage: opx backup [--db URL] FILE\n"
    "\n"
    "Writes a consistent copy of the database to FILE, which must not exist,\n"
    "while servers keep serving: SQLite's online backup (a page batch at a\n"
    "time; the copy is checked before it is renamed into place), or for\n"
    "PostgreSQL pg_dump's custom format (Debian's postgresql-client; one\n"
    "snapshot). Exits 0 when FILE is complete, 1 otherwise (no FILE then).\n";

const char cli_usage_restore[] =
    "usage: opx restore [--db URL] [--force] FILE\n"
    "\n"
    "Puts a backup made by opx backup into the database, which must be empty\n"
    "(a new file, or a new PostgreSQL database) unless --force, which replaces\n"
    "what is there: stop every server using it first. `opx serve` migrates a\n"
    "backup of an older version at start; `opx ledger verify` checks its money.\n";

const char cli_usage_copy[] =
    "usage: opx copy --from FILE --to postgres://...\n"
    "\n"
    "Copies every row of a SQLite database into an empty PostgreSQL database,\n"
    "for moving from one node to many: the target is migrated, must hold no\n"
    "rows, and gets everything in one transaction from one snapshot of the\n"
    "source (stop the server first, or what it writes meanwhile stays behind).\n"
    "The source must be at this opx's schema version (opx migrate). Prints the\n"
    "rows of each table; then run opx ledger verify on the target.\n";

/* [--db URL] [--force] FILE; 1 with *code set when the command ends here */
static int parse(int argc, char **argv, const char *usage, int allow_force, const char **db,
                 int *force, const char **file, int *code)
{
    const char *env = getenv("OPX_DB");
    *db = env && *env ? env : "var/opx.db";
    *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            *code = 0;
            return 1;
        }
        if (strcmp(a, "--db") == 0 && i + 1 < argc)
            *db = argv[++i];
        else if (strncmp(a, "--db=", 5) == 0)
            *db = a + 5;
        else if (allow_force && strcmp(a, "--force") == 0)
            *force = 1;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "opx: unknown option %s\n\n%s", a, usage);
            *code = 2;
            return 1;
        } else if (!*file)
            *file = a;
        else {
            fprintf(stderr, "opx: one FILE only\n\n%s", usage);
            *code = 2;
            return 1;
        }
    }
    if (!*file || !**file || !**db) {
        fprintf(stderr, "opx: %s is missing\n\n%s", !**db ? "--db" : "FILE", usage);
        *code = 2;
        return 1;
    }
    return 0;
}

int cli_backup(int argc, char **argv)
{
    const char *db, *file;
    int force = 0, code = 0;
    if (parse(argc, argv, cli_usage_backup, 0, &db, &force, &file, &code)) return code;
    char err[1024] = "";
    if (store_backup(db, file, err, sizeof err) < 0) {
        fprintf(stderr, "opx backup: %s\n", err);
        return 1;
    }
    printf("%s: backed up to %s\n", db, file);
    return 0;
}

int cli_restore(int argc, char **argv)
{
    const char *db, *file;
    int force = 0, code = 0;
    if (parse(argc, argv, cli_usage_restore, 1, &db, &force, &file, &code)) return code;
    char err[1024] = "";
    if (store_restore(db, file, force, err, sizeof err) < 0) {
        fprintf(stderr, "opx restore: %s\n", err);
        return 1;
    }
    printf("%s: restored from %s\n", db, file);
    return 0;
}

int cli_copy(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            fputs(cli_usage_copy, stdout);
            return 0;
        }
        if (strcmp(a, "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(a, "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else {
            fprintf(stderr, "opx: unknown option %s\n\n%s", a, cli_usage_copy);
            return 2;
        }
    }
    if (!from || !*from || !to || !*to) {
        fprintf(stderr, "opx: %s is missing\n\n%s", !from || !*from ? "--from" : "--to",
                cli_usage_copy);
        return 2;
    }
    char err[1024] = "";
    buf report;
    buf_init(&report, 1 << 20);
    int rc = store_copy(from, to, &report, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "opx copy: %s\n", err);
    else
        fputs(report.data ? report.data : "", stdout);
    buf_free(&report);
    return rc < 0 ? 1 : 0;
}
