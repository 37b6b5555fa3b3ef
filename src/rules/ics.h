/* ics: iCalendar (RFC 5545) invitations for interviews. One VCALENDAR
 * with one VEVENT, its times written in the recipient's own time zone
 * (TZID) with the VTIMEZONE that defines it (offsets from tzinfo, so
 * daylight saving time is right on the day), lines folded at 75 octets
 * and CRLF-terminated, text escaped. METHOD:REQUEST invites; the same UID
 * with a higher SEQUENCE and METHOD:CANCEL withdraws it. */
#ifndef OPX_ICS_H
#define OPX_ICS_H
#include <stdint.h>
#include "../core/buf.h"

typedef struct {
    int cancel;                 /* METHOD:CANCEL, STATUS:CANCELLED */
    const char *uid;            /* stable per interview */
    int sequence;
    int64_t start, stamp;       /* unix seconds */
    int duration_minutes;
    const char *tzid;           /* IANA zone of the recipient; unknown zones fall back to UTC */
    const char *summary, *description;
    const char *location;       /* the video link */
    const char *organizer_name, *organizer_email;
    const char *attendee_name, *attendee_email;
} ics_event;

/* Appends the calendar to out. Returns 0, or -1 when out is full. */
int ics_write(buf *out, const ics_event *e);
#endif
