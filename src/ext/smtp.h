/* smtp: sends one prepared message over SMTP with libcurl, on the loop
 * (curl_loop). The relay, its TLS mode and credentials come from the
 * configuration; every exchange has a deadline. The result says whether
 * the relay took the message and, if not, why (for retries and the
 * outbox view). */
#ifndef OPX_SMTP_H
#define OPX_SMTP_H
#include <stddef.h>

typedef struct {
    const char *url;      /* smtp://host:port (STARTTLS per tls) or smtps://host:port */
    const char *tls;      /* "off", "try" (STARTTLS when offered) or "required" */
    const char *user;     /* NULL: no AUTH */
    const char *password;
    const char *from;     /* envelope sender, a bare address */
    long timeout_ms;      /* the whole exchange */
    int insecure;         /* skip certificate checks (a test relay only) */
} smtp_config;

/* ok 1: the relay accepted it; else error says why (valid during the call) */
typedef void (*smtp_done_fn)(void *ctx, int ok, const char *error);

/* msg (a complete RFC 5322 message with CRLF line ends, len bytes) is
 * copied. Returns 0, or -1 when it could not start (done never runs). */
int smtp_send(const smtp_config *cfg, const char *rcpt, const char *msg, size_t len,
              smtp_done_fn done, void *ctx);
#endif
