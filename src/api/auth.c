/* auth: register, login, logout and /me.
 *
 * Login failures are uniform: an unknown email and a wrong password get the
 * same 401 after the same argon2 work. They are also slowed: each attempt
 * takes a token from the caller's IP bucket and from the account's bucket
 * before its password is checked, so concurrent guesses never outnumber
 * the tokens; an empty bucket answers 429 with Retry-After and RateLimit-*
 * headers. An attempt that checked no wrong password gives its tokens
 * back, and a success refills the account. The buckets are keyed by a
 * hash of the IP and of the email, and a failure is told to the other
 * nodes (a store notice, "login:<node>:<ip>:<account>"), which charge the
 * same buckets: N nodes allow what one does, not N times it. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../services/accounts.h"
#include "../services/session_cache.h"
#include "../http/cookie.h"
#include "api.h"

json_t *api_user_json(const char *id, const char *email, const char *name, const char *role,
                      int64_t created_at)
{
    char ts[32];
    clock_rfc3339(created_at, ts);
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", id, "email", email, "name", name, "role", role,
                     "created_at", ts);
}

static void hash_busy(http_req *req)
{
    http_add_header(req, "Retry-After: 1");
    http_problem(req, 503, "overloaded", "Service Unavailable",
                 "too many sign-ins are being processed; retry shortly", NULL);
}

/* ---- register ----------------------------------------------------------- */

static const char *const register_roles[] = {"client", "engineer", NULL};
static const jv_field register_spec[] = {
    {"email", JV_STRING, 1, 3, 254, NULL, NULL},
    {"password", JV_STRING, 1, 1, PASSWORD_MAX, NULL, NULL},
    {"name", JV_STRING, 1, 1, 100, NULL, NULL},
    {"role", JV_STRING, 1, 0, 0, register_roles, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    store_user user;
} register_state;

static void on_user_created(void *ctx, int rc)
{
    register_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_CONFLICT) {
        jv_errors errs = {.n = 0};
        jv_add_error(&errs, "email", "is already registered");
        http_problem(req, 409, "email-taken", "Conflict", "an account with this email exists",
                     &errs);
    } else if (rc < 0) {
        api_store_error(req, rc);
    } else {
        store_user *u = &st->user;
        http_respond_json(req, 201,
                          json_pack("{s:o}", "user",
                                    api_user_json(u->id, u->email, u->name, u->role, u->created_at)));
    }
out:
    memset(st->user.password_hash, 0, sizeof st->user.password_hash);
    http_req_unref(req);
}

static void on_register_hashed(void *ctx, int rc, const char *hash)
{
    register_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) { /* cancelled: nothing is written */
        http_req_unref(req);
        return;
    }
    if (rc != 0) {
        http_problem(req, 500, "internal", "Internal Server Error", "hashing failed", NULL);
        http_req_unref(req);
        return;
    }
    snprintf(st->user.password_hash, sizeof st->user.password_hash, "%s", hash);
    int src = store_user_create(APP->store, &st->user, req->client_ip, req->deadline_ns,
                                on_user_created, st);
    if (src < 0) {
        api_store_error(req, src);
        http_req_unref(req);
    }
}

/* a string field that passed the schema, or NULL */
static const char *valid_str(json_t *body, const char *name, const jv_errors *errs)
{
    for (int i = 0; i < errs->n; i++)
        if (strcmp(errs->e[i].field, name) == 0) return NULL;
    return json_string_value(json_object_get(body, name));
}

void api_register(http_req *req)
{
    json_t *body = http_json_body(req, NULL);
    if (!body) return;
    /* schema and rules together, so one 422 names every invalid field */
    jv_errors errs = {.n = 0};
    jv_validate(body, register_spec, "", &errs);
    const char *email = valid_str(body, "email", &errs);
    const char *pw = valid_str(body, "password", &errs);
    const char *name = valid_str(body, "name", &errs);
    char norm[256] = "";
    if (email) {
        if (strlen(email) > 254) jv_add_error(&errs, "email", "must be at most 254 bytes");
        else {
            snprintf(norm, sizeof norm, "%s", email);
            accounts_normalize_email(norm, &errs, "email");
        }
    }
    if (pw) accounts_check_password(pw, strlen(pw), &errs, "password");
    if (name) {
        const char *n = name;
        while (*n == ' ') n++;
        if (!*n) jv_add_error(&errs, "name", "must not be blank");
    }
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        return;
    }
    register_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        hash_busy(req);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    store_user *u = &st->user;
    memcpy(u->email, norm, sizeof u->email);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->role, sizeof u->role, "%s", json_string_value(json_object_get(body, "role")));
    id_new("usr", u->id);
    u->created_at = clock_now_s();
    http_req_ref(req);
    int rc = accounts_hash(pw, on_register_hashed, st);
    json_decref(body);
    if (rc < 0) {
        hash_busy(req);
        http_req_unref(req);
    }
}

