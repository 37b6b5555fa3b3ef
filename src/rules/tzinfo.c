/* tzinfo: TZif files (RFC 8536) and POSIX TZ rules, read once, then
 * looked up without I/O (see tzinfo.h).
 *
 * Data layout: one tzinfo_zone per distinct file (same device and inode),
 * holding the transition times, the time type of each transition and the
 * UTC offset of each type; one sorted name table pointing at the zones, so
 * a lookup is a binary search on the name and one on the transitions. */
#include "tzinfo.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TZINFO_MAX_TRANSITIONS 100000
#define TZINFO_NAME_MAX 64

/* One end of a daylight-saving period in a POSIX TZ string. */
typedef struct {
    char kind;    /* 'J': Julian day 1..365, Feb 29 never counted;
                   * 'N': zero-based day 0..365; 'M': month.week.weekday */
    int a, b, c;  /* J/N: day in a; M: month a (1..12), week b (1..5, 5 = last),
                   * weekday c (0 = Sunday) */
    int32_t time; /* seconds after local midnight; may be < 0 or > 24 h */
} rule_date;

typedef struct {
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    rule_date start, end; /* start: local standard time; end: local DST */
} posix_tz;

struct tzinfo_zone {
    int64_t *trans;      /* ntrans ascending transition times */
    uint8_t *trans_type; /* time type in force from trans[i] */
    int32_t *type_off;   /* ntypes UTC offsets, seconds east */
    int ntrans, ntypes;
    int has_footer;
    posix_tz footer;
    dev_t dev;
    ino_t ino;
};

typedef struct {
    char *name;
    const tzinfo_zone *zone;
} name_entry;

static name_entry *names;
static int nnames;
static tzinfo_zone **zones;
static int nzones;

static int32_t utc_type_off[1] = {0};
static const tzinfo_zone utc_zone = {.type_off = utc_type_off, .ntypes = 1};

/* ------------------------------------------------------------ calendar */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && ((a < 0) != (b < 0)));
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_from_days(int64_t z)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10); /* months Jan, Feb belong to the next year */
}

/* days since the epoch of the rule's date in year y */
static int64_t rule_day(int64_t y, const rule_date *r)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    switch (r->kind) {
    case 'J':
        return jan1 + r->a - 1 + (is_leap(y) && r->a >= 60);
    case 'N':
        return jan1 + r->a;
    default: {
        int64_t first = days_from_civil(y, r->a, 1);
        int wd = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        int off = (r->c - wd + 7) % 7 + (r->b - 1) * 7;
        while (off >= days_in_month(y, r->a)) off -= 7;
        return first + off;
    }
    }
}

static int32_t posix_offset(const posix_tz *p, int64_t t)
{
    if (!p->has_dst) return p->std_off;
    int64_t y = year_from_days(floor_div(t + p->std_off, 86400));
    int64_t s = rule_day(y, &p->start) * 86400 + p->start.time - p->std_off;
    int64_t e = rule_day(y, &p->end) * 86400 + p->end.time - p->dst_off;
    if (s < e) return t >= s && t < e ? p->dst_off : p->std_off; /* northern */
    return t >= e && t < s ? p->std_off : p->dst_off;             /* southern */
}

/* ------------------------------------------------- POSIX TZ strings */

static int parse_abbr(const char **pp)
{
    const char *p = *pp, *q;
    if (*p == '<') {
        q = ++p;
        while (*p && *p != '>') {
            if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-') return -1;
            p++;
        }
        if (*p != '>' || p - q < 3) return -1;
        p++;
    } else {
        q = p;
        while (isalpha((unsigned char)*p)) p++;
        if (p - q < 3) return -1;
    }
    *pp = p;
    return 0;
}

static int parse_num(const char **pp, int maxdigits, int max, int *out)
{
    const char *p = *pp;
    int v = 0, n = 0;
    while (isdigit((unsigned char)*p) && n < maxdigits) v = v * 10 + (*p++ - '0'), n++;
    if (n == 0 || v > max) return -1;
    *pp = p;
    *out = v;
    return 0;
}

