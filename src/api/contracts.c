/* contracts: offering, answering and reading contracts, and the milestone
 * moves that are not money (submit, request changes). Money moves (fund,
 * approve) are in money.c. A contract is visible to its two parties and
 * admins; anyone else gets 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../rules/contracts.h"
#include "../rules/ledger.h"
#include "../rules/requests.h"
#include "../services/shortlist.h"
#include "api.h"

json_t *api_milestone_json(const store_contract *k, const store_milestone *m)
{
    json_t *links = json_loads(m->links[0] ? m->links : "[]", 0, NULL);
    if (!json_is_array(links)) {
        json_decref(links);
        links = json_array();
    }
    return json_pack("{s:s,s:s,s:i,s:s,s:I,s:s,s:o,s:o,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", m->id,
                     "contract_id", k->id, "position", m->position, "title", m->title, "amount",
                     (json_int_t)m->amount, "currency", k->currency, "due",
                     m->due[0] ? json_string(m->due) : json_null(), "week_start",
                     m->week_start[0] ? json_string(m->week_start) : json_null(), "status", m->status,
                     "escrow", (json_int_t)m->escrow, "note", m->note ? json_string(m->note) : json_null(),
                     "links", links, "changes_note",
                     m->changes_note[0] ? json_string(m->changes_note) : json_null(), "dispute_id",
                     m->dispute_id[0] ? json_string(m->dispute_id) : json_null(), "created_at",
                     api_time_json(m->created_at), "funded_at", api_time_json(m->funded_at),
                     "submitted_at", api_time_json(m->submitted_at), "settled_at",
                     api_time_json(m->settled_at));
}

json_t *api_contract_json(const store_contract *k)
{
    json_t *ms = json_array();
    for (int i = 0; i < k->nmilestones; i++) json_array_append_new(ms, api_milestone_json(k, &k->milestones[i]));
    int hourly = strcmp(k->type, "hourly") == 0;
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:i,s:I,s:o,s:o,s:o,s:o}", "id", k->id,
                     "request_id", k->request_id, "request_title", k->request_title, "candidate_id",
                     k->candidate_id, "client_id", k->client_id, "client_name", k->client_name,
                     "engineer_id", k->engineer_id, "engineer_name", k->engineer_name, "type", k->type,
                     "status", k->status, "currency", k->currency, "hourly_rate",
                     hourly ? json_integer(k->hourly_rate) : json_null(), "weekly_cap_hours",
                     hourly ? json_integer(k->weekly_cap_hours) : json_null(), "fee_bps", k->fee_bps,
                     "escrow", (json_int_t)k->escrow, "milestones", ms, "created_at",
                     api_time_json(k->created_at), "accepted_at", api_time_json(k->accepted_at),
                     "ended_at", api_time_json(k->ended_at));
}

void api_money_conflict(http_req *req, const store_money_conflict *why)
{
    const char *entity = why && why->entity[0] ? why->entity : "escrow";
    if (strcmp(entity, "role") == 0) {
        http_problem(req, 403, "forbidden", "Forbidden", why->detail, NULL);
        return;
    }
    json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "type", "urn:opx:problem:wrong-state", "title",
                          "Conflict", "status", 409, "detail",
                          why && why->detail[0] ? why->detail : "the money does not allow this move",
                          "entity", entity, "state", why ? why->state : "");
    json_object_set_new(p, "instance", json_string(req->path ? req->path : ""));
    json_object_set_new(p, "request_id", json_string(req->request_id));
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    http_respond(req, 409, "application/problem+json", text, strlen(text));
    free(text);
}

/* a contract call's state: the result is large, so it is malloc'd */
typedef struct {
    http_req *req;
    store_contract *k;
    store_money_conflict why;
    int status; /* answer status on success */
} kstate;

/* a zeroed call state of `size` bytes that starts with a kstate (so the
 * larger states below extend it), with the contract result malloc'd; NULL
 * when memory is short (503 answered) */
static void *kstate_alloc(http_req *req, size_t size)
{
    kstate *st = arena_alloc(&req->arena, size);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return NULL;
    }
    memset(st, 0, size);
    if (!(st->k = calloc(1, sizeof *st->k))) {
        api_store_error(req, STORE_BUSY);
        return NULL;
    }
    st->req = req;
    st->status = 200;
    return st;
}

