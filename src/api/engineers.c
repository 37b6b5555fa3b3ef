/* engineers: the skills catalog, engineer profiles (own and public) and an
 * engineer's vetting audit trail.
 *
 * Visibility of an engineer's fields is decided here, once
 * (engineer_json): email only to the engineer, vetters and admins; the
 * hourly rate to everyone but other engineers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../rules/ledger.h"
#include "../app.h"
#include "../core/clock.h"
#include "../services/shortlist.h"
#include "../rules/skills.h"
#include "../rules/tz.h"
#include "api.h"

json_t *api_money_json(int64_t amount, const char *currency)
{
    return json_pack("{s:I,s:s}", "amount", (json_int_t)amount, "currency", currency);
}

json_t *api_engineer_json(const store_engineer *e, const http_req *viewer)
{
    const http_auth *a = &viewer->auth;
    int self = strcmp(a->id, e->user_id) == 0;
    int staff = (a->role_bit & (ROLE_VETTER | ROLE_ADMIN)) != 0;
    json_t *skills = json_array();
    for (int i = 0; i < e->nskills; i++)
        json_array_append_new(skills, json_pack("{s:s,s:i,s:o}", "id", e->skills[i].id, "self_level",
                                                e->skills[i].self_level, "vetted_level",
                                                e->skills[i].vetted_level
                                                    ? json_integer(e->skills[i].vetted_level)
                                                    : json_null()));
    json_t *links = json_array();
    for (int i = 0; i < e->nlinks; i++) json_array_append_new(links, json_string(e->links[i]));
    json_t *o = json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:{s:s,s:o,s:o},s:o}", "id", e->user_id, "name",
        e->name, "headline", e->has_profile ? json_string(e->headline) : json_null(), "bio",
        e->has_profile ? json_string(e->bio) : json_null(), "timezone",
        e->has_profile ? json_string(e->timezone) : json_null(), "hours_per_week",
        e->has_profile ? json_integer(e->hours_per_week) : json_null(), "years_experience",
        e->has_profile ? json_integer(e->years_experience) : json_null(), "links", links,
        "available", e->available, "skills", skills, "vetting", "status", e->status, "level",
        e->level[0] ? json_string(e->level) : json_null(), "reapply_after",
        api_time_json(e->reapply_after), "rating",
        e->rating_x100 ? json_real(e->rating_x100 / 100.0) : json_null());
    if (self || staff) json_object_set_new(o, "email", json_string(e->email));
    if (self || !(a->role_bit & ROLE_ENGINEER))
        json_object_set_new(o, "hourly_rate", e->has_profile ? api_money_json(e->rate_amount, e->currency)
                                                             : json_null());
    return o;
}

/* ---- GET /api/v1/skills ------------------------------------------------------- */

void api_skills(http_req *req)
{
    http_respond_json(req, 200, skills_catalog_json());
}

/* ---- GET /api/v1/engineers/{id}, GET /api/v1/me/profile ------------------------- */

typedef struct {
    http_req *req;
    store_engineer e;
} engineer_state;

static void on_engineer(void *ctx, int rc)
{
    engineer_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND)
            http_problem(req, 404, "not-found", "Not Found", "no such engineer", NULL);
        else if (rc < 0)
            api_store_error(req, rc);
        else
            http_respond_json(req, 200, json_pack("{s:o}", "engineer", api_engineer_json(&st->e, req)));
    }
    http_req_unref(req);
}

static void get_engineer(http_req *req, const char *id)
{
    engineer_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    st->req = req;
    api_track(req, STORE_CALL(APP->store, engineer_get, id, &st->e, req->deadline_ns, on_engineer, st));
}

void api_engineer_get(http_req *req)
{
    get_engineer(req, http_param_get(req, "id"));
}

void api_profile_get(http_req *req)
{
    get_engineer(req, req->auth.id);
}

/* ---- PUT /api/v1/me/profile ------------------------------------------------------- */

