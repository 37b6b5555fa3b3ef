/* test_postgres_pool: what only the PostgreSQL driver has to get right, on
 * the server OPX_TEST_PG names (skipped without it): connections the
 * server drops are made again and the work they carried is not lost; a
 * database that cannot be reached answers STORE_UNAVAILABLE at once
 * instead of holding calls until their deadline, and serves again when
 * it comes back. A transaction's notices reach the listener when it
 * commits, and only then. */
#include "../unit/pgtest.h"
#include "core/clock.h"
#include "harness.h"
#include "store/db.h"
#include "store/tx_internal.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* runs sql on a connection of its own to the server's maintenance
 * database (the test's own is the store's) */
static void admin(const char *sql)
{
    char url[512], err[512] = "";
    pgtest_url(H.url, "postgres", url, sizeof url);
    PGconn *pg = pgtest_connect(url, err, sizeof err);
    cr_assert(pg, "%s", err);
    PGresult *r = PQexec(pg, sql);
    cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK,
              "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(pg);
}

/* sql with the test database's name in place of each %s */
static void admin_db(const char *fmt)
{
    const char *slash = strrchr(H.url, '/');
    const char *name = slash ? slash + 1 : H.url;
    char sql[512];
    snprintf(sql, sizeof sql, fmt, name);
    admin(sql);
}

/* every connection the store holds is cut by the server */
static void terminate_all(void)
{
    admin_db("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE datname = '%s' AND pid <> pg_backend_pid()");
}

static store_user *user(const char *email)
{
    store_user *u = NEW(store_user);
    id_new("usr", u->id);
    snprintf(u->email, sizeof u->email, "%s", email);
    snprintf(u->name, sizeof u->name, "Pool");
    snprintf(u->role, sizeof u->role, "client");
    snprintf(u->password_hash, sizeof u->password_hash, "h");
    u->created_at = H.now;
    return u;
}

Test(postgres_pool, connections_cut_by_the_server_are_made_again, .init = h_setup_postgres,
     .fini = h_teardown)
{
    if (!h_ready()) cr_skip_test("OPX_TEST_PG is not set");
    h_call w = {0};
    cr_assert_eq(h_wait(S->v->ping(S, h_deadline(), h_cb, &w), &w), STORE_OK);
    terminate_all();
    /* reads and writes both go through, on new connections */
    cr_assert_eq(CALL(user_create, user("cut@example.com"), "127.0.0.1"), STORE_OK);
    store_user *got = NEW(store_user);
    cr_assert_eq(CALL(user_by_email, "cut@example.com", got), STORE_OK);
    cr_assert_str_eq(got->name, "Pool");
    /* many at once, after another cut: none is lost, none runs twice */
    terminate_all();
    enum { N = 12 };
    h_call calls[N] = {0};
    char email[N][64];
    for (int i = 0; i < N; i++) {
        snprintf(email[i], sizeof email[i], "many%d@example.com", i);
        SUBMIT(&calls[i], user_create, user(email[i]), "127.0.0.1");
    }
    h_wait_all(calls, N);
    for (int i = 0; i < N; i++) {
        cr_expect_eq(calls[i].rc, STORE_OK, "%s: %s", email[i], store_strerror(calls[i].rc));
        cr_expect_eq(CALL(user_by_email, email[i], NEW(store_user)), STORE_OK, "%s", email[i]);
    }
    /* what metrics show: the jobs the cut interrupted ran again on
     * connections made again */
    store_stats st;
    S->v->stats(S, &st);
    cr_expect_geq(st.reconnects, 1);
    cr_expect_geq(st.retries, 1);
    cr_expect_leq(st.connections, st.pool);
    cr_expect_eq(st.refused + st.expired, 0);
}

