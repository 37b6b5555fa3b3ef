/* test_talk: the pure parts of talking — RFC 3339 parsing, the iCalendar
 * writer (CRLF, folding at 75 octets, escaping, the recipient's zone and
 * its daylight saving offset), the circuit breaker's three states, email
 * retry backoff bounds, and the MIME composer's headers. */
#include "core/breaker.h"
#include "core/buf.h"
#include "core/clock.h"
#include "services/email.h"
#include "rules/ics.h"
#include "rules/tzinfo.h"
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* ---- RFC 3339 ------------------------------------------------------------------- */

Test(rfc3339, accepts_offsets_and_fractions)
{
    int64_t t;
    cr_assert_eq(clock_parse_rfc3339("2026-12-01T15:00:00Z", &t), 0);
    cr_assert_eq(t, 1796137200);
    int64_t u;
    cr_assert_eq(clock_parse_rfc3339("2026-12-01T20:30:00+05:30", &u), 0);
    cr_assert_eq(u, t);
    cr_assert_eq(clock_parse_rfc3339("2026-12-01T10:00:00.123456-05:00", &u), 0);
    cr_assert_eq(u, t);
    cr_assert_eq(clock_parse_rfc3339("2026-12-01t15:00:00z", &u), 0);
    cr_assert_eq(u, t);
    cr_assert_eq(clock_parse_rfc3339("2028-02-29T00:00:00Z", &u), 0); /* a leap day */
}

Test(rfc3339, refuses_everything_else)
{
    const char *bad[] = {"", "2026-12-01", "2026-12-01T15:00:00", "2026-12-01 15:00:00Z",
                         "2026-12-01T15:00Z", "2026-13-01T15:00:00Z", "2026-02-30T15:00:00Z",
                         "2026-12-01T24:00:00Z", "2026-12-01T15:60:00Z", "2026-12-01T15:00:00+0100",
                         "2026-12-01T15:00:00+25:00", "2026-12-01T15:00:00.Z", "1969-12-31T23:59:59Z",
                         "2026-12-01T15:00:00Zjunk", "+2026-12-01T15:00:00Z", "2026-1-01T15:00:00Z", NULL};
    for (int i = 0; bad[i]; i++) {
        int64_t t = 42;
        cr_expect_eq(clock_parse_rfc3339(bad[i], &t), -1, "accepted \"%s\"", bad[i]);
        cr_expect_eq(t, 42, "wrote a result for \"%s\"", bad[i]);
    }
    int64_t t;
    cr_assert_eq(clock_parse_rfc3339(NULL, &t), -1);
}

/* ---- iCalendar --------------------------------------------------------------------- */

static void load_zones(void)
{
    cr_assert_geq(tzinfo_load_all("/usr/share/zoneinfo"), 100, "tzdata (Debian package tzdata) is needed");
}

TestSuite(ics, .init = load_zones, .fini = tzinfo_free);

static char *render(const ics_event *e)
{
    static buf b;
    buf_free(&b);
    buf_init(&b, 1 << 20);
    cr_assert_eq(ics_write(&b, e), 0);
    cr_assert(b.data);
    return b.data;
}

static ics_event sample(void)
{
    return (ics_event){
        .uid = "ivw_1@offline-pixel",
        .sequence = 1,
        .start = 1783522800, /* 2026-07-08T15:00:00Z: summer time in New York */
        .stamp = 1783000000,
        .duration_minutes = 45,
        .tzid = "America/New_York",
        .summary = "Interview: Async API, phase 2; go",
        .description = "Line one\nLine two with a \\ backslash",
        .location = "https://meet.example.com/abc",
        .organizer_name = "Clara \"The\" Client",
        .organizer_email = "client@example.com",
        .attendee_name = "Tomasz",
        .attendee_email = "t@example.com",
    };
}

Test(ics, local_time_in_the_recipients_zone_with_dst)
{
    ics_event e = sample();
    char *s = render(&e);
    cr_assert(strstr(s, "METHOD:REQUEST\r\n"));
    cr_assert(strstr(s, "DTSTART;TZID=America/New_York:20260708T110000\r\n"), "%s", s);
    cr_assert(strstr(s, "DTEND;TZID=America/New_York:20260708T114500\r\n"), "%s", s);
    cr_assert(strstr(s, "TZOFFSETTO:-0400\r\n"), "summer offset: %s", s);
    cr_assert(strstr(s, "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"));
    cr_assert(strstr(s, "DTSTAMP:20260702T"), "DTSTAMP is UTC: %s", s);
    e.start = 1796137200; /* 2026-12-01T15:00:00Z: winter */
    s = render(&e);
    cr_assert(strstr(s, "DTSTART;TZID=America/New_York:20261201T100000\r\n"), "%s", s);
    cr_assert(strstr(s, "TZOFFSETTO:-0500\r\n"), "%s", s);
}