/* ---- login -------------------------------------------------------------- */

static const jv_field login_spec[] = {
    {"email", JV_STRING, 1, 1, 254, NULL, NULL},
    {"password", JV_STRING, 1, 1, PASSWORD_MAX, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    char email[256];
    char password[PASSWORD_MAX_BYTES + 1];
    char ip_key[33], acct_key[33]; /* the buckets' keys (login_limit_key) */
    int charged;                   /* took a token from each, not given back */
    int acct_was_full;             /* nothing to forgive on other nodes after a success */
    store_user user;
    store_session sess;
    char token[TOKEN_STR_LEN + 1];
} login_state;

void login_limit_key(const char *what, const char *value, char out[33])
{
    unsigned char h[16];
    crypto_generichash_state g;
    crypto_generichash_init(&g, NULL, 0, sizeof h);
    crypto_generichash_update(&g, (const unsigned char *)what, strlen(what) + 1);
    crypto_generichash_update(&g, (const unsigned char *)value, strlen(value));
    crypto_generichash_final(&g, h, sizeof h);
    sodium_bin2hex(out, 33, h, sizeof h);
}

/* no wrong password was checked (a store error, a busy hasher, a success):
 * the tokens taken for it go back */
static void give_back(login_state *st)
{
    if (!st->charged) return;
    uint64_t now = (uint64_t)clock_now_ms();
    ratelimit_give(APP->login_ip, st->ip_key, now);
    ratelimit_give(APP->login_acct, st->acct_key, now);
    st->charged = 0;
}

/* a wrong password was checked: the tokens stay taken (whether or not
 * the client still waits), and the other nodes take theirs */
static void login_failed(http_req *req, login_state *st)
{
    st->charged = 0;
    APP->login_failures++;
    char arg[120];
    snprintf(arg, sizeof arg, "%s:%s:%s", APP->node_id, st->ip_key, st->acct_key);
    STORE_CALL(APP->store, notice, "login", arg, clock_mono_ns() + 5000000000ull);
    if (http_req_cancelled(req)) return;
    http_add_header(req, "WWW-Authenticate: Bearer realm=\"opx\"");
    http_problem(req, 401, "invalid-credentials", "Unauthorized", "invalid email or password",
                 NULL);
}

static void on_session_created(void *ctx, int rc)
{
    login_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc < 0) {
        api_store_error(req, rc);
        goto out;
    }
    ratelimit_clear(APP->login_acct, st->acct_key);
    if (!st->acct_was_full) { /* the other nodes forgive it too */
        char arg[120];
        snprintf(arg, sizeof arg, "%s:%s", APP->node_id, st->acct_key);
        STORE_CALL(APP->store, notice, "login-ok", arg, clock_mono_ns() + 5000000000ull);
    }
    char cookie[256];
    cookie_format(cookie, sizeof cookie, SESSION_COOKIE, st->token, APP->cfg.session_ttl_s,
                  APP->cfg.secure_cookies);
    http_add_header(req, "Set-Cookie: %s", cookie);
    char exp[32];
    clock_rfc3339(st->sess.expires_at, exp);
    store_user *u = &st->user;
    http_respond_json(req, 200,
                      json_pack("{s:s,s:s,s:o}", "token", st->token, "expires_at", exp, "user",
                                api_user_json(u->id, u->email, u->name, u->role, u->created_at)));
out:
    memset(st->token, 0, sizeof st->token);
    http_req_unref(req);
}

static void on_verified(void *ctx, int rc, const char *unused)
{
    (void)unused;
    login_state *st = ctx;
    http_req *req = st->req;
    memset(st->user.password_hash, 0, sizeof st->user.password_hash);
    if (rc != 0) {
        login_failed(req, st);
        goto out;
    }
    give_back(st);
    if (http_req_cancelled(req)) goto out;
    if (strcmp(st->user.status, "suspended") == 0) {
        http_problem(req, 403, "account-suspended", "Forbidden",
                     "this account is suspended; contact support to have it reactivated", NULL);
        goto out;
    }
    store_session *s = &st->sess;
    token_new(st->token);
    token_hash_hex(st->token, strlen(st->token), s->token_hash);
    token_new(s->csrf_token);
    s->created_at = clock_now_s();
    s->expires_at = s->created_at + APP->cfg.session_ttl_s;
    s->user = st->user;
    int src = store_session_create(APP->store, s, req->deadline_ns, on_session_created, st);
    if (src < 0) {
        api_store_error(req, src);
        goto out;
    }
    return;
out:
    http_req_unref(req);
}

