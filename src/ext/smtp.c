/* smtp: one message per libcurl transfer (see smtp.h). */
#include "smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "curl_loop.h"

typedef struct {
    CURL *easy;
    struct curl_slist *rcpt;
    char *msg;
    size_t len, off;
    smtp_done_fn done;
    void *ctx;
    char errbuf[CURL_ERROR_SIZE];
} send_op;

static size_t feed(char *dst, size_t size, size_t n, void *arg)
{
    send_op *op = arg;
    size_t room = size * n, left = op->len - op->off;
    size_t k = left < room ? left : room;
    memcpy(dst, op->msg + op->off, k);
    op->off += k;
    return k;
}

static void on_done(CURL *easy, CURLcode res, void *ctx)
{
    send_op *op = ctx;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    char why[CURL_ERROR_SIZE + 64];
    if (res == CURLE_OK) {
        op->done(op->ctx, 1, NULL);
    } else {
        snprintf(why, sizeof why, "%s%s%s (last SMTP reply %ld)", curl_easy_strerror(res),
                 op->errbuf[0] ? ": " : "", op->errbuf, code);
        op->done(op->ctx, 0, why);
    }
    curl_slist_free_all(op->rcpt);
    curl_easy_cleanup(op->easy);
    free(op->msg);
    free(op);
}

int smtp_send(const smtp_config *cfg, const char *rcpt, const char *msg, size_t len,
              smtp_done_fn done, void *ctx)
{
    send_op *op = calloc(1, sizeof *op);
    if (!op) return -1;
    op->msg = malloc(len);
    op->easy = curl_easy_init();
    char to[300], from[300];
    snprintf(to, sizeof to, "<%s>", rcpt);
    snprintf(from, sizeof from, "<%s>", cfg->from);
    op->rcpt = curl_slist_append(NULL, to);
    if (!op->msg || !op->easy || !op->rcpt) goto fail;
    memcpy(op->msg, msg, len);
    op->len = len;
    op->done = done;
    op->ctx = ctx;
    CURL *e = op->easy;
    curl_easy_setopt(e, CURLOPT_URL, cfg->url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, op->rcpt);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, feed);
    curl_easy_setopt(e, CURLOPT_READDATA, op);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->timeout_ms < 10000 ? cfg->timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, op->errbuf);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L); /* one exchange, then the socket goes */
    long tls = strcmp(cfg->tls, "required") == 0 ? CURLUSESSL_ALL
               : strcmp(cfg->tls, "try") == 0     ? CURLUSESSL_TRY
                                                  : CURLUSESSL_NONE;
    curl_easy_setopt(e, CURLOPT_USE_SSL, tls);
    if (cfg->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->user && cfg->user[0]) {
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    if (curl_loop_add(e, on_done, op) < 0) goto fail;
    return 0;
fail:
    curl_slist_free_all(op->rcpt);
    if (op->easy) curl_easy_cleanup(op->easy);
    free(op->msg);
    free(op);
    return -1;
}
