/* events: the live event hub (see events.h). */
#include "events.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/metrics.h"

#define BUCKETS 4096
#define HEARTBEAT_SLICES 64 /* a heartbeat period is this many ticks */
#define HEARTBEAT_TICK_MIN_MS 10
#define FETCH_DEADLINE_NS 10000000000ull

typedef struct pending {
    int64_t id;
    size_t len;
    char frame[];
} pending;

typedef struct sub {
    struct sub *bnext, *bprev; /* same bucket */
    struct sub *anext, *aprev; /* all streams, for heartbeats */
    http_stream *stream;       /* NULL once closed */
    char user_id[32];
    char session[65];          /* the session hash that opened it */
    int64_t last_sent, resume_from;
    int replaying;
    int npending;
    pending **held;            /* live events that arrived during the replay */
    store_event_page *replay;
} sub;

static struct {
    store *st;
    events_config cfg;
    uv_timer_t heartbeat, prune;
    int64_t pruned_below;      /* every id <= this may have been deleted */
    int pruning;
    int64_t prune_max;
    int started;
    sub *buckets[BUCKETS];
    sub *all;
    int nsubs;
    int64_t cursor;            /* every event <= cursor has been fanned out */
    int64_t head;              /* the highest committed id announced */
    int fetching, again, ready;
    sub *hb_next;              /* the next stream to get a heartbeat */
    uint64_t hb_ticks;
    int hb_per_period;         /* ticks in one heartbeat period */
    store_event_page page;
    uint64_t sent, replayed, resets;
} H;

void events_config_default(events_config *cfg)
{
    cfg->max_streams = 20000;
    cfg->max_per_user = 16;
    cfg->heartbeat_ms = 15000;
    cfg->max_queued = 256 * 1024;
    cfg->retry_ms = 3000;
}

int events_streams(void)
{
    return H.nsubs;
}

static unsigned bucket_of(const char *user_id)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)user_id; *p; p++) h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

/* "id: N\nevent: kind\ndata: payload\n\n"; the payload is compact JSON
 * from the store (no newlines), so one data line carries it */
static char *format(const store_event *e, size_t *len)
{
    size_t cap = strlen(e->payload) + strlen(e->kind) + 64;
    char *f = malloc(cap);
    if (!f) return NULL;
    int n = snprintf(f, cap, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)e->id, e->kind,
                     e->payload);
    *len = (size_t)n;
    return f;
}

static void sub_free(sub *s)
{
    for (int i = 0; i < s->npending; i++) free(s->held[i]);
    free(s->held);
    if (s->replay) store_events_free(s->replay);
    free(s->replay);
    free(s);
}

static void sub_unlink(sub *s)
{
    if (H.hb_next == s) H.hb_next = s->anext;
    unsigned b = bucket_of(s->user_id);
    if (s->bprev) s->bprev->bnext = s->bnext;
    else H.buckets[b] = s->bnext;
    if (s->bnext) s->bnext->bprev = s->bprev;
    if (s->aprev) s->aprev->anext = s->anext;
    else H.all = s->anext;
    if (s->anext) s->anext->aprev = s->aprev;
    H.nsubs--;
}

/* the connection is gone (client, slow, drain): forget the stream; a
 * replay still in flight frees the rest when it returns */
static void on_stream_closed(void *owner)
{
    sub *s = owner;
    s->stream = NULL;
    sub_unlink(s);
    if (!s->replay) sub_free(s);
}

static void send_frame(sub *s, int64_t id, const char *frame, size_t len)
{
    if (!s->stream || id <= s->last_sent) return;
    s->last_sent = id;
    H.sent++;
    http_stream_write(s->stream, frame, len); /* may close: on_stream_closed */
}

/* ---- live fan-out -------------------------------------------------------- */

static void fetch(void);
static int ask_head(void);

static void hold(sub *s, int64_t id, const char *frame, size_t len)
{
    if (s->npending >= EVENTS_PENDING_MAX) { /* the replay is far too slow: start over */
        metrics_count("opx_http_streams_dropped_total", "reason", "replay_backlog");
        http_stream *st = s->stream;
        on_stream_closed(s); /* s stays (replay in flight) */
        http_stream_end(st, NULL, 0);
        return;
    }
    if (!s->held && !(s->held = calloc(EVENTS_PENDING_MAX, sizeof *s->held))) return;
    pending *p = malloc(sizeof *p + len);
    if (!p) return;
    p->id = id;
    p->len = len;
    memcpy(p->frame, frame, len);
    s->held[s->npending++] = p;
}

