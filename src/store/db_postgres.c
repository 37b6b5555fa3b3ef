/* db_postgres: the PostgreSQL driver of the db interface (see db.h), over
 * libpq: connecting, migrating, and the primitives a transaction calls on
 * a worker's connection. The worker threads, their queue and the
 * transaction around each job are db_postgres_pool.c's.
 *
 * Each statement id is prepared once per connection as "s<id>" with no
 * parameter types (the server infers them from the text, which casts
 * where inference cannot) and its values go as text: integers in decimal,
 * doubles with 17 digits, NULL as NULL. The first db_step executes it and
 * keeps the whole result; later steps walk its rows. In a write job, a
 * statement that changes rows runs inside a savepoint, because a refused
 * one (a unique key: STORE_CONFLICT) is an answer the transaction goes on
 * from, where PostgreSQL would otherwise abort the whole transaction. */
#include "db_postgres.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "migrations.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* every opx session takes this advisory lock while it migrates, so nodes
 * started together apply each version once */
#define PG_MIGRATE_LOCK 0x6f70786d /* "opxm" */

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* libpq's messages end with a newline */
static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = 0;
}

void pg_conn_params(const char *url, const char *app, const char *keys[PG_CONN_PARAMS],
                    const char *vals[PG_CONN_PARAMS])
{
    /* defaults first: the URL's own settings override them. Keepalives
     * notice a server that vanished without closing the socket. */
    static const char *const names[PG_CONN_PARAMS] = {"connect_timeout",
                                                      "fallback_application_name",
                                                      "keepalives_idle",
                                                      "keepalives_interval",
                                                      "keepalives_count",
                                                      "dbname",
                                                      NULL};
    const char *const values[PG_CONN_PARAMS] = {"10", app, "30", "10", "3", url, NULL};
    for (int i = 0; i < PG_CONN_PARAMS; i++) {
        keys[i] = names[i];
        vals[i] = values[i];
    }
}

PGconn *pg_connect(const char *url, char *err, size_t errlen)
{
    const char *keys[PG_CONN_PARAMS], *vals[PG_CONN_PARAMS];
    pg_conn_params(url, "opx", keys, vals);
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
                 pg ? PQerrorMessage(pg) : "out of memory");
        chomp(err);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, quiet, NULL);
    PGresult *r = PQexec(pg, "SET TimeZone = 'UTC'");
    PQclear(r);
    return pg;
}

/* Runs sql (any number of statements); 0, or -1 with the server's message
 * in err. */
static int pg_exec(PGconn *pg, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        chomp(err);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

/* Applies pending migrations on a connection of its own (start-up only:
 * this blocks), each version in one transaction with its row in
 * schema_migrations. */
int db_postgres_migrate(const char *url, int *applied, int *current, char *err, size_t errlen)
{
    char msg[512] = "";
    *applied = 0;
    PGconn *pg = pg_connect(url, err, errlen);
    if (!pg) return -1;
    int rc = -1;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d)", PG_MIGRATE_LOCK);
    if (pg_exec(pg, sql, msg, sizeof msg) < 0 ||
        pg_exec(pg,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                msg, sizeof msg) < 0)
        goto out;
    PGresult *r = PQexec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        goto out;
    }
    char *end;
    long stored = strtol(PQgetvalue(r, 0, 0), &end, 10);
    int readable = *end == '\0' && stored >= 0 && stored <= INT32_MAX;
    int have = (int)stored;
    PQclear(r);
    if (!readable) {
        snprintf(msg, sizeof msg, "schema_migrations holds a version that is not a number");
        goto out;
    }
    int latest = postgres_migrations[postgres_migrations_count - 1].version;
    if (have > latest) {
        snprintf(err, errlen, "database schema version %d is newer than this binary knows (%d)",
                 have, latest);
        PQfinish(pg); /* the advisory lock goes with the session */
        return -1;
    }
    for (int i = 0; i < postgres_migrations_count; i++) {
        const migration *m = &postgres_migrations[i];
        if (m->version <= have) continue;
        if (pg_exec(pg, "BEGIN", msg, sizeof msg) < 0) goto out;
        char version[16], at[24];
        snprintf(version, sizeof version, "%d", m->version);
        snprintf(at, sizeof at, "%lld", (long long)clock_now_s());
        const char *params[] = {version, m->name, at};
        if (pg_exec(pg, m->sql, msg, sizeof msg) < 0) {
            char why[512];
            snprintf(why, sizeof why, "version %d: %s", m->version, msg);
            snprintf(msg, sizeof msg, "%s", why);
            pg_exec(pg, "ROLLBACK", why, sizeof why);
            goto out;
        }
        r = PQexecParams(pg,
                         "INSERT INTO schema_migrations(version, name, applied_at)"
                         " VALUES ($1, $2, $3)",
                         3, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok || pg_exec(pg, "COMMIT", msg, sizeof msg) < 0) {
            char ignore[256];
            pg_exec(pg, "ROLLBACK", ignore, sizeof ignore);
            goto out;
        }
        (*applied)++;
        have = m->version;
    }
    *current = have;
    rc = 0;
