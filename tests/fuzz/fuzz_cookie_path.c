/* fuzz_cookie_path: libFuzzer target for the small parsers that read
 * untrusted header and URL text: cookie_find (Cookie header),
 * static_clean_path (URL path to file name), trace_parse (traceparent),
 * http_query_get (query string), router_match (path), plus the checks
 * that go with them (token shape, email rules, content types). Every
 * input is copied to an exact-size heap buffer with no terminating NUL,
 * so a read past the end is an AddressSanitizer report. */
#include "core/jsonv.h"
#include "core/token.h"
#include "services/accounts.h"
#include "http/cookie.h"
#include "http/parser.h"
#include "http/router.h"
#include "http/static.h"
#include "http/trace.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "fuzz_cookie_path: invariant broken: %s\n", what);
    abort();
}

static void h(http_req *req)
{
    (void)req;
}

static const route table[] = {
    {HTTP_GET, "/", h, 0, 0, 0},
    {HTTP_GET, "/api/v1/projects", h, 0, 0, 0},
    {HTTP_POST, "/api/v1/projects", h, 0, 0, 0},
    {HTTP_GET, "/api/v1/projects/{id}", h, 0, 0, 0},
    {HTTP_PATCH, "/api/v1/projects/{id}", h, 0, 0, 0},
    {HTTP_POST, "/api/v1/projects/{id}/milestones/{mid}/submit", h, 0, 0, 0},
    {HTTP_GET, "/a/{p1}/{p2}/{p3}/{p4}/{p5}", h, 0, 0, 0},
};

static void fuzz_cookie(const char *s, size_t n)
{
    static const char *const names[] = {SESSION_COOKIE, "a", "opx_csrf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t vl = 0;
        const char *v = cookie_find(s, n, names[i], &vl);
        if (!v) continue;
        if (v < s || v > s + n || vl > n || v + vl > s + n) die("cookie value outside the header");
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"' && v > s && v[-1] != '"')
            die("quotes not stripped");
    }
}

static int is_dot_segment(const char *seg, size_t n)
{
    return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

static void fuzz_clean_path(const char *s, size_t n)
{
    char out[512];
    memset(out, 0x55, sizeof out);
    if (static_clean_path(s, n, out, sizeof out) < 0) return;
    size_t o = strnlen(out, sizeof out);
    if (o == sizeof out) die("clean path not terminated");
    if (o == 0 || out[0] != '/') die("clean path does not start with '/'");
    if (o > n) die("clean path longer than its input");
    if (strchr(out, '\\')) die("backslash in a clean path");
    /* no empty, "." or ".." segment, except an empty last one ("/dir/") */
    const char *seg = out + 1;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
        if (is_dot_segment(seg, sl)) die("dot segment in a clean path");
        if (sl == 0 && slash) die("empty segment in a clean path");
        if (!slash) break;
        seg = slash + 1;
    }
    (void)static_content_type(out);
}

static void fuzz_trace(const char *s, size_t n)
{
    char t[33], p[17], f[3];
    if (!trace_parse(s, n, t, p, f)) return;
    if (n != 55) die("traceparent of the wrong length accepted");
    char again[64];
    snprintf(again, sizeof again, "00-%s-%s-%s", t, p, f);
    if (memcmp(again, s, 55) != 0) die("traceparent fields do not round-trip");
    if (strspn(t, "0") == 32 || strspn(p, "0") == 16) die("all-zero id accepted");
    if (strspn(t, "0123456789abcdef") != 32 || strspn(p, "0123456789abcdef") != 16 ||
        strspn(f, "0123456789abcdef") != 2)
        die("non-lowercase-hex accepted");
}

