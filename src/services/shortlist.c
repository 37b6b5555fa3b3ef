/* shortlist: keeping the matching index in step and asking it (see
 * shortlist.h). */
#include "shortlist.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/token.h"
#include "../rules/matching.h"
#include "../rules/requests.h"
#include "../rules/skills.h"

static match_index *IX;
/* a refresh in progress (shortlist_refresh): the index being loaded, which
 * every change also reaches until it replaces IX */
static match_index *NEXT;
static store_match_page *NEXT_PAGE;
static char NEXT_AFTER[32];
static store *NEXT_STORE;

int shortlist_init(void)
{
    IX = match_index_new();
    return IX ? 0 : -1;
}

void shortlist_free(void)
{
    match_index_free(IX);
    match_index_free(NEXT);
    free(NEXT_PAGE);
    IX = NEXT = NULL;
    NEXT_PAGE = NULL;
}

size_t shortlist_count(void)
{
    return IX ? match_count(IX) : 0;
}

size_t shortlist_memory_bytes(void)
{
    return IX ? match_memory_bytes(IX) : 0;
}

static int level_of(const char *level)
{
    return strcmp(level, "staff") == 0 ? MATCH_STAFF : strcmp(level, "senior") == 0 ? MATCH_SENIOR : MATCH_MID;
}

static void fill_levels(match_engineer *m, const store_skill *skills, int n)
{
    for (int i = 0; i < n; i++) {
        int k = skills_find(skills[i].id);
        /* what vetting confirmed counts; an unconfirmed skill is not matched on */
        if (k >= 0 && k < MATCH_SKILLS) m->skill_level[k] = (uint8_t)skills[i].vetted_level;
    }
}

static void upsert(match_index *ix, const char *id, int available, int hours, int64_t rate, const char *currency,
                   const char *tz, const char *level, const store_skill *skills, int nskills,
                   int rating_x100, int busy)
{
    match_engineer m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.vetted = true;
    m.available = available;
    m.busy = busy; /* an active contract: read at rebuild, then kept by shortlist_set_busy */
    m.hours_per_week = hours;
    m.rate_amount = rate;
    m.currency = currency;
    m.tz = tz;
    m.level = level_of(level);
    fill_levels(&m, skills, nskills);
    m.rating = rating_x100; /* published reviews' average; 0 = not rated yet */
    m.responsiveness = 50; /* no invitation history yet */
    int rc = match_upsert(ix, &m);
    if (rc < 0) log_msgf(LOG_WARN, "matching index refused engineer %s (%d)", id, rc);
}

/* a row of store_match_page (the rebuild's and the refresh's) */
static void upsert_row(match_index *ix, const store_match_row *r)
{
    upsert(ix, r->user_id, r->available, r->hours_per_week, r->rate_amount, r->currency, r->timezone, r->level,
           r->skills, r->nskills, r->rating_x100, r->busy);
}

static void update_in(match_index *ix, const store_engineer *e)
{
    if (strcmp(e->status, "vetted") != 0 || !e->has_profile || e->suspended) {
        match_remove(ix, e->user_id);
        return;
    }
    upsert(ix, e->user_id, e->available, e->hours_per_week, e->rate_amount, e->currency, e->timezone,
           e->level[0] ? e->level : "mid", e->skills, e->nskills, e->rating_x100, match_is_busy(ix, e->user_id));
}

void shortlist_update(const store_engineer *e)
{
    if (IX) update_in(IX, e);
    if (NEXT) update_in(NEXT, e);
}

void shortlist_set_busy(const char *engineer_id, int busy)
{
    /* not indexed (not vetted): nothing to keep */
    if (IX) match_set_busy(IX, engineer_id, busy);
    if (NEXT) match_set_busy(NEXT, engineer_id, busy);
}

/* ---- what other nodes changed (store notices) ---------------------------------------------- */

/* a re-read in flight; a later one of the same engineer supersedes it (the
 * pool may answer them in either order) */
