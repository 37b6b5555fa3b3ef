/* clock: wall and monotonic time, with the test offset (see clock.h). */
#include "clock.h"
#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t offset_s;

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&offset_s) * 1000;
}

int64_t clock_now_s(void)
{
    return clock_now_ms() / 1000;
}

uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void clock_advance(int64_t seconds)
{
    atomic_fetch_add(&offset_s, seconds);
}

int64_t clock_offset_s(void)
{
    return atomic_load(&offset_s);
}

void clock_rfc3339(int64_t unix_s, char out[32])
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void clock_http_date(int64_t unix_s, char out[32])
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* strftime's %a/%b follow the locale; HTTP wants English names. */
    int n = 0;
    n += (int)strftime(out, 32, "XXX, %d XXX %Y %H:%M:%S GMT", &tm);
    (void)n;
    out[0] = days[tm.tm_wday][0];
    out[1] = days[tm.tm_wday][1];
    out[2] = days[tm.tm_wday][2];
    out[8] = mons[tm.tm_mon][0];
    out[9] = mons[tm.tm_mon][1];
    out[10] = mons[tm.tm_mon][2];
}