out:
    if (rc < 0) snprintf(err, errlen, "migration failed: %s", msg);
    PQfinish(pg);
    return rc;
}

/* ---- connections ---------------------------------------------------------- */

void pg_conn_init(pg_conn *c, PGconn *pg)
{
    memset(c, 0, sizeof *c);
    c->base.drv = &postgres_driver;
    c->pg = pg;
}

static void stmt_clear(pg_stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
    s->failed = 0;
    for (int i = 0; i < s->nparams; i++) {
        free(s->owned[i]);
        s->owned[i] = NULL;
        s->vals[i] = NULL;
    }
}

void pg_conn_reset_stmts(pg_conn *c)
{
    for (int i = 0; i < c->nbusy; i++) {
        stmt_clear(&c->stmts[c->busy[i]]);
        c->stmts[c->busy[i]].listed = 0;
    }
    c->nbusy = 0;
}

void pg_conn_close(pg_conn *c)
{
    pg_conn_reset_stmts(c);
    for (int id = 0; id < ST__COUNT; id++)
        c->stmts[id].prepared = 0;
    PQfinish(c->pg);
    c->pg = NULL;
    c->lost = 1;
}

int pg_error(pg_conn *c, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        /* the transaction is gone with the session: run it again on a new
         * one, unless this was its COMMIT (the caller decides) */
        c->lost = 1;
        c->retry = 1;
        log_msgf(LOG_WARN, "postgres: connection lost during %s: %s", what, PQerrorMessage(c->pg));
        return STORE_UNAVAILABLE;
    }
    if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01"))) {
        c->retry = 1; /* serialization failure or deadlock: run it again */
        const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
        snprintf(c->err, sizeof c->err, "%s (%s)", what ? what : "a statement", msg ? msg : state);
        return STORE_BUSY;
    }
    if (state && !strncmp(state, "23", 2)) {
        if (!strcmp(state, "23505")) c->refused = 1;
        return STORE_CONFLICT;
    }
    if (state && !strcmp(state, "57014")) return STORE_TIMEOUT; /* statement_timeout */
    if (state && !strcmp(state, "55P03")) return STORE_TIMEOUT; /* lock_not_available */
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(c->err, sizeof c->err, "%s",
             primary ? primary
             : r     ? PQresultErrorMessage(r)
                     : PQerrorMessage(c->pg));
    chomp(c->err);
    if (state && !strcmp(state, "25006")) { /* a write in a READ ONLY transaction */
        char why[sizeof c->err];
        snprintf(why, sizeof why, "%s: %s", DB_NOT_READ_ONLY, c->err);
        snprintf(c->err, sizeof c->err, "%s", why);
    }
    if (what)
        log_msgf(LOG_ERROR, "postgres: %s failed (SQLSTATE %s): %s", what, state ? state : "?",
                 c->err);
    return STORE_IO;
}

int pg_command(pg_conn *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? STORE_OK : pg_error(c, r, sql);
    PQclear(r);
    return rc;
}

