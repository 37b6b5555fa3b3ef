/* harness: a fresh migrated store per test on either backend, the
 * synchronous CALL, and the fixtures that make the suite's users,
 * engineers, requests and contracts through store operations (see
 * harness.h). */
#include "harness.h"
#include "../unit/pgtest.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/token.h"
#include "store/db.h"
#include <criterion/hooks.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

harness H;

/* ---- memory that lives until the test ends ---------------------------------------- */

typedef struct h_block {
    struct h_block *next;
    max_align_t data[];
} h_block;
static h_block *blocks;

void *h_alloc(size_t n)
{
    h_block *b = calloc(1, sizeof *b + n);
    cr_assert(b, "out of memory");
    b->next = blocks;
    blocks = b;
    return b->data;
}

#define CONTRACTS_MAX 64
static store_contract *contracts[CONTRACTS_MAX];
static int ncontracts;

store_contract *h_contract(void)
{
    cr_assert(ncontracts < CONTRACTS_MAX, "more contracts than the harness tracks");
    return contracts[ncontracts++] = NEW(store_contract);
}

const char *h_id(const char *prefix)
{
    char *id = h_alloc(ID_STR_MAX);
    id_new(prefix, id);
    return id;
}

/* ---- the store's lifecycle ----------------------------------------------------------- */

static uv_timer_t guard;
#define GUARD_MS 30000

/* a failure is kept for the test body to report (h_ready): asserting in
 * the setup would skip the teardown, leaving the database behind */
static void open_store(void)
{
    H.s = store_open(&H.loop, H.url, 1, H.error, sizeof H.error);
    if (H.s && strcmp(store_backend(H.s), H.postgres ? "postgres" : "sqlite") != 0)
        snprintf(H.error, sizeof H.error, "store_open(%s) opened %s", H.url, store_backend(H.s));
}

int h_ready(void)
{
    if (H.error[0]) cr_assert_fail("%s: %s", H.url, H.error);
    return H.s != NULL;
}

static void begin(int postgres)
{
    memset(&H, 0, sizeof H);
    log_init(2, LOG_WARN); /* not the migrations' info line per test */
    cr_assert_eq(token_init(), 0);
    cr_assert_eq(uv_loop_init(&H.loop), 0);
    uv_timer_init(&H.loop, &guard);
    H.postgres = postgres;
    H.now = clock_now_s();
}

/* The SQLite schema is migrated once, before any test, into a template
 * that each test copies; the store still runs its own migration step on
 * the copy, which finds it current. The runner process removes the
 * template at the end. */
static char template_path[512];
static void pg_template(void);
/* the tests run in processes of their own, which find it in the environment */
#define TEMPLATE_ENV "OPX_STORE_TEST_TEMPLATE"

static const char *tmpdir(void)
{
    return getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    pg_template();
    snprintf(template_path, sizeof template_path, "%s/opx-store-template-XXXXXX", tmpdir());
    int fd = mkstemp(template_path);
    if (fd < 0) {
        template_path[0] = '\0';
        return;
    }
    close(fd);
    int applied = 0, current = 0;
    char err[256];
    if (db_sqlite_migrate(template_path, &applied, &current, err, sizeof err) < 0) {
        unlink(template_path);
        template_path[0] = '\0'; /* each test migrates its own then */
        return;
    }
    setenv(TEMPLATE_ENV, template_path, 1);
}

/* PostgreSQL likewise: a database migrated once, that CREATE DATABASE ...
 * TEMPLATE copies for each test */
#define PG_TEMPLATE_ENV "OPX_STORE_TEST_PG_TEMPLATE"
static char pg_template_url[512];

