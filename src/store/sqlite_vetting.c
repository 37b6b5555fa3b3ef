/* sqlite_vetting: the SQLite side of vetting: profiles and skills,
 * assessment attempts, the interview queue, scorecards and the audit trail
 * of every transition. Each write checks the lifecycle
 * (domain/vetting.c) inside its transaction and writes its audit rows in
 * that same transaction, so a state and its history never disagree. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../domain/vetting.h"
#include "sqlite_internal.h"

/* ---- shared steps ---------------------------------------------------------- */

static int step_done(sq_conn *c, sqlite3_stmt *st)
{
    return sq_rc(c, sqlite3_step(st));
}

/* the profile's status, or "registered" when there is no profile row */
static int read_status(sq_conn *c, const char *user_id, char status[24], int64_t *reapply_after)
{
    static const char sql[] =
        "SELECT status, coalesce(reapply_after, 0) FROM engineer_profiles WHERE user_id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        snprintf(status, 24, "registered");
        if (reapply_after) *reapply_after = 0;
        return STORE_NOTFOUND;
    }
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    sqlite_copy_col(status, 24, st, 0);
    if (reapply_after) *reapply_after = sqlite3_column_int64(st, 1);
    return STORE_OK;
}

/* One lifecycle step with its audit row; CONFLICT when the table or the
 * current state says no. */
static int move(sq_conn *c, const char *user_id, const char *from, const char *to,
                const char *actor, int64_t now)
{
    if (!vetting_can_move(from, to)) return STORE_CONFLICT;
    static const char sql[] = "UPDATE engineer_profiles SET status = ?, status_at = ?"
                              " WHERE user_id = ? AND status = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, from, -1, SQLITE_STATIC);
    int rc = step_done(c, st);
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    return sqlite_audit(c, now, actor, "vetting.transition", "engineer", user_id, detail);
}

static int load_skills(sq_conn *c, const char *user_id, store_skill *out, int *n)
{
    static const char sql[] = "SELECT skill_id, self_level, coalesce(vetted_level, 0)"
                              " FROM engineer_skills WHERE user_id = ? ORDER BY skill_id";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < STORE_MAX_SKILLS) {
        store_skill *k = &out[(*n)++];
        sqlite_copy_col(k->id, sizeof k->id, st, 0);
        k->self_level = sqlite3_column_int(st, 1);
        k->vetted_level = sqlite3_column_int(st, 2);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

static int load_engineer(sq_conn *c, const char *user_id, store_engineer *e)
{
    static const char sql[] =
        "SELECT u.id, u.name, u.email, u.role, p.user_id IS NOT NULL, coalesce(p.headline, ''),"
        " coalesce(p.bio, ''), coalesce(p.rate_amount, 0), coalesce(p.rate_currency, ''),"
        " coalesce(p.timezone, ''), coalesce(p.hours_per_week, 0),"
        " coalesce(p.years_experience, 0), coalesce(p.links, '[]'), coalesce(p.available, 1),"
        " coalesce(p.status, 'registered'), coalesce(p.level, ''),"
        " coalesce(p.reapply_after, 0), coalesce(p.status_at, u.created_at),"
        " (SELECT round(avg(r.rating) * 100) FROM reviews r WHERE r.subject_id = u.id"
        "   AND r.published_at IS NOT NULL)"
        " FROM users u LEFT JOIN engineer_profiles p ON p.user_id = u.id WHERE u.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    const unsigned char *role = sqlite3_column_text(st, 3);
    if (!role || strcmp((const char *)role, "engineer") != 0) return STORE_NOTFOUND;
    memset(e, 0, sizeof *e);
    sqlite_copy_col(e->user_id, sizeof e->user_id, st, 0);
    sqlite_copy_col(e->name, sizeof e->name, st, 1);
    sqlite_copy_col(e->email, sizeof e->email, st, 2);
    e->has_profile = sqlite3_column_int(st, 4);
    sqlite_copy_col(e->headline, sizeof e->headline, st, 5);
    sqlite_copy_col(e->bio, sizeof e->bio, st, 6);
    e->rate_amount = sqlite3_column_int64(st, 7);
    sqlite_copy_col(e->currency, sizeof e->currency, st, 8);
    sqlite_copy_col(e->timezone, sizeof e->timezone, st, 9);
    e->hours_per_week = sqlite3_column_int(st, 10);
    e->years_experience = sqlite3_column_int(st, 11);
    const char *links = (const char *)sqlite3_column_text(st, 12);
    e->available = sqlite3_column_int(st, 13);
    sqlite_copy_col(e->status, sizeof e->status, st, 14);
    sqlite_copy_col(e->level, sizeof e->level, st, 15);
    e->reapply_after = sqlite3_column_int64(st, 16);
    e->status_at = sqlite3_column_int64(st, 17);
    e->rating_x100 = sqlite3_column_type(st, 18) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 18);
    json_t *arr = links ? json_loads(links, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (e->nlinks >= STORE_MAX_LINKS || !json_is_string(v)) break;
        snprintf(e->links[e->nlinks++], sizeof e->links[0], "%s", json_string_value(v));
    }
    json_decref(arr);
    return load_skills(c, user_id, e->skills, &e->nskills);
}