/* ---- the primitives ---------------------------------------------------- */

static pg_conn *C(db_stmt *st)
{
    return (pg_conn *)st->c;
}

static pg_stmt *P(db_stmt *st)
{
    return (pg_stmt *)st;
}

/* a text that only reads: SELECT, or WITH ... SELECT (none of ours writes
 * through a WITH) */
static int reads_only(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '(')
        sql++;
    return !strncasecmp(sql, "SELECT", 6) || !strncasecmp(sql, "WITH", 4);
}

static db_stmt *d_prep(db_conn *dc, int id)
{
    pg_conn *c = (pg_conn *)dc;
    if (id <= ST_NONE || id >= ST__COUNT || !c->pg) return NULL;
    pg_stmt *s = &c->stmts[id];
    if (s->prepared) {
        stmt_clear(s);
        return &s->base;
    }
    const char *sql = sql_text(SQL_POSTGRES, id);
    if (!sql) {
        log_msgf(LOG_ERROR, "postgres: %s has no PostgreSQL text", sql_name(id));
        return NULL;
    }
    unsigned long long used = sql_params(SQL_POSTGRES, sql);
    int n = 0;
    for (int i = 1; i < 64; i++)
        if (used & (1ULL << i)) n = i;
    if ((used & 1) || n > PG_MAX_PARAMS) {
        log_msgf(LOG_ERROR, "postgres: %s numbers its parameters past %d", sql_name(id),
                 PG_MAX_PARAMS);
        return NULL;
    }
    char name[16];
    snprintf(name, sizeof name, "s%d", id);
    PGresult *r = PQprepare(c->pg, name, sql, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) pg_error(c, r, sql_name(id));
    PQclear(r);
    if (!ok) return NULL;
    memset(s, 0, sizeof *s);
    s->base.c = dc;
    s->base.id = id;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->prepared = 1;
    s->reads = reads_only(sql);
    s->nparams = n;
    return &s->base;
}

/* parameters are numbered from 1, as in SQLite */
static int slot(db_stmt *st, int i)
{
    pg_stmt *s = P(st);
    if (i < 1 || i > s->nparams) {
        log_msgf(LOG_ERROR, "postgres: %s has no parameter %d", sql_name(st->id), i);
        return -1;
    }
    free(s->owned[i - 1]);
    s->owned[i - 1] = NULL;
    return i - 1;
}

static void d_bind_int(db_stmt *st, int i, int64_t v)
{
    int k = slot(st, i);
    if (k < 0) return;
    snprintf(P(st)->num[k], sizeof P(st)->num[k], "%lld", (long long)v);
    P(st)->vals[k] = P(st)->num[k];
}

static void d_bind_double(db_stmt *st, int i, double v)
{
    int k = slot(st, i);
    if (k < 0) return;
    snprintf(P(st)->num[k], sizeof P(st)->num[k], "%.17g", v);
    P(st)->vals[k] = P(st)->num[k];
}

static void d_bind_text(db_stmt *st, int i, const char *v, int copy)
{
    int k = slot(st, i);
    if (k < 0) return;
    if (v && copy) {
        P(st)->owned[k] = strdup(v);
        v = P(st)->owned[k];
    }
    P(st)->vals[k] = v;
}

static void d_bind_null(db_stmt *st, int i)
{
    int k = slot(st, i);
    if (k >= 0) P(st)->vals[k] = NULL;
}

/* SAVEPOINT, the statement and RELEASE in one round trip (libpq's pipeline
 * mode): the statement's result, or its error (NULL with the connection
 * gone). When it failed, the transaction is left aborted at the savepoint. */
