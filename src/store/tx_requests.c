/* tx_requests: clients' requests and their candidates A
 * request is created with its first invitations, their expiry jobs and the
 * two SLA jobs in one transaction, so a request never exists without the
 * jobs that guard its 8 hours. */
#include "../core/token.h"
#include "../rules/requests.h"
#include "tx_internal.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLA_HALF_S (4 * 3600)

static int insert_candidate(db_conn *c, const store_candidate *k)
{
    db_stmt *st = db_prep(c, ST_INSERT_CANDIDATE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, k->id);
    db_bind_text(st, 2, k->request_id);
    db_bind_text(st, 3, k->engineer_id);
    db_bind_text(st, 4, k->status);
    db_bind_double(st, 5, k->score);
    db_bind_int(st, 6, k->rank);
    db_bind_text(st, 7, k->explain);
    db_bind_int(st, 8, k->invited_at);
    db_bind_int(st, 9, k->expires_at);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    rc = tx_job_schedule(c, "invite.expire", k->id, k->expires_at);
    if (rc < 0) return rc;
    st = db_prep(c, ST_INSERT_CANDIDATE_NOTE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, k->engineer_id);
    db_bind_text(st, 2, k->id);
    db_bind_text(st, 3, k->request_id);
    db_bind_int(st, 4, k->invited_at);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    /* the live event and the email */
    char *payload = tx_json_row(c, ST_INSERT_CANDIDATE_WHAT, &rc, 1, k->id);
    if (!payload) return rc;
    rc = tx_event(c, k->engineer_id, "invitation.created", payload, k->invited_at);
    if (rc == STORE_OK) rc = tx_mail(c, k->engineer_id, "invitation", payload, k->invited_at);
    free(payload);
    return rc;
}

/* a candidate's move, live to both sides; an acceptance also mails the client */
static int announce_candidate(db_conn *c, const char *candidate_id, int64_t now)
{
    int rc;
    char *payload = tx_json_row(c, ST_ANNOUNCE_CANDIDATE_WHAT, &rc, 1, candidate_id);
    if (!payload) return rc;
    json_t *p = json_loads(payload, 0, NULL);
    const char *client = json_string_value(json_object_get(p, "client_id"));
    const char *engineer = json_string_value(json_object_get(p, "engineer_id"));
    const char *status = json_string_value(json_object_get(p, "status"));
    rc = client && engineer && status ? STORE_OK : STORE_IO;
    if (rc == STORE_OK) rc = tx_event(c, client, "candidate.updated", payload, now);
    if (rc == STORE_OK) rc = tx_event(c, engineer, "invitation.updated", payload, now);
    if (rc == STORE_OK && strcmp(status, "accepted") == 0)
        rc = tx_mail(c, client, "candidate.accepted", payload, now);
    json_decref(p);
    free(payload);
    return rc;
}

static int run_request_create(db_conn *c, db_job *j)
{
    const store_request *r = j->in;
    db_stmt *st = db_prep(c, ST_REQUEST_CREATE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, r->id);
    db_bind_text(st, 2, r->client_id);
    db_bind_text(st, 3, r->title);
    db_bind_text(st, 4, r->description);
    db_bind_text(st, 5, r->spec);
    db_bind_text(st, 6, r->status);
    db_bind_text(st, 7, r->relaxed[0] ? r->relaxed : "[]");
    db_bind_int(st, 8, r->sla_deadline);
    db_bind_int(st, 9, r->created_at);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    for (int i = 0; i < r->ncand; i++)
        if ((rc = insert_candidate(c, &r->cand[i])) < 0) return rc;
    if ((rc = tx_job_schedule(c, "sla.half", r->id, r->created_at + SLA_HALF_S)) < 0) return rc;
    if ((rc = tx_job_schedule(c, "sla.deadline", r->id, r->sla_deadline)) < 0) return rc;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"candidates\":%d}", r->ncand);
    return tx_audit(c, r->created_at, r->client_id, "request.created", "request", r->id, detail);
}

int tx_request_create(store *s, const store_request *r, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_request_create, 1, d, cb, ctx, r, NULL, NULL, NULL, 0);
}

