/* tx_vetting: the store side of vetting: profiles and skills,
 * assessment attempts, the interview queue, scorecards and the audit trail
 * of every transition. Each write checks the lifecycle
 * (rules/vetting.c) inside its transaction and writes its audit rows in
 * that same transaction, so a state and its history never disagree. */
#include "../rules/vetting.h"
#include "tx_internal.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared steps ---------------------------------------------------------- */

static int step_done(db_conn *c, db_stmt *st)
{
    return db_rc(db_step(st));
}

/* the profile's status, or "registered" when there is no profile row */
static int read_status(db_conn *c, const char *user_id, char status[24], int64_t *reapply_after)
{
    db_stmt *st = db_prep(c, ST_VETTING_READ_STATUS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, user_id);
    int rc = db_step(st);
    if (rc == DB_DONE) {
        snprintf(status, 24, "registered");
        if (reapply_after) *reapply_after = 0;
        return STORE_NOTFOUND;
    }
    if (rc != DB_ROW) return db_rc(rc);
    db_copy_col(status, 24, st, 0);
    if (reapply_after) *reapply_after = db_col_int(st, 1);
    return STORE_OK;
}

/* One lifecycle step with its audit row; CONFLICT when the table or the
 * current state says no. */
static int move(db_conn *c, const char *user_id, const char *from, const char *to,
                const char *actor, int64_t now)
{
    if (!vetting_can_move(from, to)) return STORE_CONFLICT;
    db_stmt *st = db_prep(c, ST_VETTING_MOVE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, to);
    db_bind_int(st, 2, now);
    db_bind_text(st, 3, user_id);
    db_bind_text(st, 4, from);
    int rc = step_done(c, st);
    if (rc < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    return tx_audit(c, now, actor, "vetting.transition", "engineer", user_id, detail);
}

static int load_skills(db_conn *c, const char *user_id, store_skill *out, int *n)
{
    db_stmt *st = db_prep(c, ST_LOAD_SKILLS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, user_id);
    int rc;
    *n = 0;
    while ((rc = db_step(st)) == DB_ROW && *n < STORE_MAX_SKILLS) {
        store_skill *k = &out[(*n)++];
        db_copy_col(k->id, sizeof k->id, st, 0);
        k->self_level = db_col_int(st, 1);
        k->vetted_level = db_col_int(st, 2);
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

static int load_engineer(db_conn *c, const char *user_id, store_engineer *e)
{
    db_stmt *st = db_prep(c, ST_LOAD_ENGINEER);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, user_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    const char *role = db_col_text(st, 3);
    if (!role || strcmp(role, "engineer") != 0) return STORE_NOTFOUND;
    memset(e, 0, sizeof *e);
    db_copy_col(e->user_id, sizeof e->user_id, st, 0);
    db_copy_col(e->name, sizeof e->name, st, 1);
    db_copy_col(e->email, sizeof e->email, st, 2);
    e->has_profile = db_col_int(st, 4);
    db_copy_col(e->headline, sizeof e->headline, st, 5);
    db_copy_col(e->bio, sizeof e->bio, st, 6);
    e->rate_amount = db_col_int(st, 7);
    db_copy_col(e->currency, sizeof e->currency, st, 8);
    db_copy_col(e->timezone, sizeof e->timezone, st, 9);
    e->hours_per_week = db_col_int(st, 10);
    e->years_experience = db_col_int(st, 11);
    const char *links = db_col_text(st, 12);
    e->available = db_col_int(st, 13);
    db_copy_col(e->status, sizeof e->status, st, 14);
    db_copy_col(e->level, sizeof e->level, st, 15);
    e->reapply_after = db_col_int(st, 16);
    e->status_at = db_col_int(st, 17);
    e->rating_x100 = db_col_null(st, 18) ? 0 : db_col_int(st, 18);
    e->suspended = db_col_int(st, 19) != 0;
    json_t *arr = links ? json_loads(links, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (e->nlinks >= STORE_MAX_LINKS || !json_is_string(v)) break;
        snprintf(e->links[e->nlinks++], sizeof e->links[0], "%s", json_string_value(v));
    }
    json_decref(arr);
    return load_skills(c, user_id, e->skills, &e->nskills);
}

/* ---- engineer_get ------------------------------------------------------------- */

static int run_engineer_get(db_conn *c, db_job *j)
{
    return load_engineer(c, j->s1, j->out);
}

int tx_engineer_get(store *s, const char *user_id, store_engineer *out, uint64_t d,
                    store_done_cb cb, void *ctx)
{
    return store_submit(s, run_engineer_get, 0, d, cb, ctx, NULL, out, user_id, NULL, 0);
}

/* ---- profile_put -------------------------------------------------------------- */

static int run_profile_put(db_conn *c, db_job *j)
{
    const store_engineer *in = j->in;
    int64_t now = j->n1;
    char status[24];
    int rc = read_status(c, in->user_id, status, NULL);
    if (rc < 0 && rc != STORE_NOTFOUND) return rc;
    int fresh = rc == STORE_NOTFOUND;
    json_t *arr = json_array();
    for (int i = 0; i < in->nlinks; i++)
        json_array_append_new(arr, json_string(in->links[i]));
    char *links = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!links) return STORE_IO;
    db_stmt *st = db_prep(c, ST_PROFILE_PUT_INS);
    if (!st) {
        free(links);
        return STORE_IO;
    }
    db_bind_text(st, 1, in->user_id);
    db_bind_text(st, 2, in->headline);
    db_bind_text(st, 3, in->bio);
    db_bind_int(st, 4, in->rate_amount);
    db_bind_text(st, 5, in->currency);
    db_bind_text(st, 6, in->timezone);
    db_bind_int(st, 7, in->hours_per_week);
    db_bind_int(st, 8, in->years_experience);
    db_bind_text_copy(st, 9, links);
    db_bind_int(st, 10, in->available);
    db_bind_int(st, 11, now);
    rc = step_done(c, st);
    free(links);
    if (rc < 0) return rc;
    /* self-rated skills are replaced; a vetter's confirmed ones stay */
    st = db_prep(c, ST_PROFILE_PUT_DEL);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, in->user_id);
    if ((rc = step_done(c, st)) < 0) return rc;
    for (int i = 0; i < in->nskills; i++) {
        st = db_prep(c, ST_PROFILE_PUT_UP);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, in->user_id);
        db_bind_text(st, 2, in->skills[i].id);
        db_bind_int(st, 3, in->skills[i].self_level);
        if ((rc = step_done(c, st)) < 0) return rc;
    }
    if (fresh &&
        (rc = move(c, in->user_id, "registered", "profile_complete", in->user_id, now)) < 0)
        return rc;
    db_notice(c, "engineer", in->user_id); /* other nodes' matching index */
    return load_engineer(c, in->user_id, j->out);
}

