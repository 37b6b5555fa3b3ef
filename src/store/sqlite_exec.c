/* sqlite_exec: writer and reader threads for SQLite (see sqlite_exec.h). */
#include "sqlite_exec.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"

#define SQ_MAX_READERS 8

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sq_job *head, *tail;
    int len;
} queue;

struct sq_exec {
    uv_loop_t *loop;
    uv_async_t async;
    queue wq, rq;
    pthread_mutex_t done_mu;
    sq_job *done_head, *done_tail;
    pthread_t writer, readers[SQ_MAX_READERS];
    int nreaders;
    sq_conn wconn, rconn[SQ_MAX_READERS];
    _Atomic int stopping;
    _Atomic int depth;
    int closed;
    /* events committed (writer) and announced (loop): the hub is poked
     * once per delivery that saw the first move past the second */
    _Atomic int64_t events_committed;
    int64_t events_announced;
    void (*on_events)(void *, int64_t);
    void *on_events_data;
};

static void q_init(queue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->tail = NULL;
    q->len = 0;
}

sq_job *sq_job_new(sq_run_fn run, uint64_t deadline_ns, store_done_cb cb, void *ctx)
{
    sq_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->run = run;
    j->deadline_ns = deadline_ns;
    j->cb = cb;
    j->ctx = ctx;
    return j;
}

void sq_exec_on_events(sq_exec *x, void (*fn)(void *data, int64_t max_id), void *data)
{
    x->on_events = fn;
    x->on_events_data = data;
}

int sq_exec_depth(sq_exec *x)
{
    return atomic_load(&x->depth);
}

/* ---- per-connection helpers --------------------------------------------- */

static int progress(void *arg)
{
    sq_conn *c = arg;
    return c->deadline_ns && clock_mono_ns() > c->deadline_ns;
}

static int busy(void *arg, int count)
{
    sq_conn *c = arg;
    (void)count;
    if (c->deadline_ns && clock_mono_ns() > c->deadline_ns) return 0;
    sqlite3_sleep(1);
    return 1;
}

int sq_open_conn(const char *path, sqlite3 **out, int readonly, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    const char *pragmas = readonly ? "PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
                                   : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                     " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
    char *msg = NULL;
    if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    *out = db;
    return 0;
}

static int conn_setup(sq_conn *c, const char *path, int readonly, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (sq_open_conn(path, &c->db, readonly, err, errlen) < 0) return -1;
    /* deadlines: the busy handler and the progress handler both check it */
    sqlite3_busy_handler(c->db, busy, c);
    sqlite3_progress_handler(c->db, 1000, progress, c);
    return 0;
}

static void conn_teardown(sq_conn *c)
{
    for (int i = 0; i < c->ncache; i++) sqlite3_finalize(c->cache[i].st);
    c->ncache = 0;
    if (c->db) sqlite3_close(c->db);
    c->db = NULL;
}

sqlite3_stmt *sq_prep(sq_conn *c, const char *sql)
{
    for (int i = 0; i < c->ncache; i++)
        if (c->cache[i].sql == sql) {
            sqlite3_reset(c->cache[i].st);
            sqlite3_clear_bindings(c->cache[i].st);
            return c->cache[i].st;
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_msgf(LOG_ERROR, "sqlite prepare failed: %s", sqlite3_errmsg(c->db));
        return NULL;
    }
    if (c->ncache < (int)(sizeof c->cache / sizeof c->cache[0])) {
        c->cache[c->ncache].sql = sql;
        c->cache[c->ncache].st = st;
        c->ncache++;
    }
    return st;
}

/* A statement left on a row holds its read transaction open, which pins a
 * WAL reader to an old snapshot (it would never see later commits): every
 * job's statements are reset as soon as the job returns. */
static void reset_busy(sq_conn *c)
{
    for (int i = 0; i < c->ncache; i++)
        if (sqlite3_stmt_busy(c->cache[i].st)) sqlite3_reset(c->cache[i].st);
}