static int run_request_get(db_conn *c, db_job *j)
{
    store_request *r = j->out;
    db_stmt *st = db_prep(c, ST_REQUEST_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    db_copy_col(r->id, sizeof r->id, st, 0);
    db_copy_col(r->client_id, sizeof r->client_id, st, 1);
    db_copy_col(r->title, sizeof r->title, st, 2);
    db_copy_col(r->description, sizeof r->description, st, 3);
    db_copy_col(r->spec, sizeof r->spec, st, 4);
    db_copy_col(r->status, sizeof r->status, st, 5);
    db_copy_col(r->relaxed, sizeof r->relaxed, st, 6);
    r->sla_deadline = db_col_int(st, 7);
    r->created_at = db_col_int(st, 8);
    r->matched_at = db_col_int(st, 9);
    r->breached_at = db_col_int(st, 10);
    st = db_prep(c, ST_REQUEST_GET_CANDIDATES);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    r->ncand = 0;
    while ((rc = db_step(st)) == DB_ROW && r->ncand < STORE_MAX_CANDIDATES) {
        store_candidate *k = &r->cand[r->ncand++];
        db_copy_col(k->id, sizeof k->id, st, 0);
        memcpy(k->request_id, r->id, sizeof k->request_id);
        db_copy_col(k->engineer_id, sizeof k->engineer_id, st, 1);
        db_copy_col(k->status, sizeof k->status, st, 2);
        k->score = db_col_double(st, 3);
        k->rank = db_col_int(st, 4);
        db_copy_col(k->explain, sizeof k->explain, st, 5);
        k->invited_at = db_col_int(st, 6);
        k->expires_at = db_col_int(st, 7);
        k->responded_at = db_col_int(st, 8);
        db_copy_col(k->engineer_name, sizeof k->engineer_name, st, 9);
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_request_get(store *s, const char *id, store_request *out, uint64_t d, store_done_cb cb,
                   void *ctx)
{
    return store_submit(s, run_request_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_matchable(db_conn *c, db_job *j)
{
    store_match_page *pg = j->out;
    db_stmt *st = db_prep(c, ST_MATCHABLE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, STORE_MATCH_PAGE);
    int rc;
    pg->n = 0;
    while ((rc = db_step(st)) == DB_ROW && pg->n < STORE_MATCH_PAGE) {
        store_match_row *r = &pg->rows[pg->n++];
        memset(r, 0, sizeof *r);
        db_copy_col(r->user_id, sizeof r->user_id, st, 0);
        db_copy_col(r->currency, sizeof r->currency, st, 1);
        db_copy_col(r->timezone, sizeof r->timezone, st, 2);
        db_copy_col(r->level, sizeof r->level, st, 3);
        r->available = db_col_int(st, 4);
        r->hours_per_week = db_col_int(st, 5);
        r->rate_amount = db_col_int(st, 6);
        r->rating_x100 = db_col_int(st, 7);
        r->busy = db_col_int(st, 8);
    }
    if (rc != DB_ROW && rc != DB_DONE) return db_rc(rc);
    db_reset(st);
    for (int i = 0; i < pg->n; i++) {
        store_match_row *r = &pg->rows[i];
        st = db_prep(c, ST_MATCHABLE_SKILLS);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, r->user_id);
        while ((rc = db_step(st)) == DB_ROW && r->nskills < STORE_MAX_SKILLS) {
            store_skill *k = &r->skills[r->nskills++];
            db_copy_col(k->id, sizeof k->id, st, 0);
            k->self_level = db_col_int(st, 1);
            k->vetted_level = db_col_int(st, 2);
        }
        if (rc != DB_ROW && rc != DB_DONE) return db_rc(rc);
        db_reset(st);
    }
    return STORE_OK;
}

int tx_matchable_page(store *s, const char *after, store_match_page *out, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    return store_submit(s, run_matchable, 0, d, cb, ctx, NULL, out, after, NULL, 0);
}

/* ---- candidates ------------------------------------------------------------------- */

static int read_candidate(db_stmt *st, store_candidate *k)
{
    db_copy_col(k->id, sizeof k->id, st, 0);
    db_copy_col(k->request_id, sizeof k->request_id, st, 1);
    db_copy_col(k->engineer_id, sizeof k->engineer_id, st, 2);
    db_copy_col(k->status, sizeof k->status, st, 3);
    k->score = db_col_double(st, 4);
    k->rank = db_col_int(st, 5);
    db_copy_col(k->explain, sizeof k->explain, st, 6);
    k->invited_at = db_col_int(st, 7);
    k->expires_at = db_col_int(st, 8);
    k->responded_at = db_col_int(st, 9);
    return STORE_OK;
}

static int run_candidate_get(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_CANDIDATE_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    return read_candidate(st, j->out);
}

int tx_candidate_get(store *s, const char *id, store_candidate *out, uint64_t d, store_done_cb cb,
                     void *ctx)
{
    return store_submit(s, run_candidate_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int request_state(db_conn *c, const char *id, store_move_result *res)
{
    db_stmt *st = db_prep(c, ST_REQUEST_STATE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    db_copy_col(res->request_status, sizeof res->request_status, st, 0);
    res->created_at = db_col_int(st, 1);
    res->sla_deadline = db_col_int(st, 2);
    res->accepted = db_col_int(st, 3);
    return STORE_OK;
}

/* moves a request along its lifecycle, with the audit row */
static int request_move(db_conn *c, const char *id, const char *from, const char *to,
                        const char *actor, int64_t now)
{
    if (!requests_can_move(from, to)) return STORE_CONFLICT;
    db_stmt *st = db_prep(c, ST_REQUEST_MOVE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, to);
    db_bind_int(st, 2, now);
    db_bind_text(st, 3, id);
    db_bind_text(st, 4, from);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (db_changes(c) != 1) return STORE_CONFLICT;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    if ((rc = tx_audit(c, now, actor, "request.transition", "request", id, detail)) < 0) return rc;
    char client[32];
    char *payload =
        tx_json_row_with(c, ST_REQUEST_MOVE_WHAT, &rc, client, sizeof client, 2, id, from);
    if (!payload) return rc;
    rc = tx_event(c, client, "request.updated", payload, now);
    free(payload);
    return rc;
}

int tx_request_fill(db_conn *c, const char *request_id, const char *actor, int64_t now)
{
    db_stmt *st = db_prep(c, ST_REQUEST_FILL);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, request_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    char from[16];
    db_copy_col(from, sizeof from, st, 0);
    db_reset(st);
    if (strcmp(from, "filled") == 0) return STORE_OK; /* a second hire on the same request */
    return request_move(c, request_id, from, "filled", actor, now);
}

/* a notification, also sent live */
static int notify(db_conn *c, const char *user_id, const char *kind, const char *payload,
                  int64_t now)
{
    db_stmt *st = db_prep(c, ST_REQUEST_NOTIFY);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, user_id);
    db_bind_text(st, 2, kind);
    db_bind_text_copy(st, 3, payload);
    db_bind_int(st, 4, now);
    int rc = db_rc(db_step(st));
    return rc < 0 ? rc : tx_event(c, user_id, kind, payload, now);
}

typedef struct {
    const char *candidate_id, *engineer_id, *to, *reason, *job_id;
    const store_candidate *repl;
    int nrepl;
    int64_t now;
} move_args;

static int run_candidate_move(db_conn *c, db_job *j)
{
    const move_args *a = j->in;
    store_move_result *res = j->out;
    memset(res, 0, sizeof *res);
    res->replaced = -1;
    db_stmt *st = db_prep(c, ST_CANDIDATE_MOVE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->candidate_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    store_candidate k;
    read_candidate(st, &k);
    db_reset(st);
    if (a->engineer_id && strcmp(a->engineer_id, k.engineer_id) != 0) return STORE_NOTFOUND;
    memcpy(res->request_id, k.request_id, sizeof res->request_id);
    memcpy(res->candidate_status, k.status, sizeof res->candidate_status);
    if ((rc = request_state(c, k.request_id, res)) < 0) return rc;
    /* an answer after 24 h is too late even if the expiry job has not run yet */
    int late = strcmp(a->to, "expired") != 0 && a->now >= k.expires_at;
    if (strcmp(k.status, "invited") != 0 || late || strcmp(res->request_status, "cancelled") == 0) {
        if (late && strcmp(k.status, "invited") == 0)
            snprintf(res->candidate_status, sizeof res->candidate_status, "expired");
        if (a->job_id) tx_job_mark_done(c, a->job_id, a->now, NULL);
        return a->job_id ? STORE_OK : STORE_CONFLICT; /* a job finding nothing to do is done */
    }
    st = db_prep(c, ST_CANDIDATE_MOVE_UPD);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->to);
    db_bind_int(st, 2, a->now);
    db_bind_text(st, 3, a->reason);
    db_bind_text(st, 4, a->candidate_id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    /* the expiry job has nothing left to do */
    if ((rc = tx_job_cancel(c, "invite.expire", a->candidate_id, a->now)) < 0) return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"from\":\"invited\",\"to\":\"%s\"}", a->to);
    if ((rc = tx_audit(c, a->now, a->engineer_id ? a->engineer_id : "system",
                       "candidate.transition", "candidate", a->candidate_id, detail)) < 0)
        return rc;
    if (strcmp(a->to, "accepted") == 0) {
        /* the two can talk from now on */
        char conv[ID_STR_MAX];
        id_new("cnv", conv);
        if ((rc = tx_conversation_open(c, conv, a->candidate_id, a->now)) < 0) return rc;
        res->accepted++;
        const char *from = res->request_status;
        if (res->accepted >= 3 &&
            (strcmp(from, "matching") == 0 || strcmp(from, "breached") == 0)) {
            char was[16];
            memcpy(was, from, sizeof was);
            if ((rc = request_move(c, k.request_id, was, "matched", "system", a->now)) < 0)
                return rc;
            snprintf(res->request_status, sizeof res->request_status, "matched");
            res->became_matched = 1;
        }
    } else if (strcmp(res->request_status, "matching") == 0 ||
               strcmp(res->request_status, "breached") == 0) {
        /* the first one nobody invited meanwhile; a taken one fails its
         * insert alone (the statement rolls back, the transaction goes on) */
        for (int i = 0; i < a->nrepl && res->replaced < 0; i++) {
            rc = insert_candidate(c, &a->repl[i]);
            if (rc == STORE_OK)
                res->replaced = i;
            else if (rc != STORE_CONFLICT)
                return rc;
        }
    }
    if ((rc = announce_candidate(c, a->candidate_id, a->now)) < 0) return rc;
    if (a->job_id && (rc = tx_job_mark_done(c, a->job_id, a->now, NULL)) < 0 &&
        rc != STORE_CONFLICT)
        return rc;
    return STORE_OK;
}

int tx_candidate_move(store *s, const char *candidate_id, const char *engineer_id, const char *to,
                      const char *reason, int64_t now, const char *job_id,
                      const store_candidate *repl, int nrepl, store_move_result *res, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    move_args a = {candidate_id, engineer_id, to, reason, job_id, repl, nrepl, now};
    return store_submit_args(s, run_candidate_move, 1, d, cb, ctx, &a, sizeof a, res);
}

static int run_invitations(db_conn *c, db_job *j)
{
    store_invitations *out = j->out;
    db_stmt *st = db_prep(c, ST_INVITATIONS_LIST);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, j->n1);
    db_bind_int(st, 3, STORE_INVITATIONS_MAX);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_INVITATIONS_MAX) {
        read_candidate(st, &out->items[out->n].c);
        db_copy_col(out->items[out->n].title, sizeof out->items[0].title, st, 10);
        db_copy_col(out->items[out->n].request_status, sizeof out->items[0].request_status, st, 11);
        db_copy_col(out->items[out->n].spec, sizeof out->items[0].spec, st, 12);
        out->n++;
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_invitations_list(store *s, const char *engineer_id, int64_t now, store_invitations *out,
                        uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_invitations, 0, d, cb, ctx, NULL, out, engineer_id, NULL, now);
}

/* ---- the SLA ------------------------------------------------------------------------ */

static int run_widen(db_conn *c, db_job *j)
{
    const store_request *r = j->in;
    int64_t now = j->n1;
    store_move_result res;
    memset(&res, 0, sizeof res);
    int rc = request_state(c, r->id, &res);
    if (rc < 0) return rc;
    if (strcmp(res.request_status, "matching") == 0 ||
        strcmp(res.request_status, "breached") == 0) {
        db_stmt *st = db_prep(c, ST_REQUEST_WIDEN);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, r->relaxed);
        db_bind_text(st, 2, r->id);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
        for (int i = 0; i < r->ncand; i++)
            if ((rc = insert_candidate(c, &r->cand[i])) < 0 && rc != STORE_CONFLICT) return rc;
        char detail[320];
        snprintf(detail, sizeof detail, "{\"relaxed\":%s,\"invited\":%d}", r->relaxed, r->ncand);
        if ((rc = tx_audit(c, now, "system", "request.widened", "request", r->id, detail)) < 0)
            return rc;
    }
    rc = tx_job_mark_done(c, j->s1, now, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int tx_request_widen(store *s, const store_request *r, const char *job_id, int64_t now, uint64_t d,
                     store_done_cb cb, void *ctx)
{
    return store_submit(s, run_widen, 1, d, cb, ctx, r, NULL, job_id, NULL, now);
}

static int run_deadline(db_conn *c, db_job *j)
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
        snprintf(payload, sizeof payload, "{\"request_id\":\"%s\",\"accepted\":%d}", j->s1,
                 res->accepted);
        db_stmt *st = db_prep(c, ST_DEADLINE_OWNER);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, j->s1);
        char client[32] = "";
        if (db_step(st) == DB_ROW) db_copy_col(client, sizeof client, st, 0);
        db_reset(st);
        if (client[0] && (rc = notify(c, client, "request.sla_breached", payload, now)) < 0)
            return rc;
        st = db_prep(c, ST_DEADLINE_ADMINS);
        if (!st) return STORE_IO;
        int step;
        while ((step = db_step(st)) == DB_ROW) {
            char admin[32];
            db_copy_col(admin, sizeof admin, st, 0);
            if ((rc = notify(c, admin, "admin.sla_breach", payload, now)) < 0) return rc;
        }
        if (step != DB_DONE) return db_rc(step);
    }
    rc = tx_job_mark_done(c, j->s2, now, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int tx_request_deadline(store *s, const char *request_id, const char *job_id, int64_t now,
                        store_move_result *res, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_deadline, 1, d, cb, ctx, NULL, res, request_id, job_id, now);
}

static int run_sla_board(db_conn *c, db_job *j)
{
    store_sla_board *b = j->out;
    db_stmt *st = db_prep(c, ST_SLA_BOARD);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, STORE_SLA_MAX);
    int rc;
    b->n = 0;
    while ((rc = db_step(st)) == DB_ROW && b->n < STORE_SLA_MAX) {
        db_copy_col(b->items[b->n].id, sizeof b->items[0].id, st, 0);
        db_copy_col(b->items[b->n].client_id, sizeof b->items[0].client_id, st, 1);
        db_copy_col(b->items[b->n].title, sizeof b->items[0].title, st, 2);
        db_copy_col(b->items[b->n].status, sizeof b->items[0].status, st, 3);
        db_copy_col(b->items[b->n].relaxed, sizeof b->items[0].relaxed, st, 4);
        b->items[b->n].sla_deadline = db_col_int(st, 5);
        b->items[b->n].created_at = db_col_int(st, 6);
        b->items[b->n].invited = db_col_int(st, 7);
        b->items[b->n].accepted = db_col_int(st, 8);
        b->n++;
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_sla_board(store *s, store_sla_board *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_sla_board, 0, d, cb, ctx, NULL, out, NULL, NULL, 0);
}

typedef struct {
    const char *client_id;
    int64_t before_seq;
    int limit;
} list_args;

static int run_list(db_conn *c, db_job *j)
{
    const list_args *a = j->in;
    store_request_list *out = j->out;
    db_stmt *st = db_prep(c, ST_REQUESTS_LIST);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->client_id);
    db_bind_int(st, 2, a->before_seq);
    db_bind_int(st, 3, a->limit);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_LIST_MAX) {
        db_copy_col(out->items[out->n].id, sizeof out->items[0].id, st, 0);
        db_copy_col(out->items[out->n].client_id, sizeof out->items[0].client_id, st, 1);
        db_copy_col(out->items[out->n].title, sizeof out->items[0].title, st, 2);
        db_copy_col(out->items[out->n].status, sizeof out->items[0].status, st, 3);
        out->items[out->n].sla_deadline = db_col_int(st, 4);
        out->items[out->n].created_at = db_col_int(st, 5);
        out->items[out->n].matched_at = db_col_int(st, 6);
        out->items[out->n].invited = db_col_int(st, 7);
        out->items[out->n].accepted = db_col_int(st, 8);
        out->items[out->n].seq = db_col_int(st, 9);
        out->n++;
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_requests_list(store *s, const char *client_id, int64_t before_seq, int limit,
                     store_request_list *out, uint64_t d, store_done_cb cb, void *ctx)
{
    list_args a = {client_id, before_seq, limit};
    return store_submit_args(s, run_list, 0, d, cb, ctx, &a, sizeof a, out);
}

/* ---- cancelling a request ------------------------------------------------------------- */

typedef struct {
    const char *id, *actor, *client_id, *reason;
    int64_t now;
    store_money_conflict *why;
} cancel_args;

static int withdraw_candidates(db_conn *c, const cancel_args *a)
{
    db_stmt *st = db_prep(c, ST_WITHDRAW_CANDIDATES);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->id);
    struct {
        char id[32], engineer[32], status[12];
    } open[STORE_MAX_CANDIDATES * 4];
    char title[484] = "";
    int n = 0, rc;
    while ((rc = db_step(st)) == DB_ROW && n < (int)(sizeof open / sizeof open[0])) {
        db_copy_col(open[n].id, sizeof open[n].id, st, 0);
        db_copy_col(open[n].engineer, sizeof open[n].engineer, st, 1);
        db_copy_col(open[n].status, sizeof open[n].status, st, 2);
        db_copy_col(title, sizeof title, st, 3);
        n++;
    }
    if (rc != DB_ROW && rc != DB_DONE) return db_rc(rc);
    db_reset(st);
    for (int i = 0; i < n; i++) {
        st = db_prep(c, ST_WITHDRAW_CANDIDATES_UPD);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, a->now);
        db_bind_text(st, 2, open[i].id);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
        if ((rc = tx_job_cancel(c, "invite.expire", open[i].id, a->now)) < 0) return rc;
        char detail[96];
        snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"withdrawn\"}", open[i].status);
        if ((rc = tx_audit(c, a->now, a->actor, "candidate.transition", "candidate", open[i].id,
                           detail)) < 0)
            return rc;
        json_t *p =
            json_pack("{s:s,s:s,s:s,s:s,s:s?}", "candidate_id", open[i].id, "request_id", a->id,
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

static int run_request_cancel(db_conn *c, db_job *j)
{
    const cancel_args *a = j->in;
    db_stmt *st = db_prep(c, ST_REQUEST_CANCEL);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    char from[16], client[32], offer[32];
    db_copy_col(from, sizeof from, st, 0);
    db_copy_col(client, sizeof client, st, 1);
    db_copy_col(offer, sizeof offer, st, 2);
    db_reset(st);
    if (a->client_id && strcmp(a->client_id, client) != 0) return STORE_NOTFOUND; /* not theirs */
    if (!requests_can_move(from, "cancelled")) {
        tx_money_conflict(
            a->why, "request", from,
            strcmp(from, "cancelled") == 0
                ? "this request is cancelled already"
                : "a contract was accepted on this request: end the contract instead");
        return STORE_CONFLICT;
    }
    if (offer[0]) {
        tx_money_conflict(a->why, "contract", "offered",
                          "a contract offer on this request waits for the engineer's answer");
        return STORE_CONFLICT;
    }
    if ((rc = request_move(c, a->id, from, "cancelled", a->actor, a->now)) < 0) return rc;
    st = db_prep(c, ST_REQUEST_CANCEL_UPD);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->now);
    db_bind_text(st, 2, a->actor);
    db_bind_text(st, 3, a->reason);
    db_bind_text(st, 4, a->id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if ((rc = tx_job_cancel(c, "sla.half", a->id, a->now)) < 0) return rc;
    if ((rc = tx_job_cancel(c, "sla.deadline", a->id, a->now)) < 0) return rc;
    if ((rc = withdraw_candidates(c, a)) < 0) return rc;
    j->s1 = a->id; /* the request as it is now */
    return run_request_get(c, j);
}

int tx_request_cancel(store *s, const char *id, const char *actor, const char *client_id,
                      const char *reason, int64_t now, store_request *out,
                      store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    cancel_args a = {id, actor, client_id, reason, now, why};
    return store_submit_args(s, run_request_cancel, 1, d, cb, ctx, &a, sizeof a, out);
}
