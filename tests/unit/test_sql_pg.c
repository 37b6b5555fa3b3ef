/* test_sql_pg: the PostgreSQL schema and statement texts: migrations
 * carry the same versions and names as SQLite's, apply once, refuse a
 * newer schema, keep the ledger append-only, every PostgreSQL text
 * prepares against the migrated schema, and the rewritten ones answer as
 * their SQLite twins do on one fixture. The tests that need a server run
 * only when OPX_TEST_PG names one (see pgtest.h); without it they skip:
 *   { read -r url; read -r dir; } < <(tests/pg/pg-server.sh start --watch $$)
 *   OPX_TEST_PG=$url ./build/unit-tests --jobs 1 --filter 'sql_pg/[*]'
 *   tests/pg/pg-server.sh stop "$dir" */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* ---- the same answer from both dialects ---------------------------------
 * One fixture, written in SQL both databases take, goes into a migrated
 * SQLite file and a migrated PostgreSQL database; then statements whose
 * PostgreSQL text had to be rewritten (rowid, JSON, sequences, casts,
 * LIKE) run on both with the same parameters, bound as the drivers bind
 * them (SQLite: typed; PostgreSQL: all text, no types), and every row must
 * read the same. JSON is compared compact with its key order kept, numbers
 * by value, booleans as the driver reads them (1/0). */
