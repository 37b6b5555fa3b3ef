/* sqlite_exec: runs SQLite work off the event loop.
 *
 * One writer thread owns the only writing connection (SQLite has one
 * writer anyway) and commits queued write jobs in batches: one BEGIN
 * IMMEDIATE ... COMMIT around up to SQ_BATCH_MAX jobs, each inside its own
 * SAVEPOINT so a failing job rolls back alone. One fsync then covers the
 * batch (synchronous=FULL) and every job's callback runs only after the
 * COMMIT has returned, so nothing is acknowledged before it is durable.
 * Reader threads, each with its own connection, serve read jobs in WAL
 * mode beside the writer.
 *
 * Every job carries a deadline: a job still queued at its deadline fails
 * with STORE_TIMEOUT without running, and a running statement is
 * interrupted by the progress handler when the deadline passes. Queues are
 * bounded; a full queue refuses the job (STORE_BUSY) so the caller sheds
 * load. Completed jobs go back to the loop through one uv_async_t. */
#ifndef OPX_SQLITE_EXEC_H
#define OPX_SQLITE_EXEC_H
#include <sqlite3.h>
#include <stdint.h>
#include <uv.h>
#include "store.h"

#define SQ_BATCH_MAX 64
#define SQ_QUEUE_MAX 4096

typedef struct sq_conn sq_conn;
typedef struct sq_exec sq_exec;
typedef struct sq_job sq_job;

/* runs on a worker thread; returns a STORE_* code */
typedef int (*sq_run_fn)(sq_conn *c, sq_job *j);

struct sq_job {
    sq_job *next;
    sq_run_fn run;
    store_done_cb cb;
    void *ctx;
    uint64_t deadline_ns;
    int rc;
    /* arguments and result pointers, owned by the caller */
    const void *in;
    void *out;
    const char *s1, *s2;
    int64_t n1;
    void *owned; /* freed with the job, after its callback */
};

struct sq_conn {
    sqlite3 *db;
    uint64_t deadline_ns;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[512];
    int ncache;
    int64_t events_max; /* the highest event id the running job inserted */
};

/* Prepared statement for sql (a string literal: cached by its address),
 * reset and with bindings cleared. NULL on error. */
sqlite3_stmt *sq_prep(sq_conn *c, const char *sql);
/* Maps a SQLite result code to STORE_*. */
int sq_rc(sq_conn *c, int rc);
/* Opens a connection with the pragmas every connection needs. */
int sq_open_conn(const char *path, sqlite3 **out, int readonly, char *err, size_t errlen);

sq_exec *sq_exec_start(uv_loop_t *loop, const char *path, int readers, char *err, size_t errlen);
/* Queues a job (malloc'd by the caller with sq_job_new; freed here after the
 * callback). Returns 0, or STORE_BUSY/STORE_CLOSED and then frees nothing. */
int sq_submit(sq_exec *x, sq_job *j, int write);
sq_job *sq_job_new(sq_run_fn run, uint64_t deadline_ns, store_done_cb cb, void *ctx);
int sq_exec_depth(sq_exec *x);
/* fn(data, max_id) runs on the loop after a commit that added events */
void sq_exec_on_events(sq_exec *x, void (*fn)(void *data, int64_t max_id), void *data);
void sq_exec_stop(sq_exec *x);
#endif