static PGresult *guarded(pg_conn *c, pg_stmt *s)
{
    if (!PQenterPipelineMode(c->pg) ||
        !PQsendQueryParams(c->pg, "SAVEPOINT st", 0, NULL, NULL, NULL, NULL, 0) ||
        !PQsendQueryPrepared(c->pg, s->name, s->nparams, s->vals, NULL, NULL, 0) ||
        !PQsendQueryParams(c->pg, "RELEASE SAVEPOINT st", 0, NULL, NULL, NULL, NULL, 0) ||
        !PQpipelineSync(c->pg)) {
        PQexitPipelineMode(c->pg);
        return NULL;
    }
    PGresult *out = NULL, *fault = NULL;
    int query = 0; /* whose results come now: 0 SAVEPOINT, 1 the statement, 2 RELEASE */
    for (;;) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            if (PQstatus(c->pg) == CONNECTION_BAD) break;
            query++; /* the end of one query's results */
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_FATAL_ERROR && !fault) {
            fault = r; /* the first failure is the one to report */
        } else if (query == 1 && !out && st != PGRES_PIPELINE_ABORTED) {
            out = r;
        } else {
            PQclear(r);
        }
    }
    PQexitPipelineMode(c->pg);
    if (fault) {
        PQclear(out);
        return fault;
    }
    return out;
}

/* Runs the statement: inside a savepoint when it changes rows in a write
 * job, so that its failure leaves the transaction usable. */
static int execute(pg_stmt *s)
{
    pg_conn *c = C(&s->base);
    int guard = c->write && !s->reads;
    PGresult *r = guard ? guarded(c, s) : PQexecPrepared(c->pg, s->name, s->nparams, s->vals, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(r);
    if (!s->listed && !s->text) {
        s->listed = 1;
        c->busy[c->nbusy++] = s->base.id;
    }
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        s->res = r;
        s->nrows = status == PGRES_TUPLES_OK ? PQntuples(r) : 0;
        s->row = 0;
        if (!s->reads) {
            const char *n = PQcmdTuples(r);
            c->changes = *n ? strtoll(n, NULL, 10) : 0;
        }
        return STORE_OK;
    }
    int rc = pg_error(c, r, s->text ? NULL : sql_name(s->base.id));
    PQclear(r);
    s->failed = rc;
    if (guard && !c->lost && PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
        int back = pg_command(c, "ROLLBACK TO SAVEPOINT st; RELEASE SAVEPOINT st");
        if (back < 0) rc = back;
    }
    return rc;
}

static int d_step(db_stmt *st)
{
    pg_stmt *s = P(st);
    if (s->failed) return s->failed;
    if (!s->res) {
        int rc = execute(s);
        if (rc < 0) return rc;
    }
    if (s->row < s->nrows) {
        s->row++;
        return DB_ROW;
    }
    return DB_DONE;
}

static void d_reset(db_stmt *st)
{
    pg_stmt *s = P(st);
    PQclear(s->res);
    s->res = NULL;
    s->row = s->nrows = 0;
    s->failed = 0;
}

/* the current row's value of col; NULL past the result */
static const char *value(db_stmt *st, int col)
{
    pg_stmt *s = P(st);
    if (!s->res || s->row < 1 || col < 0 || col >= PQnfields(s->res)) return NULL;
    if (PQgetisnull(s->res, s->row - 1, col)) return NULL;
    return PQgetvalue(s->res, s->row - 1, col);
}

static int d_col_null(db_stmt *st, int col)
{
    return value(st, col) == NULL;
}

static int64_t d_col_int(db_stmt *st, int col)
{
    const char *v = value(st, col);
    if (!v) return 0;
    if (v[0] == 't' && !v[1]) return 1; /* booleans */
    if (v[0] == 'f' && !v[1]) return 0;
    /* a numeric or a double column read as an integer truncates, as
     * SQLite's sqlite3_column_int64 does */
    if (strpbrk(v, ".eE")) return (int64_t)strtod(v, NULL);
    return strtoll(v, NULL, 10);
}

static double d_col_double(db_stmt *st, int col)
{
    const char *v = value(st, col);
    return v ? strtod(v, NULL) : 0.0;
}

static const char *d_col_text(db_stmt *st, int col)
{
    return value(st, col);
}

static int64_t d_changes(db_conn *c)
{
    return ((pg_conn *)c)->changes;
}

/* ---- statements given as text (opx inspect) ------------------------------- */