static void on_user_found(void *ctx, int rc)
{
    login_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc < 0 && rc != STORE_NOTFOUND) {
        api_store_error(req, rc);
        goto out;
    }
    /* unknown email: verify against the dummy anyway, for uniform timing */
    int vrc = accounts_verify(rc == STORE_OK ? st->user.password_hash : NULL, st->password,
                              on_verified, st);
    memset(st->password, 0, sizeof st->password);
    if (vrc < 0) {
        hash_busy(req);
        goto out;
    }
    return;
out:
    give_back(st);
    memset(st->password, 0, sizeof st->password);
    http_req_unref(req);
}

static int limited(http_req *req, ratelimit *rl, const char *key, int *full)
{
    int remaining = 0, retry = 0;
    if (ratelimit_check(rl, key, (uint64_t)clock_now_ms(), &remaining, &retry)) {
        if (full) *full = remaining >= (int)ratelimit_burst(rl);
        return 0;
    }
    http_add_header(req, "Retry-After: %d", retry);
    http_add_header(req, "RateLimit-Limit: %d", (int)ratelimit_burst(rl));
    http_add_header(req, "RateLimit-Remaining: 0");
    http_add_header(req, "RateLimit-Reset: %d", retry);
    http_problem(req, 429, "rate-limited", "Too Many Requests",
                 "too many failed sign-ins; wait before trying again", NULL);
    return 1;
}

void api_login(http_req *req)
{
    json_t *body = http_json_body(req, login_spec);
    if (!body) return;
    json_t *em = json_object_get(body, "email"), *pw = json_object_get(body, "password");
    login_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        hash_busy(req);
        return;
    }
    jv_errors errs = {.n = 0};
    if (json_string_length(em) > 254) jv_add_error(&errs, "email", "must be at most 254 bytes");
    if (json_string_length(pw) > PASSWORD_MAX_BYTES)
        jv_add_error(&errs, "password", "must be at most %d bytes", PASSWORD_MAX_BYTES);
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    memcpy(st->email, json_string_value(em), json_string_length(em));
    jv_errors ignore = {.n = 0};
    accounts_normalize_email(st->email, &ignore, "email"); /* lowercases; bad ones just miss */
    login_limit_key("ip", req->client_ip, st->ip_key);
    login_limit_key("acct", st->email, st->acct_key);
    /* after an answer the request may be gone: nothing below touches it */
    if (limited(req, APP->login_ip, st->ip_key, NULL) ||
        limited(req, APP->login_acct, st->acct_key, &st->acct_was_full)) {
        json_decref(body);
        return;
    }
    uint64_t now = (uint64_t)clock_now_ms();
    ratelimit_charge(APP->login_ip, st->ip_key, now);
    ratelimit_charge(APP->login_acct, st->acct_key, now);
    st->charged = 1;
    memcpy(st->password, json_string_value(pw), json_string_length(pw));
    json_decref(body);
    http_req_ref(req);
    int rc = store_user_by_email(APP->store, st->email, &st->user, req->deadline_ns, on_user_found,
                                 st);
    if (rc < 0) {
        give_back(st);
        memset(st->password, 0, sizeof st->password);
        api_store_error(req, rc);
        http_req_unref(req);
    }
}

/* ---- logout and me ------------------------------------------------------ */

static void on_logged_out(void *ctx, int rc)
{
    http_req *req = ctx;
    if (!http_req_cancelled(req)) {
        if (rc < 0 && rc != STORE_NOTFOUND) {
            api_store_error(req, rc);
        } else {
            char cookie[128];
            cookie_format(cookie, sizeof cookie, SESSION_COOKIE, "", 0, APP->cfg.secure_cookies);
            http_add_header(req, "Set-Cookie: %s", cookie);
            http_respond(req, 204, NULL, NULL, 0);
        }
    }
    http_req_unref(req);
}

void api_logout(http_req *req)
{
    if (req->body.len) { /* a body is allowed but must then be JSON */
        json_t *b = http_json_body(req, (const jv_field[]){{NULL, 0, 0, 0, 0, NULL, NULL}});
        if (!b) return;
        json_decref(b);
    }
    session_cache_drop(req->auth.session_hash);
    http_req_ref(req);
    int rc = store_session_delete(APP->store, req->auth.session_hash, req->deadline_ns,
                                  on_logged_out, req);
    if (rc < 0) {
        http_req_unref(req);
        api_store_error(req, rc);
    }
}

void api_me(http_req *req)
{
    http_auth *a = &req->auth;
    http_respond_json(req, 200,
                      json_pack("{s:o,s:s}", "user",
                                api_user_json(a->id, a->email, a->name, a->role, a->created_at),
                                "csrf_token", a->csrf));
}
