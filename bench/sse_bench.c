/*
 * bench/sse_bench.c -- fan-out benchmark driver for GET /api/v1/events.
 *
 * One thread, one libuv loop. Against a running opx server it:
 *
 *   1. reads the server's VmRSS (/proc/PID/status) before opening anything;
 *   2. opens N event streams (GET /api/v1/events, Authorization: Bearer),
 *      at most --window connections still waiting for their first bytes at
 *      a time, token i % T for stream i (T = lines of the token file), and
 *      waits until every stream has answered 200 and received its first
 *      body bytes ("retry: 3000\n: connected\n\n");
 *   3. lets them idle for --idle-ms, reads VmRSS again:
 *      bytes per idle stream = (VmRSS after - VmRSS before) / N;
 *   4. over one separate keep-alive connection POSTs M messages into one
 *      conversation, one request in flight, the i-th not before
 *      t0 + i / RATE (RATE 0: back to back). Each body is
 *      "sse-bench t=<CLOCK_MONOTONIC ns> seq=<i>", the time taken just
 *      before the request is written;
 *   5. parses every stream (chunked transfer coding, then the event-stream
 *      format, minimally) and, for each message.created event, records
 *      receive time - send time (the receive time is taken when the read
 *      callback runs); waits until every party stream has every message
 *      (or --drain-ms passed after the last POST answered);
 *   6. GETs /metrics (streams still open) and keeps the opx_sse_* lines
 *      (and the stream drop/shed counters), then closes every stream,
 *      waits --idle-ms, reads opx_sse_streams and VmRSS once more.
 *
 * Token file: one stream owner per line, "party TOKEN" (a participant of the
 * conversation: its streams must get every message) or "other TOKEN" (a
 * bystander: its streams must get none); blank lines and "#" lines are
 * skipped. Weight an owner by repeating its line.
 *
 * Output (stdout): one "RESULT key=value ..." line and one "METRIC <line>"
 * per kept metrics line; progress and errors go to stderr. Exit status 0 when
 * the run completed (targets are judged by bench/sse.sh), 1 on any failure
 * (a stream refused or cut off during the opening, a POST not answered 201,
 * a lost connection, a timeout), 2 on bad usage.
 *
 * Usage: sse_bench --port PORT --pid SERVER_PID --tokens FILE --streams N
 *                  --conversation ID --post-token TOKEN [--messages M]
 *                  [--rate PER_S] [--host 127.0.0.1] [--window 256]
 *                  [--idle-ms 1000] [--drain-ms 5000] [--open-timeout-s 120]
 *
 * Build: cc -O2 -std=gnu11 -Wall -Wextra -Werror bench/sse_bench.c \
 *            -o build/bench_sse $(pkg-config --cflags --libs libuv)
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#define MARKER "sse-bench t="
#define LINE_CAP_MAX (64 * 1024)
#define HEAD_MAX (16 * 1024)
#define READ_BUF_SIZE (64 * 1024)

/* ---- configuration ---------------------------------------------------- */

static const char *opt_host = "127.0.0.1";
static int opt_port;
static long opt_pid;
static const char *opt_tokens;
static long opt_streams;
static const char *opt_conv;
static const char *opt_post_token;
static long opt_messages = 1000;
static double opt_rate = 100;
static long opt_window = 256;
static long opt_idle_ms = 1000;
static long opt_drain_ms = 5000;
static long opt_open_timeout_s = 120;

/* ---- small helpers ------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("sse_bench: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stdout);
    exit(1);
}

static void note(const char *fmt, ...)
{
    va_list ap;
    fputs("sse_bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) fail("out of memory (%zu bytes)", n);
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) fail("out of memory (%zu bytes)", n);
    return p;
}

/* VmRSS of a process in KiB, or -1 */
static long read_rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static long rss_or_die(void)
{
    long kb = read_rss_kb(opt_pid);
    if (kb < 0) fail("cannot read VmRSS of pid %ld (is the server still running?)", opt_pid);
    return kb;
}

/* growable sample array */
typedef struct {
    uint64_t *v;
    size_t n, cap;
} samples;

