/* stream: a connection turned into a long-lived response (Server-Sent
 * Events): the head is sent at once, then chunks as the owner writes them
 * (HTTP/1.1 chunked; HTTP/1.0 raw bytes until close). The connection keeps
 * no read buffer, no request and no timer; a reader that falls behind by
 * more than its max_queued bytes is cut off; a drain sends each stream its
 * goodbye and ends it (see server.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "server_internal.h"
#include "trace.h"

http_stream *http_stream_open(http_req *req, const char *content_type, size_t max_queued,
                              const char *goodbye, void (*on_close)(void *owner), void *owner)
{
    http_conn *c = req->conn;
    if (!c || req->responded || c->closing || c->srv->draining) {
        if (c && !req->responded) {
            http_add_header(req, "Retry-After: 1");
            http_problem(req, 503, "unavailable", "Service Unavailable",
                         "the server is shutting down; reconnect shortly", NULL);
        }
        return NULL;
    }
    http_server *srv = req->server;
    req->responded = 1;
    req->status = 200;
    double secs = (double)(clock_mono_ns() - req->start_ns) / 1e9;
    metrics_observe_request(req->route_index, 200, secs);
    http_access_log(req, 200, secs);
    char tp[64];
    trace_format(req, tp);
    int chunked = req->http_minor >= 1;
    buf out;
    buf_init(&out, (size_t)-1);
    int rc = buf_printf(&out,
                        "HTTP/1.1 200 OK\r\nDate: %s\r\nX-Request-Id: %s\r\ntraceparent: %s\r\n"
                        "Content-Type: %s\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\n%s",
                        http_date_header(), req->request_id, tp, content_type,
                        chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n");
    if (req->resp_headers.len) rc |= buf_append(&out, req->resp_headers.data, req->resp_headers.len);
    rc |= buf_puts(&out, "\r\n");
    if (rc) {
        buf_free(&out);
        http_conn_close(c);
        return NULL;
    }
    if (c->cur == req) {
        c->cur = NULL;
        srv->inflight--;
    }
    c->phase = PH_STREAM;
    c->stream_chunked = chunked;
    c->stream_max_queued = max_queued;
    c->stream_goodbye = goodbye;
    uv_timer_stop(&c->timer);
    free(c->inbuf); /* whatever was pipelined behind this request is dropped */
    c->inbuf = NULL;
    c->in_len = 0;
    http_conn_write(c, out.data, out.len);
    buf_free(&out);
    http_req_unref(req);
    if (c->closing) return NULL; /* the write failed: nothing was opened */
    c->stream_on_close = on_close;
    c->stream_owner = owner;
    http_conn_read_start(c);
    return c;
}

size_t http_stream_queued(const http_stream *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

static void stream_chunk(http_conn *c, const char *data, size_t len)
{
    if (!c->stream_chunked) {
        http_conn_write(c, data, len);
        return;
    }
    /* size line, data and CRLF in one write */
    char head[24];
    int hn = snprintf(head, sizeof head, "%zx\r\n", len);
    char small[4096];
    char *b = hn + len + 2 <= sizeof small ? small : malloc((size_t)hn + len + 2);
    if (!b) {
        http_conn_close(c);
        return;
    }
    memcpy(b, head, (size_t)hn);
    memcpy(b + hn, data, len);
    memcpy(b + hn + len, "\r\n", 2);
    http_conn_write(c, b, (size_t)hn + len + 2);
    if (b != small) free(b);
}

int http_stream_write(http_stream *c, const char *data, size_t len)
{
    if (c->closing || c->phase != PH_STREAM) return -1;
    if (len == 0) return 0;
    stream_chunk(c, data, len);
    if (c->closing) return -1;
    if (http_stream_queued(c) > c->stream_max_queued) {
        metrics_count("opx_http_streams_dropped_total", "reason", "slow");
        log_msgf(LOG_WARN, "stream to %s cut off: %zu bytes queued", c->ip, http_stream_queued(c));
        http_conn_close(c);
        return -1;
    }
    return 0;
}

void http_stream_finish(http_conn *c, const char *last, size_t len)
{
    if (last && len) stream_chunk(c, last, len);
    if (c->closing) return;
    c->close_after_write = 1;
    if (c->stream_chunked) http_conn_write(c, "0\r\n\r\n", 5);
    else if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) http_conn_after_last_write(c);
}

void http_stream_end(http_stream *c, const char *last, size_t len)
{
    if (c->closing || c->phase != PH_STREAM) return;
    c->stream_on_close = NULL;
    http_stream_finish(c, last, len);
}

