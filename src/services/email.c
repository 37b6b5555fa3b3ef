/* email: rendering, composing and sending the outbox's mails (see email.h). */
#include "email.h"
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../core/breaker.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "../ext/curl_loop.h"
#include "../ext/smtp.h"
#include "../rules/ics.h"
#include "jobs.h"
#include "../rules/tzinfo.h"

#define JOB_DEADLINE_NS 10000000000ull
#define TEXT_MAX (256 * 1024)

static struct {
    store *st;
    email_config cfg;
    smtp_config smtp;
    breaker br;
    int use_smtp, started;
    uint64_t sent, failed, retried, deferred;
} E;

void email_config_default(email_config *cfg)
{
    *cfg = (email_config){
        .transport = "log",
        .smtp_url = "smtp://127.0.0.1:25",
        .smtp_tls = "try",
        .smtp_timeout_ms = 30000,
        .from = "no-reply@offline-pixel.localhost",
        .public_url = "http://127.0.0.1:8080",
        .max_attempts = 6,
        .retry_base_s = 60,
        .retry_max_s = 3600,
        .digest_delay_s = 300,
        .breaker_threshold = 5,
        .breaker_cooldown_s = 60,
    };
}

const email_config *email_config_get(void)
{
    return &E.cfg;
}

int email_config_check(const email_config *c, char *err, size_t errlen)
{
    if (strcmp(c->transport, "log") != 0 && strcmp(c->transport, "smtp") != 0) {
        snprintf(err, errlen, "--email-transport takes log or smtp");
        return -1;
    }
    if (strncmp(c->smtp_url, "smtp://", 7) != 0 && strncmp(c->smtp_url, "smtps://", 8) != 0) {
        snprintf(err, errlen, "--smtp-url must start with smtp:// or smtps://");
        return -1;
    }
    if (strcmp(c->smtp_tls, "off") && strcmp(c->smtp_tls, "try") && strcmp(c->smtp_tls, "required")) {
        snprintf(err, errlen, "--smtp-tls takes off, try or required");
        return -1;
    }
    const char *at = strchr(c->from, '@');
    if (!at || at == c->from || !at[1] || strpbrk(c->from, " <>\"\r\n")) {
        snprintf(err, errlen, "--mail-from must be a bare address like no-reply@example.com");
        return -1;
    }
    return 0;
}

int64_t email_backoff_s(const email_config *cfg, int attempt)
{
    int64_t d = cfg->retry_base_s;
    for (int i = 1; i < attempt && d < cfg->retry_max_s; i++) d *= 2;
    if (d > cfg->retry_max_s) d = cfg->retry_max_s;
    /* jitter: between half and all of it, so a relay that comes back is
     * not met by every mail at once */
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t)randombytes_uniform((uint32_t)(half + 1)) : 0) + (d & 1);
}

