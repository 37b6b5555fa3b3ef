/* account: the signed-in user's own account: the session probe the web
 * app starts with (GET /auth/session: never 401), the name (PATCH /me) and
 * the password (POST /me/password: other sessions end).
 *
 * GET /auth/session is a public route: it reads the credentials itself,
 * the same way dispatch.c does (Bearer first, else the cookie; the session
 * cache, else the store), and answers a null user instead of a 401. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../services/accounts.h"
#include "../services/session_cache.h"
#include "../http/cookie.h"
#include "api.h"

/* ---- GET /api/v1/auth/session -------------------------------------------------- */

typedef struct {
    http_req *req;
    store_session sess;
    char hash[TOKEN_HASH_HEX];
} probe_state;

static void probe_answer(http_req *req, const store_session *s)
{
    if (!s) {
        http_respond_json(req, 200, json_pack("{s:n,s:n}", "user", "csrf_token"));
        return;
    }
    const store_user *u = &s->user;
    http_respond_json(req, 200,
                      json_pack("{s:o,s:s}", "user",
                                api_user_json(u->id, u->email, u->name, u->role, u->created_at),
                                "csrf_token", s->csrf_token));
}

static void on_probe(void *ctx, int rc)
{
    probe_state *st = ctx;
    http_req *req = st->req;
    if (rc == STORE_OK) session_cache_put(st->hash, &st->sess, clock_mono_ns());
    if (!http_req_cancelled(req)) {
        if (rc == STORE_OK) probe_answer(req, &st->sess);
        else if (rc == STORE_NOTFOUND) probe_answer(req, NULL);
        else api_store_error(req, rc);
    }
    http_req_unref(req);
}

void api_auth_session(http_req *req)
{
    size_t n = 0, tok_len = 0;
    const char *tok = NULL;
    const char *authz = http_header_get(req, "authorization", &n);
    if (authz) {
        if (n >= 7 && strncasecmp(authz, "Bearer ", 7) == 0) {
            tok = authz + 7;
            tok_len = n - 7;
            while (tok_len && *tok == ' ') tok++, tok_len--;
        }
    } else {
        const char *cookies = http_header_get(req, "cookie", &n);
        if (cookies) tok = cookie_find(cookies, n, SESSION_COOKIE, &tok_len);
    }
    if (!tok || !token_valid_shape(tok, tok_len)) {
        probe_answer(req, NULL);
        return;
    }
    probe_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    token_hash_hex(tok, tok_len, st->hash);
    if (session_cache_get(st->hash, clock_now_s(), clock_mono_ns(), &st->sess)) {
        probe_answer(req, &st->sess);
        return;
    }
    api_track(req, store_session_get(APP->store, st->hash, clock_now_s(), &st->sess, req->deadline_ns,
                                     on_probe, st));
}

/* ---- PATCH /api/v1/me ----------------------------------------------------------- */

static const jv_field me_patch_spec[] = {
    {"name", JV_STRING, 0, 1, 100, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    char name[404];
    store_user user;
} rename_state;

static void on_renamed(void *ctx, int rc)
{
    rename_state *st = ctx;
    http_req *req = st->req;
    if (rc == STORE_OK) session_cache_drop_user(st->user.id, NULL); /* cached sessions carry the name */
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            const store_user *u = &st->user;
            http_respond_json(req, 200,
                              json_pack("{s:o}", "user", api_user_json(u->id, u->email, u->name, u->role, u->created_at)));
        }
    }
    http_req_unref(req);
}

void api_me_patch(http_req *req)
{
    json_t *body = http_json_body(req, me_patch_spec);
    if (!body) return;
    jv_errors errs = {.n = 0};
    const char *name = json_string_value(json_object_get(body, "name"));
    if (name) {
        const char *p = name;
        while (*p == ' ') p++;
        if (!*p) jv_add_error(&errs, "name", "must not be blank");
    }
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    rename_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    /* an absent name keeps the current one: the store writes nothing then */
    snprintf(st->name, sizeof st->name, "%s", name ? name : req->auth.name);
    json_decref(body);
    api_track(req, STORE_CALL(APP->store, user_rename, req->auth.id, st->name, clock_now_s(), &st->user,
                              req->deadline_ns, on_renamed, st));
}

/* ---- POST /api/v1/me/password ------------------------------------------------------ */

