/* matching: the in-memory engine behind "a ranked, explained shortlist the
 * second a request is raised" (PRODUCT.md §2).
 *
 * The index holds every matchable engineer in one flat array of 32-byte
 * records; a query scans it once: branch-free hard filters on packed
 * fields, then an integer score for the few that pass, kept in a k-sized
 * heap. Pure C, no I/O, no allocation per query, deterministic: the same
 * index and request always give the same list in the same order.
 *
 * Threads: an index belongs to the loop thread. match_query() takes a const
 * index but updates its per-date cache of zone offsets, so two threads must
 * not query one index at once. Zone offsets come from tzinfo, which must be
 * loaded before engineers are added and freed only after the index.
 *
 * Hard filters (all must hold):
 *   vetted, available, not busy (no conflicting engagement);
 *   hours_per_week >= the request's;
 *   rate: when the request has a maximum rate (max_rate_amount > 0), only
 *     engineers in the SAME currency pass, and only when rate <= maximum.
 *     There is no currency conversion: a EUR engineer never passes a USD
 *     budget. A request without a maximum rate filters on neither;
 *   overlap >= min_overlap_hours (unless MATCH_RELAX_OVERLAP);
 *   seniority equal to the one wanted (MATCH_RELAX_SENIORITY: +-1).
 *
 * Overlap: working hours are 09:00-17:00 local for both parties, with the
 * real UTC offsets of both zones at 12:00 UTC of the start date's UTC day
 * (DST included). The days repeat, so the overlap is that of two daily
 * 8-hour windows whose offsets differ by d minutes: 480 - min(d, 1440 - d)
 * (d taken mod 1440), at least 0. So Auckland's Tuesday morning overlaps
 * Los Angeles' Monday afternoon. Reported in hours, one decimal.
 *
 * Score: 0..100, a weighted sum, every part shown in the explain. Computed
 * in hundredths of a point as integers, so parts add up exactly and ties
 * are exact. Weights (points at most):
 *
 *   must_have       40  each must-have contributes level/5 of its share when
 *                       the engineer's vetted level >= its minimum, else 0
 *                       (listed as missing); no must-haves: full points
 *   nice_to_have    10  each contributes level/5 when level >= 1; none asked
 *                       or dropped (MATCH_RELAX_NICE): full points
 *   frameworks      10  the same over the request's frameworks; none: full
 *   seniority       10  exact 10; one level above (relaxed) 6; one below 3
 *   rate             5  5 * (budget - rate) / budget: cheaper scores higher;
 *                       no maximum rate: 0 for everyone
 *   overlap         10  10 * min(overlap, 8 h) / 8 h
 *   rating          10  rating/50 (5.00 -> 10); not rated yet: scored as
 *                       MATCH_RATING_PRIOR (3.50 -> 7)
 *   responsiveness   5  5 * responsiveness / 100
 *
 * Order: score descending, then id ascending (strcmp), so equal scores are
 * listed in a stable, documented order. */
#ifndef OPX_MATCHING_H
#define OPX_MATCHING_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MATCH_SKILLS 30               /* the catalog's size (skills.h) */
#define MATCH_ID_MAX 31               /* bytes of an engineer id, without NUL */
#define MATCH_K_DEFAULT 5
#define MATCH_K_MAX 50
#define MATCH_MAX_ENGINEERS (1 << 22) /* 4,194,304 per index */
#define MATCH_MAX_ZONES 1024          /* distinct zones per index */
#define MATCH_MAX_CURRENCIES 64       /* distinct currencies per index */
#define MATCH_RATING_PRIOR 350        /* how an unrated engineer is scored */

/* weights, in points (sum 100) */
#define MATCH_W_MUST 40
#define MATCH_W_NICE 10
#define MATCH_W_FRAMEWORKS 10
#define MATCH_W_SENIORITY 10
#define MATCH_W_RATE 5
#define MATCH_W_OVERLAP 10
#define MATCH_W_RATING 10
#define MATCH_W_RESPONSIVENESS 5

/* errors (0 is success) */
#define MATCH_EINVAL (-1) /* a field out of range, an unknown skill */
#define MATCH_ENOMEM (-2)
#define MATCH_ENOENT (-3) /* no engineer with that id */
#define MATCH_EFULL (-4)  /* a cap above reached */
#define MATCH_EZONE (-5)  /* a zone tzinfo does not know */

enum { MATCH_MID = 0, MATCH_SENIOR = 1, MATCH_STAFF = 2 };

/* relaxation flags, in the order the SLA widens a search */
enum {
    MATCH_RELAX_NICE = 1,      /* drop_nice_to_have */
    MATCH_RELAX_SENIORITY = 2, /* seniority_plus_minus_one */
    MATCH_RELAX_OVERLAP = 4,   /* ignore_overlap (still scored) */
};

/* An engineer as the index sees it. Strings are copied by match_upsert. */
typedef struct {
    const char *id;     /* 1..MATCH_ID_MAX bytes */
    bool vetted, available, busy;
    int hours_per_week; /* 0..168 */
    int64_t rate_amount; /* per hour, minor units, 0..UINT32_MAX */
    const char *currency; /* ISO 4217, three capital letters */
    const char *tz;       /* IANA zone name known to tzinfo */
    int level;            /* MATCH_MID, MATCH_SENIOR, MATCH_STAFF */
    uint8_t skill_level[MATCH_SKILLS]; /* vetted level 0..5 per catalog skill, 0 = none */
    int rating;           /* 0..500 = 0.00..5.00; 0 = not rated yet */
    int responsiveness;   /* 0..100 */
} match_engineer;