/* ---- words -------------------------------------------------------------------- */

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* "Tue 1 Dec 2026, 15:00 (Europe/Berlin, UTC+01:00)" */
static void local_time(int64_t t, const char *zone, char *out, size_t cap)
{
    const char *z = zone && tzinfo_find(zone) ? zone : "UTC";
    int off = 0;
    tzinfo_offset(z, t, &off);
    time_t tt = (time_t)(t + off);
    struct tm tm;
    gmtime_r(&tt, &tm);
    char when[48];
    strftime(when, sizeof when, "%a %-d %b %Y, %H:%M", &tm);
    int a = off < 0 ? -off : off;
    snprintf(out, cap, "%s (%s, UTC%c%02d:%02d)", when, z, off < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
}

static void rfc3339(int64_t t, char out[32])
{
    clock_rfc3339(t, out);
}

/* the recipient's side of an interview mail */
static int is_client(const store_mail *m, json_t *d)
{
    return strcmp(m->user_id, str(d, "client_id")) == 0;
}

static int render_interview(const store_mail *m, json_t *d, const char *url, email_rendered *r)
{
    int client = is_client(m, d);
    const char *zone = client ? str(d, "client_timezone") : str(d, "engineer_timezone");
    const char *other = client ? str(d, "engineer_name") : str(d, "client_name");
    const char *title = str(d, "request_title");
    int rc = 0;
    char when[128];
    if (strcmp(m->kind, "interview.proposed") == 0) {
        rc |= buf_printf(&r->subject, "Interview proposed: %s", title);
        rc |= buf_printf(&r->text,
                         "Hello %s,\n\n%s would like to interview you about \"%s\" (%lld minutes, "
                         "video: %s).\nThe proposed times, in your time zone:\n\n",
                         m->to_name, other, title, (long long)num(d, "duration_minutes"), str(d, "video_url"));
        json_t *slots = json_object_get(d, "slots");
        size_t i;
        json_t *s;
        json_array_foreach(slots, i, s) {
            local_time(json_integer_value(s), zone, when, sizeof when);
            char iso[32];
            rfc3339(json_integer_value(s), iso);
            rc |= buf_printf(&r->text, "  - %s   [%s]\n", when, iso);
        }
        rc |= buf_printf(&r->text, "\nPick one in the conversation: %s/#/conversations/%s\n", url,
                         str(d, "conversation_id"));
        return rc;
    }
    int cancel = strcmp(m->kind, "interview.cancelled") == 0;
    int64_t slot = num(d, "slot");
    if (slot) local_time(slot, zone, when, sizeof when);
    if (cancel) {
        rc |= buf_printf(&r->subject, "Interview cancelled: %s", title);
        rc |= buf_printf(&r->text, "Hello %s,\n\nThe interview with %s about \"%s\"%s%s is cancelled.\n",
                         m->to_name, other, title, slot ? " on " : "", slot ? when : "");
    } else {
        rc |= buf_printf(&r->subject, "Interview on %s: %s", when, title);
        rc |= buf_printf(&r->text,
                         "Hello %s,\n\nYour interview with %s about \"%s\" is set:\n\n  When:  %s\n"
                         "  Length: %lld minutes\n  Video: %s\n\nThe calendar invitation is attached.\n",
                         m->to_name, other, title, when, (long long)num(d, "duration_minutes"),
                         str(d, "video_url"));
    }
    rc |= buf_printf(&r->text, "\nConversation: %s/#/conversations/%s\n", url, str(d, "conversation_id"));
    if (!slot) return rc; /* a proposal cancelled before any time was chosen: no calendar entry */
    char uid[96];
    snprintf(uid, sizeof uid, "%s@offline-pixel", str(d, "interview_id"));
    char *desc = NULL, *summary = NULL;
    if (asprintf(&desc, "Interview about \"%s\" between %s and %s.\nVideo: %s", title,
                 str(d, "client_name"), str(d, "engineer_name"), str(d, "video_url")) < 0)
        desc = NULL;
    if (asprintf(&summary, "Interview: %s (%s)", title, other) < 0) summary = NULL;
    if (!desc || !summary) {
        free(desc);
        free(summary);
        return -1;
    }
    ics_event ev = {
        .cancel = cancel,
        .uid = uid,
        .sequence = (int)num(d, "sequence"),
        .start = slot,
        .stamp = clock_now_s(),
        .duration_minutes = (int)num(d, "duration_minutes"),
        .tzid = zone,
        .summary = summary,
        .description = desc,
        .location = str(d, "video_url"),
        .organizer_name = str(d, "client_name"),
        .organizer_email = str(d, "client_email"),
        .attendee_name = str(d, "engineer_name"),
        .attendee_email = str(d, "engineer_email"),
    };
    r->ics_cancel = cancel;
    rc |= ics_write(&r->ics, &ev);
    free(desc);
    free(summary);
    return rc;
}

int email_render(const store_mail *m, const char *url, email_rendered *r)
{
    buf_init(&r->subject, 2048);
    buf_init(&r->text, TEXT_MAX);
    buf_init(&r->ics, TEXT_MAX);
    r->ics_cancel = 0;
    json_t *d = json_loads(m->data ? m->data : "{}", 0, NULL);
    if (!d) d = json_object();
    int rc = 0;
    const char *title = str(d, "request_title");
    if (strncmp(m->kind, "interview.", 10) == 0) {
        rc = render_interview(m, d, url, r);
    } else if (strcmp(m->kind, "invitation") == 0) {
        const char *exp = str(d, "expires_at");
        rc |= buf_printf(&r->subject, "You are invited: %s", title);
        rc |= buf_printf(&r->text,
                         "Hello %s,\n\nA client would like to talk to you about \"%s\".\n"
                         "Accept or decline before %s: %s/#/invitations\n",
                         m->to_name, title, exp, url);
    } else if (strcmp(m->kind, "candidate.accepted") == 0) {
        rc |= buf_printf(&r->subject, "%s accepted your invitation: %s", str(d, "engineer_name"), title);
        rc |= buf_printf(&r->text,
                         "Hello %s,\n\n%s accepted your invitation for \"%s\". Say hello:\n"
                         "%s/#/conversations/%s\n",
                         m->to_name, str(d, "engineer_name"), title, url, str(d, "conversation_id"));
    } else if (strcmp(m->kind, "message.digest") == 0) {
        long long n = num(d, "count");
        rc |= buf_printf(&r->subject, "%lld new message%s from %s", n, n == 1 ? "" : "s", str(d, "from_name"));
        rc |= buf_printf(&r->text,
                         "Hello %s,\n\n%s wrote about \"%s\" (%lld unread):\n\n> %s\n\nReply: "
                         "%s/#/conversations/%s\n",
                         m->to_name, str(d, "from_name"), title, n, str(d, "excerpt"), url,
                         str(d, "conversation_id"));
    } else {
        /* kinds whose words live with their feature (contracts, payments)
         * carry their own subject and text */
        const char *subj = str(d, "subject");
        rc |= buf_printf(&r->subject, "%s", subj[0] ? subj : m->kind);
        const char *text = str(d, "text");
        rc |= buf_printf(&r->text, "Hello %s,\n\n%s\n", m->to_name, text[0] ? text : m->kind);
    }
    rc |= buf_printf(&r->text, "\n-- \nOffline Pixel\n");
    json_decref(d);
    return rc ? -1 : 0;
}

void email_rendered_free(email_rendered *r)
{
    buf_free(&r->subject);
    buf_free(&r->text);
    buf_free(&r->ics);
}

/* ---- MIME ----------------------------------------------------------------------- */

static int ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20) return 0;
    return 1;
}

