/* test_sql: the statement table: every id has a text in every dialect,
 * both take the same parameters, and every SQLite text prepares against
 * the migrated schema. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/db.h"
#include "store/sql.h"

Test(sql, every_statement_has_a_text_in_every_dialect)
{
    for (int id = ST_NONE + 1; id < ST__COUNT; id++) {
        cr_expect(sql_text(SQL_SQLITE, id) != NULL, "%s has no SQLite text", sql_name(id));
        cr_expect(sql_text(SQL_POSTGRES, id) != NULL, "%s has no PostgreSQL text", sql_name(id));
    }
}

Test(sql, no_statement_is_defined_twice_in_a_dialect)
{
    for (int d = 0; d < SQL_DIALECTS; d++) {
        int *seen = calloc(ST__COUNT, sizeof *seen);
        for (int t = 0; sql_tables[d][t]; t++)
            for (const sql_stmt *s = sql_tables[d][t]; s->sql; s++) {
                cr_expect(s->id > ST_NONE && s->id < ST__COUNT, "an entry with id %d", s->id);
                if (s->id > ST_NONE && s->id < ST__COUNT)
                    cr_expect(seen[s->id]++ == 0, "%s defined twice in dialect %d", sql_name(s->id), d);
            }
        free(seen);
    }
}

Test(sql, both_dialects_take_the_same_numbered_parameters)
{
    for (int id = ST_NONE + 1; id < ST__COUNT; id++) {
        const char *a = sql_text(SQL_SQLITE, id), *b = sql_text(SQL_POSTGRES, id);
        if (!a || !b) continue;
        unsigned long long pa = sql_params(SQL_SQLITE, a), pb = sql_params(SQL_POSTGRES, b);
        cr_expect((pa & 1) == 0, "%s: a SQLite parameter is not numbered ?1..?63", sql_name(id));
        cr_expect((pb & 1) == 0, "%s: a PostgreSQL parameter is not numbered $1..$63", sql_name(id));
        cr_expect(pa == pb, "%s: SQLite takes %llx, PostgreSQL %llx", sql_name(id), pa, pb);
        /* no gaps: parameters are 1..n */
        cr_expect((pa & (pa + 2)) == 0, "%s: its parameters have a gap (%llx)", sql_name(id), pa);
    }
}

Test(sql, params_reads_numbers_outside_quotes)
{
    cr_expect_eq(sql_params(SQL_SQLITE, "SELECT ?1, ?3 WHERE x = '?2'"), (1ull << 1) | (1ull << 3));
    cr_expect_eq(sql_params(SQL_POSTGRES, "SELECT $2, $1 WHERE j = '$.a'"), (1ull << 1) | (1ull << 2));
    cr_expect_eq(sql_params(SQL_SQLITE, "SELECT ?"), 1ull);
}

Test(sql, every_sqlite_statement_prepares_on_the_migrated_schema)
{
    char path[] = "/tmp/opx-test-sql-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    int applied = 0, current = 0;
    char err[256] = "";
    cr_assert_eq(db_sqlite_migrate(path, &applied, &current, err, sizeof err), 0, "%s", err);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    for (int id = ST_NONE + 1; id < ST__COUNT; id++) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, sql_text(SQL_SQLITE, id), -1, &st, NULL);
        cr_expect_eq(rc, SQLITE_OK, "%s: %s", sql_name(id), sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}