/* [+-]h[h[h]][:mm[:ss]] in seconds; max_h 24 for offsets, 167 for rule times */
static int parse_hms(const char **pp, int max_h, int32_t *out)
{
    const char *p = *pp;
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (parse_num(&p, 3, max_h, &h) < 0) return -1;
    if (*p == ':') {
        p++;
        if (parse_num(&p, 2, 59, &m) < 0) return -1;
        if (*p == ':') {
            p++;
            if (parse_num(&p, 2, 59, &s) < 0) return -1;
        }
    }
    *pp = p;
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int parse_rule_date(const char **pp, rule_date *r)
{
    const char *p = *pp;
    memset(r, 0, sizeof *r);
    if (*p == 'J') {
        p++;
        r->kind = 'J';
        if (parse_num(&p, 3, 365, &r->a) < 0 || r->a < 1) return -1;
    } else if (*p == 'M') {
        p++;
        r->kind = 'M';
        if (parse_num(&p, 2, 12, &r->a) < 0 || r->a < 1 || *p++ != '.') return -1;
        if (parse_num(&p, 1, 5, &r->b) < 0 || r->b < 1 || *p++ != '.') return -1;
        if (parse_num(&p, 1, 6, &r->c) < 0) return -1;
    } else {
        r->kind = 'N';
        if (parse_num(&p, 3, 365, &r->a) < 0) return -1;
    }
    r->time = 7200;
    if (*p == '/') {
        p++;
        if (parse_hms(&p, 167, &r->time) < 0) return -1;
    }
    *pp = p;
    return 0;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]" */
static int parse_posix_tz(const char *s, posix_tz *out)
{
    const char *p = s;
    int32_t v;
    memset(out, 0, sizeof *out);
    if (parse_abbr(&p) < 0 || parse_hms(&p, 24, &v) < 0) return -1;
    out->std_off = -v; /* POSIX counts west of Greenwich as positive */
    if (!*p) return 0;
    if (parse_abbr(&p) < 0) return -1;
    out->has_dst = 1;
    out->dst_off = out->std_off + 3600;
    if (*p && *p != ',') {
        if (parse_hms(&p, 24, &v) < 0) return -1;
        out->dst_off = -v;
    }
    if (!*p) { /* no rule: the POSIX default, as glibc does (US rules since 2007) */
        out->start = (rule_date){'M', 3, 2, 0, 7200};
        out->end = (rule_date){'M', 11, 1, 0, 7200};
        return 0;
    }
    if (*p++ != ',' || parse_rule_date(&p, &out->start) < 0) return -1;
    if (*p++ != ',' || parse_rule_date(&p, &out->end) < 0) return -1;
    return *p ? -1 : 0;
}

/* ---------------------------------------------------------- TZif files */

typedef struct {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* header at p; 0 and *version ('1', '2', ...) when well formed */
static int read_header(const unsigned char *p, size_t len, tzif_header *h, int *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return -1;
    *version = p[4] ? p[4] : '1';
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->typecnt < 1 || h->typecnt > 256 || h->timecnt > TZINFO_MAX_TRANSITIONS ||
        h->leapcnt > 10000 || h->charcnt > 65536 || h->isutcnt > h->typecnt ||
        h->isstdcnt > h->typecnt)
        return -1;
    return 0;
}

static size_t block_len(const tzif_header *h, size_t timesize)
{
    return h->timecnt * timesize + h->timecnt + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

static void zone_free(tzinfo_zone *z)
{
    if (!z) return;
    free(z->trans);
    free(z->trans_type);
    free(z->type_off);
    free(z);
}

/* parses one TZif image; NULL when malformed or out of memory */
static tzinfo_zone *parse_tzif(const unsigned char *buf, size_t len)
{
    tzif_header h;
    int version;
    size_t timesize = 4, pos;
    if (read_header(buf, len, &h, &version) < 0) return NULL;
    pos = 44;
    if (version >= '2') { /* skip the v1 block to the 64-bit one */
        pos += block_len(&h, 4);
        if (pos > len || read_header(buf + pos, len - pos, &h, &version) < 0) return NULL;
        pos += 44;
        timesize = 8;
    }
    if (block_len(&h, timesize) > len - pos) return NULL;

    tzinfo_zone *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    z->ntrans = (int)h.timecnt;
    z->ntypes = (int)h.typecnt;
    z->trans = malloc((h.timecnt ? h.timecnt : 1) * sizeof *z->trans);
    z->trans_type = malloc(h.timecnt ? h.timecnt : 1);
    z->type_off = malloc(h.typecnt * sizeof *z->type_off);
    if (!z->trans || !z->trans_type || !z->type_off) goto fail;

    const unsigned char *p = buf + pos;
    for (uint32_t i = 0; i < h.timecnt; i++, p += timesize) {
        z->trans[i] = timesize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i > 0 && z->trans[i] <= z->trans[i - 1]) goto fail;
    }
    for (uint32_t i = 0; i < h.timecnt; i++, p++) {
        if (*p >= h.typecnt) goto fail;
        z->trans_type[i] = *p;
    }
    for (uint32_t i = 0; i < h.typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -25 * 3600 || off > 26 * 3600) goto fail;
        z->type_off[i] = off;
    }
    pos += block_len(&h, timesize);

    /* footer "\n<POSIX TZ>\n" (v2+ only); empty or unparsable: none */
    if (timesize == 8 && pos < len && buf[pos] == '\n') {
        const unsigned char *s = buf + pos + 1;
        const unsigned char *nl = memchr(s, '\n', len - pos - 1);
        if (nl && nl > s && nl - s < 128) {
            char tz[128];
            memcpy(tz, s, (size_t)(nl - s));
            tz[nl - s] = '\0';
            z->has_footer = parse_posix_tz(tz, &z->footer) == 0;
        }
    }
    return z;
fail:
    zone_free(z);
    return NULL;
}