int sq_rc(sq_conn *c, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return STORE_OK;
    case SQLITE_CONSTRAINT: return STORE_CONFLICT;
    case SQLITE_INTERRUPT: return STORE_TIMEOUT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return c->deadline_ns && clock_mono_ns() > c->deadline_ns ? STORE_TIMEOUT : STORE_BUSY;
    default:
        log_msgf(LOG_ERROR, "sqlite error %d: %s", rc, sqlite3_errmsg(c->db));
        return STORE_IO;
    }
}

/* ---- queues -------------------------------------------------------------- */

int sq_submit(sq_exec *x, sq_job *j, int write)
{
    if (atomic_load(&x->stopping)) return STORE_CLOSED;
    queue *q = write ? &x->wq : &x->rq;
    pthread_mutex_lock(&q->mu);
    if (q->len >= SQ_QUEUE_MAX) {
        pthread_mutex_unlock(&q->mu);
        return STORE_BUSY;
    }
    j->next = NULL;
    if (q->tail) q->tail->next = j;
    else q->head = j;
    q->tail = j;
    q->len++;
    atomic_fetch_add(&x->depth, 1);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

/* Takes up to max jobs; blocks until one is there or the exec stops. */
static sq_job *take(sq_exec *x, queue *q, int max)
{
    pthread_mutex_lock(&q->mu);
    while (!q->head && !atomic_load(&x->stopping)) pthread_cond_wait(&q->cv, &q->mu);
    sq_job *first = q->head, *last = NULL, *j = q->head;
    int n = 0;
    while (j && n < max) {
        last = j;
        j = j->next;
        n++;
    }
    if (last) {
        q->head = j;
        if (!j) q->tail = NULL;
        last->next = NULL;
        q->len -= n;
    }
    pthread_mutex_unlock(&q->mu);
    return first;
}

static void complete(sq_exec *x, sq_job *list)
{
    if (!list) return;
    sq_job *tail = list;
    while (tail->next) tail = tail->next;
    pthread_mutex_lock(&x->done_mu);
    if (x->done_tail) x->done_tail->next = list;
    else x->done_head = list;
    x->done_tail = tail;
    pthread_mutex_unlock(&x->done_mu);
    uv_async_send(&x->async);
}

static void deliver(sq_exec *x)
{
    pthread_mutex_lock(&x->done_mu);
    sq_job *j = x->done_head;
    x->done_head = x->done_tail = NULL;
    pthread_mutex_unlock(&x->done_mu);
    while (j) {
        sq_job *n = j->next;
        atomic_fetch_sub(&x->depth, 1);
        j->cb(j->ctx, j->rc);
        free(j->owned);
        free(j);
        j = n;
    }
    int64_t ev = atomic_load(&x->events_committed);
    if (ev > x->events_announced) {
        x->events_announced = ev;
        if (x->on_events) x->on_events(x->on_events_data, ev);
    }
}

static void on_async(uv_async_t *a)
{
    deliver(a->data);
}

/* ---- worker threads ------------------------------------------------------ */

static int exec_simple(sq_conn *c, const char *sql)
{
    c->deadline_ns = 0;
    return sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

static void *writer_main(void *arg)
{
    sq_exec *x = arg;
    sq_conn *c = &x->wconn;
    for (;;) {
        sq_job *batch = take(x, &x->wq, SQ_BATCH_MAX);
        if (!batch) break; /* stopping and drained */
        int began = exec_simple(c, "BEGIN IMMEDIATE") == SQLITE_OK;
        int64_t events_max = 0;
        for (sq_job *j = batch; j; j = j->next) {
            if (!began) {
                j->rc = STORE_IO;
                continue;
            }
            if (clock_mono_ns() > j->deadline_ns) {
                j->rc = STORE_TIMEOUT;
                continue;
            }
            exec_simple(c, "SAVEPOINT job");
            c->deadline_ns = j->deadline_ns;
            c->events_max = 0;
            j->rc = j->run(c, j);
            reset_busy(c);
            c->deadline_ns = 0;
            if (j->rc < 0 && j->rc != STORE_NOTFOUND) exec_simple(c, "ROLLBACK TO job");
            else if (c->events_max > events_max) events_max = c->events_max;
            exec_simple(c, "RELEASE job");
        }
        if (began) {
            int rc = exec_simple(c, "COMMIT");
            if (rc != SQLITE_OK) {
                log_msgf(LOG_ERROR, "sqlite commit failed: %s", sqlite3_errmsg(c->db));
                exec_simple(c, "ROLLBACK");
                for (sq_job *j = batch; j; j = j->next)
                    if (j->rc >= 0) j->rc = STORE_IO;
            } else if (events_max > 0) {
                atomic_store(&x->events_committed, events_max); /* ids only grow */
            }
        }
        complete(x, batch);
    }
    return NULL;
}

typedef struct {
    sq_exec *x;
    sq_conn *c;
} reader_arg;

static void *reader_loop(void *arg)
{
    reader_arg ra = *(reader_arg *)arg;
    free(arg);
    for (;;) {
        sq_job *j = take(ra.x, &ra.x->rq, 1);
        if (!j) break;
        if (clock_mono_ns() > j->deadline_ns) {
            j->rc = STORE_TIMEOUT;
        } else {
            ra.c->deadline_ns = j->deadline_ns;
            j->rc = j->run(ra.c, j);
            reset_busy(ra.c);
            ra.c->deadline_ns = 0;
        }
        complete(ra.x, j);
    }
    return NULL;
}

sq_exec *sq_exec_start(uv_loop_t *loop, const char *path, int readers, char *err, size_t errlen)
{
    if (readers < 1) readers = 1;
    if (readers > SQ_MAX_READERS) readers = SQ_MAX_READERS;
    sq_exec *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->loop = loop;
    q_init(&x->wq);
    q_init(&x->rq);
    pthread_mutex_init(&x->done_mu, NULL);
    if (conn_setup(&x->wconn, path, 0, err, errlen) < 0) {
        free(x);
        return NULL;
    }
    for (int i = 0; i < readers; i++) {
        if (conn_setup(&x->rconn[i], path, 1, err, errlen) < 0) {
            for (int k = 0; k < i; k++) conn_teardown(&x->rconn[k]);
            conn_teardown(&x->wconn);
            free(x);
            return NULL;
        }
    }
    uv_async_init(loop, &x->async, on_async);
    x->async.data = x;
    pthread_create(&x->writer, NULL, writer_main, x);
    for (int i = 0; i < readers; i++) {
        reader_arg *ra = malloc(sizeof *ra);
        ra->x = x;
        ra->c = &x->rconn[i];
        pthread_create(&x->readers[i], NULL, reader_loop, ra);
    }
    x->nreaders = readers;
    return x;
}

static void on_async_closed(uv_handle_t *h)
{
    free(h->data);
}

void sq_exec_stop(sq_exec *x)
{
    atomic_store(&x->stopping, 1);
    pthread_mutex_lock(&x->wq.mu);
    pthread_cond_broadcast(&x->wq.cv);
    pthread_mutex_unlock(&x->wq.mu);
    pthread_mutex_lock(&x->rq.mu);
    pthread_cond_broadcast(&x->rq.cv);
    pthread_mutex_unlock(&x->rq.mu);
    pthread_join(x->writer, NULL);
    for (int i = 0; i < x->nreaders; i++) pthread_join(x->readers[i], NULL);
    deliver(x); /* every queued callback runs, even now */
    conn_teardown(&x->wconn);
    for (int i = 0; i < x->nreaders; i++) conn_teardown(&x->rconn[i]);
    uv_close((uv_handle_t *)&x->async, on_async_closed);
}