static const char *const fixture[] = {
    "INSERT INTO users(id, email, name, role, password_hash, created_at) VALUES"
    " ('u-cl', 'alice@x.test', 'Alice Client', 'client', 'h', 100),"
    " ('u-en', 'bob@x.test', 'Bob Engineer', 'engineer', 'h', 101),"
    " ('u-e2', 'carol@x.test', 'carol engineer', 'engineer', 'h', 102),"
    " ('u-ad', 'dan@x.test', 'Dan Admin', 'admin', 'h', 103)",
    "INSERT INTO engineer_profiles(user_id, headline, bio, rate_amount, rate_currency, timezone,"
    " hours_per_week, years_experience, status, level, status_at, updated_at) VALUES"
    " ('u-en', 'Django', 'b', 9000, 'EUR', 'Europe/Berlin', 30, 8, 'vetted', 'senior', 5, 5),"
    " ('u-e2', 'FastAPI', 'b', 7000, 'EUR', 'Asia/Tokyo', 20, 3, 'vetted', 'mid', 6, 6)",
    "INSERT INTO engineer_skills(user_id, skill_id, self_level, vetted_level) VALUES"
    " ('u-en', 'django', 5, 4), ('u-en', 'pytest', 4, 4), ('u-en', 'celery', 3, NULL),"
    " ('u-e2', 'django', 3, 3), ('u-e2', 'fastapi', 5, 5)",
    "INSERT INTO requests(id, client_id, title, description, spec, status, sla_deadline, "
    "created_at)"
    " VALUES ('r-1', 'u-cl', 'Shop', 'd', '{\"timezone\":\"America/Lima\"}', 'matching', 900, 200),"
    " ('r-2', 'u-cl', 'Blog', 'd', '{}', 'matched', 950, 210)",
    "INSERT INTO candidates(id, request_id, engineer_id, status, score, rank, explain, invited_at,"
    " expires_at) VALUES ('k-1', 'r-1', 'u-en', 'accepted', 0.75, 1, '{}', 300, 400),"
    " ('k-2', 'r-1', 'u-e2', 'invited', 0.5, 2, '{}', 300, 86400)",
    "INSERT INTO conversations(id, request_id, candidate_id, client_id, engineer_id, created_at,"
    " last_message_at) VALUES ('v-1', 'r-1', 'k-1', 'u-cl', 'u-en', 310, 330),"
    " ('v-2', 'r-1', 'k-2', 'u-cl', 'u-e2', 305, NULL)",
    "INSERT INTO messages(id, conversation_id, sender_id, body, created_at) VALUES"
    " ('m-1', 'v-1', 'u-cl', 'hello', 320), ('m-2', 'v-1', 'u-en', 'hi there', 325),"
    " ('m-3', 'v-1', 'u-en', 'when?', 330)",
    "INSERT INTO read_markers(conversation_id, user_id, last_read_seq) VALUES ('v-1', 'u-cl', 1)",
    "INSERT INTO interviews(id, conversation_id, status, slots, duration_minutes, video_url, slot,"
    " created_at, updated_at) VALUES ('i-1', 'v-1', 'cancelled', '[1700000000]', 30, 'https://v', "
    "NULL,"
    " 340, 340), ('i-2', 'v-1', 'accepted', '[1700003600, 1700007200]', 45, 'https://w', "
    "1700007200,"
    " 340, 350)",
    "INSERT INTO contracts(id, request_id, candidate_id, client_id, engineer_id, type, status, "
    "currency,"
    " hourly_rate, weekly_cap_hours, fee_bps, created_at, accepted_at) VALUES"
    " ('c-1', 'r-1', 'k-1', 'u-cl', 'u-en', 'fixed', 'active', 'EUR', NULL, NULL, 1000, 400, 410),"
    " ('c-2', 'r-1', 'k-2', 'u-cl', 'u-e2', 'hourly', 'offered', 'EUR', 5000, 20, 1000, 420, NULL)",
    "INSERT INTO milestones(id, contract_id, position, title, amount, due, status, created_at) "
    "VALUES"
    " ('ms-2', 'c-1', 2, 'Second', 2000, NULL, 'pending', 400),"
    " ('ms-1', 'c-1', 1, 'First', 1000, '2026-01-01', 'disputed', 400)",
    "INSERT INTO payments(id, milestone_id, kind, gateway, gateway_key, gateway_ref, amount, "
    "currency,"
    " status, created_at, updated_at) VALUES"
    " ('p-1', 'ms-1', 'charge', 'fake', 'gk-1', 'ch_1', 1000, 'EUR', 'succeeded', 500, 500),"
    " ('p-2', 'ms-1', 'refund', 'fake', 'gk-2', NULL, 400, 'EUR', 'pending', 500, 510),"
    " ('p-3', 'ms-1', 'refund', 'fake', 'gk-3', 're_3', 100, 'EUR', 'succeeded', 520, 530)",
    "INSERT INTO disputes(id, milestone_id, opened_by, reason, from_status, status, created_at,"
    " resolved_at) VALUES ('d-1', 'ms-1', 'u-cl', 'late', 'submitted', 'resolved', 600, 650),"
    " ('d-2', 'ms-1', 'u-cl', 'again', 'submitted', 'open', 660, NULL)",
    "INSERT INTO ledger_accounts(id, kind, owner, currency, balance) VALUES"
    " ('payable:u-en:EUR', 'payable', 'u-en', 'EUR', 700), ('paid_out:u-en:EUR', 'paid_out', "
    "'u-en', 'EUR', 300)",
    "INSERT INTO events(user_id, kind, payload, created_at) VALUES ('u-cl', 'a', '{}', 1),"
    " ('u-en', 'b', '{}', 2), ('u-cl', 'c', '{}', 3)",
    /* pruning deletes the oldest first */
    "DELETE FROM events WHERE kind = 'a'",
    "INSERT INTO outbox(id, user_id, to_addr, to_name, kind, data, status, created_at, "
    "next_attempt_at)"
    " VALUES ('o-1', 'u-cl', 'alice@x.test', 'Alice', 'k', '{}', 'sent', 1, 1),"
    " ('o-2', NULL, 'x@x.test', 'X', 'k', '{}', 'queued', 2, 2)",
    "INSERT INTO reviews(contract_id, author_id, subject_id, rating, comment, created_at, "
    "published_at)"
    " VALUES ('c-1', 'u-cl', 'u-en', 4, 'ok', 700, 710), ('c-2', 'u-cl', 'u-en', 5, 'good', 720, "
    "730)",
    "INSERT INTO jobs(id, kind, ref, run_at) VALUES ('j-1', 'mail', 'o-2', 5), ('j-2', 'mail', "
    "'o-3', 50)",
    NULL,
};

