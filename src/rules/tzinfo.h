/* tzinfo: UTC offsets of IANA time zones, from the system's TZif files.
 *
 * tz.h answers "is this a real zone name"; this module answers "what is the
 * UTC offset of that zone at that instant", which matching needs to compute
 * working-hours overlap with daylight saving time on both sides.
 *
 * At start-up tzinfo_load_all() reads every zone and link named in
 * <root>/tzdata.zi ("Z name ..." and "L target name" lines) from
 * <root>/<name>, a TZif file (RFC 8536). The v2+ 64-bit section is used
 * when present, else the v1 32-bit one. Names whose files are the same file
 * (links are symlinks or hard links) share one copy of the data. After the
 * last transition of a zone the footer's POSIX TZ string decides (e.g.
 * "CET-1CEST,M3.5.0,M10.5.0/3"), so dates past the table (2037 and later in
 * slim files, anything after the last rule change in fat ones) are right.
 * Before the first transition the first time type applies (RFC 8536 3.2).
 * Leap-second tables ("right/" zones) are not supported: the files under
 * /usr/share/zoneinfo proper have none.
 *
 * Lifetime and threads: load once before anything looks up a zone, free
 * once after the last user is gone. In between the data is immutable and
 * every lookup is a pure read, safe from any number of threads, with no
 * I/O. The zone handles from tzinfo_find() stay valid until tzinfo_free()
 * or the next tzinfo_load_all(). "UTC" is always known, even when nothing
 * was loaded. */
#ifndef OPX_TZINFO_H
#define OPX_TZINFO_H
#include <stdint.h>

#define TZINFO_MAX_NAMES 2048   /* names kept at most (tzdata 2025b has ~600) */
#define TZINFO_MAX_FILE (1 << 20) /* a TZif file larger than this is skipped */

typedef struct tzinfo_zone tzinfo_zone;

/* Loads every zone and link of root/tzdata.zi (root e.g. "/usr/share/zoneinfo").
 * Replaces anything loaded before. Returns how many names were loaded (a
 * name whose file is missing or malformed is skipped), or -1 when
 * tzdata.zi cannot be read. */
int tzinfo_load_all(const char *root);

/* 0 and *offset_s (seconds east of UTC, e.g. 3600 for CET) at unix_s, or
 * -1 for an unknown zone. */
int tzinfo_offset(const char *zone, int64_t unix_s, int *offset_s);

/* The zone's handle, or NULL when unknown; for callers that look the same
 * zone up many times (matching caches it per engineer). */
const tzinfo_zone *tzinfo_find(const char *zone);
/* Seconds east of UTC in zone z at unix_s. */
int tzinfo_zone_offset(const tzinfo_zone *z, int64_t unix_s);

void tzinfo_free(void);
#endif