Test(ics, unknown_zone_falls_back_to_utc)
{
    ics_event e = sample();
    e.tzid = "Mars/Olympus_Mons";
    char *s = render(&e);
    cr_assert(strstr(s, "DTSTART;TZID=UTC:20260708T150000\r\n"), "%s", s);
}

Test(ics, lines_are_crlf_folded_and_escaped)
{
    ics_event e = sample();
    char longdesc[600];
    memset(longdesc, 'x', sizeof longdesc - 1);
    longdesc[sizeof longdesc - 1] = '\0';
    memcpy(longdesc + 70, "\xc3\xa9\xc3\xa9\xc3\xa9", 6); /* é across a fold point */
    e.description = longdesc;
    char *s = render(&e);
    /* every physical line ends CRLF and has at most 75 octets */
    for (char *p = s; *p;) {
        char *nl = strstr(p, "\r\n");
        cr_assert(nl, "a line without CRLF at %.20s", p);
        cr_assert_leq(nl - p, 75, "a line of %ld octets: %.80s", (long)(nl - p), p);
        cr_assert(!memchr(p, '\n', (size_t)(nl - p)), "a bare LF");
        /* a fold never splits a UTF-8 sequence: no line starts with a continuation byte */
        if (p != s && p[0] == ' ') cr_assert(((unsigned char)p[1] & 0xC0) != 0x80, "split character");
        p = nl + 2;
    }
    e = sample();
    s = render(&e);
    cr_assert(strstr(s, "SUMMARY:Interview: Async API\\, phase 2\\; go\r\n"), "%s", s);
    cr_assert(strstr(s, "DESCRIPTION:Line one\\nLine two with a \\\\ backslash\r\n"), "%s", s);
    cr_assert(strstr(s, "ORGANIZER;CN=\"Clara 'The' Client\":mailto:client@example.com\r\n"), "%s", s);
    cr_assert(strstr(s, "STATUS:CONFIRMED\r\n"));
}

Test(ics, cancel_keeps_the_uid)
{
    ics_event e = sample();
    e.cancel = 1;
    e.sequence = 2;
    char *s = render(&e);
    cr_assert(strstr(s, "METHOD:CANCEL\r\n"));
    cr_assert(strstr(s, "STATUS:CANCELLED\r\n"));
    cr_assert(strstr(s, "UID:ivw_1@offline-pixel\r\n"));
    cr_assert(strstr(s, "SEQUENCE:2\r\n"));
}

/* ---- circuit breaker ----------------------------------------------------------------- */

Test(breaker, opens_after_threshold_and_half_opens_after_cooldown)
{
    breaker b;
    breaker_init(&b, 3, 1000);
    int64_t t = 10000;
    for (int i = 0; i < 2; i++) {
        cr_assert(breaker_allow(&b, t));
        breaker_result(&b, 0, t);
        cr_assert_eq(b.state, BREAKER_CLOSED);
    }
    cr_assert(breaker_allow(&b, t));
    breaker_result(&b, 0, t); /* third failure in a row */
    cr_assert_eq(b.state, BREAKER_OPEN);
    cr_assert_not(breaker_allow(&b, t + 999));
    cr_assert_eq(breaker_retry_at_ms(&b, t + 10), t + 1000);
    cr_assert(breaker_allow(&b, t + 1000)); /* the one trial */
    cr_assert_eq(b.state, BREAKER_HALF_OPEN);
    cr_assert_not(breaker_allow(&b, t + 1001), "only one trial at a time");
    breaker_result(&b, 0, t + 1500); /* the trial failed: open again */
    cr_assert_eq(b.state, BREAKER_OPEN);
    cr_assert_not(breaker_allow(&b, t + 2000));
    cr_assert(breaker_allow(&b, t + 2500));
    breaker_result(&b, 1, t + 2600);
    cr_assert_eq(b.state, BREAKER_CLOSED);
    cr_assert_eq(b.failures, 0);
    cr_assert_eq(b.opened_total, 2, "each move to open counts, the failed trial too");
}