static kstate *kstate_new(http_req *req)
{
    return kstate_alloc(req, sizeof(kstate));
}

/* after the store call: on failure answers it and frees the result (1 is
 * returned so the caller frees its own extras); on success the callback
 * holds a reference */
static int kstate_track(kstate *st, int rc)
{
    if (rc < 0) {
        free(st->k);
        st->k = NULL;
        api_store_error(st->req, rc);
        return 1;
    }
    http_req_ref(st->req);
    return 0;
}

static void kstate_end(kstate *st)
{
    store_contract_free(st->k);
    free(st->k);
    st->k = NULL;
    http_req_unref(st->req);
}

static void on_contract(void *ctx, int rc)
{
    kstate *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) http_problem(req, 404, "not-found", "Not Found", "no such contract", NULL);
        else if (rc == STORE_CONFLICT) api_money_conflict(req, &st->why);
        else if (rc < 0) api_store_error(req, rc);
        else {
            if (st->status == 201) http_add_header(req, "Location: /api/v1/contracts/%s", st->k->id);
            http_respond_json(req, st->status, api_contract_json(st->k));
        }
    }
    kstate_end(st);
}

/* an engagement started or ended: matching sees whether the engineer is busy */
static void on_engagement(void *ctx, int rc)
{
    kstate *st = ctx;
    if (rc == STORE_OK) shortlist_set_busy(st->k->engineer_id, st->k->engineer_busy);
    on_contract(ctx, rc);
}

/* GET: parties and admins; others 404 */
static void on_contract_read(void *ctx, int rc)
{
    kstate *st = ctx;
    http_req *req = st->req;
    const http_auth *a = &req->auth;
    if (rc == STORE_OK && strcmp(a->id, st->k->client_id) != 0 && strcmp(a->id, st->k->engineer_id) != 0 &&
        !(a->role_bit & ROLE_ADMIN))
        rc = STORE_NOTFOUND;
    on_contract(ctx, rc);
}

void api_contract_get(http_req *req)
{
    kstate *st = kstate_new(req);
    if (!st) return;
    int rc = STORE_CALL(APP->store, contract_get, http_param_get(req, "id"), st->k, req->deadline_ns,
                        on_contract_read, st);
    kstate_track(st, rc);
}


/* ---- GET /api/v1/terms --------------------------------------------------------------- */

/* The marketplace's terms as this server applies them, so what a client
 * reads before an offer (the fee, the currencies, the deadlines) is the
 * server's configuration, not a copy in the web app. */
void api_terms(http_req *req)
{
    json_t *cur = json_array();
    for (int i = 0; ledger_currencies[i]; i++) json_array_append_new(cur, json_string(ledger_currencies[i]));
    http_respond_json(req, 200,
                      json_pack("{s:i, s:o, s:i, s:i, s:i, s:i}", "fee_bps", APP->cfg.fee_bps, "currencies", cur,
                                "match_sla_seconds", REQUEST_SLA_S, "invitation_ttl_seconds", REQUEST_INVITE_TTL_S,
                                "milestone_auto_release_seconds", MILESTONE_AUTO_RELEASE_S,
                                "timesheet_auto_release_seconds", TIMESHEET_AUTO_RELEASE_S));
}

/* ---- POST /api/v1/contracts ----------------------------------------------------------------- */

/* Monday of the week holding t (UTC), as YYYY-MM-DD */
static void week_of(int64_t t, char out[11])
{
    int64_t days = t / 86400;
    int64_t monday = days - ((days + 3) % 7); /* 1970-01-01 was a Thursday */
    char day[32];
    clock_rfc3339(monday * 86400, day);
    memcpy(out, day, 10);
    out[10] = '\0';
}

