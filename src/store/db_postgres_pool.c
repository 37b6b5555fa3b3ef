/* db_postgres_pool: the PostgreSQL driver's workers (see db_postgres.h).
 *
 * A bounded pool of worker threads, each owning one blocking libpq
 * connection, takes jobs from one bounded queue; the loop thread only
 * queues jobs and runs their callbacks, which come back through one
 * uv_async_t as in db_sqlite.c, so it never waits on the network.
 *
 * Each job is one transaction: reads in REPEATABLE READ READ ONLY (one
 * snapshot, never a serialization failure), writes in SERIALIZABLE, so
 * money rules hold across any number of nodes without hand-placed row
 * locks. statement_timeout is set from the job's remaining deadline in the
 * same round trip as BEGIN. A serialization failure or deadlock (40001,
 * 40P01), or a connection lost before COMMIT, runs the job again from the
 * start while its deadline allows, after a short jittered backoff; a
 * connection lost during COMMIT is not retried (the outcome is unknown:
 * the caller's idempotency key is what makes its retry safe).
 *
 * A transaction that added events ends with pg_notify('opx_events', its
 * highest id), which every node's listener hears at COMMIT
 * (db_postgres_listen.c), so live events cross nodes.
 *
 * A job still queued at its deadline fails with STORE_TIMEOUT without
 * running; a full queue refuses it (STORE_BUSY). A worker whose connection
 * broke reconnects with exponential backoff and jitter, and fails the jobs
 * it takes meanwhile with STORE_UNAVAILABLE instead of holding them. */
#include "../core/clock.h"
#include "../core/log.h"
#include "db_postgres.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PGP_QUEUE_MAX 4096
#define PGP_MAX_WORKERS 64
/* a job conflicting this often in a row is logged (it still retries to its
 * deadline: of transactions that conflict, SERIALIZABLE lets one commit, so
 * every round makes progress) */
#define PGP_RETRY_LOG 16
#define PGP_RECONNECT_MIN_MS 50
#define PGP_RECONNECT_MAX_MS 5000

typedef struct pgp pgp;

typedef struct {
    pgp *p;
    pg_conn c;
    pthread_t thread;
    int failures;         /* connection attempts failed in a row */
    uint64_t next_try_ns; /* no new attempt before this */
    unsigned seed;        /* jitter */
} pgp_worker;

struct pgp {
    database base;
    uv_loop_t *loop;
    uv_async_t async;
    char *url;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    db_job *head, *tail;
    int len;
    pthread_mutex_t done_mu;
    db_job *done_head, *done_tail;
    pgp_worker *workers;
    int nworkers;
    _Atomic int stopping;
    _Atomic int depth;
    _Atomic int64_t refused, expired, retries, reconnects;
    _Atomic int connections;
    _Atomic int64_t events_committed;
    int64_t events_announced;
    void (*on_events)(void *, int64_t);
    void *on_events_data;
    void (*on_notices)(void *, const char *);
    void *on_notices_data;
    pg_listener *listener;
};

/* ---- the loop's side ------------------------------------------------------ */

