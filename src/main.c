/* main: the opx command line: serve, migrate, user create, seed, routes,
 * ledger verify, inspect (backup, restore and copy: cli_data.c).
 * Every command takes --help; flags override environment variables
 * (OPX_LISTEN, OPX_DB, OPX_WEB_DIR, OPX_LOG_LEVEL), which override the
 * defaults. */
#include <errno.h>
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "app.h"
#include "cli.h"
#include "core/clock.h"
#include "core/jsonv.h"
#include "store/inspect.h"
#include "store/ledger_verify.h"
#include "core/token.h"
#include "services/accounts.h"
#include "services/seed.h"

#define OPX_VERSION "0.1.0"

static const char usage_main[] =
    "opx " OPX_VERSION " - Offline Pixel, a marketplace for vetted async Python engineers\n"
    "\n"
    "usage: opx <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve         run the HTTP server (API, web app, metrics)\n"
    "  migrate       apply pending database migrations and exit\n"
    "  user create   create an account (staff roles: admin, vetter)\n"
    "  seed --demo   fill a database with the demo accounts and print them\n"
    "  routes        print the route table (method, path, who may call it)\n"
    "  ledger verify recompute every balance from the ledger's entries, check every\n"
    "                money invariant; exit 1 on any violation\n"
    "  inspect SQL   run one read-only query on the database and print its rows\n"
    "                (support and tests; safe while the server runs)\n"
    "  backup FILE   a consistent copy of the database, made while it serves\n"
    "  restore FILE  put a backup back into an empty database\n"
    "  copy          move a SQLite database's rows into an empty PostgreSQL one\n"
    "  help [cmd]    this text, or a command's options\n"
    "\n"
    "Each command's options: opx <command> --help\n"
    "Environment: OPX_LISTEN, OPX_DB, OPX_DB_POOL, OPX_WEB_DIR, OPX_LOG_LEVEL (flags win).\n";