static void fan_out(const store_event *e)
{
    sub *s = H.buckets[bucket_of(e->user_id)];
    char *frame = NULL;
    size_t len = 0;
    while (s) {
        sub *next = s->bnext; /* s may be unlinked by a failed write */
        if (strcmp(s->user_id, e->user_id) == 0) {
            if (!frame && !(frame = format(e, &len))) return;
            if (s->replaying) hold(s, e->id, frame, len);
            else send_frame(s, e->id, frame, len);
        }
        s = next;
    }
    free(frame);
}

static void on_fetched(void *ctx, int rc)
{
    (void)ctx;
    H.fetching = 0;
    if (rc < 0) {
        log_msgf(LOG_WARN, "reading events failed: %s; retried on the next commit or heartbeat",
                 store_strerror(rc));
        store_events_free(&H.page);
        return;
    }
    int full = H.page.n == STORE_EVENTS_MAX;
    for (int i = 0; i < H.page.n; i++) {
        fan_out(&H.page.items[i]);
        H.cursor = H.page.items[i].id;
    }
    store_events_free(&H.page);
    if (full || H.again || H.head > H.cursor) fetch();
}

static void fetch(void)
{
    if (!H.started) return;
    if (H.fetching) {
        H.again = 1;
        return;
    }
    H.again = 0;
    if (H.nsubs == 0) { /* nobody listens: nothing to read */
        if (H.head > H.cursor) H.cursor = H.head;
        return;
    }
    if (H.head <= H.cursor) return;
    H.fetching = 1;
    int rc = STORE_CALL(H.st, events_after, NULL, H.cursor, STORE_EVENTS_MAX, &H.page,
                        clock_mono_ns() + FETCH_DEADLINE_NS, on_fetched, NULL);
    if (rc < 0) H.fetching = 0;
}

static void on_commit(void *data, int64_t max_id)
{
    (void)data;
    if (max_id > H.head) H.head = max_id;
    fetch();
}

/* ---- opening a stream and replaying ---------------------------------------- */

/* s->replay stays set until the end: on_stream_closed leaves s alone while
 * it is, and whoever clears it frees s when the stream has gone */
static void on_replayed(void *ctx, int rc)
{
    sub *s = ctx;
    store_event_page *page = s->replay;
    if (rc < 0 && s->stream) {
        log_msgf(LOG_WARN, "event replay failed: %s; the stream ends, the client retries",
                 store_strerror(rc));
        http_stream *st = s->stream;
        on_stream_closed(s);
        http_stream_end(st, NULL, 0);
    }
    for (int i = 0; rc == 0 && i < page->n && s->stream; i++) {
        size_t len;
        char *f = format(&page->items[i], &len);
        if (f) send_frame(s, page->items[i].id, f, len);
        free(f);
        H.replayed++;
    }
    if (rc == 0 && s->stream && (page->n == EVENTS_REPLAY_MAX || s->resume_from < H.pruned_below)) {
        /* more were missed than a replay carries: the client reloads its
         * state, and the stream goes on from the live position */
        H.resets++;
        int64_t resume = H.cursor > s->last_sent ? H.cursor : s->last_sent;
        char f[160];
        int n = snprintf(f, sizeof f,
                         "id: %lld\nevent: reset\ndata: {\"reason\":\"%s\"}\n\n", (long long)resume,
                         page->n == EVENTS_REPLAY_MAX ? "too many missed events" : "events this old are no longer kept");
        s->last_sent = resume;
        http_stream_write(s->stream, f, (size_t)n);
    }
    s->replaying = 0;
    for (int i = 0; i < s->npending; i++) {
        if (s->stream) send_frame(s, s->held[i]->id, s->held[i]->frame, s->held[i]->len);
        free(s->held[i]);
    }
    s->npending = 0;
    free(s->held);
    s->held = NULL;
    s->replay = NULL;
    store_events_free(page);
    free(page);
    if (!s->stream) sub_free(s);
}