Test(postgres_pool, an_unreachable_database_answers_at_once_then_serves_again,
     .init = h_setup_postgres, .fini = h_teardown)
{
    if (!h_ready()) cr_skip_test("OPX_TEST_PG is not set");
    admin_db("ALTER DATABASE \"%s\" WITH ALLOW_CONNECTIONS false");
    terminate_all();
    uint64_t t0 = clock_mono_ns();
    h_call w = {0};
    int rc = h_wait(S->v->ping(S, clock_mono_ns() + 5000000000ull, h_cb, &w), &w);
    uint64_t took_ms = (clock_mono_ns() - t0) / 1000000u;
    cr_expect_eq(rc, STORE_UNAVAILABLE, "%s", store_strerror(rc));
    cr_expect_lt(took_ms, 2000, "answered after %llu ms, not at its 5 s deadline",
                 (unsigned long long)took_ms);
    cr_expect_eq(CALL(user_create, user("down@example.com"), "127.0.0.1"), STORE_UNAVAILABLE);
    admin_db("ALTER DATABASE \"%s\" WITH ALLOW_CONNECTIONS true");
    /* the workers try again on their backoff (at most a few seconds) */
    for (int i = 0; i < 100; i++) {
        h_call p = {0};
        rc = h_wait(S->v->ping(S, h_deadline(), h_cb, &p), &p);
        if (rc == STORE_OK) break;
        usleep(100000);
    }
    cr_assert_eq(rc, STORE_OK, "%s", store_strerror(rc));
    cr_expect_eq(CALL(user_create, user("up@example.com"), "127.0.0.1"), STORE_OK);
    cr_expect_eq(CALL(user_by_email, "down@example.com", NEW(store_user)), STORE_NOTFOUND,
                 "the write refused while down was not made later");
}

/* ---- notices ----------------------------------------------------------------------------------
 */

static int notice_then_fail(db_conn *c, db_job *j)
{
    (void)j;
    db_notice(c, "user", "usr_rolled_back");
    return STORE_CONFLICT;
}

static int notice_twice(db_conn *c, db_job *j)
{
    (void)j;
    db_notice(c, "user", "usr_committed");
    db_notice(c, "user", "usr_committed"); /* once is enough */
    db_notice(c, "user", "usr_x'); DROP TABLE users; --");
    return STORE_OK;
}

static char heard[8][DB_NOTICE_MAX];
static int nheard;

static void on_notice(void *data, const char *text)
{
    (void)data;
    if (nheard < 8) snprintf(heard[nheard++], sizeof heard[0], "%s", text);
}

/* runs the loop until n notices were heard or 5 s passed */
static void hear(int n)
{
    uint64_t until = clock_mono_ns() + 5000000000ull;
    while (nheard < n && clock_mono_ns() < until)
        uv_run(&H.loop, UV_RUN_NOWAIT), usleep(2000);
}

Test(postgres_pool, a_transaction_s_notices_reach_the_listener_when_it_commits,
     .init = h_setup_postgres, .fini = h_teardown)
{
    if (!h_ready()) cr_skip_test("OPX_TEST_PG is not set");
    nheard = 0;
    S->v->notices_watch(S, on_notice, NULL);
    store_user *u = fx_user("client", "Nora");
    store_session *x = NEW(store_session);
    snprintf(x->token_hash, sizeof x->token_hash, "%064d", 42);
    snprintf(x->csrf_token, sizeof x->csrf_token, "c");
    x->created_at = H.now;
    x->expires_at = H.now + 3600;
    x->user = *u;
    cr_assert_eq(CALL(session_create, x), STORE_OK);
    /* a delete that deleted nothing notices nothing; one that did, once */
    cr_assert_eq(CALL(session_delete, "no-such-session"), STORE_NOTFOUND);
    cr_assert_eq(CALL(session_delete, x->token_hash), STORE_OK);
    hear(1);
    cr_assert_eq(nheard, 1, "heard %d notices", nheard);
    char want[DB_NOTICE_MAX];
    snprintf(want, sizeof want, "session:%s", x->token_hash);
    cr_expect_str_eq(heard[0], want);
    /* a transaction that notices and then fails leaves nothing; one that
     * commits, each of its notices once, whatever the retries */
    for (int i = 0; i < 8;
         i++) { /* on whichever connections: the next job there sends none of it */
        h_call w = {0};
        cr_assert_eq(h_wait(store_submit(S, notice_then_fail, 1, h_deadline(), h_cb, &w, NULL, NULL,
                                         NULL, NULL, 0),
                            &w),
                     STORE_CONFLICT);
    }
    h_call v = {0};
    cr_assert_eq(
        h_wait(store_submit(S, notice_twice, 1, h_deadline(), h_cb, &v, NULL, NULL, NULL, NULL, 0),
               &v),
        STORE_OK);
    hear(3);
    cr_assert_eq(nheard, 2, "heard %d notices", nheard);
    cr_expect_str_eq(heard[1], "user:usr_committed");
}
