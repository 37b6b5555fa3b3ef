/* parser: http_parser callbacks that fill http_req, with byte limits (see
 * parser.h). */
#include "parser.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REQ_ARENA_CAP (256 * 1024)

http_req *http_req_new(size_t arena_cap)
{
    http_req *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    arena_init(&req->arena, arena_cap ? arena_cap : REQ_ARENA_CAP);
    buf_init(&req->body, 0);
    buf_init(&req->resp_headers, 8192);
    req->refs = 1;
    req->route_index = -1;
    return req;
}

static http_parse *HP(http_parser *p)
{
    return (http_parse *)p->data;
}

static int fail(http_parse *hp, int status, const char *detail)
{
    hp->error_status = status;
    hp->error_detail = detail;
    return -1;
}

/* appends a fragment to an arena string (fragments come when a read
 * boundary splits a field; rare, so copying is fine) */
static int append(http_req *req, char **dst, size_t *dlen, const char *at, size_t n)
{
    char *s = arena_alloc(&req->arena, *dlen + n + 1);
    if (!s) return -1;
    if (*dlen) memcpy(s, *dst, *dlen);
    memcpy(s + *dlen, at, n);
    *dlen += n;
    s[*dlen] = '\0';
    *dst = s;
    return 0;
}

static int on_message_begin(http_parser *p)
{
    http_parse *hp = HP(p);
    hp->req = hp->new_req ? hp->new_req(hp) : http_req_new(0);
    if (!hp->req) return fail(hp, 503, "out of memory");
    hp->header_bytes = 0;
    hp->last_was_value = 0;
    hp->body_max = 0;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    http_parse *hp = HP(p);
    http_req *req = hp->req;
    if (req->url_len + n > hp->max_url) return fail(hp, 414, "the request target is too long");
    if (append(req, &req->url, &req->url_len, at, n) < 0) return fail(hp, 431, "request too large");
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    http_parse *hp = HP(p);
    http_req *req = hp->req;
    hp->header_bytes += n;
    if (hp->header_bytes > hp->max_header_bytes)
        return fail(hp, 431, "the header block is larger than the server accepts");
    /* trailer fields of a chunked body count against the limit but are
     * dropped: merged into the headers they would arrive after every check
     * (a second Host, a late Cookie), which RFC 9110 6.5.1 forbids */
    if (p->flags & F_TRAILING) return 0;
    if (hp->last_was_value || req->nheaders == 0) {
        if (req->nheaders >= HTTP_MAX_HEADERS) return fail(hp, 431, "too many header fields");
        http_header *h = &req->headers[req->nheaders++];
        h->name = NULL;
        h->name_len = 0;
        h->value = arena_strndup(&req->arena, "", 0);
        h->value_len = 0;
        hp->last_was_value = 0;
    }
    http_header *h = &req->headers[req->nheaders - 1];
    if (append(req, &h->name, &h->name_len, at, n) < 0) return fail(hp, 431, "request too large");
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    http_parse *hp = HP(p);
    http_req *req = hp->req;
    hp->header_bytes += n;
    if (hp->header_bytes > hp->max_header_bytes)
        return fail(hp, 431, "the header block is larger than the server accepts");
    if (p->flags & F_TRAILING) return 0; /* a trailer: dropped, see on_header_field */
    if (req->nheaders == 0) return fail(hp, 400, "header value without a name");
    http_header *h = &req->headers[req->nheaders - 1];
    if (append(req, &h->value, &h->value_len, at, n) < 0) return fail(hp, 431, "request too large");
    hp->last_was_value = 1;
    return 0;
}

static int split_url(http_req *req)
{
    if (!req->url) return -1;
    /* absolute-form ("http://host/path", RFC 9112 3.2.2) is read as its path */
    if (req->url_len > 7 && (strncasecmp(req->url, "http://", 7) == 0 ||
                             (req->url_len > 8 && strncasecmp(req->url, "https://", 8) == 0))) {
        char *auth = strstr(req->url, "//") + 2;
        char *slash = memchr(auth, '/', req->url_len - (size_t)(auth - req->url));
        char *q = memchr(auth, '?', req->url_len - (size_t)(auth - req->url));
        if (q && (!slash || q < slash)) return -1; /* "http://host?x" has no path */
        if (slash) {
            req->url_len -= (size_t)(slash - req->url);
            req->url = slash;
        } else {
            req->url = arena_strndup(&req->arena, "/", 1);
            req->url_len = 1;
            if (!req->url) return -1;
        }
    }
    if (req->url[0] != '/') return -1; /* origin-form, or absolute-form made so */
    char *q = memchr(req->url, '?', req->url_len);
    size_t plen = q ? (size_t)(q - req->url) : req->url_len;
    req->path = arena_strndup(&req->arena, req->url, plen);
    req->path_len = plen;
    req->query = q ? q + 1 : NULL;
    /* no fragment is ever sent by a correct client; refuse NUL and '#' */
    if (memchr(req->url, '#', req->url_len) || strlen(req->url) != req->url_len) return -1;
    return req->path ? 0 : -1;
}

