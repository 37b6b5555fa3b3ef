/* dispatch: the one place where a request's caller is established and
 * checked against the route's roles, before any handler runs.
 *
 * Credentials are a Bearer token or the session cookie. A token is looked
 * up by its hash (the store never sees tokens). Cookie-authenticated
 * unsafe methods must also carry X-CSRF-Token equal to the session's CSRF
 * token (constant-time compare); Bearer requests need none, since a
 * browser never attaches them on its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../services/session_cache.h"
#include "../http/cookie.h"
#include "api.h"

typedef struct {
    http_req *req;
    store_session sess;
    char hash[TOKEN_HASH_HEX];
} auth_state;

json_t *api_time_json(int64_t t)
{
    if (!t) return json_null();
    char b[32];
    clock_rfc3339(t, b);
    return json_string(b);
}

void api_page_params(http_req *req, jv_errors *errs, long dflt, long max, const char *name, char prefix, long *limit,
                     long long *cursor)
{
    *limit = dflt;
    const char *lim = http_query_get(req, "limit");
    if (lim) {
        char *end = NULL;
        *limit = strtol(lim, &end, 10);
        if (*lim < '0' || *lim > '9' || *end || *limit < 1 || *limit > max)
            jv_add_error(errs, "limit", "must be 1 to %ld", max);
    }
    *cursor = 0;
    const char *cur = http_query_get(req, name);
    if (cur) {
        char *end = NULL;
        *cursor = cur[0] == prefix && cur[1] >= '1' && cur[1] <= '9' ? strtoll(cur + 1, &end, 10) : 0;
        if (*cursor <= 0 || !end || *end) jv_add_error(errs, name, "is not a cursor this server gave out");
    }
}

void api_respond_page(http_req *req, json_t *items, int more, char prefix, long long cursor)
{
    json_t *next = json_null();
    if (more) {
        char cur[32];
        snprintf(cur, sizeof cur, "%c%lld", prefix, cursor);
        next = json_string(cur);
    }
    http_respond_json(req, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

void api_store_error(http_req *req, int rc)
{
    if (rc == STORE_BUSY || rc == STORE_TIMEOUT || rc == STORE_CLOSED || rc == STORE_UNAVAILABLE) {
        http_add_header(req, "Retry-After: 1");
        http_problem(req, 503, "unavailable", "Service Unavailable",
                     rc == STORE_TIMEOUT       ? "the database did not answer before the deadline"
                     : rc == STORE_UNAVAILABLE ? "the database cannot be reached; retry shortly"
                                               : "the database is overloaded; retry shortly",
                     NULL);
        return;
    }
    http_problem(req, 500, "internal", "Internal Server Error", "the database failed", NULL);
}

/* a 409 for a refused vetting move, with what the caller needs to know */
void api_vetting_conflict(http_req *req, const store_vet_result *res)
{
    json_t *p = json_object();
    const char *slug = "wrong-state", *detail = NULL;
    char why[160];
    switch (res->reason) {
    case VET_PROFILE_INCOMPLETE:
        slug = "profile-incomplete";
        detail = "complete your profile (PUT /api/v1/me/profile) first";
        break;
    case VET_ATTEMPT_OPEN:
        slug = "attempt-open";
        detail = "an attempt is still open; submit it or let it expire";
        json_object_set_new(p, "attempt_id", json_string(res->open_attempt_id));
        break;
    case VET_ATTEMPT_LIMIT:
        slug = "attempt-limit";
        detail = "at most 3 attempts in 30 days";
        json_object_set_new(p, "next_attempt_at", api_time_json(res->next_attempt_at));
        break;
    case VET_ATTEMPT_CLOSED:
        slug = "attempt-closed";
        detail = "this attempt was already submitted or has expired";
        break;
    case VET_INVITATION_CLOSED:
        snprintf(why, sizeof why, "this invitation is no longer open: it is %s", res->status);
        detail = why;
        break;
    default:
        snprintf(why, sizeof why, "not allowed while the engineer is %s", res->status);
        detail = why;
        if (res->next_attempt_at) json_object_set_new(p, "next_attempt_at", api_time_json(res->next_attempt_at));
    }
    /* the vetting state goes under "state": "status" is the HTTP status (RFC 9457) */
    if (res->status[0]) json_object_set_new(p, "state", json_string(res->status));
    char type[64];
    snprintf(type, sizeof type, "urn:opx:problem:%s", slug);
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string("Conflict"));
    json_object_set_new(p, "status", json_integer(409));
    json_object_set_new(p, "detail", json_string(detail));
    json_object_set_new(p, "instance", json_stringn(req->path, req->path_len));
    json_object_set_new(p, "request_id", json_string(req->request_id));
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    http_add_header(req, "Cache-Control: no-store");
    http_respond(req, 409, "application/problem+json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
}

api_call *api_call_new(http_req *req, size_t out_size)
{
    api_call *c = arena_alloc(&req->arena, sizeof *c);
    if (!c || !(c->out = calloc(1, out_size))) {
        api_store_error(req, STORE_BUSY);
        return NULL;
    }
    c->req = req;
    c->limit = 0;
    return c;
}

