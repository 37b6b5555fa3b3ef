/* test_matching: tzinfo against glibc (real zones, synthetic POSIX footers,
 * the v1 fallback), and the matching engine: every hard filter, the exact
 * order and explain of a small fixture, ties, determinism against a
 * reordered index, upsert/remove, overlap across DST, relaxation, k bounds,
 * memory per engineer and the explain JSON. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "rules/matching.h"
#include "rules/skills.h"
#include "rules/tzinfo.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define JAN_2025 1736899200LL /* 2025-01-15 00:00 UTC */
#define MAR_2025 1741737600LL /* 2025-03-12 */
#define JUL_2025 1752537600LL /* 2025-07-15 */

static void setup(void)
{
    cr_assert_geq(tzinfo_load_all(ZONEINFO), 100, "tzdata (Debian package tzdata) is needed");
}

static void teardown(void)
{
    tzinfo_free();
}

TestSuite(tzinfo, .init = setup, .fini = teardown);
TestSuite(matching, .init = setup, .fini = teardown);

/* ============================================================ tzinfo */

static long glibc_offset(const char *tz, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    setenv("TZ", tz, 1);
    tzset();
    cr_assert_not_null(localtime_r(&tt, &tm));
    return tm.tm_gmtoff;
}

static const char *const real_zones[] = {
    "Europe/Berlin",    "America/New_York", "Asia/Kolkata",        "Australia/Sydney",
    "Asia/Kathmandu",   "America/St_Johns", "Pacific/Chatham",     "UTC",
    "Europe/London",    "America/Los_Angeles", "America/Sao_Paulo", "Pacific/Auckland",
    "Asia/Tokyo",       "Africa/Casablanca", "America/Santiago",   "Australia/Lord_Howe",
    "Asia/Tehran",      "America/Nuuk",     "Europe/Dublin",       "Pacific/Kiritimati",
    "Africa/Cairo",     "Asia/Jerusalem",   "Europe/Moscow",       "US/Eastern",
};

Test(tzinfo, matches_glibc_1990_to_2040)
{
    for (size_t z = 0; z < sizeof real_zones / sizeof real_zones[0]; z++) {
        const char *name = real_zones[z];
        int checked = 0;
        /* every 5 days and 7 hours: both sides of every DST change, all hours of the day */
        for (int64_t t = 631152000LL; t < 2240524800LL; t += 5 * 86400 + 7 * 3600) {
            int off = 0;
            cr_assert_eq(tzinfo_offset(name, t, &off), 0, "%s unknown", name);
            long want = glibc_offset(name, t);
            cr_assert_eq(off, want, "%s at %lld: %d, glibc %ld", name, (long long)t, off, want);
            checked++;
        }
        cr_assert_gt(checked, 3000);
    }
}

Test(tzinfo, transitions_to_the_second)
{
    int off;
    /* Berlin: 2025-03-30 01:00 UTC to CEST */
    cr_assert_eq(tzinfo_offset("Europe/Berlin", 1743296400LL - 1, &off), 0);
    cr_assert_eq(off, 3600);
    cr_assert_eq(tzinfo_offset("Europe/Berlin", 1743296400LL, &off), 0);
    cr_assert_eq(off, 7200);
    /* New York: 2025-03-09 07:00 UTC to EDT */
    cr_assert_eq(tzinfo_offset("America/New_York", 1741503600LL - 1, &off), 0);
    cr_assert_eq(off, -18000);
    cr_assert_eq(tzinfo_offset("America/New_York", 1741503600LL, &off), 0);
    cr_assert_eq(off, -14400);
    /* past 2037, from the footer rule */
    cr_assert_eq(tzinfo_offset("Europe/Berlin", 2193091200LL, &off), 0); /* 2039-07-01 */
    cr_assert_eq(off, 7200);
    cr_assert_eq(tzinfo_offset("Australia/Sydney", 2177452800LL, &off), 0); /* 2039-01-01 */
    cr_assert_eq(off, 39600);
    cr_assert_eq(tzinfo_offset("Asia/Kathmandu", 2177452800LL, &off), 0);
    cr_assert_eq(off, 5 * 3600 + 45 * 60);
    cr_assert_eq(tzinfo_offset("Pacific/Chatham", 2177452800LL, &off), 0);
    cr_assert_eq(off, 13 * 3600 + 45 * 60);
    cr_assert_eq(tzinfo_offset("Mars/Olympus_Mons", 0, &off), -1);
    cr_assert_eq(tzinfo_offset("../etc/passwd", 0, &off), -1);
}

Test(tzinfo, links_share_data)
{
    cr_assert_not_null(tzinfo_find("US/Eastern"));
    cr_assert_eq(tzinfo_find("US/Eastern"), tzinfo_find("America/New_York"));
    cr_assert_eq(tzinfo_find("UTC"), tzinfo_find("Etc/UTC"));
}

Test(tzinfo, utc_without_load)
{
    tzinfo_free();
    int off = 1;
    cr_assert_eq(tzinfo_offset("UTC", 1700000000, &off), 0);
    cr_assert_eq(off, 0);
    cr_assert_eq(tzinfo_offset("Europe/Berlin", 1700000000, &off), -1);
    cr_assert_eq(tzinfo_load_all("/nonexistent"), -1);
}

/* a TZif v2 file with no transitions, so the footer decides everything */
static void write_footer_only(const char *path, const char *footer)
{
    unsigned char hdr[44] = {'T', 'Z', 'i', 'f', '2'};
    hdr[39] = 1; /* typecnt */
    hdr[43] = 4; /* charcnt */
    unsigned char data[10] = {0, 0, 0, 0, 0, 0, 'X', 'X', 'X', 0};
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    fwrite(hdr, 1, sizeof hdr, f);
    fwrite(data, 1, sizeof data, f);
    fwrite(hdr, 1, sizeof hdr, f);
    fwrite(data, 1, sizeof data, f);
    fprintf(f, "\n%s\n", footer);
    fclose(f);
}

