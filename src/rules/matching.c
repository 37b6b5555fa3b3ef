/* matching: the index, the filters, the score and the shortlist (see
 * matching.h for the rules and weights).
 *
 * Storage, per engineer (what match_memory_bytes counts, besides slack):
 *   rec      32 bytes, two to a cache line, in one flat array: everything
 *            the hard filters read packed in one word (bits 0-2 eligible +
 *            level, 3-8 currency index, 9-16 hours, 17-26 zone index, 32-63
 *            rate), then what the score reads: 30 skill levels as 4-bit
 *            nibbles in two words, rating, responsiveness; and the id's
 *            offset in the string pool, vetted/available/busy;
 *   hashes    4 bytes: the id's hash, parallel to recs;
 *   slots     4-8 bytes: an open-addressing (linear probing) table of
 *            record index + 1, at most 3/4 full, deleted by backward shift;
 *   pool     the id and its NUL; removed ids are dead bytes until the pool
 *            is compacted (when more than half is dead).
 * (Filter words in an array of their own were tried: the scan reads less,
 * but every engineer who passes then costs a cache and TLB miss on the
 * other array, which measured 2.5x slower at a million engineers.)
 * Removal moves the last record into the hole, so records have no order;
 * the result order comes from the score and the id alone.
 *
 * A query: (1) per-query tables: which flag/level combinations pass, the
 *   overlap and its points per zone (from offsets cached per start day),
 *   the points per sum of levels for each skill part; (2) one pass over the
 *   records, SCAN_BATCH at a time: every hard filter as a bitwise AND of
 *   comparisons whose result advances a list of survivors (no branch per
 *   record: 2-20% pass, at random, which a branch would mispredict), then
 *   the score of the survivors in integer arithmetic; (3) a heap of the k
 *   best; (4) the explain of just those k. Nothing is allocated.
 *
 * Skill levels are summed with SWAR: for a nibble-packed word lv, a mask M
 * (0xF on the skills asked for) and minimums MIN (one per nibble, 0..5),
 *   ge  = ((lv | 0x8...8) - MIN) & 0x8...8   bit 3 of a nibble: lv >= min
 *                                            (each nibble is 8+lv-min in
 *                                            3..13, so nothing borrows)
 *   sel = lv & M & ((ge >> 3) * 0xF)
 * and the nibbles of sel are added by folding into bytes and multiplying
 * by 0x0101..01. Levels are validated to 0..5 on upsert, which all this
 * relies on. */
#include "matching.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "skills.h"
#include "tzinfo.h"

#define NIB_HI 0x8888888888888888ULL
#define BYTE_LO 0x0F0F0F0F0F0F0F0FULL
#define BYTES_ONE 0x0101010101010101ULL

#define F_ELIGIBLE 0x01 /* vetted && available && !busy */
#define F_LEVEL_SHIFT 1 /* two bits */

/* the hot word */
#define H_FLAGS(w) ((unsigned)(w) & 7)        /* F_ELIGIBLE | level << 1 */
#define H_FLAGS_CUR(w) ((unsigned)(w) & 511)  /* flags and currency: 9 bits */
#define H_CUR(w) ((unsigned)((w) >> 3) & 63)
#define H_HOURS(w) ((unsigned)((w) >> 9) & 255)
#define H_ZONE(w) ((unsigned)((w) >> 17) & 1023)
#define H_RATE(w) ((uint32_t)((w) >> 32))
_Static_assert(MATCH_MAX_CURRENCIES <= 64 && MATCH_MAX_ZONES <= 1024, "hot word field widths");

/* cold status bits, kept for completeness of the record */
#define S_VETTED 0x01
#define S_AVAILABLE 0x02
#define S_BUSY 0x04

#define WORK_MINUTES 480 /* 09:00-17:00 */
#define DAY_MINUTES 1440
#define SCAN_BATCH 256 /* records filtered before their survivors are scored */

typedef struct {
    uint64_t hot;   /* the H_* fields */
    uint64_t lv[2]; /* skill i: bits 4*(i%16).. of lv[i/16] */
    uint32_t id_off;
    uint16_t rating;
    uint8_t resp, status;
} rec;
_Static_assert(sizeof(rec) == 32, "a record is half a cache line");