static const char usage_serve[] =
    "usage: opx serve [options]\n"
    "\n"
    "  --listen ADDR          host:port to listen on (env OPX_LISTEN; default 127.0.0.1:8080;\n"
    "                         port 0 picks a free one, logged at start)\n"
    "  --db PATH|URL          SQLite file, or postgres://user@host/db (env OPX_DB; default\n"
    "                         var/opx.db); migrated at start\n"
    "  --db-pool N            PostgreSQL connections, each on a worker thread (env OPX_DB_POOL;\n"
    "                         default 4)\n"
    "  --web DIR              serve the web app from DIR instead of the copy built into\n"
    "                         the binary (development; env OPX_WEB_DIR)\n"
    "  --test-clock           enable POST /api/v1/_test/clock (tests only, never in production)\n"
    "  --access-log on|off    one JSON line per request (default on)\n"
    "  --log-level LEVEL      debug, info, warn, error (env OPX_LOG_LEVEL; default info)\n"
    "  --max-connections N    open connections before new ones get 503 (default 10000)\n"
    "  --max-inflight N       requests handled at once before 503 (default 1024)\n"
    "  --max-header-bytes N   header block limit, 431 past it (default 16384)\n"
    "  --request-timeout MS   deadline of every request's work (default 10000)\n"
    "  --header-timeout MS    time to receive a request's headers, 408 past it (default 10000)\n"
    "  --body-timeout MS      time to receive a request's body, 408 past it (default 30000)\n"
    "  --idle-timeout MS      keep-alive idle time before closing (default 60000)\n"
    "  --drain-timeout MS     on SIGTERM, how long in-flight requests may finish (default 10000)\n"
    "  --session-ttl S        session lifetime in seconds (default 1209600, 14 days)\n"
    "  --session-cache-ttl S  how long a verified session is trusted from memory (default 10;\n"
    "                         0 asks the database on every request)\n"
    "  --trust-proxy          behind a reverse proxy: the client address (logs, per-IP\n"
    "                         limits) is the rightmost X-Forwarded-For entry\n"
    "  --secure-cookies       mark the session cookie Secure (behind TLS)\n"
    "  --login-ip-burst N     failed logins per IP before 429 (default 20, refills 1 per 15 s)\n"
    "  --login-account-burst N failed logins per account before 429 (default 5, 1 per minute)\n"
    "  --max-streams N        open event streams (GET /api/v1/events) before 503 (default 20000)\n"
    "  --streams-per-user N   open event streams per account before 429 (default 16)\n"
    "  --sse-heartbeat MS     comment line on every event stream this often (default 15000)\n"
    "  --sse-queue-bytes N    bytes a slow event stream may have queued before it is cut\n"
    "                         off (default 262144)\n"
    "  --gateway NAME         sandbox (built in, test cards; the default) or stripe\n"
    "  --stripe-api-base URL  Stripe's API (default https://api.stripe.com; a test double in tests)\n"
    "  --stripe-timeout MS    one Stripe request (default 5000); 3 attempts for what may be retried\n"
    "                         Secrets only from the environment: OPX_STRIPE_SECRET_KEY (sk_...) and\n"
    "                         OPX_STRIPE_WEBHOOK_SECRET (whsec_..., for POST /api/v1/webhooks/stripe)\n"
    "  --fee-bps N            platform fee on each release, in basis points (default 1000 =\n"
    "                         10%; applies to contracts offered from then on)\n"
    "  --payout-interval S    pay engineers' payable balances out this often (default 86400;\n"
    "                         0: only when an admin runs POST /api/v1/admin/payouts)\n"
    "  --payout-min N         smallest balance paid out, in minor units (default 100)\n"
    "\n"
    "Email (the outbox; admins see it at GET /api/v1/admin/outbox):\n"
    "  --email-transport T    log (development: mails go to the log) or smtp (env\n"
    "                         OPX_EMAIL_TRANSPORT; default log)\n"
    "  --smtp-url URL         relay: smtp://host:port or smtps://host:port (env OPX_SMTP_URL;\n"
    "                         default smtp://127.0.0.1:25)\n"
    "  --smtp-tls MODE        off, try (STARTTLS when offered) or required (default try)\n"
    "  --smtp-user USER       AUTH user (env OPX_SMTP_USER); the password comes only from\n"
    "                         the environment, OPX_SMTP_PASSWORD, never from a flag\n"
    "  --smtp-timeout MS      one SMTP exchange, connect to QUIT (default 30000)\n"
    "  --smtp-insecure        do not verify the relay's certificate (test relays only)\n"
    "  --mail-from ADDR       sender address (env OPX_MAIL_FROM;\n"
    "                         default no-reply@offline-pixel.localhost)\n"
    "  --public-url URL       where links in mails point (env OPX_PUBLIC_URL;\n"
    "                         default http://127.0.0.1:8080)\n"
    "  --email-max-attempts N attempts before a mail is marked failed (default 6)\n"
    "  --email-retry-base S   first retry after about S seconds, doubling, with jitter,\n"
    "                         at most an hour apart (default 60)\n"
    "  --smtp-breaker N,S     after N failed exchanges in a row, stop trying the relay for\n"
    "                         S seconds (mails wait, keeping their attempts; default 5,60)\n"
    "  --email-digest-delay S a new message is mailed after S seconds if still unread,\n"
    "                         one mail per conversation for the burst (default 300; 0: never)\n"
    "\n"
    "Stops on SIGTERM or SIGINT: stops accepting, drains, closes the database, exits 0.\n";

static const char usage_migrate[] =
    "usage: opx migrate [--db PATH]\n"
    "\n"
    "Applies every pending migration, each in its own transaction, and prints\n"
    "the schema version. `opx serve` does the same at start.\n";

static const char usage_user[] =
    "usage: opx user create --email E --password P --name N --role ROLE [--db PATH]\n"
    "\n"
    "ROLE is admin, vetter, client or engineer. Staff accounts (admin, vetter)\n"
    "can only be made here, never through the API.\n";

static const char usage_seed[] =
    "usage: opx seed --demo [--db PATH]\n"
    "\n"
    "Creates the demo population unless it exists, and prints the accounts\n"
    "(every password is demo-pass-123): admin@demo.opx, vetter@demo.opx,\n"
    "client@demo.opx, 200 vetted engineers engineer1@demo.opx .. engineer200@demo.opx\n"
    "and 12 applicants awaiting an interview, applicant1@demo.opx .. applicant12@demo.opx.\n";

static const char usage_ledger[] =
    "usage: opx ledger verify [--db PATH]\n"
    "\n"
    "Reads the database (read-only, one consistent snapshot; safe while the\n"
    "server runs), recomputes every account's balance from the append-only\n"
    "entries and checks: each transaction sums to zero per currency; entries\n"
    "match their account's currency; stored balances match; no escrow,\n"
    "payable, client funding or revenue balance is negative; each milestone's\n"
    "escrow matches its state; each contract's escrow matches its milestones;\n"
    "no milestone was funded twice. Prints a summary with totals per currency\n"
    "and exits 0 when all hold, 1 on any violation, 2 when it cannot read.\n";