static void make_dir(const char *path)
{
    cr_assert(mkdir(path, 0700) == 0, "mkdir %s", path);
}

Test(tzinfo, posix_footers_match_glibc)
{
    static const char *const rules[] = {
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "EST5EDT,M3.2.0,M11.1.0",
        "<+0530>-5:30",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
        "NST3:30NDT,M3.2.0,M11.1.0",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
        "EST5EDT,0/0,J365/25",
        "XST3XDT,J60/2,J300/2",
        "YST3YDT,59/2,299/2",
        "<-03>3",
        "UTC0",
    };
    size_t nrules = sizeof rules / sizeof rules[0];
    char dir[] = "/tmp/opx-tzinfo-XXXXXX", path[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/Test", dir);
    make_dir(path);
    snprintf(path, sizeof path, "%s/tzdata.zi", dir);
    FILE *zi = fopen(path, "w");
    cr_assert_not_null(zi);
    for (size_t i = 0; i < nrules; i++) {
        fprintf(zi, "Z Test/R%zu 0 - X\n", i);
        snprintf(path, sizeof path, "%s/Test/R%zu", dir, i);
        write_footer_only(path, rules[i]);
    }
    fclose(zi);
    cr_assert_eq(tzinfo_load_all(dir), (int)nrules);

    for (size_t i = 0; i < nrules; i++) {
        char name[32];
        snprintf(name, sizeof name, "Test/R%zu", i);
        int all_year = strstr(rules[i], "J365/25") != NULL;
        for (int64_t t = 631152000LL; t < 2240524800LL; t += 3 * 86400 + 3600 + 17) {
            int off = 0;
            cr_assert_eq(tzinfo_offset(name, t, &off), 0);
            if (all_year) {
                /* Permanent DST. glibc picks the rule's year from the UTC date,
                 * so for the hours where UTC is already in the next year it
                 * says standard time; POSIX (and tzcode) use the local year. */
                cr_assert_eq(off, -4 * 3600, "at %lld", (long long)t);
                continue;
            }
            long want = glibc_offset(rules[i], t);
            cr_assert_eq(off, want, "%s at %lld: %d, glibc %ld", rules[i], (long long)t, off, want);
        }
        snprintf(path, sizeof path, "%s/Test/R%zu", dir, i);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/Test", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/tzdata.zi", dir);
    unlink(path);
    rmdir(dir);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(tzinfo, version1_fallback)
{
    /* Europe/Berlin cut down to its v1 (32-bit) part, marked version 1 */
    FILE *f = fopen(ZONEINFO "/Europe/Berlin", "rb");
    cr_assert_not_null(f);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_gt(n, 44);
    uint32_t isut = be32(buf + 20), isstd = be32(buf + 24), leap = be32(buf + 28),
             timecnt = be32(buf + 32), typecnt = be32(buf + 36), charcnt = be32(buf + 40);
    size_t v1 = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    cr_assert_gt(timecnt, 100, "a fat file is needed for this test");
    cr_assert_leq(v1, n);
    buf[4] = 0;

    char dir[] = "/tmp/opx-tzinfo-XXXXXX", path[256];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/Berlin1", dir);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(buf, 1, v1, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/tzdata.zi", dir);
    f = fopen(path, "w");
    fputs("Z Berlin1 0 - X\n", f);
    fclose(f);
    cr_assert_eq(tzinfo_load_all(dir), 1);
    for (int64_t t = 631152000LL; t < 2145916800LL; t += 86400 + 3600) { /* to 2038 */
        int off;
        cr_assert_eq(tzinfo_offset("Berlin1", t, &off), 0);
        cr_assert_eq(off, glibc_offset("Europe/Berlin", t), "at %lld", (long long)t);
    }
    unlink(path);
    snprintf(path, sizeof path, "%s/Berlin1", dir);
    unlink(path);
    rmdir(dir);
}

/* ========================================================== matching */

static int skill_ix(const char *id)
{
    int i = skills_find(id);
    cr_assert_geq(i, 0, "%s", id);
    return i;
}

/* a candidate who passes every filter of base_request() */
static match_engineer good(const char *id)
{
    match_engineer e;
    memset(&e, 0, sizeof e);
    e.id = id;
    e.vetted = e.available = true;
    e.hours_per_week = 40;
    e.rate_amount = 8000;
    e.currency = "USD";
    e.tz = "Europe/Berlin";
    e.level = MATCH_SENIOR;
    e.responsiveness = 50;
    return e;
}

/* alice: the best of the fixture */
static match_engineer alice_like(const char *id)
{
    match_engineer e = good(id);
    e.skill_level[skill_ix("fastapi")] = 5;
    e.skill_level[skill_ix("asyncpg")] = 4;
    e.skill_level[skill_ix("httpx")] = 3;
    e.skill_level[skill_ix("starlette")] = 2;
    e.rating = 480;
    e.responsiveness = 90;
    return e;
}

static match_engineer bob(void)
{
    match_engineer e = good("bob");
    e.rate_amount = 6000;
    e.tz = "Europe/London";
    e.hours_per_week = 30;
    e.skill_level[skill_ix("fastapi")] = 3;
    e.skill_level[skill_ix("asyncpg")] = 3;
    e.skill_level[skill_ix("httpx")] = 4;
    e.skill_level[skill_ix("pytest-asyncio")] = 4;
    e.rating = 0; /* not rated yet */
    e.responsiveness = 100;
    return e;
}

static match_engineer ken(void)
{
    match_engineer e = good("ken");
    e.rate_amount = 10000; /* exactly the budget */
    e.tz = "Europe/Paris";
    e.hours_per_week = 20;
    e.skill_level[skill_ix("fastapi")] = 2;
    e.skill_level[skill_ix("asyncpg")] = 2; /* below the minimum of 3 */
    e.rating = 400;
    e.responsiveness = 50;
    return e;
}

static match_request base_request(void)
{
    match_request r;
    match_request_init(&r);
    cr_assert_eq(match_request_must(&r, "fastapi", 0), 0);
    cr_assert_eq(match_request_must(&r, "asyncpg", 3), 0);
    cr_assert_eq(match_request_nice(&r, "httpx"), 0);
    cr_assert_eq(match_request_nice(&r, "pytest-asyncio"), 0);
    cr_assert_eq(match_request_framework(&r, "fastapi"), 0);
    cr_assert_eq(match_request_framework(&r, "starlette"), 0);
    r.seniority = MATCH_SENIOR;
    r.max_rate_amount = 10000;
    memcpy(r.currency, "USD", 4);
    r.hours_per_week = 20;
    snprintf(r.client_tz, sizeof r.client_tz, "Europe/Berlin");
    r.min_overlap_hours = 4;
    r.start_date = JAN_2025;
    r.k = MATCH_K_MAX;
    return r;
}

static void upsert_ok(match_index *ix, const match_engineer *e)
{
    int rc = match_upsert(ix, e);
    cr_assert_eq(rc, 0, "upsert %s: %d", e->id, rc);
}

/* the variants of alice that one filter each must exclude */
typedef void (*mutate_fn)(match_engineer *);
static void m_unvetted(match_engineer *e) { e->vetted = false; }
static void m_unavailable(match_engineer *e) { e->available = false; }
static void m_busy(match_engineer *e) { e->busy = true; }
static void m_over_budget(match_engineer *e) { e->rate_amount = 10001; }
static void m_currency(match_engineer *e) { e->currency = "EUR"; e->rate_amount = 5000; }
static void m_hours(match_engineer *e) { e->hours_per_week = 19; }
static void m_no_overlap(match_engineer *e) { e->tz = "America/New_York"; } /* 2 h in January */
static void m_staff(match_engineer *e) { e->level = MATCH_STAFF; }
static void m_mid(match_engineer *e) { e->level = MATCH_MID; }

static const struct {
    const char *id;
    mutate_fn fn;
} variants[] = {
    {"x-unvetted", m_unvetted}, {"x-unavailable", m_unavailable}, {"x-busy", m_busy},
    {"x-over-budget", m_over_budget}, {"x-eur", m_currency}, {"x-hours", m_hours},
    {"x-new-york", m_no_overlap}, {"x-staff", m_staff}, {"x-mid", m_mid},
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

static match_index *fixture(void)
{
    match_index *ix = match_index_new();
    cr_assert_not_null(ix);
    match_engineer a = alice_like("alice"), b = bob(), k = ken();
    upsert_ok(ix, &k);
    upsert_ok(ix, &a);
    for (size_t i = 0; i < NVARIANTS; i++) {
        match_engineer v = alice_like(variants[i].id);
        variants[i].fn(&v);
        upsert_ok(ix, &v);
    }
    upsert_ok(ix, &b);
    cr_assert_eq(match_count(ix), 3 + NVARIANTS);
    return ix;
}

static match_result res[MATCH_K_MAX];

static int query(const match_index *ix, const match_request *r)
{
    int n = match_query(ix, r, res, MATCH_K_MAX);
    cr_assert_geq(n, 0, "match_query: %d", n);
    for (int i = 0; i < n; i++) {
        const match_explain *x = &res[i].explain;
        int sum = x->must_have.points + x->nice_to_have.points + x->frameworks.points +
                  x->seniority.points + x->rate.points + x->overlap.points + x->rating.points +
                  x->responsiveness.points;
        cr_assert_eq(sum, res[i].score_x100, "%s: parts add up", res[i].id);
        cr_assert_float_eq(res[i].score, res[i].score_x100 / 100.0, 1e-9);
        if (i > 0)
            cr_assert(res[i - 1].score_x100 > res[i].score_x100 ||
                          (res[i - 1].score_x100 == res[i].score_x100 &&
                           strcmp(res[i - 1].id, res[i].id) < 0),
                      "order at %d", i);
    }
    return n;
}

static int find(int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(res[i].id, id) == 0) return i;
    return -1;
}

Test(matching, fixture_order_and_explain)
{
    match_index *ix = fixture();
    match_request r = base_request();
    int n = query(ix, &r);
    cr_assert_eq(n, 3, "only alice, bob and ken pass; got %d", n);
    cr_assert_str_eq(res[0].id, "alice");
    cr_assert_str_eq(res[1].id, "bob");
    cr_assert_str_eq(res[2].id, "ken");
    cr_assert_eq(res[0].score_x100, 8110);
    cr_assert_eq(res[1].score_x100, 6775);
    cr_assert_eq(res[2].score_x100, 4050);

    const match_explain *a = &res[0].explain;
    cr_assert_eq(a->must_have.points, 3600); /* (5 + 4) / 10 of 40 */
    cr_assert_eq(a->must_have.matched, 1u << skill_ix("fastapi") | 1u << skill_ix("asyncpg"));
    cr_assert_eq(a->must_have.missing, 0);
    cr_assert_eq(a->levels[skill_ix("fastapi")], 5);
    cr_assert_eq(a->nice_to_have.points, 300); /* httpx 3 of 10 */
    cr_assert_eq(a->nice_to_have.missing, 1u << skill_ix("pytest-asyncio"));
    cr_assert_eq(a->frameworks.points, 700); /* fastapi 5 + starlette 2 */
    cr_assert_eq(a->seniority.points, 1000);
    cr_assert_eq(a->rate.points, 100); /* 5 * 2000 / 10000 */
    cr_assert_eq(a->rate.rate, 8000);
    cr_assert_eq(a->rate.budget, 10000);
    cr_assert_str_eq(a->rate.currency, "USD");
    cr_assert_eq(a->overlap.minutes, 480);
    cr_assert_float_eq(a->overlap.hours, 8.0, 1e-9);
    cr_assert_eq(a->overlap.points, 1000);
    cr_assert_eq(a->rating.points, 960);
    cr_assert_eq(a->responsiveness.points, 450);

    const match_explain *b = &res[1].explain;
    cr_assert_eq(b->must_have.points, 2400);
    cr_assert_eq(b->nice_to_have.points, 800);
    cr_assert_eq(b->frameworks.points, 300);
    cr_assert_eq(b->frameworks.missing, 1u << skill_ix("starlette"));
    cr_assert_eq(b->rate.points, 200);
    cr_assert_eq(b->overlap.minutes, 420); /* London is an hour behind Berlin */
    cr_assert_float_eq(b->overlap.hours, 7.0, 1e-9);
    cr_assert_eq(b->overlap.points, 875);
    cr_assert_eq(b->rating.rating, 0);
    cr_assert_eq(b->rating.points, 700, "unrated: scored as 3.50");

    const match_explain *k = &res[2].explain;
    cr_assert_eq(k->must_have.points, 800); /* fastapi 2; asyncpg 2 < 3 counts 0 */
    cr_assert_eq(k->must_have.matched, 1u << skill_ix("fastapi"));
    cr_assert_eq(k->must_have.missing, 1u << skill_ix("asyncpg"));
    cr_assert_eq(k->must_have.min_level[skill_ix("asyncpg")], 3);
    cr_assert_eq(k->rate.points, 0, "at the budget");
    match_index_free(ix);
}

/* the variant passes once the filter it trips is relaxed or it is fixed */
static void expect_excluded(const char *id, mutate_fn fn)
{
    match_index *ix = match_index_new();
    match_engineer e = alice_like(id), ok = alice_like("control");
    fn(&e);
    upsert_ok(ix, &e);
    upsert_ok(ix, &ok);
    match_request r = base_request();
    int n = query(ix, &r);
    cr_assert_eq(n, 1, "%s", id);
    cr_assert_str_eq(res[0].id, "control");
    match_index_free(ix);
}

Test(matching, filter_unvetted) { expect_excluded("x", m_unvetted); }
Test(matching, filter_unavailable) { expect_excluded("x", m_unavailable); }
Test(matching, filter_busy) { expect_excluded("x", m_busy); }
Test(matching, filter_over_budget) { expect_excluded("x", m_over_budget); }
Test(matching, filter_other_currency) { expect_excluded("x", m_currency); }
Test(matching, filter_too_few_hours) { expect_excluded("x", m_hours); }
Test(matching, filter_overlap) { expect_excluded("x", m_no_overlap); }
Test(matching, filter_seniority_above) { expect_excluded("x", m_staff); }
Test(matching, filter_seniority_below) { expect_excluded("x", m_mid); }

Test(matching, no_budget_filters_no_rate_or_currency)
{
    match_index *ix = fixture();
    match_request r = base_request();
    r.max_rate_amount = 0;
    int n = query(ix, &r);
    cr_assert_eq(n, 5, "alice, bob, ken, x-over-budget, x-eur");
    cr_assert_geq(find(n, "x-over-budget"), 0);
    cr_assert_geq(find(n, "x-eur"), 0);
    for (int i = 0; i < n; i++) cr_assert_eq(res[i].explain.rate.points, 0);
    r.max_rate_amount = 10000;
    memcpy(r.currency, "GBP", 4); /* nobody charges in GBP */
    cr_assert_eq(query(ix, &r), 0);
    memcpy(r.currency, "EUR", 4);
    n = query(ix, &r);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(res[0].id, "x-eur");
    cr_assert_eq(res[0].explain.rate.points, 250); /* 5 * 5000 / 10000 */
    match_index_free(ix);
}

Test(matching, relax_seniority_plus_minus_one)
{
    match_index *ix = fixture();
    match_request r = base_request();
    r.relax = MATCH_RELAX_SENIORITY;
    int n = query(ix, &r);
    cr_assert_eq(n, 5);
    static const char *const order[] = {"alice", "x-staff", "x-mid", "bob", "ken"};
    static const int scores[] = {8110, 7710, 7410, 6775, 4050};
    for (int i = 0; i < n; i++) {
        cr_assert_str_eq(res[i].id, order[i]);
        cr_assert_eq(res[i].score_x100, scores[i], "%s", order[i]);
    }
    cr_assert_eq(res[1].explain.seniority.points, 600);
    cr_assert_eq(res[1].explain.seniority.has, MATCH_STAFF);
    cr_assert_eq(res[1].explain.seniority.wanted, MATCH_SENIOR);
    cr_assert_eq(res[2].explain.seniority.points, 300);
    /* two levels away never passes */
    r.seniority = MATCH_MID;
    n = query(ix, &r);
    cr_assert_lt(find(n, "x-staff"), 0);
    cr_assert_geq(find(n, "x-mid"), 0);
    match_index_free(ix);
}

Test(matching, relax_overlap)
{
    match_index *ix = fixture();
    match_request r = base_request();
    r.relax = MATCH_RELAX_OVERLAP;
    int n = query(ix, &r);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(res[1].id, "x-new-york");
    cr_assert_eq(res[1].explain.overlap.minutes, 120);
    cr_assert(res[1].explain.overlap.ignored);
    cr_assert_eq(res[1].explain.overlap.points, 250, "still scored: 2 h of 8");
    cr_assert_eq(res[1].score_x100, 8110 - 1000 + 250);
    match_index_free(ix);
}

Test(matching, relax_nice_to_have)
{
    match_index *ix = fixture();
    match_request r = base_request();
    r.relax = MATCH_RELAX_NICE;
    int n = query(ix, &r);
    cr_assert_eq(n, 3);
    cr_assert_eq(res[0].score_x100, 8110 - 300 + 1000);
    cr_assert_eq(res[1].score_x100, 6775 - 800 + 1000);
    cr_assert_eq(res[2].score_x100, 4050 + 1000);
    for (int i = 0; i < n; i++) {
        cr_assert(res[i].explain.nice_to_have.dropped);
        cr_assert_eq(res[i].explain.nice_to_have.points, 1000);
        cr_assert_eq(res[i].explain.nice_to_have.matched, 0);
    }
    match_index_free(ix);
}

Test(matching, ties_broken_by_id)
{
    static const char *const ids[] = {"t-3", "t-1", "t-4", "t-2"};
    match_index *a = match_index_new(), *b = match_index_new();
    for (int i = 0; i < 4; i++) {
        match_engineer e = bob();
        e.id = ids[i];
        upsert_ok(a, &e);
        e.id = ids[3 - i];
        upsert_ok(b, &e);
    }
    match_request r = base_request();
    for (int pass = 0; pass < 2; pass++) {
        int n = query(pass ? b : a, &r);
        cr_assert_eq(n, 4);
        for (int i = 0; i < 4; i++) {
            char want[8];
            snprintf(want, sizeof want, "t-%d", i + 1);
            cr_assert_str_eq(res[i].id, want);
            cr_assert_eq(res[i].score_x100, 6775);
        }
        r.k = 2;
        cr_assert_eq(query(pass ? b : a, &r), 2);
        cr_assert_str_eq(res[0].id, "t-1");
        cr_assert_str_eq(res[1].id, "t-2");
        r.k = MATCH_K_MAX;
    }
    match_index_free(a);
    match_index_free(b);
}

/* --------------------------------------------------- random populations */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static const char *const some_zones[] = {"Europe/Berlin", "Europe/London", "America/New_York",
                                         "Asia/Kolkata", "America/Sao_Paulo", "Asia/Kathmandu",
                                         "Pacific/Auckland", "America/Los_Angeles"};
static char rand_ids[4000][32];

static match_engineer random_engineer(int i)
{
    snprintf(rand_ids[i], sizeof rand_ids[i], "usr_%05u%03d", rnd(100000), i);
    match_engineer e = good(rand_ids[i]);
    e.vetted = rnd(10) < 8;
    e.available = rnd(10) < 9;
    e.busy = rnd(20) == 0;
    e.hours_per_week = 10 + 10 * (int)rnd(4);
    e.rate_amount = 5000 + 1000 * rnd(8); /* coarse: many ties */
    e.currency = rnd(10) < 8 ? "USD" : "EUR";
    e.tz = some_zones[rnd(8)];
    e.level = (int)rnd(3);
    for (int s = 0; s < 6; s++) e.skill_level[rnd(MATCH_SKILLS)] = (uint8_t)(1 + rnd(5));
    e.rating = rnd(3) ? 300 + 50 * (int)rnd(5) : 0;
    e.responsiveness = 50 + 25 * (int)rnd(3);
    return e;
}

static match_request random_request(void)
{
    match_request r;
    match_request_init(&r);
    for (int s = 0, n = 1 + (int)rnd(4); s < n; s++) {
        int i = (int)rnd(MATCH_SKILLS);
        r.must_mask |= 1u << i;
        r.must_min[i] = (uint8_t)rnd(4);
    }
    for (int s = 0, n = (int)rnd(3); s < n; s++) r.nice_mask |= 1u << rnd(MATCH_SKILLS);
    if (rnd(2)) r.framework_mask |= 1u << skill_ix("fastapi");
    r.seniority = (int)rnd(3);
    r.max_rate_amount = rnd(4) ? 6000 + 1000 * rnd(8) : 0;
    memcpy(r.currency, rnd(5) ? "USD" : "EUR", 4);
    r.hours_per_week = 10 * (int)rnd(4);
    snprintf(r.client_tz, sizeof r.client_tz, "%s", some_zones[rnd(8)]);
    r.min_overlap_hours = (int)rnd(6);
    r.start_date = JAN_2025 + 86400LL * rnd(365);
    r.k = 1 + (int)rnd(MATCH_K_MAX);
    r.relax = rnd(8);
    return r;
}

Test(matching, deterministic_and_independent_of_insertion_order)
{
    enum { N = 3000 };
    rng_state = 42;
    match_index *a = match_index_new(), *b = match_index_new();
    static match_engineer es[N];
    for (int i = 0; i < N; i++) es[i] = random_engineer(i);
    for (int i = 0; i < N; i++) upsert_ok(a, &es[i]);
    /* b: reverse order, with a third removed and put back, some twice */
    for (int i = N - 1; i >= 0; i--) upsert_ok(b, &es[i]);
    for (int i = 0; i < N; i += 3) cr_assert_eq(match_remove(b, es[i].id), 0);
    for (int i = 0; i < N; i += 3) upsert_ok(b, &es[i]);
    for (int i = 0; i < N; i += 7) upsert_ok(b, &es[i]);
    cr_assert_eq(match_count(a), match_count(b));

    static match_result ra[MATCH_K_MAX], rb[MATCH_K_MAX], rc2[MATCH_K_MAX];
    int nonempty = 0;
    for (int q = 0; q < 300; q++) {
        match_request r = random_request();
        int na = match_query(a, &r, ra, MATCH_K_MAX);
        int nb = match_query(b, &r, rb, MATCH_K_MAX);
        int nc = match_query(a, &r, rc2, MATCH_K_MAX); /* again: the zone cache is warm */
        cr_assert_geq(na, 0);
        cr_assert_eq(na, nb, "query %d", q);
        cr_assert_eq(na, nc);
        nonempty += na > 0;
        for (int i = 0; i < na; i++) {
            cr_assert_str_eq(ra[i].id, rb[i].id, "query %d rank %d", q, i);
            cr_assert_str_eq(ra[i].id, rc2[i].id);
            cr_assert_eq(ra[i].score_x100, rb[i].score_x100);
            cr_assert_eq(memcmp(&ra[i].explain, &rb[i].explain, sizeof ra[i].explain), 0);
        }
    }
    cr_assert_gt(nonempty, 100);
    match_index_free(a);
    match_index_free(b);
}

/* Top-k by heap equals the head of the full ranking: taking the best 50
 * away repeatedly must walk down the whole ranking without a step up. */
Test(matching, top_k_is_the_head_of_the_full_ranking)
{
    enum { N = 1500 };
    rng_state = 7;
    match_index *ix = match_index_new();
    for (int i = 0; i < N; i++) {
        match_engineer e = random_engineer(i);
        e.vetted = e.available = true;
        e.busy = false;
        upsert_ok(ix, &e);
    }
    match_request r;
    match_request_init(&r);
    r.must_mask = 1u << skill_ix("fastapi") | 1u << skill_ix("asyncpg");
    r.relax = MATCH_RELAX_SENIORITY | MATCH_RELAX_OVERLAP;
    r.k = MATCH_K_MAX;
    r.start_date = JUL_2025;
    int prev_score = 1 << 30, total = 0;
    char prev_id[32] = "";
    for (;;) {
        int n = query(ix, &r);
        if (n == 0) break;
        cr_assert(res[0].score_x100 < prev_score ||
                      (res[0].score_x100 == prev_score && strcmp(res[0].id, prev_id) > 0),
                  "a better engineer was left out");
        prev_score = res[n - 1].score_x100;
        snprintf(prev_id, sizeof prev_id, "%s", res[n - 1].id);
        /* a smaller k gives the same head */
        static match_result head[5];
        match_request r5 = r;
        r5.k = 5;
        int n5 = match_query(ix, &r5, head, 5);
        cr_assert_eq(n5, n < 5 ? n : 5);
        for (int i = 0; i < n5; i++) cr_assert_str_eq(head[i].id, res[i].id);
        for (int i = 0; i < n; i++) cr_assert_eq(match_remove(ix, res[i].id), 0);
        total += n;
    }
    cr_assert_gt(total, 200);
    match_index_free(ix);
}

Test(matching, upsert_replaces)
{
    match_index *ix = fixture();
    size_t before = match_count(ix);
    match_engineer a = alice_like("alice");
    a.rate_amount = 9000;
    a.tz = "Europe/London";
    a.skill_level[skill_ix("asyncpg")] = 1; /* now below the minimum */
    upsert_ok(ix, &a);
    cr_assert_eq(match_count(ix), before);
    match_request r = base_request();
    int n = query(ix, &r);
    cr_assert_eq(n, 3);
    int i = find(n, "alice");
    cr_assert_geq(i, 0);
    cr_assert_eq(res[i].explain.rate.rate, 9000);
    cr_assert_eq(res[i].explain.overlap.minutes, 420);
    cr_assert_eq(res[i].explain.must_have.missing, 1u << skill_ix("asyncpg"));
    /* and replacing with something filtered takes alice out */
    a.busy = true;
    upsert_ok(ix, &a);
    cr_assert_eq(match_count(ix), before);
    cr_assert_lt(find(query(ix, &r), "alice"), 0);
    match_index_free(ix);
}

Test(matching, remove)
{
    match_index *ix = fixture();
    size_t before = match_count(ix);
    cr_assert_eq(match_remove(ix, "bob"), 0);
    cr_assert_eq(match_count(ix), before - 1);
    cr_assert_eq(match_remove(ix, "bob"), MATCH_ENOENT);
    cr_assert_eq(match_remove(ix, "nobody"), MATCH_ENOENT);
    match_request r = base_request();
    int n = query(ix, &r);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(res[0].id, "alice");
    cr_assert_str_eq(res[1].id, "ken");
    match_engineer b = bob();
    upsert_ok(ix, &b);
    cr_assert_eq(query(ix, &r), 3);
    match_index_free(ix);
}

Test(matching, hash_table_under_churn)
{
    enum { N = 20000 };
    static char ids[N][32];
    match_index *ix = match_index_new();
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "usr_%020d", i * 7919);
        match_engineer e = good(ids[i]);
        upsert_ok(ix, &e);
    }
    cr_assert_eq(match_count(ix), N);
    for (int i = 0; i < N; i += 3) cr_assert_eq(match_remove(ix, ids[i]), 0);
    for (int i = 0; i < N; i++) {
        int rc = match_remove(ix, ids[i]);
        if (i % 3 == 0) cr_assert_eq(rc, MATCH_ENOENT, "%s", ids[i]);
        else cr_assert_eq(rc, 0, "%s", ids[i]);
    }
    cr_assert_eq(match_count(ix), 0);
    for (int i = 0; i < N; i++) {
        match_engineer e = good(ids[i]);
        upsert_ok(ix, &e);
    }
    cr_assert_eq(match_count(ix), N);
    match_request r;
    match_request_init(&r);
    snprintf(r.client_tz, sizeof r.client_tz, "Europe/Berlin");
    r.k = 3;
    cr_assert_eq(match_query(ix, &r, res, MATCH_K_MAX), 3);
    cr_assert_str_eq(res[0].id, "usr_00000000000000000000", "all tie; the smallest id first");
    match_index_free(ix);
}

