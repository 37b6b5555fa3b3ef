/* test_misc: the small modules. ratelimit (buckets, refill on explicit
 * clocks, retry-after, clear, eviction that only ever forgives), static
 * path cleaning and content types, clock formats, the Prometheus text
 * output, and the account rules for emails and passwords. */
#include "core/buf.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/ratelimit.h"
#include "services/accounts.h"
#include "http/static.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- ratelimit ------------------------------------------------------------- */

static int rl_ok(ratelimit *rl, const char *key, uint64_t now, int *remaining, int *retry)
{
    int rem = -1, ra = -1;
    int ok = ratelimit_check(rl, key, now, &rem, &ra);
    if (remaining) *remaining = rem;
    if (retry) *retry = ra;
    return ok;
}

Test(ratelimit, burst_then_refused)
{
    ratelimit *rl = ratelimit_new(64, 3, 1);
    cr_assert_not_null(rl);
    cr_assert_eq(ratelimit_burst(rl), 3.0);
    int rem, ra;
    cr_assert(rl_ok(rl, "ip1", 1000, &rem, &ra));
    cr_assert_eq(rem, 3, "an unknown key has the full burst");
    cr_assert_eq(ra, 0);
    for (int i = 0; i < 3; i++) {
        cr_assert(rl_ok(rl, "ip1", 1000, NULL, NULL), "charge %d", i);
        ratelimit_charge(rl, "ip1", 1000);
    }
    cr_assert_not(rl_ok(rl, "ip1", 1000, &rem, &ra));
    cr_assert_eq(rem, 0);
    cr_assert_eq(ra, 1);
    cr_assert(rl_ok(rl, "ip2", 1000, &rem, NULL), "other keys are independent");
    cr_assert_eq(rem, 3);
    ratelimit_free(rl);
}

Test(ratelimit, check_does_not_charge)
{
    ratelimit *rl = ratelimit_new(16, 2, 1);
    for (int i = 0; i < 50; i++)
        cr_assert(rl_ok(rl, "k", 5000, NULL, NULL));
    ratelimit_charge(rl, "k", 5000);
    int rem;
    for (int i = 0; i < 50; i++)
        cr_assert(rl_ok(rl, "k", 5000, &rem, NULL));
    cr_assert_eq(rem, 1);
    ratelimit_free(rl);
}

Test(ratelimit, refill_over_time)
{
    ratelimit *rl = ratelimit_new(64, 4, 0.5); /* one token per 2 s */
    for (int i = 0; i < 4; i++)
        ratelimit_charge(rl, "k", 10000);
    int rem, ra;
    cr_assert_not(rl_ok(rl, "k", 10000, &rem, &ra));
    cr_assert_eq(ra, 2);
    cr_assert_not(rl_ok(rl, "k", 11000, &rem, &ra), "half a token is not a token");
    cr_assert_eq(ra, 1);
    cr_assert_not(rl_ok(rl, "k", 11999, NULL, &ra));
    cr_assert_eq(ra, 1);
    cr_assert(rl_ok(rl, "k", 12000, &rem, &ra));
    cr_assert_eq(rem, 1);
    cr_assert(rl_ok(rl, "k", 16000, &rem, NULL));
    cr_assert_eq(rem, 3);
    cr_assert(rl_ok(rl, "k", 1000000, &rem, NULL));
    cr_assert_eq(rem, 4, "refill stops at the burst");
    /* charging after a long rest starts from a full bucket, not more */
    ratelimit_charge(rl, "k", 1000000);
    cr_assert(rl_ok(rl, "k", 1000000, &rem, NULL));
    cr_assert_eq(rem, 3);
    ratelimit_free(rl);
}

Test(ratelimit, charge_never_goes_below_zero)
{
    ratelimit *rl = ratelimit_new(64, 2, 1);
    for (int i = 0; i < 100; i++)
        ratelimit_charge(rl, "k", 1000);
    int rem, ra;
    cr_assert_not(rl_ok(rl, "k", 1000, &rem, &ra));
    cr_assert_eq(ra, 1, "no debt: one second gives one token back");
    cr_assert(rl_ok(rl, "k", 2000, &rem, NULL));
    cr_assert_eq(rem, 1);
    ratelimit_free(rl);
}

