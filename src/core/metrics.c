/* metrics: counters, gauges and the request histogram (see metrics.h). */
#include "metrics.h"
#include <stdlib.h>
#include <string.h>

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,   5,    10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])
#define MAX_EXTRA 48
#define MAX_LABELLED 64

typedef struct {
    uint64_t by_status[600];
    uint64_t hist[NBOUNDS + 1];
    double sum;
    uint64_t count;
} route_stats;

typedef struct {
    const char *name, *help, *type;
    metrics_read_fn fn;
    void *arg;
} extra;

typedef struct {
    char name[64], key[32], value[64];
    uint64_t n;
} labelled;

#define MAX_HISTS 8
#define HIST_MAX_BOUNDS 16
struct metrics_hist {
    const char *name, *help;
    double bounds[HIST_MAX_BOUNDS];
    int n;
    uint64_t counts[HIST_MAX_BOUNDS + 1];
    double sum;
    uint64_t count;
};

static struct {
    struct metrics_hist hists[MAX_HISTS];
    int nhists;
} H;

metrics_hist *metrics_hist_new(const char *name, const char *help, const double *le, int n)
{
    for (int i = 0; i < H.nhists; i++)
        if (strcmp(H.hists[i].name, name) == 0) return &H.hists[i];
    if (H.nhists >= MAX_HISTS || n > HIST_MAX_BOUNDS) return NULL;
    struct metrics_hist *h = &H.hists[H.nhists++];
    memset(h, 0, sizeof *h);
    h->name = name;
    h->help = help;
    h->n = n;
    memcpy(h->bounds, le, (size_t)n * sizeof *le);
    return h;
}

void metrics_hist_observe(metrics_hist *h, double v)
{
    if (!h) return;
    int i = 0;
    while (i < h->n && v > h->bounds[i]) i++;
    h->counts[i]++;
    h->sum += v;
    h->count++;
}

static struct {
    const char *const *names;
    int nroutes;
    route_stats *routes;
    int alias[METRICS_MAX_ROUTES]; /* routes of one path (GET and PATCH /me) count as its first */
    extra extras[MAX_EXTRA];
    int nextra;
    labelled lab[MAX_LABELLED];
    int nlab;
} M;

void metrics_init(const char *const *route_names, int nroutes)
{
    if (nroutes > METRICS_MAX_ROUTES) nroutes = METRICS_MAX_ROUTES;
    M.names = route_names;
    M.nroutes = nroutes;
    free(M.routes);
    M.routes = calloc((size_t)nroutes, sizeof *M.routes);
    for (int i = 0; i < nroutes; i++) {
        M.alias[i] = i;
        for (int j = 0; j < i; j++)
            if (route_names[i] && route_names[j] && strcmp(route_names[i], route_names[j]) == 0) {
                M.alias[i] = j;
                break;
            }
    }
    M.nextra = 0;
    M.nlab = 0;
}

void metrics_free(void)
{
    free(M.routes);
    M.routes = NULL;
    M.nroutes = 0;
}

void metrics_observe_request(int route, int status, double seconds)
{
    if (!M.routes || route < 0 || route >= M.nroutes) return;
    route_stats *r = &M.routes[M.alias[route]];
    if (status >= 100 && status < 600) r->by_status[status]++;
    size_t i = 0;
    while (i < NBOUNDS && seconds > bounds[i]) i++;
    r->hist[i]++;
    r->sum += seconds;
    r->count++;
}

void metrics_register(const char *name, const char *help, const char *type, metrics_read_fn fn,
                      void *arg)
{
    if (M.nextra >= MAX_EXTRA) return;
    M.extras[M.nextra++] = (extra){name, help, type, fn, arg};
}

void metrics_count(const char *name, const char *label_key, const char *label_value)
{
    for (int i = 0; i < M.nlab; i++) {
        labelled *l = &M.lab[i];
        if (strcmp(l->name, name) == 0 && strcmp(l->key, label_key) == 0 &&
            strcmp(l->value, label_value) == 0) {
            l->n++;
            return;
        }
    }
    if (M.nlab >= MAX_LABELLED) return;
    labelled *l = &M.lab[M.nlab++];
    strncpy(l->name, name, sizeof l->name - 1);
    strncpy(l->key, label_key, sizeof l->key - 1);
    strncpy(l->value, label_value, sizeof l->value - 1);
    l->n = 1;
}

int metrics_render(buf *o)
{
    int rc = 0;
    rc |= buf_puts(o, "# HELP opx_http_requests_total HTTP requests answered, by route and status.\n"
                      "# TYPE opx_http_requests_total counter\n");
    for (int r = 0; r < M.nroutes; r++)
        for (int s = 100; s < 600; s++)
            if (M.routes[r].by_status[s])
                rc |= buf_printf(o, "opx_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                 M.names[r], s, (unsigned long long)M.routes[r].by_status[s]);
    rc |= buf_puts(o, "# HELP opx_http_request_duration_seconds Time from request parsed to "
                      "response queued, by route.\n"
                      "# TYPE opx_http_request_duration_seconds histogram\n");
    for (int r = 0; r < M.nroutes; r++) {
        route_stats *st = &M.routes[r];
        if (!st->count) continue;
        uint64_t cum = 0;
        for (size_t i = 0; i < NBOUNDS; i++) {
            cum += st->hist[i];
            rc |= buf_printf(o, "opx_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                             M.names[r], bounds[i], (unsigned long long)cum);
        }
        cum += st->hist[NBOUNDS];
        rc |= buf_printf(o,
                         "opx_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                         "opx_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                         "opx_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                         M.names[r], (unsigned long long)cum, M.names[r], st->sum, M.names[r],
                         (unsigned long long)st->count);
    }
    for (int i = 0; i < M.nextra; i++) {
        extra *e = &M.extras[i];
        rc |= buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %.9g\n", e->name, e->help, e->name,
                         e->type, e->name, e->fn(e->arg));
    }
    for (int i = 0; i < H.nhists; i++) {
        struct metrics_hist *h = &H.hists[i];
        rc |= buf_printf(o, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
        uint64_t cum = 0;
        for (int b = 0; b < h->n; b++) {
            cum += h->counts[b];
            rc |= buf_printf(o, "%s_bucket{le=\"%g\"} %llu\n", h->name, h->bounds[b], (unsigned long long)cum);
        }
        cum += h->counts[h->n];
        rc |= buf_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n%s_count %llu\n", h->name,
                         (unsigned long long)cum, h->name, h->sum, h->name, (unsigned long long)h->count);
    }
    /* labelled families: every sample of one name together, as the format requires */
    for (int i = 0; i < M.nlab; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= strcmp(M.lab[j].name, M.lab[i].name) == 0;
        if (seen) continue;
        rc |= buf_printf(o, "# TYPE %s counter\n", M.lab[i].name);
        for (int k = i; k < M.nlab; k++) {
            labelled *l = &M.lab[k];
            if (strcmp(l->name, M.lab[i].name) != 0) continue;
            rc |= buf_printf(o, "%s{%s=\"%s\"} %llu\n", l->name, l->key, l->value,
                             (unsigned long long)l->n);
        }
    }
    return rc ? -1 : 0;
}