/* a header value: as is when plain ASCII, else RFC 2047 base64 encoded
 * words of at most 75 characters (45 bytes of text each, never splitting
 * a UTF-8 character), folded onto continuation lines */
static int header_word(buf *out, const char *s, size_t max_bytes)
{
    if (ascii(s)) return buf_puts(out, s);
    size_t n = strlen(s), at = 0;
    if (max_bytes > 45) { /* one word: see display_name */
        size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
        char *b = malloc(cap);
        if (!b) return -1;
        sodium_bin2base64(b, cap, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
        int rc = buf_printf(out, "=?UTF-8?B?%s?=", b);
        free(b);
        return rc;
    }
    int rc = 0;
    while (at < n) {
        size_t take = n - at < 45 ? n - at : 45;
        /* cut between two characters, neither of them a space (readers
         * differ on whitespace at the edges of encoded words) */
        size_t want = take;
        while (take > 0 && at + take < n &&
               (((unsigned char)s[at + take] & 0xC0) == 0x80 || s[at + take] == ' ' || s[at + take - 1] == ' '))
            take--;
        if (take == 0) {
            take = want; /* no such place: cut between characters */
            while (take > 1 && at + take < n && ((unsigned char)s[at + take] & 0xC0) == 0x80) take--;
        }
        char b[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b, sizeof b, (const unsigned char *)s + at, take, sodium_base64_VARIANT_ORIGINAL);
        rc |= buf_printf(out, "%s=?UTF-8?B?%s?=", at ? "\r\n " : "", b);
        at += take;
    }
    return rc;
}

/* a display name inside quotes, with what would break it removed. A
 * non-ASCII one is a single encoded word even past 75 characters (names
 * are at most 100 characters, so the line stays far below 998): readers
 * disagree on the space between adjacent encoded words inside a phrase
 * (Python's parser keeps it, RFC 2047 drops it), which would change the
 * name; subjects are unstructured text, where all readers agree. */
static int display_name(buf *out, const char *name)
{
    char clean[420];
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < sizeof clean; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) clean[o++] = *p;
    clean[o] = '\0';
    if (!ascii(clean)) return header_word(out, clean, sizeof clean);
    return buf_printf(out, "\"%s\"", clean);
}