void api_contract_offer(http_req *req)
{
    json_t *body = http_json_body(req, contract_offer_fields);
    if (!body) return;
    int64_t now = clock_now_s();
    jv_errors errs = {.n = 0};
    contracts_check_offer(body, now - now % 86400, &errs);
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    kstate *st = kstate_new(req);
    if (!st) {
        json_decref(body);
        return;
    }
    store_contract *k = st->k;
    id_new("ctr", k->id);
    snprintf(k->candidate_id, sizeof k->candidate_id, "%s", json_string_value(json_object_get(body, "candidate_id")));
    snprintf(k->client_id, sizeof k->client_id, "%s", req->auth.id);
    snprintf(k->type, sizeof k->type, "%s", json_string_value(json_object_get(body, "type")));
    snprintf(k->currency, sizeof k->currency, "%s", json_string_value(json_object_get(body, "currency")));
    k->fee_bps = APP->cfg.fee_bps;
    k->created_at = now;
    if (strcmp(k->type, "fixed") == 0) {
        json_t *ms = json_object_get(body, "milestones");
        size_t i;
        json_t *m;
        json_array_foreach(ms, i, m) {
            store_milestone *x = &k->milestones[k->nmilestones++];
            id_new("mst", x->id);
            snprintf(x->title, sizeof x->title, "%s", json_string_value(json_object_get(m, "title")));
            x->amount = json_integer_value(json_object_get(m, "amount"));
            snprintf(x->due, sizeof x->due, "%s", json_string_value(json_object_get(m, "due")));
        }
    } else {
        k->hourly_rate = json_integer_value(json_object_get(body, "hourly_rate"));
        k->weekly_cap_hours = (int)json_integer_value(json_object_get(body, "weekly_cap_hours"));
        const char *start = json_string_value(json_object_get(body, "start_date"));
        store_milestone *x = &k->milestones[k->nmilestones++];
        id_new("mst", x->id);
        char week[11];
        week_of(start ? requests_parse_date(start) : now, week);
        memcpy(x->week_start, week, sizeof week);
        snprintf(x->title, sizeof x->title, "Week of %s", week);
        x->amount = k->hourly_rate * k->weekly_cap_hours;
    }
    json_decref(body);
    st->status = 201;
    int rc = STORE_CALL(APP->store, contract_offer, k, &st->why, req->deadline_ns, on_contract, st);
    kstate_track(st, rc);
}

/* ---- POST /api/v1/contracts/{id}/accept and /decline ------------------------------------------ */

static void answer(http_req *req, const char *to)
{
    if (req->body.len) {
        static const jv_field none[] = {{NULL, 0, 0, 0, 0, NULL, NULL}};
        json_t *b = http_json_body(req, none);
        if (!b) return;
        json_decref(b);
    }
    kstate *st = kstate_new(req);
    if (!st) return;
    int rc = STORE_CALL(APP->store, contract_answer, http_param_get(req, "id"), req->auth.id, to, clock_now_s(),
                        st->k, &st->why, req->deadline_ns, on_engagement, st);
    kstate_track(st, rc);
}

void api_contract_accept(http_req *req)
{
    answer(req, "active");
}

void api_contract_decline(http_req *req)
{
    answer(req, "declined");
}

/* ---- POST /api/v1/milestones/{id}/submit and /request-changes ----------------------------------- */

typedef struct {
    kstate ks;
    char milestone_id[32];
    char *note, *links;
    store_idem_done out;
} mstate;

static char *render_milestone(const store_idem_done *self, const store_contract *k, int *status)
{
    *status = 200;
    for (int i = 0; i < k->nmilestones; i++)
        if (strcmp(k->milestones[i].id, self->milestone_id) == 0) {
            json_t *j = api_milestone_json(k, &k->milestones[i]);
            char *t = json_dumps(j, JSON_COMPACT);
            json_decref(j);
            return t;
        }
    return strdup("{}");
}

static void on_moved(void *ctx, int rc)
{
    mstate *st = ctx;
    http_req *req = st->ks.req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) http_problem(req, 404, "not-found", "Not Found", "no such milestone", NULL);
        else if (rc == STORE_CONFLICT) api_money_conflict(req, &st->ks.why);
        else if (rc < 0) api_store_error(req, rc);
        else if (st->out.response)
            http_respond(req, st->out.status, "application/json; charset=utf-8", st->out.response,
                         strlen(st->out.response));
        else api_store_error(req, STORE_BUSY);
    }
    free(st->out.response);
    free(st->note);
    free(st->links);
    kstate_end(&st->ks);
}

