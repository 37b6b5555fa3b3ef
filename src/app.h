/* app: the one process-wide context a running server has: configuration,
 * the loop, the store, the HTTP server and the shared limiters. Handlers
 * reach it through APP; it is set once by `opx serve` before the loop runs
 * and only touched from the loop thread. */
#ifndef OPX_APP_H
#define OPX_APP_H
#include <uv.h>
#include "core/log.h"
#include "core/ratelimit.h"
#include "services/email.h"
#include "services/events.h"
#include "http/server.h"
#include "http/static.h"
#include "store/store.h"

typedef struct {
    const char *listen;
    const char *db;
    const char *web_dir;
    int test_clock;
    int access_log;
    int secure_cookies;
    int trust_proxy;
    enum log_level log_level;
    http_limits lim;
    int64_t session_ttl_s;
    double login_ip_burst, login_ip_refill;     /* failures per IP */
    double login_acct_burst, login_acct_refill; /* failures per account */
    int max_pending_hashes;                     /* argon2 jobs queued at once */
    int session_cache_ttl_s;                    /* 0: every request asks the database */
    events_config events;
    email_config email;
    int fee_bps;                                /* platform fee on releases, basis points */
    const char *gateway;                        /* "sandbox" or "stripe" */
    int64_t payout_interval_s, payout_min;      /* the recurring payout run (money_out.h) */
    struct {
        const char *api_base, *secret_key, *webhook_secret;
        long timeout_ms;
    } stripe;
} app_config;

typedef struct app {
    uv_loop_t *loop;
    app_config cfg;
    store *store;
    http_server srv;
    static_files *web;
    struct gateway *gateway;
    ratelimit *login_ip, *login_acct; /* keyed by login_limit_key (api/auth.c) */
    char node_id[17];                 /* this process, in what it tells other nodes */
    uint64_t login_failures;          /* wrong passwords checked here */
    uint64_t login_failures_heard;    /* ... and on other nodes, as they told */
    ratelimit *password_tries; /* wrong current passwords per account (POST /me/password) */
    uv_signal_t sigterm, sigint;
    uv_timer_t lag_timer;
    uv_timer_t beat_timer; /* this node's heartbeat (store.h node_beat) */
    uint64_t lag_expected_ns;
    double loop_lag_s, loop_lag_max_s;
    int pending_hashes;
    int draining;
    int exit_code;
} app;

extern app *APP;

void app_config_default(app_config *cfg);
/* opx serve: runs until SIGTERM/SIGINT and a clean drain. Returns the exit code. */
int app_serve(app_config *cfg);
#endif