int tx_profile_put(store *s, const store_engineer *in, int64_t now, store_engineer *out, uint64_t d,
                   store_done_cb cb, void *ctx)
{
    return store_submit(s, run_profile_put, 1, d, cb, ctx, in, out, NULL, NULL, now);
}

/* ---- assessment attempts -------------------------------------------------------- */

static int refuse(store_vet_result *res, int reason)
{
    res->reason = reason;
    return STORE_CONFLICT;
}

static int run_attempt_start(db_conn *c, db_job *j)
{
    const store_attempt *a = j->in;
    store_vet_result *res = j->out;
    int64_t now = a->started_at, reapply = 0;
    memset(res, 0, sizeof *res);
    int rc = read_status(c, a->user_id, res->status, &reapply);
    if (rc == STORE_NOTFOUND) return refuse(res, VET_PROFILE_INCOMPLETE);
    if (rc < 0) return rc;
    if (strcmp(res->status, "rejected") == 0) {
        if (now < reapply) {
            res->next_attempt_at = reapply;
            return refuse(res, VET_WRONG_STATE);
        }
        if ((rc = move(c, a->user_id, "rejected", "profile_complete", a->user_id, now)) < 0)
            return rc;
        snprintf(res->status, sizeof res->status, "profile_complete");
    }
    if (strcmp(res->status, "profile_complete") != 0) return refuse(res, VET_WRONG_STATE);

    db_stmt *st = db_prep(c, ST_ATTEMPT_START_OPEN);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->user_id);
    db_bind_int(st, 2, now);
    rc = db_step(st);
    if (rc == DB_ROW) {
        db_copy_col(res->open_attempt_id, sizeof res->open_attempt_id, st, 0);
        return refuse(res, VET_ATTEMPT_OPEN);
    }
    if (rc != DB_DONE) return db_rc(rc);

    st = db_prep(c, ST_ATTEMPT_START_COUNT);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->user_id);
    db_bind_int(st, 2, now - VETTING_ATTEMPT_WINDOW);
    if ((rc = db_step(st)) != DB_ROW) return db_rc(rc);
    int used = db_col_int(st, 0);
    int64_t oldest = db_col_int(st, 1);
    if (used >= VETTING_MAX_ATTEMPTS) {
        res->next_attempt_at = oldest + VETTING_ATTEMPT_WINDOW;
        return refuse(res, VET_ATTEMPT_LIMIT);
    }
    st = db_prep(c, ST_ATTEMPT_START_INS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->id);
    db_bind_text(st, 2, a->user_id);
    db_bind_text(st, 3, a->questions);
    db_bind_int(st, 4, a->started_at);
    db_bind_int(st, 5, a->expires_at);
    if ((rc = step_done(c, st)) < 0) return rc;
    res->attempts_left = VETTING_MAX_ATTEMPTS - used - 1;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"attempt\":\"%s\"}", a->id);
    return tx_audit(c, now, a->user_id, "assessment.started", "engineer", a->user_id, detail);
}