void api_call_track(api_call *c, int rc)
{
    api_track(c->req, rc);
    if (rc < 0) {
        free(c->out);
        c->out = NULL;
    }
}

void api_call_end(api_call *c)
{
    free(c->out);
    c->out = NULL;
    http_req_unref(c->req);
}

static void unauthorized(http_req *req, const char *detail)
{
    http_add_header(req, "WWW-Authenticate: Bearer realm=\"opx\"");
    http_problem(req, 401, "unauthorized", "Unauthorized", detail, NULL);
}

static int unsafe_method(unsigned m)
{
    return !(m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS);
}

/* The caller is known: check the route's roles and CSRF, then run it. */
static void authorize(http_req *req, const char *hash, const store_session *sess)
{
    http_auth *a = &req->auth;
    const store_user *u = &sess->user;
    memcpy(a->id, u->id, sizeof a->id);
    memcpy(a->email, u->email, sizeof a->email);
    memcpy(a->name, u->name, sizeof a->name);
    memcpy(a->role, u->role, sizeof a->role);
    a->created_at = u->created_at;
    a->role_bit = router_role_bit(u->role);
    memcpy(a->session_hash, hash, sizeof a->session_hash);
    memcpy(a->csrf, sess->csrf_token, sizeof a->csrf);
    req->authed = 1;
    if (!(req->route->roles & a->role_bit)) {
        http_problem(req, 403, "forbidden", "Forbidden", "your role may not use this resource", NULL);
        return;
    }
    if (a->via_cookie && unsafe_method(req->method)) {
        size_t n = 0;
        const char *csrf = http_header_get(req, "x-csrf-token", &n);
        if (!csrf || !token_equal(csrf, n, a->csrf, strlen(a->csrf))) {
            http_problem(req, 403, "csrf", "Forbidden",
                         "cookie-authenticated changes need the X-CSRF-Token header from GET /api/v1/me",
                         NULL);
            return;
        }
    }
    req->route->handler(req);
}

static void on_session(void *ctx, int rc)
{
    auth_state *st = ctx;
    http_req *req = st->req;
    if (rc == STORE_OK) session_cache_put(st->hash, &st->sess, clock_mono_ns());
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_NOTFOUND) {
        unauthorized(req, "the session is unknown or has expired; sign in again");
        goto out;
    }
    if (rc < 0) {
        api_store_error(req, rc);
        goto out;
    }
    authorize(req, st->hash, &st->sess);
out:
    http_req_unref(req);
}

void api_dispatch(http_req *req)
{
    const route *r = req->route;
    if ((r->flags & ROUTE_TEST_ONLY) && !APP->cfg.test_clock) {
        http_problem(req, 404, "not-found", "Not Found", "no such resource", NULL);
        return;
    }
    if (!r->roles) {
        r->handler(req);
        return;
    }
    size_t n = 0;
    const char *tok = NULL;
    size_t tok_len = 0;
    int via_cookie = 0;
    const char *authz = http_header_get(req, "authorization", &n);
    if (authz) {
        if (n < 7 || strncasecmp(authz, "Bearer ", 7) != 0) {
            unauthorized(req, "the Authorization header must be 'Bearer <token>'");
            return;
        }
        tok = authz + 7;
        tok_len = n - 7;
        while (tok_len && *tok == ' ') tok++, tok_len--;
    } else {
        const char *cookies = http_header_get(req, "cookie", &n);
        if (cookies) tok = cookie_find(cookies, n, SESSION_COOKIE, &tok_len);
        via_cookie = tok != NULL;
    }
    if (!tok) {
        unauthorized(req, "sign in first: send a Bearer token or the session cookie");
        return;
    }
    if (!token_valid_shape(tok, tok_len)) {
        unauthorized(req, "the session is unknown or has expired; sign in again");
        return;
    }
    auth_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    req->auth.via_cookie = via_cookie;
    token_hash_hex(tok, tok_len, st->hash);
    if (session_cache_get(st->hash, clock_now_s(), clock_mono_ns(), &st->sess)) {
        authorize(req, st->hash, &st->sess);
        return;
    }
    http_req_ref(req);
    int rc = store_session_get(APP->store, st->hash, clock_now_s(), &st->sess, req->deadline_ns,
                               on_session, st);
    if (rc < 0) {
        http_req_unref(req);
        api_store_error(req, rc);
    }
}

/* the server's own paths, whatever their case: under them an unknown path is
 * a 404 problem, never the web app's page (/API/V1/ME, /healthz/x) */
static int is_server_path(const char *p, size_t n)
{
    static const char *const roots[] = {"api", "healthz", "readyz", "metrics"};
    if (n < 2 || p[0] != '/') return 0;
    const char *seg = p + 1;
    size_t len = 0;
    while (1 + len < n && seg[len] != '/') len++;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
        if (strlen(roots[i]) == len && strncasecmp(seg, roots[i], len) == 0) return 1;
    return 0;
}

void api_fallback(http_req *req)
{
    if (is_server_path(req->path, req->path_len)) {
        http_problem(req, 404, "not-found", "Not Found", "no such resource", NULL);
        return;
    }
    static_serve(APP->web, req);
}
