/* test_parser: the HTTP/1.1 parser glue (src/http/parser.c) driven with
 * bytes only, no sockets: framing (Content-Length, chunked, pipelining,
 * arbitrary read boundaries), the byte limits and their statuses (413,
 * 414, 431), the protocol checks (Host, Expect, origin-form, smuggling),
 * keep-alive, and query-string decoding. */
#include "http/http.h"
#include "http/parser.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define MAX_URL 256
#define MAX_HDR 1024

static size_t hook_body_max = 1024;
static int hook_refuse;
static int hook_calls;

static int on_headers(http_parse *hp, http_req *req)
{
    (void)req;
    hook_calls++;
    hp->body_max = hook_body_max;
    return hook_refuse;
}

static void setup(http_parse *hp)
{
    memset(hp, 0, sizeof *hp);
    hp->on_headers = on_headers;
    http_parse_init(hp, MAX_URL, MAX_HDR);
    hook_body_max = 1024;
    hook_refuse = 0;
    hook_calls = 0;
}

static void teardown_hp(http_parse *hp)
{
    if (hp->req) http_req_unref(hp->req);
    hp->req = NULL;
}

/* Feeds s in one go and expects one complete message using all of it. */
static http_req *parse_one(http_parse *hp, const char *s)
{
    size_t len = strlen(s), used = 0;
    http_parse_result r = http_parse_feed(hp, s, len, &used);
    cr_assert_eq(r, HP_MESSAGE, "result %d status %d (%s) for: %s", r, hp->error_status,
                 hp->error_detail ? hp->error_detail : "", s);
    cr_assert_eq(used, len);
    http_req *req = hp->req;
    hp->req = NULL;
    cr_assert_not_null(req);
    return req;
}

/* Feeds s in one go and expects an error with the given status. */
static void expect_error(http_parse *hp, const char *s, size_t len, int status)
{
    size_t used = 0;
    http_parse_result r = http_parse_feed(hp, s, len, &used);
    cr_assert_eq(r, HP_ERROR, "result %d for: %.*s", r, (int)len, s);
    cr_assert_eq(hp->error_status, status, "status %d, want %d (%s)", hp->error_status, status,
                 hp->error_detail ? hp->error_detail : "");
    teardown_hp(hp);
}

static void expect_error_str(const char *s, int status)
{
    http_parse hp;
    setup(&hp);
    expect_error(&hp, s, strlen(s), status);
}

static const char *hdr(const http_req *req, const char *name)
{
    static char out[512];
    size_t n = 0;
    const char *v = http_header_get(req, name, &n);
    if (!v) return NULL;
    snprintf(out, sizeof out, "%.*s", (int)n, v);
    return out;
}

/* ---- framing ---------------------------------------------------------- */

Test(parser, simple_get)
{
    http_parse hp;
    setup(&hp);
    http_req *req = parse_one(&hp, "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n"
                                   "User-Agent: t/1\r\n\r\n");
    cr_assert_eq(req->method, HTTP_GET);
    cr_assert_eq(req->http_major, 1);
    cr_assert_eq(req->http_minor, 1);
    cr_assert_str_eq(req->url, "/a/b?x=1&y=2");
    cr_assert_str_eq(req->path, "/a/b");
    cr_assert_eq(req->path_len, 4);
    cr_assert_str_eq(req->query, "x=1&y=2");
    cr_assert_eq(req->nheaders, 2);
    cr_assert_str_eq(hdr(req, "host"), "example.com");
    cr_assert_str_eq(hdr(req, "USER-AGENT"), "t/1", "lookup is case-insensitive");
    cr_assert_null(hdr(req, "user-agen"), "no prefix matches");
    cr_assert_null(hdr(req, "cookie"));
    cr_assert_eq(req->keep_alive, 1);
    cr_assert_eq(req->expect_continue, 0);
    cr_assert_eq(req->body.len, 0);
    cr_assert_eq(hook_calls, 1);
    http_req_unref(req);
    teardown_hp(&hp);
}