static const char usage_routes[] = "usage: opx routes\n\nPrints METHOD PATH ROLES for every route.\n";

static int die_usage(const char *msg, const char *usage)
{
    fprintf(stderr, "opx: %s\n\n%s", msg, usage);
    return 2;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !end || *end || s[0] == '-' || s[0] == '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* ---- serve ----------------------------------------------------------------- */

static int cmd_serve(int argc, char **argv)
{
    app_config cfg;
    app_config_default(&cfg);
    cfg.listen = env_or("OPX_LISTEN", cfg.listen);
    cfg.db = env_or("OPX_DB", cfg.db);
    cfg.web_dir = env_or("OPX_WEB_DIR", cfg.web_dir);
    const char *lvl = env_or("OPX_LOG_LEVEL", "info");
    const char *pool = env_or("OPX_DB_POOL", NULL);
    cfg.email.transport = env_or("OPX_EMAIL_TRANSPORT", cfg.email.transport);
    cfg.email.smtp_url = env_or("OPX_SMTP_URL", cfg.email.smtp_url);
    cfg.email.smtp_user = env_or("OPX_SMTP_USER", NULL);
    cfg.email.smtp_password = env_or("OPX_SMTP_PASSWORD", NULL);
    cfg.email.from = env_or("OPX_MAIL_FROM", cfg.email.from);
    cfg.email.public_url = env_or("OPX_PUBLIC_URL", cfg.email.public_url);
    enum {
        O_LISTEN = 256, O_DB, O_WEB, O_TESTCLOCK, O_ACCESS, O_LEVEL, O_MAXCONN, O_MAXINF, O_MAXHDR,
        O_REQTO, O_HDRTO, O_SCACHE, O_TRUSTPROXY, O_BODYTO, O_IDLETO, O_DRAINTO, O_TTL, O_SECURE, O_IPB, O_ACB, O_HELP,
        O_MAXSTREAMS, O_USERSTREAMS, O_SSEHB, O_SSEQ,
        O_ETRANSPORT, O_SMTPURL, O_SMTPTLS, O_SMTPUSER, O_SMTPTO, O_SMTPINSECURE, O_MAILFROM,
        O_PUBURL, O_EATTEMPTS, O_ERETRY, O_EDIGEST, O_SMTPBREAKER, O_FEE, O_GATEWAY, O_STRIPEBASE, O_STRIPETO,
        O_PAYOUTEVERY, O_PAYOUTMIN, O_DBPOOL
    };
    static const struct option opts[] = {
        {"listen", 1, 0, O_LISTEN},           {"db", 1, 0, O_DB},
        {"db-pool", 1, 0, O_DBPOOL},
        {"web", 1, 0, O_WEB},                 {"test-clock", 0, 0, O_TESTCLOCK},
        {"access-log", 1, 0, O_ACCESS},       {"log-level", 1, 0, O_LEVEL},
        {"max-connections", 1, 0, O_MAXCONN}, {"max-inflight", 1, 0, O_MAXINF},
        {"max-header-bytes", 1, 0, O_MAXHDR}, {"request-timeout", 1, 0, O_REQTO},
        {"header-timeout", 1, 0, O_HDRTO},    {"body-timeout", 1, 0, O_BODYTO},
        {"idle-timeout", 1, 0, O_IDLETO},     {"drain-timeout", 1, 0, O_DRAINTO},
        {"session-ttl", 1, 0, O_TTL},         {"secure-cookies", 0, 0, O_SECURE},
        {"login-ip-burst", 1, 0, O_IPB},      {"login-account-burst", 1, 0, O_ACB},
        {"session-cache-ttl", 1, 0, O_SCACHE},
        {"trust-proxy", 0, 0, O_TRUSTPROXY},
        {"max-streams", 1, 0, O_MAXSTREAMS},  {"streams-per-user", 1, 0, O_USERSTREAMS},
        {"sse-heartbeat", 1, 0, O_SSEHB},     {"sse-queue-bytes", 1, 0, O_SSEQ},
        {"email-transport", 1, 0, O_ETRANSPORT}, {"smtp-url", 1, 0, O_SMTPURL},
        {"smtp-tls", 1, 0, O_SMTPTLS},        {"smtp-user", 1, 0, O_SMTPUSER},
        {"smtp-timeout", 1, 0, O_SMTPTO},     {"smtp-insecure", 0, 0, O_SMTPINSECURE},
        {"mail-from", 1, 0, O_MAILFROM},      {"public-url", 1, 0, O_PUBURL},
        {"email-max-attempts", 1, 0, O_EATTEMPTS}, {"email-retry-base", 1, 0, O_ERETRY},
        {"email-digest-delay", 1, 0, O_EDIGEST}, {"smtp-breaker", 1, 0, O_SMTPBREAKER},
        {"fee-bps", 1, 0, O_FEE},             {"gateway", 1, 0, O_GATEWAY},
        {"payout-interval", 1, 0, O_PAYOUTEVERY}, {"payout-min", 1, 0, O_PAYOUTMIN},
        {"stripe-api-base", 1, 0, O_STRIPEBASE}, {"stripe-timeout", 1, 0, O_STRIPETO},
        {"help", 0, 0, O_HELP},               {0, 0, 0, 0},
    };
    int c;
    uint64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case O_LISTEN: cfg.listen = optarg; break;
        case O_DB: cfg.db = optarg; break;
        case O_DBPOOL: pool = optarg; break;
        case O_WEB: cfg.web_dir = optarg; break;
        case O_TESTCLOCK: cfg.test_clock = 1; break;
        case O_SECURE: cfg.secure_cookies = 1; break;
        case O_TRUSTPROXY: cfg.trust_proxy = 1; break;
        case O_LEVEL: lvl = optarg; break;
        case O_ACCESS:
            if (strcmp(optarg, "on") == 0) cfg.access_log = 1;
            else if (strcmp(optarg, "off") == 0) cfg.access_log = 0;
            else bad = "--access-log takes on or off";
            break;
        case O_MAXCONN:
            if (parse_u64(optarg, 1, 1000000, &v) < 0) bad = "--max-connections: 1..1000000";
            else cfg.lim.max_conns = v;
            break;
        case O_MAXINF:
            if (parse_u64(optarg, 1, 1000000, &v) < 0) bad = "--max-inflight: 1..1000000";
            else cfg.lim.max_inflight = v;
            break;
        case O_MAXHDR:
            if (parse_u64(optarg, 1024, 1 << 20, &v) < 0) bad = "--max-header-bytes: 1024..1048576";
            else cfg.lim.max_header_bytes = v;
            break;
        case O_REQTO:
            if (parse_u64(optarg, 1, 3600000, &v) < 0) bad = "--request-timeout: 1..3600000 ms";
            else cfg.lim.request_timeout_ms = v;
            break;
        case O_HDRTO:
            if (parse_u64(optarg, 1, 3600000, &v) < 0) bad = "--header-timeout: 1..3600000 ms";
            else cfg.lim.header_timeout_ms = v;
            break;
        case O_BODYTO:
            if (parse_u64(optarg, 1, 3600000, &v) < 0) bad = "--body-timeout: 1..3600000 ms";
            else cfg.lim.body_timeout_ms = v;
            break;
        case O_IDLETO:
            if (parse_u64(optarg, 1, 3600000, &v) < 0) bad = "--idle-timeout: 1..3600000 ms";
            else cfg.lim.idle_timeout_ms = v;
            break;
        case O_DRAINTO:
            if (parse_u64(optarg, 0, 3600000, &v) < 0) bad = "--drain-timeout: 0..3600000 ms";
            else cfg.lim.drain_timeout_ms = v;
            break;
        case O_TTL:
            if (parse_u64(optarg, 60, 365ull * 86400, &v) < 0) bad = "--session-ttl: 60..31536000 s";
            else cfg.session_ttl_s = (int64_t)v;
            break;
        case O_IPB:
            if (parse_u64(optarg, 1, 1000000, &v) < 0) bad = "--login-ip-burst: 1..1000000";
            else cfg.login_ip_burst = (double)v;
            break;
        case O_ACB:
            if (parse_u64(optarg, 1, 1000000, &v) < 0) bad = "--login-account-burst: 1..1000000";
            else cfg.login_acct_burst = (double)v;
            break;
        case O_SCACHE:
            if (parse_u64(optarg, 0, 3600, &v) < 0) bad = "--session-cache-ttl: 0..3600 s";
            else cfg.session_cache_ttl_s = (int)v;
            break;
        case O_MAXSTREAMS:
            if (parse_u64(optarg, 1, 1000000, &v) < 0) bad = "--max-streams: 1..1000000";
            else cfg.events.max_streams = (int)v;
            break;
        case O_USERSTREAMS:
            if (parse_u64(optarg, 1, 1000, &v) < 0) bad = "--streams-per-user: 1..1000";
            else cfg.events.max_per_user = (int)v;
            break;
        case O_SSEHB:
            if (parse_u64(optarg, 100, 3600000, &v) < 0) bad = "--sse-heartbeat: 100..3600000 ms";
            else cfg.events.heartbeat_ms = v;
            break;
        case O_SSEQ:
            if (parse_u64(optarg, 1024, 1 << 30, &v) < 0) bad = "--sse-queue-bytes: 1024..1073741824";
            else cfg.events.max_queued = (size_t)v;
            break;
        case O_ETRANSPORT: cfg.email.transport = optarg; break;
        case O_SMTPURL: cfg.email.smtp_url = optarg; break;
        case O_SMTPTLS: cfg.email.smtp_tls = optarg; break;
        case O_SMTPUSER: cfg.email.smtp_user = optarg; break;
        case O_SMTPINSECURE: cfg.email.smtp_insecure = 1; break;
        case O_MAILFROM: cfg.email.from = optarg; break;
        case O_PUBURL: cfg.email.public_url = optarg; break;
        case O_SMTPTO:
            if (parse_u64(optarg, 100, 600000, &v) < 0) bad = "--smtp-timeout: 100..600000 ms";
            else cfg.email.smtp_timeout_ms = (long)v;
            break;
        case O_EATTEMPTS:
            if (parse_u64(optarg, 1, 100, &v) < 0) bad = "--email-max-attempts: 1..100";
            else cfg.email.max_attempts = (int)v;
            break;
        case O_ERETRY:
            if (parse_u64(optarg, 1, 86400, &v) < 0) bad = "--email-retry-base: 1..86400 s";
            else cfg.email.retry_base_s = (int)v;
            break;
        case O_SMTPBREAKER: {
            unsigned n = 0, secs = 0;
            char tail;
            if (sscanf(optarg, "%u,%u%c", &n, &secs, &tail) != 2 || n < 1 || n > 1000 || secs > 86400)
                bad = "--smtp-breaker takes N,S (failures 1..1000, seconds 0..86400)";
            else {
                cfg.email.breaker_threshold = (int)n;
                cfg.email.breaker_cooldown_s = (int)secs;
            }
            break;
        }
        case O_GATEWAY:
            if (strcmp(optarg, "sandbox") != 0 && strcmp(optarg, "stripe") != 0) bad = "--gateway takes sandbox or stripe";
            else cfg.gateway = optarg;
            break;
        case O_STRIPEBASE:
            if (strncmp(optarg, "https://", 8) != 0 && strncmp(optarg, "http://127.0.0.1", 16) != 0 &&
                strncmp(optarg, "http://localhost", 16) != 0)
                bad = "--stripe-api-base must be https:// (plain http only on loopback, for tests)";
            else cfg.stripe.api_base = optarg;
            break;
        case O_STRIPETO:
            if (parse_u64(optarg, 100, 60000, &v) < 0) bad = "--stripe-timeout: 100..60000 ms";
            else cfg.stripe.timeout_ms = (long)v;
            break;
        case O_PAYOUTEVERY:
            if (parse_u64(optarg, 0, 31 * 86400, &v) < 0 || (v > 0 && v < 60))
                bad = "--payout-interval: 0 (off) or 60..2678400 s";
            else cfg.payout_interval_s = (int64_t)v;
            break;
        case O_PAYOUTMIN:
            if (parse_u64(optarg, 1, 100000000, &v) < 0) bad = "--payout-min: 1..100000000 minor units";
            else cfg.payout_min = (int64_t)v;
            break;
        case O_FEE:
            if (parse_u64(optarg, 0, 5000, &v) < 0) bad = "--fee-bps: 0..5000 (0% to 50%)";
            else cfg.fee_bps = (int)v;
            break;
        case O_EDIGEST:
            if (parse_u64(optarg, 0, 86400, &v) < 0) bad = "--email-digest-delay: 0..86400 s";
            else cfg.email.digest_delay_s = (int)v;
            break;
        case O_HELP: fputs(usage_serve, stdout); return 0;
        default: return die_usage("unknown option", usage_serve);
        }
        if (bad) return die_usage(bad, usage_serve);
    }
    if (optind < argc) return die_usage("unexpected argument", usage_serve);
    if (log_parse_level(lvl, &cfg.log_level) < 0)
        return die_usage("--log-level takes debug, info, warn or error", usage_serve);
    if (pool) {
        if (parse_u64(pool, 1, 64, &v) < 0) return die_usage("--db-pool: 1..64", usage_serve);
        store_set_pool_size((int)v);
    }
    char err[160];
    if (email_config_check(&cfg.email, err, sizeof err) < 0) return die_usage(err, usage_serve);
    cfg.stripe.secret_key = env_or("OPX_STRIPE_SECRET_KEY", NULL);
    cfg.stripe.webhook_secret = env_or("OPX_STRIPE_WEBHOOK_SECRET", NULL);
    if (strcmp(cfg.gateway, "stripe") == 0 && !cfg.stripe.secret_key)
        return die_usage("--gateway stripe needs OPX_STRIPE_SECRET_KEY in the environment", usage_serve);
    log_init(2, cfg.log_level);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread starts */
    int rc = app_serve(&cfg);
    curl_global_cleanup();
    log_shutdown();
    return rc;
}

