/* server: connections, limits, timeouts, pipelining and drain (see server.h).
 *
 * Connection phases and the one timer that guards each:
 *
 *   IDLE ──first byte──> HEADERS ──headers done──> BODY ──message done──> HANDLING
 *    ^  (idle timeout:      (header timeout:         (body timeout:        (no conn timer; the
 *    |   silent close)       408 + close)             408 + close)          request deadline)
 *    └──────────────── response queued, keep-alive ─────────────────────────┘
 *
 * One request per connection is handled at a time: the parser pauses after
 * each message and resumes on the buffered bytes once the response is
 * queued, so pipelined requests are answered in order with bounded memory.
 * A connection that must close sends its last response, shuts down its
 * write side and reads (discarding) until EOF or a short linger timeout, so
 * the client is not reset before it has read the answer. */
#include "server.h"
#include "server_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "parser.h"
#include "trace.h"

#define INBUF_SIZE 16384
#define WRITE_HIGH_WATER (1u << 20)
#define LINGER_MS 2000

typedef struct {
    uv_write_t w;
    http_conn *c;
    size_t len;
    char data[];
} write_req;

static void conn_process(http_conn *c);

void http_limits_default(http_limits *lim)
{
    lim->max_conns = 10000;
    lim->max_inflight = 1024;
    lim->max_url = 8192;
    lim->max_header_bytes = 16384;
    lim->default_max_body = 65536;
    lim->header_timeout_ms = 10000;
    lim->body_timeout_ms = 30000;
    lim->idle_timeout_ms = 60000;
    lim->request_timeout_ms = 10000;
    lim->drain_timeout_ms = 10000;
}

/* ---- request objects ------------------------------------------------- */

void http_req_ref(http_req *req)
{
    req->refs++;
}

void http_req_unref(http_req *req)
{
    if (--req->refs > 0) return;
    arena_free(&req->arena);
    buf_free(&req->body);
    buf_free(&req->resp_headers);
    free(req);
}

static http_req *new_req(http_parse *hp)
{
    http_conn *c = hp->user;
    http_req *req = http_req_new(0);
    if (!req) return NULL;
    req->conn = c;
    req->server = c->srv;
    memcpy(req->client_ip, c->ip, sizeof req->client_ip);
    c->phase = PH_HEADERS;
    return req;
}

/* ---- timers ------------------------------------------------------------ */

static char date_hdr[40];
static time_t date_sec;

const char *http_date_header(void)
{
    time_t now = time(NULL);
    if (now != date_sec) {
        date_sec = now;
        char d[32];
        clock_http_date((int64_t)now, d);
        snprintf(date_hdr, sizeof date_hdr, "%s", d);
    }
    return date_hdr;
}



void http_conn_write(http_conn *c, const char *data, size_t len);

static void on_timer(uv_timer_t *t)
{
    http_conn *c = t->data;
    switch (c->phase) {
    case PH_IDLE:
    case PH_LINGER: http_conn_close(c); break;
    case PH_HEADERS:
    case PH_BODY: {
        c->srv->timeouts++;
        metrics_count("opx_http_timeouts_total", "phase", c->phase == PH_HEADERS ? "headers" : "body");
        static const char body[] = "{\"type\":\"urn:opx:problem:timeout\",\"title\":\"Request "
                                   "Timeout\",\"status\":408,\"detail\":\"the request was not "
                                   "received in time\"}";
        char resp[512];
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 408 Request Timeout\r\nDate: %s\r\nConnection: close\r\n"
                         "Content-Type: application/problem+json\r\nContent-Length: %zu\r\n\r\n%s",
                         http_date_header(), sizeof body - 1, body);
        c->close_after_write = 1;
        http_conn_write(c, resp, (size_t)n);
        break;
    }
    case PH_HANDLING:
    case PH_STREAM: break;
    }
}

static void arm(http_conn *c, uint64_t ms)
{
    if (c->closing && c->phase != PH_LINGER) return;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- writing ----------------------------------------------------------- */


static void on_write(uv_write_t *w, int status)
{
    write_req *wr = (write_req *)w;
    http_conn *c = wr->c;
    free(wr);
    if (status < 0) {
        http_conn_close(c);
        return;
    }
    if (c->closing) return;
    if (c->close_after_write && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        http_conn_after_last_write(c);
        return;
    }
    if (c->write_blocked &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < WRITE_HIGH_WATER / 2) {
        c->write_blocked = 0;
        conn_process(c);
    }
}

void http_conn_write(http_conn *c, const char *data, size_t len)
{
    if (c->closing) return;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = 0;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            http_conn_close(c);
            return;
        }
        if (n < 0) n = 0;
    }
    if ((size_t)n == len) {
        if (c->close_after_write) http_conn_after_last_write(c);
        return;
    }
    write_req *wr = malloc(sizeof *wr + len - (size_t)n);
    if (!wr) {
        http_conn_close(c);
        return;
    }
    wr->c = c;
    wr->len = len - (size_t)n;
    memcpy(wr->data, data + n, wr->len);
    uv_buf_t rest = uv_buf_init(wr->data, (unsigned)wr->len);
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &rest, 1, on_write) < 0) {
        free(wr);
        http_conn_close(c);
    }
}