static tzinfo_zone *load_file(const char *path)
{
    struct stat st;
    tzinfo_zone *z = NULL;
    unsigned char *buf = NULL;
    FILE *f = NULL;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TZINFO_MAX_FILE) goto out;
    for (int i = 0; i < nzones; i++)
        if (zones[i]->dev == st.st_dev && zones[i]->ino == st.st_ino) return zones[i];
    if (nzones >= TZINFO_MAX_NAMES) goto out;
    f = fopen(path, "rb");
    buf = malloc((size_t)st.st_size + 1);
    if (!f || !buf) goto out;
    size_t n = fread(buf, 1, (size_t)st.st_size + 1, f);
    if (n != (size_t)st.st_size) goto out; /* changed under us */
    z = parse_tzif(buf, n);
    if (!z) goto out;
    z->dev = st.st_dev;
    z->ino = st.st_ino;
    zones[nzones++] = z;
out:
    if (f) fclose(f);
    free(buf);
    return z;
}

/* ------------------------------------------------------------ the table */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const name_entry *)a)->name, ((const name_entry *)b)->name);
}

static int safe_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > TZINFO_NAME_MAX || n[0] == '/' || strstr(n, "..")) return 0;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p)) return 0;
    return 1;
}

static void add_name(const char *root, const char *name)
{
    char path[4096];
    if (nnames >= TZINFO_MAX_NAMES || !safe_name(name)) return;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", root, name) >= sizeof path) return;
    tzinfo_zone *z = load_file(path);
    if (!z) return;
    char *dup = strdup(name);
    if (!dup) return;
    names[nnames].name = dup;
    names[nnames].zone = z;
    nnames++;
}

int tzinfo_load_all(const char *root)
{
    char path[4096], line[512];
    tzinfo_free();
    if ((size_t)snprintf(path, sizeof path, "%s/tzdata.zi", root) >= sizeof path) return -1;
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    names = calloc(TZINFO_MAX_NAMES, sizeof *names);
    zones = calloc(TZINFO_MAX_NAMES, sizeof *zones);
    if (!names || !zones) {
        fclose(f);
        tzinfo_free();
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char a[128], b[128];
        /* "Z Europe/Berlin ..." defines a zone; "L Europe/Berlin Arctic/Longyearbyen" a link */
        if (line[0] == 'Z' && sscanf(line, "Z %127s", a) == 1) add_name(root, a);
        else if (line[0] == 'L' && sscanf(line, "L %127s %127s", a, b) == 2) add_name(root, b);
    }
    fclose(f);
    qsort(names, (size_t)nnames, sizeof names[0], name_cmp);
    int w = 0; /* drop a name listed twice */
    for (int i = 0; i < nnames; i++) {
        if (w > 0 && strcmp(names[w - 1].name, names[i].name) == 0) {
            free(names[i].name);
            continue;
        }
        names[w++] = names[i];
    }
    nnames = w;
    return nnames;
}

const tzinfo_zone *tzinfo_find(const char *zone)
{
    if (!zone) return NULL;
    if (nnames > 0) {
        name_entry key = {(char *)zone, NULL};
        const name_entry *e = bsearch(&key, names, (size_t)nnames, sizeof names[0], name_cmp);
        if (e) return e->zone;
    }
    return strcmp(zone, "UTC") == 0 ? &utc_zone : NULL;
}

int tzinfo_zone_offset(const tzinfo_zone *z, int64_t t)
{
    int n = z->ntrans;
    if (n == 0) return z->has_footer ? posix_offset(&z->footer, t) : z->type_off[0];
    if (t < z->trans[0]) return z->type_off[0];
    if (t >= z->trans[n - 1])
        return z->has_footer ? posix_offset(&z->footer, t) : z->type_off[z->trans_type[n - 1]];
    int lo = 0, hi = n - 1; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t) lo = mid;
        else hi = mid;
    }
    return z->type_off[z->trans_type[lo]];
}

int tzinfo_offset(const char *zone, int64_t unix_s, int *offset_s)
{
    const tzinfo_zone *z = tzinfo_find(zone);
    if (!z) return -1;
    *offset_s = tzinfo_zone_offset(z, unix_s);
    return 0;
}

void tzinfo_free(void)
{
    for (int i = 0; i < nnames; i++) free(names[i].name);
    for (int i = 0; i < nzones; i++) zone_free(zones[i]);
    free(names);
    free(zones);
    names = NULL;
    zones = NULL;
    nnames = nzones = 0;
}
