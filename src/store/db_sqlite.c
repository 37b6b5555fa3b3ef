/* db_sqlite: the SQLite driver of the db interface (see db.h).
 *
 * One writer thread owns the only writing connection (SQLite has one
 * writer anyway) and commits queued write jobs in batches: one BEGIN
 * IMMEDIATE ... COMMIT around up to SQ_BATCH_MAX jobs, each inside its own
 * SAVEPOINT so a failing job rolls back alone. One fsync then covers the
 * batch (synchronous=FULL) and every job's callback runs only after the
 * COMMIT has returned, so nothing is acknowledged before it is durable.
 * Reader threads, each with its own connection, serve read jobs in WAL
 * mode beside the writer, each job inside one read transaction so all its
 * statements see one snapshot.
 *
 * Every job carries a deadline: a job still queued at its deadline fails
 * with STORE_TIMEOUT without running, and a running statement is
 * interrupted by the progress handler when the deadline passes. Queues are
 * bounded; a full queue refuses the job (STORE_BUSY) so the caller sheds
 * load. Completed jobs go back to the loop through one uv_async_t.
 *
 * Every statement of sql.h is prepared at most once per connection, on
 * first use, and kept until the connection closes. */
#include "../core/clock.h"
#include "../core/log.h"
#include "db.h"
#include "migrations.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQ_BATCH_MAX 64
#define SQ_QUEUE_MAX 4096
#define SQ_MAX_READERS 8

typedef struct {
    db_stmt base;
    sqlite3_stmt *st;
} sq_stmt;

typedef struct {
    db_conn base;
    sqlite3 *db;
    sqlite3_stmt *begin, *commit; /* a reader's snapshot around each job */
    sq_stmt stmts[ST__COUNT];
    int prepared[ST__COUNT]; /* ids in stmts that hold a statement, in order */
    int nprepared;
} sq_conn;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    db_job *head, *tail;
    int len;
} queue;

typedef struct {
    database base;
    uv_loop_t *loop;
    uv_async_t async;
    queue wq, rq;
    pthread_mutex_t done_mu;
    db_job *done_head, *done_tail;
    pthread_t writer, readers[SQ_MAX_READERS];
    int nreaders;
    sq_conn wconn, rconn[SQ_MAX_READERS];
    _Atomic int stopping;
    _Atomic int depth;
    _Atomic int64_t refused, expired;
    /* events committed (writer) and announced (loop): the hub is poked
     * once per delivery that saw the first move past the second */
    _Atomic int64_t events_committed;
    int64_t events_announced;
    void (*on_events)(void *, int64_t);
    void *on_events_data;
} sq_exec;

static const db_driver sqlite_driver;

static void q_init(queue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->tail = NULL;
    q->len = 0;
}

static void x_on_events(database *d, void (*fn)(void *data, int64_t max_id), void *data)
{
    sq_exec *x = (sq_exec *)d;
    x->on_events = fn;
    x->on_events_data = data;
}

static int x_depth(database *d)
{
    return atomic_load(&((sq_exec *)d)->depth);
}

static void x_stats(database *d, store_stats *out)
{
    sq_exec *x = (sq_exec *)d;
    out->refused = atomic_load(&x->refused);
    out->expired = atomic_load(&x->expired);
    out->connections = out->pool = 1 + x->nreaders; /* a file: they do not break */
}

/* ---- connections ---------------------------------------------------------- */

static int progress(void *arg)
{
    sq_conn *c = arg;
    return c->base.deadline_ns && clock_mono_ns() > c->base.deadline_ns;
}

static int busy(void *arg, int count)
{
    sq_conn *c = arg;
    (void)count;
    if (c->base.deadline_ns && clock_mono_ns() > c->base.deadline_ns) return 0;
    sqlite3_sleep(1);
    return 1;
}