/* ---- closing ----------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    http_conn *c = h->data;
    if (--c->handles_open > 0) return;
    http_server *srv = c->srv;
    if (c->hp.req) http_req_unref(c->hp.req);
    free(c->inbuf);
    free(c);
    srv->nconns--;
    if (srv->draining && srv->nconns == 0 && srv->on_drained) {
        uv_timer_stop(&srv->drain_timer);
        void (*cb)(http_server *) = srv->on_drained;
        srv->on_drained = NULL;
        cb(srv);
    }
}

void http_conn_close(http_conn *c)
{
    if (c->closing == 2) return;
    c->closing = 2;
    if (c->stream_on_close) { /* the owner forgets the stream now */
        void (*cb)(void *) = c->stream_on_close;
        c->stream_on_close = NULL;
        cb(c->stream_owner);
    }
    if (c->cur) { /* cancel what the client no longer waits for */
        http_req *r = c->cur;
        c->cur = NULL;
        r->conn = NULL;
        c->srv->inflight--;
        http_req_unref(r);
    }
    if (c->prev) c->prev->next = c->next;
    else c->srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    http_conn *c = s->data;
    if (status < 0) http_conn_close(c);
}

/* The last response is out: half-close, then linger reading until EOF. */
void http_conn_after_last_write(http_conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    c->phase = PH_LINGER;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        http_conn_close(c);
        return;
    }
    arm(c, LINGER_MS);
    http_conn_read_start(c);
}

/* ---- responses --------------------------------------------------------- */

void http_access_log(http_req *req, int status, double secs)
{
    http_server *srv = req->server;
    if (!srv->access_log || !log_enabled(LOG_INFO)) return;
    buf x;
    buf_init(&x, 32768); /* a path is at most max_url (8 KiB) bytes, escaped */
    buf_printf(&x, ",\"request_id\":\"%s\",\"trace_id\":\"%s\",\"span_id\":\"%s\",\"method\":\"%s\",\"path\":",
               req->request_id, req->trace_id, req->span_id,
               http_method_str((enum http_method)req->method));
    /* the path is client input: escaped; everything else is ours */
    buf_json_str(&x, req->path ? req->path : "", req->path ? req->path_len : 0);
    buf_printf(&x, ",\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,\"remote\":\"%s\"",
               req->route ? req->route->pattern
               : req->route_index == srv->route_static ? "static" : "-",
               status, secs * 1000.0, req->client_ip);
    if (req->authed) buf_printf(&x, ",\"user_id\":\"%s\"", req->auth.id);
    if (x.data) log_line(LOG_INFO, "request", x.data);
    buf_free(&x);
}

void http_respond(http_req *req, int status, const char *content_type, const char *body,
                  size_t len)
{
    if (req->responded) return;
    req->responded = 1;
    req->status = status;
    http_server *srv = req->server;
    double secs = (double)(clock_mono_ns() - req->start_ns) / 1e9;
    int metric = req->route_index >= 0 ? req->route_index : srv->route_unmatched;
    metrics_observe_request(metric, status, secs);
    http_access_log(req, status, secs);

    http_conn *c = req->conn;
    if (!c) return; /* cancelled: nobody to answer */
    if (c->srv->draining || c->closing) req->keep_alive = 0;
    int head = req->method == HTTP_HEAD;
    char tp[64];
    trace_format(req, tp);
    buf out;
    buf_init(&out, (size_t)-1);
    int rc = buf_printf(&out, "HTTP/1.1 %d %s\r\nDate: %s\r\nX-Request-Id: %s\r\ntraceparent: %s\r\n",
                        status, http_status_text(status), http_date_header(), req->request_id, tp);
    if (status == 204 || status == 304) len = 0; /* these carry no body nor its length */
    else if (!req->open_ended) rc |= buf_printf(&out, "Content-Length: %zu\r\n", len);
    if (content_type) rc |= buf_printf(&out, "Content-Type: %s\r\n", content_type);
    if (!req->keep_alive) rc |= buf_puts(&out, "Connection: close\r\n");
    else if (req->http_minor == 0) rc |= buf_puts(&out, "Connection: keep-alive\r\n");
    if (req->resp_headers.len) rc |= buf_append(&out, req->resp_headers.data, req->resp_headers.len);
    rc |= buf_puts(&out, "\r\n");
    if (!head && len) rc |= buf_append(&out, body, len);
    if (rc) {
        buf_free(&out);
        http_conn_close(c);
        return;
    }
    /* the connection's reference is handed back here */
    if (c->cur == req) {
        c->cur = NULL;
        srv->inflight--;
    }
    c->phase = PH_IDLE;
    if (!req->keep_alive) c->close_after_write = 1;
    http_conn_write(c, out.data, out.len);
    buf_free(&out);
    http_req_unref(req);
    if (c->closing) return;
    if (c->close_after_write) return; /* after_last_write runs when written */
    arm(c, srv->lim.idle_timeout_ms);
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > WRITE_HIGH_WATER)
        c->write_blocked = 1;
    if (!c->in_process) conn_process(c);
}

