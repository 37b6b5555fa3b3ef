/* db: the seam between the store's transactions and a database.
 *
 * The transactions (src/store/tx_*.c) are written once, against the
 * primitives below; a driver (db_sqlite.c, db_postgres.c) implements them
 * over one database library, the way SQLite's VFS or curl's vtls sit over
 * per-platform code. A transaction is a job: a run function that executes
 * on one of the driver's worker threads, on one connection, inside one
 * database transaction the driver opens before and commits after it (a
 * negative return rolls it back, except STORE_NOTFOUND, which is an
 * answer). Its callback runs later on the loop thread.
 *
 * Statements are addressed by id (sql.h), never by text: each driver
 * prepares the text of its dialect once per connection and keeps it.
 * Text bound with db_bind_text must stay valid until the statement is
 * stepped to its end or reset; db_bind_text_copy copies. A column's text
 * is valid until the next step or reset of its statement. */
#ifndef OPX_DB_H
#define OPX_DB_H
#include "sql.h"
#include "store.h"
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct database database; /* an open database: its driver and workers */
typedef struct db_conn db_conn;   /* a connection, used by one worker at a time */
typedef struct db_stmt db_stmt;   /* a prepared statement of one connection */
typedef struct db_job db_job;

/* runs on a worker thread; returns a STORE_* code */
typedef int (*db_run_fn)(db_conn *c, db_job *j);

struct db_job {
    db_job *next;
    db_run_fn run;
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
    int write;   /* the driver's: submitted as a write */
};

/* what db_step answers besides a negative STORE_* code */
enum { DB_DONE = 0, DB_ROW = 1 };

#define DB_NOT_READ_ONLY "not a read-only query"

/* a column value's type, as db_col_type answers it for the current row */
enum { DB_T_NULL = 0, DB_T_INT = 1, DB_T_DOUBLE = 2, DB_T_TEXT = 3 };

typedef struct db_driver {
    const char *name;
    int dialect; /* SQL_SQLITE or SQL_POSTGRES */
    int shared;  /* several processes may serve the database at once */
    /* on a worker thread, inside a job */
    db_stmt *(*prep)(db_conn *c, int id);
    void (*bind_int)(db_stmt *st, int i, int64_t v);
    void (*bind_double)(db_stmt *st, int i, double v);
    void (*bind_text)(db_stmt *st, int i, const char *v, int copy);
    void (*bind_null)(db_stmt *st, int i);
    int (*step)(db_stmt *st);
    void (*reset)(db_stmt *st);
    int (*col_null)(db_stmt *st, int col);
    int64_t (*col_int)(db_stmt *st, int col);
    double (*col_double)(db_stmt *st, int col);
    const char *(*col_text)(db_stmt *st, int col);
    int64_t (*changes)(db_conn *c);
    /* statements given as text, for `opx inspect` (store_inspect): only on
     * a read job's connection, one read-only statement that returns rows;
     * NULL with the database's message in err otherwise. Bound and stepped
     * with the members above; finalize frees it. A driver may leave these
     * NULL: the store then answers that it does not support them. A
     * statement refused for writing (or not being a query) gets an err
     * that begins with DB_NOT_READ_ONLY. */
    db_stmt *(*prep_text)(db_conn *c, const char *sql, char *err, size_t errlen);
    void (*finalize)(db_stmt *st);
    int (*param_count)(db_stmt *st);
    int (*col_count)(db_stmt *st);
    const char *(*col_name)(db_stmt *st, int col);
    int (*col_type)(db_stmt *st, int col); /* DB_T_*, for the current row */
    /* the database's message for the statement's last failed step */
    const char *(*errmsg)(db_stmt *st);
    /* on the loop thread */
    int (*submit)(database *d, db_job *j, int write); /* 0, or STORE_BUSY / STORE_CLOSED */
    int (*depth)(database *d);                        /* jobs queued or running */
    void (*stats)(database *d, store_stats *out);
    void (*on_events)(database *d, void (*fn)(void *data, int64_t max_id), void *data);
    /* notices: short texts a transaction leaves for every other process on
     * a shared database, delivered when (and only if) it commits, to each
     * process's fn on its loop (its own too). Drivers of a database nobody
     * shares leave both NULL. notice runs on a worker, inside the job. */
    void (*notice)(db_conn *c, const char *text);
    void (*on_notices)(database *d, void (*fn)(void *data, const char *text), void *data);
    void (*close)(database *d); /* runs every queued callback, then frees d */
} db_driver;