static int on_headers_complete(http_parser *p)
{
    http_parse *hp = HP(p);
    http_req *req = hp->req;
    req->method = p->method;
    req->http_major = p->http_major;
    req->http_minor = p->http_minor;
    req->keep_alive = http_should_keep_alive(p);
    /* HTTP/2.0 or 9.9 in a request line is not a dialect we speak (RFC 9110
     * 15.6.6); a higher 1.x minor is read as 1.1, Host rule included */
    if (p->http_major != 1) return fail(hp, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    if (split_url(req) < 0) return fail(hp, 400, "the request target must be an absolute path");
    int hosts = 0; /* RFC 9112 3.2: none (in 1.1) or more than one is a 400 */
    for (int i = 0; i < req->nheaders; i++)
        hosts += req->headers[i].name_len == 4 &&
                 strncasecmp(req->headers[i].name, "host", 4) == 0;
    if (hosts > 1) return fail(hp, 400, "more than one Host header");
    if (p->http_minor >= 1 && hosts == 0)
        return fail(hp, 400, "HTTP/1.1 requests need a Host header");
    size_t n = 0;
    const char *expect = http_header_get(req, "expect", &n);
    if (expect && p->http_minor >= 1) { /* HTTP/1.0 ignores Expect (RFC 9110 10.1.1) */
        if (n == 12 && strncasecmp(expect, "100-continue", 12) == 0)
            req->expect_continue = 1;
        else
            return fail(hp, 417, "only 'Expect: 100-continue' is supported");
    }
    if (hp->on_headers) {
        int st = hp->on_headers(hp, req);
        if (st) return fail(hp, st, NULL);
    }
    if (p->upgrade) req->keep_alive = 0;
    /* a declared length past the route's limit is refused before reading */
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > hp->body_max)
        return fail(hp, 413, "the request body is larger than this route accepts");
    req->body.max = hp->body_max;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    http_parse *hp = HP(p);
    if (buf_append(&hp->req->body, at, n) < 0)
        return fail(hp, 413, "the request body is larger than this route accepts");
    return 0;
}

static int on_message_complete(http_parser *p)
{
    http_parse *hp = HP(p);
    http_parser_pause(p, 1);
    hp->started = 0;
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_parse_init(http_parse *hp, size_t max_url, size_t max_header_bytes)
{
    void *user = hp->user;
    http_parse_headers_cb cb = hp->on_headers;
    http_req *(*nr)(http_parse *) = hp->new_req;
    memset(hp, 0, sizeof *hp);
    hp->user = user;
    hp->on_headers = cb;
    hp->new_req = nr;
    http_parser_init(&hp->p, HTTP_REQUEST);
    hp->p.data = hp;
    hp->max_url = max_url;
    hp->max_header_bytes = max_header_bytes;
}

http_parse_result http_parse_feed(http_parse *hp, const char *data, size_t len, size_t *consumed)
{
    if (HTTP_PARSER_ERRNO(&hp->p) == HPE_PAUSED) http_parser_pause(&hp->p, 0);
    if (len) hp->started = 1;
    size_t n = http_parser_execute(&hp->p, &settings, data, len);
    *consumed = n;
    enum http_errno e = HTTP_PARSER_ERRNO(&hp->p);
    if (e == HPE_PAUSED) return HP_MESSAGE;
    if (e != HPE_OK) {
        if (!hp->error_status) {
            hp->error_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
            hp->error_detail = http_errno_description(e);
        }
        return HP_ERROR;
    }
    return HP_MORE;
}

const char *http_header_get(const http_req *req, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (int i = 0; i < req->nheaders; i++) {
        const http_header *h = &req->headers[i];
        if (h->name_len == nl && strncasecmp(h->name, name, nl) == 0) {
            if (len) *len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

const char *http_param_get(const http_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->params[i].name, name) == 0) return req->params[i].value;
    return NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

const char *http_query_get(http_req *req, const char *name)
{
    if (!req->query) return NULL;
    size_t nl = strlen(name);
    const char *end = req->url + req->url_len;
    const char *s = req->query;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *e = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        const char *ke = eq ? eq : e;
        if ((size_t)(ke - s) == nl && memcmp(s, name, nl) == 0) {
            const char *v = eq ? eq + 1 : e;
            size_t vl = (size_t)(e - v);
            char *out = arena_alloc(&req->arena, vl + 1);
            if (!out) return NULL;
            size_t o = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] == '+') out[o++] = ' ';
                else if (v[i] == '%' && i + 2 < vl && hexval(v[i + 1]) >= 0 &&
                         hexval(v[i + 2]) >= 0 && (v[i + 1] != '0' || v[i + 2] != '0')) {
                    out[o++] = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
                    i += 2;
                } else out[o++] = v[i];
            }
            out[o] = '\0';
            return out;
        }
        s = e + 1;
    }
    return NULL;
}
