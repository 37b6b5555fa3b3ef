/* ics: iCalendar invitations (see ics.h). */
#include "ics.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tzinfo.h"

/* one content line: folded so no physical line passes 75 octets, never
 * inside a UTF-8 sequence, each continuation starting with a space */
static int line(buf *out, const char *s)
{
    size_t n = strlen(s), at = 0, width = 75;
    int rc = 0;
    while (n - at > width) {
        size_t cut = at + width;
        while (cut > at && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--; /* not mid-character */
        rc |= buf_append(out, s + at, cut - at);
        rc |= buf_puts(out, "\r\n ");
        at = cut;
        width = 74; /* the leading space counts */
    }
    rc |= buf_append(out, s + at, n - at);
    rc |= buf_puts(out, "\r\n");
    return rc ? -1 : 0;
}

/* a formatted content line of any length */
static int linef(buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int linef(buf *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *l = NULL;
    int n = vasprintf(&l, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    int rc = line(out, l);
    free(l);
    return rc;
}

/* NAME:escaped text (RFC 5545 3.3.11) */
static int text_line(buf *out, const char *name, const char *v)
{
    if (!v) v = "";
    size_t cap = strlen(name) + 2 + 2 * strlen(v) + 1;
    char *tmp = malloc(cap);
    if (!tmp) return -1;
    size_t o = (size_t)snprintf(tmp, cap, "%s:", name);
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == ';' || *p == ',') {
            tmp[o++] = '\\';
            tmp[o++] = *p;
        } else if (*p == '\n') {
            tmp[o++] = '\\';
            tmp[o++] = 'n';
        } else if (*p == '\r' || ((unsigned char)*p < 0x20 && *p != '\t')) {
            continue; /* no control characters in content lines */
        } else {
            tmp[o++] = *p;
        }
    }
    tmp[o] = '\0';
    int rc = line(out, tmp);
    free(tmp);
    return rc;
}

static void stamp_utc(int64_t t, char out[20])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

static void stamp_local(int64_t t, int offset, char out[20])
{
    time_t tt = (time_t)(t + offset);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%S", &tm);
}

static void offset_str(int off, char out[8])
{
    int a = off < 0 ? -off : off;
    snprintf(out, 8, "%c%02d%02d", off < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
}

/* A VTIMEZONE of one STANDARD observance per offset the event uses: enough
 * for any reader to place DTSTART and DTEND, without claiming rules we do
 * not state. Observances start at the event's own local times. */
static int vtimezone(buf *out, const char *tzid, int64_t start, int off_start, int64_t end, int off_end)
{
    char a[8], b[8], t[20];
    int rc = 0;
    rc |= line(out, "BEGIN:VTIMEZONE");
    rc |= linef(out, "TZID:%s", tzid);
    int offs[2] = {off_start, off_end};
    int64_t at[2] = {start, end};
    int n = off_start == off_end ? 1 : 2;
    for (int i = 0; i < n; i++) {
        rc |= line(out, "BEGIN:STANDARD");
        offset_str(offs[0], a);
        offset_str(offs[i], b);
        stamp_local(i == 0 ? at[0] - 86400 : at[1], offs[i], t); /* a day before: covers DTSTART */
        rc |= linef(out, "DTSTART:%s", t);
        rc |= linef(out, "TZOFFSETFROM:%s", a);
        rc |= linef(out, "TZOFFSETTO:%s", b);
        rc |= line(out, "END:STANDARD");
    }
    rc |= line(out, "END:VTIMEZONE");
    return rc;
}

/* a quoted parameter value cannot hold DQUOTE or control characters */
static void param_value(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in ? in : ""; *p && o + 1 < cap; p++)
        out[o++] = *p == '"' ? '\'' : (unsigned char)*p < 0x20 ? ' ' : *p;
    out[o] = '\0';
}

int ics_write(buf *out, const ics_event *e)
{
    char on[420], an[420];
    param_value(e->organizer_name, on, sizeof on);
    param_value(e->attendee_name, an, sizeof an);
    const char *tz = e->tzid && tzinfo_find(e->tzid) ? e->tzid : "UTC";
    int64_t end = e->start + (int64_t)e->duration_minutes * 60;
    int off_s = 0, off_e = 0;
    tzinfo_offset(tz, e->start, &off_s);
    tzinfo_offset(tz, end, &off_e);
    char t1[20], t2[20];
    int rc = 0;
    rc |= line(out, "BEGIN:VCALENDAR");
    rc |= line(out, "VERSION:2.0");
    rc |= line(out, "PRODID:-//Offline Pixel//opx//EN");
    rc |= line(out, "CALSCALE:GREGORIAN");
    rc |= line(out, e->cancel ? "METHOD:CANCEL" : "METHOD:REQUEST");
    rc |= vtimezone(out, tz, e->start, off_s, end, off_e);
    rc |= line(out, "BEGIN:VEVENT");
    rc |= linef(out, "UID:%s", e->uid);
    rc |= linef(out, "SEQUENCE:%d", e->sequence);
    stamp_utc(e->stamp, t1);
    rc |= linef(out, "DTSTAMP:%s", t1);
    stamp_local(e->start, off_s, t1);
    stamp_local(end, off_e, t2);
    rc |= linef(out, "DTSTART;TZID=%s:%s", tz, t1);
    rc |= linef(out, "DTEND;TZID=%s:%s", tz, t2);
    rc |= text_line(out, "SUMMARY", e->summary);
    rc |= text_line(out, "DESCRIPTION", e->description);
    rc |= text_line(out, "LOCATION", e->location);
    if (e->location && e->location[0]) rc |= linef(out, "URL:%s", e->location);
    rc |= linef(out, "ORGANIZER;CN=\"%s\":mailto:%s", on, e->organizer_email);
    rc |= linef(out, "ATTENDEE;CN=\"%s\";ROLE=REQ-PARTICIPANT;PARTSTAT=%s;RSVP=FALSE:mailto:%s", an,
                e->cancel ? "DECLINED" : "ACCEPTED", e->attendee_email);
    rc |= line(out, e->cancel ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
    rc |= line(out, "TRANSP:OPAQUE");
    rc |= line(out, "END:VEVENT");
    rc |= line(out, "END:VCALENDAR");
    return rc ? -1 : 0;
}
