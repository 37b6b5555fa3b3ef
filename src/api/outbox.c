/* outbox: the admins' view of outgoing mail (GET /api/v1/admin/outbox,
 * GET /api/v1/admin/outbox/{id}) and sending a failed mail again (POST
 * /api/v1/admin/outbox/{id}/retry). Subjects and texts are rendered by
 * the same code that sends them, so what an admin reads is what went out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../services/email.h"
#include "api.h"

static const char *const statuses[] = {"queued", "sent", "failed", NULL};

static json_t *mail_json(const store_mail *m, int full)
{
    email_rendered r;
    int ok = email_render(m, email_config_get()->public_url, &r) == 0;
    int queued = strcmp(m->status, "queued") == 0;
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:o}", "id", m->id, "to",
                          m->to_addr, "to_name", m->to_name, "user_id",
                          m->user_id[0] ? json_string(m->user_id) : json_null(), "kind", m->kind,
                          "subject", ok && r.subject.data ? r.subject.data : "", "status", m->status,
                          "attempts", m->attempts, "last_error",
                          m->last_error[0] ? json_string(m->last_error) : json_null(), "created_at",
                          api_time_json(m->created_at), "next_attempt_at",
                          queued ? api_time_json(m->next_attempt_at) : json_null(), "sent_at",
                          api_time_json(m->sent_at));
    if (full && o) {
        json_object_set_new(o, "text", json_string(ok && r.text.data ? r.text.data : ""));
        json_object_set_new(o, "calendar", ok && r.ics.len ? json_stringn(r.ics.data, r.ics.len) : json_null());
    }
    email_rendered_free(&r);
    return o;
}

/* ---- GET /api/v1/admin/outbox ----------------------------------------------------- */

static void on_list(void *ctx, int rc)
{
    api_call *c = ctx;
    store_outbox *o = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < o->n; i++) json_array_append_new(items, mail_json(&o->items[i], 0));
            api_respond_page(req, items, o->n > 0 && o->n == c->limit, 'o', o->n ? o->items[o->n - 1].seq : 0);
        }
    }
    store_outbox_free(o);
    api_call_end(c);
}

void api_outbox_list(http_req *req)
{
    jv_errors errs = {.n = 0};
    const char *status = http_query_get(req, "status");
    if (status) {
        int known = 0;
        for (int i = 0; statuses[i]; i++) known |= strcmp(status, statuses[i]) == 0;
        if (!known) jv_add_error(&errs, "status", "must be queued, sent or failed");
    }
    long limit;
    long long before;
    api_page_params(req, &errs, 50, STORE_OUTBOX_MAX, "before", 'o', &limit, &before);
    if (errs.n) {
        http_problem(req, 400, "bad-query", "Bad Request", "some query parameters are invalid; see errors", &errs);
        return;
    }
    api_call *c = api_call_new(req, sizeof(store_outbox));
    if (!c) return;
    c->limit = (int)limit;
    int rc = STORE_CALL(APP->store, outbox_list, status, before, (int)limit, c->out, req->deadline_ns,
                        on_list, c);
    api_call_track(c, rc);
}

/* ---- GET /api/v1/admin/outbox/{id}, POST .../retry ------------------------------------- */

static void on_mail(void *ctx, int rc)
{
    api_call *c = ctx;
    store_mail *m = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) {
            http_problem(req, 404, "not-found", "Not Found", "no such mail", NULL);
        } else if (rc == STORE_CONFLICT) {
            json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", "urn:opx:problem:mail-state", "title",
                                  "Conflict", "status", 409, "detail", "only a failed mail is sent again",
                                  "state", m->status);
            char *text = json_dumps(p, JSON_COMPACT);
            json_decref(p);
            if (text) http_respond(req, 409, "application/problem+json", text, strlen(text));
            else api_store_error(req, STORE_BUSY);
            free(text);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_respond_json(req, c->limit ? 202 : 200, mail_json(m, !c->limit)); /* retry: the Mail, GET: with text */
        }
    }
    free(m->data);
    m->data = NULL;
    api_call_end(c);
}

void api_outbox_get(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_mail));
    if (!c) return;
    int rc = STORE_CALL(APP->store, mail_get, http_param_get(req, "id"), c->out, req->deadline_ns, on_mail, c);
    api_call_track(c, rc);
}

void api_outbox_retry(http_req *req)
{
    if (req->body.len) { /* no fields: an empty body or {} */
        static const jv_field none[] = {{NULL, 0, 0, 0, 0, NULL, NULL}};
        json_t *body = http_json_body(req, none);
        if (!body) return;
        json_decref(body);
    }
    api_call *c = api_call_new(req, sizeof(store_mail));
    if (!c) return;
    c->limit = 1; /* answered 202: queued again, sent by the job */
    int rc = STORE_CALL(APP->store, mail_requeue, http_param_get(req, "id"), clock_now_s(), c->out,
                        req->deadline_ns, on_mail, c);
    api_call_track(c, rc);
}
