/* sqlite_requests: clients' requests and their candidates on SQLite. A
 * request is created with its first invitations, their expiry jobs and the
 * two SLA jobs in one transaction, so a request never exists without the
 * jobs that guard its 8 hours. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/token.h"
#include "../domain/requests.h"
#include "sqlite_internal.h"

#define SLA_HALF_S (4 * 3600)

static int insert_candidate(sq_conn *c, const store_candidate *k)
{
    static const char sql[] =
        "INSERT INTO candidates(id, request_id, engineer_id, status, score, rank, explain,"
        " invited_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->request_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->engineer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->status, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, k->score);
    sqlite3_bind_int(st, 6, k->rank);
    sqlite3_bind_text(st, 7, k->explain, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, k->invited_at);
    sqlite3_bind_int64(st, 9, k->expires_at);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    rc = sqlite_job_schedule(c, "invite.expire", k->id, k->expires_at);
    if (rc < 0) return rc;
    static const char note[] = "INSERT INTO notifications(user_id, kind, payload, created_at)"
                               " VALUES (?, 'invitation', json_object('candidate_id', ?, 'request_id', ?), ?)";
    st = sq_prep(c, note);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, k->engineer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->request_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, k->invited_at);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    /* the live event and the email */
    static const char what[] =
        "SELECT json_object('candidate_id', k.id, 'request_id', r.id, 'request_title', r.title,"
        " 'status', k.status, 'expires_at', " SQL_RFC3339("k.expires_at") ")"
        " FROM candidates k JOIN requests r ON r.id = k.request_id WHERE k.id = ?";
    char *payload = sqlite_json_row(c, what, &rc, 1, k->id);
    if (!payload) return rc;
    rc = sqlite_event(c, k->engineer_id, "invitation.created", payload, k->invited_at);
    if (rc == STORE_OK) rc = sqlite_mail(c, k->engineer_id, "invitation", payload, k->invited_at);
    free(payload);
    return rc;
}

/* a candidate's move, live to both sides; an acceptance also mails the client */
static int announce_candidate(sq_conn *c, const char *candidate_id, int64_t now)
{
    static const char what[] =
        "SELECT json_object('candidate_id', k.id, 'request_id', r.id, 'request_title', r.title,"
        " 'status', k.status, 'engineer_id', k.engineer_id, 'engineer_name', u.name,"
        " 'client_id', r.client_id,"
        " 'conversation_id', (SELECT id FROM conversations WHERE candidate_id = k.id))"
        " FROM candidates k JOIN requests r ON r.id = k.request_id JOIN users u ON u.id = k.engineer_id"
        " WHERE k.id = ?";
    int rc;
    char *payload = sqlite_json_row(c, what, &rc, 1, candidate_id);
    if (!payload) return rc;
    json_t *p = json_loads(payload, 0, NULL);
    const char *client = json_string_value(json_object_get(p, "client_id"));
    const char *engineer = json_string_value(json_object_get(p, "engineer_id"));
    const char *status = json_string_value(json_object_get(p, "status"));
    rc = client && engineer && status ? STORE_OK : STORE_IO;
    if (rc == STORE_OK) rc = sqlite_event(c, client, "candidate.updated", payload, now);
    if (rc == STORE_OK) rc = sqlite_event(c, engineer, "invitation.updated", payload, now);
    if (rc == STORE_OK && strcmp(status, "accepted") == 0)
        rc = sqlite_mail(c, client, "candidate.accepted", payload, now);
    json_decref(p);
    free(payload);
    return rc;
}