/* zone offsets at one start day; refreshed by queries (see matching.h) */
typedef struct {
    int64_t day;
    int nzones; /* zones [0, nzones) are valid for day */
    int16_t off_min[MATCH_MAX_ZONES];
} zone_cache;

struct match_index {
    rec *recs;
    uint32_t *hashes;
    uint32_t n, cap;
    uint32_t *slots; /* record index + 1; 0 empty */
    uint32_t slot_mask;
    char *pool;
    size_t pool_used, pool_cap, pool_dead;
    const tzinfo_zone *zones[MATCH_MAX_ZONES];
    uint32_t zone_refs[MATCH_MAX_ZONES];
    int nzones;
    char currencies[MATCH_MAX_CURRENCIES][4];
    int ncurrencies;
    uint32_t framework_group; /* catalog mask of the "frameworks" group */
    zone_cache *cache;        /* written by const queries: loop thread only */
};

/* ------------------------------------------------------------ helpers */

static unsigned nib_sum(uint64_t v)
{
    v = (v & BYTE_LO) + ((v >> 4) & BYTE_LO);
    return (unsigned)((v * BYTES_ONE) >> 56);
}

static uint64_t nib_ge(uint64_t lv, uint64_t min)
{
    return ((((lv | NIB_HI) - min) & NIB_HI) >> 3) * 0xF;
}

static int nib_get(const uint64_t lv[2], int i)
{
    return (int)((lv[i / 16] >> (4 * (i % 16))) & 0xF);
}

/* the nibble masks of a catalog bitmask */
static void nib_mask(uint32_t bits, uint64_t out[2])
{
    out[0] = out[1] = 0;
    for (int i = 0; i < MATCH_SKILLS; i++)
        if (bits >> i & 1) out[i / 16] |= 0xFULL << (4 * (i % 16));
}

static uint32_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

static const char *rec_id(const match_index *ix, uint32_t r)
{
    return ix->pool + ix->recs[r].id_off;
}

const char *match_level_name(int level)
{
    static const char *const n[] = {"mid", "senior", "staff"};
    return level >= 0 && level <= 2 ? n[level] : NULL;
}

/* -------------------------------------------------------------- index */

match_index *match_index_new(void)
{
    if (skills_count != MATCH_SKILLS) return NULL; /* the layout assumes the catalog */
    match_index *ix = calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->cap = 16;
    ix->recs = malloc(ix->cap * sizeof *ix->recs);
    ix->hashes = malloc(ix->cap * sizeof *ix->hashes);
    ix->slot_mask = 31;
    ix->slots = calloc(ix->slot_mask + 1, sizeof *ix->slots);
    ix->pool_cap = 512;
    ix->pool = malloc(ix->pool_cap);
    ix->cache = malloc(sizeof *ix->cache);
    if (!ix->recs || !ix->hashes || !ix->slots || !ix->pool || !ix->cache) {
        match_index_free(ix);
        return NULL;
    }
    ix->cache->day = INT64_MIN;
    ix->cache->nzones = 0;
    for (int i = 0; i < MATCH_SKILLS; i++)
        if (strcmp(skills_catalog[i].group, "frameworks") == 0) ix->framework_group |= 1u << i;
    return ix;
}

void match_index_free(match_index *ix)
{
    if (!ix) return;
    free(ix->recs);
    free(ix->hashes);
    free(ix->slots);
    free(ix->pool);
    free(ix->cache);
    free(ix);
}

size_t match_count(const match_index *ix)
{
    return ix->n;
}

size_t match_memory_bytes(const match_index *ix)
{
    return sizeof *ix + sizeof *ix->cache +
           (size_t)ix->cap * (sizeof *ix->recs + sizeof *ix->hashes) +
           ((size_t)ix->slot_mask + 1) * sizeof *ix->slots + ix->pool_cap;
}

