/* ops: liveness, readiness, metrics, the OpenAPI document and the test
 * clock. /healthz answers from memory only; /readyz asks the database
 * (with a short deadline), shows its connection pool, and says not ready
 * while draining or when no connection answers. */
#include <stdio.h>
#include <string.h>
#include "../app.h"
#include "../core/clock.h"
#include "../core/metrics.h"
#include "../services/jobs.h"
#include "api.h"

extern const char openapi_json[];
extern const unsigned long openapi_json_len;

void api_healthz(http_req *req)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    http_respond(req, 200, "application/json", ok, sizeof ok - 1);
}

static void on_ping(void *ctx, int rc)
{
    http_req *req = ctx;
    if (!http_req_cancelled(req)) {
        store_stats st;
        APP->store->v->stats(APP->store, &st);
        if (rc == 0 && !APP->draining) {
            /* the pool's figures: fewer connections than its size is
             * still ready (one answered), but worth a look */
            char ok[128];
            int n = snprintf(ok, sizeof ok,
                             "{\"status\":\"ready\",\"database\":\"ok\",\"connections\":%d,"
                             "\"pool\":%d}",
                             st.connections, st.pool);
            http_add_header(req, "Cache-Control: no-store");
            http_respond(req, 200, "application/json", ok, (size_t)n);
        } else {
            http_add_header(req, "Retry-After: 1");
            http_problem(req, 503, "not-ready", "Service Unavailable",
                         APP->draining ? "the server is shutting down"
                                       : "the database is not reachable",
                         NULL);
        }
    }
    http_req_unref(req);
}

void api_readyz(http_req *req)
{
    if (APP->draining) {
        http_add_header(req, "Retry-After: 1");
        http_problem(req, 503, "not-ready", "Service Unavailable", "the server is shutting down",
                     NULL);
        return;
    }
    uint64_t deadline = clock_mono_ns() + 1000000000u; /* 1 s: readiness must be quick */
    if (deadline > req->deadline_ns) deadline = req->deadline_ns;
    http_req_ref(req);
    int rc = store_ping(APP->store, deadline, on_ping, req);
    if (rc < 0) on_ping(req, rc);
}

void api_metrics(http_req *req)
{
    buf b;
    buf_init(&b, 4u << 20);
    if (metrics_render(&b) < 0) {
        buf_free(&b);
        http_problem(req, 500, "internal", "Internal Server Error", "metrics too large", NULL);
        return;
    }
    http_add_header(req, "Cache-Control: no-store");
    http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
    buf_free(&b);
}

void api_openapi(http_req *req)
{
    http_add_header(req, "Cache-Control: public, max-age=60");
    http_respond(req, 200, "application/json", openapi_json, openapi_json_len);
}

static const jv_field clock_spec[] = {
    {"advance_seconds", JV_INT, 1, 0, 10LL * 365 * 24 * 3600, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

void api_test_clock(http_req *req)
{
    json_t *body = http_json_body(req, clock_spec);
    if (!body) return;
    clock_advance(json_integer_value(json_object_get(body, "advance_seconds")));
    json_decref(body);
    jobs_kick(); /* what became due runs now, not at the next tick */
    char now[32];
    clock_rfc3339(clock_now_s(), now);
    http_respond_json(req, 200, json_pack("{s:s,s:I}", "now", now, "offset_seconds",
                                          (json_int_t)clock_offset_s()));
}