int events_open(http_req *req, int64_t last_id)
{
    if (!H.ready) return 503; /* the head is not known yet: "live" has no start */
    if (H.nsubs >= H.cfg.max_streams) {
        metrics_count("opx_http_shed_total", "reason", "streams");
        return 503;
    }
    int mine = 0;
    for (sub *s = H.buckets[bucket_of(req->auth.id)]; s; s = s->bnext)
        if (strcmp(s->user_id, req->auth.id) == 0) mine++;
    if (mine >= H.cfg.max_per_user) return 429;
    sub *s = calloc(1, sizeof *s);
    if (!s) return 503;
    snprintf(s->user_id, sizeof s->user_id, "%s", req->auth.id);
    snprintf(s->session, sizeof s->session, "%s", req->auth.session_hash);
    /* a client has only seen ids up to the head: a larger one (made up, or
     * from another database) resumes from the head instead of silently
     * skipping every event up to it */
    if (last_id > H.head) last_id = H.head;
    s->last_sent = last_id >= 0 ? last_id : H.cursor > H.head ? H.cursor : H.head;
    s->resume_from = last_id;
    if (last_id >= 0) {
        s->replaying = 1;
        if (!(s->replay = calloc(1, sizeof *s->replay))) {
            free(s);
            return 503;
        }
    }
    static char goodbye[64];
    snprintf(goodbye, sizeof goodbye, "retry: %d\n\n", H.cfg.retry_ms);
    http_stream *st = http_stream_open(req, "text/event-stream; charset=utf-8", H.cfg.max_queued,
                                       goodbye, on_stream_closed, s);
    if (!st) {
        sub_free(s);
        return 0;
    }
    s->stream = st;
    unsigned b = bucket_of(s->user_id);
    s->bnext = H.buckets[b];
    if (s->bnext) s->bnext->bprev = s;
    H.buckets[b] = s;
    s->anext = H.all;
    if (s->anext) s->anext->aprev = s;
    H.all = s;
    H.nsubs++;
    char hello[48];
    int n = snprintf(hello, sizeof hello, "retry: %d\n: connected\n\n", H.cfg.retry_ms);
    int replay_due = s->replaying;
    if (http_stream_write(st, hello, (size_t)n) < 0) {
        /* closed at once: on_stream_closed freed s, unless a replay was due */
        if (replay_due) sub_free(s);
        return 0;
    }
    if (s->replaying) {
        int rc = STORE_CALL(H.st, events_after, s->user_id, last_id, EVENTS_REPLAY_MAX, s->replay,
                            clock_mono_ns() + FETCH_DEADLINE_NS, on_replayed, s);
        if (rc < 0) on_replayed(s, rc);
    }
    fetch(); /* events committed before the first subscriber may wait */
    return 0;
}

int events_close_user(const char *user_id, const char *keep)
{
    int n = 0;
    sub *s = H.buckets[bucket_of(user_id)];
    while (s) {
        sub *next = s->bnext;
        if (s->stream && strcmp(s->user_id, user_id) == 0 && !(keep && strcmp(s->session, keep) == 0)) {
            http_stream *st = s->stream;
            on_stream_closed(s); /* unlinks; frees s unless a replay is in flight */
            http_stream_end(st, NULL, 0);
            n++;
        }
        s = next;
    }
    if (n) metrics_count("opx_http_streams_dropped_total", "reason", "session_ended");
    return n;
}

/* ---- heartbeats --------------------------------------------------------- */

/* Heartbeats go out in slices: each tick writes to its share of the
 * streams, continuing where the last tick stopped, so every stream gets
 * one per heartbeat period without one pass over all of them stalling the
 * loop (measured: a single pass over 10,000 streams held it ~100 ms). */
static void on_heartbeat(uv_timer_t *t)
{
    (void)t;
    static const char beat[] = ": heartbeat\n\n";
    int slice = H.nsubs / H.hb_per_period + 1;
    for (int i = 0; i < slice && H.nsubs > 0; i++) {
        if (!H.hb_next) H.hb_next = H.all;
        sub *s = H.hb_next;
        H.hb_next = s->anext; /* before the write: it may unlink s */
        if (s->stream) http_stream_write(s->stream, beat, sizeof beat - 1);
    }
    if (++H.hb_ticks % (uint64_t)H.hb_per_period == 0) {
        if (!H.ready) ask_head();
        fetch(); /* a poke lost to a failed read is retried here */
    }
}

