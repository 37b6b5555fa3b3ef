/* db_postgres_listen: events and notices committed by other nodes, heard
 * on the loop.
 *
 * Every transaction that adds events ends with pg_notify('opx_events',
 * highest id) (db_postgres_pool.c), which PostgreSQL delivers at COMMIT to
 * every session listening. Each node keeps one such session: a libpq
 * connection in non-blocking mode driven by a uv_poll_t on its socket, so
 * the loop never waits on it; connecting, LISTEN and reading notifications
 * are all steps of that one poll. A notification only pokes the hub with
 * an id; the events table stays the source of what to send, so a node
 * that missed notifications (its listener was down) loses nothing: after
 * every (re)connection the listener reads the newest committed id once
 * and pokes with it, and the hub reads everything past its cursor.
 *
 * The same session listens on opx_notices: "topic:arg" texts a
 * transaction leaves for the other nodes' caches (db_notice: a session
 * ended, an engineer changed). Those have no table to catch up from, so
 * after a reconnection (not the first connection) the listener hands on
 * "all:", which tells its receiver to forget what it cached.
 *
 * A broken connection is closed and made again after a backoff of 100 ms
 * doubling to 10 s, on a timer. */
#include "../core/log.h"
#include "db_postgres.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTEN_RETRY_MIN_MS 100
#define LISTEN_RETRY_MAX_MS 10000

struct pg_listener {
    uv_loop_t *loop;
    char *url;
    PGconn *pg;
    uv_poll_t poll;
    int poll_open;  /* poll is initialised and not yet closed */
    int connecting; /* PQconnectPoll's turn, not results' */
    uv_timer_t retry;
    int failures;
    int connected_once; /* a later connection may have missed notices */
    int closing, pending_closes;
    void (*heard)(void *data, int64_t id);
    void (*noticed)(void *data, const char *text);
    void *data;
};

static void start(pg_listener *l);

static void free_when_closed(uv_handle_t *h)
{
    pg_listener *l = h->data;
    if (h == (uv_handle_t *)&l->poll) {
        /* the socket is libpq's: closed only once the poll let go of it */
        PQfinish(l->pg);
        l->pg = NULL;
        l->poll_open = 0;
    }
    if (--l->pending_closes == 0 && l->closing) {
        free(l->url);
        free(l);
    }
}

static void on_retry(uv_timer_t *t)
{
    start(t->data);
}

/* the poll closes, then libpq's connection (at once when not polled) */
static void drop_connection(pg_listener *l)
{
    if (l->poll_open) {
        uv_poll_stop(&l->poll);
        l->pending_closes++;
        uv_close((uv_handle_t *)&l->poll, free_when_closed);
    } else {
        PQfinish(l->pg);
        l->pg = NULL;
    }
}

/* the connection goes, and a retry is timed */
static void fail(pg_listener *l, const char *what)
{
    if (l->failures++ == 0 || l->failures % 10 == 0)
        log_msgf(LOG_WARN, "postgres events listener: %s: %s; trying again", what,
                 l->pg ? PQerrorMessage(l->pg) : "out of memory");
    drop_connection(l);
    if (l->closing) return;
    uint64_t ms = LISTEN_RETRY_MIN_MS;
    for (int i = 1; i < l->failures && ms < LISTEN_RETRY_MAX_MS; i++)
        ms *= 2;
    if (ms > LISTEN_RETRY_MAX_MS) ms = LISTEN_RETRY_MAX_MS;
    uv_timer_start(&l->retry, on_retry, ms, 0);
}

static void on_poll(uv_poll_t *h, int status, int events);

static int watch(pg_listener *l, int events)
{
    return uv_poll_start(&l->poll, events, on_poll);
}

static void heard(pg_listener *l, const char *text)
{
    char *end;
    long long id = text ? strtoll(text, &end, 10) : 0;
    if (text && *text && !*end && id > 0 && l->heard) l->heard(l->data, id);
}