struct database {
    const db_driver *drv;
};

struct db_conn {
    const db_driver *drv;
    uint64_t deadline_ns; /* of the running job; 0 between jobs */
    int64_t events_max;   /* the highest event id the running job inserted */
};

struct db_stmt {
    db_conn *c;
    int id;
};

/* Opens url (a SQLite path, or postgres://...) with the driver it names;
 * migrate applies pending migrations first (start-up only: that blocks).
 * NULL with err filled on failure. */
database *db_open(uv_loop_t *loop, const char *url, int migrate, char *err, size_t errlen);
int db_migrate(const char *url, int *applied, int *current, char *err, size_t errlen);
int db_is_postgres(const char *url);
/* connections (worker threads) a PostgreSQL database opens; 4 unless set */
void db_set_pool_size(int n);

/* the drivers */
database *db_sqlite_open(uv_loop_t *loop, const char *path, int readers, char *err, size_t errlen);
int db_sqlite_migrate(const char *path, int *applied, int *current, char *err, size_t errlen);
database *db_postgres_open(uv_loop_t *loop, const char *url, int workers, char *err,
                           size_t errlen);
int db_postgres_migrate(const char *url, int *applied, int *current, char *err, size_t errlen);

db_job *db_job_new(db_run_fn run, uint64_t deadline_ns, store_done_cb cb, void *ctx);

static inline db_stmt *db_prep(db_conn *c, int id)
{
    return c->drv->prep(c, id);
}
static inline void db_bind_int(db_stmt *st, int i, int64_t v)
{
    st->c->drv->bind_int(st, i, v);
}
static inline void db_bind_double(db_stmt *st, int i, double v)
{
    st->c->drv->bind_double(st, i, v);
}
/* NULL binds SQL NULL */
static inline void db_bind_text(db_stmt *st, int i, const char *v)
{
    st->c->drv->bind_text(st, i, v, 0);
}
static inline void db_bind_text_copy(db_stmt *st, int i, const char *v)
{
    st->c->drv->bind_text(st, i, v, 1);
}
static inline void db_bind_null(db_stmt *st, int i)
{
    st->c->drv->bind_null(st, i);
}
/* DB_ROW, DB_DONE, or a negative STORE_* code */
static inline int db_step(db_stmt *st)
{
    return st->c->drv->step(st);
}
static inline void db_reset(db_stmt *st)
{
    st->c->drv->reset(st);
}
static inline int db_col_null(db_stmt *st, int col)
{
    return st->c->drv->col_null(st, col);
}
static inline int64_t db_col_int(db_stmt *st, int col)
{
    return st->c->drv->col_int(st, col);
}
static inline double db_col_double(db_stmt *st, int col)
{
    return st->c->drv->col_double(st, col);
}
/* NULL for SQL NULL */
static inline const char *db_col_text(db_stmt *st, int col)
{
    return st->c->drv->col_text(st, col);
}
/* rows the last INSERT, UPDATE or DELETE of the connection changed */
/* whether other processes may be working on the database beside this one */
static inline int db_shared(const db_conn *c)
{
    return c->drv->shared;
}

/* tells the other processes on a shared database "topic:arg" once this
 * transaction commits (see db_driver.notice); nothing when it is not
 * shared. At most DB_NOTICE_MAX - 1 bytes of [A-Za-z0-9_:-]. */
#define DB_NOTICE_MAX 128
void db_notice(db_conn *c, const char *topic, const char *arg);

static inline int64_t db_changes(db_conn *c)
{
    return c->drv->changes(c);
}
/* a step's answer as a STORE_* code: rows and the end are both fine */
static inline int db_rc(int rc)
{
    return rc > 0 ? STORE_OK : rc;
}
/* the column's text into dst (empty for NULL), truncated to cap */
void db_copy_col(char *dst, size_t cap, db_stmt *st, int col);
#endif
