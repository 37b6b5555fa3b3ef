/* curl_loop: libcurl multi on libuv (see curl_loop.h). */
#include "curl_loop.h"
#include <stdlib.h>
#include "../core/log.h"

typedef struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct sock_ctx *prev, *next;
} sock_ctx;

typedef struct xfer {
    CURL *easy;
    curl_loop_done_fn done;
    void *ctx;
    struct xfer *prev, *next;
} xfer;

static struct {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    int running;
    int ready;
    xfer *xfers;
    sock_ctx *socks;
} L;

#define LIST_ADD(head, x)                                                                          \
    do {                                                                                           \
        (x)->prev = NULL;                                                                          \
        (x)->next = (head);                                                                        \
        if (head) (head)->prev = (x);                                                              \
        (head) = (x);                                                                              \
    } while (0)
#define LIST_DEL(head, x)                                                                          \
    do {                                                                                           \
        if ((x)->prev) (x)->prev->next = (x)->next;                                                \
        else (head) = (x)->next;                                                                   \
        if ((x)->next) (x)->next->prev = (x)->prev;                                                \
    } while (0)

static void finish(xfer *x, CURLcode res)
{
    LIST_DEL(L.xfers, x);
    curl_multi_remove_handle(L.multi, x->easy);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
    L.running--;
    x->done(x->easy, res, x->ctx);
    free(x);
}

static void check_done(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(L.multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURLcode res = m->data.result;
        xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x) finish(x, res);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock_ctx *s = p->data;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int still;
    curl_multi_socket_action(L.multi, s->fd, flags, &still);
    check_done();
}

static void on_timeout(uv_timer_t *t)
{
    (void)t;
    int still;
    curl_multi_socket_action(L.multi, CURL_SOCKET_TIMEOUT, 0, &still);
    check_done();
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    (void)userp;
    if (timeout_ms < 0) uv_timer_stop(&L.timer);
    else uv_timer_start(&L.timer, on_timeout, (uint64_t)timeout_ms, 0); /* 0: at once, next turn */
    return 0;
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)userp;
    sock_ctx *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            LIST_DEL(L.socks, s);
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
            curl_multi_assign(L.multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return -1;
        s->fd = fd;
        if (uv_poll_init_socket(L.loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        LIST_ADD(L.socks, s);
        curl_multi_assign(L.multi, fd, s);
    }
    int ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

int curl_loop_init(uv_loop_t *loop)
{
    if (L.ready) return 0;
    L.loop = loop;
    L.multi = curl_multi_init();
    if (!L.multi) return -1;
    uv_timer_init(loop, &L.timer);
    curl_multi_setopt(L.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(L.multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    L.ready = 1;
    return 0;
}

int curl_loop_add(CURL *easy, curl_loop_done_fn done, void *ctx)
{
    if (!L.ready) return -1;
    xfer *x = malloc(sizeof *x);
    if (!x) return -1;
    x->easy = easy;
    x->done = done;
    x->ctx = ctx;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (curl_multi_add_handle(L.multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(x);
        return -1;
    }
    LIST_ADD(L.xfers, x);
    L.running++;
    return 0;
}

int curl_loop_running(void)
{
    return L.running;
}

static void on_timer_closed(uv_handle_t *h)
{
    (void)h;
}

void curl_loop_close(void)
{
    if (!L.ready) return;
    L.ready = 0;
    while (L.xfers) finish(L.xfers, CURLE_ABORTED_BY_CALLBACK); /* each owner hears once */
    uv_timer_stop(&L.timer);
    uv_close((uv_handle_t *)&L.timer, on_timer_closed);
    curl_multi_cleanup(L.multi); /* may still report sockets removed */
    L.multi = NULL;
    while (L.socks) { /* whatever it did not report */
        sock_ctx *s = L.socks;
        LIST_DEL(L.socks, s);
        uv_poll_stop(&s->poll);
        uv_close((uv_handle_t *)&s->poll, on_sock_closed);
    }
}