Test(matching, memory_per_engineer)
{
    enum { N = 50000 };
    static char ids[N][32];
    match_index *ix = match_index_new();
    rng_state = 3;
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "usr_%010u%010d", rnd(1u << 31), i);
        match_engineer e = good(ids[i]);
        e.tz = some_zones[i % 8];
        int rc = match_upsert(ix, &e);
        cr_assert(rc == 0);
    }
    double per = (double)match_memory_bytes(ix) / (double)match_count(ix);
    cr_assert_lt(per, 200.0, "%.1f bytes per engineer", per);
    match_index_free(ix);
}

/* ---------------------------------------------------------- overlap/DST */

/* overlap in minutes of one engineer in zone with a client in client_tz */
static int overlap_of(const char *zone, const char *client_tz, int64_t start)
{
    match_index *ix = match_index_new();
    match_engineer e = good("e");
    e.tz = zone;
    upsert_ok(ix, &e);
    match_request r;
    match_request_init(&r);
    snprintf(r.client_tz, sizeof r.client_tz, "%s", client_tz);
    r.start_date = start;
    r.relax = MATCH_RELAX_OVERLAP;
    cr_assert_eq(match_query(ix, &r, res, 1), 1);
    int m = res[0].explain.overlap.minutes;
    match_index_free(ix);
    return m;
}