Test(ratelimit, clock_going_backwards_is_harmless)
{
    ratelimit *rl = ratelimit_new(64, 2, 1);
    ratelimit_charge(rl, "k", 50000);
    ratelimit_charge(rl, "k", 50000);
    int rem;
    cr_assert_not(rl_ok(rl, "k", 1000, &rem, NULL));
    cr_assert_eq(rem, 0);
    ratelimit_charge(rl, "k", 1000);
    cr_assert(rl_ok(rl, "k", 2000, &rem, NULL));
    ratelimit_free(rl);
}

Test(ratelimit, retry_after_rounds_up)
{
    ratelimit *rl = ratelimit_new(64, 1, 0.25); /* 4 s per token */
    ratelimit_charge(rl, "k", 0);
    int ra;
    cr_assert_not(rl_ok(rl, "k", 0, NULL, &ra));
    cr_assert_eq(ra, 4);
    cr_assert_not(rl_ok(rl, "k", 1000, NULL, &ra));
    cr_assert_eq(ra, 3);
    cr_assert_not(rl_ok(rl, "k", 3500, NULL, &ra));
    cr_assert_eq(ra, 1, "0.5 s left rounds up to 1");
    ratelimit_free(rl);
}

Test(ratelimit, retry_after_without_refill_is_sane)
{
    ratelimit *rl = ratelimit_new(64, 1, 0); /* never refills */
    ratelimit_charge(rl, "k", 0);
    int ra = -1;
    cr_assert_not(rl_ok(rl, "k", 999999, NULL, &ra));
    cr_assert_geq(ra, 3600, "a bucket that never refills is not 'retry in %d s'", ra);
    ratelimit_free(rl);
    rl = ratelimit_new(64, 1, 1e-12);
    ratelimit_charge(rl, "k", 0);
    cr_assert_not(rl_ok(rl, "k", 0, NULL, &ra));
    cr_assert_geq(ra, 3600, "huge waits do not overflow: %d", ra);
    ratelimit_free(rl);
}

Test(ratelimit, clear_forgets)
{
    ratelimit *rl = ratelimit_new(64, 2, 0.01);
    ratelimit_charge(rl, "acct:a", 1000);
    ratelimit_charge(rl, "acct:a", 1000);
    ratelimit_charge(rl, "acct:b", 1000);
    ratelimit_charge(rl, "acct:b", 1000);
    cr_assert_not(rl_ok(rl, "acct:a", 1000, NULL, NULL));
    ratelimit_clear(rl, "acct:a");
    int rem;
    cr_assert(rl_ok(rl, "acct:a", 1000, &rem, NULL));
    cr_assert_eq(rem, 2);
    cr_assert_not(rl_ok(rl, "acct:b", 1000, NULL, NULL), "only the cleared key");
    ratelimit_clear(rl, "never-seen");
    ratelimit_free(rl);
}

Test(ratelimit, long_keys_do_not_share_a_bucket)
{
    char a[200], b[200];
    memset(a, 'x', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    memcpy(b, a, sizeof b);
    b[150] = 'y'; /* differs only past any truncation */
    ratelimit *rl = ratelimit_new(1024, 1, 0.001);
    ratelimit_charge(rl, a, 1000);
    cr_assert_not(rl_ok(rl, a, 1000, NULL, NULL));
    int rem;
    cr_assert(rl_ok(rl, b, 1000, &rem, NULL), "a different key must not be throttled");
    cr_assert_eq(rem, 1);
    ratelimit_clear(rl, b);
    cr_assert_not(rl_ok(rl, a, 1000, NULL, NULL), "clearing b leaves a alone");
    ratelimit_free(rl);
}

/* A model with unlimited memory: the real table may forget (evict) a key,
 * which must only ever leave it with at least the tokens of the model. */
typedef struct {
    double tokens;
    uint64_t updated;
    int present;
} model_bucket;

static double model_level(const model_bucket *m, double burst, double refill, uint64_t now)
{
    if (!m->present) return burst;
    double t = m->tokens;
    if (now > m->updated) t += (double)(now - m->updated) / 1000.0 * refill;
    return t > burst ? burst : t;
}

static void eviction_only_forgives(size_t slots, int nkeys, int steps)
{
    const double burst = 5, refill = 0.2;
    ratelimit *rl = ratelimit_new(slots, burst, refill);
    model_bucket model[256];
    cr_assert_leq(nkeys, 256);
    memset(model, 0, sizeof model);
    uint64_t now = 1000;
    unsigned seed = 12345;
    for (int step = 0; step < steps; step++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % (unsigned)nkeys);
        seed = seed * 1103515245u + 12345u;
        now += (seed >> 16) % 700;
        char key[32];
        snprintf(key, sizeof key, "10.0.%d.%d", k / 200, k % 200);
        model_bucket *m = &model[k];
        double t = model_level(m, burst, refill, now) - 1.0;
        m->tokens = t < 0 ? 0 : t;
        m->updated = now;
        m->present = 1;
        ratelimit_charge(rl, key, now);
        for (int j = 0; j < nkeys; j++) {
            snprintf(key, sizeof key, "10.0.%d.%d", j / 200, j % 200);
            int rem = -1;
            int ok = ratelimit_check(rl, key, now, &rem, NULL);
            double want = model_level(&model[j], burst, refill, now);
            cr_assert_geq(rem, (int)floor(want), "step %d key %d: %d tokens, model %.3f", step, j,
                          rem, want);
            if (want >= 1.0) cr_assert(ok, "step %d key %d refused, model %.3f", step, j, want);
        }
    }
    ratelimit_free(rl);
}