/* ---- database commands ------------------------------------------------------- */

static int get_db_opt(int argc, char **argv, const char **db, const char *usage)
{
    *db = env_or("OPX_DB", "var/opx.db");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) *db = argv[++i];
        else if (strncmp(argv[i], "--db=", 5) == 0) *db = argv[i] + 5;
    }
    return 0;
}

static int cmd_migrate(int argc, char **argv)
{
    const char *db;
    if (get_db_opt(argc, argv, &db, usage_migrate)) return 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--db") == 0) i++;
        else if (strncmp(argv[i], "--db=", 5) != 0) return die_usage("unknown option", usage_migrate);
    char err[512];
    int applied = 0, current = 0;
    if (store_migrate(db, &applied, &current, err, sizeof err) < 0) {
        fprintf(stderr, "opx migrate: %s\n", err);
        return 1;
    }
    printf("%s: applied %d migration(s); schema version %d\n", db, applied, current);
    return 0;
}

typedef struct {
    int done, rc;
} wait_state;

static void on_done(void *ctx, int rc)
{
    wait_state *w = ctx;
    w->done = 1;
    w->rc = rc;
}

/* Creates one user with the store interface, on a private loop. */
static int create_user(const char *db, const char *email_in, const char *password,
                       const char *name, const char *role, int quiet_if_exists, char *err,
                       size_t errlen)
{
    jv_errors errs = {.n = 0};
    store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.email, sizeof u.email, "%s", email_in);
    accounts_normalize_email(u.email, &errs, "--email");
    accounts_check_password(password, strlen(password), &errs, "--password");
    if (!name[0] || strlen(name) > 100) jv_add_error(&errs, "--name", "must be 1 to 100 characters");
    if (!router_role_bit(role)) jv_add_error(&errs, "--role", "must be admin, vetter, client or engineer");
    if (errs.n) {
        snprintf(err, errlen, "%s %s", errs.e[0].field, errs.e[0].message);
        return 2;
    }
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.role, sizeof u.role, "%s", role);
    id_new("usr", u.id);
    u.created_at = clock_now_s();
    if (accounts_hash_sync(password, u.password_hash) < 0) {
        snprintf(err, errlen, "hashing failed");
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    store *s = store_open(&loop, db, 1, err, errlen);
    if (!s) {
        uv_loop_close(&loop);
        return 1;
    }
    wait_state w = {0, 0};
    uint64_t deadline = clock_mono_ns() + 10000000000ull;
    int rc = store_user_create(s, &u, "cli", deadline, on_done, &w);
    if (rc == 0)
        while (!w.done) uv_run(&loop, UV_RUN_ONCE);
    else
        w.rc = rc;
    s->v->close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (w.rc == STORE_CONFLICT) {
        snprintf(err, errlen, "an account with email %s exists", u.email);
        return quiet_if_exists ? 3 : 1;
    }
    if (w.rc < 0) {
        snprintf(err, errlen, "cannot create the user: %s", store_strerror(w.rc));
        return 1;
    }
    snprintf(err, errlen, "%s", u.id);
    return 0;
}