typedef struct reread {
    struct reread *next;
    char id[32];
    int stale;
    store_engineer e;
} reread;
static reread *REREADS;

static void on_reread(void *ctx, int rc)
{
    reread *r = ctx;
    for (reread **p = &REREADS; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    if (r->stale) {
        free(r);
        return;
    }
    if (rc == STORE_OK) {
        shortlist_update(&r->e);
    } else if (rc == STORE_NOTFOUND) {
        if (IX) match_remove(IX, r->id);
        if (NEXT) match_remove(NEXT, r->id);
    } else if (rc != STORE_CLOSED) {
        log_msgf(LOG_WARN, "matching index: engineer %s changed, re-reading failed: %s", r->id,
                 store_strerror(rc));
    }
    free(r);
}

void shortlist_engineer_changed(store *s, const char *engineer_id)
{
    reread *r = calloc(1, sizeof *r);
    if (!r) return;
    snprintf(r->id, sizeof r->id, "%s", engineer_id);
    for (reread *o = REREADS; o; o = o->next)
        if (strcmp(o->id, r->id) == 0) o->stale = 1;
    r->next = REREADS;
    REREADS = r;
    if (STORE_CALL(s, engineer_get, r->id, &r->e, clock_mono_ns() + 30000000000ull, on_reread, r) < 0) {
        REREADS = r->next;
        log_msgf(LOG_WARN, "matching index: engineer %s changed; not re-read (store busy)", r->id);
        free(r);
    }
}

static void next_page(void);

static void on_next_page(void *ctx, int rc)
{
    (void)ctx;
    if (!NEXT) return;
    if (rc < 0) {
        if (rc != STORE_CLOSED) log_msgf(LOG_WARN, "matching index: refresh failed: %s", store_strerror(rc));
        match_index_free(NEXT);
        NEXT = NULL;
        return;
    }
    const store_match_page *page = NEXT_PAGE;
    for (int i = 0; i < page->n; i++)
        upsert_row(NEXT, &page->rows[i]);
    if (page->n == STORE_MATCH_PAGE) {
        snprintf(NEXT_AFTER, sizeof NEXT_AFTER, "%s", page->rows[page->n - 1].user_id);
        next_page();
        return;
    }
    match_index_free(IX);
    IX = NEXT;
    NEXT = NULL;
    log_msgf(LOG_INFO, "matching index: refreshed, %zu engineers", match_count(IX));
}

static void next_page(void)
{
    int rc = STORE_CALL(NEXT_STORE, matchable_page, NEXT_AFTER, NEXT_PAGE, clock_mono_ns() + 30000000000ull,
                        on_next_page, NULL);
    if (rc < 0) on_next_page(NULL, rc);
}

void shortlist_refresh(store *s)
{
    if (NEXT || !IX) return; /* one at a time; what changes meanwhile reaches it too */
    if (!NEXT_PAGE && !(NEXT_PAGE = malloc(sizeof *NEXT_PAGE))) return;
    if (!(NEXT = match_index_new())) return;
    NEXT_STORE = s;
    NEXT_AFTER[0] = '\0';
    next_page();
}

typedef struct {
    int done, rc;
} waiter;

static void on_page(void *ctx, int rc)
{
    waiter *w = ctx;
    w->done = 1;
    w->rc = rc;
}

int shortlist_rebuild(uv_loop_t *loop, store *s, char *err, size_t errlen)
{
    static store_match_page page; /* start-up only, one at a time */
    char after[32] = "";
    size_t total = 0;
    uint64_t t0 = clock_mono_ns();
    for (;;) {
        waiter w = {0, 0};
        int rc = STORE_CALL(s, matchable_page, after, &page, clock_mono_ns() + 30000000000ull, on_page, &w);
        if (rc == 0)
            while (!w.done) uv_run(loop, UV_RUN_ONCE);
        else
            w.rc = rc;
        if (w.rc < 0) {
            snprintf(err, errlen, "loading engineers for matching: %s", store_strerror(w.rc));
            return -1;
        }
        for (int i = 0; i < page.n; i++)
            upsert_row(IX, &page.rows[i]);
        total += (size_t)page.n;
        if (page.n < STORE_MATCH_PAGE) break;
        snprintf(after, sizeof after, "%s", page.rows[page.n - 1].user_id);
    }
    log_msgf(LOG_INFO, "matching index: %zu engineers, %zu bytes, built in %.1f ms", total,
             match_memory_bytes(IX), (double)(clock_mono_ns() - t0) / 1e6);
    return 0;
}

static int seniority_of(const char *s)
{
    return s ? level_of(s) : MATCH_SENIOR;
}

int shortlist_pick(const char *spec, unsigned relax, const store_request *existing, int first_rank,
                   store_candidate *out, int k)
{
    json_t *o = json_loads(spec, 0, NULL);
    if (!o) return -1;
    match_request r;
    match_request_init(&r);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "must_have"), i, v) match_request_must(&r, json_string_value(v), 1);
    json_array_foreach(json_object_get(o, "nice_to_have"), i, v) match_request_nice(&r, json_string_value(v));
    json_array_foreach(json_object_get(o, "frameworks"), i, v) match_request_framework(&r, json_string_value(v));
    r.seniority = seniority_of(json_string_value(json_object_get(o, "seniority")));
    r.hours_per_week = (int)json_integer_value(json_object_get(o, "hours_per_week"));
    snprintf(r.client_tz, sizeof r.client_tz, "%s", json_string_value(json_object_get(o, "timezone")));
    r.min_overlap_hours = (int)json_integer_value(json_object_get(o, "min_overlap_hours"));
    r.start_date = requests_parse_date(json_string_value(json_object_get(o, "start_date")));
    json_t *budget = json_object_get(o, "budget");
    int64_t amount = json_integer_value(json_object_get(budget, "amount"));
    snprintf(r.currency, sizeof r.currency, "%s", json_string_value(json_object_get(budget, "currency")));
    const char *eng = json_string_value(json_object_get(o, "engagement"));
    if (eng && strcmp(eng, "fixed") == 0) {
        /* a total budget: the hourly ceiling is what it pays over the estimate */
        int64_t hours = (int64_t)r.hours_per_week * json_integer_value(json_object_get(o, "estimated_weeks"));
        r.max_rate_amount = hours > 0 ? amount / hours : amount;
    } else {
        r.max_rate_amount = amount;
    }
    r.relax = relax;
    int skip = existing ? existing->ncand : 0;
    r.k = k + skip > MATCH_K_MAX ? MATCH_K_MAX : k + skip;
    json_decref(o);
    static match_result res[MATCH_K_MAX];
    int n = match_query(IX, &r, res, r.k);
    if (n < 0) return -1;
    int got = 0;
    for (int a = 0; a < n && got < k; a++) {
        int taken = 0;
        for (int e = 0; e < skip; e++) taken |= strcmp(existing->cand[e].engineer_id, res[a].id) == 0;
        if (taken) continue;
        store_candidate *c = &out[got++];
        memset(c, 0, sizeof *c);
        snprintf(c->engineer_id, sizeof c->engineer_id, "%s", res[a].id);
        c->score = res[a].score;
        c->rank = first_rank + got - 1;
        json_t *x = match_explain_json(&res[a]);
        char *xs = x ? json_dumps(x, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(x);
        snprintf(c->explain, sizeof c->explain, "%s", xs ? xs : "{}");
        free(xs);
    }
    return got;
}

void requests_prepare_invites(const char *request_id, store_candidate *k, int n, int64_t now)
{
    for (int i = 0; i < n; i++) {
        id_new("cnd", k[i].id);
        snprintf(k[i].request_id, sizeof k[i].request_id, "%s", request_id);
        snprintf(k[i].status, sizeof k[i].status, "invited");
        k[i].invited_at = now;
        k[i].expires_at = now + REQUEST_INVITE_TTL_S;
    }
}