/* Prepared unnamed, in the read job's READ ONLY transaction, which is what
 * refuses a write (SQLSTATE 25006, when it runs). */
/* text that holds no statement: blanks and comments only */
static int no_statement(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            if (!end) return 0; /* the server's message says what is wrong */
            p = end + 2;
        } else {
            return *p == '\0';
        }
    }
}

static db_stmt *d_prep_text(db_conn *dc, const char *sql, char *err, size_t errlen)
{
    pg_conn *c = (pg_conn *)dc;
    if (c->write) {
        snprintf(err, errlen, "statements given as text run only in a read job");
        return NULL;
    }
    if (no_statement(sql)) {
        snprintf(err, errlen, "no statement in the text given");
        return NULL;
    }
    PGresult *r = PQprepare(c->pg, "", sql, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        pg_error(c, r, NULL);
        snprintf(err, errlen, "%s", c->err);
    }
    PQclear(r);
    if (!ok) return NULL;
    r = PQdescribePrepared(c->pg, "");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pg_error(c, r, NULL);
        snprintf(err, errlen, "%s", c->err);
        PQclear(r);
        return NULL;
    }
    int nparams = PQnparams(r), nfields = PQnfields(r);
    PQclear(r);
    if (nfields == 0) {
        snprintf(err, errlen, "%s: the statement returns no rows", DB_NOT_READ_ONLY);
        return NULL;
    }
    if (nparams > PG_MAX_PARAMS) {
        snprintf(err, errlen, "at most %d parameters", PG_MAX_PARAMS);
        return NULL;
    }
    pg_stmt *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.c = dc;
    s->base.id = ST_NONE;
    s->prepared = 1;
    s->reads = 1;
    s->text = 1;
    s->nparams = nparams;
    return &s->base;
}

static void d_finalize(db_stmt *st)
{
    stmt_clear(P(st));
    free(st);
}

static int d_param_count(db_stmt *st)
{
    return P(st)->nparams;
}

/* the columns are known once it ran: the first step runs it */
static int d_col_count(db_stmt *st)
{
    pg_stmt *s = P(st);
    if (!s->res && (s->failed || execute(s) < 0)) return 0;
    return PQnfields(s->res);
}

static const char *d_col_name(db_stmt *st, int col)
{
    pg_stmt *s = P(st);
    return s->res ? PQfname(s->res, col) : NULL;
}

/* by the column's type (a numeric reads as a double), NULL per row */
static int d_col_type(db_stmt *st, int col)
{
    pg_stmt *s = P(st);
    if (!value(st, col)) return DB_T_NULL;
    switch (PQftype(s->res, col)) {
    case 16: /* bool */
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
        return DB_T_INT;
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
        return DB_T_DOUBLE;
    default:
        return DB_T_TEXT;
    }
}

static const char *d_errmsg(db_stmt *st)
{
    return C(st)->err;
}

/* kept until COMMIT; a transaction with more than PG_NOTICES_MAX sends
 * one "all:" instead, which tells a listener to forget everything cached */
static void pg_notice(db_conn *base, const char *text)
{
    pg_conn *c = (pg_conn *)base;
    for (int i = 0; i < c->nnotices; i++)
        if (strcmp(c->notices[i], text) == 0) return;
    if (c->nnotices == PG_NOTICES_MAX) {
        snprintf(c->notices[0], PG_NOTICE_LEN, "all:");
        c->nnotices = 1;
        return;
    }
    if (c->nnotices == 1 && strcmp(c->notices[0], "all:") == 0) return;
    snprintf(c->notices[c->nnotices++], PG_NOTICE_LEN, "%s", text);
}

const db_driver postgres_driver = {
    .name = "postgres",
    .dialect = SQL_POSTGRES,
    .shared = 1,
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
    .submit = pgp_submit,
    .depth = pgp_depth,
    .stats = pgp_stats,
    .on_events = pgp_on_events,
    .notice = pg_notice,
    .on_notices = pgp_on_notices,
    .close = pgp_close,
};