/* the slot holding id (*found = 1) or the empty slot where it would go */
static uint32_t probe(const match_index *ix, const char *id, uint32_t h, int *found)
{
    uint32_t i = h & ix->slot_mask;
    for (;;) {
        uint32_t s = ix->slots[i];
        if (!s) break;
        if (ix->hashes[s - 1] == h && strcmp(rec_id(ix, s - 1), id) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & ix->slot_mask;
    }
    *found = 0;
    return i;
}

static int grow_slots(match_index *ix)
{
    uint32_t ncap = (ix->slot_mask + 1) * 2, mask = ncap - 1;
    uint32_t *s = calloc(ncap, sizeof *s);
    if (!s) return MATCH_ENOMEM;
    for (uint32_t r = 0; r < ix->n; r++) {
        uint32_t i = ix->hashes[r] & mask;
        while (s[i]) i = (i + 1) & mask;
        s[i] = r + 1;
    }
    free(ix->slots);
    ix->slots = s;
    ix->slot_mask = mask;
    return 0;
}

static int grow_recs(match_index *ix)
{
    uint32_t ncap = ix->cap * 2;
    rec *r = realloc(ix->recs, ncap * sizeof *r);
    if (!r) return MATCH_ENOMEM;
    ix->recs = r;
    uint32_t *h = realloc(ix->hashes, ncap * sizeof *h);
    if (!h) return MATCH_ENOMEM; /* recs is larger than needed; harmless */
    ix->hashes = h;
    ix->cap = ncap;
    return 0;
}

static int grow_pool(match_index *ix, size_t need)
{
    size_t ncap = ix->pool_cap;
    while (ncap - ix->pool_used < need) ncap *= 2;
    char *p = realloc(ix->pool, ncap);
    if (!p) return MATCH_ENOMEM;
    ix->pool = p;
    ix->pool_cap = ncap;
    return 0;
}

/* rewrites the pool without dead ids; skipped (not an error) without memory */
static void compact_pool(match_index *ix)
{
    size_t live = ix->pool_used - ix->pool_dead, cap = 512;
    while (cap < live * 2) cap *= 2;
    char *p = malloc(cap), *w = p;
    if (!p) return;
    for (uint32_t r = 0; r < ix->n; r++) {
        size_t len = strlen(rec_id(ix, r)) + 1;
        memcpy(w, rec_id(ix, r), len);
        ix->recs[r].id_off = (uint32_t)(w - p);
        w += len;
    }
    free(ix->pool);
    ix->pool = p;
    ix->pool_cap = cap;
    ix->pool_used = (size_t)(w - p);
    ix->pool_dead = 0;
}

static int valid_currency(const char *c)
{
    return c && strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' &&
           c[2] >= 'A' && c[2] <= 'Z';
}

static int find_currency(const match_index *ix, const char *c)
{
    for (int i = 0; i < ix->ncurrencies; i++)
        if (memcmp(ix->currencies[i], c, 4) == 0) return i;
    return -1;
}

static int engineer_valid(const match_engineer *e)
{
    size_t idlen = e->id ? strlen(e->id) : 0;
    if (idlen == 0 || idlen > MATCH_ID_MAX) return 0;
    if (e->hours_per_week < 0 || e->hours_per_week > 168) return 0;
    if (e->rate_amount < 0 || e->rate_amount > (int64_t)UINT32_MAX) return 0;
    if (!valid_currency(e->currency) || e->level < MATCH_MID || e->level > MATCH_STAFF) return 0;
    if (e->rating < 0 || e->rating > 500 || e->responsiveness < 0 || e->responsiveness > 100)
        return 0;
    for (int i = 0; i < MATCH_SKILLS; i++)
        if (e->skill_level[i] > 5) return 0;
    return 1;
}

int match_upsert(match_index *ix, const match_engineer *e)
{
    int rc;
    if (!ix || !e || !engineer_valid(e)) return MATCH_EINVAL;
    const tzinfo_zone *tz = tzinfo_find(e->tz);
    if (!tz) return MATCH_EZONE;

    /* the zone's and currency's slots, added only once nothing can fail */
    int zone = 0, cur;
    while (zone < ix->nzones && ix->zones[zone] != tz) zone++;
    if (zone == MATCH_MAX_ZONES) return MATCH_EFULL;
    cur = find_currency(ix, e->currency);
    if (cur < 0 && ix->ncurrencies == MATCH_MAX_CURRENCIES) return MATCH_EFULL;

    uint32_t h = hash_id(e->id);
    int found;
    uint32_t slot = probe(ix, e->id, h, &found), r;
    if (found) {
        r = ix->slots[slot] - 1;
        ix->zone_refs[H_ZONE(ix->recs[r].hot)]--;
    } else {
        size_t len = strlen(e->id) + 1;
        if (ix->n >= MATCH_MAX_ENGINEERS) return MATCH_EFULL;
        if (ix->n == ix->cap && (rc = grow_recs(ix)) < 0) return rc;
        if (ix->pool_cap - ix->pool_used < len && (rc = grow_pool(ix, len)) < 0) return rc;
        if ((uint64_t)(ix->n + 1) * 4 > (uint64_t)(ix->slot_mask + 1) * 3) {
            if ((rc = grow_slots(ix)) < 0) return rc;
            slot = probe(ix, e->id, h, &found);
        }
        r = ix->n++;
        ix->slots[slot] = r + 1;
        ix->hashes[r] = h;
        ix->recs[r].id_off = (uint32_t)ix->pool_used;
        memcpy(ix->pool + ix->pool_used, e->id, len);
        ix->pool_used += len;
    }
    if (zone == ix->nzones) ix->zones[ix->nzones++] = tz;
    if (cur < 0) {
        cur = ix->ncurrencies++;
        memcpy(ix->currencies[cur], e->currency, 4);
    }
    ix->zone_refs[zone]++;

    rec *x = &ix->recs[r];
    x->lv[0] = x->lv[1] = 0;
    for (int i = 0; i < MATCH_SKILLS; i++)
        x->lv[i / 16] |= (uint64_t)e->skill_level[i] << (4 * (i % 16));
    x->rating = (uint16_t)e->rating;
    x->resp = (uint8_t)e->responsiveness;
    x->status = (uint8_t)((e->vetted ? S_VETTED : 0) | (e->available ? S_AVAILABLE : 0) |
                          (e->busy ? S_BUSY : 0));
    unsigned flags = ((e->vetted && e->available && !e->busy) ? F_ELIGIBLE : 0) |
                     (unsigned)e->level << F_LEVEL_SHIFT;
    x->hot = (uint64_t)e->rate_amount << 32 | (uint64_t)zone << 17 |
                 (uint64_t)e->hours_per_week << 9 | (uint64_t)cur << 3 | flags;
    return 0;
}

int match_set_busy(match_index *ix, const char *id, bool busy)
{
    if (!ix || !id) return MATCH_ENOENT;
    int found;
    uint32_t slot = probe(ix, id, hash_id(id), &found);
    if (!found) return MATCH_ENOENT;
    rec *x = &ix->recs[ix->slots[slot] - 1];
    x->status = (uint8_t)((x->status & ~S_BUSY) | (busy ? S_BUSY : 0));
    int eligible = (x->status & (S_VETTED | S_AVAILABLE | S_BUSY)) == (S_VETTED | S_AVAILABLE);
    x->hot = (x->hot & ~(uint64_t)F_ELIGIBLE) | (eligible ? F_ELIGIBLE : 0);
    return 0;
}

int match_is_busy(const match_index *ix, const char *id)
{
    if (!ix || !id) return 0;
    int found;
    uint32_t slot = probe(ix, id, hash_id(id), &found);
    return found && (ix->recs[ix->slots[slot] - 1].status & S_BUSY);
}

/* empties slot i, moving later entries of its run back (no tombstones) */
static void slot_delete(match_index *ix, uint32_t i)
{
    uint32_t mask = ix->slot_mask, j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t s = ix->slots[j];
        if (!s) break;
        uint32_t home = ix->hashes[s - 1] & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) { /* i lies in [home, j) */
            ix->slots[i] = s;
            i = j;
        }
    }
    ix->slots[i] = 0;
}