static int base64_body(buf *out, const char *data, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(cap);
    if (!b) return -1;
    sodium_bin2base64(b, cap, (const unsigned char *)data, n, sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(b);
    int rc = 0;
    for (size_t i = 0; i < len; i += 76) {
        rc |= buf_append(out, b + i, len - i < 76 ? len - i : 76);
        rc |= buf_puts(out, "\r\n");
    }
    free(b);
    return rc;
}

int email_compose(const store_mail *m, const email_rendered *r, const char *from, int64_t now, buf *out)
{
    char date[64];
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    int rc = buf_printf(out, "From: \"Offline Pixel\" <%s>\r\nTo: ", from);
    rc |= display_name(out, m->to_name);
    rc |= buf_printf(out, " <%s>\r\nSubject: ", m->to_addr);
    rc |= header_word(out, r->subject.data ? r->subject.data : "", 45);
    const char *domain = strchr(from, '@') + 1;
    rc |= buf_printf(out,
                     "\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                     "Auto-Submitted: auto-generated\r\nX-Opx-Kind: %s\r\n",
                     date, m->id, domain, m->kind);
    const char *text = r->text.data ? r->text.data : "";
    if (!r->ics.len) {
        rc |= buf_puts(out, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        rc |= base64_body(out, text, strlen(text));
        return rc ? -1 : 0;
    }
    char boundary[64];
    snprintf(boundary, sizeof boundary, "=_opx_%s", m->id);
    const char *method = r->ics_cancel ? "CANCEL" : "REQUEST";
    rc |= buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary);
    rc |= buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
    rc |= base64_body(out, text, strlen(text));
    rc |= buf_printf(out, "--%s\r\nContent-Type: text/calendar; charset=utf-8; method=%s\r\n"
                          "Content-Transfer-Encoding: base64\r\n"
                          "Content-Disposition: attachment; filename=\"%s.ics\"\r\n\r\n",
                     boundary, method, r->ics_cancel ? "cancel" : "invite");
    rc |= base64_body(out, r->ics.data, r->ics.len);
    rc |= buf_printf(out, "--%s--\r\n", boundary);
    return rc ? -1 : 0;
}

/* ---- sending ------------------------------------------------------------------------ */

typedef struct {
    store_job job;
    jobs_finish_fn finish;
    void *finish_ctx;
    store_mail mail;
    store_mail_result res;
    char error[512];
    int attempted;
} send_op;

static void op_free(send_op *op)
{
    free(op->mail.data);
    free(op);
}

static void on_recorded(void *ctx, int rc)
{
    send_op *op = ctx;
    /* a deferral counts once it is durable, so whoever sees the count sees
       the mail's new next_attempt_at too */
    if (op->res.deferred && rc >= 0) E.deferred++;
    op->finish(op->finish_ctx, rc);
    op_free(op);
}

/* records the outcome; the mail's job is rescheduled or completed with it */
static void record(send_op *op, int sent, const char *error)
{
    int64_t now = clock_now_s();
    int attempt = op->mail.attempts + 1;
    op->res = (store_mail_result){.mail_id = op->mail.id, .job_id = op->job.id, .now = now, .sent = sent};
    if (error) {
        snprintf(op->error, sizeof op->error, "%s", error);
        op->res.error = op->error;
    }
    if (!sent) {
        if (attempt < E.cfg.max_attempts) {
            op->res.retry_at = now + email_backoff_s(&E.cfg, attempt);
            E.retried++;
        } else {
            E.failed++;
            metrics_count("opx_email_failed_total", "kind", op->mail.kind);
            log_msgf(LOG_WARN, "mail %s (%s) to %s failed for good after %d attempts: %s", op->mail.id,
                     op->mail.kind, op->mail.to_addr, attempt, error ? error : "?");
        }
    } else {
        E.sent++;
        metrics_count("opx_email_sent_total", "kind", op->mail.kind);
    }
    int rc = STORE_CALL(E.st, mail_result, &op->res, clock_mono_ns() + JOB_DEADLINE_NS, on_recorded, op);
    if (rc < 0) on_recorded(op, rc);
}

static void on_smtp(void *ctx, int ok, const char *error)
{
    send_op *op = ctx;
    breaker_result(&E.br, ok, clock_now_ms());
    if (!ok) log_msgf(LOG_WARN, "mail %s to %s: SMTP: %s", op->mail.id, op->mail.to_addr, error);
    record(op, ok, ok ? NULL : error);
}

static void on_mail(void *ctx, int rc)
{
    send_op *op = ctx;
    if (rc == STORE_NOTFOUND) { /* nothing to send: the job is done */
        rc = STORE_CALL(E.st, job_done, op->job.id, clock_now_s(), "no such mail",
                        clock_mono_ns() + JOB_DEADLINE_NS, on_recorded, op);
        if (rc < 0) on_recorded(op, rc);
        return;
    }
    if (rc < 0) {
        on_recorded(op, rc);
        return;
    }
    if (strcmp(op->mail.status, "queued") != 0) {
        rc = STORE_CALL(E.st, job_done, op->job.id, clock_now_s(), NULL,
                        clock_mono_ns() + JOB_DEADLINE_NS, on_recorded, op);
        if (rc < 0) on_recorded(op, rc);
        return;
    }
    email_rendered r;
    buf msg;
    buf_init(&msg, 4 * TEXT_MAX);
    int bad = email_render(&op->mail, E.cfg.public_url, &r) < 0 ||
              email_compose(&op->mail, &r, E.cfg.from, clock_now_s(), &msg) < 0;
    if (bad) {
        email_rendered_free(&r);
        buf_free(&msg);
        record(op, 0, "the mail could not be composed (too large)");
        return;
    }
    if (!E.use_smtp) {
        buf x;
        buf_init(&x, 8192);
        buf_puts(&x, ",\"mail_id\":");
        buf_json_str(&x, op->mail.id, strlen(op->mail.id));
        buf_puts(&x, ",\"to\":");
        buf_json_str(&x, op->mail.to_addr, strlen(op->mail.to_addr));
        buf_puts(&x, ",\"kind\":");
        buf_json_str(&x, op->mail.kind, strlen(op->mail.kind));
        buf_puts(&x, ",\"subject\":");
        buf_json_str(&x, r.subject.data ? r.subject.data : "", r.subject.len);
        buf_printf(&x, ",\"bytes\":%zu,\"calendar\":%s", msg.len, r.ics.len ? "true" : "false");
        log_line(LOG_INFO, "email (log transport)", x.data);
        buf_free(&x);
        email_rendered_free(&r);
        buf_free(&msg);
        record(op, 1, NULL);
        return;
    }
    email_rendered_free(&r);
    int64_t now_ms = clock_now_ms();
    if (!breaker_allow(&E.br, now_ms)) {
        /* the relay is down: wait for the breaker without using an attempt */
        op->res = (store_mail_result){.mail_id = op->mail.id, .job_id = op->job.id, .now = clock_now_s(),
                                      .deferred = 1,
                                      .retry_at = breaker_retry_at_ms(&E.br, now_ms) / 1000 + 1};
        buf_free(&msg);
        rc = STORE_CALL(E.st, mail_result, &op->res, clock_mono_ns() + JOB_DEADLINE_NS, on_recorded, op);
        if (rc < 0) on_recorded(op, rc);
        return;
    }
    rc = smtp_send(&E.smtp, op->mail.to_addr, msg.data, msg.len, on_smtp, op);
    buf_free(&msg);
    if (rc < 0) {
        breaker_result(&E.br, 0, now_ms);
        record(op, 0, "the SMTP transfer could not start");
    }
}

static void on_send_job(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    send_op *op = calloc(1, sizeof *op);
    if (!op) {
        finish(finish_ctx, STORE_BUSY);
        return;
    }
    op->job = *job;
    op->finish = finish;
    op->finish_ctx = finish_ctx;
    int rc = STORE_CALL(E.st, mail_get, op->job.ref, &op->mail, clock_mono_ns() + JOB_DEADLINE_NS, on_mail, op);
    if (rc < 0) {
        finish(finish_ctx, rc);
        op_free(op);
    }
}

typedef struct {
    store_job job;
    jobs_finish_fn finish;
    void *finish_ctx;
} digest_op;

static void on_digest(void *ctx, int rc)
{
    digest_op *op = ctx;
    op->finish(op->finish_ctx, rc);
    free(op);
}

static void on_digest_job(const store_job *job, jobs_finish_fn finish, void *finish_ctx)
{
    digest_op *op = malloc(sizeof *op);
    if (!op) {
        finish(finish_ctx, STORE_BUSY);
        return;
    }
    op->job = *job;
    op->finish = finish;
    op->finish_ctx = finish_ctx;
    int rc = STORE_CALL(E.st, mail_digest, op->job.id, op->job.ref, clock_now_s(),
                        clock_mono_ns() + JOB_DEADLINE_NS, on_digest, op);
    if (rc < 0) on_digest(op, rc);
}

static double m_sent(void *a)
{
    (void)a;
    return (double)E.sent;
}

static double m_retried(void *a)
{
    (void)a;
    return (double)E.retried;
}

static double m_deferred(void *a)
{
    (void)a;
    return (double)E.deferred;
}

static double m_breaker(void *a)
{
    (void)a;
    return E.br.state;
}

int email_start(uv_loop_t *loop, store *s, const email_config *cfg)
{
    E.st = s;
    E.cfg = *cfg;
    E.use_smtp = strcmp(cfg->transport, "smtp") == 0;
    E.smtp = (smtp_config){.url = cfg->smtp_url, .tls = cfg->smtp_tls, .user = cfg->smtp_user,
                           .password = cfg->smtp_password, .from = cfg->from,
                           .timeout_ms = cfg->smtp_timeout_ms, .insecure = cfg->smtp_insecure};
    breaker_init(&E.br, cfg->breaker_threshold, (int64_t)cfg->breaker_cooldown_s * 1000);
    if (E.use_smtp && curl_loop_init(loop) < 0) return -1;
    static int registered;
    if (!registered) {
        registered = 1;
        jobs_register("email.send", on_send_job);
        jobs_register("email.digest", on_digest_job);
        metrics_register("opx_email_delivered_total", "Mails the transport accepted.", "counter", m_sent, NULL);
        metrics_register("opx_email_retries_total", "Failed attempts that were scheduled again.", "counter",
                         m_retried, NULL);
        metrics_register("opx_email_deferred_total", "Sends held back while the SMTP breaker was open.",
                         "counter", m_deferred, NULL);
        metrics_register("opx_smtp_breaker_state", "SMTP circuit breaker: 0 closed, 1 open, 2 half-open.",
                         "gauge", m_breaker, NULL);
    }
    E.started = 1;
    return 0;
}

void email_stop(void)
{
    if (!E.started) return;
    E.started = 0;
    if (E.use_smtp) curl_loop_close();
}