Test(matching, overlap_changes_with_dst)
{
    /* Berlin CET/CEST, Sao Paulo -03 all year: 4 h in January, 3 h in July */
    cr_assert_eq(overlap_of("America/Sao_Paulo", "Europe/Berlin", JAN_2025), 240);
    cr_assert_eq(overlap_of("America/Sao_Paulo", "Europe/Berlin", JUL_2025), 180);
    /* London and New York: 3 h, except while only the US is on summer time */
    cr_assert_eq(overlap_of("America/New_York", "Europe/London", JAN_2025), 180);
    cr_assert_eq(overlap_of("America/New_York", "Europe/London", MAR_2025), 240);
    cr_assert_eq(overlap_of("America/New_York", "Europe/London", JUL_2025), 180);
    /* across the date line: Auckland's morning is Los Angeles' afternoon */
    cr_assert_eq(overlap_of("Pacific/Auckland", "America/Los_Angeles", JAN_2025), 300);
    cr_assert_eq(overlap_of("Pacific/Auckland", "America/Los_Angeles", JUL_2025), 180);
    cr_assert_eq(overlap_of("America/Los_Angeles", "Pacific/Auckland", JAN_2025), 300);
    /* odd offsets */
    cr_assert_eq(overlap_of("Asia/Kathmandu", "Europe/Berlin", JAN_2025), 195);
    cr_assert_eq(overlap_of("America/St_Johns", "Europe/Berlin", JAN_2025), 210);
    cr_assert_eq(overlap_of("Pacific/Chatham", "America/Los_Angeles", JAN_2025), 345);
    cr_assert_eq(overlap_of("Pacific/Chatham", "UTC", JAN_2025), 0);
    cr_assert_eq(overlap_of("Asia/Kolkata", "Asia/Kolkata", JUL_2025), 480);
}