static void fuzz_query(const char *s, size_t n)
{
    http_req *req = http_req_new(0);
    if (!req) return;
    /* the url is an exact-size heap copy with no NUL after it */
    char *url = malloc(n ? n : 1);
    if (!url) {
        http_req_unref(req);
        return;
    }
    memcpy(url, s, n);
    req->url = url;
    req->url_len = n;
    const char *q = memchr(url, '?', n);
    req->query = q ? (char *)q + 1 : url;
    static const char *const names[] = {"a", "q", "", "page", "%"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = http_query_get(req, names[i]);
        if (v && strlen(v) > n) die("decoded value longer than the query");
    }
    /* the first name present, whatever it is */
    const char *end = url + n, *k = req->query, *e = k;
    while (e < end && *e != '=' && *e != '&')
        e++;
    char name[128];
    size_t nl = (size_t)(e - k) < sizeof name - 1 ? (size_t)(e - k) : sizeof name - 1;
    memcpy(name, k, nl);
    name[nl] = '\0';
    if (k < end && nl == (size_t)(e - k) && !memchr(name, '\0', nl)) {
        const char *v = http_query_get(req, name);
        if (!v) die("the first query name was not found");
    }
    req->url = NULL;
    req->query = NULL;
    free(url);
    http_req_unref(req);
}

static void fuzz_route(const char *s, size_t n, unsigned method)
{
    http_req *req = http_req_new(0);
    if (!req) return;
    char *path = malloc(n ? n : 1);
    if (!path) {
        http_req_unref(req);
        return;
    }
    memcpy(path, s, n);
    req->path = path;
    req->path_len = n;
    req->method = method;
    char allow[64];
    int r = router_match(table, (int)(sizeof table / sizeof table[0]), req, allow, sizeof allow);
    if (r >= 0) {
        if (r >= (int)(sizeof table / sizeof table[0])) die("route index out of range");
        if (req->nparams < 0 || req->nparams > HTTP_MAX_PARAMS) die("nparams");
        for (int i = 0; i < req->nparams && !memchr(s, '\0', n); i++)
            if (!req->params[i].value[0] || strchr(req->params[i].value, '/'))
                die("empty parameter or '/' inside one");
    } else if (r == ROUTER_BAD_METHOD) {
        if (strnlen(allow, sizeof allow) >= sizeof allow) die("allow not terminated");
    } else if (r != ROUTER_NOT_FOUND) {
        die("router_match result");
    }
    req->path = NULL;
    free(path);
    http_req_unref(req);
}

static void fuzz_terminated(const char *s, size_t n)
{
    /* the functions that take C strings get a terminated copy */
    char str[300];
    size_t m = n < sizeof str - 1 ? n : sizeof str - 1;
    memcpy(str, s, m);
    str[m] = '\0';
    (void)static_content_type(str);
    char cookie[128];
    int rc = cookie_format(cookie, sizeof cookie, SESSION_COOKIE, str, 3600, n & 1);
    if (rc != 0 && rc != -1) die("cookie_format result");
    if (!memchr(cookie, '\0', sizeof cookie)) die("cookie_format output not terminated");
    (void)token_valid_shape(s, n);
    (void)token_equal(s, n, str, m);
    jv_errors e = {.n = 0};
    if (accounts_normalize_email(str, &e, "email") == 0) {
        const char *at = strchr(str, '@');
        if (!at || strchr(at + 1, '@')) die("accepted email without exactly one '@'");
        for (const char *c = str; *c; c++)
            if (*c >= 'A' && *c <= 'Z') die("accepted email not lowercased");
    } else if (e.n != 1) {
        die("rejected email without an error");
    }
    jv_errors pe = {.n = 0};
    if (accounts_check_password(s, n, &pe, "password") != 0 && pe.n != 1)
        die("rejected password without an error");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s) return 0;
    memcpy(s, data, size);
    fuzz_cookie(s, size);
    fuzz_clean_path(s, size);
    fuzz_trace(s, size);
    fuzz_query(s, size);
    fuzz_route(s, size, size && (s[0] & 1) ? HTTP_POST : HTTP_GET);
    fuzz_terminated(s, size);
    free(s);
    return 0;
}
