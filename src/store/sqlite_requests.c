/* sqlite_requests: clients' requests and their candidates on SQLite. A
 * request is created with its first invitations, their expiry jobs and the
 * two SLA jobs in one transaction, so a request never exists without the
 * jobs that guard its 8 hours. */
#include <stdio.h>
#include <string.h>
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
    return sq_rc(c, sqlite3_step(st));
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
        " p.hours_per_week, p.rate_amount FROM engineer_profiles p"
        " WHERE p.status = 'vetted' AND p.user_id > ? ORDER BY p.user_id LIMIT ?";
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