static int open_conn(const char *path, sqlite3 **out, int readonly, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
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
    c->base.drv = &sqlite_driver;
    if (open_conn(path, &c->db, readonly, err, errlen) < 0) return -1;
    /* deadlines: the busy handler and the progress handler both check it */
    sqlite3_busy_handler(c->db, busy, c);
    sqlite3_progress_handler(c->db, 1000, progress, c);
    if (readonly &&
        (sqlite3_prepare_v3(c->db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &c->begin, NULL) ||
         sqlite3_prepare_v3(c->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &c->commit, NULL))) {
        snprintf(err, errlen, "cannot prepare on %s: %s", path, sqlite3_errmsg(c->db));
        return -1;
    }
    return 0;
}

static void conn_teardown(sq_conn *c)
{
    for (int i = 0; i < c->nprepared; i++)
        sqlite3_finalize(c->stmts[c->prepared[i]].st);
    c->nprepared = 0;
    sqlite3_finalize(c->begin);
    sqlite3_finalize(c->commit);
    if (c->db) sqlite3_close(c->db);
    c->db = NULL;
}

/* ---- the primitives ---------------------------------------------------- */

static db_stmt *d_prep(db_conn *dc, int id)
{
    sq_conn *c = (sq_conn *)dc;
    if (id <= ST_NONE || id >= ST__COUNT) return NULL;
    sq_stmt *s = &c->stmts[id];
    if (s->st) {
        sqlite3_reset(s->st);
        sqlite3_clear_bindings(s->st);
        return &s->base;
    }
    const char *sql = sql_text(SQL_SQLITE, id);
    if (!sql) {
        log_msgf(LOG_ERROR, "sqlite: %s has no SQLite text", sql_name(id));
        return NULL;
    }
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL) != SQLITE_OK) {
        log_msgf(LOG_ERROR, "sqlite prepare of %s failed: %s", sql_name(id), sqlite3_errmsg(c->db));
        s->st = NULL;
        return NULL;
    }
    s->base.c = dc;
    s->base.id = id;
    c->prepared[c->nprepared++] = id;
    return &s->base;
}

static sqlite3_stmt *S(db_stmt *st)
{
    return ((sq_stmt *)st)->st;
}

static void d_bind_int(db_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(S(st), i, v);
}

static void d_bind_double(db_stmt *st, int i, double v)
{
    sqlite3_bind_double(S(st), i, v);
}

static void d_bind_text(db_stmt *st, int i, const char *v, int copy)
{
    if (!v)
        sqlite3_bind_null(S(st), i);
    else
        sqlite3_bind_text(S(st), i, v, -1, copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

static void d_bind_null(db_stmt *st, int i)
{
    sqlite3_bind_null(S(st), i);
}

/* Maps a SQLite result code to STORE_*; quiet: the caller reports the
 * error itself (a text statement's, through errmsg), so it is not logged. */
static int sq_rc_as(sq_conn *c, int rc, int quiet)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return STORE_OK;
    case SQLITE_CONSTRAINT:
        return STORE_CONFLICT;
    case SQLITE_INTERRUPT:
        return STORE_TIMEOUT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return c->base.deadline_ns && clock_mono_ns() > c->base.deadline_ns ? STORE_TIMEOUT
                                                                            : STORE_BUSY;
    default:
        if (!quiet) log_msgf(LOG_ERROR, "sqlite error %d: %s", rc, sqlite3_errmsg(c->db));
        return STORE_IO;
    }
}

static int sq_rc(sq_conn *c, int rc)
{
    return sq_rc_as(c, rc, 0);
}

static int d_step(db_stmt *st)
{
    int rc = sqlite3_step(S(st));
    if (rc == SQLITE_ROW) return DB_ROW;
    if (rc == SQLITE_DONE) return DB_DONE;
    int r = sq_rc_as((sq_conn *)st->c, rc, st->id == ST_NONE);
    return r < 0 ? r : STORE_IO;
}

static void d_reset(db_stmt *st)
{
    sqlite3_reset(S(st));
}

static int d_col_null(db_stmt *st, int col)
{
    return sqlite3_column_type(S(st), col) == SQLITE_NULL;
}

static int64_t d_col_int(db_stmt *st, int col)
{
    return sqlite3_column_int64(S(st), col);
}