void http_add_header(http_req *req, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) return;
    buf_append(&req->resp_headers, line, (size_t)n);
    buf_append(&req->resp_headers, "\r\n", 2);
}

/* ---- parsing and dispatch ----------------------------------------------- */

static int on_headers(http_parse *hp, http_req *req)
{
    http_conn *c = hp->user;
    http_server *srv = c->srv;
    char allow[128];
    int idx = router_match(srv->routes, srv->nroutes, req, allow, sizeof allow);
    hp->body_max = srv->lim.default_max_body;
    if (idx >= 0) {
        req->route = &srv->routes[idx];
        req->route_index = idx;
        hp->body_max = req->route->max_body;
    } else if (idx == ROUTER_BAD_METHOD) {
        req->route_index = -2;
        http_add_header(req, "Allow: %s", allow);
    } else {
        req->route_index = -1;
    }
    c->phase = PH_BODY;
    arm(c, srv->lim.body_timeout_ms);
    if (req->expect_continue) {
        if ((hp->p.flags & F_CONTENTLENGTH) && hp->p.content_length > hp->body_max)
            return 413; /* refused before the client sends the body */
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        http_conn_write(c, cont, sizeof cont - 1);
    }
    return 0;
}

/* Behind a trusted reverse proxy the peer is the proxy: the client is the
 * rightmost X-Forwarded-For entry (the one the proxy itself appended). */
static void forwarded_client(http_req *req)
{
    size_t n = 0;
    const char *xff = http_header_get(req, "x-forwarded-for", &n);
    if (!xff || n == 0) return;
    const char *end = xff + n, *start = end;
    while (start > xff && start[-1] != ',') start--;
    while (start < end && (*start == ' ' || *start == '\t')) start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= sizeof req->client_ip) return;
    char ip[sizeof req->client_ip];
    memcpy(ip, start, len);
    ip[len] = '\0';
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    if (uv_ip4_addr(ip, 0, &a4) == 0 || uv_ip6_addr(ip, 0, &a6) == 0)
        memcpy(req->client_ip, ip, len + 1);
}

static void dispatch(http_conn *c, http_req *req)
{
    http_server *srv = c->srv;
    req->start_ns = clock_mono_ns();
    req->deadline_ns = req->start_ns + srv->lim.request_timeout_ms * 1000000u;
    trace_begin(req);
    if (srv->trust_proxy) forwarded_client(req);
    c->cur = req;
    c->phase = PH_HANDLING;
    uv_timer_stop(&c->timer);
    srv->inflight++;
    if (srv->draining) req->keep_alive = 0;
    if (req->route_index == -2) {
        http_problem(req, 405, "method-not-allowed", "Method Not Allowed",
                     "this resource does not accept that method; see the Allow header", NULL);
        return;
    }
    if (srv->inflight > srv->lim.max_inflight) {
        srv->shed_inflight++;
        metrics_count("opx_http_shed_total", "reason", "inflight");
        http_add_header(req, "Retry-After: 1");
        http_problem(req, 503, "overloaded", "Service Unavailable",
                     "too many requests in flight; retry shortly", NULL);
        return;
    }
    if (req->route_index >= 0) {
        srv->dispatch(req);
    } else if ((req->method == HTTP_GET || req->method == HTTP_HEAD) && srv->fallback) {
        req->route_index = srv->route_static;
        srv->fallback(req);
    } else {
        http_problem(req, 404, "not-found", "Not Found", "no such resource", NULL);
    }
}

