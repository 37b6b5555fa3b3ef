/* sla: the SLA's job handlers and metrics (see sla.h). */
#include "sla.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/metrics.h"
#include "../core/token.h"
#include "jobs.h"
#include "../rules/matching.h"
#include "../rules/requests.h"
#include "shortlist.h"

static store *ST;
static metrics_hist *time_to_match;
static uint64_t hits, breaches;

static double m_hits(void *a)
{
    (void)a;
    return (double)hits;
}

static double m_breaches(void *a)
{
    (void)a;
    return (double)breaches;
}

void sla_observe_match(int64_t created_at, int64_t deadline, int64_t now)
{
    metrics_hist_observe(time_to_match, (double)(now - created_at));
    if (now <= deadline) hits++;
}

unsigned sla_relax_flags(const char *relaxed)
{
    unsigned f = 0;
    if (strstr(relaxed, "\"nice_to_have\"")) f |= MATCH_RELAX_NICE;
    if (strstr(relaxed, "\"seniority\"")) f |= MATCH_RELAX_SENIORITY;
    if (strstr(relaxed, "\"overlap\"")) f |= MATCH_RELAX_OVERLAP;
    return f;
}

static uint64_t job_deadline(void)
{
    return clock_mono_ns() + 30ull * 1000000000ull;
}

/* ---- the context a job carries through its store calls -------------------- */

typedef struct {
    store_job job;
    jobs_finish_fn finish;
    void *finish_ctx;
    store_candidate cand;
    store_candidate repl[REQUEST_REPLACEMENT_OPTIONS];
    store_move_result res;
    store_request r;     /* as read */
    store_request widen; /* the half-time step to write */
} job_ctx;

static job_ctx *ctx_new(const store_job *job, jobs_finish_fn finish, void *fctx)
{
    job_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->job = *job;
    c->finish = finish;
    c->finish_ctx = fctx;
    return c;
}

static void ctx_end(job_ctx *c, int rc)
{
    c->finish(c->finish_ctx, rc);
    free(c);
}

static void on_job_done(void *arg, int rc)
{
    ctx_end(arg, rc);
}

/* nothing to do any more: just complete the job */
static void complete(job_ctx *c)
{
    int rc = STORE_CALL(ST, job_done, c->job.id, clock_now_s(), NULL, job_deadline(), on_job_done, c);
    if (rc < 0) ctx_end(c, rc);
}

/* ---- invite.expire -------------------------------------------------------------- */

static void on_expired(void *arg, int rc)
{
    job_ctx *c = arg;
    ctx_end(c, rc);
}

static void on_expire_request(void *arg, int rc)
{
    job_ctx *c = arg;
    if (rc < 0) {
        ctx_end(c, rc);
        return;
    }
    int n = 0;
    /* a matched request needs nobody new */
    if (strcmp(c->r.status, "matching") == 0 || strcmp(c->r.status, "breached") == 0)
        n = shortlist_pick(c->r.spec, sla_relax_flags(c->r.relaxed), &c->r, c->r.ncand + 1, c->repl,
                           REQUEST_REPLACEMENT_OPTIONS);
    int64_t now = clock_now_s();
    requests_prepare_invites(c->r.id, c->repl, n, now);
    int src = STORE_CALL(ST, candidate_move, c->job.ref, NULL, "expired", NULL, now, c->job.id,
                         c->repl, n, &c->res, job_deadline(), on_expired, c);
    if (src < 0) ctx_end(c, src);
}

static void on_expire_candidate(void *arg, int rc)
{
    job_ctx *c = arg;
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && strcmp(c->cand.status, "invited") != 0)) {
        complete(c);
        return;
    }
    if (rc < 0) {
        ctx_end(c, rc);
        return;
    }
    int src = STORE_CALL(ST, request_get, c->cand.request_id, &c->r, job_deadline(), on_expire_request, c);
    if (src < 0) ctx_end(c, src);
}

static void job_invite_expire(const store_job *job, jobs_finish_fn finish, void *fctx)
{
    job_ctx *c = ctx_new(job, finish, fctx);
    if (!c) {
        finish(fctx, STORE_BUSY);
        return;
    }
    int rc = STORE_CALL(ST, candidate_get, c->job.ref, &c->cand, job_deadline(), on_expire_candidate, c);
    if (rc < 0) ctx_end(c, rc);
}

/* ---- sla.half ------------------------------------------------------------------- */