/* ---- engineer_get ------------------------------------------------------------- */

static int run_engineer_get(sq_conn *c, sq_job *j)
{
    return load_engineer(c, j->s1, j->out);
}

int sqv_engineer_get(store *s, const char *user_id, store_engineer *out, uint64_t d,
                     store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_engineer_get, 0, d, cb, ctx, NULL, out, user_id, NULL, 0);
}

/* ---- profile_put -------------------------------------------------------------- */

static int run_profile_put(sq_conn *c, sq_job *j)
{
    const store_engineer *in = j->in;
    int64_t now = j->n1;
    char status[24];
    int rc = read_status(c, in->user_id, status, NULL);
    if (rc < 0 && rc != STORE_NOTFOUND) return rc;
    int fresh = rc == STORE_NOTFOUND;
    json_t *arr = json_array();
    for (int i = 0; i < in->nlinks; i++) json_array_append_new(arr, json_string(in->links[i]));
    char *links = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!links) return STORE_IO;
    static const char ins[] =
        "INSERT INTO engineer_profiles(user_id, headline, bio, rate_amount, rate_currency, timezone,"
        " hours_per_week, years_experience, links, available, status, status_at, updated_at)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,'registered',?11,?11)"
        " ON CONFLICT(user_id) DO UPDATE SET headline=?2, bio=?3, rate_amount=?4,"
        " rate_currency=?5, timezone=?6, hours_per_week=?7, years_experience=?8, links=?9,"
        " available=?10, updated_at=?11";
    sqlite3_stmt *st = sq_prep(c, ins);
    if (!st) {
        free(links);
        return STORE_IO;
    }
    sqlite3_bind_text(st, 1, in->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->headline, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->bio, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, in->rate_amount);
    sqlite3_bind_text(st, 5, in->currency, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, in->timezone, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, in->hours_per_week);
    sqlite3_bind_int(st, 8, in->years_experience);
    sqlite3_bind_text(st, 9, links, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 10, in->available);
    sqlite3_bind_int64(st, 11, now);
    rc = step_done(c, st);
    free(links);
    if (rc < 0) return rc;
    /* self-rated skills are replaced; a vetter's confirmed ones stay */
    static const char del[] = "DELETE FROM engineer_skills WHERE user_id = ? AND vetted_level IS NULL";
    st = sq_prep(c, del);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, in->user_id, -1, SQLITE_STATIC);
    if ((rc = step_done(c, st)) < 0) return rc;
    static const char up[] = "INSERT INTO engineer_skills(user_id, skill_id, self_level) VALUES (?,?,?)"
                             " ON CONFLICT(user_id, skill_id) DO UPDATE SET self_level = excluded.self_level";
    for (int i = 0; i < in->nskills; i++) {
        st = sq_prep(c, up);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, in->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, in->skills[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, in->skills[i].self_level);
        if ((rc = step_done(c, st)) < 0) return rc;
    }
    if (fresh && (rc = move(c, in->user_id, "registered", "profile_complete", in->user_id, now)) < 0)
        return rc;
    return load_engineer(c, in->user_id, j->out);
}