static void respond_parse_error(http_conn *c, int status, const char *detail)
{
    http_req *req = c->hp.req;
    c->hp.req = NULL;
    if (!req) {
        req = http_req_new(0);
        if (!req) {
            http_conn_close(c);
            return;
        }
        req->conn = c;
        req->server = c->srv;
        memcpy(req->client_ip, c->ip, sizeof req->client_ip);
    }
    req->keep_alive = 0; /* after a framing error the stream cannot be trusted */
    req->route_index = -1;
    req->start_ns = clock_mono_ns();
    trace_begin(req);
    c->cur = req;
    c->srv->inflight++;
    if (status == 503) http_add_header(req, "Retry-After: 1");
    const char *title = http_status_text(status);
    char slug[48];
    snprintf(slug, sizeof slug, "%s",
             status == 413 ? "body-too-large" : status == 431 ? "headers-too-large"
             : status == 414 ? "uri-too-long" : status == 417 ? "expectation-failed"
             : status == 505 ? "http-version-not-supported"
             : status == 503 ? "unavailable" : "bad-request");
    http_problem(req, status, slug, title, detail ? detail : title, NULL);
}

static void conn_process(http_conn *c)
{
    if (c->in_process) return;
    c->in_process = 1;
    while (!c->closing && !c->cur && !c->write_blocked && c->in_len > 0) {
        size_t used = 0;
        http_parse_result r = http_parse_feed(&c->hp, c->inbuf, c->in_len, &used);
        if (used < c->in_len) memmove(c->inbuf, c->inbuf + used, c->in_len - used);
        c->in_len -= used;
        if (r == HP_ERROR) {
            c->in_len = 0;
            respond_parse_error(c, c->hp.error_status, c->hp.error_detail);
            break;
        }
        if (r == HP_MORE) {
            if (c->hp.started && c->phase == PH_IDLE) {
                c->phase = PH_HEADERS;
                arm(c, c->srv->lim.header_timeout_ms);
            }
            break;
        }
        http_req *req = c->hp.req;
        c->hp.req = NULL;
        dispatch(c, req);
    }
    c->in_process = 0;
    if (!c->closing && c->in_len < INBUF_SIZE) http_conn_read_start(c);
}

/* ---- reading ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    http_conn *c = h->data;
    if (c->phase == PH_STREAM || c->phase == PH_LINGER) {
        /* nothing read here is kept: a shared scratch buffer, so an idle
         * stream holds no read buffer of its own */
        static char scratch[4096];
        *b = uv_buf_init(scratch, sizeof scratch);
        return;
    }
    if (!c->inbuf) c->inbuf = malloc(INBUF_SIZE);
    if (!c->inbuf || c->in_len >= INBUF_SIZE) {
        *b = uv_buf_init(NULL, 0);
        return;
    }
    *b = uv_buf_init(c->inbuf + c->in_len, (unsigned)(INBUF_SIZE - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    http_conn *c = s->data;
    if (n < 0) { /* EOF or error: a pending request is cancelled */
        http_conn_close(c);
        return;
    }
    if (n == 0) return;
    if (c->phase == PH_LINGER || c->phase == PH_STREAM) { /* discard until EOF */
        return;
    }
    c->in_len += (size_t)n;
    if (c->in_len >= INBUF_SIZE) {
        uv_read_stop(s);
        c->reading = 0;
    }
    if (c->phase == PH_IDLE && !c->cur) {
        c->phase = PH_HEADERS;
        arm(c, c->srv->lim.header_timeout_ms);
    }
    conn_process(c);
}

void http_conn_read_start(http_conn *c)
{
    if (c->reading || c->closing == 2) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = 1;
}

/* ---- accepting --------------------------------------------------------- */

static void on_refused_closed(uv_handle_t *h)
{
    free(h);
}

static void on_refused_written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, on_refused_closed);
    free(w);
}

/* At the connection cap: a canned 503 and close, without parsing anything. */
static void refuse(http_server *srv, uv_tcp_t *tcp)
{
    static char resp[512];
    static size_t resp_len;
    if (!resp_len) {
        static const char body[] = "{\"type\":\"urn:opx:problem:overloaded\",\"title\":\"Service "
                                   "Unavailable\",\"status\":503,\"detail\":\"too many open "
                                   "connections; retry shortly\"}";
        resp_len = (size_t)snprintf(resp, sizeof resp,
                                    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                    "Connection: close\r\nContent-Type: application/problem+json\r\n"
                                    "Content-Length: %zu\r\n\r\n%s",
                                    sizeof body - 1, body);
    }
    srv->shed_conns++;
    metrics_count("opx_http_shed_total", "reason", "connections");
    uv_write_t *w = malloc(sizeof *w);
    uv_buf_t b = uv_buf_init(resp, (unsigned)resp_len);
    if (!w || uv_write(w, (uv_stream_t *)tcp, &b, 1, on_refused_written) < 0) {
        free(w);
        uv_close((uv_handle_t *)tcp, on_refused_closed);
    }
}