/* ---- retention ---------------------------------------------------------- */

static void on_pruned(void *ctx, int rc)
{
    (void)ctx;
    H.pruning = 0;
    if (rc < 0) {
        log_msgf(LOG_WARN, "pruning old events failed: %s; retried in an hour", store_strerror(rc));
        return;
    }
    if (H.prune_max > H.pruned_below) H.pruned_below = H.prune_max;
    if (H.prune_max) log_msgf(LOG_INFO, "pruned events up to id %lld", (long long)H.prune_max);
}

static void on_prune_timer(uv_timer_t *t)
{
    (void)t;
    if (H.pruning || !H.started) return;
    H.pruning = 1;
    int rc = STORE_CALL(H.st, events_prune, clock_now_s() - EVENTS_KEEP_S, &H.prune_max,
                        clock_mono_ns() + FETCH_DEADLINE_NS, on_pruned, NULL);
    if (rc < 0) H.pruning = 0;
}

static double m_streams(void *a)
{
    (void)a;
    return H.nsubs;
}

static double m_sent(void *a)
{
    (void)a;
    return (double)H.sent;
}

static double m_replayed(void *a)
{
    (void)a;
    return (double)H.replayed;
}

static double m_resets(void *a)
{
    (void)a;
    return (double)H.resets;
}


static void on_head(void *ctx, int rc)
{
    int64_t *head = ctx;
    if (rc == 0) {
        if (head[0] > H.head) H.head = head[0];
        if (head[1] > H.pruned_below) H.pruned_below = head[1];
        if (H.cursor < H.head) H.cursor = H.head; /* live from here */
        H.ready = 1;
    } else {
        log_msgf(LOG_WARN, "reading the event head failed: %s; retried", store_strerror(rc));
    }
    free(head);
    fetch();
}

static int ask_head(void)
{
    int64_t *head = calloc(2, sizeof *head);
    if (!head) return -1;
    int rc = STORE_CALL(H.st, events_head, head, clock_mono_ns() + FETCH_DEADLINE_NS, on_head, head);
    if (rc < 0) free(head);
    return rc;
}

int events_start(uv_loop_t *loop, store *s, const events_config *cfg)
{
    H.st = s;
    H.cfg = *cfg;
    H.started = 1;
    static int registered;
    if (!registered) {
        registered = 1;
        metrics_register("opx_sse_streams", "Open event streams.", "gauge", m_streams, NULL);
        metrics_register("opx_sse_events_sent_total", "Events written to streams.", "counter",
                         m_sent, NULL);
        metrics_register("opx_sse_events_replayed_total", "Events replayed after Last-Event-ID.",
                         "counter", m_replayed, NULL);
        metrics_register("opx_sse_resets_total", "Replays that exceeded their bound.", "counter",
                         m_resets, NULL);
    }
    STORE_CALL(s, events_watch, on_commit, NULL);
    if (ask_head() < 0) return -1;
    uv_timer_init(loop, &H.heartbeat);
    uv_timer_init(loop, &H.prune);
    uv_timer_start(&H.prune, on_prune_timer, 60 * 1000, 3600 * 1000); /* a minute after start, then hourly */
    uint64_t tick = cfg->heartbeat_ms / HEARTBEAT_SLICES;
    if (tick < HEARTBEAT_TICK_MIN_MS) tick = HEARTBEAT_TICK_MIN_MS;
    H.hb_per_period = (int)(cfg->heartbeat_ms / tick);
    if (H.hb_per_period < 1) H.hb_per_period = 1;
    return uv_timer_start(&H.heartbeat, on_heartbeat, tick, tick);
}

void events_stop(void)
{
    if (!H.started) return;
    H.started = 0;
    uv_timer_stop(&H.heartbeat);
    uv_close((uv_handle_t *)&H.heartbeat, NULL);
    uv_timer_stop(&H.prune);
    uv_close((uv_handle_t *)&H.prune, NULL);
}