Test(breaker, a_success_resets_the_count)
{
    breaker b;
    breaker_init(&b, 2, 1000);
    breaker_result(&b, 0, 0);
    breaker_result(&b, 1, 0);
    breaker_result(&b, 0, 0);
    cr_assert_eq(b.state, BREAKER_CLOSED, "failures must be in a row");
}

/* ---- email ----------------------------------------------------------------------------- */

Test(email, backoff_doubles_with_jitter_and_a_cap)
{
    cr_assert_geq(sodium_init(), 0);
    email_config c;
    email_config_default(&c);
    c.retry_base_s = 60;
    c.retry_max_s = 3600;
    for (int i = 0; i < 200; i++) {
        int64_t d1 = email_backoff_s(&c, 1), d2 = email_backoff_s(&c, 2), d3 = email_backoff_s(&c, 3),
                d20 = email_backoff_s(&c, 20);
        cr_assert(d1 >= 30 && d1 <= 60, "%lld", (long long)d1);
        cr_assert(d2 >= 60 && d2 <= 120, "%lld", (long long)d2);
        cr_assert(d3 >= 120 && d3 <= 240, "%lld", (long long)d3);
        cr_assert(d20 >= 1800 && d20 <= 3600, "%lld", (long long)d20);
    }
    c.retry_base_s = 1;
    cr_assert_geq(email_backoff_s(&c, 1), 1, "never zero");
}

Test(email, config_check_names_the_bad_option)
{
    email_config c;
    email_config_default(&c);
    char err[160];
    cr_assert_eq(email_config_check(&c, err, sizeof err), 0);
    c.transport = "pigeon";
    cr_assert_eq(email_config_check(&c, err, sizeof err), -1);
    cr_assert(strstr(err, "--email-transport"));
    email_config_default(&c);
    c.smtp_url = "http://relay";
    cr_assert_eq(email_config_check(&c, err, sizeof err), -1);
    cr_assert(strstr(err, "--smtp-url"));
    email_config_default(&c);
    c.from = "Someone <a@b.c>";
    cr_assert_eq(email_config_check(&c, err, sizeof err), -1);
    cr_assert(strstr(err, "--mail-from"));
}

Test(email, compose_encodes_non_ascii_headers_and_keeps_crlf)
{
    cr_assert_geq(sodium_init(), 0);
    store_mail m = {0};
    snprintf(m.id, sizeof m.id, "mail_x");
    snprintf(m.user_id, sizeof m.user_id, "usr_1");
    snprintf(m.to_addr, sizeof m.to_addr, "zoe@example.com");
    snprintf(m.to_name, sizeof m.to_name, "Zoë \"Z\" Müller");
    snprintf(m.kind, sizeof m.kind, "candidate.accepted");
    m.data = "{\"request_title\":\"Überweisungen\",\"engineer_name\":\"Zoë\",\"conversation_id\":\"cnv_1\"}";
    email_rendered r;
    cr_assert_eq(email_render(&m, "https://opx.example", &r), 0);
    cr_assert(strstr(r.subject.data, "Überweisungen"));
    cr_assert(strstr(r.text.data, "https://opx.example/#/conversations/cnv_1"));
    cr_assert_eq(r.ics.len, 0);
    buf out;
    buf_init(&out, 1 << 20);
    cr_assert_eq(email_compose(&m, &r, "no-reply@opx.example", 1796137200, &out), 0);
    const char *s = out.data;
    cr_assert(strstr(s, "Subject: =?UTF-8?B?"), "%s", s);
    cr_assert(strstr(s, "To: =?UTF-8?B?"), "non-ASCII display names are encoded: %s", s);
    cr_assert(strstr(s, " <zoe@example.com>\r\n"));
    cr_assert(strstr(s, "Message-ID: <mail_x@opx.example>\r\n"));
    cr_assert(strstr(s, "Date: Tue, 01 Dec 2026 15:00:00 +0000\r\n"), "%s", s);
    cr_assert(strstr(s, "Content-Transfer-Encoding: base64\r\n"));
    for (const char *p = s; (p = strchr(p, '\n')); p++) cr_assert_eq(p[-1], '\r', "a bare LF");
    buf_free(&out);
    email_rendered_free(&r);
}
