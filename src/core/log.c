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
        while (L.pending.len == 0 && !L.stop) pthread_cond_wait(&L.cv, &L.mu);
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

void log_line(enum log_level lvl, const char *msg, const char *extra)
{
    if (lvl < L.min) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tsbuf[40];
    size_t n = strftime(tsbuf, sizeof tsbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(tsbuf + n, sizeof tsbuf - n, ".%03ldZ", ts.tv_nsec / 1000000);

    buf b = {.data = NULL};
    buf_init(&b, 16384);
    buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", tsbuf, level_names[lvl]);
    buf_json_str(&b, msg, strlen(msg));
    if (extra) buf_puts(&b, extra);
    buf_puts(&b, "}\n");
    if (!b.data) return;

    if (!L.running) { /* before init or after shutdown: write directly */
        write_all(L.fd, b.data, b.len);
        buf_free(&b);
        return;
    }
    pthread_mutex_lock(&L.mu);
    if (buf_append(&L.pending, b.data, b.len) < 0)
        atomic_fetch_add(&L.dropped, 1);
    else
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
