/* http: the request object shared by the parser glue, the server, the
 * router and the handlers, and the functions handlers answer with.
 *
 * Ownership: a request is reference counted. The connection holds one
 * reference until the response is queued; every asynchronous operation
 * started for the request takes another (http_req_ref) and drops it in its
 * callback (http_req_unref). When the client goes away first, req->conn
 * becomes NULL ("cancelled"): callbacks must then drop their result and
 * their reference, nothing else. All request memory comes from req->arena
 * and goes with the last reference. */
#ifndef OPX_HTTP_H
#define OPX_HTTP_H
#include <http_parser.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/jsonv.h"

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_PARAMS 4

typedef struct http_conn http_conn;
typedef struct http_server http_server;
struct route;

typedef struct {
    char *name, *value;
    size_t name_len, value_len;
} http_header;

typedef struct {
    const char *name;
    char *value;
} http_param;

/* who is calling, once authenticated */
typedef struct {
    char id[32];
    char email[256];
    char name[404];
    char role[16];
    unsigned role_bit;
    int64_t created_at;
    char session_hash[65];
    char csrf[48];
    int via_cookie;
} http_auth;

typedef struct http_req {
    http_conn *conn; /* NULL once cancelled */
    http_server *server;
    arena arena;
    int refs;
    unsigned method; /* enum http_method */
    unsigned short http_major, http_minor;
    char *url, *path, *query;
    size_t url_len, path_len;
    http_header headers[HTTP_MAX_HEADERS];
    int nheaders;
    buf body;
    int keep_alive;
    int expect_continue;
    const struct route *route;
    int route_index;
    http_param params[HTTP_MAX_PARAMS];
    int nparams;
    uint64_t start_ns;
    uint64_t deadline_ns; /* monotonic; every wait of this request ends by then */
    char request_id[65];
    char trace_id[33], span_id[17], parent_span_id[17];
    char trace_flags[3];
    char client_ip[48];
    buf resp_headers; /* extra "Name: value\r\n" lines */
    int responded, status;
    int open_ended; /* HEAD of a streamed resource: no Content-Length */
    int authed;
    http_auth auth;
    void *state; /* the handler's continuation, in the arena */
} http_req;

/* header lookup, case-insensitive; returns NULL when absent */
const char *http_header_get(const http_req *req, const char *name, size_t *len);
const char *http_param_get(const http_req *req, const char *name);
/* query parameter, percent-decoded into the arena (%00 stays literal, so
 * a value never hides a NUL) */
const char *http_query_get(http_req *req, const char *name);

void http_req_ref(http_req *req);
void http_req_unref(http_req *req);
static inline int http_req_cancelled(const http_req *req)
{
    return req->conn == NULL || req->responded;
}

/* Adds a response header line (without CRLF). */
void http_add_header(http_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Queues the response. Exactly one respond per request; later calls and
 * calls on a cancelled request are ignored. The body is copied. */
void http_respond(http_req *req, int status, const char *content_type, const char *body,
                  size_t len);
void http_respond_json(http_req *req, int status, json_t *body); /* steals body */
/* RFC 9457 problem details; errors may be NULL. */
void http_problem(http_req *req, int status, const char *slug, const char *title,
                  const char *detail, const jv_errors *errors);
const char *http_status_text(int status);
/* ---- streaming responses (Server-Sent Events) ----
 * http_stream_open answers req with 200 and an open-ended body (chunked;
 * plain until close for HTTP/1.0) and turns its connection into a stream:
 * the request is finished (it no longer counts in flight and its memory
 * goes), nothing more is read from the client but EOF, and no timer runs
 * (the owner sends heartbeats). The stream lives until one of:
 *  - the owner calls http_stream_end (a last chunk, then a clean close);
 *  - the client goes away, or writes queue past max_queued bytes (a slow
 *    reader is cut off rather than allowed to grow memory), or the server
 *    drains (goodbye, when not NULL, is sent first as the last chunk):
 *    then on_close(owner) runs once and the stream must not be used again.
 * Returns NULL (req answered or gone, nothing opened, on_close never
 * runs) when req was cancelled or the server is draining (503). Headers
 * added with http_add_header go out with the response. */
typedef struct http_conn http_stream;
http_stream *http_stream_open(http_req *req, const char *content_type, size_t max_queued,
                              const char *goodbye, void (*on_close)(void *owner), void *owner);
/* Sends one piece of the body. Returns 0, or -1 when the stream closed
 * (on_close has run by then). */
int http_stream_write(http_stream *s, const char *data, size_t len);
/* Bytes accepted but not yet written to the socket. */
size_t http_stream_queued(const http_stream *s);
/* Ends the body and closes; on_close does not run. */
void http_stream_end(http_stream *s, const char *last, size_t len);

/* Reads the body as a JSON object valid against spec; on any failure
 * answers 415/400/422 itself and returns NULL. The caller owns the result. */
json_t *http_json_body(http_req *req, const jv_field *spec);
#endif
