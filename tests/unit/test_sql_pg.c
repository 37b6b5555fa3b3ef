/* test_sql_pg: the PostgreSQL schema and statement texts: migrations
 * carry the same versions and names as SQLite's, apply once, refuse a
 * newer schema, keep the ledger append-only, and every PostgreSQL text
 * prepares against the migrated schema. The tests that need a server run
 * only when OPX_TEST_PG names one (see pgtest.h); without it they skip:
 *   { read -r url; read -r dir; } < <(tests/pg/pg-server.sh start --watch $$)
 *   OPX_TEST_PG=$url ./build/unit-tests --jobs 1 --filter 'sql_pg/[*]'
 *   tests/pg/pg-server.sh stop "$dir" */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgtest.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/sql.h"

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        if (!pgtest_server()) cr_skip_test("OPX_TEST_PG is not set");                              \
    } while (0)

Test(sql_pg, both_dialects_migrate_under_the_same_versions_and_names)
{
    cr_assert_eq(postgres_migrations_count, sqlite_migrations_count);
    for (int i = 0; i < sqlite_migrations_count; i++) {
        cr_expect_eq(postgres_migrations[i].version, sqlite_migrations[i].version);
        cr_expect_str_eq(postgres_migrations[i].name, sqlite_migrations[i].name);
    }
}

static PGconn *fresh_migrated(const char *tag, char *url, size_t cap)
{
    char err[512] = "";
    cr_assert_eq(pgtest_fresh(tag, url, cap, err, sizeof err), 0, "%s", err);
    int applied = 0, current = 0;
    cr_assert_eq(db_postgres_migrate(url, &applied, &current, err, sizeof err), 0, "%s", err);
    cr_assert_eq(applied, postgres_migrations_count);
    cr_assert_eq(current, postgres_migrations[postgres_migrations_count - 1].version);
    PGconn *pg = pgtest_connect(url, err, sizeof err);
    cr_assert(pg, "%s", err);
    return pg;
}

static void exec_ok(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

Test(sql_pg, migrations_apply_once_and_refuse_a_newer_schema)
{
    NEED_PG();
    char url[512], err[512] = "";
    PGconn *pg = fresh_migrated("migrate", url, sizeof url);
    int applied = -1, current = 0;
    cr_expect_eq(db_postgres_migrate(url, &applied, &current, err, sizeof err), 0, "%s", err);
    cr_expect_eq(applied, 0, "a second run applies nothing");
    cr_expect_eq(current, postgres_migrations[postgres_migrations_count - 1].version);
    PGresult *r = PQexec(pg, "SELECT count(*) FROM schema_migrations");
    cr_expect_eq(atoi(PQgetvalue(r, 0, 0)), postgres_migrations_count);
    PQclear(r);
    exec_ok(pg, "INSERT INTO schema_migrations VALUES (999, 'from the future', 0)");
    cr_expect_eq(db_postgres_migrate(url, &applied, &current, err, sizeof err), -1);
    cr_expect(strstr(err, "newer") != NULL, "%s", err);
    PQfinish(pg);
    pgtest_drop(url);
}

Test(sql_pg, the_ledger_is_append_only)
{
    NEED_PG();
    char url[512];
    PGconn *pg = fresh_migrated("ledger", url, sizeof url);
    exec_ok(pg, "INSERT INTO ledger_accounts(id, kind, currency) VALUES ('a', 'escrow', 'EUR')");
    exec_ok(pg, "INSERT INTO ledger_txns(id, kind, created_at) VALUES ('t', 'fund', 1)");
    exec_ok(pg, "INSERT INTO ledger_entries(txn_id, account_id, currency, amount)"
                " VALUES ('t', 'a', 'EUR', 100)");
    const char *refused[] = {"UPDATE ledger_entries SET amount = 200", "DELETE FROM ledger_entries",
                             "TRUNCATE ledger_entries", "UPDATE ledger_txns SET memo = 'x'",
                             "DELETE FROM ledger_txns", NULL};
    for (int i = 0; refused[i]; i++) {
        PGresult *r = PQexec(pg, refused[i]);
        cr_expect_eq(PQresultStatus(r), PGRES_FATAL_ERROR, "%s went through", refused[i]);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        cr_expect(state && strncmp(state, "23", 2) == 0, "%s: SQLSTATE %s", refused[i], state);
        cr_expect(strstr(PQresultErrorMessage(r), "append-only") != NULL, "%s: %s", refused[i],
                  PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(pg);
    pgtest_drop(url);
}

/* The translators' list: every statement that does not prepare, with the
 * server's words, on stderr, and the count in the failure. */
Test(sql_pg, every_postgres_statement_prepares_on_the_migrated_schema)
{
    NEED_PG();
    char url[512];
    PGconn *pg = fresh_migrated("prepare", url, sizeof url);
    int failed = 0, total = 0;
    for (int id = ST_NONE + 1; id < ST__COUNT; id++) {
        const char *text = sql_text(SQL_POSTGRES, id);
        if (!text) continue;
        total++;
        PGresult *r = PQprepare(pg, "", text, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            failed++;
            char msg[512];
            snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
            msg[strcspn(msg, "\n")] = 0;
            fprintf(stderr, "sql_pg: %s: %s\n", sql_name(id), msg);
        }
        PQclear(r);
    }
    PQfinish(pg);
    pgtest_drop(url);
    cr_expect_eq(failed, 0, "%d of %d PostgreSQL statements do not prepare (listed above)", failed,
                 total);
}
