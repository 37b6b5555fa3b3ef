/* assessments: starting, showing and submitting an engineer's timed quiz.
 * The draw and its grading are rules/assessment.c; the rules on when an
 * attempt may start or be submitted are enforced by the store inside one
 * transaction (late and duplicate submissions change nothing). An attempt
 * is visible to its engineer only: anyone else gets 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/token.h"
#include "../rules/assessment.h"
#include "../rules/vetting.h"
#include "api.h"

/* ---- POST /api/v1/me/assessment ------------------------------------------------------ */

typedef struct {
    http_req *req;
    store_attempt a;
    store_vet_result res;
} start_state;

static void on_started(void *ctx, int rc)
{
    start_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_CONFLICT) {
            api_vetting_conflict(req, &st->res);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_add_header(req, "Location: /api/v1/assessments/%s", st->a.id);
            http_respond_json(req, 201,
                              json_pack("{s:s,s:s,s:o,s:o,s:o,s:i,s:i}", "id", st->a.id, "status",
                                        "open", "questions", assessment_questions_json(st->a.questions),
                                        "started_at", api_time_json(st->a.started_at), "expires_at",
                                        api_time_json(st->a.expires_at), "attempts_left", st->res.attempts_left,
                                        "pass_mark", VETTING_PASS_MARK));
        }
    }
    http_req_unref(req);
}

void api_assessment_start(http_req *req)
{
    if (req->body.len) {
        http_problem(req, 413, "body-too-large", "Content Too Large", "this route takes no body", NULL);
        return;
    }
    start_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    id_new("att", st->a.id);
    snprintf(st->a.user_id, sizeof st->a.user_id, "%s", req->auth.id);
    if (assessment_draw(st->a.questions, sizeof st->a.questions) < 0) {
        http_problem(req, 500, "internal", "Internal Server Error", "could not draw questions", NULL);
        return;
    }
    st->a.started_at = clock_now_s();
    st->a.expires_at = st->a.started_at + VETTING_ATTEMPT_SECONDS;
    api_track(req, STORE_CALL(APP->store, attempt_start, &st->a, &st->res, req->deadline_ns,
                              on_started, st));
}

/* ---- GET /api/v1/assessments/{id} ------------------------------------------------------ */

typedef struct {
    http_req *req;
    store_attempt a;
    json_t *answers; /* submit only */
    json_t *results;
    store_vet_result res;
} attempt_state;

static int not_mine(http_req *req, const store_attempt *a, int rc)
{
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && strcmp(a->user_id, req->auth.id) != 0)) {
        http_problem(req, 404, "not-found", "Not Found", "no such assessment", NULL);
        return 1;
    }
    if (rc < 0) {
        api_store_error(req, rc);
        return 1;
    }
    return 0;
}

static void on_attempt(void *ctx, int rc)
{
    attempt_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req) && !not_mine(req, &st->a, rc)) {
        const store_attempt *a = &st->a;
        const char *status = a->submitted_at ? "submitted"
                             : clock_now_s() >= a->expires_at ? "expired" : "open";
        http_respond_json(
            req, 200,
            json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "id", a->id, "status", status,
                      "questions", assessment_questions_json(a->questions), "started_at",
                      api_time_json(a->started_at), "expires_at", api_time_json(a->expires_at), "submitted_at",
                      api_time_json(a->submitted_at), "score",
                      a->submitted_at ? json_integer(a->score) : json_null(), "passed",
                      a->submitted_at ? json_boolean(a->passed) : json_null()));
    }
    http_req_unref(req);
}

void api_assessment_get(http_req *req)
{
    attempt_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    api_track(req, STORE_CALL(APP->store, attempt_get, http_param_get(req, "id"), &st->a,
                              req->deadline_ns, on_attempt, st));
}

/* ---- POST /api/v1/assessments/{id}/submit ------------------------------------------------ */

static const jv_field answer_spec[] = {
    {"question_id", JV_STRING, 1, 1, 64, NULL, NULL},
    {"choice", JV_INT, 1, 0, 3, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};
static const jv_field submit_spec[] = {
    {"answers", JV_ARRAY_OF_OBJECT, 1, 0, VETTING_QUESTIONS, NULL, answer_spec},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static void release(attempt_state *st)
{
    json_decref(st->answers);
    json_decref(st->results);
    st->answers = st->results = NULL;
}

static void on_finished(void *ctx, int rc)
{
    attempt_state *st = ctx;
    http_req *req = st->req;
    if (!http_req_cancelled(req)) {
        if (rc == STORE_CONFLICT) {
            api_vetting_conflict(req, &st->res);
        } else if (rc < 0) {
            api_store_error(req, rc);
        } else {
            http_respond_json(req, 200,
                              json_pack("{s:s,s:i,s:i,s:i,s:b,s:O,s:{s:s}}", "id", st->a.id, "score",
                                        st->a.score, "total", VETTING_QUESTIONS, "pass_mark",
                                        VETTING_PASS_MARK, "passed", st->a.passed, "results",
                                        st->results, "vetting", "status", st->res.status));
        }
    }
    release(st);
    http_req_unref(req);
}

static void on_attempt_for_submit(void *ctx, int rc)
{
    attempt_state *st = ctx;
    http_req *req = st->req;
    if (http_req_cancelled(req) || not_mine(req, &st->a, rc)) goto out;
    store_attempt *a = &st->a;
    int64_t now = clock_now_s();
    if (a->submitted_at || now >= a->expires_at) { /* the store checks again, atomically */
        st->res.reason = VET_ATTEMPT_CLOSED;
        api_vetting_conflict(req, &st->res);
        goto out;
    }
    jv_errors errs = {.n = 0};
    int score = 0;
    if (assessment_grade(a->questions, json_object_get(st->answers, "answers"), &errs, &score,
                         &st->results, a->answers, sizeof a->answers) < 0) {
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some answers are invalid; see errors", &errs);
        goto out;
    }
    a->score = score;
    a->passed = score >= VETTING_PASS_MARK;
    int src = STORE_CALL(APP->store, attempt_finish, a, now, &st->res, req->deadline_ns,
                         on_finished, st);
    api_track(req, src);
    if (src >= 0) { /* on_finished owns the results now */
        http_req_unref(req);
        return;
    }
out:
    release(st);
    http_req_unref(req);
}

void api_assessment_submit(http_req *req)
{
    json_t *body = http_json_body(req, submit_spec);
    if (!body) return;
    attempt_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        json_decref(body);
        api_store_error(req, STORE_BUSY);
        return;
    }
    memset(st, 0, sizeof *st);
    st->req = req;
    st->answers = body;
    int rc = STORE_CALL(APP->store, attempt_get, http_param_get(req, "id"), &st->a,
                        req->deadline_ns, on_attempt_for_submit, st);
    api_track(req, rc);
    if (rc < 0) release(st);
}
