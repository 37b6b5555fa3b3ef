/* money_bench: durable commit throughput of SQLite on this disk, and of
 * ledger transfers posted through the real store (issue 6).
 *
 * Usage: money_bench --dir DIR [--seconds S] [--inflight K[,K...]] [--contracts C]
 *
 * Every measurement uses a fresh database file in DIR (put DIR on the disk
 * you care about: bench/money.sh uses a temp dir under build/):
 *
 *   raw     one connection, journal_mode=WAL, synchronous=FULL (the
 *           store's settings), a table t(id INTEGER PRIMARY KEY, v TEXT);
 *           for S seconds: BEGIN IMMEDIATE; INSERT one 40-byte row; COMMIT
 *           -> commits/s. The reference: one durable commit per transaction.
 *   ledger  store_open() (the store the server runs, migrations applied: the
 *           real schema, constraints, indexes and triggers), then for S
 *           seconds keeps K write jobs queued, each posting ONE ledger
 *           transaction with sqlite_ledger_post() through sqlite_submit(),
 *           i.e. through the store's single writer thread and its batched
 *           commits (BEGIN IMMEDIATE, a SAVEPOINT per job, one COMMIT per
 *           batch of up to SQ_BATCH_MAX jobs). Each of the K slots walks its
 *           own milestones: ledger_fund (client card -> the contract's
 *           escrow, 4 entries) and, once that is durable, ledger_release
 *           (escrow -> the engineer's payable + the platform fee, 3
 *           entries), then the next milestone. Milestones are spread over C
 *           contracts (one escrow account each) of one client and one
 *           engineer, so the platform-wide accounts (gateway clearing,
 *           revenue) are hot rows, as in production. The milestone and
 *           contract rows do not exist: the ledger does not need them.
 *           A transfer counts when its callback ran with STORE_OK, which
 *           the store only does after the COMMIT covering it returned.
 *           Commits are counted with a commit hook installed on the
 *           writer's connection by the first job (it only counts).
 *           Afterwards the database is checked with store_ledger_verify()
 *           (what `opx ledger verify` runs) and the number of ledger
 *           transactions in it must equal the transfers acknowledged.
 *
 * Order: raw, then for each K: ledger K, raw again. The disk's rate
 * drifts when anything else uses it, so each ledger run is compared with
 * the mean of the raw runs just before and just after it.
 *
 * Output, one line per measurement:
 *   RESULT kind=raw seq=I commits=N seconds=S rate=R write_kib_per_commit=W
 *   RESULT kind=ledger inflight=K transfers=N funds=F releases=R commits=C
 *          per_commit=X seconds=S rate=R p50_ms=.. p99_ms=.. max_ms=..
 *          failed=0 txns_in_db=N violations=0 verify_s=..
 *          write_kib_per_commit=.. write_kib_per_transfer=..
 *          raw_before=R0 raw_after=R1 ratio=rate/((R0+R1)/2)
 * (p50/p99/max: from submitting a job to its callback. write_kib_*: bytes
 * this process wrote (/proc/self/io wchar) during the run -- WAL frames of
 * 4 KiB pages, checkpoints into the database file, and SQLite's temp files
 * (the sub-journals of the store's per-job SAVEPOINTs spill there) -- per
 * commit or per transfer.)
 * bench/money.sh builds it against build/libopx.a, pins it to one core and
 * tabulates the lines. Exit status 1 on any error (a failed job, a ledger
 * that does not verify, a count that does not match). */
#include "core/buf.h"
#include "core/log.h"
#include "rules/ledger.h"
#include "store/ledger_verify.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define FEE_BPS 1000
#define JOB_DEADLINE_NS (60ULL * 1000000000ULL)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* bytes this process passed to write()/pwrite() so far (/proc/self/io
 * wchar): the WAL frames, the checkpoints into the database file, a few
 * log lines. -1 when unreadable. */
