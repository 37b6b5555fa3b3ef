/* trace: request ids and traceparent handling (see trace.h). */
#include "trace.h"
#include <stdio.h>
#include <string.h>
#include "../core/token.h"

static int lowhex(const char *s, size_t n)
{
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
        nonzero |= c != '0';
    }
    return nonzero ? 1 : -1;
}

int trace_parse(const char *s, size_t n, char trace_id[33], char parent_span[17], char flags[3])
{
    /* 00-<32 hex>-<16 hex>-<2 hex> = 55 chars */
    if (n != 55 || s[0] != '0' || s[1] != '0' || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return 0;
    if (lowhex(s + 3, 32) != 1 || lowhex(s + 36, 16) != 1 || lowhex(s + 53, 2) == 0) return 0;
    memcpy(trace_id, s + 3, 32);
    trace_id[32] = '\0';
    memcpy(parent_span, s + 36, 16);
    parent_span[16] = '\0';
    memcpy(flags, s + 53, 2);
    flags[2] = '\0';
    return 1;
}

static int sane_request_id(const char *s, size_t n)
{
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

void trace_begin(http_req *req)
{
    size_t n = 0;
    const char *rid = http_header_get(req, "x-request-id", &n);
    if (rid && sane_request_id(rid, n)) {
        memcpy(req->request_id, rid, n);
        req->request_id[n] = '\0';
    } else {
        token_fast_hex(req->request_id, 12);
    }
    const char *tp = http_header_get(req, "traceparent", &n);
    if (!tp || !trace_parse(tp, n, req->trace_id, req->parent_span_id, req->trace_flags)) {
        token_fast_hex(req->trace_id, 16);
        req->parent_span_id[0] = '\0';
        memcpy(req->trace_flags, "01", 3);
    }
    token_fast_hex(req->span_id, 8);
}

void trace_format(const http_req *req, char out[64])
{
    snprintf(out, 64, "00-%s-%s-%s", req->trace_id, req->span_id, req->trace_flags);
}