Test(ratelimit, eviction_never_makes_a_key_stricter_small_table)
{
    eviction_only_forgives(4, 20, 2000);
}

Test(ratelimit, eviction_never_makes_a_key_stricter_probed_table)
{
    eviction_only_forgives(64, 200, 1500);
}

Test(ratelimit, full_table_still_limits_hot_key)
{
    /* a hot key keeps being charged: it is the emptiest, so not evicted */
    ratelimit *rl = ratelimit_new(8, 3, 0.001);
    uint64_t now = 1000;
    for (int i = 0; i < 3; i++)
        ratelimit_charge(rl, "hot", now);
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "cold%d", i);
        ratelimit_charge(rl, key, ++now);
        ratelimit_charge(rl, "hot", now);
    }
    cr_assert_not(rl_ok(rl, "hot", now, NULL, NULL));
    ratelimit_free(rl);
}

/* ---- static files ---------------------------------------------------------- */

static const char *clean(const char *p)
{
    static char out[256];
    if (static_clean_path(p, strlen(p), out, sizeof out) < 0) return NULL;
    return out;
}

Test(static_files, clean_path_accepts)
{
    cr_assert_str_eq(clean("/index.html"), "/index.html");
    cr_assert_str_eq(clean("/a/b.css"), "/a/b.css");
    cr_assert_str_eq(clean("/"), "/");
    cr_assert_str_eq(clean("/a%20b.txt"), "/a b.txt");
    cr_assert_str_eq(clean("/%41.js"), "/A.js");
    cr_assert_str_eq(clean("/dir/"), "/dir/");
    cr_assert_str_eq(clean("/a..b/c"), "/a..b/c", "dots inside a name are fine");
    cr_assert_str_eq(clean("/..."), "/...");
    cr_assert_str_eq(clean("/.well-known/x"), "/.well-known/x");
}

