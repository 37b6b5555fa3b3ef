/* test_token_cookie: secrets and what carries them.
 * token: shape, alphabet, uniqueness, hashing, constant-time equality,
 * ids. cookie: finding the session cookie in a Cookie header (spacing,
 * quotes, look-alike names) and formatting Set-Cookie. trace: strict
 * W3C traceparent parsing and a request's ids. */
#include "core/token.h"
#include "http/cookie.h"
#include "http/parser.h"
#include "http/trace.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void init_sodium(void)
{
    cr_assert_eq(token_init(), 0);
}

static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int is_lowhex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* ---- token ---------------------------------------------------------------- */

Test(token, new_has_shape, .init = init_sodium)
{
    char t[TOKEN_STR_LEN + 1];
    memset(t, '!', sizeof t);
    token_new(t);
    cr_assert_eq(strlen(t), TOKEN_STR_LEN);
    for (size_t i = 0; i < TOKEN_STR_LEN; i++)
        cr_assert(is_b64url(t[i]), "char %zu: %c", i, t[i]);
    cr_assert(token_valid_shape(t, strlen(t)));
}

Test(token, new_is_unique, .init = init_sodium)
{
    enum { N = 2000 };
    static char toks[N][TOKEN_STR_LEN + 1];
    for (int i = 0; i < N; i++)
        token_new(toks[i]);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            cr_assert_str_neq(toks[i], toks[j]);
}

Test(token, valid_shape_rejects)
{
    char ok[TOKEN_STR_LEN + 2];
    memset(ok, 'A', TOKEN_STR_LEN);
    ok[TOKEN_STR_LEN] = '\0';
    cr_assert(token_valid_shape(ok, TOKEN_STR_LEN));
    cr_assert_not(token_valid_shape(ok, TOKEN_STR_LEN - 1), "too short");
    ok[TOKEN_STR_LEN] = 'A';
    ok[TOKEN_STR_LEN + 1] = '\0';
    cr_assert_not(token_valid_shape(ok, TOKEN_STR_LEN + 1), "too long");
    cr_assert_not(token_valid_shape("", 0));
    const char bad[] = {'+', '/', '=', ' ', '.', '\0', '%', '\x80', '"', ';'};
    for (size_t i = 0; i < sizeof bad; i++) {
        char t[TOKEN_STR_LEN + 1];
        memset(t, 'a', TOKEN_STR_LEN);
        t[TOKEN_STR_LEN] = '\0';
        t[i * 4] = bad[i];
        cr_assert_not(token_valid_shape(t, TOKEN_STR_LEN), "char 0x%02x accepted",
                      (unsigned char)bad[i]);
    }
    char t[TOKEN_STR_LEN + 1];
    memset(t, '-', TOKEN_STR_LEN);
    t[TOKEN_STR_LEN - 1] = '_';
    cr_assert(token_valid_shape(t, TOKEN_STR_LEN), "- and _ are base64url");
}

