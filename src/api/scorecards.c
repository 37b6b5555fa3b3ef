/* scorecards: the vetters' side: the interview queue (oldest first) and the
 * scorecard that records the interview and the decision. Who may call is in
 * the route table (vetter, admin); that nobody scores themself is checked
 * here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../services/shortlist.h"
#include "../rules/vetting.h"
#include "api.h"

/* ---- GET /api/v1/vetting/queue ------------------------------------------------------ */

static void on_queue(void *ctx, int rc)
{
    api_call *c = ctx;
    http_req *req = c->req;
    const store_queue *q = c->out;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            json_t *items = json_array();
            for (int i = 0; i < q->n; i++) {
                const store_queue_item *it = &q->items[i];
                char since[32];
                clock_rfc3339(it->waiting_since, since);
                json_t *skills = json_array();
                for (int k = 0; k < it->nskills; k++)
                    json_array_append_new(skills, json_pack("{s:s,s:i}", "id", it->skills[k].id,
                                                            "self_level", it->skills[k].self_level));
                json_array_append_new(
                    items, json_pack("{s:{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o},s:s,s:{s:i,s:i},s:o}",
                                     "engineer", "id", it->user_id, "name", it->name, "email",
                                     it->email, "headline", it->headline, "timezone", it->timezone,
                                     "hours_per_week", it->hours_per_week, "years_experience",
                                     it->years_experience, "hourly_rate",
                                     api_money_json(it->rate_amount, it->currency),
                                     "waiting_since", since, "assessment", "score", it->score,
                                     "total", VETTING_QUESTIONS, "skills", skills));
            }
            http_respond_json(req, 200, json_pack("{s:o}", "items", items));
        }
    }
    api_call_end(c);
}

void api_vetting_queue(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(store_queue));
    if (!c) return;
    api_call_track(c, STORE_CALL(APP->store, vetting_queue, c->out, req->deadline_ns, on_queue, c));
}

/* ---- POST /api/v1/engineers/{id}/scorecard ---------------------------------------------- */

