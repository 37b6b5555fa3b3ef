/* clock: the one source of wall-clock time. Everything that stamps or
 * compares times (sessions, SLA, auto-release) asks clock_now_*(), so the
 * --test-clock hook can move time forward for tests. Monotonic time for
 * timeouts and latency comes from clock_mono_ns(), which the hook never
 * touches. */
#ifndef OPX_CLOCK_H
#define OPX_CLOCK_H
#include <stddef.h>
#include <stdint.h>

int64_t clock_now_ms(void); /* unix ms, plus the test offset */
int64_t clock_now_s(void);
uint64_t clock_mono_ns(void);
void clock_advance(int64_t seconds); /* test clock only */
int64_t clock_offset_s(void);
/* "2026-11-24T05:45:40Z" into out (>= 21 bytes). */
void clock_rfc3339(int64_t unix_s, char out[32]);
/* Parses an RFC 3339 date-time ("2026-11-24T17:30:00Z", "...+05:30",
 * optional fraction, which is dropped) to unix seconds. Returns -1 for
 * anything else, including dates that do not exist and years outside
 * 1970..9999. */
int clock_parse_rfc3339(const char *s, int64_t *out);
/* "Tue, 24 Nov 2026 05:45:40 GMT" into out (>= 30 bytes). */
void clock_http_date(int64_t unix_s, char out[32]);
#endif