static double d_col_double(db_stmt *st, int col)
{
    return sqlite3_column_double(S(st), col);
}

static const char *d_col_text(db_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(S(st), col);
}

static int64_t d_changes(db_conn *c)
{
    return sqlite3_changes(((sq_conn *)c)->db);
}

/* ---- statements given as text (opx inspect) ------------------------------ */

/* Prepares sql on a reader connection (opened read-only, query_only on):
 * exactly one statement, which must not write and must return columns
 * (that refuses BEGIN, COMMIT, ATTACH and PRAGMAs that set something,
 * which would change the connection rather than read). */
static db_stmt *d_prep_text(db_conn *dc, const char *sql, char *err, size_t errlen)
{
    sq_conn *c = (sq_conn *)dc;
    if (!c->begin) {
        snprintf(err, errlen, "statements given as text run only on a reader connection");
        return NULL;
    }
    sqlite3_stmt *st = NULL, *more = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, &tail) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(c->db));
        return NULL;
    }
    if (!st) {
        snprintf(err, errlen, "no statement in the text given");
        return NULL;
    }
    /* what follows may only be whitespace and comments: preparing it must
     * give no statement */
    if (tail && *tail) {
        int rc = sqlite3_prepare_v2(c->db, tail, -1, &more, NULL);
        sqlite3_finalize(more);
        if (rc != SQLITE_OK || more) {
            while (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r')
                tail++;
            snprintf(err, errlen, "only one statement may be given; text follows the first: %.60s",
                     tail);
            sqlite3_finalize(st);
            return NULL;
        }
    }
    if (!sqlite3_stmt_readonly(st) || sqlite3_column_count(st) == 0) {
        snprintf(err, errlen, DB_NOT_READ_ONLY ": the statement %s",
                 sqlite3_stmt_readonly(st) ? "returns no rows" : "writes");
        sqlite3_finalize(st);
        return NULL;
    }
    sq_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        sqlite3_finalize(st);
        return NULL;
    }
    s->base.c = dc;
    s->base.id = ST_NONE;
    s->st = st;
    return &s->base;
}

static void d_finalize(db_stmt *st)
{
    if (!st) return;
    sqlite3_finalize(S(st));
    free(st);
}

static int d_param_count(db_stmt *st)
{
    return sqlite3_bind_parameter_count(S(st));
}

static int d_col_count(db_stmt *st)
{
    return sqlite3_column_count(S(st));
}

static const char *d_col_name(db_stmt *st, int col)
{
    return sqlite3_column_name(S(st), col);
}

/* per row: SQLite's values carry their own type (a BLOB reads as its text) */
static int d_col_type(db_stmt *st, int col)
{
    switch (sqlite3_column_type(S(st), col)) {
    case SQLITE_NULL:
        return DB_T_NULL;
    case SQLITE_INTEGER:
        return DB_T_INT;
    case SQLITE_FLOAT:
        return DB_T_DOUBLE;
    default:
        return DB_T_TEXT;
    }
}

static const char *d_errmsg(db_stmt *st)
{
    return sqlite3_errmsg(((sq_conn *)st->c)->db);
}

/* A statement left on a row holds its read transaction open, which pins a
 * WAL reader to an old snapshot (it would never see later commits): every
 * job's statements are reset as soon as the job returns. */
static void reset_busy(sq_conn *c)
{
    for (int i = 0; i < c->nprepared; i++) {
        sqlite3_stmt *st = c->stmts[c->prepared[i]].st;
        if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
    }
}

/* ---- queues -------------------------------------------------------------- */

