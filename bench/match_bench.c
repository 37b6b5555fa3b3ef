/* match_bench: latency of one match_query and memory per engineer of the
 * matching index (src/rules/matching.c), on generated populations.
 *
 * Usage: match_bench [QUERIES [SIZE...]]   (default 10000 100000 1000000)
 *
 * For each size: builds an index of that many engineers (timed), runs 100
 * warm-up queries, then QUERIES random requests, each timed alone with
 * CLOCK_MONOTONIC, and prints one line per size:
 *   RESULT engineers=N queries=Q build_ms=.. p50_us=.. p99_us=.. max_us=..
 *          mean_us=.. bytes=.. bytes_per_engineer=.. avg_results=..
 * bench/match.sh builds it, pins it to one core and tabulates the lines.
 *
 * The population, from a fixed seed: ids like id_new()'s ("usr_" + 20 of
 * [0-9a-z]); 70% vetted, 90% available, 5% busy; 10-40 h/week; rates
 * 40-250 per hour, 80% USD, 12% EUR, 8% GBP; 30 zones, weighted towards
 * the Americas, Europe and India; mid 40%, senior 45%, staff 15%; 4-12
 * skills at levels 1-5 (1-2 of them frameworks); 20% not yet rated. The
 * requests: 1-4 must-haves (minimum 1-3), 0-3 nice-to-haves, 1-2
 * frameworks, any seniority, a maximum of 60-200 per hour (85% USD, 10%
 * EUR, 5% GBP; 10% without a maximum), 0-6 h overlap, a start date in
 * 2025-2027, k 5 (and 10, 20, 50 now and then), a relaxation flag in 25%. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rules/matching.h"
#include "rules/skills.h"
#include "rules/tzinfo.h"

#define WARMUP 100
#define MAX_SIZES 8

static const struct {
    const char *zone;
    int weight;
} zones[30] = {
    {"America/New_York", 12}, {"America/Chicago", 6},     {"America/Denver", 3},
    {"America/Los_Angeles", 9}, {"America/Toronto", 3},   {"America/Sao_Paulo", 5},
    {"America/Argentina/Buenos_Aires", 3}, {"America/Bogota", 2}, {"America/Mexico_City", 2},
    {"America/St_Johns", 1},  {"Europe/London", 8},       {"Europe/Berlin", 7},
    {"Europe/Paris", 4},      {"Europe/Madrid", 3},       {"Europe/Warsaw", 5},
    {"Europe/Kyiv", 4},       {"Europe/Lisbon", 2},       {"Europe/Istanbul", 2},
    {"Africa/Lagos", 2},      {"Africa/Cairo", 1},        {"Asia/Kolkata", 9},
    {"Asia/Kathmandu", 1},    {"Asia/Singapore", 2},      {"Asia/Manila", 2},
    {"Asia/Tokyo", 1},        {"Asia/Ho_Chi_Minh", 2},    {"Australia/Sydney", 2},
    {"Pacific/Auckland", 1},  {"Pacific/Chatham", 1},     {"Asia/Dubai", 1},
};
static int zone_total;

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13; /* xorshift64 */
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 16) % n);
}

static const char *pick_zone(void)
{
    int x = (int)rnd((uint32_t)zone_total);
    for (int i = 0; i < 30; i++) {
        x -= zones[i].weight;
        if (x < 0) return zones[i].zone;
    }
    return zones[0].zone;
}

static void make_engineer(match_engineer *e, char id[32])
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    memcpy(id, "usr_", 4);
    for (int i = 0; i < 20; i++) id[4 + i] = alphabet[rnd(36)];
    id[24] = '\0';
    memset(e, 0, sizeof *e);
    e->id = id;
    e->vetted = rnd(100) < 70;
    e->available = rnd(100) < 90;
    e->busy = rnd(100) < 5;
    e->hours_per_week = 10 + 5 * (int)rnd(7);
    e->rate_amount = 4000 + 100 * (int64_t)rnd(211); /* 40.00-250.00 */
    uint32_t c = rnd(100);
    e->currency = c < 80 ? "USD" : c < 92 ? "EUR" : "GBP";
    e->tz = pick_zone();
    uint32_t l = rnd(100);
    e->level = l < 40 ? MATCH_MID : l < 85 ? MATCH_SENIOR : MATCH_STAFF;
    int nfw = 1 + (int)rnd(2), n = 4 + (int)rnd(9);
    for (int i = 0; i < nfw; i++) e->skill_level[rnd(5)] = (uint8_t)(2 + rnd(4));
    for (int i = nfw; i < n; i++) e->skill_level[5 + rnd(MATCH_SKILLS - 5)] = (uint8_t)(1 + rnd(5));
    e->rating = rnd(100) < 20 ? 0 : 350 + (int)rnd(151);
    e->responsiveness = 40 + (int)rnd(61);
}

