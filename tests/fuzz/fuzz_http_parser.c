/* fuzz_http_parser: libFuzzer target for the HTTP/1.1 parser glue
 * (src/http/parser.c). The first input bytes choose the limits and the
 * seed of the read-boundary generator; the rest is fed to
 * http_parse_feed in random-sized pieces, each complete request checked
 * and freed, until an error or the end of the input. The same bytes are
 * then fed in one piece: where the read boundaries fall must never change
 * which requests come out, nor whether the input ends in an error. */
#include "http/http.h"
#include "http/parser.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_MSGS 64

static size_t body_max_cfg;

static int on_headers(http_parse *hp, http_req *req)
{
    (void)req;
    hp->body_max = body_max_cfg;
    return 0;
}

/* what one parsed request looked like, to compare two runs */
typedef struct {
    unsigned method, major, minor;
    int keep_alive, expect_continue, nheaders;
    size_t url_len, body_len;
    uint64_t url_hash, body_hash, hdr_hash;
} msg_digest;

typedef struct {
    msg_digest m[MAX_MSGS];
    int n;
    int error_status;
    size_t consumed;
} run_result;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_http_parser: invariant broken: %s\n", what);
    abort();
}

static void check_request(http_parse *hp, http_req *req, msg_digest *d)
{
    if (!req->url || !req->path || req->path[0] != '/') die("request without an origin-form path");
    if (strlen(req->url) != req->url_len) die("url_len does not match the url");
    if (req->url_len > hp->max_url) die("url longer than max_url");
    if (strlen(req->path) != req->path_len || req->path_len > req->url_len) die("path_len");
    if (req->query && (req->query < req->url || req->query > req->url + req->url_len))
        die("query outside the url");
    if (req->body.len > body_max_cfg) die("body larger than body_max");
    if (req->body.len && req->body.data[req->body.len] != '\0') die("body not NUL-terminated");
    if (req->nheaders < 0 || req->nheaders > HTTP_MAX_HEADERS) die("nheaders");
    if (req->http_major != 1) die("non-1.x request accepted");
    size_t hbytes = 0;
    int hosts = 0;
    uint64_t hh = 1469598103934665603ull;
    for (int i = 0; i < req->nheaders; i++) {
        http_header *h = &req->headers[i];
        if (!h->name || !h->value) die("header without name or value");
        hosts += h->name_len == 4 && strncasecmp(h->name, "host", 4) == 0;
        if (strlen(h->name) != h->name_len) die("header name_len");
        hbytes += h->name_len + h->value_len;
        hh = fnv(hh, h->name, h->name_len);
        hh = fnv(hh, ":", 1);
        hh = fnv(hh, h->value, h->value_len);
        hh = fnv(hh, "\n", 1);
    }
    if (hosts > 1) die("more than one Host accepted");
    if (hbytes > hp->max_header_bytes) die("header block larger than max_header_bytes");
    if (req->http_minor >= 1 && !http_header_get(req, "host", NULL)) die("1.1 without Host");

    /* the query decoder on whatever came in: output never longer than input */
    static const char *const names[] = {"a", "q", "page", "", "x y"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = http_query_get(req, names[i]);
        if (v && strlen(v) > req->url_len) die("decoded query value longer than the url");
    }
    if (req->query) {
        /* the first name in the query, whatever it is */
        const char *end = req->url + req->url_len;
        const char *s = req->query, *e = s;
        while (e < end && *e != '=' && *e != '&')
            e++;
        char name[64];
        size_t nl = (size_t)(e - s) < sizeof name - 1 ? (size_t)(e - s) : sizeof name - 1;
        memcpy(name, s, nl);
        name[nl] = '\0';
        (void)http_query_get(req, name);
    }

    memset(d, 0, sizeof *d);
    d->method = req->method;
    d->major = req->http_major;
    d->minor = req->http_minor;
    d->keep_alive = req->keep_alive;
    d->expect_continue = req->expect_continue;
    d->nheaders = req->nheaders;
    d->url_len = req->url_len;
    d->body_len = req->body.len;
    d->url_hash = fnv(1469598103934665603ull, req->url, req->url_len);
    d->body_hash = fnv(1469598103934665603ull, req->body.data ? req->body.data : "", req->body.len);
    d->hdr_hash = hh;
}

/* Feeds data in pieces from a small generator (whole = one piece). */
static void run(const uint8_t *data, size_t size, uint32_t seed, size_t max_url, size_t max_hdr,
                int whole, run_result *out)
{
    http_parse hp;
    memset(&hp, 0, sizeof hp);
    hp.on_headers = on_headers;
    http_parse_init(&hp, max_url, max_hdr);
    memset(out, 0, sizeof *out);
    size_t off = 0;
    size_t guard = 0;
    while (off < size) {
        if (++guard > 4 * size + 16) die("no progress");
        size_t left = size - off, n = left;
        if (!whole) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            /* mostly tiny pieces, sometimes large ones */
            n = (r & 3) == 0 ? 1 + (r >> 2) % 1024 : 1 + (r >> 2) % 8;
            if (n > left) n = left;
        }
        size_t used = (size_t)-1;
        http_parse_result r = http_parse_feed(&hp, (const char *)data + off, n, &used);
        if (used > n) die("consumed more than was fed");
        off += used;
        if (r == HP_ERROR) {
            int st = hp.error_status;
            if (st != 400 && st != 413 && st != 414 && st != 417 && st != 431 && st != 505)
                die("unexpected error status");
            out->error_status = st;
            break;
        }
        if (r == HP_MESSAGE) {
            http_req *req = hp.req;
            hp.req = NULL;
            if (!req) die("HP_MESSAGE without a request");
            if (out->n < MAX_MSGS) check_request(&hp, req, &out->m[out->n]);
            out->n++;
            if (req->refs != 1) die("request refs");
            http_req_unref(req);
            continue;
        }
        if (used != n) die("HP_MORE without using every byte");
    }
    out->consumed = off;
    if (hp.req) http_req_unref(hp.req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    uint32_t seed = (uint32_t)data[0] | (uint32_t)data[1] << 8;
    /* limits small enough for the fuzzer to reach: 0 .. 4 KiB body */
    body_max_cfg = (size_t)data[2] * 16;
    size_t max_url = 64 + (size_t)(data[3] & 15) * 64;
    size_t max_hdr = 256 + (size_t)(data[3] >> 4) * 256;
    data += 4;
    size -= 4;

    static run_result a, b;
    run(data, size, seed, max_url, max_hdr, 0, &a);
    run(data, size, seed, max_url, max_hdr, 1, &b);
    if (a.n != b.n) die("read boundaries changed the number of requests");
    /* A field that is both too long and malformed may be reported either
     * way: http_parser hands over a partial URL or header at the end of
     * each read, so the limit (414, 431, 413) can trip before the syntax
     * error (400) is seen, or after. Anything else must not differ. */
    if ((a.error_status == 0) != (b.error_status == 0)) die("read boundaries changed the outcome");
    if (a.error_status != b.error_status && a.error_status != 400 && b.error_status != 400)
        die("read boundaries changed the error");
    int n = a.n < MAX_MSGS ? a.n : MAX_MSGS;
    for (int i = 0; i < n; i++)
        if (memcmp(&a.m[i], &b.m[i], sizeof a.m[i]) != 0) die("read boundaries changed a request");
    return 0;
}