static void on_half_request(void *arg, int rc)
{
    job_ctx *c = arg;
    if (rc == STORE_NOTFOUND) {
        complete(c);
        return;
    }
    if (rc < 0) {
        ctx_end(c, rc);
        return;
    }
    int accepted = 0;
    for (int i = 0; i < c->r.ncand; i++) accepted += strcmp(c->r.cand[i].status, "accepted") == 0;
    store_request *w = &c->widen;
    memcpy(w->id, c->r.id, sizeof w->id);
    snprintf(w->relaxed, sizeof w->relaxed, "%s", c->r.relaxed[0] ? c->r.relaxed : "[]");
    w->ncand = 0;
    int open = strcmp(c->r.status, "matching") == 0 || strcmp(c->r.status, "breached") == 0;
    if (open && accepted < REQUEST_MATCHED_AT) {
        /* widen one step at a time until new people turn up */
        static const struct {
            unsigned flag;
            const char *name;
        } steps[] = {{MATCH_RELAX_NICE, "nice_to_have"},
                     {MATCH_RELAX_SENIORITY, "seniority"},
                     {MATCH_RELAX_OVERLAP, "overlap"}};
        unsigned flags = sla_relax_flags(w->relaxed);
        json_t *relaxed = json_loads(w->relaxed, 0, NULL);
        if (!json_is_array(relaxed)) {
            json_decref(relaxed);
            relaxed = json_array();
        }
        int room = STORE_MAX_CANDIDATES - c->r.ncand;
        int want = room < REQUEST_SHORTLIST ? room : REQUEST_SHORTLIST;
        for (size_t s = 0; s < sizeof steps / sizeof steps[0] && w->ncand == 0; s++) {
            if (!(flags & steps[s].flag)) {
                flags |= steps[s].flag;
                json_array_append_new(relaxed, json_string(steps[s].name));
            }
            int n = shortlist_pick(c->r.spec, flags, &c->r, c->r.ncand + 1, w->cand, want);
            if (n > 0) w->ncand = n;
        }
        char *rs = json_dumps(relaxed, JSON_COMPACT);
        json_decref(relaxed);
        snprintf(w->relaxed, sizeof w->relaxed, "%s", rs ? rs : "[]");
        free(rs);
        requests_prepare_invites(w->id, w->cand, w->ncand, clock_now_s());
    }
    int src = STORE_CALL(ST, request_widen, w, c->job.id, clock_now_s(), job_deadline(), on_job_done, c);
    if (src < 0) ctx_end(c, src);
}

static void job_sla_half(const store_job *job, jobs_finish_fn finish, void *fctx)
{
    job_ctx *c = ctx_new(job, finish, fctx);
    if (!c) {
        finish(fctx, STORE_BUSY);
        return;
    }
    int rc = STORE_CALL(ST, request_get, c->job.ref, &c->r, job_deadline(), on_half_request, c);
    if (rc < 0) ctx_end(c, rc);
}

/* ---- sla.deadline --------------------------------------------------------------- */

static void on_deadline(void *arg, int rc)
{
    job_ctx *c = arg;
    if (rc == STORE_OK && strcmp(c->res.request_status, "breached") == 0) breaches++;
    if (rc == STORE_NOTFOUND) {
        complete(c);
        return;
    }
    ctx_end(c, rc);
}

static void job_sla_deadline(const store_job *job, jobs_finish_fn finish, void *fctx)
{
    job_ctx *c = ctx_new(job, finish, fctx);
    if (!c) {
        finish(fctx, STORE_BUSY);
        return;
    }
    int rc = STORE_CALL(ST, request_deadline, c->job.ref, c->job.id, clock_now_s(), &c->res,
                        job_deadline(), on_deadline, c);
    if (rc < 0) ctx_end(c, rc);
}

void sla_init(store *s)
{
    ST = s;
    static const double bounds[] = {60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400};
    time_to_match = metrics_hist_new("opx_time_to_match_seconds",
                                     "From a request's submission to its third acceptance.", bounds,
                                     (int)(sizeof bounds / sizeof bounds[0]));
    metrics_register("opx_sla_hits_total", "Requests matched within their 8-hour SLA.", "counter",
                     m_hits, NULL);
    metrics_register("opx_sla_breaches_total", "Requests that reached their SLA deadline unmatched.",
                     "counter", m_breaches, NULL);
    jobs_register("invite.expire", job_invite_expire);
    jobs_register("sla.half", job_sla_half);
    jobs_register("sla.deadline", job_sla_deadline);
}