Test(token, hash_hex_is_deterministic, .init = init_sodium)
{
    char a[TOKEN_HASH_HEX], b[TOKEN_HASH_HEX], c[TOKEN_HASH_HEX];
    token_hash_hex("some-token", 10, a);
    token_hash_hex("some-token", 10, b);
    token_hash_hex("some-tokem", 10, c);
    cr_assert_eq(strlen(a), 64);
    cr_assert(is_lowhex(a, 64));
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    /* the length matters, not just a prefix */
    token_hash_hex("some-token", 9, c);
    cr_assert_str_neq(a, c);
    /* BLAKE2b-256 of the empty string */
    token_hash_hex("", 0, c);
    cr_assert_str_eq(c, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

Test(token, equal)
{
    cr_assert(token_equal("abc", 3, "abc", 3));
    cr_assert_not(token_equal("abc", 3, "abd", 3));
    cr_assert_not(token_equal("abc", 3, "abcd", 4));
    cr_assert_not(token_equal("abcd", 4, "abc", 3));
    cr_assert(token_equal("", 0, "", 0));
    cr_assert_not(token_equal("a", 1, "", 0));
}

Test(token, ids, .init = init_sodium)
{
    char a[ID_STR_MAX], b[ID_STR_MAX];
    id_new("usr", a);
    id_new("usr", b);
    cr_assert_eq(strncmp(a, "usr_", 4), 0, "%s", a);
    cr_assert_str_neq(a, b);
    cr_assert_lt(strlen(a), ID_STR_MAX);
    cr_assert_gt(strlen(a), 4 + 15, "enough randomness: %s", a);
    for (size_t i = 4; a[i]; i++)
        cr_assert((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'z'), "%s", a);
    /* a long prefix never overflows */
    id_new("averyveryverylongprefix", a);
    cr_assert_lt(strlen(a), ID_STR_MAX);
}

/* ids begin with the time: later ids sort after earlier ones, and ids of
 * one millisecond still differ in their random part */
Test(token, ids_sort_by_time, .init = init_sodium)
{
    char a[ID_STR_MAX], b[ID_STR_MAX];
    id_new("ltx", a);
    struct timespec pause = {0, 3000000};
    nanosleep(&pause, NULL);
    id_new("ltx", b);
    cr_assert_lt(strncmp(a, b, 4 + ID_TIME_CHARS), 0, "%s then %s", a, b);
    cr_assert_eq(strlen(a), 4 + 20);
    char seen[64][ID_STR_MAX];
    for (int i = 0; i < 64; i++) {
        id_new("ltx", seen[i]);
        for (int j = 0; j < i; j++) cr_assert_str_neq(seen[i], seen[j]);
        if (i) cr_assert_leq(strncmp(seen[i - 1], seen[i], 4 + ID_TIME_CHARS), 0);
    }
}

Test(token, hex, .init = init_sodium)
{
    char a[65], b[65];
    token_hex(a, 8);
    cr_assert_eq(strlen(a), 16);
    cr_assert(is_lowhex(a, 16));
    token_hex(a, 16);
    token_hex(b, 16);
    cr_assert_eq(strlen(a), 32);
    cr_assert_str_neq(a, b);
}

/* ---- cookie --------------------------------------------------------------- */

static const char *find(const char *header, const char *name)
{
    static char out[256];
    size_t vl = 999;
    const char *v = cookie_find(header, strlen(header), name, &vl);
    if (!v) return NULL;
    cr_assert_lt(vl, sizeof out);
    snprintf(out, sizeof out, "%.*s", (int)vl, v);
    return out;
}

Test(cookie, find_basic)
{
    cr_assert_str_eq(find("opx_session=abc", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find("a=1; opx_session=abc; b=2", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find("a=1;opx_session=abc;b=2", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find("a=1; b=2", "b"), "2");
    cr_assert_str_eq(find("a=x=y", "a"), "x=y", "'=' inside a value is kept");
}

Test(cookie, find_with_spaces)
{
    cr_assert_str_eq(find("  opx_session=abc  ", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find("a=1 ;  opx_session = abc ; b=2", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find("\topx_session=abc\t", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find(";;; opx_session=abc;;", SESSION_COOKIE), "abc");
}

Test(cookie, find_with_quotes)
{
    cr_assert_str_eq(find("opx_session=\"abc\"", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find("a=1; opx_session=\"abc\" ; b=2", SESSION_COOKIE), "abc");
    cr_assert_str_eq(find("opx_session=\"\"", SESSION_COOKIE), "");
    cr_assert_str_eq(find("opx_session=\"", SESSION_COOKIE), "\"", "a lone quote is not a pair");
}

Test(cookie, look_alike_names_do_not_match)
{
    cr_assert_null(find("xopx_session=evil", SESSION_COOKIE));
    cr_assert_null(find("opx_sessionx=evil", SESSION_COOKIE));
    cr_assert_null(find("opx_session_old=evil", SESSION_COOKIE));
    cr_assert_null(find("OPX_SESSION=evil", SESSION_COOKIE), "names are case-sensitive");
    cr_assert_null(find("a=opx_session=evil", SESSION_COOKIE), "inside a value is not a name");
    cr_assert_str_eq(find("xopx_session=evil; opx_session=good", SESSION_COOKIE), "good");
    cr_assert_str_eq(find("opx_sessio=evil; opx_session=good", SESSION_COOKIE), "good");
}

Test(cookie, find_missing_and_odd)
{
    cr_assert_null(find("", SESSION_COOKIE));
    cr_assert_null(find("a=1; b=2", SESSION_COOKIE));
    cr_assert_null(find("opx_session", SESSION_COOKIE), "a name without '=' has no value");
    cr_assert_null(find(";;;;", SESSION_COOKIE));
    cr_assert_str_eq(find("opx_session; opx_session=v", SESSION_COOKIE), "v");
    cr_assert_str_eq(find("junk; opx_session=v", SESSION_COOKIE), "v");
    cr_assert_str_eq(find("opx_session=", SESSION_COOKIE), "");
    cr_assert_str_eq(find("opx_session=first; opx_session=second", SESSION_COOKIE), "first");
}

Test(cookie, find_respects_length)
{
    /* the header is not NUL-terminated where len says it ends */
    const char h[] = "a=1; opx_session=abcdef";
    size_t vl = 0;
    const char *v = cookie_find(h, strlen(h) - 3, SESSION_COOKIE, &vl);
    cr_assert_not_null(v);
    cr_assert_eq(vl, 3);
    cr_assert_eq(strncmp(v, "abc", 3), 0);
    cr_assert_null(cookie_find(h, 10, SESSION_COOKIE, &vl), "a cut name does not match");
    cr_assert_null(cookie_find(h, 0, SESSION_COOKIE, &vl));
}

Test(cookie, format_session)
{
    char out[256];
    cr_assert_eq(cookie_format(out, sizeof out, SESSION_COOKIE, "tok123", 3600, 0), 0);
    cr_assert_eq(strncmp(out, "opx_session=tok123;", 19), 0, "%s", out);
    cr_assert_not_null(strstr(out, "; HttpOnly"), "%s", out);
    cr_assert_not_null(strstr(out, "; SameSite=Lax"), "%s", out);
    cr_assert_not_null(strstr(out, "; Max-Age=3600"), "%s", out);
    cr_assert_not_null(strstr(out, "; Path=/"), "%s", out);
    cr_assert_null(strstr(out, "Secure"), "%s", out);
    cr_assert_null(strstr(out, "Expires"), "%s", out);

    cr_assert_eq(cookie_format(out, sizeof out, SESSION_COOKIE, "tok123", 60, 1), 0);
    cr_assert_not_null(strstr(out, "; Secure"), "%s", out);
    cr_assert_not_null(strstr(out, "; HttpOnly"), "%s", out);
    cr_assert_not_null(strstr(out, "; Max-Age=60"), "%s", out);
}

Test(cookie, format_delete)
{
    char out[256];
    cr_assert_eq(cookie_format(out, sizeof out, SESSION_COOKIE, "tok123", 0, 0), 0);
    cr_assert_eq(strncmp(out, "opx_session=;", 13), 0, "the value is dropped: %s", out);
    cr_assert_not_null(strstr(out, "Max-Age=0"), "%s", out);
    cr_assert_null(strstr(out, "tok123"));
    cr_assert_eq(cookie_format(out, sizeof out, SESSION_COOKIE, "tok123", -5, 0), 0);
    cr_assert_not_null(strstr(out, "Max-Age=0"), "negative ages delete too: %s", out);
}

Test(cookie, format_too_small)
{
    char out[20];
    cr_assert_eq(cookie_format(out, sizeof out, SESSION_COOKIE, "tok123", 3600, 1), -1);
}

Test(cookie, format_then_find_round_trip, .init = init_sodium)
{
    char tok[TOKEN_STR_LEN + 1], sc[256];
    token_new(tok);
    cr_assert_eq(cookie_format(sc, sizeof sc, SESSION_COOKIE, tok, 100, 1), 0);
    /* a browser sends back name=value, the part before the first ';' */
    size_t pair = (size_t)(strchr(sc, ';') - sc);
    size_t vl = 0;
    const char *v = cookie_find(sc, pair, SESSION_COOKIE, &vl);
    cr_assert_not_null(v);
    cr_assert_eq(vl, TOKEN_STR_LEN);
    cr_assert_eq(memcmp(v, tok, vl), 0);
}

/* ---- trace ---------------------------------------------------------------- */

#define TP_OK "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static int tp(const char *s)
{
    char t[33], p[17], f[3];
    return trace_parse(s, strlen(s), t, p, f);
}

Test(trace, parse_valid)
{
    char t[33], p[17], f[3];
    cr_assert_eq(trace_parse(TP_OK, strlen(TP_OK), t, p, f), 1);
    cr_assert_str_eq(t, "4bf92f3577b34da6a3ce929d0e0e4736");
    cr_assert_str_eq(p, "00f067aa0ba902b7");
    cr_assert_str_eq(f, "01");
    cr_assert_eq(tp("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"), 1);
}

Test(trace, parse_rejects)
{
    const char *bad[] = {
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", /* zero span id */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", /* uppercase */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", /* version */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", /* lengths */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", /* separators */
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", /* non-hex */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7- 1",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(tp(bad[i]), 0, "accepted: '%s'", bad[i]);
}

static http_req *req_with(const char *headers)
{
    char s[512];
    snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n", headers);
    http_parse hp;
    memset(&hp, 0, sizeof hp);
    http_parse_init(&hp, 1024, 4096);
    size_t used = 0;
    cr_assert_eq(http_parse_feed(&hp, s, strlen(s), &used), HP_MESSAGE);
    return hp.req;
}

Test(trace, begin_keeps_incoming_trace, .init = init_sodium)
{
    http_req *req = req_with("traceparent: " TP_OK "\r\nX-Request-Id: abc-123\r\n");
    trace_begin(req);
    cr_assert_str_eq(req->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    cr_assert_str_eq(req->parent_span_id, "00f067aa0ba902b7");
    cr_assert_str_eq(req->trace_flags, "01");
    cr_assert_eq(strlen(req->span_id), 16);
    cr_assert(is_lowhex(req->span_id, 16));
    cr_assert_str_neq(req->span_id, "00f067aa0ba902b7", "our span is new");
    cr_assert_str_eq(req->request_id, "abc-123");
    char out[64];
    trace_format(req, out);
    cr_assert_eq(strlen(out), 55);
    cr_assert_eq(strncmp(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36), 0, "%s", out);
    cr_assert_eq(tp(out), 1, "what we send out parses: %s", out);
    http_req_unref(req);
}

Test(trace, begin_starts_new_trace, .init = init_sodium)
{
    http_req *req =
        req_with("traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n"
                 "X-Request-Id: bad id with spaces\r\n");
    trace_begin(req);
    cr_assert_eq(strlen(req->trace_id), 32);
    cr_assert(is_lowhex(req->trace_id, 32));
    cr_assert_str_neq(req->trace_id, "00000000000000000000000000000000");
    cr_assert_str_eq(req->parent_span_id, "");
    cr_assert_str_eq(req->trace_flags, "01");
    cr_assert_str_neq(req->request_id, "bad id with spaces");
    cr_assert_gt(strlen(req->request_id), 0);
    char out[64];
    trace_format(req, out);
    cr_assert_eq(tp(out), 1, "%s", out);
    http_req_unref(req);
}