static void sample_add(samples *s, uint64_t x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted samples, in ms */
static double pct_ms(const samples *s, double p)
{
    if (s->n == 0) return 0;
    size_t k = (size_t)(p * (double)s->n + 0.999999999);
    if (k < 1) k = 1;
    if (k > s->n) k = s->n;
    return (double)s->v[k - 1] / 1e6;
}

static double mean_ms(const samples *s)
{
    if (s->n == 0) return 0;
    long double sum = 0;
    for (size_t i = 0; i < s->n; i++) sum += s->v[i];
    return (double)(sum / s->n / 1e6L);
}

/* ---- global state ------------------------------------------------------- */

enum phase { P_OPEN, P_IDLE, P_SEND, P_DRAIN, P_METRICS, P_CLOSE, P_FINAL, P_DONE };

typedef struct {
    char *req; /* the whole GET request */
    size_t len;
    int party;
} owner_t;

enum sphase { S_NEW, S_CONNECTING, S_HEAD, S_BODY, S_CLOSED };
enum chstate { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_END };

typedef struct stream {
    uv_tcp_t tcp;
    uv_connect_t creq;
    int idx;
    int owner;
    unsigned char sphase, ready, party, is_msg, chunk, overflow, size_digits;
    size_t chunk_left;
    int64_t pending_ts; /* timestamp from the current event's data line, -1 none */
    long pending_seq;   /* its message number, -1 none */
    int64_t last_id;
    uint32_t got;       /* message.created received */
    char *line;
    uint32_t line_len, line_cap;
} stream;

static uv_loop_t *loop;
static enum phase phase = P_OPEN;
static owner_t *owners;
static int nowners;
static stream *streams;
static long next_connect, nconnecting, nready, nclosed_early;
static long party_streams, other_streams;
static uint64_t t_start, t_all_ready;
static uint64_t rcv_now; /* receive time of the read being parsed */
static uv_timer_t tick, deadline;
static long rss_before, rss_open, rss_msgs, rss_closed;

/* delivery statistics */
static samples lat, post_lat;
static uint64_t deliveries, stray, bad_payload, order_errors, heartbeats, other_events;
static uint64_t expected_deliveries;
static uint64_t *msg_worst;   /* worst delivery latency per message, ns */
static uint64_t *msg_sent_at; /* send time per message */
static uint64_t hb_rounds[64]; /* first heartbeat receipt of each round */
static int nhb_rounds;

static char read_buf[READ_BUF_SIZE];

static void on_all_ready(void);
static void check_drained(void);
static void start_connects(void);

/* ---- the event-stream parser --------------------------------------------- */

static int starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static void sse_line(stream *s, char *l, size_t n)
{
    if (n && l[n - 1] == '\r') n--;
    l[n] = '\0';
    if (n == 0) { /* end of an event */
        if (s->is_msg) {
            if (s->pending_ts < 0) {
                bad_payload++;
            } else {
                deliveries++;
                s->got++;
                if (!s->party) stray++;
                uint64_t sent = (uint64_t)s->pending_ts;
                uint64_t d = rcv_now > sent ? rcv_now - sent : 0;
                sample_add(&lat, d);
                if (s->pending_seq >= 0 && s->pending_seq < opt_messages && d > msg_worst[s->pending_seq])
                    msg_worst[s->pending_seq] = d;
            }
            if (phase == P_DRAIN) check_drained();
        }
        s->is_msg = 0;
        s->pending_ts = -1;
        s->pending_seq = -1;
        return;
    }
    if (l[0] == ':') {
        if (starts(l, n, ": heartbeat")) {
            heartbeats++;
            if (nhb_rounds < 64 && (nhb_rounds == 0 || rcv_now - hb_rounds[nhb_rounds - 1] > 1000000000u))
                hb_rounds[nhb_rounds++] = rcv_now;
        }
        return;
    }
    if (starts(l, n, "id: ")) {
        char *end;
        errno = 0;
        long long id = strtoll(l + 4, &end, 10);
        if (errno || *end || id <= s->last_id) order_errors++;
        else s->last_id = id;
        return;
    }
    if (starts(l, n, "event: ")) {
        s->is_msg = strcmp(l + 7, "message.created") == 0;
        if (!s->is_msg) other_events++;
        return;
    }
    if (starts(l, n, "data: ") && s->is_msg) {
        const char *m = strstr(l + 6, MARKER);
        if (m) {
            char *end;
            unsigned long long ts = strtoull(m + sizeof MARKER - 1, &end, 10);
            if (end != m + sizeof MARKER - 1) {
                s->pending_ts = (int64_t)ts;
                const char *q = strstr(end, " seq=");
                s->pending_seq = q ? strtol(q + 5, NULL, 10) : -1;
            }
        }
        return;
    }
    /* "retry: N" and anything else: ignored */
}

static void sse_feed(stream *s, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (s->line_len + take + 1 > s->line_cap) {
            size_t want = s->line_len + take + 1;
            if (want > LINE_CAP_MAX) {
                s->overflow = 1; /* keep the beginning of an absurd line only */
                take = s->line_cap > s->line_len + 1 ? s->line_cap - s->line_len - 1 : 0;
            } else {
                size_t cap = s->line_cap ? s->line_cap : 256;
                while (cap < want) cap *= 2;
                s->line = xrealloc(s->line, cap);
                s->line_cap = (uint32_t)cap;
            }
        }
        memcpy(s->line + s->line_len, p, take);
        s->line_len += (uint32_t)take;
        if (!nl) return;
        sse_line(s, s->line, s->line_len);
        s->line_len = 0;
        s->overflow = 0;
        size_t used = (size_t)(nl - p) + 1;
        p += used;
        n -= used;
    }
}

