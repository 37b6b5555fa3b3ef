/* metrics: Prometheus text exposition for the whole process.
 * HTTP request counts and latency histograms are kept per route index in
 * flat arrays (O(1) on the hot path, no allocation); other subsystems
 * register named counters and gauges read at scrape time. Loop-thread
 * only, except values read through callbacks, which must be safe. */
#ifndef OPX_METRICS_H
#define OPX_METRICS_H
#include <stdint.h>
#include "buf.h"

#define METRICS_MAX_ROUTES 96

/* route_names[i] labels route index i; copied by pointer, must outlive. */
void metrics_init(const char *const *route_names, int nroutes);
void metrics_observe_request(int route, int status, double seconds);
typedef double (*metrics_read_fn)(void *arg);
/* type: "counter" or "gauge". name must start with opx_. */
void metrics_register(const char *name, const char *help, const char *type, metrics_read_fn fn,
                      void *arg);
/* labelled counters kept here: e.g. opx_http_shed_total{reason="..."} */
void metrics_count(const char *name, const char *label_key, const char *label_value);
/* a histogram of its own (e.g. time to match); bounds ascending, copied */
typedef struct metrics_hist metrics_hist;
metrics_hist *metrics_hist_new(const char *name, const char *help, const double *bounds, int n);
void metrics_hist_observe(metrics_hist *h, double v);
int metrics_render(buf *out);
void metrics_free(void);
#endif
