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
#include "../domain/session_cache.h"
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