/* A request. Start from match_request_init(); add skills with the helpers
 * (catalog ids) or set the masks directly (bit i = catalog index i). */
typedef struct {
    uint32_t must_mask;
    uint8_t must_min[MATCH_SKILLS]; /* minimum vetted level per must-have; 0 means 1 */
    uint32_t nice_mask;
    uint32_t framework_mask;        /* only skills of the "frameworks" group */
    int seniority;                  /* MATCH_MID.. */
    int64_t max_rate_amount;        /* per hour, minor units; 0 = no maximum */
    char currency[4];               /* of max_rate_amount */
    int hours_per_week;             /* needed, 0..168 */
    char client_tz[65];             /* IANA zone name */
    int min_overlap_hours;          /* 0..12 */
    int64_t start_date;             /* unix seconds */
    int k;                          /* wanted; 0 = MATCH_K_DEFAULT, clamped to MATCH_K_MAX */
    unsigned relax;                 /* MATCH_RELAX_* */
} match_request;

/* The parts of one score; points are hundredths (4000 = 40.00). Skill sets
 * are catalog bitmasks; levels[] are the engineer's vetted levels. */
typedef struct {
    uint8_t levels[MATCH_SKILLS];
    struct {
        int points;
        uint32_t matched, missing; /* missing: below the minimum (level may be > 0) */
        uint8_t min_level[MATCH_SKILLS];
    } must_have;
    struct {
        int points;
        uint32_t matched, missing;
        bool dropped; /* MATCH_RELAX_NICE */
    } nice_to_have;
    struct {
        int points;
        uint32_t matched, missing;
    } frameworks;
    struct {
        int points;
        int wanted, has;
    } seniority;
    struct {
        int points;
        int64_t rate, budget; /* budget 0: no maximum */
        char currency[4], budget_currency[4];
    } rate;
    struct {
        int points;
        int minutes;
        double hours; /* one decimal */
        int required_hours;
        bool ignored; /* MATCH_RELAX_OVERLAP */
    } overlap;
    struct {
        int points;
        int rating; /* 0 = not rated yet */
    } rating;
    struct {
        int points;
        int value;
    } responsiveness;
} match_explain;

typedef struct {
    char id[MATCH_ID_MAX + 1];
    int score_x100; /* 0..10000 */
    double score;   /* score_x100 / 100 */
    match_explain explain;
} match_result;

typedef struct match_index match_index;

/* NULL when out of memory. */
match_index *match_index_new(void);
void match_index_free(match_index *ix);
/* Inserts or replaces (by id). 0, or MATCH_EINVAL / EZONE / EFULL / ENOMEM;
 * on error the index is unchanged. */
int match_upsert(match_index *ix, const match_engineer *e);
/* 0, or MATCH_ENOENT */
int match_remove(match_index *ix, const char *id);
/* an engineer's engagement changed: busy ones are not matched; MATCH_ENOENT
 * when not indexed */
int match_set_busy(match_index *ix, const char *id, bool busy);
/* 1 when indexed and busy */
int match_is_busy(const match_index *ix, const char *id);
size_t match_count(const match_index *ix);
/* every byte the index has allocated (capacity, not just what is used) */
size_t match_memory_bytes(const match_index *ix);

/* Defaults: nothing required, senior, no maximum rate, 0 hours, "UTC",
 * overlap 0, start 0, k = MATCH_K_DEFAULT, no relaxation. */
void match_request_init(match_request *r);
/* 0, or MATCH_EINVAL for an unknown id, a level out of 1..5 (0 means 1), or
 * (frameworks) a skill outside the frameworks group. */
int match_request_must(match_request *r, const char *skill_id, int min_level);
int match_request_nice(match_request *r, const char *skill_id);
int match_request_framework(match_request *r, const char *skill_id);

/* Fills out[0..n) best first and returns n: at most min(request's k, k)
 * results, k being the room in out (>= 1). MATCH_EINVAL for a bad request,
 * MATCH_EZONE for an unknown client zone. */
int match_query(const match_index *ix, const match_request *req, match_result *out, int k);

/* {"must_have":{"points","max","matched":[{"skill","vetted_level"}],
 *   "missing":[{"skill","vetted_level","min_level"}]},
 *  "nice_to_have":{"points","max","matched":[..],"missing":["id"],"dropped"},
 *  "frameworks":{"points","max","matched":[..],"missing":["id"]},
 *  "seniority":{"points","max","wanted":"senior","has":"staff"},
 *  "rate":{"points","max","rate":{"amount","currency"},"budget":{..}|null},
 *  "overlap":{"points","max","hours":3.5,"required_hours","ignored"},
 *  "rating":{"points","max","rating":4.5|null},
 *  "responsiveness":{"points","max","value"}}
 * Points are numbers with two decimals. New reference; NULL on ENOMEM. */
json_t *match_explain_json(const match_result *r);
/* "mid", "senior", "staff"; NULL otherwise */
const char *match_level_name(int level);
#endif
