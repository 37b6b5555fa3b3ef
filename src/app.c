/* app: `opx serve` from start to a clean exit.
 *
 * Start: load web files, open the store (migrating), hash the dummy
 * password, listen. Run: the loop, plus a 100 ms timer that measures event
 * loop lag. Stop (SIGTERM/SIGINT): /readyz turns 503, the listener closes,
 * idle connections close, in-flight requests finish (up to the drain
 * deadline), then the store finishes its queue and closes, the loop's
 * handles close, and the process exits 0. A second signal exits at once. */
#include "app.h"
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "services/accounts.h"
#include "services/jobs.h"
#include "rules/assessment.h"
#include "rules/contracts.h"
#include "services/money_jobs.h"
#include "services/money_out.h"
#include "ext/gateway.h"
#include "services/shortlist.h"
#include "services/sla.h"
#include "rules/tz.h"
#include "rules/tzinfo.h"
#include "core/token.h"
#include "services/session_cache.h"

app *APP;

#define LAG_INTERVAL_MS 100
#define TZDATA_ZI "/usr/share/zoneinfo/tzdata.zi"

void app_config_default(app_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:8080";
    cfg->db = "var/opx.db";
    cfg->web_dir = NULL; /* the web app built into the binary */
    cfg->access_log = 1;
    cfg->log_level = LOG_INFO;
    http_limits_default(&cfg->lim);
    cfg->session_ttl_s = 14 * 24 * 3600;
    cfg->login_ip_burst = 20;
    cfg->login_ip_refill = 1.0 / 15; /* one more try every 15 s */
    cfg->login_acct_burst = 5;
    cfg->login_acct_refill = 1.0 / 60; /* one more try a minute */
    cfg->max_pending_hashes = 64;
    cfg->session_cache_ttl_s = 10;
    events_config_default(&cfg->events);
    email_config_default(&cfg->email);
    cfg->fee_bps = CONTRACT_FEE_BPS_DEFAULT;
    cfg->gateway = "sandbox";
    cfg->payout_interval_s = MONEY_OUT_INTERVAL_DEFAULT;
    cfg->payout_min = MONEY_OUT_MIN_DEFAULT;
    cfg->stripe.api_base = "https://api.stripe.com";
    cfg->stripe.timeout_ms = 5000;
}

static double m_inflight(void *a)
{
    return (double)((app *)a)->srv.inflight;
}
static double m_conns(void *a)
{
    return (double)((app *)a)->srv.nconns;
}
static double m_lag(void *a)
{
    return ((app *)a)->loop_lag_s;
}
static double m_lag_max(void *a)
{
    app *x = a;
    double v = x->loop_lag_max_s;
    x->loop_lag_max_s = 0; /* max since the last scrape */
    return v;
}
static double m_store_depth(void *a)
{
    app *x = a;
    return x->store ? (double)x->store->v->queue_depth(x->store) : 0;
}
/* one figure of the store driver's counters, by its offset in store_stats */
typedef struct {
    app *x;
    size_t off;
    int is_int;
} store_figure;

static double m_store_stat(void *a)
{
    store_figure *f = a;
    if (!f->x->store) return 0;
    store_stats st;
    f->x->store->v->stats(f->x->store, &st);
    const char *p = (const char *)&st + f->off;
    return f->is_int ? (double)*(const int *)p : (double)*(const int64_t *)p;
}

static double m_hashes(void *a)
{
    (void)a;
    return (double)accounts_pending();
}
static double m_verified(void *a)
{
    (void)a;
    return (double)accounts_verified();
}
static double m_log_dropped(void *a)
{
    (void)a;
    return (double)log_dropped();
}
static double m_cache_hits(void *a)
{
    (void)a;
    return (double)session_cache_hits();
}
static double m_cache_misses(void *a)
{
    (void)a;
    return (double)session_cache_misses();
}
static double m_login_failures(void *a)
{
    return (double)((app *)a)->login_failures;
}
static double m_login_failures_heard(void *a)
{
    return (double)((app *)a)->login_failures_heard;
}
static double m_matching(void *a)
{
    (void)a;
    return (double)shortlist_count();
}
static double m_jobs_running(void *a)
{
    (void)a;
    return (double)jobs_running();
}
static double m_jobs_done(void *a)
{
    (void)a;
    return (double)jobs_done_total();
}
static double m_jobs_failed(void *a)
{
    (void)a;
    return (double)jobs_failed_total();
}
static double m_draining(void *a)
{
    return ((app *)a)->draining;
}