static void pg_template(void)
{
    char err[512];
    int applied = 0, current = 0;
    if (!pgtest_server() ||
        pgtest_fresh("tpl", pg_template_url, sizeof pg_template_url, err, sizeof err) < 0 ||
        store_migrate(pg_template_url, &applied, &current, err, sizeof err) < 0) {
        if (pg_template_url[0]) pgtest_drop(pg_template_url);
        if (pgtest_server())
            fprintf(stderr, "store-tests: no PostgreSQL template (%s); each test migrates\n", err);
        pg_template_url[0] = '\0'; /* each test migrates its own then */
        return;
    }
    const char *name = strrchr(pg_template_url, '/');
    char db[128];
    snprintf(db, sizeof db, "%.*s", (int)strcspn(name + 1, "?"), name + 1);
    setenv(PG_TEMPLATE_ENV, db, 1);
}

/* a fresh database for this test, from the template when there is one */
static int pg_fresh(char *url, size_t cap, char *err, size_t errlen)
{
    const char *tpl = getenv(PG_TEMPLATE_ENV);
    if (!tpl || !*tpl) return pgtest_fresh("store", url, cap, err, errlen);
    PGconn *pg = pgtest_connect(pgtest_server(), err, errlen);
    if (!pg) return -1;
    char name[64], sql[256];
    snprintf(name, sizeof name, "opx_t_store_%d", (int)getpid());
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    PGresult *r = PQexec(pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (ok) {
        /* FILE_COPY (PostgreSQL 15): half the time of the default WAL_LOG here */
        snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY", name, tpl);
        r = PQexec(pg, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) snprintf(err, errlen, "%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(pg);
    if (!ok)
        return pgtest_fresh("store", url, cap, err, errlen); /* an older server: migrate instead */
    pgtest_url(pgtest_server(), name, url, cap);
    return 0;
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    if (template_path[0]) unlink(template_path);
    if (pg_template_url[0]) pgtest_drop(pg_template_url);
}

static int copy_file(const char *from, int to)
{
    int in = open(from, O_RDONLY);
    if (in < 0) return -1;
    char chunk[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, chunk, sizeof chunk)) > 0)
        if (write(to, chunk, (size_t)n) != n) {
            rc = -1;
            break;
        }
    close(in);
    return n < 0 ? -1 : rc;
}

void h_setup_sqlite(void)
{
    begin(0);
    /* a file, not :memory:: the driver opens a writer and readers on it */
    snprintf(H.url, sizeof H.url, "%s/opx-store-test-XXXXXX", tmpdir());
    int fd = mkstemp(H.url);
    cr_assert(fd >= 0, "mkstemp");
    const char *tpl = getenv(TEMPLATE_ENV);
    if (tpl && *tpl) cr_assert_eq(copy_file(tpl, fd), 0, "copying the migrated template %s", tpl);
    close(fd);
    open_store();
}

void h_setup_postgres(void)
{
    begin(1);
    if (!pgtest_server()) return; /* the test skips */
    char err[512] = "";
    if (pg_fresh(H.url, sizeof H.url, err, sizeof err) < 0) {
        snprintf(H.error, sizeof H.error, "a fresh database: %s", err);
        H.url[0] = '\0';
        return;
    }
    open_store();
}

void h_teardown(void)
{
    if (H.s) {
        H.s->v->close(H.s);
        H.s = NULL;
    }
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&H.loop, UV_RUN_DEFAULT); /* the backend's handles close */
    uv_loop_close(&H.loop);
    log_shutdown();
    if (H.postgres && H.url[0]) {
        pgtest_drop(H.url);
    } else if (H.url[0]) {
        char side[600];
        unlink(H.url);
        snprintf(side, sizeof side, "%s-wal", H.url);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", H.url);
        unlink(side);
    }
    for (int i = 0; i < ncontracts; i++)
        store_contract_free(contracts[i]);
    ncontracts = 0;
    while (blocks) {
        h_block *b = blocks;
        blocks = b->next;
        free(b);
    }
}

/* ---- calls ---------------------------------------------------------------------------- */

void h_cb(void *ctx, int rc)
{
    h_call *w = ctx;
    cr_assert_eq(w->done, 0, "a callback ran twice");
    w->done = 1;
    w->rc = rc;
}

