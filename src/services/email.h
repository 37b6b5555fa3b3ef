/* email: the outbox's sending side and every mail's words.
 *
 * Store transactions queue mails (outbox rows: recipient, kind, a JSON
 * document of the facts) beside the change they report, each with an
 * `email.send` job. This module runs those jobs: it renders the mail for
 * its kind (subject, text, and for interviews an RFC 5545 invite in the
 * recipient's zone), composes the MIME message, and hands it to the
 * transport: `log` (development: one log line, and the admin's outbox
 * view) or `smtp` (libcurl on the loop). A failed attempt is retried with
 * exponential backoff and jitter up to max_attempts, then the mail is
 * `failed` and admins see it with its last error. A circuit breaker stops
 * hammering a relay that is down: mails due meanwhile wait without using
 * up attempts. `email.digest` jobs turn a burst of messages into one mail. */
#ifndef OPX_EMAIL_H
#define OPX_EMAIL_H
#include <stdint.h>
#include <uv.h>
#include "../core/buf.h"
#include "../store/store.h"

typedef struct {
    const char *transport;     /* "log" or "smtp" */
    const char *smtp_url, *smtp_tls, *smtp_user, *smtp_password;
    int smtp_insecure;
    long smtp_timeout_ms;
    const char *from;          /* sender address */
    const char *public_url;    /* links in mails */
    int max_attempts;          /* then failed */
    int retry_base_s;          /* first retry after about this; doubles each time */
    int retry_max_s;
    int digest_delay_s;        /* a message waits this long for its digest (0: no digests) */
    int breaker_threshold;     /* failures in a row that open the breaker */
    int breaker_cooldown_s;
} email_config;

void email_config_default(email_config *cfg);
/* checks the configuration; message in err on failure */
int email_config_check(const email_config *cfg, char *err, size_t errlen);
/* registers the job handlers and starts the transport */
int email_start(uv_loop_t *loop, store *s, const email_config *cfg);
void email_stop(void);
const email_config *email_config_get(void);

/* What a mail says, for sending and for the admin's view. Appends to the
 * buffers; ics stays empty when the kind has no calendar part. */
typedef struct {
    buf subject, text, ics;
    int ics_cancel;
} email_rendered;
int email_render(const store_mail *m, const char *public_url, email_rendered *out);
void email_rendered_free(email_rendered *r);
/* The whole RFC 5322 message (CRLF lines, base64 parts). */
int email_compose(const store_mail *m, const email_rendered *r, const char *from, int64_t now, buf *out);
/* the delay before retry number `attempt` (1-based), with jitter */
int64_t email_backoff_s(const email_config *cfg, int attempt);
#endif
