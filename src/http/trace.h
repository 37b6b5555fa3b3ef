/* trace: request ids and W3C Trace Context (traceparent) for one request.
 * An incoming traceparent is parsed strictly (version 00, 32+16 lowercase
 * hex, not all zero); when valid its trace id is kept and the caller's span
 * becomes our parent, otherwise a new trace starts. Our own span id is new
 * either way and goes out in the response's traceparent. */
#ifndef OPX_TRACE_H
#define OPX_TRACE_H
#include <stddef.h>
#include "http.h"

/* Returns 1 and fills the ids when s is a valid traceparent. */
int trace_parse(const char *s, size_t n, char trace_id[33], char parent_span[17], char flags[3]);
/* Sets req's request id (a sane incoming X-Request-Id, else new) and trace. */
void trace_begin(http_req *req);
/* "00-<trace>-<span>-<flags>" into out (56 bytes). */
void trace_format(const http_req *req, char out[64]);
#endif