int tx_attempt_start(store *s, const store_attempt *a, store_vet_result *res, uint64_t d,
                     store_done_cb cb, void *ctx)
{
    return store_submit(s, run_attempt_start, 1, d, cb, ctx, a, res, NULL, NULL, 0);
}

static int run_attempt_get(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_ATTEMPT_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    store_attempt *a = j->out;
    db_copy_col(a->id, sizeof a->id, st, 0);
    db_copy_col(a->user_id, sizeof a->user_id, st, 1);
    db_copy_col(a->questions, sizeof a->questions, st, 2);
    a->started_at = db_col_int(st, 3);
    a->expires_at = db_col_int(st, 4);
    a->submitted_at = db_col_int(st, 5);
    db_copy_col(a->answers, sizeof a->answers, st, 6);
    a->score = db_col_int(st, 7);
    a->passed = db_col_int(st, 8);
    return STORE_OK;
}

int tx_attempt_get(store *s, const char *id, store_attempt *out, uint64_t d, store_done_cb cb,
                   void *ctx)
{
    return store_submit(s, run_attempt_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_attempt_finish(db_conn *c, db_job *j)
{
    const store_attempt *a = j->in;
    store_vet_result *res = j->out;
    int64_t now = j->n1;
    memset(res, 0, sizeof *res);
    /* the WHERE clause is the guard: late and second submissions change nothing */
    db_stmt *st = db_prep(c, ST_ATTEMPT_FINISH);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, now);
    db_bind_text(st, 2, a->answers);
    db_bind_int(st, 3, a->score);
    db_bind_int(st, 4, a->passed);
    db_bind_text(st, 5, a->id);
    db_bind_text(st, 6, a->user_id);
    db_bind_int(st, 7, now);
    int rc = step_done(c, st);
    if (rc < 0) return rc;
    if (db_changes(c) != 1) return refuse(res, VET_ATTEMPT_CLOSED);
    char detail[96];
    snprintf(detail, sizeof detail, "{\"attempt\":\"%s\",\"score\":%d,\"passed\":%s}", a->id,
             a->score, a->passed ? "true" : "false");
    if ((rc = tx_audit(c, now, a->user_id, "assessment.submitted", "engineer", a->user_id,
                       detail)) < 0)
        return rc;
    rc = read_status(c, a->user_id, res->status, NULL);
    if (rc < 0) return rc;
    if (a->passed && strcmp(res->status, "profile_complete") == 0) {
        if ((rc = move(c, a->user_id, "profile_complete", "assessment_passed", a->user_id, now)) <
            0)
            return rc;
        snprintf(res->status, sizeof res->status, "assessment_passed");
    }
    return STORE_OK;
}

int tx_attempt_finish(store *s, const store_attempt *a, int64_t now, store_vet_result *res,
                      uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_attempt_finish, 1, d, cb, ctx, a, res, NULL, NULL, now);
}

/* ---- the interview queue ------------------------------------------------------------ */

static int run_queue(db_conn *c, db_job *j)
{
    store_queue *q = j->out;
    db_stmt *st = db_prep(c, ST_VETTING_QUEUE);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, STORE_QUEUE_MAX);
    int rc;
    q->n = 0;
    while ((rc = db_step(st)) == DB_ROW && q->n < STORE_QUEUE_MAX) {
        store_queue_item *it = &q->items[q->n++];
        memset(it, 0, sizeof *it);
        db_copy_col(it->user_id, sizeof it->user_id, st, 0);
        db_copy_col(it->name, sizeof it->name, st, 1);
        db_copy_col(it->email, sizeof it->email, st, 2);
        db_copy_col(it->headline, sizeof it->headline, st, 3);
        db_copy_col(it->timezone, sizeof it->timezone, st, 4);
        it->hours_per_week = db_col_int(st, 5);
        it->years_experience = db_col_int(st, 6);
        it->rate_amount = db_col_int(st, 7);
        db_copy_col(it->currency, sizeof it->currency, st, 8);
        it->waiting_since = db_col_int(st, 9);
        it->score = db_col_int(st, 10);
        db_copy_col(it->challenge_id, sizeof it->challenge_id, st, 11);
        db_copy_col(it->challenge_status, sizeof it->challenge_status, st, 12);
        it->challenge_score = db_col_int(st, 13);
        it->challenge_passed = db_col_int(st, 14);
    }
    if (rc != DB_ROW && rc != DB_DONE) return db_rc(rc);
    db_reset(st);
    for (int i = 0; i < q->n; i++)
        if ((rc = load_skills(c, q->items[i].user_id, q->items[i].skills, &q->items[i].nskills)) <
            0)
            return rc;
    return STORE_OK;
}