int match_remove(match_index *ix, const char *id)
{
    if (!ix || !id) return MATCH_ENOENT;
    int found;
    uint32_t h = hash_id(id), slot = probe(ix, id, h, &found);
    if (!found) return MATCH_ENOENT;
    uint32_t r = ix->slots[slot] - 1, last = ix->n - 1;
    slot_delete(ix, slot);
    ix->pool_dead += strlen(rec_id(ix, r)) + 1;
    ix->zone_refs[H_ZONE(ix->recs[r].hot)]--;
    if (r != last) { /* the last record fills the hole */
        uint32_t i = ix->hashes[last] & ix->slot_mask;
        while (ix->slots[i] != last + 1) i = (i + 1) & ix->slot_mask;
        ix->slots[i] = r + 1;
        ix->recs[r] = ix->recs[last];
        ix->hashes[r] = ix->hashes[last];
    }
    ix->n--;
    if (ix->pool_dead > 4096 && ix->pool_dead * 2 > ix->pool_used) compact_pool(ix);
    return 0;
}

/* ------------------------------------------------------------ requests */

void match_request_init(match_request *r)
{
    memset(r, 0, sizeof *r);
    r->seniority = MATCH_SENIOR;
    memcpy(r->currency, "USD", 4);
    memcpy(r->client_tz, "UTC", 4);
    r->k = MATCH_K_DEFAULT;
}

