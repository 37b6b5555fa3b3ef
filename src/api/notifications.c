/* notifications: the signed-in user's notifications (the latest, with the
 * unread count) and marking them read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "api.h"

/* ---- GET /api/v1/me/notifications ------------------------------------------------------ */

static void on_notes(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_notifications *notes = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < notes->n; i++) {
                json_t *payload = json_loads(notes->items[i].payload, 0, NULL);
                json_array_append_new(items, json_pack("{s:I,s:s,s:o,s:o,s:o}", "id",
                                                       (json_int_t)notes->items[i].id, "kind",
                                                       notes->items[i].kind, "payload",
                                                       payload ? payload : json_object(),
                                                       "created_at", api_time_json(notes->items[i].created_at),
                                                       "read_at", api_time_json(notes->items[i].read_at)));
            }
            http_respond_json(req, 200, json_pack("{s:o,s:i}", "items", items, "unread", notes->unread));
        }
    }
    api_call_end(c);
}

void api_notifications(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_notifications));
    if (!c) return;
    api_call_track(c, STORE_CALL(APP->store, notifications_list, req->auth.id, c->out,
                                 req->deadline_ns, on_notes, c));
}

/* ---- POST /api/v1/me/notifications/read ------------------------------------------------ */

static const jv_field read_spec[] = {
    {"up_to", JV_INT, 0, 1, INT64_MAX, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    int unread;
} read_state;

static void on_read(void *ctx, int rc)
{
    read_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) {
            jv_errors errs = {.n = 0};
            jv_add_error(&errs, "up_to", "is not the id of one of your notifications");
            http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_respond_json(req, 200, json_pack("{s:i}", "unread", st->unread));
        }
    }
    http_req_unref(req);
}

void api_notifications_read(http_req *req)
{
    int64_t up_to = 0;
    if (req->body.len) { /* the body is optional: none marks everything read */
        json_t *b = http_json_body(req, read_spec);
        if (!b) return;
        json_t *v = json_object_get(b, "up_to");
        if (v) up_to = json_integer_value(v);
        json_decref(b);
    }
    read_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    st->req = req;
    st->unread = 0;
    api_track(req, STORE_CALL(APP->store, notifications_read, req->auth.id, up_to, clock_now_s(), &st->unread,
                              req->deadline_ns, on_read, st));
}
