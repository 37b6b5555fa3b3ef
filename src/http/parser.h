/* parser: the glue between bytes on a connection and http_req objects,
 * over Node's http_parser. It knows nothing of sockets, so the fuzzer and
 * the unit tests drive it directly. It enforces the byte limits (URL,
 * header block, body) and pauses after each complete message, which is
 * how pipelined requests are answered one at a time, in order. */
#ifndef OPX_PARSER_H
#define OPX_PARSER_H
#include "http.h"

typedef struct http_parse http_parse;

/* Called when a request's headers are complete. Return 0 to go on, or an
 * HTTP status (413, 417, ...) to refuse the request before its body. The
 * hook may set hp->body_max. */
typedef int (*http_parse_headers_cb)(http_parse *hp, http_req *req);

typedef enum { HP_MORE, HP_MESSAGE, HP_ERROR } http_parse_result;

struct http_parse {
    http_parser p;
    http_req *req;          /* the request being parsed, or NULL between */
    size_t max_url, max_header_bytes, body_max;
    size_t header_bytes;
    int last_was_value;
    int error_status;       /* set with HP_ERROR: 400, 413, 414, 431, ... */
    const char *error_detail;
    int started;            /* bytes of a new message seen */
    http_parse_headers_cb on_headers;
    void *user;
    /* makes a new request object when a message begins */
    http_req *(*new_req)(http_parse *hp);
};

void http_parse_init(http_parse *hp, size_t max_url, size_t max_header_bytes);
/* Feeds bytes; *consumed tells how many were used. HP_MESSAGE: hp->req is
 * complete and now the caller's; feed the rest after answering it. */
http_parse_result http_parse_feed(http_parse *hp, const char *data, size_t len, size_t *consumed);
/* A request object, malloc'd with its arena; refs = 1. */
http_req *http_req_new(size_t arena_cap);
#endif