static int x_submit(database *d, db_job *j, int write)
{
    sq_exec *x = (sq_exec *)d;
    if (atomic_load(&x->stopping)) return STORE_CLOSED;
    queue *q = write ? &x->wq : &x->rq;
    pthread_mutex_lock(&q->mu);
    if (q->len >= SQ_QUEUE_MAX) {
        pthread_mutex_unlock(&q->mu);
        atomic_fetch_add(&x->refused, 1);
        return STORE_BUSY;
    }
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->len++;
    atomic_fetch_add(&x->depth, 1);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

/* Takes up to max jobs; blocks until one is there or the exec stops. */
static db_job *take(sq_exec *x, queue *q, int max)
{
    pthread_mutex_lock(&q->mu);
    while (!q->head && !atomic_load(&x->stopping))
        pthread_cond_wait(&q->cv, &q->mu);
    db_job *first = q->head, *last = NULL, *j = q->head;
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

static void complete(sq_exec *x, db_job *list)
{
    if (!list) return;
    db_job *tail = list;
    while (tail->next)
        tail = tail->next;
    pthread_mutex_lock(&x->done_mu);
    if (x->done_tail)
        x->done_tail->next = list;
    else
        x->done_head = list;
    x->done_tail = tail;
    pthread_mutex_unlock(&x->done_mu);
    uv_async_send(&x->async);
}

static void deliver(sq_exec *x)
{
    pthread_mutex_lock(&x->done_mu);
    db_job *j = x->done_head;
    x->done_head = x->done_tail = NULL;
    pthread_mutex_unlock(&x->done_mu);
    while (j) {
        db_job *n = j->next;
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
    c->base.deadline_ns = 0;
    return sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

static void *writer_main(void *arg)
{
    sq_exec *x = arg;
    sq_conn *c = &x->wconn;
    for (;;) {
        db_job *batch = take(x, &x->wq, SQ_BATCH_MAX);
        if (!batch) break; /* stopping and drained */
        int began = exec_simple(c, "BEGIN IMMEDIATE") == SQLITE_OK;
        int64_t events_max = 0;
        for (db_job *j = batch; j; j = j->next) {
            if (!began) {
                j->rc = STORE_IO;
                continue;
            }
            if (clock_mono_ns() > j->deadline_ns) {
                j->rc = STORE_TIMEOUT;
                atomic_fetch_add(&x->expired, 1);
                continue;
            }
            exec_simple(c, "SAVEPOINT job");
            c->base.deadline_ns = j->deadline_ns;
            c->base.events_max = 0;
            j->rc = j->run(&c->base, j);
            reset_busy(c);
            c->base.deadline_ns = 0;
            if (j->rc < 0 && j->rc != STORE_NOTFOUND)
                exec_simple(c, "ROLLBACK TO job");
            else if (c->base.events_max > events_max)
                events_max = c->base.events_max;
            exec_simple(c, "RELEASE job");
        }
        if (began) {
            int rc = exec_simple(c, "COMMIT");
            if (rc != SQLITE_OK) {
                log_msgf(LOG_ERROR, "sqlite commit failed: %s", sqlite3_errmsg(c->db));
                exec_simple(c, "ROLLBACK");
                for (db_job *j = batch; j; j = j->next)
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
        db_job *j = take(ra.x, &ra.x->rq, 1);
        if (!j) break;
        if (clock_mono_ns() > j->deadline_ns) {
            j->rc = STORE_TIMEOUT;
            atomic_fetch_add(&ra.x->expired, 1);
        } else {
            ra.c->base.deadline_ns = j->deadline_ns;
            int began = sqlite3_step(ra.c->begin), why = sqlite3_reset(ra.c->begin);
            if (began != SQLITE_DONE) {
                j->rc = sq_rc(ra.c, why);
                if (j->rc >= 0) j->rc = STORE_IO;
            } else {
                j->rc = j->run(&ra.c->base, j);
                reset_busy(ra.c);
                sqlite3_step(ra.c->commit);
                sqlite3_reset(ra.c->commit);
            }
            ra.c->base.deadline_ns = 0;
        }
        complete(ra.x, j);
    }
    return NULL;
}

database *db_sqlite_open(uv_loop_t *loop, const char *path, int readers, char *err, size_t errlen)
{
    if (readers < 1) readers = 1;
    if (readers > SQ_MAX_READERS) readers = SQ_MAX_READERS;
    sq_exec *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->base.drv = &sqlite_driver;
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
            for (int k = 0; k < i; k++)
                conn_teardown(&x->rconn[k]);
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
    return &x->base;
}

static void on_async_closed(uv_handle_t *h)
{
    free(h->data);
}

static void x_close(database *d)
{
    sq_exec *x = (sq_exec *)d;
    atomic_store(&x->stopping, 1);
    pthread_mutex_lock(&x->wq.mu);
    pthread_cond_broadcast(&x->wq.cv);
    pthread_mutex_unlock(&x->wq.mu);
    pthread_mutex_lock(&x->rq.mu);
    pthread_cond_broadcast(&x->rq.cv);
    pthread_mutex_unlock(&x->rq.mu);
    pthread_join(x->writer, NULL);
    for (int i = 0; i < x->nreaders; i++)
        pthread_join(x->readers[i], NULL);
    deliver(x); /* every queued callback runs, even now */
    conn_teardown(&x->wconn);
    for (int i = 0; i < x->nreaders; i++)
        conn_teardown(&x->rconn[i]);
    uv_close((uv_handle_t *)&x->async, on_async_closed);
}

/* ---- migrations ----------------------------------------------------------- */

/* Applies pending migrations on a connection of its own (start-up only:
 * this blocks, and runs before the loop does). */
int db_sqlite_migrate(const char *path, int *applied, int *current, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (open_conn(path, &db, 0, err, errlen) < 0) return -1;
    int rc = -1;
    char *msg = NULL;
    *applied = 0;
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                     " name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto out;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version),0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK)
        goto out;
    int have = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    int latest = sqlite_migrations[sqlite_migrations_count - 1].version;
    if (have > latest) {
        snprintf(err, errlen, "database schema version %d is newer than this binary knows (%d)",
                 have, latest);
        sqlite3_close(db);
        return -1;
    }
    /* foreign keys are off while migrations run (a table rebuild drops a
     * table others point at; with them on, ON DELETE CASCADE would empty
     * those) and checked before each commit; the pragma cannot change
     * inside a transaction, so it is set around them */
    if (sqlite3_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, &msg) != SQLITE_OK) goto out;
    for (int i = 0; i < sqlite_migrations_count; i++) {
        const migration *m = &sqlite_migrations[i];
        if (m->version <= have) continue;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) goto out;
        if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        sqlite3_stmt *fk = NULL;
        int broken = 1;
        if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &fk, NULL) == SQLITE_OK)
            broken = sqlite3_step(fk) != SQLITE_DONE;
        sqlite3_finalize(fk);
        if (broken) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            msg = sqlite3_mprintf("version %d leaves rows whose foreign keys point nowhere",
                                  m->version);
            goto out;
        }
        char rec[256];
        snprintf(rec, sizeof rec,
                 "INSERT INTO schema_migrations(version, name, applied_at) VALUES (%d, '%s', %lld)",
                 m->version, m->name, (long long)clock_now_s());
        if (sqlite3_exec(db, rec, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        (*applied)++;
        have = m->version;
    }
    *current = have;
    rc = 0;
out:
    if (rc < 0) snprintf(err, errlen, "migration failed: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

static const db_driver sqlite_driver = {
    .name = "sqlite",
    .dialect = SQL_SQLITE,
    .prep = d_prep,
    .bind_int = d_bind_int,
    .bind_double = d_bind_double,
    .bind_text = d_bind_text,
    .bind_null = d_bind_null,
    .step = d_step,
    .reset = d_reset,
    .col_null = d_col_null,
    .col_int = d_col_int,
    .col_double = d_col_double,
    .col_text = d_col_text,
    .changes = d_changes,
    .prep_text = d_prep_text,
    .finalize = d_finalize,
    .param_count = d_param_count,
    .col_count = d_col_count,
    .col_name = d_col_name,
    .col_type = d_col_type,
    .errmsg = d_errmsg,
    .submit = x_submit,
    .depth = x_depth,
    .stats = x_stats,
    .on_events = x_on_events,
    .close = x_close,
};
