/* server: the HTTP/1.1 listener and its connections on one libuv loop.
 * It owns sockets, the read buffers, the per-connection timer (header,
 * body and idle timeouts), the connection and in-flight caps (503 with
 * Retry-After when full), keep-alive and pipelining (one request at a time
 * per connection, answered in order), 100-continue, lingering close, and
 * graceful drain. It routes; what a route does is the app's dispatch(). */
#ifndef OPX_SERVER_H
#define OPX_SERVER_H
#include <uv.h>
#include "http.h"
#include "router.h"

typedef struct {
    size_t max_conns;        /* open connections; past it, 503 and close */
    size_t max_inflight;     /* requests being handled at once; past it, 503 */
    size_t max_url;          /* request target bytes (414) */
    size_t max_header_bytes; /* header block bytes (431) */
    size_t default_max_body; /* body cap where no route says (413) */
    uint64_t header_timeout_ms, body_timeout_ms, idle_timeout_ms;
    uint64_t request_timeout_ms; /* deadline handed to every handler */
    uint64_t drain_timeout_ms;
} http_limits;

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int listening;
    http_limits lim;
    const route *routes;
    int nroutes;
    int route_static, route_unmatched; /* metric indexes past the table */
    void (*dispatch)(http_req *req);   /* matched route: auth + handler */
    void (*fallback)(http_req *req);   /* unmatched GET/HEAD: static files */
    void (*on_drained)(http_server *srv);
    int access_log;
    int trust_proxy; /* take the client address from X-Forwarded-For (rightmost) */
    http_conn *conns; /* intrusive list */
    size_t nconns, inflight;
    int draining;
    uv_timer_t drain_timer;
    uint64_t accepted, shed_conns, shed_inflight, timeouts;
};

int http_server_init(http_server *srv, uv_loop_t *loop, const http_limits *lim);
/* addr "127.0.0.1:8080" or "[::1]:8080". Returns 0 or a negative uv error. */
int http_server_listen(http_server *srv, const char *addr);
/* Stops accepting, closes idle connections, lets in-flight requests finish
 * (their connections close after), and force-closes what is left when the
 * drain deadline passes. on_drained runs once when no connection is left. */
void http_server_drain(http_server *srv);
/* Closes the listener and timers; call once every connection is gone. */
void http_server_close(http_server *srv);
/* Bound port (for --listen 127.0.0.1:0). */
int http_server_port(http_server *srv);
void http_limits_default(http_limits *lim);
#endif