static long long wchar_now(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    long long v = -1;
    char line[128];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

static double kib_per(long long w0, long long w1, long n)
{
    return w0 < 0 || w1 < 0 || n <= 0 ? -1.0 : (double)(w1 - w0) / 1024.0 / (double)n;
}

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "money_bench: ");
    fprintf(stderr, fmt, a ? a : "", b ? b : "");
    fputc('\n', stderr);
    exit(1);
}

static void remove_db(const char *path)
{
    char p[1100];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
}

/* ---- raw SQLite commits ---------------------------------------------------------- */

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) die("raw: %s: %s", sql, msg);
}

static void step_or_die(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) die("raw: step failed: %s%s", sqlite3_errmsg(db), NULL);
    sqlite3_reset(st);
}

static double bench_raw(const char *dir, double seconds, int seq)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/raw.db", dir);
    remove_db(path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die("raw: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    exec_or_die(db, "PRAGMA journal_mode=WAL");
    exec_or_die(db, "PRAGMA synchronous=FULL");
    exec_or_die(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    sqlite3_stmt *begin = NULL, *ins = NULL, *commit = NULL;
    if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?)", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
        die("raw: prepare failed: %s%s", sqlite3_errmsg(db), NULL);
    char v[41];
    double rate = 0;
    for (int warm = 1; warm >= 0; warm--) { /* 0.3 s of warm-up, then the measured run */
        double t0 = now_s(), end = t0 + (warm ? 0.3 : seconds), t;
        long long w0 = wchar_now();
        long k = 0;
        do {
            snprintf(v, sizeof v, "row %036ld", k);
            step_or_die(db, begin);
            sqlite3_bind_text(ins, 1, v, 40, SQLITE_STATIC);
            step_or_die(db, ins);
            step_or_die(db, commit);
            k++;
        } while ((t = now_s()) < end);
        if (!warm) {
            rate = k / (t - t0);
            printf("RESULT kind=raw seq=%d commits=%ld seconds=%.3f rate=%.1f "
                   "write_kib_per_commit=%.1f\n",
                   seq, k, t - t0, rate, kib_per(w0, wchar_now(), k));
        }
    }
    sqlite3_finalize(begin);
    sqlite3_finalize(ins);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    remove_db(path);
    return rate;
}

/* ---- ledger transfers through the store ------------------------------------------- */

static _Atomic long commits; /* counted on the writer thread */
static sqlite3 *hooked; /* the writer connection carrying the hook (set on the writer thread) */

static int on_commit(void *arg)
{
    (void)arg;
    atomic_fetch_add(&commits, 1);
    return 0; /* never vetoes */
}

typedef struct {
    ledger_txn t;
    int64_t now;
} post_args;

static int run_post(sq_conn *c, sq_job *j)
{
    if (c->db != hooked) {
        hooked = c->db;
        sqlite3_commit_hook(c->db, on_commit, NULL);
    }
    const post_args *a = j->in;
    return sqlite_ledger_post(c, &a->t, a->now);
}

typedef struct lb lb;
typedef struct {
    lb *b;
    long milestone; /* the milestone this slot is working on */
    int released;   /* 0: next is the release of milestone; 1: fund the next one */
    uint64_t sent_ns;
    post_args args;
} slot;

struct lb {
    uv_loop_t *loop;
    store *s;
    int contracts;
    long next_milestone;
    double end;
    long funds, releases, failed;
    long acked; /* transfers acknowledged, warm-up included */
    int active;
    uint64_t *lat; /* ns, one per acknowledged transfer */
    long nlat, caplat;
    double t_last;
};

static void submit_next(slot *sl);

static void on_posted(void *ctx, int rc)
{
    slot *sl = ctx;
    lb *b = sl->b;
    uint64_t t = now_ns();
    b->t_last = now_s();
    if (rc != STORE_OK) {
        b->failed++;
        fprintf(stderr, "money_bench: a ledger job failed: %s\n", store_strerror(rc));
    } else {
        b->acked++;
        if (sl->args.t.kind[0] == 'f') {
            b->funds++;
            sl->released = 0;
        } else {
            b->releases++;
            sl->released = 1;
        }
        if (b->nlat == b->caplat) {
            b->caplat = b->caplat ? b->caplat * 2 : 65536;
            b->lat = realloc(b->lat, (size_t)b->caplat * sizeof *b->lat);
            if (!b->lat) die("out of memory%s%s", NULL, NULL);
        }
        b->lat[b->nlat++] = t - sl->sent_ns;
    }
    if (rc != STORE_OK || now_s() >= b->end) {
        if (--b->active == 0) uv_stop(b->loop);
        return;
    }
    submit_next(sl);
}

static void submit_next(slot *sl)
{
    lb *b = sl->b;
    char client[32] = "usr_benchclient0000000", engineer[32] = "usr_benchengineer00000";
    char contract[32], milestone[32];
    if (sl->released) { /* fund a new milestone */
        sl->milestone = b->next_milestone++;
    }
    long m = sl->milestone;
    snprintf(contract, sizeof contract, "ctr_bench%011d", (int)(m % b->contracts));
    snprintf(milestone, sizeof milestone, "mil_bench%011ld", m);
    int64_t amount = 10000 + (m % 97) * 250; /* 100.00 .. 340.00 USD */
    if (sl->released)
        ledger_fund(&sl->args.t, client, contract, milestone, "USD", amount);
    else
        ledger_release(&sl->args.t, engineer, contract, milestone, "USD", amount, FEE_BPS);
    snprintf(sl->args.t.memo, sizeof sl->args.t.memo, "money_bench %s", milestone);
    sl->args.now = (int64_t)time(NULL);
    sl->sent_ns = now_ns();
    int rc = sqlite_submit(b->s, run_post, 1, sl->sent_ns + JOB_DEADLINE_NS, on_posted, sl,
                           &sl->args, NULL, NULL, NULL, 0);
    if (rc != 0) {
        fprintf(stderr, "money_bench: submit refused: %s\n", store_strerror(rc));
        b->failed++;
        if (--b->active == 0) uv_stop(b->loop);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, long n, double p)
{
    if (n == 0) return 0;
    long i = (long)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

static int64_t count_txns(const char *path)
{
    sqlite3 *db = NULL;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM ledger_txns", -1, &st, NULL) ==
                SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static int bench_ledger(const char *dir, double seconds, int k, int contracts, double *rate_out,
                        char *line, size_t linecap)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/ledger-%d.db", dir, k);
    remove_db(path);
    uv_loop_t loop;
    uv_loop_init(&loop);
    hooked = NULL; /* a new connection may get the old one's address */
    store *s = store_open(&loop, path, 1, err, sizeof err);
    if (!s) die("store_open %s: %s", path, err);
    slot *slots = calloc((size_t)k, sizeof *slots);
    lb b = {.loop = &loop, .s = s, .contracts = contracts};
    if (!slots) die("out of memory%s%s", NULL, NULL);

    /* 0.3 s of warm-up on milestones of their own, then the measured run */
    int ok = 1;
    for (int warm = 1; warm >= 0; warm--) {
        b.funds = b.releases = b.failed = 0;
        b.nlat = 0;
        atomic_store(&commits, 0);
        double t0 = now_s();
        long long w0 = wchar_now();
        b.end = t0 + (warm ? 0.3 : seconds);
        b.active = k;
        for (int i = 0; i < k; i++) {
            slots[i] = (slot){.b = &b, .released = 1};
            submit_next(&slots[i]);
        }
        if (b.active > 0) uv_run(&loop, UV_RUN_DEFAULT);
        if (b.failed) ok = 0;
        if (warm) continue;
        double el = b.t_last - t0;
        long n = b.funds + b.releases, nc = atomic_load(&commits);
        long long w1 = wchar_now();
        qsort(b.lat, (size_t)b.nlat, sizeof *b.lat, cmp_u64);
        s->v->close(s); /* drains: every job is committed and called back */
        uv_run(&loop, UV_RUN_DEFAULT);
        buf report;
        buf_init(&report, 1 << 20);
        int64_t violations = -1;
        double v0 = now_s();
        int vrc = store_ledger_verify(path, &report, &violations);
        double vs = now_s() - v0;
        int64_t in_db = count_txns(path);
        if (vrc < 0 || violations != 0) {
            fprintf(stderr, "money_bench: ledger verify failed (k=%d):\n%s", k,
                    report.data ? report.data : "");
            ok = 0;
        }
        /* the warm-up's transfers are in the database too */
        if (in_db != b.acked) {
            fprintf(
                stderr,
                "money_bench: %lld ledger transactions in the database, %ld acknowledged (k=%d)\n",
                (long long)in_db, b.acked, k);
            ok = 0;
        }
        buf_free(&report);
        *rate_out = el > 0 ? n / el : 0.0;
        snprintf(
            line, linecap,
            "RESULT kind=ledger inflight=%d transfers=%ld funds=%ld releases=%ld commits=%ld "
            "per_commit=%.2f"
            " seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f failed=%ld txns_in_db=%lld"
            " violations=%lld verify_s=%.2f write_kib_per_commit=%.1f write_kib_per_transfer=%.2f",
            k, n, b.funds, b.releases, nc, nc ? (double)n / (double)nc : 0.0, el,
            el > 0 ? n / el : 0.0, pct_ms(b.lat, b.nlat, 0.50), pct_ms(b.lat, b.nlat, 0.99),
            pct_ms(b.lat, b.nlat, 1.0), b.failed, (long long)in_db, (long long)violations, vs,
            kib_per(w0, w1, nc), kib_per(w0, w1, n));
    }
    free(slots);
    free(b.lat);
    uv_loop_close(&loop);
    remove_db(path);
    return ok;
}

/* a whole argument as a number, or -1 (garbage is refused, never read as 0) */
static double number(const char *s)
{
    char *end = NULL;
    double v = strtod(s, &end);
    return end != s && *end == '\0' ? v : -1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *inflight = "64,1";
    double seconds = 5;
    int contracts = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = number(argv[++i]);
        else if (!strcmp(argv[i], "--inflight") && i + 1 < argc)
            inflight = argv[++i];
        else if (!strcmp(argv[i], "--contracts") && i + 1 < argc)
            contracts = (int)number(argv[++i]);
        else {
            fprintf(stderr, "usage: money_bench --dir DIR [--seconds S] [--inflight K[,K...]] "
                            "[--contracts C]\n");
            return 2;
        }
    }
    if (!dir || seconds <= 0 || contracts < 1) {
        fprintf(
            stderr,
            "usage: money_bench --dir DIR [--seconds S] [--inflight K[,K...]] [--contracts C]\n");
        return 2;
    }
    log_init(2, LOG_WARN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* the raw rate is measured before and after every ledger run, and each
     * ledger run is compared with the mean of the two around it: the disk's
     * rate drifts when something else uses it */
    int ok = 1, seq = 0;
    double raw_before = bench_raw(dir, seconds, seq++);
    char list[256];
    snprintf(list, sizeof list, "%s", inflight);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        double kd = number(tok);
        int k = kd >= 1 && kd <= SQ_QUEUE_MAX && kd == (int)kd ? (int)kd : 0;
        if (k < 1 || k > SQ_QUEUE_MAX) {
            fprintf(stderr, "money_bench: --inflight values are 1..%d\n", SQ_QUEUE_MAX);
            return 2;
        }
        double rate = 0;
        char line[1024] = "";
        ok &= bench_ledger(dir, seconds, k, contracts, &rate, line, sizeof line);
        double raw_after = bench_raw(dir, seconds, seq++);
        double ref = (raw_before + raw_after) / 2;
        printf("%s raw_before=%.1f raw_after=%.1f ratio=%.3f\n", line, raw_before, raw_after,
               ref > 0 ? rate / ref : 0.0);
        raw_before = raw_after;
    }
    log_shutdown();
    return ok ? 0 : 1;
}