Test(static_files, clean_path_rejects)
{
    const char *bad[] = {
        "",
        "index.html",
        "..",
        "/..",
        "/../etc/passwd",
        "/a/../b",
        "/a/..",
        "/./a",
        "/a/./b",
        "/a/.",
        "/%2e%2e/x",
        "/%2E%2E/x",
        "/.%2e/x",
        "/%2e./x",
        "/a/%2e%2e",
        "/%2e",
        "//etc",
        "/a//b",
        "/%2f",
        "/a%2f%2fb",
        "/a%2f..%2fb",
        "/a\\b",
        "/a%5cb",
        "/a%5Cb",
        "/a%00b",
        "/a%",
        "/a%2",
        "/a%zz",
        "/a%2g",
        "/a%g2",
        "/%%",
        "/a/%2e%2e%2f..",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(clean(bad[i]), "accepted: '%s' -> '%s'", bad[i], clean(bad[i]));
}

Test(static_files, clean_path_raw_nul_and_bounds)
{
    char out[64];
    cr_assert_eq(static_clean_path("/a\0b", 4, out, sizeof out), -1);
    /* only len bytes are read */
    cr_assert_eq(static_clean_path("/ab/../x", 3, out, sizeof out), 0);
    cr_assert_str_eq(out, "/ab");
    cr_assert_eq(static_clean_path("/a%41", 4, out, sizeof out), -1, "a cut escape is bad");
    /* the output buffer is respected */
    cr_assert_eq(static_clean_path("/abcdef", 7, out, 8), 0);
    cr_assert_str_eq(out, "/abcdef");
    cr_assert_eq(static_clean_path("/abcdefg", 8, out, 8), -1);
    cr_assert_eq(static_clean_path("/", 1, out, 1), -1);
}

Test(static_files, content_types)
{
    cr_assert_str_eq(static_content_type("/index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(static_content_type("/a/b.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(static_content_type("/app.js"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(static_content_type("/m.mjs"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(static_content_type("/data.json"), "application/json");
    cr_assert_str_eq(static_content_type("/logo.svg"), "image/svg+xml");
    cr_assert_str_eq(static_content_type("/x.PNG"), "image/png", "extensions are case-blind");
    cr_assert_str_eq(static_content_type("/f.woff2"), "font/woff2");
    cr_assert_str_eq(static_content_type("/site.webmanifest"), "application/manifest+json");
    cr_assert_str_eq(static_content_type("/README"), "application/octet-stream");
    cr_assert_str_eq(static_content_type("/a.tar.gz"), "application/octet-stream");
    cr_assert_str_eq(static_content_type("/dir.html/file"), "application/octet-stream");
    cr_assert_str_eq(static_content_type("/x.html.bak"), "application/octet-stream");
    cr_assert_str_eq(static_content_type(""), "application/octet-stream");
}

/* ---- clock ----------------------------------------------------------------- */

Test(clock, rfc3339)
{
    char out[32];
    clock_rfc3339(0, out);
    cr_assert_str_eq(out, "1970-01-01T00:00:00Z");
    clock_rfc3339(1795499140, out);
    cr_assert_str_eq(out, "2026-11-24T05:45:40Z");
    clock_rfc3339(1709251199, out);
    cr_assert_str_eq(out, "2024-02-29T23:59:59Z");
}

Test(clock, http_date)
{
    char out[32];
    clock_http_date(0, out);
    cr_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    clock_http_date(1795499140, out);
    cr_assert_str_eq(out, "Tue, 24 Nov 2026 05:45:40 GMT");
    clock_http_date(1709251199, out);
    cr_assert_str_eq(out, "Thu, 29 Feb 2024 23:59:59 GMT");
    /* every weekday and month name comes out in English */
    const char *days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    for (int d = 0; d < 7; d++) {
        clock_http_date((int64_t)d * 86400, out);
        cr_assert_eq(strncmp(out, days[d], 3), 0, "%s", out);
        cr_assert_eq(strlen(out), 29);
    }
    const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t t = 1704067200; /* 2024-01-01 */
    for (int m = 0; m < 12; m++) {
        clock_http_date(t + 86400 * 15 + (int64_t)m * 86400 * 30 + 86400 * (m > 1 ? 1 : 0), out);
        cr_assert_eq(strncmp(out + 8, mons[m], 3), 0, "month %d: %s", m, out);
    }
}

Test(clock, advance_moves_wall_clock_only)
{
    int64_t before = clock_now_s();
    uint64_t mono = clock_mono_ns();
    cr_assert_eq(clock_offset_s(), 0);
    clock_advance(86400);
    cr_assert_eq(clock_offset_s(), 86400);
    int64_t after = clock_now_s();
    cr_assert_geq(after - before, 86400);
    cr_assert_lt(after - before, 86400 + 5);
    cr_assert_lt(clock_mono_ns() - mono, 5000000000ull, "monotonic time is not moved");
    cr_assert_geq(clock_now_ms() / 1000, after - 1);
}

/* ---- metrics --------------------------------------------------------------- */

static double gauge_42(void *arg)
{
    (void)arg;
    return 42;
}

static void has_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\n%s\n", line);
    cr_assert_not_null(strstr(text, want), "missing line: %s\n--- output ---\n%s", line, text);
}

static void has_bucket(const char *text, const char *route, const char *le, int n)
{
    char line[256];
    snprintf(line, sizeof line,
             "opx_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %d", route, le, n);
    has_line(text, line);
}

Test(metrics, render_after_observations)
{
    static const char *const names[] = {"GET /api/v1/projects", "POST /api/v1/login", "static"};
    metrics_init(names, 3);
    metrics_observe_request(0, 200, 0.003);
    metrics_observe_request(0, 200, 0.02);
    metrics_observe_request(0, 404, 20.0);
    metrics_observe_request(1, 401, 0.0001);
    metrics_observe_request(7, 200, 0.1);  /* out of range: ignored */
    metrics_observe_request(-1, 200, 0.1); /* ignored */
    metrics_register("opx_test_gauge", "A test gauge.", "gauge", gauge_42, NULL);
    metrics_count("opx_http_shed_total", "reason", "inflight");
    metrics_count("opx_http_shed_total", "reason", "inflight");
    metrics_count("opx_http_shed_total", "reason", "conns");

    buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(metrics_render(&b), 0);
    const char *t = b.data;
    cr_assert_eq(strncmp(t, "# HELP opx_http_requests_total ", 31), 0);
    has_line(t, "# TYPE opx_http_requests_total counter");
    has_line(t, "opx_http_requests_total{route=\"GET /api/v1/projects\",status=\"200\"} 2");
    has_line(t, "opx_http_requests_total{route=\"GET /api/v1/projects\",status=\"404\"} 1");
    has_line(t, "opx_http_requests_total{route=\"POST /api/v1/login\",status=\"401\"} 1");
    has_line(t, "# TYPE opx_http_request_duration_seconds histogram");
    has_bucket(t, "GET /api/v1/projects", "0.0025", 0);
    has_bucket(t, "GET /api/v1/projects", "0.005", 1);
    has_bucket(t, "GET /api/v1/projects", "0.025", 2);
    has_bucket(t, "GET /api/v1/projects", "10", 2);
    has_bucket(t, "GET /api/v1/projects", "+Inf", 3);
    has_line(t, "opx_http_request_duration_seconds_sum{route=\"GET /api/v1/projects\"} 20.023000");
    has_line(t, "opx_http_request_duration_seconds_count{route=\"GET /api/v1/projects\"} 3");
    has_bucket(t, "POST /api/v1/login", "0.0005", 1);
    has_line(t, "opx_http_request_duration_seconds_count{route=\"POST /api/v1/login\"} 1");
    cr_assert_null(strstr(t, "route=\"static\""), "a route never seen has no samples");
    has_line(t, "# HELP opx_test_gauge A test gauge.");
    has_line(t, "# TYPE opx_test_gauge gauge");
    has_line(t, "opx_test_gauge 42");
    has_line(t, "# TYPE opx_http_shed_total counter");
    has_line(t, "opx_http_shed_total{reason=\"inflight\"} 2");
    has_line(t, "opx_http_shed_total{reason=\"conns\"} 1");
    /* one TYPE line per family */
    const char *first = strstr(t, "# TYPE opx_http_shed_total");
    cr_assert_null(strstr(first + 1, "# TYPE opx_http_shed_total"));
    cr_assert_eq(t[b.len - 1], '\n');
    buf_free(&b);
    metrics_free();
}

Test(metrics, render_fails_cleanly_when_out_of_room)
{
    static const char *const names[] = {"r"};
    metrics_init(names, 1);
    metrics_observe_request(0, 200, 0.01);
    buf b;
    buf_init(&b, 64);
    cr_assert_eq(metrics_render(&b), -1);
    cr_assert_leq(b.len, 64);
    buf_free(&b);
    metrics_free();
}

/* ---- accounts -------------------------------------------------------------- */

static int email_ok(const char *in, char *out, size_t outlen)
{
    jv_errors e = {.n = 0};
    snprintf(out, outlen, "%s", in);
    int rc = accounts_normalize_email(out, &e, "email");
    if (rc == 0)
        cr_assert_eq(e.n, 0);
    else {
        cr_assert_eq(e.n, 1);
        cr_assert_str_eq(e.e[0].field, "email");
        cr_assert_str_eq(e.e[0].message, "must be a valid email address");
    }
    return rc == 0;
}

Test(accounts, email_accepts_and_lowercases)
{
    char out[300];
    cr_assert(email_ok("Alice@Example.COM", out, sizeof out));
    cr_assert_str_eq(out, "alice@example.com");
    cr_assert(email_ok("a@b.co", out, sizeof out));
    cr_assert(email_ok("first.last+tag@sub.example.org", out, sizeof out));
    cr_assert(email_ok("x_y-z@ex-ample.io", out, sizeof out));
    char local64[100];
    memset(local64, 'a', 64);
    snprintf(local64 + 64, sizeof local64 - 64, "@b.com");
    cr_assert(email_ok(local64, out, sizeof out), "64-char local part is the maximum");
}

Test(accounts, email_rejects)
{
    const char *bad[] = {
        "",           "a",          "ab",        "@b.com",      "a@",
        "a@b",        "a@@b.com",   "a@b@c.com", "a b@c.com",   " a@b.com",
        "a@b.com ",   "a@b..com",   "a@.com",    "a@b.com.",    "a@-b.com",
        "<a@b.com>",  "a\"b@c.com", "a@b,c.com", "a@[1.2.3.4]", "a;b@c.com",
        "a\\b@c.com", "a@b.c\x7f",  "a\t@b.com",
    };
    char out[300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(email_ok(bad[i], out, sizeof out), "accepted: '%s'", bad[i]);
    char local65[100];
    memset(local65, 'a', 65);
    snprintf(local65 + 65, sizeof local65 - 65, "@b.com");
    cr_assert_not(email_ok(local65, out, sizeof out), "65-char local part");
    char longest[300];
    memset(longest, 'd', sizeof longest);
    memcpy(longest, "a@", 2);
    memcpy(longest + 251, ".com", 5); /* 255 chars */
    cr_assert_not(email_ok(longest, out, sizeof out), "over 254 chars");
    longest[250] = '\0';
    memcpy(longest + 246, ".com", 5); /* 250 chars */
    cr_assert(email_ok(longest, out, sizeof out));
}

static int pw_ok(const char *pw, size_t len, const char **msg)
{
    static jv_errors e;
    memset(&e, 0, sizeof e);
    int rc = accounts_check_password(pw, len, &e, "password");
    if (rc == 0)
        cr_assert_eq(e.n, 0);
    else {
        cr_assert_eq(e.n, 1);
        cr_assert_str_eq(e.e[0].field, "password");
        if (msg) *msg = e.e[0].message;
    }
    return rc == 0;
}

Test(accounts, password_rules)
{
    const char *msg = NULL;
    cr_assert(pw_ok("correct horse battery", 21, NULL));
    cr_assert(pw_ok("0123456789", 10, NULL), "10 characters is the minimum");
    cr_assert_not(pw_ok("012345678", 9, &msg));
    cr_assert_not_null(strstr(msg, "at least 10"), "%s", msg);
    cr_assert_not(pw_ok("", 0, NULL));
    cr_assert_not(pw_ok("aaaaaaaaaaaa", 12, &msg));
    cr_assert_not_null(strstr(msg, "repeated"), "%s", msg);
    cr_assert(pw_ok("aaaaaaaaaaab", 12, NULL));
    /* characters, not bytes: 5 x "é" is 10 bytes but 5 characters */
    cr_assert_not(pw_ok("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10, NULL));
    cr_assert(pw_ok("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                    "abcde",
                    15, NULL));
    char big[PASSWORD_MAX + 2];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    cr_assert(pw_ok(big, PASSWORD_MAX, NULL));
    cr_assert_not(pw_ok(big, PASSWORD_MAX + 1, &msg));
    cr_assert_not_null(strstr(msg, "at most"), "%s", msg);
}

Test(accounts, password_repeated_multibyte_character)
{
    /* "é" ten times: one repeated character, though no byte repeats alone */
    const char *pw =
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    cr_assert_not(pw_ok(pw, strlen(pw), NULL), "a repeated multi-byte character is refused");
    /* two different characters of the same byte length are fine */
    const char *mixed =
        "\xc3\xa9\xc3\xa8\xc3\xa9\xc3\xa8\xc3\xa9\xc3\xa8\xc3\xa9\xc3\xa8\xc3\xa9\xc3\xa8";
    cr_assert(pw_ok(mixed, strlen(mixed), NULL), "two alternating characters are accepted");
}