static void on_connection(uv_stream_t *ls, int status)
{
    http_server *srv = ls->data;
    if (status < 0 || srv->draining) return;
    if (srv->nconns >= srv->lim.max_conns) {
        uv_tcp_t *t = malloc(sizeof *t);
        if (!t) return;
        uv_tcp_init(srv->loop, t);
        if (uv_accept(ls, (uv_stream_t *)t) == 0) refuse(srv, t);
        else uv_close((uv_handle_t *)t, on_refused_closed);
        return;
    }
    http_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    srv->nconns++;
    srv->accepted++;
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    if (uv_accept(ls, (uv_stream_t *)&c->tcp) < 0) {
        http_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->ip, sizeof c->ip);
        else
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->ip, sizeof c->ip);
    }
    c->hp.user = c;
    c->hp.on_headers = on_headers;
    c->hp.new_req = new_req;
    http_parse_init(&c->hp, srv->lim.max_url, srv->lim.max_header_bytes);
    c->phase = PH_IDLE;
    arm(c, srv->lim.header_timeout_ms);
    http_conn_read_start(c);
}

int http_server_init(http_server *srv, uv_loop_t *loop, const http_limits *lim)
{
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->lim = *lim;
    srv->access_log = 1;
    uv_timer_init(loop, &srv->drain_timer);
    srv->drain_timer.data = srv;
    return uv_tcp_init(loop, &srv->listener);
}

int http_server_listen(http_server *srv, const char *addr)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host) return UV_EINVAL;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end || port < 0 || port > 65535) return UV_EINVAL;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
        memcpy(host, addr + 1, hl - 2);
        host[hl - 2] = '\0';
    } else {
        memcpy(host, addr, hl);
        host[hl] = '\0';
    }
    struct sockaddr_storage ss;
    int rc;
    if (strchr(host, ':'))
        rc = uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss);
    else
        rc = uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss);
    if (rc < 0) return rc;
    srv->listener.data = srv;
    if ((rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0)) < 0) return rc;
    if ((rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection)) < 0) return rc;
    srv->listening = 1;
    return 0;
}

int http_server_port(http_server *srv)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len) < 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void on_drain_deadline(uv_timer_t *t)
{
    http_server *srv = t->data;
    log_msgf(LOG_WARN, "drain deadline passed; closing %zu connections", srv->nconns);
    http_conn *c = srv->conns;
    while (c) {
        http_conn *n = c->next;
        http_conn_close(c);
        c = n;
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    (void)h;
}

void http_server_drain(http_server *srv)
{
    if (srv->draining) return;
    srv->draining = 1;
    if (srv->listening) {
        uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
        srv->listening = 0;
    }
    /* idle connections go now; busy ones close after their response;
     * streams get their goodbye (a retry hint) and end */
    http_conn *c = srv->conns;
    while (c) {
        http_conn *n = c->next;
        if (c->phase == PH_IDLE && !c->cur && c->in_len == 0) {
            http_conn_close(c);
        } else if (c->phase == PH_STREAM && !c->closing) {
            void (*cb)(void *) = c->stream_on_close;
            c->stream_on_close = NULL;
            if (cb) cb(c->stream_owner);
            http_stream_finish(c, c->stream_goodbye, c->stream_goodbye ? strlen(c->stream_goodbye) : 0);
        }
        c = n;
    }
    uv_timer_start(&srv->drain_timer, on_drain_deadline, srv->lim.drain_timeout_ms, 0);
    if (srv->nconns == 0 && srv->on_drained) {
        uv_timer_stop(&srv->drain_timer);
        void (*cb)(http_server *) = srv->on_drained;
        srv->on_drained = NULL;
        cb(srv);
    }
}

static void on_closed_noop(uv_handle_t *h)
{
    (void)h;
}

void http_server_close(http_server *srv)
{
    if (srv->listening) {
        uv_close((uv_handle_t *)&srv->listener, on_closed_noop);
        srv->listening = 0;
    } else if (!uv_is_closing((uv_handle_t *)&srv->listener)) {
        uv_close((uv_handle_t *)&srv->listener, on_closed_noop);
    }
    if (!uv_is_closing((uv_handle_t *)&srv->drain_timer))
        uv_close((uv_handle_t *)&srv->drain_timer, on_closed_noop);
}
