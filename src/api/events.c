/* events: GET /api/v1/events, the signed-in user's live event stream
 * (Server-Sent Events). The hub in src/services/events.c does the work; this
 * file reads the resume point and answers what the hub refuses. */
#include <stdlib.h>
#include <string.h>
#include "../services/events.h"
#include "api.h"

/* Last-Event-ID (the header browsers send when they reconnect) or
 * ?last_event_id= (for clients that cannot set headers): digits only */
static int resume_point(http_req *req, int64_t *out, const char **field)
{
    size_t n = 0;
    const char *v = http_header_get(req, "last-event-id", &n);
    *field = "Last-Event-ID";
    char tmp[24];
    if (!v) {
        v = http_query_get(req, "last_event_id");
        *field = "last_event_id";
        if (!v) {
            *out = -1;
            return 0;
        }
        n = strlen(v);
    }
    if (strcmp(*field, "Last-Event-ID") == 0) { /* a header's value may have spaces around it */
        while (n && (*v == ' ' || *v == '\t')) v++, n--;
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    }
    if (n == 0 || n > 18) return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9') return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    *out = strtoll(tmp, NULL, 10);
    return 0;
}

void api_events(http_req *req)
{
    int64_t last = -1;
    const char *field = NULL;
    if (resume_point(req, &last, &field) < 0) {
        jv_errors errs = {.n = 0};
        jv_add_error(&errs, field, "must be an event id this server sent (digits)");
        http_problem(req, 400, "bad-request", "Bad Request", "the resume point is not an event id", &errs);
        return;
    }
    if (req->method == HTTP_HEAD) { /* the GET's head, and no length: the body would not end */
        req->open_ended = 1;
        http_add_header(req, "Cache-Control: no-store");
        http_add_header(req, "X-Accel-Buffering: no");
        http_respond(req, 200, "text/event-stream; charset=utf-8", NULL, 0);
        return;
    }
    int rc = events_open(req, last);
    if (rc == 429) {
        http_add_header(req, "Retry-After: 5");
        http_problem(req, 429, "too-many-streams", "Too Many Requests",
                     "this account has too many open event streams; close one", NULL);
    } else if (rc == 503) {
        http_add_header(req, "Retry-After: 1");
        http_problem(req, 503, "overloaded", "Service Unavailable",
                     "this server holds as many event streams as it can; retry shortly", NULL);
    }
}