static int run_request_create(sq_conn *c, sq_job *j)
{
    const store_request *r = j->in;
    static const char sql[] =
        "INSERT INTO requests(id, client_id, title, description, spec, status, relaxed,"
        " sla_deadline, created_at) VALUES (?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->relaxed[0] ? r->relaxed : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, r->sla_deadline);
    sqlite3_bind_int64(st, 9, r->created_at);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    for (int i = 0; i < r->ncand; i++)
        if ((rc = insert_candidate(c, &r->cand[i])) < 0) return rc;
    if ((rc = sqlite_job_schedule(c, "sla.half", r->id, r->created_at + SLA_HALF_S)) < 0) return rc;
    if ((rc = sqlite_job_schedule(c, "sla.deadline", r->id, r->sla_deadline)) < 0) return rc;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"candidates\":%d}", r->ncand);
    return sqlite_audit(c, r->created_at, r->client_id, "request.created", "request", r->id, detail);
}

int sqr_request_create(store *s, const store_request *r, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_request_create, 1, d, cb, ctx, r, NULL, NULL, NULL, 0);
}

static int run_request_get(sq_conn *c, sq_job *j)
{
    store_request *r = j->out;
    static const char sql[] =
        "SELECT id, client_id, title, description, spec, status, relaxed, sla_deadline, created_at,"
        " coalesce(matched_at, 0), coalesce(breached_at, 0) FROM requests WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    sqlite_copy_col(r->id, sizeof r->id, st, 0);
    sqlite_copy_col(r->client_id, sizeof r->client_id, st, 1);
    sqlite_copy_col(r->title, sizeof r->title, st, 2);
    sqlite_copy_col(r->description, sizeof r->description, st, 3);
    sqlite_copy_col(r->spec, sizeof r->spec, st, 4);
    sqlite_copy_col(r->status, sizeof r->status, st, 5);
    sqlite_copy_col(r->relaxed, sizeof r->relaxed, st, 6);
    r->sla_deadline = sqlite3_column_int64(st, 7);
    r->created_at = sqlite3_column_int64(st, 8);
    r->matched_at = sqlite3_column_int64(st, 9);
    r->breached_at = sqlite3_column_int64(st, 10);
    static const char csql[] =
        "SELECT k.id, k.engineer_id, k.status, k.score, k.rank, k.explain, k.invited_at,"
        " k.expires_at, coalesce(k.responded_at, 0), u.name FROM candidates k"
        " JOIN users u ON u.id = k.engineer_id WHERE k.request_id = ? ORDER BY k.rank, k.id";
    st = sq_prep(c, csql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    r->ncand = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->ncand < STORE_MAX_CANDIDATES) {
        store_candidate *k = &r->cand[r->ncand++];
        sqlite_copy_col(k->id, sizeof k->id, st, 0);
        memcpy(k->request_id, r->id, sizeof k->request_id);
        sqlite_copy_col(k->engineer_id, sizeof k->engineer_id, st, 1);
        sqlite_copy_col(k->status, sizeof k->status, st, 2);
        k->score = sqlite3_column_double(st, 3);
        k->rank = sqlite3_column_int(st, 4);
        sqlite_copy_col(k->explain, sizeof k->explain, st, 5);
        k->invited_at = sqlite3_column_int64(st, 6);
        k->expires_at = sqlite3_column_int64(st, 7);
        k->responded_at = sqlite3_column_int64(st, 8);
        sqlite_copy_col(k->engineer_name, sizeof k->engineer_name, st, 9);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqr_request_get(store *s, const char *id, store_request *out, uint64_t d, store_done_cb cb,
                    void *ctx)
{
    return sqlite_submit(s, run_request_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_matchable(sq_conn *c, sq_job *j)
{
    store_match_page *pg = j->out;
    static const char sql[] =
        "SELECT p.user_id, p.rate_currency, p.timezone, coalesce(p.level, 'mid'), p.available,"
        " p.hours_per_week, p.rate_amount,"
        " coalesce((SELECT round(avg(r.rating) * 100) FROM reviews r WHERE r.subject_id = p.user_id"
        "   AND r.published_at IS NOT NULL), 0),"
        " EXISTS (SELECT 1 FROM contracts k WHERE k.engineer_id = p.user_id AND k.status = 'active')"
        " FROM engineer_profiles p"
        " WHERE p.status = 'vetted' AND p.user_id > ?"
        " AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id AND u.status = 'suspended')"
        " ORDER BY p.user_id LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, STORE_MATCH_PAGE);
    int rc;
    pg->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && pg->n < STORE_MATCH_PAGE) {
        store_match_row *r = &pg->rows[pg->n++];
        memset(r, 0, sizeof *r);
        sqlite_copy_col(r->user_id, sizeof r->user_id, st, 0);
        sqlite_copy_col(r->currency, sizeof r->currency, st, 1);
        sqlite_copy_col(r->timezone, sizeof r->timezone, st, 2);
        sqlite_copy_col(r->level, sizeof r->level, st, 3);
        r->available = sqlite3_column_int(st, 4);
        r->hours_per_week = sqlite3_column_int(st, 5);
        r->rate_amount = sqlite3_column_int64(st, 6);
        r->rating_x100 = sqlite3_column_int(st, 7);
        r->busy = sqlite3_column_int(st, 8);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_rc(c, rc);
    sqlite3_reset(st);
    static const char ssql[] = "SELECT skill_id, self_level, coalesce(vetted_level, 0)"
                               " FROM engineer_skills WHERE user_id = ?";
    for (int i = 0; i < pg->n; i++) {
        store_match_row *r = &pg->rows[i];
        st = sq_prep(c, ssql);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, r->user_id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->nskills < STORE_MAX_SKILLS) {
            store_skill *k = &r->skills[r->nskills++];
            sqlite_copy_col(k->id, sizeof k->id, st, 0);
            k->self_level = sqlite3_column_int(st, 1);
            k->vetted_level = sqlite3_column_int(st, 2);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_rc(c, rc);
        sqlite3_reset(st);
    }
    return STORE_OK;
}

int sqr_matchable_page(store *s, const char *after, store_match_page *out, uint64_t d,
                       store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_matchable, 0, d, cb, ctx, NULL, out, after, NULL, 0);
}

/* ---- candidates ------------------------------------------------------------------- */

static int read_candidate(sqlite3_stmt *st, store_candidate *k)
{
    sqlite_copy_col(k->id, sizeof k->id, st, 0);
    sqlite_copy_col(k->request_id, sizeof k->request_id, st, 1);
    sqlite_copy_col(k->engineer_id, sizeof k->engineer_id, st, 2);
    sqlite_copy_col(k->status, sizeof k->status, st, 3);
    k->score = sqlite3_column_double(st, 4);
    k->rank = sqlite3_column_int(st, 5);
    sqlite_copy_col(k->explain, sizeof k->explain, st, 6);
    k->invited_at = sqlite3_column_int64(st, 7);
    k->expires_at = sqlite3_column_int64(st, 8);
    k->responded_at = sqlite3_column_int64(st, 9);
    return STORE_OK;
}

#define CANDIDATE_COLS                                                                             \
    "k.id, k.request_id, k.engineer_id, k.status, k.score, k.rank, k.explain, k.invited_at,"      \
    " k.expires_at, coalesce(k.responded_at, 0)"

static int run_candidate_get(sq_conn *c, sq_job *j)
{
    static const char sql[] = "SELECT " CANDIDATE_COLS " FROM candidates k WHERE k.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    return read_candidate(st, j->out);
}

int sqr_candidate_get(store *s, const char *id, store_candidate *out, uint64_t d, store_done_cb cb,
                      void *ctx)
{
    return sqlite_submit(s, run_candidate_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int request_state(sq_conn *c, const char *id, store_move_result *res)
{
    static const char sql[] = "SELECT status, created_at, sla_deadline,"
                              " (SELECT count(*) FROM candidates WHERE request_id = r.id AND status = 'accepted')"
                              " FROM requests r WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    sqlite_copy_col(res->request_status, sizeof res->request_status, st, 0);
    res->created_at = sqlite3_column_int64(st, 1);
    res->sla_deadline = sqlite3_column_int64(st, 2);
    res->accepted = sqlite3_column_int(st, 3);
    return STORE_OK;
}

/* moves a request along its lifecycle, with the audit row */
static int request_move(sq_conn *c, const char *id, const char *from, const char *to,
                        const char *actor, int64_t now)
{
    if (!requests_can_move(from, to)) return STORE_CONFLICT;
    static const char sql[] =
        "UPDATE requests SET status = ?1,"
        " matched_at = CASE WHEN ?1 = 'matched' THEN coalesce(matched_at, ?2) ELSE matched_at END,"
        " breached_at = CASE WHEN ?1 = 'breached' THEN ?2 ELSE breached_at END"
        " WHERE id = ?3 AND status = ?4";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, from, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) != 1) return STORE_CONFLICT;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    if ((rc = sqlite_audit(c, now, actor, "request.transition", "request", id, detail)) < 0) return rc;
    static const char what[] =
        "SELECT json_object('request_id', id, 'title', title, 'from', ?2, 'status', status), client_id"
        " FROM requests WHERE id = ?1";
    char client[32];
    char *payload = sqlite_json_row_with(c, what, &rc, client, sizeof client, 2, id, from);
    if (!payload) return rc;
    rc = sqlite_event(c, client, "request.updated", payload, now);
    free(payload);
    return rc;
}

int sqlite_request_fill(sq_conn *c, const char *request_id, const char *actor, int64_t now)
{
    static const char sql[] = "SELECT status FROM requests WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, request_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char from[16];
    sqlite_copy_col(from, sizeof from, st, 0);
    sqlite3_reset(st);
    if (strcmp(from, "filled") == 0) return STORE_OK; /* a second hire on the same request */
    return request_move(c, request_id, from, "filled", actor, now);
}

/* a notification, also sent live */
static int notify(sq_conn *c, const char *user_id, const char *kind, const char *payload, int64_t now)
{
    static const char sql[] = "INSERT INTO notifications(user_id, kind, payload, created_at) VALUES (?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, payload, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now);
    int rc = sq_rc(c, sqlite3_step(st));
    return rc < 0 ? rc : sqlite_event(c, user_id, kind, payload, now);
}

typedef struct {
    const char *candidate_id, *engineer_id, *to, *reason, *job_id;
    const store_candidate *repl;
    int nrepl;
    int64_t now;
} move_args;

static int run_candidate_move(sq_conn *c, sq_job *j)
{
    const move_args *a = j->in;
    store_move_result *res = j->out;
    memset(res, 0, sizeof *res);
    res->replaced = -1;
    static const char sql[] = "SELECT " CANDIDATE_COLS " FROM candidates k WHERE k.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->candidate_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    store_candidate k;
    read_candidate(st, &k);
    sqlite3_reset(st);
    if (a->engineer_id && strcmp(a->engineer_id, k.engineer_id) != 0) return STORE_NOTFOUND;
    memcpy(res->request_id, k.request_id, sizeof res->request_id);
    memcpy(res->candidate_status, k.status, sizeof res->candidate_status);
    if ((rc = request_state(c, k.request_id, res)) < 0) return rc;
    /* an answer after 24 h is too late even if the expiry job has not run yet */
    int late = strcmp(a->to, "expired") != 0 && a->now >= k.expires_at;
    if (strcmp(k.status, "invited") != 0 || late || strcmp(res->request_status, "cancelled") == 0) {
        if (late && strcmp(k.status, "invited") == 0)
            snprintf(res->candidate_status, sizeof res->candidate_status, "expired");
        if (a->job_id) sqlite_job_mark_done(c, a->job_id, a->now, NULL);
        return a->job_id ? STORE_OK : STORE_CONFLICT; /* a job finding nothing to do is done */
    }
    static const char upd[] = "UPDATE candidates SET status = ?, responded_at = ?, decline_reason = ?"
                              " WHERE id = ? AND status = 'invited'";
    st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->now);
    if (a->reason) sqlite3_bind_text(st, 3, a->reason, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, a->candidate_id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    /* the expiry job has nothing left to do */
    if ((rc = sqlite_job_cancel(c, "invite.expire", a->candidate_id, a->now)) < 0) return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"from\":\"invited\",\"to\":\"%s\"}", a->to);
    if ((rc = sqlite_audit(c, a->now, a->engineer_id ? a->engineer_id : "system",
                           "candidate.transition", "candidate", a->candidate_id, detail)) < 0)
        return rc;
    if (strcmp(a->to, "accepted") == 0) {
        /* the two can talk from now on */
        char conv[ID_STR_MAX];
        id_new("cnv", conv);
        if ((rc = sqlite_conversation_open(c, conv, a->candidate_id, a->now)) < 0) return rc;
        res->accepted++;
        const char *from = res->request_status;
        if (res->accepted >= 3 && (strcmp(from, "matching") == 0 || strcmp(from, "breached") == 0)) {
            char was[16];
            memcpy(was, from, sizeof was);
            if ((rc = request_move(c, k.request_id, was, "matched", "system", a->now)) < 0) return rc;
            snprintf(res->request_status, sizeof res->request_status, "matched");
            res->became_matched = 1;
        }
    } else if (strcmp(res->request_status, "matching") == 0 || strcmp(res->request_status, "breached") == 0) {
        /* the first one nobody invited meanwhile; a taken one fails its
         * insert alone (the statement rolls back, the transaction goes on) */
        for (int i = 0; i < a->nrepl && res->replaced < 0; i++) {
            rc = insert_candidate(c, &a->repl[i]);
            if (rc == STORE_OK) res->replaced = i;
            else if (rc != STORE_CONFLICT) return rc;
        }
    }
    if ((rc = announce_candidate(c, a->candidate_id, a->now)) < 0) return rc;
    if (a->job_id && (rc = sqlite_job_mark_done(c, a->job_id, a->now, NULL)) < 0 && rc != STORE_CONFLICT)
        return rc;
    return STORE_OK;
}

int sqr_candidate_move(store *s, const char *candidate_id, const char *engineer_id, const char *to,
                       const char *reason, int64_t now, const char *job_id,
                       const store_candidate *repl, int nrepl, store_move_result *res, uint64_t d,
                       store_done_cb cb, void *ctx)
{
    move_args a = {candidate_id, engineer_id, to, reason, job_id, repl, nrepl, now};
    return sqlite_submit_args(s, run_candidate_move, 1, d, cb, ctx, &a, sizeof a, res);
}

static int run_invitations(sq_conn *c, sq_job *j)
{
    store_invitations *out = j->out;
    static const char sql[] = "SELECT " CANDIDATE_COLS ", r.title, r.status, r.spec FROM candidates k"
                              " JOIN requests r ON r.id = k.request_id"
                              " WHERE k.engineer_id = ? AND k.status = 'invited' AND k.expires_at > ?"
                              " AND r.status IN ('matching', 'matched', 'breached')"
                              " ORDER BY k.invited_at DESC, k.id LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->n1);
    sqlite3_bind_int(st, 3, STORE_INVITATIONS_MAX);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_INVITATIONS_MAX) {
        read_candidate(st, &out->items[out->n].c);
        sqlite_copy_col(out->items[out->n].title, sizeof out->items[0].title, st, 10);
        sqlite_copy_col(out->items[out->n].request_status, sizeof out->items[0].request_status, st, 11);
        sqlite_copy_col(out->items[out->n].spec, sizeof out->items[0].spec, st, 12);
        out->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqr_invitations_list(store *s, const char *engineer_id, int64_t now, store_invitations *out,
                         uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_invitations, 0, d, cb, ctx, NULL, out, engineer_id, NULL, now);
}

/* ---- the SLA ------------------------------------------------------------------------ */

static int run_widen(sq_conn *c, sq_job *j)
{
    const store_request *r = j->in;
    int64_t now = j->n1;
    store_move_result res;
    memset(&res, 0, sizeof res);
    int rc = request_state(c, r->id, &res);
    if (rc < 0) return rc;
    if (strcmp(res.request_status, "matching") == 0 || strcmp(res.request_status, "breached") == 0) {
        static const char sql[] = "UPDATE requests SET relaxed = ? WHERE id = ?";
        sqlite3_stmt *st = sq_prep(c, sql);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, r->relaxed, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
        for (int i = 0; i < r->ncand; i++)
            if ((rc = insert_candidate(c, &r->cand[i])) < 0 && rc != STORE_CONFLICT) return rc;
        char detail[320];
        snprintf(detail, sizeof detail, "{\"relaxed\":%s,\"invited\":%d}", r->relaxed, r->ncand);
        if ((rc = sqlite_audit(c, now, "system", "request.widened", "request", r->id, detail)) < 0)
            return rc;
    }
    rc = sqlite_job_mark_done(c, j->s1, now, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int sqr_request_widen(store *s, const store_request *r, const char *job_id, int64_t now, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_widen, 1, d, cb, ctx, r, NULL, job_id, NULL, now);
}

static int run_deadline(sq_conn *c, sq_job *j)
{
    store_move_result *res = j->out;
    int64_t now = j->n1;
    memset(res, 0, sizeof *res);
    int rc = request_state(c, j->s1, res);
    if (rc < 0) return rc;
    if (strcmp(res->request_status, "matching") == 0) {
        if ((rc = request_move(c, j->s1, "matching", "breached", "system", now)) < 0) return rc;
        snprintf(res->request_status, sizeof res->request_status, "breached");
        char payload[160];
        snprintf(payload, sizeof payload, "{\"request_id\":\"%s\",\"accepted\":%d}", j->s1, res->accepted);
        static const char owner[] = "SELECT client_id FROM requests WHERE id = ?";
        sqlite3_stmt *st = sq_prep(c, owner);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
        char client[32] = "";
        if (sqlite3_step(st) == SQLITE_ROW) sqlite_copy_col(client, sizeof client, st, 0);
        sqlite3_reset(st);
        if (client[0] && (rc = notify(c, client, "request.sla_breached", payload, now)) < 0) return rc;
        static const char admins[] = "SELECT id FROM users WHERE role = 'admin' ORDER BY id";
        st = sq_prep(c, admins);
        if (!st) return STORE_IO;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            char admin[32];
            sqlite_copy_col(admin, sizeof admin, st, 0);
            if ((rc = notify(c, admin, "admin.sla_breach", payload, now)) < 0) return rc;
        }
        if (step != SQLITE_DONE) return sq_rc(c, step);
    }
    rc = sqlite_job_mark_done(c, j->s2, now, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int sqr_request_deadline(store *s, const char *request_id, const char *job_id, int64_t now,
                         store_move_result *res, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_deadline, 1, d, cb, ctx, NULL, res, request_id, job_id, now);
}

static int run_sla_board(sq_conn *c, sq_job *j)
{
    store_sla_board *b = j->out;
    static const char sql[] =
        "SELECT r.id, r.client_id, r.title, r.status, r.relaxed, r.sla_deadline, r.created_at,"
        " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id),"
        " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id AND k.status = 'accepted')"
        " FROM requests r WHERE r.status IN ('matching', 'breached')"
        " ORDER BY r.sla_deadline, r.id LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int(st, 1, STORE_SLA_MAX);
    int rc;
    b->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && b->n < STORE_SLA_MAX) {
        sqlite_copy_col(b->items[b->n].id, sizeof b->items[0].id, st, 0);
        sqlite_copy_col(b->items[b->n].client_id, sizeof b->items[0].client_id, st, 1);
        sqlite_copy_col(b->items[b->n].title, sizeof b->items[0].title, st, 2);
        sqlite_copy_col(b->items[b->n].status, sizeof b->items[0].status, st, 3);
        sqlite_copy_col(b->items[b->n].relaxed, sizeof b->items[0].relaxed, st, 4);
        b->items[b->n].sla_deadline = sqlite3_column_int64(st, 5);
        b->items[b->n].created_at = sqlite3_column_int64(st, 6);
        b->items[b->n].invited = sqlite3_column_int(st, 7);
        b->items[b->n].accepted = sqlite3_column_int(st, 8);
        b->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqr_sla_board(store *s, store_sla_board *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_sla_board, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

typedef struct {
    const char *client_id;
    int64_t before_seq;
    int limit;
} list_args;

static int run_list(sq_conn *c, sq_job *j)
{
    const list_args *a = j->in;
    store_request_list *out = j->out;
    static const char sql[] =
        "SELECT r.id, r.client_id, r.title, r.status, r.sla_deadline, r.created_at,"
        " coalesce(r.matched_at, 0),"
        " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id),"
        " (SELECT count(*) FROM candidates k WHERE k.request_id = r.id AND k.status = 'accepted'),"
        " r.rowid FROM requests r WHERE (?1 IS NULL OR r.client_id = ?1)"
        " AND (?2 = 0 OR r.rowid < ?2) ORDER BY r.rowid DESC LIMIT ?3";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    if (a->client_id) sqlite3_bind_text(st, 1, a->client_id, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, a->before_seq);
    sqlite3_bind_int(st, 3, a->limit);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_LIST_MAX) {
        sqlite_copy_col(out->items[out->n].id, sizeof out->items[0].id, st, 0);
        sqlite_copy_col(out->items[out->n].client_id, sizeof out->items[0].client_id, st, 1);
        sqlite_copy_col(out->items[out->n].title, sizeof out->items[0].title, st, 2);
        sqlite_copy_col(out->items[out->n].status, sizeof out->items[0].status, st, 3);
        out->items[out->n].sla_deadline = sqlite3_column_int64(st, 4);
        out->items[out->n].created_at = sqlite3_column_int64(st, 5);
        out->items[out->n].matched_at = sqlite3_column_int64(st, 6);
        out->items[out->n].invited = sqlite3_column_int(st, 7);
        out->items[out->n].accepted = sqlite3_column_int(st, 8);
        out->items[out->n].seq = sqlite3_column_int64(st, 9);
        out->n++;
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqr_requests_list(store *s, const char *client_id, int64_t before_seq, int limit,
                      store_request_list *out, uint64_t d, store_done_cb cb, void *ctx)
{
    list_args a = {client_id, before_seq, limit};
    return sqlite_submit_args(s, run_list, 0, d, cb, ctx, &a, sizeof a, out);
}


/* ---- cancelling a request ------------------------------------------------------------- */

typedef struct {
    const char *id, *actor, *client_id, *reason;
    int64_t now;
    store_money_conflict *why;
} cancel_args;

static int withdraw_candidates(sq_conn *c, const cancel_args *a)
{
    static const char sql[] = "SELECT k.id, k.engineer_id, k.status, r.title FROM candidates k"
                              " JOIN requests r ON r.id = k.request_id"
                              " WHERE k.request_id = ? AND k.status IN ('invited','accepted') ORDER BY k.rank, k.id";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    struct {
        char id[32], engineer[32], status[12];
    } open[STORE_MAX_CANDIDATES * 4];
    char title[484] = "";
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < (int)(sizeof open / sizeof open[0])) {
        sqlite_copy_col(open[n].id, sizeof open[n].id, st, 0);
        sqlite_copy_col(open[n].engineer, sizeof open[n].engineer, st, 1);
        sqlite_copy_col(open[n].status, sizeof open[n].status, st, 2);
        sqlite_copy_col(title, sizeof title, st, 3);
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_rc(c, rc);
    sqlite3_reset(st);
    static const char upd[] = "UPDATE candidates SET status = 'withdrawn', responded_at = coalesce(responded_at, ?)"
                              " WHERE id = ?";
    for (int i = 0; i < n; i++) {
        st = sq_prep(c, upd);
        if (!st) return STORE_IO;
        sqlite3_bind_int64(st, 1, a->now);
        sqlite3_bind_text(st, 2, open[i].id, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
        if ((rc = sqlite_job_cancel(c, "invite.expire", open[i].id, a->now)) < 0) return rc;
        char detail[96];
        snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"withdrawn\"}", open[i].status);
        if ((rc = sqlite_audit(c, a->now, a->actor, "candidate.transition", "candidate", open[i].id, detail)) < 0)
            return rc;
        json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s?}", "candidate_id", open[i].id, "request_id", a->id,
                              "request_title", title, "was", open[i].status, "reason", a->reason);
        char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
        json_decref(p);
        if (!payload) return STORE_IO;
        rc = notify(c, open[i].engineer, "invitation.withdrawn", payload, a->now);
        free(payload);
        if (rc < 0 || (rc = announce_candidate(c, open[i].id, a->now)) < 0) return rc;
    }
    return STORE_OK;
}

static int run_request_cancel(sq_conn *c, sq_job *j)
{
    const cancel_args *a = j->in;
    static const char sql[] = "SELECT status, client_id,"
                              " (SELECT id FROM contracts WHERE request_id = r.id AND status = 'offered' LIMIT 1)"
                              " FROM requests r WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char from[16], client[32], offer[32];
    sqlite_copy_col(from, sizeof from, st, 0);
    sqlite_copy_col(client, sizeof client, st, 1);
    sqlite_copy_col(offer, sizeof offer, st, 2);
    sqlite3_reset(st);
    if (a->client_id && strcmp(a->client_id, client) != 0) return STORE_NOTFOUND; /* not theirs */
    if (!requests_can_move(from, "cancelled")) {
        sqlite_money_conflict(a->why, "request", from,
                              strcmp(from, "cancelled") == 0 ? "this request is cancelled already"
                                                             : "a contract was accepted on this request: end the contract instead");
        return STORE_CONFLICT;
    }
    if (offer[0]) {
        sqlite_money_conflict(a->why, "contract", "offered",
                              "a contract offer on this request waits for the engineer's answer");
        return STORE_CONFLICT;
    }
    if ((rc = request_move(c, a->id, from, "cancelled", a->actor, a->now)) < 0) return rc;
    static const char upd[] = "UPDATE requests SET cancelled_at = ?, cancelled_by = ?, cancel_reason = ? WHERE id = ?";
    st = sq_prep(c, upd);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->now);
    sqlite3_bind_text(st, 2, a->actor, -1, SQLITE_STATIC);
    if (a->reason) sqlite3_bind_text(st, 3, a->reason, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, a->id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if ((rc = sqlite_job_cancel(c, "sla.half", a->id, a->now)) < 0) return rc;
    if ((rc = sqlite_job_cancel(c, "sla.deadline", a->id, a->now)) < 0) return rc;
    if ((rc = withdraw_candidates(c, a)) < 0) return rc;
    j->s1 = a->id; /* the request as it is now */
    return run_request_get(c, j);
}

int sqr_request_cancel(store *s, const char *id, const char *actor, const char *client_id, const char *reason,
                       int64_t now, store_request *out, store_money_conflict *why, uint64_t d, store_done_cb cb,
                       void *ctx)
{
    cancel_args a = {id, actor, client_id, reason, now, why};
    return sqlite_submit_args(s, run_request_cancel, 1, d, cb, ctx, &a, sizeof a, out);
}