int pgp_submit(database *d, db_job *j, int write)
{
    pgp *p = (pgp *)d;
    if (atomic_load(&p->stopping)) return STORE_CLOSED;
    pthread_mutex_lock(&p->mu);
    if (p->len >= PGP_QUEUE_MAX) {
        pthread_mutex_unlock(&p->mu);
        atomic_fetch_add(&p->refused, 1);
        return STORE_BUSY;
    }
    j->next = NULL;
    j->write = write;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->len++;
    atomic_fetch_add(&p->depth, 1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int pgp_depth(database *d)
{
    return atomic_load(&((pgp *)d)->depth);
}

void pgp_stats(database *d, store_stats *out)
{
    pgp *p = (pgp *)d;
    out->refused = atomic_load(&p->refused);
    out->expired = atomic_load(&p->expired);
    out->retries = atomic_load(&p->retries);
    out->reconnects = atomic_load(&p->reconnects);
    out->connections = atomic_load(&p->connections);
    out->pool = p->nworkers;
}

void pgp_on_events(database *d, void (*fn)(void *data, int64_t max_id), void *data)
{
    pgp *p = (pgp *)d;
    p->on_events = fn;
    p->on_events_data = data;
}

void pgp_on_notices(database *d, void (*fn)(void *data, const char *text), void *data)
{
    pgp *p = (pgp *)d;
    p->on_notices = fn;
    p->on_notices_data = data;
}

static void deliver(pgp *p)
{
    pthread_mutex_lock(&p->done_mu);
    db_job *j = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->done_mu);
    while (j) {
        db_job *n = j->next;
        atomic_fetch_sub(&p->depth, 1);
        j->cb(j->ctx, j->rc);
        free(j->owned);
        free(j);
        j = n;
    }
    int64_t ev = atomic_load(&p->events_committed);
    if (ev > p->events_announced) {
        p->events_announced = ev;
        if (p->on_events) p->on_events(p->on_events_data, ev);
    }
}

/* an id committed on any node (this one's too): the hub reads past its
 * cursor, once per id that moved the head */
static void heard(void *data, int64_t id)
{
    pgp *p = data;
    if (id > p->events_announced) {
        p->events_announced = id;
        if (p->on_events) p->on_events(p->on_events_data, id);
    }
}

static void noticed(void *data, const char *text)
{
    pgp *p = data;
    if (p->on_notices) p->on_notices(p->on_notices_data, text);
}

static void on_async(uv_async_t *a)
{
    deliver(a->data);
}

/* ---- the workers' side ---------------------------------------------------- */

static db_job *take(pgp *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->head && !atomic_load(&p->stopping))
        pthread_cond_wait(&p->cv, &p->mu);
    db_job *j = p->head;
    if (j) {
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        j->next = NULL;
        p->len--;
    }
    pthread_mutex_unlock(&p->mu);
    return j;
}