static const char *const decisions[] = {"vetted", "rejected", NULL};
static const char *const levels[] = {"mid", "senior", "staff", NULL};
static const jv_field scores_spec[] = {
    {"concepts", JV_INT, 1, 1, 5, NULL, NULL},
    {"must_have", JV_INT, 1, 1, 5, NULL, NULL},
    {"testing", JV_INT, 1, 1, 5, NULL, NULL},
    {"production", JV_INT, 1, 1, 5, NULL, NULL},
    {"senior", JV_INT, 1, 1, 5, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const jv_field confirm_spec[] = {
    {"id", JV_STRING, 1, 1, 64, NULL, NULL},
    {"level", JV_INT, 1, 1, 5, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const jv_field scorecard_spec[] = {
    {"scores", JV_OBJECT, 1, 0, 0, NULL, scores_spec},
    {"skills", JV_ARRAY_OF_OBJECT, 0, 0, STORE_MAX_SKILLS, NULL, confirm_spec},
    {"decision", JV_STRING, 1, 0, 0, decisions, NULL},
    {"level", JV_STRING, 0, 0, 0, levels, NULL},
    {"notes", JV_STRING, 1, 1, 5000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

typedef struct {
    http_req *req;
    json_t *body;
    store_engineer e;
    store_scorecard sc;
    store_vet_result res;
} scorecard_state;

static void finish(scorecard_state *st)
{
    json_decref(st->body);
    st->body = NULL;
    http_req_unref(st->req);
}

static void on_engineer_after(void *ctx, int rc)
{
    scorecard_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc < 0) {
            api_store_error(req, rc);
        } else {
            shortlist_update(&st->e);
            const store_scorecard *sc = &st->sc;
            char at[32];
            clock_rfc3339(sc->created_at, at);
            json_t *card = json_pack(
                "{s:s,s:s,s:s,s:{s:i,s:i,s:i,s:i,s:i},s:s,s:o,s:s,s:s}", "id", sc->id, "engineer_id",
                sc->engineer_id, "vetter_id", sc->vetter_id, "scores", "concepts", sc->scores[0],
                "must_have", sc->scores[1], "testing", sc->scores[2], "production", sc->scores[3],
                "senior", sc->scores[4], "decision", sc->decision, "level",
                sc->level[0] ? json_string(sc->level) : json_null(), "notes", sc->notes,
                "created_at", at);
            http_add_header(req, "Location: /api/v1/engineers/%s", sc->engineer_id);
            http_respond_json(req, 201, json_pack("{s:o,s:o}", "scorecard", card, "engineer",
                                                  api_engineer_json(&st->e, req)));
        }
    }
    finish(st);
}

static void on_recorded(void *ctx, int rc)
{
    scorecard_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_CONFLICT) api_vetting_conflict(req, &st->res);
    else if (rc < 0) api_store_error(req, rc);
    else {
        /* read back what the decision made of the engineer, for the answer */
        int src = STORE_CALL(APP->store, engineer_get, st->sc.engineer_id, &st->e, req->deadline_ns,
                             on_engineer_after, st);
        if (src >= 0) return; /* on_engineer_after finishes */
        api_store_error(req, src);
    }
out:
    finish(st);
}

static void on_engineer_before(void *ctx, int rc)
{
    scorecard_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req)) goto out;
    if (rc == STORE_NOTFOUND) {
        http_problem(req, 404, "not-found", "Not Found", "no such engineer", NULL);
        goto out;
    }
    if (rc < 0) {
        api_store_error(req, rc);
        goto out;
    }
    jv_errors errs = {.n = 0};
    store_scorecard *sc = &st->sc;
    json_t *skills = json_object_get(st->body, "skills");
    size_t i;
    json_t *v;
    json_array_foreach(skills, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        char path[32];
        snprintf(path, sizeof path, "skills[%zu].id", i);
        int k = 0;
        while (k < st->e.nskills && strcmp(st->e.skills[k].id, id) != 0) k++;
        if (k == st->e.nskills) {
            jv_add_error(&errs, path, "%.40s is not one of this engineer's skills", id);
            continue;
        }
        int dup = 0;
        for (int c = 0; c < sc->nconfirm; c++) dup |= strcmp(sc->confirm[c].id, id) == 0;
        if (dup) {
            jv_add_error(&errs, path, "duplicate skill: %s", id);
            continue;
        }
        store_skill *c = &sc->confirm[sc->nconfirm++];
        snprintf(c->id, sizeof c->id, "%s", id);
        c->vetted_level = (int)json_integer_value(json_object_get(v, "level"));
    }
    if (errs.n) {
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        goto out;
    }
    int src = STORE_CALL(APP->store, scorecard_create, sc, &st->res, req->deadline_ns, on_recorded, st);
    if (src >= 0) return; /* on_recorded carries the reference on */
    api_store_error(req, src);
out:
    finish(st);
}

void api_scorecard(http_req *req)
{
    const char *engineer_id = http_param_get(req, "id");
    json_t *body = http_json_body(req, NULL);
    if (!body) return;
    jv_errors errs = {.n = 0};
    jv_validate(body, scorecard_spec, "", &errs);
    const char *decision = json_string_value(json_object_get(body, "decision"));
    json_t *level = json_object_get(body, "level");
    if (decision && strcmp(decision, "vetted") == 0 && (!level || json_is_null(level)))
        jv_add_error(&errs, "level", "is required when the decision is vetted");
    if (decision && strcmp(decision, "rejected") == 0 && level && !json_is_null(level))
        jv_add_error(&errs, "level", "must be absent when the decision is rejected");
    if (errs.n) {
        json_decref(body);
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        return;
    }
    if (strcmp(engineer_id, req->auth.id) == 0) {
        json_decref(body);
        http_problem(req, 403, "forbidden", "Forbidden", "nobody may score themself", NULL);
        return;
    }
    scorecard_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    st->body = body;
    store_scorecard *sc = &st->sc;
    id_new("scd", sc->id);
    snprintf(sc->engineer_id, sizeof sc->engineer_id, "%s", engineer_id);
    snprintf(sc->vetter_id, sizeof sc->vetter_id, "%s", req->auth.id);
    static const char *const keys[] = {"concepts", "must_have", "testing", "production", "senior"};
    json_t *scores = json_object_get(body, "scores");
    for (int i = 0; i < 5; i++) sc->scores[i] = (int)json_integer_value(json_object_get(scores, keys[i]));
    snprintf(sc->decision, sizeof sc->decision, "%s", decision);
    if (level && json_is_string(level)) snprintf(sc->level, sizeof sc->level, "%s", json_string_value(level));
    snprintf(sc->notes, sizeof sc->notes, "%s", json_string_value(json_object_get(body, "notes")));
    sc->created_at = clock_now_s();
    if (strcmp(sc->decision, "rejected") == 0) sc->reapply_after = sc->created_at + VETTING_REAPPLY_SECONDS;
    int rc = STORE_CALL(APP->store, engineer_get, engineer_id, &st->e, req->deadline_ns,
                        on_engineer_before, st);
    api_track(req, rc);
    if (rc < 0) {
        json_decref(body);
        st->body = NULL;
    }
}
