/* invitations: an engineer's side of matching: the open invitations, and
 * accepting or declining one. A decline invites the next best at once
 * (with whatever the request's SLA has relaxed so far); the third
 * acceptance makes the request matched. An invitation is its engineer's
 * only: anyone else gets 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../rules/requests.h"
#include "../services/shortlist.h"
#include "../services/sla.h"
#include "api.h"

/* ---- GET /api/v1/me/invitations ---------------------------------------------------- */

static void on_list(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_invitations *inv = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < inv->n; i++) {
                const store_candidate *k = &inv->items[i].c;
                json_t *spec = json_loads(inv->items[i].spec, 0, NULL);
                json_t *request = json_pack("{s:s,s:s,s:s}", "id", k->request_id, "title",
                                            inv->items[i].title, "status",
                                            inv->items[i].request_status);
                if (spec) json_object_update(request, spec);
                json_decref(spec);
                json_t *explain = json_loads(k->explain, 0, NULL);
                json_array_append_new(items, json_pack("{s:s,s:s,s:f,s:o,s:o,s:o,s:o}", "id", k->id,
                                                       "status", k->status, "score", k->score,
                                                       "explain", explain ? explain : json_object(),
                                                       "invited_at", api_time_json(k->invited_at),
                                                       "expires_at", api_time_json(k->expires_at), "request",
                                                       request));
            }
            http_respond_json(req, 200, json_pack("{s:o}", "items", items));
        }
    }
    api_call_end(c);
}

void api_invitations(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_invitations));
    if (!c) return;
    api_call_track(c, STORE_CALL(APP->store, invitations_list, req->auth.id, clock_now_s(), c->out,
                                 req->deadline_ns, on_list, c));
}

/* ---- accept and decline --------------------------------------------------------------- */

typedef struct {
    http_req *req;
    char id[32];
    char to[12];
    char reason[2004];
    store_candidate cand;
    store_candidate repl[REQUEST_REPLACEMENT_OPTIONS];
    int nrepl;
    store_move_result res;
    store_request *r; /* decline only: malloc'd */
} move_state;

static void move_end(move_state *st)
{
    free(st->r);
    st->r = NULL;
    http_req_unref(st->req);
}

static void on_moved(void *ctx, int rc)
{
    move_state *st = ctx;
    http_req *req = st->req;
    if (rc == STORE_OK && st->res.became_matched)
        sla_observe_match(st->res.created_at, st->res.sla_deadline, clock_now_s());
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_NOTFOUND) {
        http_problem(req, 404, "not-found", "Not Found", "no such invitation", NULL);
    } else if (rc == STORE_CONFLICT) {
        store_vet_result v;
        memset(&v, 0, sizeof v);
        v.reason = VET_INVITATION_CLOSED;
        snprintf(v.status, sizeof v.status, "%s", st->res.candidate_status);
        api_vetting_conflict(req, &v);
    } else if (rc < 0) {
        api_store_error(req, rc);
    } else {
        json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:i}}", "id", st->id, "status", st->to, "request",
                              "id", st->res.request_id, "status", st->res.request_status, "accepted",
                              st->res.accepted);
        if (strcmp(st->to, "declined") == 0) {
            const store_candidate *r = st->res.replaced >= 0 ? &st->repl[st->res.replaced] : NULL;
            json_object_set_new(o, "replacement",
                                r ? json_pack("{s:s,s:s,s:f}", "id", r->id, "engineer_id",
                                              r->engineer_id, "score", r->score)
                                  : json_null());
        }
        http_respond_json(req, 200, o);
    }
out:
    move_end(st);
}

static void move(move_state *st)
{
    http_req *req = st->req;
    int rc = STORE_CALL(APP->store, candidate_move, st->id, req->auth.id, st->to,
                        st->reason[0] ? st->reason : NULL, clock_now_s(), NULL, st->repl, st->nrepl,
                        &st->res, req->deadline_ns, on_moved, st);
    if (rc < 0) {
        api_store_error(req, rc);
        move_end(st);
    }
}

static void on_decline_request(void *ctx, int rc)
{
    move_state *st = ctx;
    if (http_req_cancelled(st->req)) {
        move_end(st);
        return;
    }
    if (rc < 0) { /* the request cannot be read: decline without a replacement */
        move(st);
        return;
    }
    int open = strcmp(st->r->status, "matching") == 0 || strcmp(st->r->status, "breached") == 0;
    int n = open ? shortlist_pick(st->r->spec, sla_relax_flags(st->r->relaxed), st->r,
                                  st->r->ncand + 1, st->repl, REQUEST_REPLACEMENT_OPTIONS)
                 : 0; /* a matched request needs nobody new */
    st->nrepl = n > 0 ? n : 0;
    requests_prepare_invites(st->r->id, st->repl, st->nrepl, clock_now_s());
    move(st);
}

static void on_decline_candidate(void *ctx, int rc)
{
    move_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && strcmp(st->cand.engineer_id, req->auth.id) != 0)) {
        http_problem(req, 404, "not-found", "Not Found", "no such invitation", NULL);
        goto out;
    }
    if (rc < 0) {
        api_store_error(req, rc);
        goto out;
    }
    if (!(st->r = malloc(sizeof *st->r))) {
        api_store_error(req, STORE_BUSY);
        goto out;
    }
    int src = STORE_CALL(APP->store, request_get, st->cand.request_id, st->r, req->deadline_ns,
                         on_decline_request, st);
    if (src >= 0) return;
    api_store_error(req, src);
out:
    move_end(st);
}

static move_state *move_state_new(http_req *req, const char *to)
{
    move_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) return NULL;
    memset(st, 0, sizeof *st);
    st->req = req;
    snprintf(st->id, sizeof st->id, "%s", http_param_get(req, "id"));
    snprintf(st->to, sizeof st->to, "%s", to);
    return st;
}

void api_candidate_accept(http_req *req)
{
    if (req->body.len) { /* a body is allowed but must then be an empty JSON object */
        json_t *b = http_json_body(req, (const jv_field[]){{NULL, 0, 0, 0, 0, NULL, NULL}});
        if (!b) return;
        json_decref(b);
    }
    move_state *st = move_state_new(req, "accepted");
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    http_req_ref(req);
    move(st);
}

static const jv_field decline_spec[] = {
    {"reason", JV_STRING, 0, 1, 500, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_candidate_decline(http_req *req)
{
    json_t *b = NULL;
    if (req->body.len && !(b = http_json_body(req, decline_spec))) return;
    move_state *st = move_state_new(req, "declined");
    if (!st) {
        json_decref(b);
        api_store_error(req, STORE_BUSY);
        return;
    }
    const char *reason = b ? json_string_value(json_object_get(b, "reason")) : NULL;
    if (reason) snprintf(st->reason, sizeof st->reason, "%s", reason);
    json_decref(b);
    api_track(req, STORE_CALL(APP->store, candidate_get, st->id, &st->cand, req->deadline_ns,
                              on_decline_candidate, st));
}