/* ---- streams -------------------------------------------------------------- */

static void on_stream_closed_handle(uv_handle_t *h)
{
    (void)h;
}

static void stream_close(stream *s)
{
    if (s->sphase == S_CLOSED) return;
    s->sphase = S_CLOSED;
    if (!uv_is_closing((uv_handle_t *)&s->tcp)) uv_close((uv_handle_t *)&s->tcp, on_stream_closed_handle);
}

/* the server ended or broke a stream */
static void stream_lost(stream *s, const char *why)
{
    if (phase == P_OPEN) {
        if (s->sphase == S_HEAD && s->line_len) {
            size_t n = s->line_len < 400 ? s->line_len : 400;
            fail("stream %d (%s): %s; response so far:\n%.*s", s->idx, s->party ? "party" : "other",
                 why, (int)n, s->line);
        }
        fail("stream %d (%s): %s", s->idx, s->party ? "party" : "other", why);
    }
    if (phase < P_CLOSE) {
        if (nclosed_early < 5) note("stream %d (%s) lost: %s", s->idx, s->party ? "party" : "other", why);
        nclosed_early++;
    }
    stream_close(s);
}

static void stream_ready(stream *s)
{
    if (s->ready) return;
    s->ready = 1;
    nready++;
    nconnecting--;
    if (nready == opt_streams) {
        on_all_ready();
        return;
    }
    start_connects();
}

/* the response head is complete in s->line[0..head_len) */
static int stream_head(stream *s, size_t head_len)
{
    s->line[head_len] = '\0';
    int status = 0;
    if (sscanf(s->line, "HTTP/1.%*d %d", &status) != 1) return -1;
    if (status != 200) {
        s->line_len = (uint32_t)head_len; /* for the error message */
        char why[64];
        snprintf(why, sizeof why, "answered HTTP %d", status);
        stream_lost(s, why);
        return -1;
    }
    /* a minimal, case-insensitive look for the chunked coding */
    int chunked = 0;
    for (char *p = s->line; *p; p++)
        if ((*p == 'T' || *p == 't') && strncasecmp(p, "transfer-encoding: chunked", 26) == 0) {
            chunked = 1;
            break;
        }
    if (!chunked) {
        stream_lost(s, "200 without Transfer-Encoding: chunked");
        return -1;
    }
    s->sphase = S_BODY;
    s->chunk = CH_SIZE;
    s->chunk_left = 0;
    s->size_digits = 0;
    return 0;
}