int match_request_must(match_request *r, const char *skill_id, int min_level)
{
    int i = skill_id ? skills_find(skill_id) : -1;
    if (i < 0 || i >= MATCH_SKILLS || min_level < 0 || min_level > 5) return MATCH_EINVAL;
    r->must_mask |= 1u << i;
    r->must_min[i] = (uint8_t)(min_level ? min_level : 1);
    return 0;
}

int match_request_nice(match_request *r, const char *skill_id)
{
    int i = skill_id ? skills_find(skill_id) : -1;
    if (i < 0 || i >= MATCH_SKILLS) return MATCH_EINVAL;
    r->nice_mask |= 1u << i;
    return 0;
}

int match_request_framework(match_request *r, const char *skill_id)
{
    int i = skill_id ? skills_find(skill_id) : -1;
    if (i < 0 || i >= MATCH_SKILLS || strcmp(skills_catalog[i].group, "frameworks") != 0)
        return MATCH_EINVAL;
    r->framework_mask |= 1u << i;
    return 0;
}

/* --------------------------------------------------------------- query */

#define ALL_SKILLS ((1u << MATCH_SKILLS) - 1)

/* everything a query derives from its request, computed once */
typedef struct {
    const match_request *req;
    uint64_t must_m[2], must_min[2], nice_m[2], fw_m[2];
    int n_must, n_nice, n_fw;
    uint16_t must_pts[5 * MATCH_SKILLS + 1]; /* by sum of levels */
    uint16_t nice_pts[5 * MATCH_SKILLS + 1];
    uint16_t fw_pts[5 * MATCH_SKILLS + 1];
    uint8_t flags_cur_ok[512]; /* by H_FLAGS_CUR: eligible, a level and a currency that pass */
    int16_t sen_pts[3];
    uint32_t budget;           /* UINT32_MAX without a maximum */
    int has_budget;
    unsigned need_hours;
    int16_t ov_min[MATCH_MAX_ZONES];
    uint16_t ov_pts[MATCH_MAX_ZONES];
    uint8_t zone_ok[MATCH_MAX_ZONES];
} qctx;

typedef struct {
    int score;
    uint32_t r;
} hent;

static int popcount32(uint32_t v)
{
    return __builtin_popcount(v);
}

/* points of a part: weight * 100 * sum / (5 * n), rounded half up */
static void part_table(uint16_t *t, int n, int weight)
{
    for (int s = 0; s <= 5 * MATCH_SKILLS; s++)
        t[s] = n ? (uint16_t)((2 * weight * 100 * s + 5 * n) / (10 * n)) : (uint16_t)(weight * 100);
}