static int cmd_user(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage_user, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "create") != 0) return die_usage("unknown user command", usage_user);
    const char *email = NULL, *password = NULL, *name = NULL, *role = NULL;
    const char *db = env_or("OPX_DB", "var/opx.db");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            fputs(usage_user, stdout);
            return 0;
        }
        if (i + 1 >= argc) return die_usage("an option is missing its value", usage_user);
        if (strcmp(a, "--email") == 0) email = argv[++i];
        else if (strcmp(a, "--password") == 0) password = argv[++i];
        else if (strcmp(a, "--name") == 0) name = argv[++i];
        else if (strcmp(a, "--role") == 0) role = argv[++i];
        else if (strcmp(a, "--db") == 0) db = argv[++i];
        else return die_usage("unknown option", usage_user);
    }
    if (!email || !password || !name || !role)
        return die_usage("--email, --password, --name and --role are required", usage_user);
    char msg[512];
    int rc = create_user(db, email, password, name, role, 0, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "opx user create: %s\n", msg);
        return rc;
    }
    printf("created %s %s (%s)\n", role, email, msg);
    return 0;
}

static int cmd_seed(int argc, char **argv)
{
    const char *db;
    if (get_db_opt(argc, argv, &db, usage_seed)) return 0;
    int demo = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--demo") == 0) demo = 1;
        else if (strcmp(argv[i], "--db") == 0) i++;
        else if (strncmp(argv[i], "--db=", 5) != 0) return die_usage("unknown option", usage_seed);
    if (!demo) return die_usage("only --demo seeding exists", usage_seed);
    char err[512] = "";
    if (seed_demo(db, stdout, err, sizeof err) != 0) {
        fprintf(stderr, "opx seed: %s\n", err);
        return 1;
    }
    return 0;
}

