/* server_internal: what server.c shares with stream.c (the connection
 * and its write/close primitives). Not for use outside src/http/. */
#ifndef OPX_SERVER_INTERNAL_H
#define OPX_SERVER_INTERNAL_H
#include "parser.h"
#include "server.h"

enum phase { PH_IDLE, PH_HEADERS, PH_BODY, PH_HANDLING, PH_LINGER, PH_STREAM };

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    http_server *srv;
    http_parse hp;
    http_req *cur; /* dispatched, not yet answered */
    char *inbuf;
    size_t in_len;
    enum phase phase;
    int closing, handles_open, reading, in_process, close_after_write, write_blocked;
    http_conn *prev, *next;
    char ip[48];
    /* PH_STREAM: see http_stream_open */
    int stream_chunked;
    size_t stream_max_queued;
    const char *stream_goodbye;
    void (*stream_on_close)(void *owner);
    void *stream_owner;
};

/* queues data (copied when it cannot be written at once); closes the
 * connection on a write error */
void http_conn_write(http_conn *c, const char *data, size_t len);
/* the last response is out: half-close, then linger reading until EOF */
void http_conn_after_last_write(http_conn *c);
void http_conn_close(http_conn *c);
void http_conn_read_start(http_conn *c);
/* the Date header's value for this second */
const char *http_date_header(void);
void http_access_log(http_req *req, int status, double secs);
/* a stream's last bytes (maybe none), then its end (stream.c) */
void http_stream_finish(http_conn *c, const char *last, size_t len);
#endif