static int request_valid(const match_index *ix, const match_request *q)
{
    if (q->k < 0 || q->seniority < MATCH_MID || q->seniority > MATCH_STAFF) return 0;
    if (q->max_rate_amount < 0 || q->hours_per_week < 0 || q->hours_per_week > 168) return 0;
    if (q->min_overlap_hours < 0 || q->min_overlap_hours > 12) return 0;
    if ((q->must_mask | q->nice_mask | q->framework_mask) & ~ALL_SKILLS) return 0;
    if (q->framework_mask & ~ix->framework_group) return 0;
    if (q->max_rate_amount > 0 && !valid_currency(q->currency)) return 0;
    for (int i = 0; i < MATCH_SKILLS; i++)
        if (q->must_min[i] > 5) return 0;
    return memchr(q->client_tz, '\0', sizeof q->client_tz) != NULL;
}

static void refresh_offsets(const match_index *ix, int64_t day)
{
    zone_cache *c = ix->cache;
    int from = c->day == day ? c->nzones : 0;
    int64_t noon = day * 86400 + 43200;
    for (int z = from; z < ix->nzones; z++)
        c->off_min[z] = (int16_t)(tzinfo_zone_offset(ix->zones[z], noon) / 60);
    c->day = day;
    c->nzones = ix->nzones;
}