static const jv_field money_spec[] = {
    {"amount", JV_INT, 1, 500, 100000, NULL, NULL},
    {"currency", JV_STRING, 1, 0, 0, ledger_currencies, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const jv_field skill_spec[] = {
    {"id", JV_STRING, 1, 1, 64, NULL, NULL},
    {"level", JV_INT, 1, 1, 5, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const jv_field profile_spec[] = {
    {"headline", JV_STRING, 1, 1, 120, NULL, NULL},
    {"bio", JV_STRING, 1, 1, 5000, NULL, NULL},
    {"hourly_rate", JV_OBJECT, 1, 0, 0, NULL, money_spec},
    {"timezone", JV_STRING, 1, 1, 64, NULL, NULL},
    {"hours_per_week", JV_INT, 1, 1, 60, NULL, NULL},
    {"years_experience", JV_INT, 1, 0, 50, NULL, NULL},
    {"links", JV_ARRAY_OF_STRING, 0, 0, STORE_MAX_LINKS, NULL, NULL},
    {"skills", JV_ARRAY_OF_OBJECT, 1, 1, STORE_MAX_SKILLS, NULL, skill_spec},
    {"available", JV_BOOL, 0, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    store_engineer cur; /* as stored before this change */
    store_engineer in, out;
} profile_state;

static int valid_url(const char *s)
{
    size_t n = strlen(s);
    if (n > 200 || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)) return 0;
    const char *host = strstr(s, "://") + 3;
    if (!*host || *host == '/') return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == '"' || s[i] == '<' ||
            s[i] == '>' || s[i] == '\\')
            return 0;
    return 1;
}

/* Rules the schema cannot say; fills st->in from a body that passed it. */
static void check_profile(json_t *body, profile_state *st, jv_errors *errs)
{
    store_engineer *in = &st->in;
    const char *tz = json_string_value(json_object_get(body, "timezone"));
    if (tz && !jv_has_error(errs, "timezone") && !tz_valid(tz))
        jv_add_error(errs, "timezone", "is not an IANA time zone known to this server (e.g. Europe/Berlin)");
    json_t *links = json_object_get(body, "links");
    size_t i;
    json_t *v;
    if (!jv_has_error(errs, "links"))
        json_array_foreach(links, i, v) {
            char path[32];
            snprintf(path, sizeof path, "links[%zu]", i);
            if (!json_is_string(v)) continue; /* the schema said so already */
            if (!valid_url(json_string_value(v)))
                jv_add_error(errs, path, "must be an http(s) URL of at most 200 characters");
            else if (in->nlinks < STORE_MAX_LINKS)
                snprintf(in->links[in->nlinks++], sizeof in->links[0], "%s", json_string_value(v));
        }
    json_t *skills = json_object_get(body, "skills");
    if (!jv_has_error(errs, "skills"))
        json_array_foreach(skills, i, v) {
            const char *id = json_string_value(json_object_get(v, "id"));
            char path[32], lpath[40];
            snprintf(path, sizeof path, "skills[%zu].id", i);
            snprintf(lpath, sizeof lpath, "skills[%zu].level", i);
            if (!id || jv_has_error(errs, path)) continue;
            if (skills_find(id) < 0) {
                jv_add_error(errs, path, "unknown skill: %.40s (see GET /api/v1/skills)", id);
                continue;
            }
            int dup = 0;
            for (size_t k = 0; k < i; k++) {
                const char *other = json_string_value(json_object_get(json_array_get(skills, k), "id"));
                dup |= other && strcmp(other, id) == 0;
            }
            if (dup) {
                jv_add_error(errs, path, "duplicate skill: %s", id);
                continue;
            }
            if (in->nskills < STORE_MAX_SKILLS && !jv_has_error(errs, lpath)) {
                store_skill *k = &in->skills[in->nskills++];
                snprintf(k->id, sizeof k->id, "%s", id);
                k->self_level = (int)json_integer_value(json_object_get(v, "level"));
            }
        }
}

/* A level a vetter confirmed is not the engineer's to change or drop. */
static void check_confirmed(profile_state *st, jv_errors *errs)
{
    for (int c = 0; c < st->cur.nskills; c++) {
        const store_skill *old = &st->cur.skills[c];
        if (!old->vetted_level) continue;
        int k = 0;
        while (k < st->in.nskills && strcmp(st->in.skills[k].id, old->id) != 0) k++;
        if (k == st->in.nskills) {
            jv_add_error(errs, "skills", "%s was confirmed at level %d by vetting and cannot be removed",
                         old->id, old->vetted_level);
            continue;
        }
        int lv = st->in.skills[k].self_level;
        if (lv != old->vetted_level && lv != old->self_level) {
            char path[32];
            snprintf(path, sizeof path, "skills[%d].level", k);
            jv_add_error(errs, path, "%s was confirmed at level %d by vetting and cannot change",
                         old->id, old->vetted_level);
        }
    }
}

static void on_profile_written(void *ctx, int rc)
{
    profile_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            shortlist_update(&st->out);
            http_respond_json(req, 200, json_pack("{s:o}", "engineer", api_engineer_json(&st->out, req)));
        }
    }
    http_req_unref(req);
}

static void on_profile_current(void *ctx, int rc)
{
    profile_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc < 0) {
        api_store_error(req, rc == STORE_NOTFOUND ? STORE_IO : rc);
        goto out;
    }
    jv_errors errs = {.n = 0};
    check_confirmed(st, &errs);
    if (errs.n) {
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        goto out;
    }
    api_track(req, STORE_CALL(APP->store, profile_put, &st->in, clock_now_s(), &st->out,
                              req->deadline_ns, on_profile_written, st));
out:
    http_req_unref(req);
}