/* a statement and its parameters: "i:N" an integer, "t:..." text, NULL SQL NULL */
typedef struct {
    int id;
    const char *raw; /* or, with id 0, this text in both (parameters ?1 / $1 rewritten) */
    int n;
    const char *p[10];
} sql_case;

static const sql_case cases[] = {
    {ST_USERS_LIST, 0, 5, {"t:%ENGINEER%", NULL, NULL, "i:0", "i:10"}},
    {ST_USERS_LIST, 0, 5, {NULL, "t:engineer", NULL, "i:3", "i:10"}},
    {ST_READ_ACCOUNT_BY_ID, 0, 1, {"t:u-e2"}},
    {ST_CONTRACTS_LIST, 0, 6, {"t:u-cl", NULL, NULL, NULL, "i:0", "i:10"}},
    {ST_CONTRACTS_LIST, 0, 6, {NULL, NULL, NULL, "t:offered", "i:0", "i:10"}},
    {ST_CONTRACT_RECEIPTS, 0, 2, {"t:c-1", "i:10"}},
    {ST_READ_DISPUTE, 0, 1, {"t:d-1"}},
    {ST_DISPUTES_LIST, 0, 4, {NULL, "i:0", "i:0", "i:10"}},
    {ST_DISPUTES_LIST, 0, 4, {NULL, "i:2", "i:1", "i:10"}},
    {ST_DISPUTES_LIST, 0, 4, {"t:resolved", "i:0", "i:0", "i:10"}},
    {ST_EVENTS_HEAD, 0, 0, {0}},
    {ST_EVENTS_AFTER, 0, 3, {NULL, "i:0", "i:10"}},
    {ST_EVENTS_AFTER, 0, 3, {"t:u-en", "i:0", "i:10"}},
    {ST_EVENTS_AFTER, 0, 3, {"t:u-cl", "i:0", "i:10"}},
    {ST_OUTBOX_LIST, 0, 3, {NULL, "i:0", "i:10"}},
    {ST_OUTBOX_LIST, 0, 3, {"t:sent", "i:0", "i:10"}},
    {ST_MAIL_DIGEST, 0, 2, {"t:v-1", "t:u-cl"}},
    {ST_MAIL_DIGEST, 0, 2, {"t:v-1", "t:u-en"}},
    {ST_INTERVIEW_ANNOUNCE, 0, 1, {"t:i-1"}},
    {ST_INTERVIEW_ANNOUNCE, 0, 1, {"t:i-2"}},
    {ST_INTERVIEW_LATEST, 0, 1, {"t:v-1"}},
    {ST_READ_ONE_REFUND, 0, 1, {"t:p-2"}},
    {ST_LIST_REFUNDS, 0, 4, {"t:", "t:", "i:0", "i:10"}},
    {ST_LIST_REFUNDS, 0, 4, {"t:pending", "t:u-cl", "i:0", "i:10"}},
    {ST_MONEY_OUT_ANNOUNCE_EV,
     0,
     9,
     {"t:p-2", "t:refund", "t:pending", "t:400", "t:EUR", "t:c-1", "t:", "t:", NULL}},
    {ST_POOL_COUNTS, 0, 1, {"t:[\"fastapi\",\"django\",\"flask\"]"}},
    {ST_POOL_COUNTS, 0, 1, {"t:[]"}},
    {ST_POOL_FRAMEWORK, 0, 1, {"t:django"}},
    {ST_POOL_FRAMEWORK, 0, 1, {"t:flask"}},
    {ST_INSERT_CANDIDATE_WHAT, 0, 1, {"t:k-2"}},
    {ST_ANNOUNCE_CANDIDATE_WHAT, 0, 1, {"t:k-1"}},
    {ST_REQUEST_MOVE_WHAT, 0, 2, {"t:r-1", "t:matched"}},
    {ST_REQUESTS_LIST, 0, 3, {NULL, "i:0", "i:10"}},
    {ST_REQUESTS_LIST, 0, 3, {"t:u-cl", "i:2", "i:10"}},
    {ST_CONV_LIST, 0, 3, {"t:u-cl", "t:u-cl", "i:10"}},
    {ST_CONV_GET, 0, 1, {"t:v-1"}},
    {ST_CONVERSATION_OPEN_WHAT, 0, 1, {"t:v-2"}},
    {ST_MESSAGE_CREATE_WHAT, 0, 1, {"t:m-2"}},
    {ST_CONTRACT_ANNOUNCE_EV, 0, 4, {"t:c-1", "t:active", "t:r-1", "t:accepted"}},
    {ST_DISPUTE_OPEN_EV, 0, 3, {"t:d-2", "t:ms-1", "t:c-1"}},
    {ST_REVIEWS_PUBLISH_EV, 0, 1, {"t:c-1"}},
    {ST_BALANCE, 0, 1, {"t:u-en"}},
    {ST_MATCHABLE, 0, 2, {"t:", "i:10"}},
    {ST_LOAD_ENGINEER, 0, 1, {"t:u-en"}},
    /* writes, then what they left */
    {ST_CONVERSATION_READ_MARK, 0, 3, {"t:v-1", "t:u-cl", "i:3"}},
    {ST_CONVERSATION_READ_MARK, 0, 3, {"t:v-1", "t:u-cl", "i:2"}},
    {0, "SELECT conversation_id, user_id, last_read_seq FROM read_markers", 0, {0}},
    {ST_USER_SET_STATUS, 0, 4, {"t:suspended", "i:777", "t:spam", "t:u-e2"}},
    {0, "SELECT id, status, suspended_at, suspended_reason FROM users ORDER BY id", 0, {0}},
    {ST_USER_SET_STATUS, 0, 4, {"t:active", "i:778", NULL, "t:u-e2"}},
    {0, "SELECT id, status, suspended_at, suspended_reason FROM users ORDER BY id", 0, {0}},
    {ST_INSERT_CANDIDATE_NOTE, 0, 4, {"t:u-en", "t:k-1", "t:r-1", "i:42"}},
    {0, "SELECT user_id, kind, payload, created_at FROM notifications", 0, {0}},
    {ST_JOBS_CLAIM, 0, 3, {"i:10", "i:60", "i:5"}},
};