Test(matching, overlap_hours_one_decimal)
{
    match_index *ix = match_index_new();
    match_engineer e = good("e");
    e.tz = "Pacific/Chatham";
    upsert_ok(ix, &e);
    match_request r;
    match_request_init(&r);
    snprintf(r.client_tz, sizeof r.client_tz, "America/Los_Angeles");
    r.start_date = JAN_2025;
    r.min_overlap_hours = 5;
    cr_assert_eq(match_query(ix, &r, res, 1), 1, "5 h 45 min passes a 5 h minimum");
    cr_assert_float_eq(res[0].explain.overlap.hours, 5.8, 1e-9);
    r.min_overlap_hours = 6;
    cr_assert_eq(match_query(ix, &r, res, 1), 0);
    match_index_free(ix);
}

/* ----------------------------------------------------------- k and input */

Test(matching, k_bounds)
{
    match_index *ix = match_index_new();
    static char ids[60][8];
    for (int i = 0; i < 60; i++) {
        snprintf(ids[i], sizeof ids[i], "k-%02d", i);
        match_engineer e = good(ids[i]);
        upsert_ok(ix, &e);
    }
    match_request r;
    match_request_init(&r);
    r.k = 0;
    cr_assert_eq(match_query(ix, &r, res, MATCH_K_MAX), MATCH_K_DEFAULT);
    r.k = 100;
    cr_assert_eq(match_query(ix, &r, res, MATCH_K_MAX), MATCH_K_MAX);
    cr_assert_str_eq(res[49].id, "k-49");
    r.k = 10;
    cr_assert_eq(match_query(ix, &r, res, 3), 3, "no more than out has room for");
    r.k = 1;
    cr_assert_eq(match_query(ix, &r, res, MATCH_K_MAX), 1);
    cr_assert_str_eq(res[0].id, "k-00");
    cr_assert_eq(match_query(ix, &r, res, 0), MATCH_EINVAL);
    r.k = -1;
    cr_assert_eq(match_query(ix, &r, res, MATCH_K_MAX), MATCH_EINVAL);
    match_index_free(ix);

    ix = match_index_new();
    match_request_init(&r);
    cr_assert_eq(match_query(ix, &r, res, MATCH_K_MAX), 0, "an empty index");
    match_index_free(ix);
}