/* chunked transfer coding: the payload goes to sse_feed */
static int stream_body(stream *s, const char *p, size_t n)
{
    if (n && !s->ready) stream_ready(s);
    while (n) {
        char c = *p;
        switch (s->chunk) {
        case CH_SIZE:
            if (isxdigit((unsigned char)c)) {
                if (++s->size_digits > 15) return -1;
                s->chunk_left = s->chunk_left * 16 + (size_t)(isdigit((unsigned char)c) ? c - '0'
                                                                   : (tolower((unsigned char)c) - 'a' + 10));
            } else if (c == ';') {
                s->chunk = CH_EXT;
            } else if (c == '\r') {
                s->chunk = CH_SIZE_LF;
            } else {
                return -1;
            }
            p++, n--;
            break;
        case CH_EXT:
            if (c == '\r') s->chunk = CH_SIZE_LF;
            p++, n--;
            break;
        case CH_SIZE_LF:
            if (c != '\n' || s->size_digits == 0) return -1;
            p++, n--;
            s->size_digits = 0;
            if (s->chunk_left == 0) {
                s->chunk = CH_END; /* the server ended the stream */
                return 1;
            }
            s->chunk = CH_DATA;
            break;
        case CH_DATA: {
            size_t take = n < s->chunk_left ? n : s->chunk_left;
            sse_feed(s, p, take);
            if (s->sphase == S_CLOSED) return 0;
            p += take, n -= take;
            s->chunk_left -= take;
            if (s->chunk_left == 0) s->chunk = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (c != '\r') return -1;
            s->chunk = CH_DATA_LF;
            p++, n--;
            break;
        case CH_DATA_LF:
            if (c != '\n') return -1;
            s->chunk = CH_SIZE;
            p++, n--;
            break;
        case CH_END:
            return 1;
        }
    }
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    /* one loop, one thread: every read is consumed before the next alloc */
    *b = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_stream_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b)
{
    stream *s = h->data;
    if (nread == 0) return;
    if (nread < 0) {
        stream_lost(s, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
        return;
    }
    if (s->sphase == S_CLOSED) return;
    rcv_now = now_ns();
    const char *p = b->base;
    size_t n = (size_t)nread;
    if (s->sphase == S_HEAD) {
        /* collect the head in the line buffer; a read may also carry body bytes */
        size_t old = s->line_len;
        size_t want = old + n + 1;
        if (want > HEAD_MAX + 1) want = HEAD_MAX + 1;
        if (want > s->line_cap) {
            s->line = xrealloc(s->line, want);
            s->line_cap = (uint32_t)want;
        }
        size_t take = want - 1 - old;
        memcpy(s->line + old, p, take);
        s->line_len = (uint32_t)(old + take);
        s->line[s->line_len] = '\0';
        size_t from = old > 3 ? old - 3 : 0;
        char *end = strstr(s->line + from, "\r\n\r\n");
        if (!end) {
            if (s->line_len >= HEAD_MAX) stream_lost(s, "response head too long");
            return;
        }
        size_t head_len = (size_t)(end - s->line) + 4;
        size_t body_off = head_len - old; /* into this read */
        if (stream_head(s, head_len) < 0) return;
        s->line_len = 0;
        p += body_off;
        n -= body_off;
    }
    int r = stream_body(s, p, n);
    if (r < 0) stream_lost(s, "malformed chunked body");
    else if (r > 0) stream_lost(s, "the server ended the stream (0-size chunk)");
}

static void on_stream_connect(uv_connect_t *req, int status)
{
    stream *s = req->data;
    if (status < 0) {
        stream_lost(s, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1);
    s->sphase = S_HEAD;
    owner_t *o = &owners[s->owner];
    uv_buf_t b = uv_buf_init(o->req, (unsigned)o->len);
    int r = uv_try_write((uv_stream_t *)&s->tcp, &b, 1);
    if (r != (int)o->len) /* a fresh socket always takes a few hundred bytes */
        fail("stream %d: could not write the request (%s)", s->idx, r < 0 ? uv_strerror(r) : "short write");
    r = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_stream_read);
    if (r < 0) fail("stream %d: uv_read_start: %s", s->idx, uv_strerror(r));
}

static struct sockaddr_in server_addr;

static void start_connects(void)
{
    while (next_connect < opt_streams && nconnecting < opt_window) {
        stream *s = &streams[next_connect];
        s->idx = (int)next_connect;
        s->owner = (int)(next_connect % nowners);
        s->party = (unsigned char)owners[s->owner].party;
        s->pending_ts = -1;
        s->pending_seq = -1;
        s->last_id = 0;
        next_connect++;
        int r = uv_tcp_init(loop, &s->tcp);
        if (r < 0) fail("uv_tcp_init: %s", uv_strerror(r));
        s->tcp.data = s;
        s->creq.data = s;
        s->sphase = S_CONNECTING;
        nconnecting++;
        r = uv_tcp_connect(&s->creq, &s->tcp, (const struct sockaddr *)&server_addr, on_stream_connect);
        if (r < 0)
            fail("stream %d: connect: %s%s", s->idx, uv_strerror(r),
                 r == UV_EMFILE ? " (raise the open files limit: ulimit -n)" : "");
    }
}

/* ---- the request connection (POST messages, GET /metrics) --------------- */

typedef void (*resp_cb)(int status, const char *body, size_t len);

static struct {
    uv_tcp_t tcp;
    uv_connect_t creq;
    char *in;
    size_t in_len, in_cap;
    resp_cb cb;
    int connected;
} rc_conn;

typedef struct {
    uv_write_t w;
    char data[];
} wreq;

static void on_rc_write(uv_write_t *w, int status)
{
    free(w);
    if (status < 0) fail("request connection: write: %s", uv_strerror(status));
}

static void rc_send(const char *data, size_t len, resp_cb cb)
{
    rc_conn.cb = cb;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int r = uv_try_write((uv_stream_t *)&rc_conn.tcp, &b, 1);
    if (r == (int)len) return;
    size_t done = r > 0 ? (size_t)r : 0;
    if (r < 0 && r != UV_EAGAIN) fail("request connection: write: %s", uv_strerror(r));
    wreq *w = xmalloc(sizeof *w + len - done);
    memcpy(w->data, data + done, len - done);
    b = uv_buf_init(w->data, (unsigned)(len - done));
    r = uv_write(&w->w, (uv_stream_t *)&rc_conn.tcp, &b, 1, on_rc_write);
    if (r < 0) fail("request connection: write: %s", uv_strerror(r));
}

static void rc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    if (rc_conn.in_cap - rc_conn.in_len < 16384) {
        rc_conn.in_cap = rc_conn.in_cap ? rc_conn.in_cap * 2 : 65536;
        rc_conn.in = xrealloc(rc_conn.in, rc_conn.in_cap);
    }
    *b = uv_buf_init(rc_conn.in + rc_conn.in_len, (unsigned)(rc_conn.in_cap - rc_conn.in_len - 1));
}

static void rc_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b)
{
    (void)h;
    (void)b;
    if (nread == 0) return;
    if (nread < 0)
        fail("request connection: %s", nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
    rc_conn.in_len += (size_t)nread;
    for (;;) { /* a complete response (Content-Length framing)? */
        rc_conn.in[rc_conn.in_len] = '\0';
        char *end = strstr(rc_conn.in, "\r\n\r\n");
        if (!end) return;
        size_t head = (size_t)(end - rc_conn.in) + 4;
        int status = 0;
        if (sscanf(rc_conn.in, "HTTP/1.%*d %d", &status) != 1) fail("request connection: bad status line");
        long clen = -1;
        for (char *p = rc_conn.in; p < end; p++)
            if ((*p == 'C' || *p == 'c') && strncasecmp(p, "content-length:", 15) == 0) {
                clen = strtol(p + 15, NULL, 10);
                break;
            }
        if (clen < 0) fail("request connection: response without Content-Length (HTTP %d)", status);
        if (rc_conn.in_len < head + (size_t)clen) return;
        resp_cb cb = rc_conn.cb;
        rc_conn.cb = NULL;
        if (!cb) fail("request connection: unexpected response (HTTP %d)", status);
        char save = rc_conn.in[head + clen];
        rc_conn.in[head + clen] = '\0';
        cb(status, rc_conn.in + head, (size_t)clen);
        rc_conn.in[head + clen] = save;
        size_t used = head + (size_t)clen;
        memmove(rc_conn.in, rc_conn.in + used, rc_conn.in_len - used);
        rc_conn.in_len -= used;
    }
}

/* ---- phase: sending messages ------------------------------------------- */

static long sent, answered;
static uint64_t t_send0, t_sent_last, t_post;
static char post_path[512];

static void send_next(void);

static void on_tick_send(uv_timer_t *t)
{
    (void)t;
    send_next();
}

static void schedule_next(void)
{
    if (sent >= opt_messages) return;
    uint64_t now = now_ns();
    if (opt_rate <= 0) {
        send_next();
        return;
    }
    uint64_t target = t_send0 + (uint64_t)((double)sent * 1e9 / opt_rate);
    if (now >= target) {
        send_next();
        return;
    }
    uint64_t ms = (target - now + 999999) / 1000000;
    uv_update_time(loop);
    uv_timer_start(&tick, on_tick_send, ms, 0);
}

static void on_drain_timeout(uv_timer_t *t);
static void start_metrics(void);

static void on_posted(int status, const char *body, size_t len)
{
    uint64_t now = now_ns();
    if (status != 201) fail("POST message %ld answered HTTP %d: %.*s", answered, status, (int)(len < 400 ? len : 400), body);
    sample_add(&post_lat, now - t_post);
    answered++;
    if (answered == opt_messages) {
        t_sent_last = now;
        phase = P_DRAIN;
        note("%ld messages posted in %.2f s; waiting for deliveries", answered, (double)(now - t_send0) / 1e9);
        uv_timer_start(&deadline, on_drain_timeout, (uint64_t)opt_drain_ms, 0);
        check_drained();
        return;
    }
    schedule_next();
}

static void send_next(void)
{
    char req[1024];
    char body[128];
    uint64_t ts = now_ns(); /* just before the request is written */
    int bl = snprintf(body, sizeof body, "{\"body\":\"" MARKER "%" PRIu64 " seq=%ld\"}", ts, sent);
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     post_path, opt_host, opt_port, opt_post_token, bl, body);
    if (n < 0 || (size_t)n >= sizeof req) fail("POST request too long");
    t_post = ts;
    msg_sent_at[sent] = ts;
    sent++;
    rc_send(req, (size_t)n, on_posted);
}

