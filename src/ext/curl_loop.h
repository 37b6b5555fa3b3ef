/* curl_loop: libcurl's multi interface driven by the libuv loop, so
 * outbound calls (SMTP today; the payment gateway and webhooks next) never
 * block it. libcurl tells us which sockets to watch (uv_poll per socket)
 * and when to wake it (one uv_timer); we tell it what happened
 * (curl_multi_socket_action) and hand finished transfers back to their
 * owners on the loop. Every transfer must carry its own deadline
 * (CURLOPT_TIMEOUT_MS): libcurl enforces it. */
#ifndef OPX_CURL_LOOP_H
#define OPX_CURL_LOOP_H
#include <curl/curl.h>
#include <uv.h>

typedef void (*curl_loop_done_fn)(CURL *easy, CURLcode result, void *ctx);

int curl_loop_init(uv_loop_t *loop);
/* Starts easy; done runs once on the loop when it finishes, fails or is
 * aborted by curl_loop_close (CURLE_ABORTED_BY_CALLBACK). The caller
 * keeps and finally cleans up easy. Returns 0, or -1 (done never runs). */
int curl_loop_add(CURL *easy, curl_loop_done_fn done, void *ctx);
int curl_loop_running(void);
/* Aborts what is running (each done runs) and closes the handles. */
void curl_loop_close(void);
#endif