static void move(http_req *req, mstate *st, const char *to)
{
    snprintf(st->milestone_id, sizeof st->milestone_id, "%s", http_param_get(req, "id"));
    memcpy(st->out.milestone_id, st->milestone_id, sizeof st->out.milestone_id);
    st->out.render = render_milestone;
    int rc = STORE_CALL(APP->store, milestone_move, st->milestone_id, req->auth.id, to, st->note, st->links,
                        clock_now_s(), &st->out, st->ks.k, &st->ks.why, req->deadline_ns, on_moved, st);
    if (kstate_track(&st->ks, rc)) {
        free(st->note);
        free(st->links);
    }
}

static mstate *mstate_new(http_req *req)
{
    return kstate_alloc(req, sizeof(mstate));
}

static const jv_field submit_fields[] = {
    {"note", JV_STRING, 1, 1, 5000, NULL, NULL},
    {"links", JV_ARRAY_OF_STRING, 0, 0, 5, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_milestone_submit(http_req *req)
{
    json_t *body = http_json_body(req, submit_fields);
    if (!body) return;
    jv_errors errs = {.n = 0};
    json_t *links = json_object_get(body, "links");
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l) {
        const char *u = json_string_value(l);
        char field[16];
        snprintf(field, sizeof field, "links[%zu]", i);
        const char *host = !u ? NULL : strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
        if (!u || strlen(u) > 200 || !host || !*host || *host == '/' || strpbrk(u, " \t\r\n"))
            jv_add_error(&errs, field, "must be an http(s) URL with a host, at most 200 characters");
    }
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    mstate *st = mstate_new(req);
    if (!st) {
        json_decref(body);
        return;
    }
    st->note = strdup(json_string_value(json_object_get(body, "note")));
    st->links = links ? json_dumps(links, JSON_COMPACT) : strdup("[]");
    json_decref(body);
    move(req, st, "submitted");
}

static const jv_field changes_fields[] = {
    {"note", JV_STRING, 1, 1, 2000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_milestone_changes(http_req *req)
{
    json_t *body = http_json_body(req, changes_fields);
    if (!body) return;
    mstate *st = mstate_new(req);
    if (!st) {
        json_decref(body);
        return;
    }
    st->note = strdup(json_string_value(json_object_get(body, "note")));
    json_decref(body);
    move(req, st, "funded");
}

/* ---- POST /api/v1/contracts/{id}/end ------------------------------------------------------------ */

void api_contract_end(http_req *req)
{
    if (req->body.len) {
        static const jv_field none[] = {{NULL, 0, 0, 0, 0, NULL, NULL}};
        json_t *b = http_json_body(req, none);
        if (!b) return;
        json_decref(b);
    }
    kstate *st = kstate_new(req);
    if (!st) return;
    int rc = STORE_CALL(APP->store, contract_end, http_param_get(req, "id"), req->auth.id, clock_now_s(), st->k,
                        &st->why, req->deadline_ns, on_engagement, st);
    kstate_track(st, rc);
}

/* ---- POST /api/v1/milestones/{id}/dispute --------------------------------------------------------- */

json_t *api_dispute_json(const store_dispute *d)
{
    int resolved = strcmp(d->status, "resolved") == 0;
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:o,s:o,s:o}", "id", d->id, "milestone_id",
                     d->milestone_id, "contract_id", d->contract_id, "status", d->status, "opened_by", d->opened_by,
                     "reason", d->reason, "amount", (json_int_t)d->amount, "currency", d->currency, "release",
                     resolved ? json_integer(d->release) : json_null(), "refund",
                     resolved ? json_integer(d->refund) : json_null(), "resolved_by",
                     d->resolved_by[0] ? json_string(d->resolved_by) : json_null(), "created_at",
                     api_time_json(d->created_at), "resolved_at", api_time_json(d->resolved_at));
}

typedef struct {
    kstate ks;
    store_dispute d;
} dstate;

static void on_disputed(void *ctx, int rc)
{
    dstate *st = ctx;
    http_req *req = st->ks.req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) http_problem(req, 404, "not-found", "Not Found", "no such milestone", NULL);
        else if (rc == STORE_CONFLICT) api_money_conflict(req, &st->ks.why);
        else if (rc < 0) api_store_error(req, rc);
        else {
            http_add_header(req, "Location: /api/v1/disputes/%s", st->d.id);
            http_respond_json(req, 201, api_dispute_json(&st->d));
        }
    }
    kstate_end(&st->ks);
}

