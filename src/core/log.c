/* log: a bounded queue of JSON lines drained by a writer thread (see log.h). */
#include "log.h"
#include "clock.h"
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_QUEUE_MAX (1u << 20) /* 1 MiB of pending lines at most */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running, stop;
    int fd;
    enum log_level min;
    buf pending;
    _Atomic uint64_t dropped;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = 2, .min = LOG_INFO};

static const char *level_names[] = {"debug", "info", "warn", "error"};

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    buf out;
    buf_init(&out, LOG_QUEUE_MAX);
    pthread_mutex_lock(&L.mu);
    for (;;) {
        /* wake every 20 ms (or when a quarter of the queue is used) and
         * write everything in one go: few syscalls, few context switches */
        while (L.pending.len < LOG_QUEUE_MAX / 4 && !L.stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 20 * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            if (pthread_cond_timedwait(&L.cv, &L.mu, &until) != 0 && L.pending.len) break;
        }
        if (L.pending.len == 0 && L.stop) break;
        /* swap buffers so formatting callers never wait on the write */
        buf tmp = out;
        out = L.pending;
        L.pending = tmp;
        buf_reset(&L.pending);
        pthread_mutex_unlock(&L.mu);
        write_all(L.fd, out.data, out.len);
        buf_reset(&out);
        pthread_mutex_lock(&L.mu);
    }
    pthread_mutex_unlock(&L.mu);
    buf_free(&out);
    return NULL;
}

int log_init(int fd, enum log_level min_level)
{
    L.fd = fd;
    L.min = min_level;
    buf_init(&L.pending, LOG_QUEUE_MAX);
    L.stop = 0;
    if (pthread_create(&L.thread, NULL, writer_main, NULL) != 0) return -1;
    L.running = 1;
    return 0;
}

void log_shutdown(void)
{
    if (!L.running) return;
    pthread_mutex_lock(&L.mu);
    L.stop = 1;
    pthread_cond_signal(&L.cv);
    pthread_mutex_unlock(&L.mu);
    pthread_join(L.thread, NULL);
    L.running = 0;
    buf_free(&L.pending);
}

int log_enabled(enum log_level lvl)
{
    return lvl >= L.min;
}

int log_parse_level(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

uint64_t log_dropped(void)
{
    return atomic_load(&L.dropped);
}

/* "2026-11-24T05:45:40" is formatted once per second, per thread */
static size_t format_ts(char *out, size_t cap)
{
    static _Thread_local time_t last_sec = -1;
    static _Thread_local char prefix[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != last_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
        last_sec = ts.tv_sec;
    }
    int n = snprintf(out, cap, "%s.%03ldZ", prefix, ts.tv_nsec / 1000000);
    return n > 0 ? (size_t)n : 0;
}

void log_line(enum log_level lvl, const char *msg, const char *extra)
{
    if (lvl < L.min) return;
    char stack[2048];
    buf b = {.data = NULL};
    buf_init(&b, 16384);
    char tsbuf[40];
    format_ts(tsbuf, sizeof tsbuf);
    size_t ml = strlen(msg), xl = extra ? strlen(extra) : 0;
    const char *line;
    size_t len;
    int n = -1;
    int plain = 1; /* can msg go out without escaping? */
    for (size_t i = 0; i < ml && plain; i++)
        plain = (unsigned char)msg[i] >= 0x20 && msg[i] != '"' && msg[i] != '\\';
    if (plain)
        n = snprintf(stack, sizeof stack, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"%s}\n",
                     tsbuf, level_names[lvl], msg, extra ? extra : "");
    if (n > 0 && (size_t)n < sizeof stack) {
        line = stack;
        len = (size_t)n;
    } else {
        buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", tsbuf, level_names[lvl]);
        buf_json_str(&b, msg, ml);
        if (extra) buf_append(&b, extra, xl);
        buf_puts(&b, "}\n");
        if (!b.data) return;
        line = b.data;
        len = b.len;
    }
    if (!L.running) { /* before init or after shutdown: write directly */
        write_all(L.fd, line, len);
        buf_free(&b);
        return;
    }
    pthread_mutex_lock(&L.mu);
    if (buf_append(&L.pending, line, len) < 0)
        atomic_fetch_add(&L.dropped, 1);
    else if (L.pending.len >= LOG_QUEUE_MAX / 4 || lvl >= LOG_WARN)
        pthread_cond_signal(&L.cv);
    pthread_mutex_unlock(&L.mu);
    buf_free(&b);
}

void log_msgf(enum log_level lvl, const char *fmt, ...)
{
    if (lvl < L.min) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_line(lvl, msg, NULL);
}