static void on_lag_timer(uv_timer_t *t)
{
    app *x = t->data;
    uint64_t now = clock_mono_ns();
    double lag = now > x->lag_expected_ns ? (double)(now - x->lag_expected_ns) / 1e9 : 0;
    x->loop_lag_s = lag;
    if (lag > x->loop_lag_max_s) x->loop_lag_max_s = lag;
    if (lag > 0.1) log_msgf(LOG_WARN, "event loop lagged %.1f ms", lag * 1000);
    x->lag_expected_ns = now + LAG_INTERVAL_MS * 1000000ull;
}

/* this node is alive, as other nodes read it before taking over what it
 * claimed (store.h node_beat): a beat a second, alive for 5 */
#define BEAT_MS 1000
#define ALIVE_S 5

static void on_beat(uv_timer_t *t)
{
    app *x = t->data;
    STORE_CALL(x->store, node_beat, x->node_id, ALIVE_S, clock_mono_ns() + BEAT_MS * 1000000ull);
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* last step of the drain: no request and no job is left; the store goes */
static void on_jobs_idle(void *arg)
{
    app *x = arg;
    log_msgf(LOG_INFO, "drained; closing the database");
    email_stop();
    if (x->gateway) x->gateway->close(x->gateway);
    x->gateway = NULL;
    if (x->store) { /* gone: other nodes carry on with its keys at once */
        STORE_CALL(x->store, node_beat, x->node_id, 0, clock_mono_ns() + 2000000000ull);
        x->store->v->close(x->store);
    }
    x->store = NULL;
}

static void on_drained(http_server *srv)
{
    (void)srv;
    app *x = APP;
    uv_timer_stop(&x->lag_timer);
    uv_close((uv_handle_t *)&x->lag_timer, NULL);
    uv_timer_stop(&x->beat_timer);
    uv_close((uv_handle_t *)&x->beat_timer, NULL);
    uv_close((uv_handle_t *)&x->sigterm, NULL);
    uv_close((uv_handle_t *)&x->sigint, NULL);
    http_server_close(&x->srv);
    events_stop();
    /* running jobs finish (their work commits or their lease runs out) */
    jobs_stop(on_jobs_idle, x);
}

static void on_signal(uv_signal_t *s, int signum)
{
    app *x = s->data;
    if (x->draining) {
        log_msgf(LOG_WARN, "second signal %d: exiting now", signum);
        log_shutdown();
        _exit(1);
    }
    x->draining = 1;
    log_msgf(LOG_INFO, "signal %d: draining %zu connections (deadline %llu ms)", signum,
             x->srv.nconns, (unsigned long long)x->cfg.lim.drain_timeout_ms);
    x->srv.on_drained = on_drained;
    http_server_drain(&x->srv);
}

static const char *route_names[METRICS_MAX_ROUTES];

/* what another node committed that this one caches (see store.h
 * notices_watch); this node's own notices come back too, and change
 * nothing it had not already changed */
static void on_notice(void *data, const char *text)
{
    app *x = data;
    const char *arg = strchr(text, ':');
    if (!arg) return;
    size_t topic = (size_t)(arg++ - text);
    if (topic == 7 && memcmp(text, "session", 7) == 0) {
        session_cache_drop(arg);
    } else if (topic == 8 && memcmp(text, "sessions", 8) == 0) {
        char user[64];
        const char *keep = strchr(arg, ':');
        snprintf(user, sizeof user, "%.*s", keep ? (int)(keep - arg) : (int)strlen(arg), arg);
        if (keep) keep++;
        session_cache_drop_user(user, keep);
        events_close_user(user, keep);
    } else if (topic == 4 && memcmp(text, "user", 4) == 0) {
        session_cache_drop_user(arg, NULL);
    } else if (topic == 8 && memcmp(text, "engineer", 8) == 0) {
        shortlist_engineer_changed(x->store, arg);
    } else if (topic == 4 && memcmp(text, "busy", 4) == 0 && (arg[0] == '0' || arg[0] == '1') && arg[1] == ':') {
        shortlist_set_busy(arg + 2, arg[0] == '1');
    } else if (topic == 5 && memcmp(text, "login", 5) == 0) {
        /* <node>:<ip key>:<account key>: a wrong password checked elsewhere */
        char node[17], ip[33], acct[33];
        if (sscanf(arg, "%16[0-9a-f]:%32[0-9a-f]:%32[0-9a-f]", node, ip, acct) == 3 &&
            strcmp(node, x->node_id) != 0) {
            uint64_t now = (uint64_t)clock_now_ms();
            ratelimit_charge(x->login_ip, ip, now);
            ratelimit_charge(x->login_acct, acct, now);
            x->login_failures_heard++;
        }
    } else if (topic == 8 && memcmp(text, "login-ok", 8) == 0) {
        char node[17], acct[33];
        if (sscanf(arg, "%16[0-9a-f]:%32[0-9a-f]", node, acct) == 2 && strcmp(node, x->node_id) != 0)
            ratelimit_clear(x->login_acct, acct);
    } else if (topic == 3 && memcmp(text, "all", 3) == 0) {
        session_cache_clear();
        shortlist_refresh(x->store);
    }
}

int app_serve(app_config *cfg)
{
    static app the_app;
    app *x = &the_app;
    APP = x;
    token_hex(x->node_id, 8);
    x->cfg = *cfg;
    x->loop = uv_default_loop();
    char err[512] = "";
    int rc = 1;

    x->web = static_load(cfg->web_dir, err, sizeof err);
    if (!x->web) {
        log_msgf(LOG_ERROR, "%s", err);
        return 1;
    }
    if (assessment_init(err, sizeof err) < 0) {
        log_msgf(LOG_ERROR, "%s", err);
        static_free(x->web);
        return 1;
    }
    if (tz_load(TZDATA_ZI) < 100) {
        log_msgf(LOG_ERROR, "cannot read the time zone list %s (Debian package tzdata)", TZDATA_ZI);
        static_free(x->web);
        return 1;
    }
    if (accounts_init(x->loop, cfg->max_pending_hashes) < 0) {
        log_msgf(LOG_ERROR, "argon2id is not available");
        return 1;
    }
    x->store = store_open(x->loop, cfg->db, 1, err, sizeof err);
    if (!x->store) {
        log_msgf(LOG_ERROR, "%s", err);
        static_free(x->web);
        return 1;
    }
    session_cache_init(4096, cfg->session_cache_ttl_s);
    STORE_CALL(x->store, notices_watch, on_notice, x);
    if (tzinfo_load_all("/usr/share/zoneinfo") < 100 || shortlist_init() < 0 ||
        shortlist_rebuild(x->loop, x->store, err, sizeof err) < 0) {
        log_msgf(LOG_ERROR, "cannot build the matching index: %s", err[0] ? err : "time zones");
        x->store->v->close(x->store);
        x->store = NULL;
        uv_run(x->loop, UV_RUN_DEFAULT);
        static_free(x->web);
        return 1;
    }
    x->login_ip = ratelimit_new(65536, cfg->login_ip_burst, cfg->login_ip_refill);
    x->login_acct = ratelimit_new(65536, cfg->login_acct_burst, cfg->login_acct_refill);
    x->password_tries = ratelimit_new(4096, 5, 5.0 / 900); /* 5 wrong in 15 min, then one per 3 min */

    int n = api_nroutes;
    for (int i = 0; i < n && i < METRICS_MAX_ROUTES - 2; i++) route_names[i] = api_routes[i].pattern;
    route_names[n] = "static";
    route_names[n + 1] = "unmatched";
    metrics_init(route_names, n + 2);
    metrics_register("opx_http_requests_in_flight", "Requests being handled now.", "gauge",
                     m_inflight, x);
    metrics_register("opx_http_connections", "Open client connections.", "gauge", m_conns, x);
    metrics_register("opx_event_loop_lag_seconds", "Event loop lag at the last 100 ms tick.",
                     "gauge", m_lag, x);
    metrics_register("opx_event_loop_lag_max_seconds", "Largest event loop lag since the last scrape.",
                     "gauge", m_lag_max, x);
    metrics_register("opx_store_queue_depth", "Database operations queued or running.", "gauge",
                     m_store_depth, x);
    static store_figure figures[6];
    static const struct {
        const char *name, *help, *type;
        size_t off;
        int is_int;
    } store_metrics[] = {
        {"opx_store_refused_total", "Database operations refused because the queue was full (503).",
         "counter", offsetof(store_stats, refused), 0},
        {"opx_store_expired_total",
         "Database operations whose deadline passed while they waited in the queue (503).",
         "counter", offsetof(store_stats, expired), 0},
        {"opx_store_retries_total",
         "Transactions run again after a serialization failure, a deadlock or a lost connection.",
         "counter", offsetof(store_stats, retries), 0},
        {"opx_store_reconnects_total", "Database connections made again after one broke.",
         "counter", offsetof(store_stats, reconnects), 0},
        {"opx_store_connections", "Database connections open now.", "gauge",
         offsetof(store_stats, connections), 1},
        {"opx_store_pool_size", "Database connections kept open when all is well.", "gauge",
         offsetof(store_stats, pool), 1},
    };
    for (size_t i = 0; i < sizeof store_metrics / sizeof store_metrics[0]; i++) {
        figures[i] = (store_figure){x, store_metrics[i].off, store_metrics[i].is_int};
        metrics_register(store_metrics[i].name, store_metrics[i].help, store_metrics[i].type,
                         m_store_stat, &figures[i]);
    }
    metrics_register("opx_password_hashes_pending", "argon2id jobs queued or running.", "gauge",
                     m_hashes, x);
    metrics_register("opx_password_checks_total",
                     "argon2id verifications run, of a real hash or, for an unknown email, the dummy.",
                     "counter", m_verified, x);
    metrics_register("opx_log_dropped_total", "Log lines dropped because the log queue was full.",
                     "counter", m_log_dropped, x);
    metrics_register("opx_session_cache_hits_total", "Requests authenticated from the session cache.",
                     "counter", m_cache_hits, x);
    metrics_register("opx_session_cache_misses_total", "Session lookups that asked the database.",
                     "counter", m_cache_misses, x);
    metrics_register("opx_login_failures_total", "Sign-ins whose password was checked here and was wrong.",
                     "counter", m_login_failures, x);
    metrics_register("opx_login_failures_heard_total",
                     "Wrong passwords other nodes checked, charged to this node's login limits too.", "counter",
                     m_login_failures_heard, x);
    metrics_register("opx_matching_engineers", "Vetted engineers in this node's matching index.", "gauge",
                     m_matching, x);
    metrics_register("opx_jobs_running", "Background jobs running now.", "gauge", m_jobs_running, x);
    metrics_register("opx_jobs_done_total", "Background jobs completed.", "counter", m_jobs_done, x);
    metrics_register("opx_jobs_failed_total", "Background job runs that failed (retried later).",
                     "counter", m_jobs_failed, x);
    metrics_register("opx_draining", "1 while shutting down.", "gauge", m_draining, x);

    http_server_init(&x->srv, x->loop, &cfg->lim);
    x->srv.routes = api_routes;
    x->srv.nroutes = api_nroutes;
    x->srv.route_static = n;
    x->srv.route_unmatched = n + 1;
    x->srv.dispatch = api_dispatch;
    x->srv.fallback = api_fallback;
    x->srv.access_log = cfg->access_log;
    x->srv.trust_proxy = cfg->trust_proxy;
    int lrc = http_server_listen(&x->srv, cfg->listen);
    if (lrc < 0) {
        log_msgf(LOG_ERROR, "cannot listen on %s: %s", cfg->listen, uv_strerror(lrc));
        x->store->v->close(x->store);
        x->store = NULL;
        http_server_close(&x->srv);
        uv_run(x->loop, UV_RUN_DEFAULT);
        goto out;
    }
    sla_init(x->store);
    if (strcmp(cfg->gateway, "stripe") == 0) {
        stripe_config sc = {.api_base = cfg->stripe.api_base, .secret_key = cfg->stripe.secret_key,
                            .timeout_ms = cfg->stripe.timeout_ms, .max_attempts = 3, .breaker_threshold = 5,
                            .breaker_cooldown_s = 30};
        x->gateway = gateway_stripe_new(x->loop, &sc);
    } else {
        x->gateway = gateway_sandbox_new(x->loop);
    }
    if (!x->gateway) log_msgf(LOG_ERROR, "the %s payment gateway did not start", cfg->gateway);
    money_jobs_init(x->store);
    money_out_config mo = {.payout_interval_s = cfg->payout_interval_s, .payout_min = cfg->payout_min};
    money_out_init(x->store, x->gateway, &mo);
    /* every job kind is registered before the runner claims its first batch */
    if (email_start(x->loop, x->store, &cfg->email) < 0) log_msgf(LOG_ERROR, "the mail sender did not start");
    jobs_start(x->loop, x->store);
    if (events_start(x->loop, x->store, &cfg->events) < 0) log_msgf(LOG_ERROR, "the event hub did not start");
    uv_signal_init(x->loop, &x->sigterm);
    uv_signal_init(x->loop, &x->sigint);
    x->sigterm.data = x->sigint.data = x;
    uv_signal_start(&x->sigterm, on_signal, SIGTERM);
    uv_signal_start(&x->sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    uv_timer_init(x->loop, &x->beat_timer);
    x->beat_timer.data = x;
    uv_timer_start(&x->beat_timer, on_beat, 0, BEAT_MS);
    uv_timer_init(x->loop, &x->lag_timer);
    x->lag_timer.data = x;
    x->lag_expected_ns = clock_mono_ns() + LAG_INTERVAL_MS * 1000000ull;
    uv_timer_start(&x->lag_timer, on_lag_timer, LAG_INTERVAL_MS, LAG_INTERVAL_MS);

    {
        char extra[384];
        snprintf(extra, sizeof extra,
                 ",\"listen\":\"%s\",\"port\":%d,\"db\":\"%s\",\"web_files\":%zu,\"web\":\"%s\","
                 "\"test_clock\":%s,\"node\":\"%s\"",
                 cfg->listen, http_server_port(&x->srv), store_backend(x->store), static_count(x->web),
                 cfg->web_dir ? "directory" : "embedded",
                 cfg->test_clock ? "true" : "false", x->node_id);
        log_line(LOG_INFO, "listening", extra);
    }
    uv_run(x->loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    uv_walk(x->loop, on_walk_close, NULL);
    uv_run(x->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(x->loop) != 0) log_msgf(LOG_WARN, "loop closed with handles still open");
    ratelimit_free(x->login_ip);
    ratelimit_free(x->login_acct);
    ratelimit_free(x->password_tries);
    static_free(x->web);
    session_cache_free();
    assessment_free();
    shortlist_free();
    tzinfo_free();
    tz_free();
    metrics_free();
    log_msgf(LOG_INFO, "stopped");
    return rc;
}