/* ---- phase transitions --------------------------------------------------- */

static void on_rc_connect(uv_connect_t *req, int status)
{
    (void)req;
    if (status < 0) fail("request connection: connect: %s", uv_strerror(status));
    uv_tcp_nodelay(&rc_conn.tcp, 1);
    int r = uv_read_start((uv_stream_t *)&rc_conn.tcp, rc_alloc, rc_read);
    if (r < 0) fail("request connection: uv_read_start: %s", uv_strerror(r));
    rc_conn.connected = 1;
    phase = P_SEND;
    note("posting %ld messages at %s", opt_messages, opt_rate > 0 ? "a fixed rate" : "full speed");
    t_send0 = now_ns();
    if (opt_messages == 0) {
        phase = P_DRAIN;
        check_drained();
        return;
    }
    send_next();
}

static void on_idle_done(uv_timer_t *t)
{
    (void)t;
    rss_open = rss_or_die();
    note("VmRSS %ld KiB before, %ld KiB with %ld idle streams (%.0f bytes per stream)", rss_before, rss_open,
         opt_streams, (double)(rss_open - rss_before) * 1024.0 / (double)opt_streams);
    phase = P_SEND;
    int r = uv_tcp_init(loop, &rc_conn.tcp);
    if (r == 0) r = uv_tcp_connect(&rc_conn.creq, &rc_conn.tcp, (const struct sockaddr *)&server_addr, on_rc_connect);
    if (r < 0) fail("request connection: %s", uv_strerror(r));
}