static void make_request(match_request *r)
{
    match_request_init(r);
    for (int i = 0, n = 1 + (int)rnd(4); i < n; i++) {
        int s = 5 + (int)rnd(MATCH_SKILLS - 5);
        r->must_mask |= 1u << s;
        r->must_min[s] = (uint8_t)(1 + rnd(3));
    }
    for (int i = 0, n = (int)rnd(4); i < n; i++) r->nice_mask |= 1u << (5 + rnd(MATCH_SKILLS - 5));
    for (int i = 0, n = 1 + (int)rnd(2); i < n; i++) r->framework_mask |= 1u << rnd(5);
    r->seniority = (int)rnd(3);
    uint32_t c = rnd(100);
    r->max_rate_amount = rnd(100) < 10 ? 0 : 6000 + 100 * (int64_t)rnd(141);
    memcpy(r->currency, c < 85 ? "USD" : c < 95 ? "EUR" : "GBP", 4);
    r->hours_per_week = 10 * (int)rnd(4);
    snprintf(r->client_tz, sizeof r->client_tz, "%s", pick_zone());
    r->min_overlap_hours = (int)rnd(7);
    r->start_date = 1735689600LL + 86400LL * rnd(3 * 365); /* 2025-01-01 + up to 3 years */
    uint32_t k = rnd(100);
    r->k = k < 85 ? 5 : k < 93 ? 10 : k < 98 ? 20 : 50;
    if (rnd(4) == 0) r->relax = 1u << rnd(3);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int run(size_t size, int queries)
{
    static match_result out[MATCH_K_MAX];
    match_index *ix = match_index_new();
    if (!ix) return -1;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < size; i++) {
        match_engineer e;
        char id[32];
        make_engineer(&e, id);
        int rc = match_upsert(ix, &e);
        if (rc < 0) {
            fprintf(stderr, "match_bench: upsert %s failed: %d\n", id, rc);
            match_index_free(ix);
            return -1;
        }
    }
    double build_ms = (double)(now_ns() - t0) / 1e6;
    size_t n = match_count(ix), bytes = match_memory_bytes(ix);

    uint64_t *lat = malloc((size_t)queries * sizeof *lat);
    if (!lat) {
        match_index_free(ix);
        return -1;
    }
    long results = 0;
    for (int q = -WARMUP; q < queries; q++) {
        match_request r;
        make_request(&r);
        uint64_t a = now_ns();
        int got = match_query(ix, &r, out, MATCH_K_MAX);
        uint64_t b = now_ns();
        if (got < 0) {
            fprintf(stderr, "match_bench: query failed: %d\n", got);
            free(lat);
            match_index_free(ix);
            return -1;
        }
        if (q >= 0) {
            lat[q] = b - a;
            results += got;
        }
    }
    qsort(lat, (size_t)queries, sizeof *lat, cmp_u64);
    double sum = 0;
    for (int q = 0; q < queries; q++) sum += (double)lat[q];
    int i99 = (int)((double)queries * 0.99 + 0.5) - 1;
    if (i99 < 0) i99 = 0;
    printf("RESULT engineers=%zu queries=%d build_ms=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f "
           "mean_us=%.1f bytes=%zu bytes_per_engineer=%.1f avg_results=%.2f\n",
           n, queries, build_ms, (double)lat[queries / 2] / 1e3, (double)lat[i99] / 1e3,
           (double)lat[queries - 1] / 1e3, sum / queries / 1e3, bytes, (double)bytes / (double)n,
           (double)results / queries);
    fflush(stdout);
    free(lat);
    match_index_free(ix);
    return 0;
}

int main(int argc, char **argv)
{
    long queries = 10000;
    if (argc > 1) {
        char *end = NULL;
        queries = strtol(argv[1], &end, 10);
        if (!end || *end) queries = 0; /* refused below */
    }
    size_t sizes[MAX_SIZES] = {100000, 1000000};
    int nsizes = 2;
    if (argc > 2) {
        nsizes = 0;
        for (int i = 2; i < argc && nsizes < MAX_SIZES; i++)
        {
            char *end = NULL;
            unsigned long long v = strtoull(argv[i], &end, 10);
            if (!end || *end || v == 0) {
                fprintf(stderr, "match_bench: sizes must be positive integers: %s\n", argv[i]);
                return 2;
            }
            sizes[nsizes++] = (size_t)v;
        }
    }
    if (queries < 1 || queries > 10000000) {
        fprintf(stderr, "match_bench: QUERIES must be 1..10000000\n");
        return 2;
    }
    for (int i = 0; i < nsizes; i++)
        if (sizes[i] < 1 || sizes[i] > MATCH_MAX_ENGINEERS) {
            fprintf(stderr, "match_bench: a size must be 1..%d\n", MATCH_MAX_ENGINEERS);
            return 2;
        }
    for (int i = 0; i < 30; i++) zone_total += zones[i].weight;
    if (tzinfo_load_all("/usr/share/zoneinfo") < 100) {
        fprintf(stderr, "match_bench: cannot read /usr/share/zoneinfo (Debian package tzdata)\n");
        return 1;
    }
    for (int i = 0; i < 30; i++)
        if (!tzinfo_find(zones[i].zone)) {
            fprintf(stderr, "match_bench: unknown zone %s\n", zones[i].zone);
            return 1;
        }
    int rc = 0;
    for (int i = 0; i < nsizes && rc == 0; i++) rc = run(sizes[i], (int)queries); /* 1..10,000,000, checked above */
    tzinfo_free();
    return rc ? 1 : 0;
}