/* one answer as text: rows separated by '\n', columns by '|' */
static void norm_cell(char *out, size_t cap, const char *v, int is_bool)
{
    if (!v) {
        snprintf(out, cap, "NULL");
        return;
    }
    if (is_bool) {
        snprintf(out, cap, "%s", strcmp(v, "t") == 0 ? "1" : "0");
        return;
    }
    if (v[0] == '{' || v[0] == '[') {
        json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
        if (j) {
            char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
            snprintf(out, cap, "%s", s ? s : "?");
            free(s);
            json_decref(j);
            return;
        }
    }
    char *end = NULL;
    double d = strtod(v, &end);
    if (*v && end && *end == 0 && strchr("-0123456789", v[0])) {
        snprintf(out, cap, "%.17g", d);
        return;
    }
    snprintf(out, cap, "%s", v);
}

static void append(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    snprintf(dst + n, cap - n, "%s", s);
}

static void pg_text_of(char *out, const char *sqlite_text)
{
    /* ?N -> $N outside quotes, for the raw cases */
    int q = 0;
    for (; *sqlite_text; sqlite_text++) {
        if (*sqlite_text == '\'') q = !q;
        *out++ = (!q && *sqlite_text == '?') ? '$' : *sqlite_text;
    }
    *out = 0;
}