void api_profile_put(http_req *req)
{
    json_t *body = http_json_body(req, NULL);
    if (!body) return;
    profile_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    jv_errors errs = {.n = 0};
    jv_validate(body, profile_spec, "", &errs);
    check_profile(body, st, &errs);
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        return;
    }
    store_engineer *in = &st->in;
    snprintf(in->user_id, sizeof in->user_id, "%s", req->auth.id);
    snprintf(in->headline, sizeof in->headline, "%s", json_string_value(json_object_get(body, "headline")));
    snprintf(in->bio, sizeof in->bio, "%s", json_string_value(json_object_get(body, "bio")));
    json_t *rate = json_object_get(body, "hourly_rate");
    in->rate_amount = json_integer_value(json_object_get(rate, "amount"));
    snprintf(in->currency, sizeof in->currency, "%s", json_string_value(json_object_get(rate, "currency")));
    snprintf(in->timezone, sizeof in->timezone, "%s", json_string_value(json_object_get(body, "timezone")));
    in->hours_per_week = (int)json_integer_value(json_object_get(body, "hours_per_week"));
    in->years_experience = (int)json_integer_value(json_object_get(body, "years_experience"));
    json_t *avail = json_object_get(body, "available");
    in->available = avail ? json_is_true(avail) : 1;
    json_decref(body);
    /* the confirmed levels are checked against what is stored now */
    api_track(req, STORE_CALL(APP->store, engineer_get, req->auth.id, &st->cur, req->deadline_ns,
                              on_profile_current, st));
}

/* ---- GET /api/v1/engineers/{id}/audit ----------------------------------------------- */

typedef struct {
    http_req *req;
    store_engineer e;
    store_audit audit;
} audit_state;

static void on_audit(void *ctx, int rc)
{
    audit_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < st->audit.n; i++) {
                json_t *d = json_loads(st->audit.items[i].detail, 0, NULL);
                json_t *from = json_object_get(d, "from"), *to = json_object_get(d, "to");
                json_t *it = json_pack("{s:o,s:s,s:s}", "at", api_time_json(st->audit.items[i].at),
                                       "actor_id", st->audit.items[i].actor_id, "action",
                                       st->audit.items[i].action);
                json_object_set(it, "from", from ? from : json_null());
                json_object_set(it, "to", to ? to : json_null());
                json_array_append_new(items, it);
                json_decref(d);
            }
            http_respond_json(req, 200, json_pack("{s:o}", "items", items));
        }
    }
    http_req_unref(req);
}

static void on_audit_engineer(void *ctx, int rc)
{
    audit_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_NOTFOUND) http_problem(req, 404, "not-found", "Not Found", "no such engineer", NULL);
    else if (rc < 0) api_store_error(req, rc);
    else
        api_track(req, STORE_CALL(APP->store, audit_list, "engineer", st->e.user_id, &st->audit,
                                  req->deadline_ns, on_audit, st));
out:
    http_req_unref(req);
}

void api_engineer_audit(http_req *req)
{
    audit_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    st->req = req;
    api_track(req, STORE_CALL(APP->store, engineer_get, http_param_get(req, "id"), &st->e,
                              req->deadline_ns, on_audit_engineer, st));
}
