/* seed: the demo population through the store interface (see seed.h). */
#include "seed.h"
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "../core/clock.h"
#include "../core/token.h"
#include "../store/store.h"
#include "accounts.h"
#include "../rules/assessment.h"
#include "../rules/seed_data.h"
#include "../rules/vetting.h"

#define IN_FLIGHT 48
#define SEED 20261124u

enum kind { STAFF, ENGINEER, APPLICANT };

typedef struct seeder seeder;

typedef struct {
    seeder *s;
    enum kind kind;
    int index, step, existed, failed;
    int64_t base; /* when this person's story starts */
    store_user u;
    store_engineer prof, out;
    store_attempt att;
    store_vet_result res;
    store_scorecard sc;
    seed_engineer se;
} person;

struct seeder {
    store *st;
    person **people;
    int n, next, running, done;
    int created, existed, failed;
    char hash[160];
    char vetter_id[32];
    char err[256];
};

static void advance(person *p);
static void start_next(seeder *s);

typedef struct {
    int done, rc;
} waiter;

static void on_wait(void *ctx, int rc)
{
    waiter *w = ctx;
    w->done = 1;
    w->rc = rc;
}

static void on_step(void *ctx, int rc)
{
    person *p = ctx;
    seeder *s = p->s;
    if (rc == STORE_CONFLICT && p->step == 0) {
        p->existed = 1; /* seeded before: leave this person alone */
    } else if (rc < 0) {
        p->failed = 1;
        snprintf(s->err, sizeof s->err, "%s: step %d failed: %s", p->u.email, p->step, store_strerror(rc));
    } else {
        p->step++;
        advance(p);
        return;
    }
    s->running--;
    s->done++;
    s->existed += p->existed;
    s->failed += p->failed;
    start_next(s);
}

/* One store call per step; the chain ends when there is nothing left to do. */
static void advance(person *p)
{
    seeder *s = p->s;
    uint64_t deadline = clock_mono_ns() + 60ull * 1000000000ull;
    int rc = 0;
    int last = p->kind == STAFF ? 1 : p->kind == APPLICANT ? 4 : 5;
    if (p->step >= last) {
        s->running--;
        s->done++;
        s->created++;
        start_next(s);
        return;
    }
    switch (p->step) {
    case 0: rc = store_user_create(s->st, &p->u, "seed", deadline, on_step, p); break;
    case 1: rc = STORE_CALL(s->st, profile_put, &p->prof, p->base, &p->out, deadline, on_step, p); break;
    case 2:
        p->att.started_at = p->base + 3600;
        p->att.expires_at = p->att.started_at + VETTING_ATTEMPT_SECONDS;
        rc = STORE_CALL(s->st, attempt_start, &p->att, &p->res, deadline, on_step, p);
        break;
    case 3:
        rc = STORE_CALL(s->st, attempt_finish, &p->att, p->att.started_at + 1200, &p->res, deadline,
                        on_step, p);
        break;
    case 4:
        rc = STORE_CALL(s->st, scorecard_create, &p->sc, &p->res, deadline, on_step, p);
        break;
    }
    if (rc < 0) on_step(p, rc);
}

static void start_next(seeder *s)
{
    while (s->running < IN_FLIGHT && s->next < s->n) {
        person *p = s->people[s->next++];
        s->running++;
        advance(p);
    }
}

static person *make_person(seeder *s, enum kind kind, int index, const char *email, const char *name,
                           const char *role)
{
    person *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->s = s;
    p->kind = kind;
    p->index = index;
    store_user *u = &p->u;
    id_new("usr", u->id);
    snprintf(u->email, sizeof u->email, "%s", email);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->role, sizeof u->role, "%s", role);
    memcpy(u->password_hash, s->hash, sizeof u->password_hash);
    u->created_at = clock_now_s() - 430 * 86400; /* staff were there first */
    return p;
}

/* profile, attempt and (for engineers) scorecard from the generated person */
static void fill_engineer(seeder *s, person *p, int64_t now)
{
    seed_engineer *e = &p->se;
    store_engineer *in = &p->prof;
    snprintf(in->user_id, sizeof in->user_id, "%s", p->u.id);
    snprintf(in->headline, sizeof in->headline, "%s", e->headline);
    snprintf(in->bio, sizeof in->bio, "%s", e->bio);
    in->rate_amount = e->rate_amount;
    snprintf(in->currency, sizeof in->currency, "%s", e->currency);
    snprintf(in->timezone, sizeof in->timezone, "%s", e->timezone);
    in->hours_per_week = e->hours_per_week;
    in->years_experience = e->years_experience;
    in->available = e->available;
    for (int i = 0; i < e->nlinks && i < STORE_MAX_LINKS; i++)
        snprintf(in->links[in->nlinks++], sizeof in->links[0], "%s", e->links[i]);
    for (int i = 0; i < e->nskills && i < STORE_MAX_SKILLS; i++) {
        snprintf(in->skills[in->nskills].id, sizeof in->skills[0].id, "%s", e->skills[i].id);
        in->skills[in->nskills++].self_level = e->skills[i].self_level;
    }
    id_new("att", p->att.id);
    snprintf(p->att.user_id, sizeof p->att.user_id, "%s", p->u.id);
    assessment_draw(p->att.questions, sizeof p->att.questions);
    snprintf(p->att.answers, sizeof p->att.answers, "[]");
    p->att.score = e->quiz_score;
    p->att.passed = 1;
    if (p->kind == APPLICANT) {
        /* waiting between 2 hours and 3 days, oldest first in the queue */
        p->base = now - 3600 - (int64_t)(DEMO_APPLICANTS - p->index) * 6 * 3600;
        p->u.created_at = p->base - 86400; /* signed up the day before the quiz */
        return;
    }
    p->base = now - (int64_t)(30 + (p->index * 37) % 400) * 86400;
    p->u.created_at = p->base - 86400;
    store_scorecard *sc = &p->sc;
    id_new("scd", sc->id);
    snprintf(sc->engineer_id, sizeof sc->engineer_id, "%s", p->u.id);
    snprintf(sc->vetter_id, sizeof sc->vetter_id, "%s", s->vetter_id);
    memcpy(sc->scores, e->scores, sizeof sc->scores);
    snprintf(sc->decision, sizeof sc->decision, "vetted");
    snprintf(sc->level, sizeof sc->level, "%s", e->level);
    snprintf(sc->notes, sizeof sc->notes, "%s", e->notes);
    for (int i = 0; i < e->nskills && i < STORE_MAX_SKILLS; i++) {
        snprintf(sc->confirm[sc->nconfirm].id, sizeof sc->confirm[0].id, "%s", e->skills[i].id);
        sc->confirm[sc->nconfirm++].vetted_level = e->skills[i].vetted_level;
    }
    sc->created_at = p->base + 2 * 86400;
}