static void on_open_timeout(uv_timer_t *t)
{
    (void)t;
    fail("only %ld of %ld streams received their first bytes within %ld s", nready, opt_streams,
         opt_open_timeout_s);
}

static void on_all_ready(void)
{
    t_all_ready = now_ns();
    uv_timer_stop(&deadline);
    note("%ld streams open in %.2f s; idle for %ld ms", nready, (double)(t_all_ready - t_start) / 1e9, opt_idle_ms);
    phase = P_IDLE;
    uv_update_time(loop);
    uv_timer_start(&tick, on_idle_done, (uint64_t)opt_idle_ms, 0);
}

static void check_drained(void)
{
    if (phase != P_DRAIN) return;
    if (deliveries < expected_deliveries) return;
    uv_timer_stop(&deadline);
    start_metrics();
}

static void on_drain_timeout(uv_timer_t *t)
{
    (void)t;
    if (phase != P_DRAIN) return;
    note("drain timeout: %" PRIu64 " of %" PRIu64 " deliveries after %ld ms", deliveries, expected_deliveries,
         opt_drain_ms);
    start_metrics();
}

/* metrics lines kept for the report */
static char *kept_metrics;
static size_t kept_len;
static double sse_streams_after_close = -1;
static uint64_t delivered_at_metrics;
static samples lat_at_metrics;

static const char metrics_req_fmt[] = "GET /metrics HTTP/1.1\r\nHost: %s:%d\r\n\r\n";

static int metric_kept(const char *l)
{
    return strncmp(l, "opx_sse_", 8) == 0 || strncmp(l, "opx_http_streams_dropped_total", 30) == 0 ||
           (strncmp(l, "opx_http_shed_total", 19) == 0 && strstr(l, "streams"));
}

static void send_metrics(resp_cb cb)
{
    char req[256];
    int n = snprintf(req, sizeof req, metrics_req_fmt, opt_host, opt_port);
    rc_send(req, (size_t)n, cb);
}

static void on_final_metrics(int status, const char *body, size_t len);

static void on_tick_final(uv_timer_t *t)
{
    (void)t;
    phase = P_FINAL;
    send_metrics(on_final_metrics);
}

static void on_metrics(int status, const char *body, size_t len)
{
    (void)len;
    if (status != 200) fail("GET /metrics answered HTTP %d", status);
    kept_metrics = xmalloc(len + 1);
    kept_len = 0;
    const char *p = body;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        if (n < sizeof line) {
            memcpy(line, p, n);
            line[n] = '\0';
            if (metric_kept(line)) {
                memcpy(kept_metrics + kept_len, line, n);
                kept_len += n;
                kept_metrics[kept_len++] = '\n';
            }
        }
        p += n + (nl ? 1 : 0);
    }
    kept_metrics[kept_len] = '\0';
    rss_msgs = rss_or_die();
    /* freeze the delivery figures: closing streams must not change them */
    delivered_at_metrics = deliveries;
    lat_at_metrics = lat;
    lat = (samples){0};
    /* close every stream; the server should forget them all */
    phase = P_CLOSE;
    for (long i = 0; i < opt_streams; i++) stream_close(&streams[i]);
    uv_update_time(loop);
    uv_timer_start(&tick, on_tick_final, (uint64_t)opt_idle_ms, 0);
}

static void start_metrics(void)
{
    phase = P_METRICS;
    send_metrics(on_metrics);
}