int tx_vetting_queue(store *s, store_queue *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_queue, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

/* ---- scorecards ------------------------------------------------------------------ */

static int run_scorecard(db_conn *c, db_job *j)
{
    const store_scorecard *sc = j->in;
    store_vet_result *res = j->out;
    int64_t now = sc->created_at;
    memset(res, 0, sizeof *res);
    int rc = read_status(c, sc->engineer_id, res->status, NULL);
    if (rc < 0 && rc != STORE_NOTFOUND) return rc;
    if (strcmp(res->status, "assessment_passed") != 0) return refuse(res, VET_WRONG_STATE);
    db_stmt *st = db_prep(c, ST_SCORECARD_INS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, sc->id);
    db_bind_text(st, 2, sc->engineer_id);
    db_bind_text(st, 3, sc->vetter_id);
    for (int i = 0; i < 5; i++)
        db_bind_int(st, 4 + i, sc->scores[i]);
    db_bind_text(st, 9, sc->decision);
    if (sc->level[0])
        db_bind_text(st, 10, sc->level);
    else
        db_bind_null(st, 10);
    db_bind_text(st, 11, sc->notes);
    db_bind_int(st, 12, now);
    if ((rc = step_done(c, st)) < 0) return rc;
    for (int i = 0; i < sc->nconfirm; i++) {
        st = db_prep(c, ST_SCORECARD_CONF);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, sc->confirm[i].vetted_level);
        db_bind_text(st, 2, sc->engineer_id);
        db_bind_text(st, 3, sc->confirm[i].id);
        if ((rc = step_done(c, st)) < 0) return rc;
    }
    if ((rc = move(c, sc->engineer_id, "assessment_passed", "interviewed", sc->vetter_id, now)) <
            0 ||
        (rc = move(c, sc->engineer_id, "interviewed", sc->decision, sc->vetter_id, now)) < 0)
        return rc;
    st = db_prep(c, ST_SCORECARD_UPD);
    if (!st) return STORE_IO;
    if (sc->level[0])
        db_bind_text(st, 1, sc->level);
    else
        db_bind_null(st, 1);
    if (sc->reapply_after)
        db_bind_int(st, 2, sc->reapply_after);
    else
        db_bind_null(st, 2);
    db_bind_text(st, 3, sc->engineer_id);
    if ((rc = step_done(c, st)) < 0) return rc;
    snprintf(res->status, sizeof res->status, "%s", sc->decision);
    db_notice(c, "engineer", sc->engineer_id);
    return STORE_OK;
}

int tx_scorecard_create(store *s, const store_scorecard *sc, store_vet_result *res, uint64_t d,
                        store_done_cb cb, void *ctx)
{
    return store_submit(s, run_scorecard, 1, d, cb, ctx, sc, res, NULL, NULL, 0);
}

/* ---- audit ------------------------------------------------------------------------- */

static int run_audit_list(db_conn *c, db_job *j)
{
    store_audit *a = j->out;
    db_stmt *st = db_prep(c, ST_AUDIT_LIST);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_text(st, 2, j->s2);
    db_bind_int(st, 3, STORE_AUDIT_MAX);
    int rc;
    a->n = 0;
    while ((rc = db_step(st)) == DB_ROW && a->n < STORE_AUDIT_MAX) {
        a->items[a->n].at = db_col_int(st, 0);
        db_copy_col(a->items[a->n].actor_id, sizeof a->items[0].actor_id, st, 1);
        db_copy_col(a->items[a->n].action, sizeof a->items[0].action, st, 2);
        db_copy_col(a->items[a->n].detail, sizeof a->items[0].detail, st, 3);
        a->n++;
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_audit_list(store *s, const char *entity, const char *entity_id, store_audit *out, uint64_t d,
                  store_done_cb cb, void *ctx)
{
    return store_submit(s, run_audit_list, 0, d, cb, ctx, NULL, out, entity, entity_id, 0);
}