int sqv_profile_put(store *s, const store_engineer *in, int64_t now, store_engineer *out,
                    uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_profile_put, 1, d, cb, ctx, in, out, NULL, NULL, now);
}

/* ---- assessment attempts -------------------------------------------------------- */

static int refuse(store_vet_result *res, int reason)
{
    res->reason = reason;
    return STORE_CONFLICT;
}

static int run_attempt_start(sq_conn *c, sq_job *j)
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
        if ((rc = move(c, a->user_id, "rejected", "profile_complete", a->user_id, now)) < 0) return rc;
        snprintf(res->status, sizeof res->status, "profile_complete");
    }
    if (strcmp(res->status, "profile_complete") != 0) return refuse(res, VET_WRONG_STATE);

    static const char open_sql[] = "SELECT id FROM assessment_attempts WHERE user_id = ?"
                                   " AND submitted_at IS NULL AND expires_at > ?"
                                   " ORDER BY started_at DESC LIMIT 1";
    sqlite3_stmt *st = sq_prep(c, open_sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite_copy_col(res->open_attempt_id, sizeof res->open_attempt_id, st, 0);
        return refuse(res, VET_ATTEMPT_OPEN);
    }
    if (rc != SQLITE_DONE) return sq_rc(c, rc);

    static const char count_sql[] = "SELECT count(*), coalesce(min(started_at), 0)"
                                    " FROM assessment_attempts WHERE user_id = ? AND started_at > ?";
    st = sq_prep(c, count_sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - VETTING_ATTEMPT_WINDOW);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) return sq_rc(c, rc);
    int used = sqlite3_column_int(st, 0);
    int64_t oldest = sqlite3_column_int64(st, 1);
    if (used >= VETTING_MAX_ATTEMPTS) {
        res->next_attempt_at = oldest + VETTING_ATTEMPT_WINDOW;
        return refuse(res, VET_ATTEMPT_LIMIT);
    }
    static const char ins[] = "INSERT INTO assessment_attempts(id, user_id, questions, started_at,"
                              " expires_at) VALUES (?,?,?,?,?)";
    st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->questions, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->started_at);
    sqlite3_bind_int64(st, 5, a->expires_at);
    if ((rc = step_done(c, st)) < 0) return rc;
    res->attempts_left = VETTING_MAX_ATTEMPTS - used - 1;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"attempt\":\"%s\"}", a->id);
    return sqlite_audit(c, now, a->user_id, "assessment.started", "engineer", a->user_id, detail);
}

int sqv_attempt_start(store *s, const store_attempt *a, store_vet_result *res, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_attempt_start, 1, d, cb, ctx, a, res, NULL, NULL, 0);
}

static int run_attempt_get(sq_conn *c, sq_job *j)
{
    static const char sql[] =
        "SELECT id, user_id, questions, started_at, expires_at, coalesce(submitted_at, 0),"
        " coalesce(answers, ''), coalesce(score, 0), coalesce(passed, 0)"
        " FROM assessment_attempts WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    store_attempt *a = j->out;
    sqlite_copy_col(a->id, sizeof a->id, st, 0);
    sqlite_copy_col(a->user_id, sizeof a->user_id, st, 1);
    sqlite_copy_col(a->questions, sizeof a->questions, st, 2);
    a->started_at = sqlite3_column_int64(st, 3);
    a->expires_at = sqlite3_column_int64(st, 4);
    a->submitted_at = sqlite3_column_int64(st, 5);
    sqlite_copy_col(a->answers, sizeof a->answers, st, 6);
    a->score = sqlite3_column_int(st, 7);
    a->passed = sqlite3_column_int(st, 8);
    return STORE_OK;
}