static const jv_field password_spec[] = {
    {"current_password", JV_STRING, 1, 1, PASSWORD_MAX, NULL, NULL},
    {"new_password", JV_STRING, 1, 1, PASSWORD_MAX, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    char current[PASSWORD_MAX_BYTES + 1];
    char fresh[PASSWORD_MAX_BYTES + 1];
    store_user user;
    char hash[160];
    int ended;
} password_state;

static void password_wipe(password_state *st)
{
    memset(st->current, 0, sizeof st->current);
    memset(st->fresh, 0, sizeof st->fresh);
    memset(st->user.password_hash, 0, sizeof st->user.password_hash);
    memset(st->hash, 0, sizeof st->hash);
}

static int password_limited(http_req *req)
{
    int remaining = 0, retry = 0;
    if (ratelimit_check(APP->password_tries, req->auth.id, (uint64_t)clock_now_ms(), &remaining, &retry)) return 0;
    http_add_header(req, "Retry-After: %d", retry);
    http_add_header(req, "RateLimit-Limit: %d", (int)ratelimit_burst(APP->password_tries));
    http_add_header(req, "RateLimit-Remaining: 0");
    http_add_header(req, "RateLimit-Reset: %d", retry);
    http_problem(req, 429, "rate-limited", "Too Many Requests",
                 "too many wrong current passwords; wait before trying again", NULL);
    return 1;
}

static void on_password_stored(void *ctx, int rc)
{
    password_state *st = ctx;
    http_req *req = st->req;
    password_wipe(st);
    if (rc == STORE_OK) {
        /* the other sessions are gone from the store: forget them here too */
        session_cache_drop_user(req->auth.id, req->auth.session_hash);
        events_close_user(req->auth.id, req->auth.session_hash);
        ratelimit_clear(APP->password_tries, req->auth.id);
    }
    if (!http_req_cancelled(req)) {
        if (rc < 0) api_store_error(req, rc);
        else http_respond_json(req, 200, json_pack("{s:i}", "sessions_ended", st->ended));
    }
    http_req_unref(req);
}

static void on_new_hashed(void *ctx, int rc, const char *hash)
{
    password_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req) || rc != 0) {
        if (!http_req_cancelled(req))
            http_problem(req, 500, "internal", "Internal Server Error", "hashing failed", NULL);
        password_wipe(st);
        http_req_unref(req);
        return;
    }
    snprintf(st->hash, sizeof st->hash, "%s", hash);
    int src = STORE_CALL(APP->store, password_change, req->auth.id, st->hash, req->auth.session_hash, clock_now_s(),
                         &st->ended, req->deadline_ns, on_password_stored, st);
    if (src < 0) {
        password_wipe(st);
        api_store_error(req, src);
        http_req_unref(req);
    }
}

static void on_current_verified(void *ctx, int rc, const char *unused)
{
    (void)unused;
    password_state *st = ctx;
    http_req *req = st->req;
    memset(st->user.password_hash, 0, sizeof st->user.password_hash);
    memset(st->current, 0, sizeof st->current);
    if (http_req_cancelled(req)) goto out;
    if (rc != 0) {
        ratelimit_charge(APP->password_tries, req->auth.id, (uint64_t)clock_now_ms());
        jv_errors errs = {.n = 0};
        jv_add_error(&errs, "current_password", "is not your current password");
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        goto out;
    }
    if (accounts_hash(st->fresh, on_new_hashed, st) < 0) {
        http_add_header(req, "Retry-After: 1");
        http_problem(req, 503, "overloaded", "Service Unavailable", "too many passwords are being hashed; retry shortly",
                     NULL);
        goto out;
    }
    memset(st->fresh, 0, sizeof st->fresh); /* accounts_hash copied it */
    return;
out:
    password_wipe(st);
    http_req_unref(req);
}

static void on_password_user(void *ctx, int rc)
{
    password_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc < 0) {
        api_store_error(req, rc);
        goto out;
    }
    if (accounts_verify(st->user.password_hash, st->current, on_current_verified, st) < 0) {
        http_add_header(req, "Retry-After: 1");
        http_problem(req, 503, "overloaded", "Service Unavailable", "too many passwords are being checked; retry shortly",
                     NULL);
        goto out;
    }
    return;
out:
    password_wipe(st);
    http_req_unref(req);
}

void api_me_password(http_req *req)
{
    json_t *body = http_json_body(req, password_spec);
    if (!body) return;
    json_t *cur = json_object_get(body, "current_password"), *nw = json_object_get(body, "new_password");
    jv_errors errs = {.n = 0};
    if (json_string_length(cur) > PASSWORD_MAX_BYTES)
        jv_add_error(&errs, "current_password", "must be at most %d bytes", PASSWORD_MAX_BYTES);
    accounts_check_password(json_string_value(nw), json_string_length(nw), &errs, "new_password");
    if (!jv_has_error(&errs, "new_password") && json_equal(cur, nw))
        jv_add_error(&errs, "new_password", "must differ from the current password");
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    if (password_limited(req)) {
        json_decref(body);
        return;
    }
    password_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    memcpy(st->current, json_string_value(cur), json_string_length(cur));
    memcpy(st->fresh, json_string_value(nw), json_string_length(nw));
    json_decref(body);
    http_req_ref(req);
    int rc = STORE_CALL(APP->store, user_get, req->auth.id, &st->user, req->deadline_ns, on_password_user, st);
    if (rc < 0) {
        password_wipe(st);
        api_store_error(req, rc);
        http_req_unref(req);
    }
}
