/* cli_backup: the opx backup and opx restore commands (the work is the
 * store's: src/store/db_backup.c). */
#include "cli.h"
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