static int run(seeder *s, uv_loop_t *loop)
{
    start_next(s);
    while (s->done < s->n) uv_run(loop, UV_RUN_ONCE);
    return s->failed ? -1 : 0;
}

int seed_demo(const char *db, FILE *out, char *err, size_t errlen)
{
    int rc = 1;
    seeder s;
    memset(&s, 0, sizeof s);
    if (assessment_init(err, errlen) < 0) return 1;
    if (accounts_hash_sync(DEMO_PASSWORD, s.hash) < 0) {
        snprintf(err, errlen, "hashing failed");
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    s.st = store_open(&loop, db, 1, err, errlen);
    if (!s.st) {
        uv_loop_close(&loop);
        return 1;
    }
    int64_t now = clock_now_s();
    s.people = calloc(3 + DEMO_ENGINEERS + DEMO_APPLICANTS, sizeof *s.people);
    static const struct {
        const char *email, *name, *role;
    } staff[] = {
        {"admin@demo.opx", "Ada Admin", "admin"},
        {"vetter@demo.opx", "Victor Vetter", "vetter"},
        {"client@demo.opx", "Clara Client", "client"},
    };
    /* 1: staff first, so the engineers' scorecards have a vetter */
    for (int i = 0; i < 3; i++)
        s.people[s.n++] = make_person(&s, STAFF, i, staff[i].email, staff[i].name, staff[i].role);
    if (run(&s, &loop) < 0) goto out;
    snprintf(s.vetter_id, sizeof s.vetter_id, "%s", s.people[1]->u.id);
    if (s.people[1]->existed) { /* the vetter was seeded before: find its id */
        store_user v;
        waiter w = {0, 0};
        int r = store_user_by_email(s.st, "vetter@demo.opx", &v,
                                    clock_mono_ns() + 10ull * 1000000000ull, on_wait, &w);
        if (r == 0)
            while (!w.done) uv_run(&loop, UV_RUN_ONCE);
        else
            w.rc = r;
        if (w.rc < 0) {
            snprintf(err, errlen, "cannot find vetter@demo.opx: %s", store_strerror(w.rc));
            goto out;
        }
        snprintf(s.vetter_id, sizeof s.vetter_id, "%s", v.id);
    }
    fprintf(out, "demo accounts (password %s):\n", DEMO_PASSWORD);
    for (int i = 0; i < 3; i++)
        fprintf(out, "  %-8s %-24s %s\n", staff[i].role, staff[i].email,
                s.people[i]->existed ? "(already there)" : "created");
    /* 2: the engineers and the applicants */
    int first = s.n;
    for (int i = 0; i < DEMO_ENGINEERS + DEMO_APPLICANTS; i++) {
        int applicant = i >= DEMO_ENGINEERS;
        int k = applicant ? i - DEMO_ENGINEERS : i;
        seed_engineer e;
        seed_engineer_make(SEED, i, &e);
        char email[64];
        snprintf(email, sizeof email, "%s%d@demo.opx", applicant ? "applicant" : "engineer", k + 1);
        person *p = make_person(&s, applicant ? APPLICANT : ENGINEER, k, email, e.name, "engineer");
        if (!p) goto out;
        p->se = e;
        fill_engineer(&s, p, now);
        s.people[s.n++] = p;
    }
    s.done = first;
    s.created = s.existed = 0;
    run(&s, &loop);
    fprintf(out, "  engineer engineer1@demo.opx .. engineer%d@demo.opx   vetted (mid, senior, staff)\n",
            DEMO_ENGINEERS);
    fprintf(out, "  engineer applicant1@demo.opx .. applicant%d@demo.opx  waiting in the interview queue\n",
            DEMO_APPLICANTS);
    fprintf(out, "  %d created, %d already there, %d failed\n", s.created, s.existed, s.failed);
    if (s.failed) {
        snprintf(err, errlen, "%s", s.err);
        goto out;
    }
    rc = 0;
out:
    s.st->v->close(s.st);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    for (int i = 0; i < s.n; i++) free(s.people[i]);
    free(s.people);
    assessment_free();
    return rc;
}
