/* reviews: double-blind reviews of an ended contract (POST
 * /api/v1/contracts/{id}/review, GET /api/v1/contracts/{id}/reviews). A
 * review shows to its author at once and to everyone else only once
 * published: when both parties have written, or when the 14-day window
 * closes. */
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "api.h"

typedef struct {
    http_req *req;
    store_reviews r;
    store_money_conflict why;
    int status;
} rstate;

static json_t *reviews_json(const store_reviews *r, const http_auth *viewer)
{
    json_t *items = json_array();
    for (int i = 0; i < r->n; i++) {
        const store_review *v = &r->items[i];
        if (!v->published_at && strcmp(v->author_id, viewer->id) != 0) continue; /* blind until published */
        json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:o,s:o}", "author_id", v->author_id,
                                               "author_name", v->author_name, "author_role", v->author_role,
                                               "subject_id", v->subject_id, "rating", v->rating, "comment",
                                               v->comment, "created_at", api_time_json(v->created_at),
                                               "published_at", api_time_json(v->published_at)));
    }
    return json_pack("{s:o,s:i,s:o}", "items", items, "written", r->n, "window_closes_at",
                     api_time_json(r->ended_at ? r->ended_at + 14 * 86400 : 0));
}

static void on_reviews(void *ctx, int rc)
{
    rstate *st = ctx;
    http_req *req = st->req;
    const http_auth *a = &req->auth;
    if (rc == STORE_OK && strcmp(a->id, st->r.client_id) != 0 && strcmp(a->id, st->r.engineer_id) != 0 &&
        !(a->role_bit & ROLE_ADMIN))
        rc = STORE_NOTFOUND;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) http_problem(req, 404, "not-found", "Not Found", "no such contract", NULL);
        else if (rc == STORE_CONFLICT) api_money_conflict(req, &st->why);
        else if (rc < 0) api_store_error(req, rc);
        else http_respond_json(req, st->status, reviews_json(&st->r, a));
    }
    http_req_unref(req);
}

static rstate *rstate_new(http_req *req, int status)
{
    rstate *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    st->status = status;
    return st;
}

void api_reviews_get(http_req *req)
{
    rstate *st = rstate_new(req, 200);
    if (!st) return;
    int rc = STORE_CALL(APP->store, reviews_get, http_param_get(req, "id"), &st->r, req->deadline_ns, on_reviews, st);
    api_track(req, rc);
}

static const jv_field review_fields[] = {
    {"rating", JV_INT, 1, 1, 5, NULL, NULL},
    {"comment", JV_STRING, 1, 1, 2000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_review_create(http_req *req)
{
    json_t *body = http_json_body(req, review_fields);
    if (!body) return;
    rstate *st = rstate_new(req, 201);
    if (!st) {
        json_decref(body);
        return;
    }
    int rc = STORE_CALL(APP->store, review_create, http_param_get(req, "id"), req->auth.id,
                        (int)json_integer_value(json_object_get(body, "rating")),
                        json_string_value(json_object_get(body, "comment")), clock_now_s(), &st->r, &st->why,
                        req->deadline_ns, on_reviews, st);
    json_decref(body);
    api_track(req, rc);
}