int sqv_attempt_get(store *s, const char *id, store_attempt *out, uint64_t d, store_done_cb cb,
                    void *ctx)
{
    return sqlite_submit(s, run_attempt_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_attempt_finish(sq_conn *c, sq_job *j)
{
    const store_attempt *a = j->in;
    store_vet_result *res = j->out;
    int64_t now = j->n1;
    memset(res, 0, sizeof *res);
    /* the WHERE clause is the guard: late and second submissions change nothing */
    static const char sql[] = "UPDATE assessment_attempts SET submitted_at = ?, answers = ?,"
                              " score = ?, passed = ? WHERE id = ? AND user_id = ?"
                              " AND submitted_at IS NULL AND expires_at > ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, a->answers, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, a->score);
    sqlite3_bind_int(st, 4, a->passed);
    sqlite3_bind_text(st, 5, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now);
    int rc = step_done(c, st);
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return refuse(res, VET_ATTEMPT_CLOSED);
    char detail[96];
    snprintf(detail, sizeof detail, "{\"attempt\":\"%s\",\"score\":%d,\"passed\":%s}", a->id,
             a->score, a->passed ? "true" : "false");
    if ((rc = sqlite_audit(c, now, a->user_id, "assessment.submitted", "engineer", a->user_id,
                           detail)) < 0)
        return rc;
    rc = read_status(c, a->user_id, res->status, NULL);
    if (rc < 0) return rc;
    if (a->passed && strcmp(res->status, "profile_complete") == 0) {
        if ((rc = move(c, a->user_id, "profile_complete", "assessment_passed", a->user_id, now)) < 0)
            return rc;
        snprintf(res->status, sizeof res->status, "assessment_passed");
    }
    return STORE_OK;
}

int sqv_attempt_finish(store *s, const store_attempt *a, int64_t now, store_vet_result *res,
                       uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_attempt_finish, 1, d, cb, ctx, a, res, NULL, NULL, now);
}

/* ---- the interview queue ------------------------------------------------------------ */

static int run_queue(sq_conn *c, sq_job *j)
{
    store_queue *q = j->out;
    static const char sql[] =
        "SELECT u.id, u.name, u.email, p.headline, p.timezone, p.hours_per_week,"
        " p.years_experience, p.rate_amount, p.rate_currency, p.status_at,"
        " (SELECT coalesce(max(score), 0) FROM assessment_attempts a"
        "   WHERE a.user_id = u.id AND a.passed = 1)"
        " FROM engineer_profiles p JOIN users u ON u.id = p.user_id"
        " WHERE p.status = 'assessment_passed' ORDER BY p.status_at, u.id LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int(st, 1, STORE_QUEUE_MAX);
    int rc;
    q->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && q->n < STORE_QUEUE_MAX) {
        store_queue_item *it = &q->items[q->n++];
        memset(it, 0, sizeof *it);
        sqlite_copy_col(it->user_id, sizeof it->user_id, st, 0);
        sqlite_copy_col(it->name, sizeof it->name, st, 1);
        sqlite_copy_col(it->email, sizeof it->email, st, 2);
        sqlite_copy_col(it->headline, sizeof it->headline, st, 3);
        sqlite_copy_col(it->timezone, sizeof it->timezone, st, 4);
        it->hours_per_week = sqlite3_column_int(st, 5);
        it->years_experience = sqlite3_column_int(st, 6);
        it->rate_amount = sqlite3_column_int64(st, 7);
        sqlite_copy_col(it->currency, sizeof it->currency, st, 8);
        it->waiting_since = sqlite3_column_int64(st, 9);
        it->score = sqlite3_column_int(st, 10);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_rc(c, rc);
    sqlite3_reset(st);
    for (int i = 0; i < q->n; i++)
        if ((rc = load_skills(c, q->items[i].user_id, q->items[i].skills, &q->items[i].nskills)) < 0)
            return rc;
    return STORE_OK;
}

int sqv_vetting_queue(store *s, store_queue *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_queue, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

/* ---- scorecards ------------------------------------------------------------------ */

static int run_scorecard(sq_conn *c, sq_job *j)
{
    const store_scorecard *sc = j->in;
    store_vet_result *res = j->out;
    int64_t now = sc->created_at;
    memset(res, 0, sizeof *res);
    int rc = read_status(c, sc->engineer_id, res->status, NULL);
    if (rc < 0 && rc != STORE_NOTFOUND) return rc;
    if (strcmp(res->status, "assessment_passed") != 0) return refuse(res, VET_WRONG_STATE);
    static const char ins[] =
        "INSERT INTO scorecards(id, engineer_id, vetter_id, concepts, must_have, testing,"
        " production, senior, decision, level, notes, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, sc->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sc->engineer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, sc->vetter_id, -1, SQLITE_STATIC);
    for (int i = 0; i < 5; i++) sqlite3_bind_int(st, 4 + i, sc->scores[i]);
    sqlite3_bind_text(st, 9, sc->decision, -1, SQLITE_STATIC);
    if (sc->level[0]) sqlite3_bind_text(st, 10, sc->level, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 10);
    sqlite3_bind_text(st, 11, sc->notes, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, now);
    if ((rc = step_done(c, st)) < 0) return rc;
    static const char conf[] = "UPDATE engineer_skills SET vetted_level = ?"
                               " WHERE user_id = ? AND skill_id = ?";
    for (int i = 0; i < sc->nconfirm; i++) {
        st = sq_prep(c, conf);
        if (!st) return STORE_IO;
        sqlite3_bind_int(st, 1, sc->confirm[i].vetted_level);
        sqlite3_bind_text(st, 2, sc->engineer_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, sc->confirm[i].id, -1, SQLITE_STATIC);
        if ((rc = step_done(c, st)) < 0) return rc;
    }
    if ((rc = move(c, sc->engineer_id, "assessment_passed", "interviewed", sc->vetter_id, now)) < 0 ||
        (rc = move(c, sc->engineer_id, "interviewed", sc->decision, sc->vetter_id, now)) < 0)
        return rc;
    static const char upd[] = "UPDATE engineer_profiles SET level = ?, reapply_after = ?"
                              " WHERE user_id = ?";
    st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    if (sc->level[0]) sqlite3_bind_text(st, 1, sc->level, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 1);
    if (sc->reapply_after) sqlite3_bind_int64(st, 2, sc->reapply_after);
    else sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, sc->engineer_id, -1, SQLITE_STATIC);
    if ((rc = step_done(c, st)) < 0) return rc;
    snprintf(res->status, sizeof res->status, "%s", sc->decision);
    return STORE_OK;
}

int sqv_scorecard_create(store *s, const store_scorecard *sc, store_vet_result *res, uint64_t d,
                         store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_scorecard, 1, d, cb, ctx, sc, res, NULL, NULL, 0);
}

/* ---- audit ------------------------------------------------------------------------- */

static int run_audit_list(sq_conn *c, sq_job *j)
{
    store_audit *a = j->out;
    static const char sql[] = "SELECT at, coalesce(actor_id, ''), action, coalesce(detail, '')"
                              " FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->s2, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, STORE_AUDIT_MAX);
    int rc;
    a->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && a->n < STORE_AUDIT_MAX) {
        a->items[a->n].at = sqlite3_column_int64(st, 0);
        sqlite_copy_col(a->items[a->n].actor_id, sizeof a->items[0].actor_id, st, 1);
        sqlite_copy_col(a->items[a->n].action, sizeof a->items[0].action, st, 2);
        sqlite_copy_col(a->items[a->n].detail, sizeof a->items[0].detail, st, 3);
        a->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqv_audit_list(store *s, const char *entity, const char *entity_id, store_audit *out,
                   uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_audit_list, 0, d, cb, ctx, NULL, out, entity, entity_id, 0);
}