/* overlap in minutes of two 09:00-17:00 days whose UTC offsets differ by d */
static int overlap_minutes(int d)
{
    d = ((d % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES;
    int dist = d < DAY_MINUTES - d ? d : DAY_MINUTES - d;
    return dist < WORK_MINUTES ? WORK_MINUTES - dist : 0;
}

static int prepare(const match_index *ix, const match_request *q, qctx *c)
{
    const tzinfo_zone *client = tzinfo_find(q->client_tz);
    if (!client) return MATCH_EZONE;
    c->req = q;

    uint64_t minv[2] = {0, 0};
    for (int i = 0; i < MATCH_SKILLS; i++)
        if (q->must_mask >> i & 1)
            minv[i / 16] |= (uint64_t)(q->must_min[i] ? q->must_min[i] : 1) << (4 * (i % 16));
    c->must_min[0] = minv[0];
    c->must_min[1] = minv[1];
    uint32_t nice = (q->relax & MATCH_RELAX_NICE) ? 0 : q->nice_mask;
    nib_mask(q->must_mask, c->must_m);
    nib_mask(nice, c->nice_m);
    nib_mask(q->framework_mask, c->fw_m);
    c->n_must = popcount32(q->must_mask);
    c->n_nice = popcount32(nice);
    c->n_fw = popcount32(q->framework_mask);
    part_table(c->must_pts, c->n_must, MATCH_W_MUST);
    part_table(c->nice_pts, c->n_nice, MATCH_W_NICE);
    part_table(c->fw_pts, c->n_fw, MATCH_W_FRAMEWORKS);

    for (int l = 0; l < 3; l++) {
        int diff = l - q->seniority;
        c->sen_pts[l] = (int16_t)(diff == 0 ? 1000 : diff == 1 ? 600 : diff == -1 ? 300 : 0);
    }
    c->has_budget = q->max_rate_amount > 0;
    c->budget = !c->has_budget ? UINT32_MAX
                : q->max_rate_amount > (int64_t)UINT32_MAX ? UINT32_MAX
                                                          : (uint32_t)q->max_rate_amount;
    int cur = c->has_budget ? find_currency(ix, q->currency) : -1; /* -1: nobody passes */
    for (unsigned w = 0; w < 512; w++) {
        int l = (int)(w >> F_LEVEL_SHIFT & 3), diff = l - q->seniority;
        int level_ok =
            diff == 0 || ((q->relax & MATCH_RELAX_SENIORITY) && (diff == 1 || diff == -1));
        int cur_ok = !c->has_budget || (int)H_CUR(w) == cur;
        c->flags_cur_ok[w] = (w & F_ELIGIBLE) && l <= MATCH_STAFF && level_ok && cur_ok;
    }
    c->need_hours = (unsigned)q->hours_per_week;

    int64_t day = q->start_date / 86400 - (q->start_date % 86400 < 0);
    refresh_offsets(ix, day);
    int client_min = tzinfo_zone_offset(client, day * 86400 + 43200) / 60;
    int need = q->min_overlap_hours * 60, ignore = (q->relax & MATCH_RELAX_OVERLAP) != 0;
    for (int z = 0; z < ix->nzones; z++) {
        int ov = overlap_minutes(client_min - ix->cache->off_min[z]);
        c->ov_min[z] = (int16_t)ov;
        c->ov_pts[z] =
            (uint16_t)((2 * MATCH_W_OVERLAP * 100 * ov + WORK_MINUTES) / (2 * WORK_MINUTES));
        c->zone_ok[z] = ignore || ov >= need;
    }
    return 0;
}

static inline int rate_points(const qctx *c, uint32_t rate)
{
    if (!c->has_budget) return 0;
    uint64_t b = c->budget, spare = b - rate; /* rate <= budget: filtered */
    return (int)((2 * MATCH_W_RATE * 100 * spare + b) / (2 * b));
}

static inline __attribute__((always_inline)) int sum_levels(const uint64_t lv[2],
                                                            const uint64_t m[2],
                                                            const uint64_t min[2])
{
    return (int)(nib_sum(lv[0] & m[0] & nib_ge(lv[0], min[0])) +
                 nib_sum(lv[1] & m[1] & nib_ge(lv[1], min[1])));
}

static const uint64_t zero2[2] = {0, 0};

/* the eight parts, in the order of match_explain */
static inline __attribute__((always_inline)) void score_parts(const qctx *c, uint64_t w,
                                                              const rec *e, int p[8])
{
    p[0] = c->must_pts[sum_levels(e->lv, c->must_m, c->must_min)];
    p[1] = c->nice_pts[sum_levels(e->lv, c->nice_m, zero2)];
    p[2] = c->fw_pts[sum_levels(e->lv, c->fw_m, zero2)];
    p[3] = c->sen_pts[H_FLAGS(w) >> F_LEVEL_SHIFT];
    p[4] = rate_points(c, H_RATE(w));
    p[5] = c->ov_pts[H_ZONE(w)];
    p[6] = 2 * (e->rating ? e->rating : MATCH_RATING_PRIOR);
    p[7] = 5 * e->resp;
}

static inline __attribute__((always_inline)) int score_of(const qctx *c, uint64_t w, const rec *e)
{
    int p[8];
    score_parts(c, w, e, p);
    return p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
}

/* a ranks below b: lower score, or the same score and a later id */
static int worse(const match_index *ix, hent a, hent b)
{
    if (a.score != b.score) return a.score < b.score;
    return strcmp(rec_id(ix, a.r), rec_id(ix, b.r)) > 0;
}

static void sift_down(const match_index *ix, hent *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < n && worse(ix, h[l], h[m])) m = l;
        if (l + 1 < n && worse(ix, h[l + 1], h[m])) m = l + 1;
        if (m == i) return;
        hent t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void sift_up(const match_index *ix, hent *h, int i)
{
    while (i > 0 && worse(ix, h[i], h[(i - 1) / 2])) {
        hent t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static void explain_fill(const match_index *ix, const qctx *c, uint32_t r, match_explain *x)
{
    const match_request *q = c->req;
    const rec *e = &ix->recs[r];
    uint64_t w = e->hot;
    int p[8];
    score_parts(c, w, e, p);
    memset(x, 0, sizeof *x);
    for (int i = 0; i < MATCH_SKILLS; i++) {
        x->levels[i] = (uint8_t)nib_get(e->lv, i);
        uint32_t bit = 1u << i;
        if (q->must_mask & bit) {
            int min = q->must_min[i] ? q->must_min[i] : 1;
            x->must_have.min_level[i] = (uint8_t)min;
            if (x->levels[i] >= min) x->must_have.matched |= bit;
            else x->must_have.missing |= bit;
        }
        if (c->n_nice && (q->nice_mask & bit)) {
            if (x->levels[i]) x->nice_to_have.matched |= bit;
            else x->nice_to_have.missing |= bit;
        }
        if (q->framework_mask & bit) {
            if (x->levels[i]) x->frameworks.matched |= bit;
            else x->frameworks.missing |= bit;
        }
    }
    x->must_have.points = p[0];
    x->nice_to_have.points = p[1];
    x->nice_to_have.dropped = (q->relax & MATCH_RELAX_NICE) && q->nice_mask;
    x->frameworks.points = p[2];
    x->seniority.points = p[3];
    x->seniority.wanted = q->seniority;
    x->seniority.has = (int)(H_FLAGS(w) >> F_LEVEL_SHIFT);
    x->rate.points = p[4];
    x->rate.rate = H_RATE(w);
    memcpy(x->rate.currency, ix->currencies[H_CUR(w)], 4);
    x->rate.budget = c->has_budget ? q->max_rate_amount : 0;
    if (c->has_budget) memcpy(x->rate.budget_currency, q->currency, 4);
    x->overlap.points = p[5];
    x->overlap.minutes = c->ov_min[H_ZONE(w)];
    x->overlap.hours = ((x->overlap.minutes * 10 + 30) / 60) / 10.0;
    x->overlap.required_hours = q->min_overlap_hours;
    x->overlap.ignored = (q->relax & MATCH_RELAX_OVERLAP) != 0;
    x->rating.points = p[6];
    x->rating.rating = e->rating;
    x->responsiveness.points = p[7];
    x->responsiveness.value = e->resp;
}

int match_query(const match_index *ix, const match_request *q, match_result *out, int k)
{
    if (!ix || !q || !out || k < 1 || !request_valid(ix, q)) return MATCH_EINVAL;
    int want = q->k == 0 ? MATCH_K_DEFAULT : q->k > MATCH_K_MAX ? MATCH_K_MAX : q->k;
    if (want > k) want = k;

    qctx c;
    int rc = prepare(ix, q, &c);
    if (rc < 0) return rc;

    hent heap[MATCH_K_MAX];
    int hn = 0;
    const rec *recs = ix->recs;
    const uint32_t n = ix->n, budget = c.budget;
    const unsigned need = c.need_hours;
    uint32_t cand[SCAN_BATCH];
    for (uint32_t base = 0; base < n; base += SCAN_BATCH) {
        uint32_t end = n - base < SCAN_BATCH ? n : base + SCAN_BATCH, nc = 0;
        /* every hard filter, without a branch: a record's index is always
         * written and kept only when it passes */
        for (uint32_t r = base; r < end; r++) {
            const uint64_t w = recs[r].hot;
            cand[nc] = r;
            nc += (uint32_t)c.flags_cur_ok[H_FLAGS_CUR(w)] & (uint32_t)c.zone_ok[H_ZONE(w)] &
                  (uint32_t)(H_HOURS(w) >= need) & (uint32_t)(H_RATE(w) <= budget);
        }
        for (uint32_t i = 0; i < nc; i++) {
            uint32_t r = cand[i];
            hent h = {score_of(&c, recs[r].hot, &recs[r]), r};
            if (hn < want) {
                heap[hn] = h;
                sift_up(ix, heap, hn++);
            } else if (h.score >= heap[0].score && worse(ix, heap[0], h)) {
                heap[0] = h;
                sift_down(ix, heap, hn, 0);
            }
        }
    }

    /* best first: k <= 50, an insertion sort of the heap */
    for (int i = 1; i < hn; i++) {
        hent t = heap[i];
        int j = i;
        for (; j > 0 && worse(ix, heap[j - 1], t); j--) heap[j] = heap[j - 1];
        heap[j] = t;
    }
    for (int i = 0; i < hn; i++) {
        snprintf(out[i].id, sizeof out[i].id, "%s", rec_id(ix, heap[i].r));
        out[i].score_x100 = heap[i].score;
        out[i].score = heap[i].score / 100.0;
        explain_fill(ix, &c, heap[i].r, &out[i].explain);
    }
    return hn;
}