static void on_guard(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

int h_wait(int submit_rc, h_call *w)
{
    if (submit_rc < 0) return submit_rc; /* no callback will come */
    int late = 0;
    guard.data = &late;
    uv_timer_start(&guard, on_guard, GUARD_MS, 0);
    while (!w->done && !late)
        uv_run(&H.loop, UV_RUN_ONCE);
    uv_timer_stop(&guard);
    cr_assert(w->done, "no callback within %d ms", GUARD_MS);
    return w->rc;
}

void h_submitted(int submit_rc, h_call *w)
{
    if (submit_rc < 0) {
        w->done = 1;
        w->rc = submit_rc;
    }
}

void h_wait_all(h_call *w, int n)
{
    int late = 0;
    guard.data = &late;
    uv_timer_start(&guard, on_guard, GUARD_MS, 0);
    for (;;) {
        int pending = 0;
        for (int i = 0; i < n; i++)
            pending += !w[i].done;
        if (!pending || late) break;
        uv_run(&H.loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&guard);
    for (int i = 0; i < n; i++)
        cr_assert(w[i].done, "call %d: no callback within %d ms", i, GUARD_MS);
}

uint64_t h_deadline(void)
{
    return clock_mono_ns() + 10000000000ull;
}

/* ---- fixtures ------------------------------------------------------------------------ */

store_user *fx_user(const char *role, const char *name)
{
    store_user *u = NEW(store_user);
    id_new("usr", u->id);
    snprintf(u->email, sizeof u->email, "%s.%s@example.com", name, u->id + 4);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->role, sizeof u->role, "%s", role);
    snprintf(u->password_hash, sizeof u->password_hash, "$argon2id$v=19$m=65536,t=2,p=1$test$test");
    u->created_at = H.now;
    OK(user_create, u, "127.0.0.1");
    snprintf(u->status, sizeof u->status, "active");
    return u;
}

store_user *fx_engineer(const char *name, int64_t rate)
{
    store_user *u = fx_user("engineer", name);
    store_engineer *in = NEW(store_engineer), *out = NEW(store_engineer);
    snprintf(in->user_id, sizeof in->user_id, "%s", u->id);
    snprintf(in->headline, sizeof in->headline, "%s builds web apps", name);
    snprintf(in->bio, sizeof in->bio, "Ten years of React and Go.");
    in->rate_amount = rate;
    snprintf(in->currency, sizeof in->currency, "EUR");
    snprintf(in->timezone, sizeof in->timezone, "Europe/Berlin");
    in->hours_per_week = 40;
    in->years_experience = 10;
    in->available = 1;
    in->nskills = 1;
    snprintf(in->skills[0].id, sizeof in->skills[0].id, "react");
    in->skills[0].self_level = 4;
    OK(profile_put, in, H.now, out);
    cr_assert_str_eq(out->status, "profile_complete");
    return u;
}

store_user *fx_quiz_passed(const char *name, int64_t rate)
{
    store_user *u = fx_engineer(name, rate);
    store_attempt *a = NEW(store_attempt);
    store_vet_result *res = NEW(store_vet_result);
    id_new("att", a->id);
    snprintf(a->user_id, sizeof a->user_id, "%s", u->id);
    snprintf(a->questions, sizeof a->questions, "[]");
    a->started_at = H.now;
    a->expires_at = H.now + 1800;
    OK(attempt_start, a, res);
    snprintf(a->answers, sizeof a->answers, "[]");
    a->score = 18;
    a->passed = 1;
    OK(attempt_finish, a, H.now + 60, res);
    cr_assert_str_eq(res->status, "assessment_passed");
    return u;
}

store_user *fx_vetted(const char *name, int64_t rate, store_user *vetter)
{
    store_user *u = fx_quiz_passed(name, rate);
    store_vet_result *res = NEW(store_vet_result);
    store_scorecard *sc = NEW(store_scorecard);
    id_new("scd", sc->id);
    snprintf(sc->engineer_id, sizeof sc->engineer_id, "%s", u->id);
    snprintf(sc->vetter_id, sizeof sc->vetter_id, "%s", vetter->id);
    for (int i = 0; i < 5; i++)
        sc->scores[i] = 4;
    snprintf(sc->decision, sizeof sc->decision, "vetted");
    snprintf(sc->level, sizeof sc->level, "senior");
    snprintf(sc->notes, sizeof sc->notes, "solid");
    sc->nconfirm = 1;
    snprintf(sc->confirm[0].id, sizeof sc->confirm[0].id, "react");
    sc->confirm[0].vetted_level = 4;
    sc->created_at = H.now + 120;
    OK(scorecard_create, sc, res);
    cr_assert_str_eq(res->status, "vetted");
    return u;
}

store_request *fx_request(const store_user *client, store_user **engineers, int n)
{
    store_request *r = NEW(store_request);
    id_new("req", r->id);
    snprintf(r->client_id, sizeof r->client_id, "%s", client->id);
    snprintf(r->title, sizeof r->title, "A React dashboard");
    snprintf(r->description, sizeof r->description, "Charts and a login.");
    snprintf(
        r->spec, sizeof r->spec,
        "{\"frameworks\":[\"react\"],\"must_have\":[],\"nice_to_have\":[],\"seniority\":\"senior\","
        "\"engagement\":\"fixed\",\"hours_per_week\":40,\"timezone\":\"Europe/Berlin\"}");
    snprintf(r->status, sizeof r->status, "matching");
    snprintf(r->relaxed, sizeof r->relaxed, "[]");
    r->created_at = H.now;
    r->sla_deadline = H.now + 8 * 3600;
    r->ncand = n;
    for (int i = 0; i < n; i++) {
        store_candidate *k = &r->cand[i];
        id_new("cnd", k->id);
        snprintf(k->request_id, sizeof k->request_id, "%s", r->id);
        snprintf(k->engineer_id, sizeof k->engineer_id, "%s", engineers[i]->id);
        snprintf(k->status, sizeof k->status, "invited");
        k->score = 0.9 - i * 0.1;
        k->rank = i + 1;
        snprintf(k->explain, sizeof k->explain, "{\"skills\":[]}");
        k->invited_at = H.now;
        k->expires_at = H.now + 24 * 3600;
    }
    OK(request_create, r);
    store_request *back = NEW(store_request);
    OK(request_get, r->id, back);
    cr_assert_eq(back->ncand, n);
    return back;
}

const store_candidate *fx_candidate(const store_request *r, const store_user *engineer)
{
    for (int i = 0; i < r->ncand; i++)
        if (strcmp(r->cand[i].engineer_id, engineer->id) == 0) return &r->cand[i];
    cr_assert_fail("%s is not a candidate of %s", engineer->id, r->id);
    return NULL;
}

void fx_accept(const store_request *r, const store_user *engineer)
{
    store_move_result *res = NEW(store_move_result);
    OK(candidate_move, fx_candidate(r, engineer)->id, engineer->id, "accepted", NULL, H.now + 60,
       NULL, NULL, 0, res);
}

fx_parties fx_hire(void)
{
    fx_parties p = {0};
    p.admin = fx_user("admin", "Ada");
    p.client = fx_user("client", "Carla");
    p.engineer = fx_engineer("Erik", 9000);
    p.r = fx_request(p.client, &p.engineer, 1);
    fx_accept(p.r, p.engineer);
    store_request *back = NEW(store_request);
    OK(request_get, p.r->id, back);
    p.r = back;
    p.cand = fx_candidate(p.r, p.engineer);
    cr_assert_str_eq(p.cand->status, "accepted");
    return p;
}

static store_contract *offer(const fx_parties *p, store_contract *k, int accept)
{
    store_money_conflict *why = NEW(store_money_conflict);
    OK(contract_offer, k, why);
    cr_assert_str_eq(k->status, "offered");
    if (accept) {
        OK(contract_answer, k->id, p->engineer->id, "active", H.now + 300, k, why);
        cr_assert_str_eq(k->status, "active");
    }
    return k;
}

store_contract *fx_contract(const fx_parties *p, const int64_t *amounts, int n, int fee_bps,
                            int accept)
{
    store_contract *k = h_contract();
    id_new("ctr", k->id);
    snprintf(k->candidate_id, sizeof k->candidate_id, "%s", p->cand->id);
    snprintf(k->client_id, sizeof k->client_id, "%s", p->client->id);
    snprintf(k->type, sizeof k->type, "fixed");
    snprintf(k->currency, sizeof k->currency, "EUR");
    k->fee_bps = fee_bps;
    k->created_at = H.now + 200;
    for (int i = 0; i < n; i++) {
        store_milestone *m = &k->milestones[k->nmilestones++];
        id_new("mst", m->id);
        snprintf(m->title, sizeof m->title, "Milestone %d", i + 1);
        m->amount = amounts[i];
        snprintf(m->due, sizeof m->due, "2030-01-%02d", i + 1);
    }
    return offer(p, k, accept);
}

store_contract *fx_hourly(const fx_parties *p, int64_t rate, int cap, const char *week_start,
                          int fee_bps)
{
    store_contract *k = h_contract();
    id_new("ctr", k->id);
    snprintf(k->candidate_id, sizeof k->candidate_id, "%s", p->cand->id);
    snprintf(k->client_id, sizeof k->client_id, "%s", p->client->id);
    snprintf(k->type, sizeof k->type, "hourly");
    snprintf(k->currency, sizeof k->currency, "EUR");
    k->fee_bps = fee_bps;
    k->hourly_rate = rate;
    k->weekly_cap_hours = cap;
    k->created_at = H.now + 200;
    store_milestone *m = &k->milestones[k->nmilestones++];
    id_new("mst", m->id);
    snprintf(m->week_start, sizeof m->week_start, "%s", week_start);
    snprintf(m->title, sizeof m->title, "Week of %s", week_start);
    m->amount = rate * cap;
    return offer(p, k, 1);
}

void fx_reload(store_contract *k)
{
    char id[32];
    memcpy(id, k->id, sizeof id);
    store_contract_free(k);
    OK(contract_get, id, k);
}

void fx_fund(store_contract *k, int i)
{
    store_payment *p = NEW(store_payment);
    store_money_conflict *why = NEW(store_money_conflict);
    snprintf(p->gateway, sizeof p->gateway, "sandbox");
    snprintf(p->gateway_key, sizeof p->gateway_key, "fund:%s:%s", k->milestones[i].id, h_id("key"));
    store_contract *after = h_contract();
    OK(fund_begin, k->milestones[i].id, k->client_id, p, H.now + 400, after, why);
    cr_assert_str_eq(p->status, "pending");
    snprintf(p->status, sizeof p->status, "succeeded");
    snprintf(p->gateway_ref, sizeof p->gateway_ref, "ch_%s", p->id);
    OK(fund_finish, p, H.now + 401, NULL);
    store_contract_free(after);
    fx_reload(k);
    cr_assert_str_eq(k->milestones[i].status, "funded");
}

int64_t fx_account(const char *id)
{
    store_ledger_report *r = NEW(store_ledger_report);
    OK(ledger_report, r);
    free(r->report);
    for (int i = 0; i < r->naccounts; i++)
        if (strcmp(r->accounts[i].id, id) == 0) return r->accounts[i].balance;
    return 0;
}

char *fx_render(const store_idem_done *self, const store_contract *k, int *status)
{
    (void)self;
    *status = 200;
    char *out = malloc(160);
    if (out)
        snprintf(out, 160, "{\"contract\":\"%s\",\"status\":\"%s\"}", k ? k->id : "",
                 k ? k->status : "");
    return out;
}