static void roles_str(unsigned roles, char *out, size_t n)
{
    if (!roles) {
        snprintf(out, n, "anyone");
        return;
    }
    static const char *names[] = {"client", "engineer", "vetter", "admin"};
    out[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (roles & (1u << i)) {
            if (out[0]) strncat(out, ",", n - strlen(out) - 1);
            strncat(out, names[i], n - strlen(out) - 1);
        }
}

static int cmd_routes(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        fputs(usage_routes, stdout);
        return 0;
    }
    for (int i = 0; i < api_nroutes; i++) {
        const route *r = &api_routes[i];
        char roles[64];
        roles_str(r->roles, roles, sizeof roles);
        printf("%s %s %s%s\n", http_method_str((enum http_method)r->method), r->pattern, roles,
               r->flags & ROUTE_TEST_ONLY ? " test-only" : "");
    }
    return 0;
}

static const char usage_inspect[] =
    "usage: opx inspect [--db PATH|URL] [--json] SQL [PARAM...]\n"
    "\n"
    "Runs SQL, one read-only query (SELECT, WITH ... SELECT, a PRAGMA that reads),\n"
    "on the database (env OPX_DB; default var/opx.db) in one snapshot, safe while\n"
    "the server runs. Each PARAM is bound, as text, to the query's next parameter\n"
    "(? in SQLite); the database converts it where the column is a number.\n"
    "Options come before SQL (-- ends them, for SQL that begins with -); every\n"
    "argument after SQL is a PARAM.\n"
    "\n"
    "Prints a line of column names, then a line per row, values separated by tabs\n"
    "(NULL as NULL; a tab, newline or backslash in a value as \\t, \\n, \\\\).\n"
    "  --json   print {\"columns\": [...], \"rows\": [[...], ...]} instead: integers,\n"
    "           reals, strings and null as the database holds them\n"
    "\n"
    "Exits 0 with the rows, 1 when the query fails or would write (the database's\n"
    "message on stderr), 2 on a usage error or a database that cannot be opened.\n";