static void on_final_metrics(int status, const char *body, size_t len)
{
    (void)len;
    if (status != 200) fail("GET /metrics answered HTTP %d", status);
    const char *p = strstr(body, "\nopx_sse_streams ");
    if (p) sse_streams_after_close = strtod(p + 17, NULL);
    rss_closed = rss_or_die();
    phase = P_DONE;
    uv_close((uv_handle_t *)&rc_conn.tcp, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
}

/* ---- setup ---------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: sse_bench --port PORT --pid SERVER_PID --tokens FILE --streams N\n"
          "                 --conversation ID --post-token TOKEN [--messages M] [--rate PER_S]\n"
          "                 [--host 127.0.0.1] [--window 256] [--idle-ms 1000] [--drain-ms 5000]\n"
          "                 [--open-timeout-s 120]\n"
          "token file lines: \"party TOKEN\" or \"other TOKEN\"; stream i belongs to line i %% lines\n",
          stderr);
    exit(2);
}

static long num_arg(const char *name, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "sse_bench: %s must be an integer in %ld..%ld, got '%s'\n", name, lo, hi, v);
        exit(2);
    }
    return x;
}

static int token_ok(const char *t)
{
    if (!*t) return 0;
    for (; *t; t++)
        if (!isgraph((unsigned char)*t)) return 0;
    return 1;
}

static void load_tokens(void)
{
    FILE *f = fopen(opt_tokens, "r");
    if (!f) fail("cannot open %s: %s", opt_tokens, strerror(errno));
    char line[1024];
    int cap = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = '\0';
        if (n == 0 || line[0] == '#') continue;
        char kind[16], tok[900];
        if (sscanf(line, "%15s %899s", kind, tok) != 2 || !token_ok(tok) ||
            (strcmp(kind, "party") != 0 && strcmp(kind, "other") != 0))
            fail("%s:%d: expected \"party TOKEN\" or \"other TOKEN\"", opt_tokens, lineno);
        if (nowners == cap) {
            cap = cap ? cap * 2 : 64;
            owners = xrealloc(owners, (size_t)cap * sizeof *owners);
        }
        owner_t *o = &owners[nowners++];
        o->party = strcmp(kind, "party") == 0;
        char req[1200];
        int rl = snprintf(req, sizeof req,
                          "GET /api/v1/events HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                          "Accept: text/event-stream\r\n\r\n",
                          opt_host, opt_port, tok);
        if (rl < 0 || (size_t)rl >= sizeof req) fail("%s:%d: token too long", opt_tokens, lineno);
        o->req = xmalloc((size_t)rl + 1);
        memcpy(o->req, req, (size_t)rl + 1);
        o->len = (size_t)rl;
    }
    fclose(f);
    if (nowners == 0) fail("%s holds no tokens", opt_tokens);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) fail("getrlimit: %s", strerror(errno));
    rlim_t want = (rlim_t)opt_streams + 64;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) fail("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    }
    if (rl.rlim_cur < want)
        fail("%ld streams need about %lu open files, the hard limit is %lu (ulimit -Hn)", opt_streams,
             (unsigned long)want, (unsigned long)rl.rlim_max);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--host")) opt_host = v;
        else if (!strcmp(a, "--port")) opt_port = (int)num_arg(a, v, 1, 65535);
        else if (!strcmp(a, "--pid")) opt_pid = num_arg(a, v, 1, 1L << 30);
        else if (!strcmp(a, "--tokens")) opt_tokens = v;
        else if (!strcmp(a, "--streams")) opt_streams = num_arg(a, v, 1, 1000000);
        else if (!strcmp(a, "--conversation")) opt_conv = v;
        else if (!strcmp(a, "--post-token")) opt_post_token = v;
        else if (!strcmp(a, "--messages")) opt_messages = num_arg(a, v, 0, 10000000);
        else if (!strcmp(a, "--rate")) opt_rate = (double)num_arg(a, v, 0, 1000000);
        else if (!strcmp(a, "--window")) opt_window = num_arg(a, v, 1, 100000);
        else if (!strcmp(a, "--idle-ms")) opt_idle_ms = num_arg(a, v, 0, 600000);
        else if (!strcmp(a, "--drain-ms")) opt_drain_ms = num_arg(a, v, 0, 600000);
        else if (!strcmp(a, "--open-timeout-s")) opt_open_timeout_s = num_arg(a, v, 1, 3600);
        else usage();
    }
    if (!opt_port || !opt_pid || !opt_tokens || !opt_streams || !opt_conv || !opt_post_token) usage();
    if (!token_ok(opt_conv) || !token_ok(opt_post_token)) fail("bad --conversation or --post-token");
    snprintf(post_path, sizeof post_path, "/api/v1/conversations/%s/messages", opt_conv);

    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    load_tokens();
    int r = uv_ip4_addr(opt_host, opt_port, &server_addr);
    if (r < 0) fail("--host %s: %s", opt_host, uv_strerror(r));

    streams = calloc((size_t)opt_streams, sizeof *streams);
    if (!streams) fail("out of memory");
    for (long i = 0; i < opt_streams; i++) {
        if (owners[i % nowners].party) party_streams++;
        else other_streams++;
    }
    expected_deliveries = (uint64_t)party_streams * (uint64_t)opt_messages;
    msg_worst = calloc((size_t)opt_messages + 1, sizeof *msg_worst);
    msg_sent_at = calloc((size_t)opt_messages + 1, sizeof *msg_sent_at);
    if (!msg_worst || !msg_sent_at) fail("out of memory");

    loop = uv_default_loop();
    uv_timer_init(loop, &tick);
    uv_timer_init(loop, &deadline);

    rss_before = rss_or_die();
    note("%ld streams (%ld party, %ld other) over %d token lines, window %ld", opt_streams, party_streams,
         other_streams, nowners, opt_window);
    t_start = now_ns();
    uv_timer_start(&deadline, on_open_timeout, (uint64_t)opt_open_timeout_s * 1000, 0);
    start_connects();
    uv_run(loop, UV_RUN_DEFAULT);
    if (phase != P_DONE) fail("the loop stopped early");

    /* ---- report ---- */
    samples *L = &lat_at_metrics;
    qsort(L->v, L->n, sizeof *L->v, cmp_u64);
    qsort(post_lat.v, post_lat.n, sizeof *post_lat.v, cmp_u64);
    long receiving = 0, complete = 0;
    for (long i = 0; i < opt_streams; i++) {
        if (streams[i].party && streams[i].got > 0) receiving++;
        if (streams[i].party && streams[i].got == (uint32_t)opt_messages) complete++;
    }
    double send_s = t_sent_last > t_send0 ? (double)(t_sent_last - t_send0) / 1e9 : 0;
    printf("RESULT streams=%ld party_streams=%ld other_streams=%ld owners=%d open_s=%.2f "
           "rss_before_kb=%ld rss_open_kb=%ld bytes_per_stream=%.0f "
           "messages=%ld rate=%.0f send_s=%.2f post_p50_ms=%.3f post_p99_ms=%.3f "
           "expected=%" PRIu64 " deliveries=%" PRIu64 " streams_receiving=%ld streams_complete=%ld "
           "stray=%" PRIu64 " bad_payload=%" PRIu64 " order_errors=%" PRIu64 " lost_streams=%ld "
           "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f heartbeats=%" PRIu64 " other_events=%" PRIu64 " "
           "rss_msgs_kb=%ld rss_closed_kb=%ld sse_streams_after_close=%.0f\n",
           opt_streams, party_streams, other_streams, nowners, (double)(t_all_ready - t_start) / 1e9, rss_before,
           rss_open, (double)(rss_open - rss_before) * 1024.0 / (double)opt_streams, opt_messages, opt_rate, send_s,
           pct_ms(&post_lat, 0.50), pct_ms(&post_lat, 0.99), expected_deliveries, delivered_at_metrics, receiving,
           complete, stray, bad_payload, order_errors, nclosed_early, pct_ms(L, 0.50), pct_ms(L, 0.99),
           L->n ? (double)L->v[L->n - 1] / 1e6 : 0.0, mean_ms(L), heartbeats, other_events, rss_msgs, rss_closed,
           sse_streams_after_close);
    const char *p = kept_metrics ? kept_metrics : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && p[0] != '#') printf("METRIC %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    /* where the slow deliveries were: the five worst messages, and when the
     * heartbeat rounds arrived, both relative to the first POST */
    if (opt_messages > 0 && L->n) {
        fprintf(stderr, "sse_bench: worst messages (seq: sent at +s, slowest delivery):");
        for (int k = 0; k < 5; k++) {
            long w = -1;
            for (long i = 0; i < opt_messages; i++)
                if (msg_worst[i] && (w < 0 || msg_worst[i] > msg_worst[w])) w = i;
            if (w < 0) break;
            fprintf(stderr, " %ld: +%.2f s %.1f ms;", w, (double)(msg_sent_at[w] - t_send0) / 1e9,
                    (double)msg_worst[w] / 1e6);
            msg_worst[w] = 0;
        }
        fputc('\n', stderr);
        fprintf(stderr, "sse_bench: heartbeat rounds received at (s from the first POST):");
        for (int i = 0; i < nhb_rounds; i++)
            fprintf(stderr, " %+.2f", ((double)hb_rounds[i] - (double)t_send0) / 1e9);
        fputc('\n', stderr);
    }
    int rc = uv_loop_close(loop);
    (void)rc; /* closed stream handles may still be pending: harmless at exit */
    return 0;
}