Test(matching, invalid_input)
{
    match_index *ix = match_index_new();
    match_engineer e = good("e");
    e.tz = "Mars/Olympus_Mons";
    cr_assert_eq(match_upsert(ix, &e), MATCH_EZONE);
    e = good("e");
    e.skill_level[0] = 6;
    cr_assert_eq(match_upsert(ix, &e), MATCH_EINVAL);
    e = good("0123456789abcdef0123456789abcdef"); /* 32 bytes */
    cr_assert_eq(match_upsert(ix, &e), MATCH_EINVAL);
    e = good("");
    cr_assert_eq(match_upsert(ix, &e), MATCH_EINVAL);
    e = good("e");
    e.currency = "usd";
    cr_assert_eq(match_upsert(ix, &e), MATCH_EINVAL);
    e = good("e");
    e.level = 3;
    cr_assert_eq(match_upsert(ix, &e), MATCH_EINVAL);
    e = good("e");
    e.rating = 501;
    cr_assert_eq(match_upsert(ix, &e), MATCH_EINVAL);
    cr_assert_eq(match_count(ix), 0, "nothing half-added");
    e = good("0123456789abcdef0123456789abcde"); /* 31 bytes */
    upsert_ok(ix, &e);

    match_request r;
    match_request_init(&r);
    cr_assert_eq(match_request_must(&r, "cobol", 1), MATCH_EINVAL);
    cr_assert_eq(match_request_must(&r, "fastapi", 6), MATCH_EINVAL);
    cr_assert_eq(match_request_nice(&r, NULL), MATCH_EINVAL);
    cr_assert_eq(match_request_framework(&r, "asyncpg"), MATCH_EINVAL, "not a framework");
    cr_assert_eq(r.must_mask | r.nice_mask | r.framework_mask, 0);
    snprintf(r.client_tz, sizeof r.client_tz, "Nowhere/Special");
    cr_assert_eq(match_query(ix, &r, res, 5), MATCH_EZONE);
    match_request_init(&r);
    r.min_overlap_hours = 13;
    cr_assert_eq(match_query(ix, &r, res, 5), MATCH_EINVAL);
    match_request_init(&r);
    r.framework_mask = 1u << skill_ix("asyncpg");
    cr_assert_eq(match_query(ix, &r, res, 5), MATCH_EINVAL);
    match_request_init(&r);
    r.max_rate_amount = 100;
    memcpy(r.currency, "us", 3);
    cr_assert_eq(match_query(ix, &r, res, 5), MATCH_EINVAL);
    match_index_free(ix);
}

