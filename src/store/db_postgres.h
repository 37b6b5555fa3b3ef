/* db_postgres.h: what the PostgreSQL driver's two files share (not part
 * of the db interface): a connection with its prepared statements
 * (db_postgres.c: the primitives over libpq) and the pool of worker
 * threads that owns the connections (db_postgres_pool.c). */
#ifndef OPX_DB_POSTGRES_H
#define OPX_DB_POSTGRES_H
#include "db.h"
#include <libpq-fe.h>

#define PG_MAX_PARAMS 16
#define PG_NOTICES_MAX 8 /* one transaction's; past that they become one "all" */
#define PG_NOTICE_LEN DB_NOTICE_MAX

typedef struct {
    db_stmt base;
    int prepared;  /* on the connection, as "s<id>" */
    int reads;     /* a SELECT (or WITH ... SELECT): runs without a savepoint */
    int nparams;   /* what the text uses, $1..$nparams */
    char name[16]; /* the prepared statement's: "s<id>", "" for one given as text */
    int text;      /* given as text (opx inspect): errors are the caller's to say */
    const char *vals[PG_MAX_PARAMS];
    char *owned[PG_MAX_PARAMS]; /* copies made by db_bind_text_copy */
    char num[PG_MAX_PARAMS][32];
    PGresult *res; /* after the first step, until reset */
    int row, nrows;
    int listed; /* in its connection's busy list */
    int failed; /* its run's STORE_* code when it failed, until reset */
} pg_stmt;

typedef struct {
    db_conn base;
    PGconn *pg;
    int write;   /* the running job is a write: statements that change rows
                  * run inside a savepoint, so a refused one (STORE_CONFLICT)
                  * rolls back alone and the transaction goes on */
    int retry;   /* the transaction must run again: serialization failure,
                  * deadlock, or the connection went away before COMMIT */
    int lost;    /* the connection is broken */
    int refused; /* a statement of this attempt broke a unique key (23505) */
    int64_t changes;
    char notices[PG_NOTICES_MAX][PG_NOTICE_LEN]; /* sent at COMMIT (db_notice) */
    int nnotices;
    char err[256]; /* the database's message for the last failure */
    pg_stmt stmts[ST__COUNT];
    int busy[ST__COUNT]; /* ids whose statement holds a result */
    int nbusy;
} pg_conn;

/* libpq's connection keywords and values for url, as every opx
 * connection makes them (app: fallback_application_name), NULL-ended */
#define PG_CONN_PARAMS 7
void pg_conn_params(const char *url, const char *app, const char *keys[PG_CONN_PARAMS],
                    const char *vals[PG_CONN_PARAMS]);
/* A blocking connection to url, in UTC, notices silenced; NULL with err
 * filled on failure. */
PGconn *pg_connect(const char *url, char *err, size_t errlen);
/* Sets c up over pg (which it then owns). */
void pg_conn_init(pg_conn *c, PGconn *pg);
/* Forgets every statement (after a reconnect: the new session has none)
 * and closes the connection. */
void pg_conn_close(pg_conn *c);
/* Clears the results the last job's statements hold. */
void pg_conn_reset_stmts(pg_conn *c);
/* Runs one command without parameters; its result status mapped to
 * STORE_* (and c->retry / c->lost set as for statements). */
int pg_command(pg_conn *c, const char *sql);
/* An error result's SQLSTATE as STORE_*, setting c->retry or c->lost. */
int pg_error(pg_conn *c, const PGresult *r, const char *what);

/* the pool's side of the driver (db_postgres_pool.c), on the loop thread */
int pgp_submit(database *d, db_job *j, int write);
int pgp_depth(database *d);
void pgp_stats(database *d, store_stats *out);
void pgp_on_events(database *d, void (*fn)(void *data, int64_t max_id), void *data);
void pgp_on_notices(database *d, void (*fn)(void *data, const char *text), void *data);
void pgp_close(database *d);

/* the node's listener for what other nodes commit (db_postgres_listen.c):
 * calls on_id on the loop with each event id it hears, on_notice with each
 * notice's text */
typedef struct pg_listener pg_listener;
pg_listener *pg_listener_start(uv_loop_t *loop, const char *url,
                               void (*on_id)(void *data, int64_t id),
                               void (*on_notice)(void *data, const char *text), void *data);
void pg_listener_stop(pg_listener *l);

extern const db_driver postgres_driver;
#endif