Test(parser, path_without_query)
{
    http_parse hp;
    setup(&hp);
    http_req *req = parse_one(&hp, "HEAD /health HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_assert_eq(req->method, HTTP_HEAD);
    cr_assert_str_eq(req->path, "/health");
    cr_assert_null(req->query);
    cr_assert_null(http_query_get(req, "x"));
    http_req_unref(req);
}

Test(parser, one_byte_feeds)
{
    const char *s = "GET /split/path?q=abc HTTP/1.1\r\nHost: example.com\r\n"
                    "X-Long-Header-Name: a fairly long value, with, commas\r\n"
                    "Accept: */*\r\n\r\n";
    size_t len = strlen(s);
    http_parse hp;
    setup(&hp);
    for (size_t i = 0; i < len; i++) {
        size_t used = 0;
        http_parse_result r = http_parse_feed(&hp, s + i, 1, &used);
        cr_assert_eq(used, 1, "byte %zu", i);
        if (i + 1 < len)
            cr_assert_eq(r, HP_MORE, "byte %zu: %d", i, r);
        else
            cr_assert_eq(r, HP_MESSAGE);
    }
    http_req *req = hp.req;
    hp.req = NULL;
    cr_assert_str_eq(req->url, "/split/path?q=abc");
    cr_assert_str_eq(req->path, "/split/path");
    cr_assert_eq(req->nheaders, 3);
    cr_assert_str_eq(req->headers[1].name, "X-Long-Header-Name");
    cr_assert_eq(req->headers[1].name_len, 18);
    cr_assert_str_eq(hdr(req, "x-long-header-name"), "a fairly long value, with, commas");
    cr_assert_str_eq(hdr(req, "accept"), "*/*");
    cr_assert_str_eq(http_query_get(req, "q"), "abc");
    http_req_unref(req);
}

Test(parser, one_byte_feeds_chunked_body)
{
    const char *s = "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    size_t len = strlen(s);
    http_parse hp;
    setup(&hp);
    http_parse_result r = HP_MORE;
    for (size_t i = 0; i < len; i++) {
        size_t used = 0;
        r = http_parse_feed(&hp, s + i, 1, &used);
        cr_assert_eq(used, 1);
        if (i + 1 < len) cr_assert_eq(r, HP_MORE, "byte %zu", i);
    }
    cr_assert_eq(r, HP_MESSAGE);
    cr_assert_eq(hp.req->body.len, 7);
    cr_assert_str_eq(hp.req->body.data, "abcdefg");
    teardown_hp(&hp);
}

Test(parser, two_pipelined_requests_in_one_feed)
{
    const char *first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
    const char *second = "GET /two?z=9 HTTP/1.1\r\nHost: h\r\n\r\n";
    char both[256];
    snprintf(both, sizeof both, "%s%s", first, second);
    size_t len = strlen(both), used = 0;
    http_parse hp;
    setup(&hp);

    cr_assert_eq(http_parse_feed(&hp, both, len, &used), HP_MESSAGE);
    cr_assert_lt(used, len);
    cr_assert_eq(used, strlen(first));
    http_req *a = hp.req;
    hp.req = NULL;
    cr_assert_str_eq(a->path, "/one");

    size_t used2 = 0;
    cr_assert_eq(http_parse_feed(&hp, both + used, len - used, &used2), HP_MESSAGE);
    cr_assert_eq(used2, len - used);
    http_req *b = hp.req;
    hp.req = NULL;
    cr_assert_neq(a, b, "each message gets its own request");
    cr_assert_str_eq(b->path, "/two");
    cr_assert_str_eq(http_query_get(b, "z"), "9");
    cr_assert_str_eq(a->path, "/one", "the first request is untouched");
    http_req_unref(a);
    http_req_unref(b);

    /* nothing left: feeding zero bytes asks for more */
    size_t used3 = 5;
    cr_assert_eq(http_parse_feed(&hp, "", 0, &used3), HP_MORE);
    cr_assert_eq(used3, 0);
}

Test(parser, pipelined_after_body)
{
    const char *s = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                    "DELETE /d/1 HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t len = strlen(s), used = 0;
    http_parse hp;
    setup(&hp);
    cr_assert_eq(http_parse_feed(&hp, s, len, &used), HP_MESSAGE);
    cr_assert_str_eq(hp.req->body.data, "hello");
    cr_assert_eq(hp.req->method, HTTP_POST);
    http_req_unref(hp.req);
    hp.req = NULL;
    size_t used2 = 0;
    cr_assert_eq(http_parse_feed(&hp, s + used, len - used, &used2), HP_MESSAGE);
    cr_assert_eq(used + used2, len);
    cr_assert_eq(hp.req->method, HTTP_DELETE);
    cr_assert_str_eq(hp.req->path, "/d/1");
    cr_assert_eq(hp.req->body.len, 0, "the body of the first is not carried over");
    teardown_hp(&hp);
}

Test(parser, content_length_body)
{
    http_parse hp;
    setup(&hp);
    http_req *req =
        parse_one(&hp, "POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                       "Content-Length: 13\r\n\r\n{\"a\":\"hello\"}");
    cr_assert_eq(req->method, HTTP_POST);
    cr_assert_eq(req->body.len, 13);
    cr_assert_str_eq(req->body.data, "{\"a\":\"hello\"}");
    cr_assert_eq(req->body.max, 1024, "the hook's limit applies to the body");
    http_req_unref(req);
}

Test(parser, content_length_body_split_across_feeds)
{
    const char *s = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
    size_t len = strlen(s);
    http_parse hp;
    setup(&hp);
    size_t off = 0;
    http_parse_result r = HP_MORE;
    const size_t steps[] = {7, 30, 3, 100};
    for (int i = 0; off < len; i++) {
        size_t n = steps[i % 4] < len - off ? steps[i % 4] : len - off;
        size_t used = 0;
        r = http_parse_feed(&hp, s + off, n, &used);
        cr_assert_eq(used, n);
        off += n;
        if (off < len) cr_assert_eq(r, HP_MORE);
    }
    cr_assert_eq(r, HP_MESSAGE);
    cr_assert_str_eq(hp.req->body.data, "0123456789");
    teardown_hp(&hp);
}

Test(parser, chunked_body_decoded)
{
    http_parse hp;
    setup(&hp);
    http_req *req =
        parse_one(&hp, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n"
                       "6;ext=1\r\n world\r\n"
                       "a\r\n0123456789\r\n"
                       "0\r\nX-Trailer: t\r\n\r\n");
    cr_assert_eq(req->body.len, 21);
    cr_assert_str_eq(req->body.data, "hello world0123456789");
    http_req_unref(req);
}

Test(parser, trailers_are_not_merged_into_headers)
{
    http_parse hp;
    setup(&hp);
    http_req *req =
        parse_one(&hp, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n0\r\nHost: evil\r\nCookie: opx_session=x\r\n\r\n");
    cr_assert_str_eq(req->body.data, "abc");
    cr_assert_eq(req->nheaders, 2, "only the header section: %d", req->nheaders);
    cr_assert_str_eq(hdr(req, "host"), "h");
    cr_assert_null(hdr(req, "cookie"), "a trailer must not pose as a header");
    http_req_unref(req);
}

Test(parser, trailers_count_against_the_header_limit)
{
    char s[4096];
    char big[MAX_HDR + 10];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(s, sizeof s,
             "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
             "1\r\na\r\n0\r\nX-T: %s\r\n\r\n",
             big);
    expect_error_str(s, 431);
}

Test(parser, body_exactly_at_limit_is_accepted)
{
    http_parse hp;
    setup(&hp);
    hook_body_max = 4;
    http_req *req = parse_one(&hp, "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd");
    cr_assert_str_eq(req->body.data, "abcd");
    http_req_unref(req);
}

/* ---- limits ----------------------------------------------------------- */

Test(parser, content_length_over_body_max_is_413)
{
    http_parse hp;
    setup(&hp);
    hook_body_max = 16;
    const char *s = "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n";
    expect_error(&hp, s, strlen(s), 413);
}

Test(parser, chunked_over_body_max_is_413)
{
    http_parse hp;
    setup(&hp);
    hook_body_max = 8;
    const char *s = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
    expect_error(&hp, s, strlen(s), 413);
}

Test(parser, body_without_hook_limit_is_413)
{
    /* with no hook, body_max stays 0: any body is refused */
    http_parse hp;
    memset(&hp, 0, sizeof hp);
    http_parse_init(&hp, MAX_URL, MAX_HDR);
    const char *s = "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx";
    expect_error(&hp, s, strlen(s), 413);
}

Test(parser, hook_refusal_status_is_reported)
{
    http_parse hp;
    setup(&hp);
    hook_refuse = 403;
    const char *s = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    expect_error(&hp, s, strlen(s), 403);
}

Test(parser, header_block_over_max_is_431)
{
    char s[4096];
    char big[MAX_HDR + 10];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\n\r\n", big);
    expect_error_str(s, 431);
}

Test(parser, many_small_headers_over_max_is_431)
{
    char s[8192];
    size_t o = (size_t)snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 60; i++)
        o += (size_t)snprintf(s + o, sizeof s - o, "X-H%02d: %s\r\n", i, "0123456789abcdef");
    snprintf(s + o, sizeof s - o, "\r\n");
    expect_error_str(s, 431);
}

Test(parser, too_many_headers_is_431)
{
    char s[8192];
    size_t o = (size_t)snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
        o += (size_t)snprintf(s + o, sizeof s - o, "a%d: b\r\n", i);
    snprintf(s + o, sizeof s - o, "\r\n");
    http_parse hp;
    memset(&hp, 0, sizeof hp);
    hp.on_headers = on_headers;
    http_parse_init(&hp, MAX_URL, 1 << 20); /* only the count limit can trip */
    expect_error(&hp, s, strlen(s), 431);
}

Test(parser, header_block_limit_counts_across_feeds)
{
    char big[MAX_HDR + 10];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char s[4096];
    snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\n\r\n", big);
    http_parse hp;
    setup(&hp);
    size_t len = strlen(s), off = 0;
    http_parse_result r = HP_MORE;
    while (off < len && r == HP_MORE) {
        size_t n = len - off < 10 ? len - off : 10, used = 0;
        r = http_parse_feed(&hp, s + off, n, &used);
        off += used;
    }
    cr_assert_eq(r, HP_ERROR);
    cr_assert_eq(hp.error_status, 431);
    teardown_hp(&hp);
}

Test(parser, url_over_max_is_414)
{
    char s[1024];
    char path[MAX_URL + 2];
    path[0] = '/';
    memset(path + 1, 'a', MAX_URL);
    path[MAX_URL + 1] = '\0';
    snprintf(s, sizeof s, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
    expect_error_str(s, 414);
}

Test(parser, url_at_max_is_accepted)
{
    char s[1024];
    char path[MAX_URL + 1];
    path[0] = '/';
    memset(path + 1, 'a', MAX_URL - 1);
    path[MAX_URL] = '\0';
    snprintf(s, sizeof s, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
    http_parse hp;
    setup(&hp);
    http_req *req = parse_one(&hp, s);
    cr_assert_eq(req->url_len, MAX_URL);
    http_req_unref(req);
}

Test(parser, url_over_max_across_feeds_is_414)
{
    char s[1024];
    char path[MAX_URL + 2];
    path[0] = '/';
    memset(path + 1, 'b', MAX_URL);
    path[MAX_URL + 1] = '\0';
    snprintf(s, sizeof s, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
    http_parse hp;
    setup(&hp);
    size_t len = strlen(s), off = 0;
    http_parse_result r = HP_MORE;
    while (off < len && r == HP_MORE) {
        size_t used = 0;
        r = http_parse_feed(&hp, s + off, len - off < 3 ? len - off : 3, &used);
        off += used;
    }
    cr_assert_eq(r, HP_ERROR);
    cr_assert_eq(hp.error_status, 414);
    teardown_hp(&hp);
}

/* ---- protocol checks ---------------------------------------------------- */

Test(parser, http11_without_host_is_400)
{
    expect_error_str("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
}

Test(parser, more_than_one_host_is_400)
{
    expect_error_str("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_error_str("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nhOST: a\r\n\r\n", 400);
    expect_error_str("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

Test(parser, http10_without_host_is_accepted)
{
    http_parse hp;
    setup(&hp);
    http_req *req = parse_one(&hp, "GET /old HTTP/1.0\r\n\r\n");
    cr_assert_eq(req->http_minor, 0);
    cr_assert_eq(req->keep_alive, 0, "HTTP/1.0 without keep-alive closes");
    http_req_unref(req);
}

Test(parser, expect_100_continue)
{
    http_parse hp;
    setup(&hp);
    http_req *req = parse_one(&hp, "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                                   "Content-Length: 2\r\n\r\nok");
    cr_assert_eq(req->expect_continue, 1);
    cr_assert_str_eq(req->body.data, "ok");
    http_req_unref(req);
}

Test(parser, other_expect_is_417)
{
    expect_error_str("POST /e HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n"
                     "Content-Length: 2\r\n\r\nok",
                     417);
    expect_error_str("POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continuee\r\n\r\n", 417);
    expect_error_str("POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100\r\n\r\n", 417);
}

Test(parser, garbage_is_400)
{
    expect_error_str("HELLO THERE\r\n\r\n", 400);
    expect_error_str("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400); /* a TLS hello */
    expect_error_str("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400);
    expect_error_str("GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    http_parse hp;
    setup(&hp);
    const char bin[] = "\0\0\0\0";
    expect_error(&hp, bin, 4, 400);
}

Test(parser, unsupported_versions)
{
    expect_error_str("GET / HTTP/9.9\r\nHost: h\r\n\r\n", 505);
    expect_error_str("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    expect_error_str("GET / HTTP/0.9\r\n\r\n", 505);
    /* 1.2 is read as 1.1: it needs a Host */
    expect_error_str("GET / HTTP/1.2\r\n\r\n", 400);
    http_parse hp;
    setup(&hp);
    http_req *req = parse_one(&hp, "GET / HTTP/1.2\r\nHost: h\r\n\r\n");
    cr_assert_eq(req->http_minor, 2);
    http_req_unref(req);
}

Test(parser, absolute_form_target_is_read_as_its_path)
{
    http_parse hp;
    setup(&hp);
    http_req *req = parse_one(&hp, "GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_assert_str_eq(req->path, "/a/b");
    cr_assert_str_eq(http_query_get(req, "x"), "1");
    http_req_unref(req);
    req = parse_one(&hp, "GET HTTPS://example.com HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_assert_str_eq(req->path, "/");
    cr_assert_null(req->query);
    http_req_unref(req);
    teardown_hp(&hp);
}

Test(parser, non_origin_form_targets_are_400)
{
    expect_error_str("GET http://example.com?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_error_str("GET ftp://example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_error_str("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_error_str("CONNECT example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_error_str("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

Test(parser, smuggling_shapes_are_400)
{
    expect_error_str("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                     400);
    expect_error_str("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
                     "abcd",
                     400);
    expect_error_str("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
    expect_error_str("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "zz\r\nabc\r\n0\r\n\r\n",
                     400);
}

Test(parser, error_is_sticky)
{
    http_parse hp;
    setup(&hp);
    size_t used = 0;
    cr_assert_eq(http_parse_feed(&hp, "BLAH\r\n\r\n", 8, &used), HP_ERROR);
    int st = hp.error_status;
    const char *ok = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    cr_assert_eq(http_parse_feed(&hp, ok, strlen(ok), &used), HP_ERROR);
    cr_assert_eq(hp.error_status, st);
    teardown_hp(&hp);
}

/* ---- keep-alive ---------------------------------------------------------- */

Test(parser, keep_alive_rules)
{
    struct {
        const char *req;
        int keep;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 1},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1},
        {"GET / HTTP/1.0\r\nHost: h\r\nConnection: close\r\n\r\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_parse hp;
        setup(&hp);
        http_req *req = parse_one(&hp, cases[i].req);
        cr_assert_eq(req->keep_alive, cases[i].keep, "case %zu: %s", i, cases[i].req);
        http_req_unref(req);
    }
}

/* ---- query strings ------------------------------------------------------- */

static http_req *req_for(http_parse *hp, const char *target)
{
    char s[512];
    snprintf(s, sizeof s, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", target);
    setup(hp);
    return parse_one(hp, s);
}

Test(parser, query_percent_decoding)
{
    http_parse hp;
    http_req *req = req_for(&hp, "/s?q=hello%20world&plus=a+b&hex=%41%62%7e&empty=&flag"
                                 "&utf=%C3%A9&bad=%zz1&amp=%26x");
    cr_assert_str_eq(http_query_get(req, "q"), "hello world");
    cr_assert_str_eq(http_query_get(req, "plus"), "a b");
    cr_assert_str_eq(http_query_get(req, "hex"), "Ab~");
    cr_assert_str_eq(http_query_get(req, "empty"), "");
    cr_assert_str_eq(http_query_get(req, "flag"), "");
    cr_assert_str_eq(http_query_get(req, "utf"), "\xc3\xa9");
    cr_assert_str_eq(http_query_get(req, "bad"), "%zz1", "bad escapes stay literal");
    cr_assert_str_eq(http_query_get(req, "amp"), "&x");
    cr_assert_null(http_query_get(req, "missing"));
    cr_assert_null(http_query_get(req, "Q"), "names are case-sensitive");
    cr_assert_null(http_query_get(req, "fla"), "no prefix matches");
    http_req_unref(req);
}

Test(parser, query_first_of_repeated_name)
{
    http_parse hp;
    http_req *req = req_for(&hp, "/s?a=1&a=2");
    cr_assert_str_eq(http_query_get(req, "a"), "1");
    http_req_unref(req);
}

Test(parser, query_trailing_percent_stays_in_bounds)
{
    http_parse hp;
    http_req *req = req_for(&hp, "/s?a=%");
    cr_assert_str_eq(http_query_get(req, "a"), "%");
    http_req_unref(req);

    req = req_for(&hp, "/s?a=%4");
    cr_assert_str_eq(http_query_get(req, "a"), "%4");
    http_req_unref(req);

    req = req_for(&hp, "/s?a=x%4&b=%");
    cr_assert_str_eq(http_query_get(req, "a"), "x%4");
    cr_assert_str_eq(http_query_get(req, "b"), "%");
    http_req_unref(req);

    req = req_for(&hp, "/s?a=%41");
    cr_assert_str_eq(http_query_get(req, "a"), "A", "an escape ending the URL is decoded");
    http_req_unref(req);
}

Test(parser, query_empty_and_odd_shapes)
{
    http_parse hp;
    http_req *req = req_for(&hp, "/s?");
    cr_assert_str_eq(req->path, "/s");
    cr_assert_null(http_query_get(req, "a"));
    http_req_unref(req);

    req = req_for(&hp, "/s?&&a=1&");
    cr_assert_str_eq(http_query_get(req, "a"), "1");
    cr_assert_str_eq(http_query_get(req, ""), "", "an empty pair has an empty name");
    http_req_unref(req);

    req = req_for(&hp, "/s?a==b");
    cr_assert_str_eq(http_query_get(req, "a"), "=b");
    http_req_unref(req);
}

Test(parser, query_get_on_bare_request)
{
    http_req *req = http_req_new(0);
    cr_assert_not_null(req);
    cr_assert_eq(req->refs, 1);
    cr_assert_null(http_query_get(req, "a"));
    cr_assert_null(http_header_get(req, "host", NULL));
    http_req_unref(req);
}