/* what arrived: the newest id asked for after LISTEN, and notifications */
static void read_results(pg_listener *l)
{
    if (!PQconsumeInput(l->pg)) {
        fail(l, "reading");
        return;
    }
    PGresult *r;
    while (!PQisBusy(l->pg) && (r = PQgetResult(l->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            /* the LISTENs before it hold: what came before is caught up */
            if (l->connected_once && l->noticed) l->noticed(l->data, "all:");
            l->connected_once = 1;
            heard(l, PQgetvalue(r, 0, 0));
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            PQclear(r);
            fail(l, "LISTEN");
            return;
        }
        PQclear(r);
    }
    PGnotify *n;
    while ((n = PQnotifies(l->pg)) != NULL) {
        if (strcmp(n->relname, "opx_notices") == 0) {
            if (l->noticed) l->noticed(l->data, n->extra);
        } else {
            heard(l, n->extra);
        }
        PQfreemem(n);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    pg_listener *l = h->data;
    if (status < 0) {
        fail(l, uv_strerror(status));
        return;
    }
    if (l->connecting) {
        switch (PQconnectPoll(l->pg)) {
        case PGRES_POLLING_READING:
            watch(l, UV_READABLE);
            return;
        case PGRES_POLLING_WRITING:
            watch(l, UV_WRITABLE);
            return;
        case PGRES_POLLING_OK:
            break;
        default:
            fail(l, "connecting");
            return;
        }
        l->connecting = 0;
        if (l->failures) log_msgf(LOG_INFO, "postgres events listener: connected again");
        l->failures = 0;
        /* LISTEN first, then the newest id: nothing committed between the
         * two is missed, and what came before is caught up by the poke */
        if (!PQsendQuery(
                l->pg,
                "LISTEN opx_events; LISTEN opx_notices; SELECT coalesce(max(id), 0) FROM events")) {
            fail(l, "LISTEN");
            return;
        }
    }
    if (PQflush(l->pg) == 1) { /* more to send: wait until it can go */
        watch(l, UV_READABLE | UV_WRITABLE);
        return;
    }
    watch(l, UV_READABLE);
    if (events & UV_READABLE) read_results(l);
}

static void start(pg_listener *l)
{
    if (l->closing) return;
    const char *keys[PG_CONN_PARAMS], *vals[PG_CONN_PARAMS];
    pg_conn_params(l->url, "opx-listen", keys, vals);
    l->pg = PQconnectStartParams(keys, vals, 1);
    if (!l->pg || PQstatus(l->pg) == CONNECTION_BAD || PQsocket(l->pg) < 0) {
        fail(l, "connecting");
        return;
    }
    PQsetnonblocking(l->pg, 1);
    if (uv_poll_init_socket(l->loop, &l->poll, PQsocket(l->pg)) < 0) {
        fail(l, "watching its socket");
        return;
    }
    l->poll.data = l;
    l->poll_open = 1;
    l->connecting = 1;
    /* as if PQconnectPoll had answered PGRES_POLLING_WRITING */
    watch(l, UV_WRITABLE);
}

pg_listener *pg_listener_start(uv_loop_t *loop, const char *url,
                               void (*on_id)(void *data, int64_t id),
                               void (*on_notice)(void *data, const char *text), void *data)
{
    pg_listener *l = calloc(1, sizeof *l);
    if (!l || !(l->url = strdup(url))) {
        free(l);
        return NULL;
    }
    l->loop = loop;
    l->heard = on_id;
    l->noticed = on_notice;
    l->data = data;
    uv_timer_init(loop, &l->retry);
    l->retry.data = l;
    start(l);
    return l;
}

void pg_listener_stop(pg_listener *l)
{
    if (!l) return;
    l->closing = 1;
    l->heard = NULL;
    l->noticed = NULL;
    uv_timer_stop(&l->retry);
    l->pending_closes++;
    l->retry.data = l;
    uv_close((uv_handle_t *)&l->retry, free_when_closed);
    drop_connection(l);
}
