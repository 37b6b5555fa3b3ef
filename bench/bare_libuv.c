/*
 * bench/bare_libuv.c -- throughput ceiling for the opx HTTP benchmarks.
 *
 * A deliberately minimal single-threaded libuv HTTP/1.1 responder. It does no
 * parsing beyond finding the end of each request head ("\r\n\r\n") and answers
 * every request with the same fixed keep-alive JSON response that opx returns
 * from /healthz. Whatever opx achieves is compared against this number
 * (bench/http.sh): it is what one core + libuv + the kernel can do with zero
 * application work, so it is the practical upper bound for opx on this box.
 *
 * Scope / limitations (on purpose -- this is a benchmark fixture, not a server):
 *   - request bodies are not supported (the benchmark only sends GETs); a
 *     "\r\n\r\n" inside a body would be miscounted as a request;
 *   - heads split across reads and several pipelined requests in one read are
 *     handled: the end-of-head matcher is a small state machine whose state
 *     survives between reads, and all responses owed after one read are sent
 *     with a single write;
 *   - reading pauses while more than WRITE_HIGH_WATER bytes are queued for a
 *     client that pipelines without reading its responses.
 *
 * Usage:  bench_bare PORT        (listens on 127.0.0.1:PORT)
 * Exits with status 0 on SIGTERM or SIGINT after closing every handle.
 *
 * Build:  cc -O2 -Wall -Wextra -Werror bench/bare_libuv.c -o build/bench_bare \
 *             $(pkg-config --cflags --libs libuv)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BODY "{\"status\":\"ok\"}"
#define READ_BUF_SIZE (64 * 1024)
#define WRITE_HIGH_WATER (1024 * 1024)

static char response[256];
static size_t response_len;

/* Single loop, single thread: read_cb consumes the data before the next
 * alloc_cb, so every connection can share one read buffer. */
static char read_buf[READ_BUF_SIZE];

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sig_term, sig_int;

typedef struct {
    uv_tcp_t tcp;
    int match;   /* how many bytes of "\r\n\r\n" matched so far */
    int reading; /* 1 while uv_read_start is active */
    int eof;     /* peer sent FIN; never read again */
} conn_t;

typedef struct {
    uv_write_t req;
    conn_t *conn;
    char data[]; /* the queued (unwritten) bytes */
} write_req_t;

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void on_close(uv_handle_t *h)
{
    free(h->data); /* conn_t (NULL for server/signals) */
}

static void close_conn(conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    close_conn(req->handle->data);
    free(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = read_buf;
    buf->len = sizeof(read_buf);
}

static void on_write(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    conn_t *c = w->conn;
    free(w);
    if (status < 0) {
        close_conn(c);
        return;
    }
    if (!c->reading && !c->eof && !uv_is_closing((uv_handle_t *)&c->tcp) &&
        c->tcp.write_queue_size < WRITE_HIGH_WATER / 2) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = 1;
        else
            close_conn(c);
    }
}

/* Send `n` copies of the fixed response, in order, with one syscall when the
 * socket has room. Returns 0, or -1 if the connection was closed. */
static int send_responses(conn_t *c, size_t n)
{
    size_t total = n * response_len;
    char stackbuf[16 * 1024];
    char *out = total <= sizeof(stackbuf) ? stackbuf : malloc(total);
    if (out == NULL) {
        close_conn(c);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * response_len, response, response_len);

    /* uv_try_write returns UV_EAGAIN when earlier writes are still queued,
     * so response order is preserved. */
    uv_buf_t b = uv_buf_init(out, (unsigned int)total);
    int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    size_t done = 0;
    if (r >= 0)
        done = (size_t)r;
    else if (r != UV_EAGAIN) {
        if (out != stackbuf)
            free(out);
        close_conn(c);
        return -1;
    }

    if (done < total) {
        size_t rest = total - done;
        write_req_t *w = malloc(sizeof(*w) + rest);
        if (w == NULL) {
            if (out != stackbuf)
                free(out);
            close_conn(c);
            return -1;
        }
        w->conn = c;
        memcpy(w->data, out + done, rest);
        uv_buf_t wb = uv_buf_init(w->data, (unsigned int)rest);
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &wb, 1, on_write) != 0) {
            free(w);
            if (out != stackbuf)
                free(out);
            close_conn(c);
            return -1;
        }
    }
    if (out != stackbuf)
        free(out);
    return 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = stream->data;
    if (nread == UV_EOF) {
        /* Peer finished sending: flush queued responses, then close. */
        uv_read_stop(stream);
        c->reading = 0;
        c->eof = 1;
        uv_shutdown_t *req = malloc(sizeof(*req));
        if (req == NULL || uv_shutdown(req, stream, on_shutdown) != 0) {
            free(req);
            close_conn(c);
        }
        return;
    }
    if (nread < 0) {
        close_conn(c);
        return;
    }

    /* KMP automaton for "\r\n\r\n"; the state carries across reads. */
    static const char pat[4] = {'\r', '\n', '\r', '\n'};
    int m = c->match;
    size_t requests = 0;
    for (ssize_t i = 0; i < nread; i++) {
        char ch = buf->base[i];
        if (ch == pat[m]) {
            if (++m == 4) {
                requests++;
                m = 0;
            }
        } else {
            m = (ch == '\r') ? 1 : 0;
        }
    }
    c->match = m;

    if (requests > 0 && send_responses(c, requests) != 0)
        return;

    if (c->tcp.write_queue_size > WRITE_HIGH_WATER && c->reading) {
        uv_read_stop(stream);
        c->reading = 0;
    }
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0) {
        fprintf(stderr, "bench_bare: accept: %s\n", uv_strerror(status));
        return;
    }
    conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) {
        close_conn(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        close_conn(c);
        return;
    }
    c->reading = 1;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, on_close);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    /* Close the listener, every connection and the signal watchers; the
     * loop then has no active handles and uv_run returns. */
    uv_walk(loop, close_any, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    char *end;
    errno = 0;
    long port = strtol(argv[1], &end, 10);
    if (errno != 0 || *end != '\0' || end == argv[1] || port < 1 || port > 65535) {
        fprintf(stderr, "bench_bare: invalid port '%s'\n", argv[1]);
        return 2;
    }

    int n = snprintf(response, sizeof(response),
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n"
                     "\r\n"
                     "%s",
                     strlen(BODY), BODY);
    if (n < 0 || (size_t)n >= sizeof(response))
        return 1;
    response_len = (size_t)n;

    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();

    struct sockaddr_in addr;
    int r = uv_ip4_addr("127.0.0.1", (int)port, &addr);
    if (r == 0)
        r = uv_tcp_init(loop, &server);
    if (r == 0)
        r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&server, 1024, on_connection);
    if (r != 0) {
        fprintf(stderr, "bench_bare: listen on 127.0.0.1:%ld: %s\n", port, uv_strerror(r));
        return 1;
    }

    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);

    fprintf(stderr, "bench_bare: listening on 127.0.0.1:%ld\n", port);
    uv_run(loop, UV_RUN_DEFAULT);

    r = uv_loop_close(loop);
    if (r != 0) {
        fprintf(stderr, "bench_bare: uv_loop_close: %s\n", uv_strerror(r));
        return 1;
    }
    return 0;
}