static const jv_field dispute_fields[] = {
    {"reason", JV_STRING, 1, 1, 2000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_milestone_dispute(http_req *req)
{
    json_t *body = http_json_body(req, dispute_fields);
    if (!body) return;
    dstate *st = kstate_alloc(req, sizeof(dstate));
    if (!st) {
        json_decref(body);
        return;
    }
    int rc = STORE_CALL(APP->store, dispute_open, http_param_get(req, "id"), req->auth.id,
                        json_string_value(json_object_get(body, "reason")), clock_now_s(), &st->d, st->ks.k,
                        &st->ks.why, req->deadline_ns, on_disputed, st);
    json_decref(body);
    kstate_track(&st->ks, rc);
}

/* ---- POST /api/v1/contracts/{id}/timesheets ------------------------------------------------------- */

json_t *api_timesheet_json(const store_timesheet *t)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:I,s:o,s:o}", "id", t->id, "contract_id", t->contract_id,
                     "milestone_id", t->milestone_id, "week_start", t->week_start, "hours", t->hours, "note",
                     t->note, "status", t->status, "amount", (json_int_t)t->amount, "submitted_at",
                     api_time_json(t->submitted_at), "approved_at", api_time_json(t->approved_at));
}

typedef struct {
    kstate ks;
    store_timesheet t;
} tstate;

static void on_timesheet(void *ctx, int rc)
{
    tstate *st = ctx;
    http_req *req = st->ks.req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_NOTFOUND) http_problem(req, 404, "not-found", "Not Found", "no such contract", NULL);
        else if (rc == STORE_CONFLICT && strcmp(st->ks.why.entity, "cap") == 0) {
            jv_errors errs = {.n = 0};
            jv_add_error(&errs, "hours", "is more than the contract's weekly cap of %d hours", st->ks.k->weekly_cap_hours);
            http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        } else if (rc == STORE_CONFLICT) api_money_conflict(req, &st->ks.why);
        else if (rc < 0) api_store_error(req, rc);
        else {
            http_add_header(req, "Location: /api/v1/timesheets/%s", st->t.id);
            http_respond_json(req, 201, api_timesheet_json(&st->t));
        }
    }
    kstate_end(&st->ks);
}

static const jv_field timesheet_fields[] = {
    {"week_start", JV_STRING, 1, 10, 10, NULL, NULL},
    {"hours", JV_INT, 1, 0, 60, NULL, NULL},
    {"note", JV_STRING, 1, 1, 2000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_timesheet_submit(http_req *req)
{
    json_t *body = http_json_body(req, timesheet_fields);
    if (!body) return;
    const char *week = json_string_value(json_object_get(body, "week_start"));
    int64_t t = requests_parse_date(week);
    jv_errors errs = {.n = 0};
    if (t < 0) jv_add_error(&errs, "week_start", "must be a date YYYY-MM-DD");
    else if (((t / 86400) + 3) % 7 != 0) jv_add_error(&errs, "week_start", "must be a Monday");
    else if (t > clock_now_s()) jv_add_error(&errs, "week_start", "must not be in the future");
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content", "some fields are invalid; see errors", &errs);
        return;
    }
    tstate *st = kstate_alloc(req, sizeof(tstate));
    if (!st) {
        json_decref(body);
        return;
    }
    int rc = STORE_CALL(APP->store, timesheet_submit, http_param_get(req, "id"), req->auth.id, week,
                        (int)json_integer_value(json_object_get(body, "hours")),
                        json_string_value(json_object_get(body, "note")), clock_now_s(), &st->t, st->ks.k,
                        &st->ks.why, req->deadline_ns, on_timesheet, st);
    json_decref(body);
    kstate_track(&st->ks, rc);
}