/* one value of a text row: tabs, newlines and backslashes escaped */
static void put_text_value(const json_t *v)
{
    if (json_is_null(v)) {
        fputs("NULL", stdout);
    } else if (json_is_integer(v)) {
        printf("%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        printf("%.17g", json_real_value(v));
    } else {
        for (const char *p = json_string_value(v); p && *p; p++) {
            if (*p == '\t') fputs("\\t", stdout);
            else if (*p == '\n') fputs("\\n", stdout);
            else if (*p == '\r') fputs("\\r", stdout);
            else if (*p == '\\') fputs("\\\\", stdout);
            else putchar(*p);
        }
    }
}

static void put_text_line(const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (i) putchar('\t');
        put_text_value(v);
    }
    putchar('\n');
}

static int cmd_inspect(int argc, char **argv)
{
    const char *db = env_or("OPX_DB", "var/opx.db");
    int as_json = 0, i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            fputs(usage_inspect, stdout);
            return 0;
        }
        if (strcmp(a, "--json") == 0) as_json = 1;
        else if (strcmp(a, "--db") == 0) {
            if (i + 1 >= argc) return die_usage("--db is missing its value", usage_inspect);
            db = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) db = a + 5;
        else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (a[0] == '-' && a[1]) return die_usage("unknown option", usage_inspect);
        else break;
    }
    if (i >= argc) return die_usage("SQL is missing", usage_inspect);
    if (!db[0]) return die_usage("--db is empty", usage_inspect);
    const char *sql = argv[i];
    const char *const *params = (const char *const *)argv + i + 1;
    int nparams = argc - i - 1;
    /* inspecting never creates a database that was not there */
    char err[512];
    if (store_inspect_can_open(db, err, sizeof err) < 0) {
        fprintf(stderr, "opx inspect: %s\n", err);
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    store *s = store_open(&loop, db, 0, err, sizeof err);
    if (!s) {
        fprintf(stderr, "opx inspect: %s\n", err);
        uv_loop_close(&loop);
        return 2;
    }
    store_inspect_result res;
    wait_state w = {0, 0};
    uint64_t deadline = clock_mono_ns() + 60000000000ull;
    int rc = store_inspect(s, sql, params, nparams, &res, deadline, on_done, &w);
    if (rc == 0)
        while (!w.done) uv_run(&loop, UV_RUN_ONCE);
    else
        w.rc = rc;
    s->v->close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (w.rc < 0) {
        if (res.refused)
            fprintf(stderr, "opx inspect: %s (opx inspect runs read-only queries)\n", res.error);
        else
            fprintf(stderr, "opx inspect: %s\n", res.error[0] ? res.error : store_strerror(w.rc));
        return 1;
    }
    if (as_json) {
        if (json_dumpf(res.json, stdout, JSON_COMPACT) < 0) {
            json_decref(res.json);
            fprintf(stderr, "opx inspect: cannot write the rows\n");
            return 1;
        }
        putchar('\n');
    } else {
        put_text_line(json_object_get(res.json, "columns"));
        size_t n;
        json_t *row;
        json_array_foreach(json_object_get(res.json, "rows"), n, row) put_text_line(row);
    }
    json_decref(res.json);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_ledger(int argc, char **argv)
{
    const char *db = env_or("OPX_DB", "var/opx.db");
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fputs(usage_ledger, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "verify") != 0) return die_usage("unknown ledger command", usage_ledger);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) db = argv[++i];
        else if (strcmp(argv[i], "--help") == 0) {
            fputs(usage_ledger, stdout);
            return 0;
        } else return die_usage("unknown option", usage_ledger);
    }
    buf report;
    buf_init(&report, 1 << 20);
    int64_t violations = 0;
    int rc = store_ledger_verify(db, &report, &violations);
    if (report.data) fputs(report.data, rc < 0 ? stderr : stdout);
    buf_free(&report);
    if (rc < 0) return 2;
    return violations ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (token_init() < 0) {
        fprintf(stderr, "opx: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("opx %s\n", OPX_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        const char *what = argc > 2 ? argv[2] : "";
        fputs(strcmp(what, "serve") == 0     ? usage_serve
              : strcmp(what, "migrate") == 0 ? usage_migrate
              : strcmp(what, "user") == 0    ? usage_user
              : strcmp(what, "seed") == 0    ? usage_seed
              : strcmp(what, "routes") == 0  ? usage_routes
              : strcmp(what, "ledger") == 0  ? usage_ledger
              : strcmp(what, "inspect") == 0 ? usage_inspect
              : strcmp(what, "backup") == 0  ? cli_usage_backup
              : strcmp(what, "restore") == 0 ? cli_usage_restore
              : strcmp(what, "copy") == 0    ? cli_usage_copy
                                             : usage_main,
              stdout);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0) return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0) return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0) return cmd_user(argc - 1, argv + 1);
    if (strcmp(cmd, "seed") == 0) return cmd_seed(argc - 1, argv + 1);
    if (strcmp(cmd, "routes") == 0) return cmd_routes(argc - 1, argv + 1);
    if (strcmp(cmd, "ledger") == 0) return cmd_ledger(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0) return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0) return cli_backup(argc - 1, argv + 1);
    if (strcmp(cmd, "restore") == 0) return cli_restore(argc - 1, argv + 1);
    if (strcmp(cmd, "copy") == 0) return cli_copy(argc - 1, argv + 1);
    fprintf(stderr, "opx: unknown command '%s'\n\n%s", cmd, usage_main);
    return 2;
}
