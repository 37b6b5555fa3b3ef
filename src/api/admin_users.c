/* admin_users: every account for admins: the list (search over name and
 * email, ?role, ?status, cursor), suspending (a reason is required; every
 * session of the account ends at once: store rows, cached sessions, live
 * streams) and reactivating. An admin cannot suspend their own account.
 * A suspended account's sign-in is refused in auth.c, and a suspended
 * engineer leaves the matching index until reactivated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../services/session_cache.h"
#include "../services/shortlist.h"
#include "api.h"

static json_t *account_json(const store_account *a)
{
    const store_user *u = &a->u;
    json_t *o = api_user_json(u->id, u->email, u->name, u->role, u->created_at);
    int suspended = strcmp(u->status, "suspended") == 0;
    json_object_set_new(o, "status", json_string(u->status));
    json_object_set_new(o, "suspended_at", suspended ? api_time_json(a->suspended_at) : json_null());
    json_object_set_new(o, "suspended_reason",
                        suspended && a->suspended_reason[0] ? json_string(a->suspended_reason) : json_null());
    return o;
}

/* ---- GET /api/v1/admin/users -------------------------------------------------------------- */

typedef struct {
    store_account_filter f;
} users_state;

static void on_users(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_account_list *l = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < l->n; i++) json_array_append_new(items, account_json(&l->items[i]));
            api_respond_page(req, items, l->n == c->limit, 'u', l->n ? l->items[l->n - 1].seq : 0);
        }
    }
    api_call_end(c);
}

static int one_of(const char *v, const char *const *allowed)
{
    for (int i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0) return 1;
    return 0;
}

void api_admin_users(http_req *req)
{
    static const char *const roles[] = {"client", "engineer", "vetter", "admin", NULL};
    static const char *const states[] = {"active", "suspended", NULL};
    jv_errors errs = {.n = 0};
    long limit;
    long long before;
    api_page_params(req, &errs, 20, STORE_ACCOUNTS_MAX, "cursor", 'u', &limit, &before);
    const char *q = http_query_get(req, "q"), *role = http_query_get(req, "role"),
               *status = http_query_get(req, "status");
    if (q && !*q) q = NULL; /* an empty search is no search */
    if (q && jv_utf8_len(q, strlen(q)) > 100) jv_add_error(&errs, "q", "must be at most 100 characters");
    if (role && *role && !one_of(role, roles)) jv_add_error(&errs, "role", "must be client, engineer, vetter or admin");
    if (status && *status && !one_of(status, states)) jv_add_error(&errs, "status", "must be active or suspended");
    if (errs.n) {
        http_problem(req, 400, "bad-query", "Bad Request", "some query parameters are invalid; see errors", &errs);
        return;
    }
    users_state *st = arena_alloc(&req->arena, sizeof *st);
    api_call *c = st ? api_call_new(req, sizeof(store_account_list)) : NULL;
    if (!c) {
        if (!st) api_store_error(req, STORE_BUSY);
        return;
    }
    c->limit = (int)limit;
    st->f.q = q;
    st->f.role = role && *role ? role : NULL;
    st->f.status = status && *status ? status : NULL;
    st->f.before_seq = before;
    st->f.limit = (int)limit;
    api_call_track(c, STORE_CALL(APP->store, users_list, &st->f, c->out, req->deadline_ns, on_users, c));
}

/* ---- POST /api/v1/admin/users/{id}/suspend, /reactivate -------------------------------------- */

static const jv_field suspend_spec[] = {
    {"reason", JV_STRING, 1, 1, 2000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    const char *to;
    char reason[8004];
    store_account a;
    int ended;
} status_state;

/* a suspended engineer leaves the index at once; a reactivated one is
 * matched again once their profile is read afresh (in the background: a
 * failure leaves them out until the next profile change or restart, and
 * is logged) */
static void matching_follow(const store_account *a, int suspend)
{
    if (strcmp(a->u.role, "engineer") != 0) return;
    if (suspend) { /* not vetted as far as the index goes: removed */
        store_engineer *e = calloc(1, sizeof *e);
        if (!e) return;
        snprintf(e->user_id, sizeof e->user_id, "%s", a->u.id);
        snprintf(e->status, sizeof e->status, "suspended");
        shortlist_update(e);
        free(e);
        return;
    }
    shortlist_engineer_changed(APP->store, a->u.id);
}

static void on_status(void *ctx, int rc)
{
    status_state *st = ctx;
    http_req *req = st->req;
    int suspend = strcmp(st->to, "suspended") == 0;
    if (rc == STORE_OK && suspend) { /* its sessions are gone from the store: here too, at once */
        session_cache_drop_user(st->a.u.id, NULL);
        events_close_user(st->a.u.id, NULL);
    }
    if (rc == STORE_OK) matching_follow(&st->a, suspend);
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) {
            http_problem(req, 404, "not-found", "Not Found", "no such user", NULL);
        } else if (rc == STORE_CONFLICT) {
            json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "type", "urn:opx:problem:wrong-state", "title",
                                  "Conflict", "status", 409, "detail",
                                  suspend ? "this account is suspended already" : "this account is not suspended",
                                  "entity", "user", "state", st->a.u.status, "request_id", req->request_id);
            if (p) json_object_set_new(p, "instance", json_stringn(req->path, req->path_len));
            char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
            json_decref(p);
            if (text) http_respond(req, 409, "application/problem+json", text, strlen(text));
            else api_store_error(req, STORE_BUSY);
            free(text);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_respond_json(req, 200, json_pack("{s:o,s:i}", "user", account_json(&st->a), "sessions_ended", st->ended));
        }
    }
    http_req_unref(req);
}

static void set_status(http_req *req, const char *to)
{
    const char *reason = NULL;
    json_t *b = NULL;
    if (strcmp(to, "suspended") == 0) {
        if (!(b = http_json_body(req, suspend_spec))) return;
        reason = json_string_value(json_object_get(b, "reason"));
        const char *p = reason;
        while (*p == ' ' || *p == '\n' || *p == '\t') p++;
        if (!*p) {
            json_decref(b);
            jv_errors errs = {.n = 0};
            jv_add_error(&errs, "reason", "must not be blank");
            http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
            return;
        }
    } else if (req->body.len) { /* reactivate: no body, or an empty object */
        if (!(b = http_json_body(req, (const jv_field[]){{NULL, 0, 0, 0, 0, NULL, NULL}}))) return;
    }
    const char *id = http_param_get(req, "id");
    if (strcmp(id, req->auth.id) == 0) {
        json_decref(b);
        http_problem(req, 409, "self-suspension", "Conflict",
                     "you cannot suspend or reactivate your own account; ask another admin", NULL);
        return;
    }
    status_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(b);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    st->to = to;
    if (reason) snprintf(st->reason, sizeof st->reason, "%s", reason);
    json_decref(b);
    api_track(req, STORE_CALL(APP->store, user_set_status, id, to, req->auth.id, reason ? st->reason : NULL,
                              clock_now_s(), &st->a, &st->ended, req->deadline_ns, on_status, st));
}

void api_user_suspend(http_req *req)
{
    set_status(req, "suspended");
}

void api_user_reactivate(http_req *req)
{
    set_status(req, "active");
}