static void run_sqlite(sqlite3 *db, const sql_case *k, char *out, size_t cap)
{
    out[0] = 0;
    const char *text = k->id ? sql_text(SQL_SQLITE, k->id) : k->raw;
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, text, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    for (int i = 0; i < k->n; i++) {
        const char *p = k->p[i];
        if (!p)
            sqlite3_bind_null(st, i + 1);
        else if (p[0] == 'i')
            sqlite3_bind_int64(st, i + 1, strtoll(p + 2, NULL, 10));
        else
            sqlite3_bind_text(st, i + 1, p + 2, -1, SQLITE_STATIC);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            char cell[4096];
            norm_cell(cell, sizeof cell, (const char *)sqlite3_column_text(st, c), 0);
            append(out, cap, c ? "|" : "");
            append(out, cap, cell);
        }
        append(out, cap, "\n");
    }
    cr_assert_eq(rc, SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

static void run_pg(PGconn *pg, const sql_case *k, char *out, size_t cap)
{
    out[0] = 0;
    char raw[2048];
    const char *text = sql_text(SQL_POSTGRES, k->id);
    if (!k->id) {
        pg_text_of(raw, k->raw);
        text = raw;
    }
    PGresult *r = PQprepare(pg, "", text, 0, NULL);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
    PQclear(r);
    const char *vals[10];
    for (int i = 0; i < k->n; i++)
        vals[i] = k->p[i] ? k->p[i] + 2 : NULL;
    r = PQexecPrepared(pg, "", k->n, vals, NULL, NULL, 0);
    cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
              PQresultErrorMessage(r));
    for (int row = 0; row < PQntuples(r); row++) {
        for (int c = 0; c < PQnfields(r); c++) {
            char cell[4096];
            const char *v = PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
            /* event payloads go out as one SSE data line (src/services/events.c) */
            cr_expect(!v || !strchr(v, '\n'), "%s: a newline in column %d: %s",
                      k->id ? sql_name(k->id) : k->raw, c, v);
            norm_cell(cell, sizeof cell, v, PQftype(r, c) == 16 /* BOOLOID */);
            append(out, cap, c ? "|" : "");
            append(out, cap, cell);
        }
        append(out, cap, "\n");
    }
    PQclear(r);
}

Test(sql_pg, rewritten_statements_answer_as_sqlite_does)
{
    NEED_PG();
    char url[512], err[256] = "";
    PGconn *pg = fresh_migrated("same", url, sizeof url);
    char path[] = "/tmp/opx-test-sql-pg-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    int applied = 0, current = 0;
    cr_assert_eq(db_sqlite_migrate(path, &applied, &current, err, sizeof err), 0, "%s", err);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    for (int i = 0; fixture[i]; i++) {
        char *msg = NULL;
        cr_assert_eq(sqlite3_exec(db, fixture[i], NULL, NULL, &msg), SQLITE_OK, "%s: %s",
                     fixture[i], msg);
        exec_ok(pg, fixture[i]);
    }
    static char a[16384], b[16384];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const sql_case *k = &cases[i];
        run_sqlite(db, k, a, sizeof a);
        run_pg(pg, k, b, sizeof b);
        cr_expect_str_eq(b, a, "case %zu (%s): PostgreSQL answered\n%s\nSQLite\n%s", i,
                         k->id ? sql_name(k->id) : k->raw, b, a);
        const char *text = k->id ? sql_text(SQL_SQLITE, k->id) : k->raw;
        int reads = strncmp(text, "SELECT", 6) == 0 || strncmp(text, "WITH", 4) == 0 ||
                    strstr(text, "RETURNING") != NULL;
        int empty_ok = k->id == ST_EVENTS_AFTER && k->p[0] && strcmp(k->p[0], "t:u-cl") == 0;
        cr_expect(a[0] || !reads || empty_ok,
                  "case %zu (%s) reads no row: the fixture does not exercise it", i,
                  k->id ? sql_name(k->id) : k->raw);
        if (getenv("SQL_PG_SHOW")) fprintf(stderr, "%s\n%s\n", k->id ? sql_name(k->id) : k->raw, a);
    }
    sqlite3_close(db);
    unlink(path);
    PQfinish(pg);
    pgtest_drop(url);
}