static void complete(pgp *p, db_job *j)
{
    pthread_mutex_lock(&p->done_mu);
    if (p->done_tail)
        p->done_tail->next = j;
    else
        p->done_head = j;
    p->done_tail = j;
    pthread_mutex_unlock(&p->done_mu);
    uv_async_send(&p->async);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

/* a delay in [base/2, base) */
static uint64_t jitter(pgp_worker *w, uint64_t base_ns)
{
    uint64_t half = base_ns / 2;
    return half + (half ? (uint64_t)rand_r(&w->seed) % half : 0);
}

/* A live connection for w, or -1 when the database cannot be reached
 * before deadline (attempts are spaced by the backoff, not made per job). */
static int connected(pgp_worker *w, uint64_t deadline)
{
    if (w->c.pg && !w->c.lost) return 0;
    if (w->c.pg) {
        pg_conn_close(&w->c);
        atomic_fetch_sub(&w->p->connections, 1);
    }
    uint64_t now = clock_mono_ns();
    if (now < w->next_try_ns) {
        if (w->next_try_ns >= deadline) return -1;
        sleep_ns(w->next_try_ns - now);
    }
    char err[512];
    PGconn *pg = pg_connect(w->p->url, err, sizeof err);
    if (!pg) {
        uint64_t ms = PGP_RECONNECT_MIN_MS;
        for (int i = 0; i < w->failures && ms < PGP_RECONNECT_MAX_MS; i++)
            ms *= 2;
        if (ms > PGP_RECONNECT_MAX_MS) ms = PGP_RECONNECT_MAX_MS;
        w->next_try_ns = clock_mono_ns() + jitter(w, ms * 1000000u);
        if (w->failures++ == 0) log_msgf(LOG_ERROR, "postgres: %s", err);
        return -1;
    }
    if (w->failures) log_msgf(LOG_INFO, "postgres: reconnected after %d attempt(s)", w->failures);
    w->failures = 0;
    w->next_try_ns = 0;
    pg_conn_init(&w->c, pg);
    atomic_fetch_add(&w->p->connections, 1);
    atomic_fetch_add(&w->p->reconnects, 1);
    return 0;
}

static void events_committed(pgp *p, int64_t id)
{
    int64_t seen = atomic_load(&p->events_committed);
    while (id > seen && !atomic_compare_exchange_weak(&p->events_committed, &seen, id))
        ;
}

/* One attempt at j's transaction on c; c->retry says whether to run it
 * again. */
static int attempt(pgp *p, pg_conn *c, db_job *j, int first)
{
    uint64_t now = clock_mono_ns();
    if (now >= j->deadline_ns) return STORE_TIMEOUT;
    uint64_t left_ms = (j->deadline_ns - now) / 1000000u;
    /* past a day the job has no real deadline (offline commands): none */
    long long ms = left_ms > 86400000u ? 0 : left_ms < 1 ? 1 : (long long)left_ms;
    char begin[160];
    snprintf(begin, sizeof begin, "BEGIN ISOLATION LEVEL %s; SET LOCAL statement_timeout = %lld",
             j->write ? "SERIALIZABLE" : "REPEATABLE READ READ ONLY", ms);
    c->retry = 0;
    c->refused = 0;
    c->write = j->write;
    c->changes = 0;
    c->base.deadline_ns = j->deadline_ns;
    c->base.events_max = 0;
    c->nnotices = 0;
    int rc = pg_command(c, begin);
    if (rc < 0) return rc;
    rc = j->run(&c->base, j);
    pg_conn_reset_stmts(c);
    if (c->lost) return rc;
    /* A unique key refused a row committed after this transaction's
     * snapshot: the transaction cannot see the row it collided with, so
     * what it answered ("already there, here it is") may be wrong. Once
     * more on a fresh snapshot, which sees it, and whatever that says
     * stands. (SQLite's single writer never has this.) */
    if (first && c->refused) c->retry = 1;
    if (c->retry || (rc < 0 && rc != STORE_NOTFOUND)) {
        int keep = c->retry;
        pg_command(c, "ROLLBACK");
        c->retry = keep;
        return rc;
    }
    /* the notifications (delivered to every node's listener at COMMIT, not
     * before) and the COMMIT go in one round trip: the event-order lock a
     * transaction may hold is let go that much sooner */
    char commit[160 + PG_NOTICES_MAX * (PG_NOTICE_LEN + 32)];
    size_t n = 0;
    if (c->base.events_max > 0 || c->nnotices) {
        n = (size_t)snprintf(commit, sizeof commit, "SELECT pg_notify('opx_events', '%lld')",
                             (long long)c->base.events_max);
        if (c->base.events_max <= 0) n = (size_t)snprintf(commit, sizeof commit, "SELECT 1");
        for (int i = 0; i < c->nnotices && n < sizeof commit; i++) /* texts checked by db_notice */
            n += (size_t)snprintf(commit + n, sizeof commit - n, ", pg_notify('opx_notices', '%s')",
                                  c->notices[i]);
        n += (size_t)snprintf(commit + n, sizeof commit - n, "; ");
    }
    snprintf(commit + n, sizeof commit - n, "COMMIT");
    int crc = pg_command(c, commit);
    if (crc < 0 && !c->lost && PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
        /* the notifications failed, so COMMIT never ran */
        int keep = c->retry;
        pg_command(c, "ROLLBACK");
        c->retry = keep;
        return crc;
    }
    if (crc < 0) {
        if (c->lost) {
            /* sent, but whether it committed is unknown: never run twice */
            c->retry = 0;
            log_msgf(LOG_ERROR, "postgres: connection lost during COMMIT; outcome unknown");
            return STORE_IO;
        }
        return crc; /* 40001 at commit sets c->retry: nothing was committed */
    }
    if (c->base.events_max > 0) events_committed(p, c->base.events_max);
    return rc;
}

static void run_job(pgp_worker *w, db_job *j)
{
    pg_conn *c = &w->c;
    uint64_t backoff = 1000000u; /* 1 ms, doubling */
    for (int n = 0;; n++) {
        if (clock_mono_ns() >= j->deadline_ns) {
            j->rc = STORE_TIMEOUT;
            if (n == 0) atomic_fetch_add(&w->p->expired, 1);
            break;
        }
        if (connected(w, j->deadline_ns) < 0) {
            j->rc = STORE_UNAVAILABLE;
            break;
        }
        j->rc = attempt(w->p, c, j, n == 0);
        c->base.deadline_ns = 0;
        if (!c->retry) break;
        uint64_t pause = jitter(w, backoff);
        if (clock_mono_ns() + pause >= j->deadline_ns) {
            /* out of time: a conflict that kept coming back */
            log_msgf(LOG_WARN, "postgres: a transaction gave up after %d attempts: %s", n + 1,
                     c->lost ? "the connection kept breaking" : c->err);
            j->rc = c->lost ? STORE_UNAVAILABLE : STORE_BUSY;
            break;
        }
        if (n + 1 == PGP_RETRY_LOG)
            log_msgf(LOG_WARN, "postgres: a transaction conflicted %d times in a row: %s", n + 1,
                     c->err);
        atomic_fetch_add(&w->p->retries, 1);
        sleep_ns(pause);
        if (backoff < 64000000u) backoff *= 2;
    }
    c->retry = 0;
}

static void *worker_main(void *arg)
{
    pgp_worker *w = arg;
    for (;;) {
        db_job *j = take(w->p);
        if (!j) break; /* stopping and drained */
        run_job(w, j);
        complete(w->p, j);
    }
    return NULL;
}

/* ---- lifecycle -------------------------------------------------------------- */

database *db_postgres_open(uv_loop_t *loop, const char *url, int workers, char *err, size_t errlen)
{
    if (workers < 1) workers = 1;
    if (workers > PGP_MAX_WORKERS) workers = PGP_MAX_WORKERS;
    pgp *p = calloc(1, sizeof *p);
    pgp_worker *ws = calloc((size_t)workers, sizeof *ws);
    char *u = strdup(url);
    if (!p || !ws || !u) {
        free(p);
        free(ws);
        free(u);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->base.drv = &postgres_driver;
    p->loop = loop;
    p->url = u;
    p->workers = ws;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    /* every connection up front: a wrong URL or password fails the start,
     * not the first request */
    for (int i = 0; i < workers; i++) {
        PGconn *pg = pg_connect(url, err, errlen);
        if (!pg) {
            for (int k = 0; k < i; k++)
                pg_conn_close(&ws[k].c);
            free(ws);
            free(u);
            free(p);
            return NULL;
        }
        ws[i].p = p;
        ws[i].seed = (unsigned)(clock_mono_ns() ^ (uint64_t)i * 2654435761u);
        pg_conn_init(&ws[i].c, pg);
    }
    p->connections = workers;
    uv_async_init(loop, &p->async, on_async);
    p->async.data = p;
    p->listener = pg_listener_start(loop, url, heard, noticed, p);
    for (int i = 0; i < workers; i++)
        pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
    p->nworkers = workers;
    return &p->base;
}

static void on_async_closed(uv_handle_t *h)
{
    free(h->data);
}

void pgp_close(database *d)
{
    pgp *p = (pgp *)d;
    atomic_store(&p->stopping, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i].thread, NULL);
    deliver(p); /* every queued callback runs, even now */
    pg_listener_stop(p->listener);
    p->listener = NULL;
    for (int i = 0; i < p->nworkers; i++)
        pg_conn_close(&p->workers[i].c);
    free(p->workers);
    free(p->url);
    uv_close((uv_handle_t *)&p->async, on_async_closed);
}