Test(matching, explain_json)
{
    match_index *ix = fixture();
    match_request r = base_request();
    cr_assert_eq(query(ix, &r), 3);

    json_t *a = match_explain_json(&res[0]);
    cr_assert_not_null(a);
    json_t *must = json_object_get(a, "must_have");
    cr_assert_float_eq(json_real_value(json_object_get(must, "points")), 36.0, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(must, "max")), 40);
    json_t *m0 = json_array_get(json_object_get(must, "matched"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(m0, "skill")), "fastapi");
    cr_assert_eq(json_integer_value(json_object_get(m0, "vetted_level")), 5);
    cr_assert_eq(json_array_size(json_object_get(must, "matched")), 2);
    cr_assert_eq(json_array_size(json_object_get(must, "missing")), 0);
    json_t *nice = json_object_get(a, "nice_to_have");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(nice, "missing"), 0)),
                     "pytest-asyncio");
    cr_assert(json_is_false(json_object_get(nice, "dropped")));
    json_t *sen = json_object_get(a, "seniority");
    cr_assert_str_eq(json_string_value(json_object_get(sen, "wanted")), "senior");
    cr_assert_str_eq(json_string_value(json_object_get(sen, "has")), "senior");
    json_t *rate = json_object_get(a, "rate");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(rate, "rate"), "amount")),
                 8000);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(rate, "budget"), "currency")), "USD");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(rate, "budget"), "amount")),
                 10000);
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(a, "overlap"), "hours")),
                       8.0, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(json_object_get(a, "rating"), "rating")),
                       4.8, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(a, "responsiveness"), "value")),
                 90);
    double sum = 0;
    const char *key;
    json_t *part;
    json_object_foreach(a, key, part) sum += json_real_value(json_object_get(part, "points"));
    cr_assert_float_eq(sum, 81.10, 1e-9);
    json_decref(a);

    json_t *b = match_explain_json(&res[1]);
    cr_assert(json_is_null(json_object_get(json_object_get(b, "rating"), "rating")));
    json_decref(b);

    json_t *k = match_explain_json(&res[2]);
    json_t *miss = json_array_get(json_object_get(json_object_get(k, "must_have"), "missing"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(miss, "skill")), "asyncpg");
    cr_assert_eq(json_integer_value(json_object_get(miss, "vetted_level")), 2);
    cr_assert_eq(json_integer_value(json_object_get(miss, "min_level")), 3);
    json_decref(k);

    r.max_rate_amount = 0;
    cr_assert_eq(query(ix, &r), 5);
    json_t *nb = match_explain_json(&res[0]);
    cr_assert(json_is_null(json_object_get(json_object_get(nb, "rate"), "budget")));
    json_decref(nb);
    match_index_free(ix);
}
