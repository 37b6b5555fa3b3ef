/* sqlite: the SQLite backend of the store interface (see store.h).
 * Each operation is a run function executed by sqlite_exec on a worker
 * thread: reads on a reader connection, writes on the writer inside a
 * batched transaction. The SQL of each operation lives here and nowhere
 * else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/clock.h"
#include "../core/log.h"
#include "migrations.h"
#include "sqlite_internal.h"

typedef struct {
    store base;
    sq_exec *x;
} sqlite_store;

static sq_exec *X(store *s)
{
    return ((sqlite_store *)s)->x;
}

void sqlite_copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int sqlite_submit(store *s, sq_run_fn run, int write, uint64_t deadline, store_done_cb cb,
                  void *ctx, const void *in, void *out, const char *s1, const char *s2, int64_t n1)
{
    sq_job *j = sq_job_new(run, deadline, cb, ctx);
    if (!j) return STORE_BUSY;
    j->in = in;
    j->out = out;
    j->s1 = s1;
    j->s2 = s2;
    j->n1 = n1;
    int rc = sq_submit(X(s), j, write);
    if (rc < 0) free(j);
    return rc;
}

int sqlite_submit_args(store *s, sq_run_fn run, int write, uint64_t deadline, store_done_cb cb,
                       void *ctx, const void *args, size_t len, void *out)
{
    void *copy = malloc(len);
    sq_job *j = copy ? sq_job_new(run, deadline, cb, ctx) : NULL;
    if (!j) {
        free(copy);
        return STORE_BUSY;
    }
    memcpy(copy, args, len);
    j->in = j->owned = copy;
    j->out = out;
    int rc = sq_submit(X(s), j, write);
    if (rc < 0) {
        free(copy);
        free(j);
    }
    return rc;
}

/* ---- ping ---------------------------------------------------------------- */

static int run_ping(sq_conn *c, sq_job *j)
{
    (void)j;
    sqlite3_stmt *st = sq_prep(c, "SELECT 1");
    if (!st) return STORE_IO;
    return sq_rc(c, sqlite3_step(st));
}

static int s_ping(store *s, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_ping, 0, d, cb, ctx, NULL, NULL, NULL, NULL, 0);
}

/* ---- users --------------------------------------------------------------- */

int sqlite_audit(sq_conn *c, int64_t at, const char *actor, const char *action, const char *entity,
                 const char *entity_id, const char *detail)
{
    static const char sql[] = "INSERT INTO audit_log(at, actor_id, action, entity, entity_id, detail)"
                              " VALUES (?,?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, entity_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, detail, -1, SQLITE_STATIC);
    return sq_rc(c, sqlite3_step(st));
}

static int run_user_create(sq_conn *c, sq_job *j)
{
    const store_user *u = j->in;
    static const char sql[] = "INSERT INTO users(id, email, name, role, password_hash, created_at)"
                              " VALUES (?,?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, u->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, u->created_at);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"role\":\"%s\",\"ip\":\"%s\"}", u->role, j->s1 ? j->s1 : "");
    return sqlite_audit(c, u->created_at, u->id, "user.created", "user", u->id, detail);
}

static int s_user_create(store *s, const store_user *u, const char *ip, uint64_t d,
                         store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_user_create, 1, d, cb, ctx, u, NULL, ip, NULL, 0);
}

static void read_user(sqlite3_stmt *st, int col, store_user *u)
{
    sqlite_copy_col(u->id, sizeof u->id, st, col + 0);
    sqlite_copy_col(u->email, sizeof u->email, st, col + 1);
    sqlite_copy_col(u->name, sizeof u->name, st, col + 2);
    sqlite_copy_col(u->role, sizeof u->role, st, col + 3);
    sqlite_copy_col(u->password_hash, sizeof u->password_hash, st, col + 4);
    u->created_at = sqlite3_column_int64(st, col + 5);
    sqlite_copy_col(u->status, sizeof u->status, st, col + 6);
}

static int run_user_by_email(sq_conn *c, sq_job *j)
{
    static const char sql[] = "SELECT id, email, name, role, password_hash, created_at, status"
                              " FROM users WHERE email = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    read_user(st, 0, j->out);
    return STORE_OK;
}

static int s_user_by_email(store *s, const char *email, store_user *out, uint64_t d,
                           store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_user_by_email, 0, d, cb, ctx, NULL, out, email, NULL, 0);
}

/* ---- sessions ------------------------------------------------------------ */

static int run_session_create(sq_conn *c, sq_job *j)
{
    const store_session *x = j->in;
    /* expired sessions of this user go first: the table cannot grow forever */
    static const char purge[] = "DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?";
    sqlite3_stmt *st = sq_prep(c, purge);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, x->user.id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, x->created_at);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    static const char sql[] = "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at,"
                              " expires_at) VALUES (?,?,?,?,?)";
    st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, x->token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, x->user.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, x->csrf_token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, x->created_at);
    sqlite3_bind_int64(st, 5, x->expires_at);
    return sq_rc(c, sqlite3_step(st));
}

static int s_session_create(store *s, const store_session *x, uint64_t d, store_done_cb cb,
                            void *ctx)
{
    return sqlite_submit(s, run_session_create, 1, d, cb, ctx, x, NULL, NULL, NULL, 0);
}

static int run_session_get(sq_conn *c, sq_job *j)
{
    static const char sql[] =
        "SELECT s.token_hash, s.csrf_token, s.created_at, s.expires_at,"
        " u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.status"
        " FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.token_hash = ? AND s.expires_at > ? AND u.status = 'active'";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->n1);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    store_session *out = j->out;
    sqlite_copy_col(out->token_hash, sizeof out->token_hash, st, 0);
    sqlite_copy_col(out->csrf_token, sizeof out->csrf_token, st, 1);
    out->created_at = sqlite3_column_int64(st, 2);
    out->expires_at = sqlite3_column_int64(st, 3);
    read_user(st, 4, &out->user);
    out->user.password_hash[0] = '\0'; /* never needed past login */
    return STORE_OK;
}

static int s_session_get(store *s, const char *h, int64_t now, store_session *out, uint64_t d,
                         store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_session_get, 0, d, cb, ctx, NULL, out, h, NULL, now);
}

static int run_session_delete(sq_conn *c, sq_job *j)
{
    static const char sql[] = "DELETE FROM sessions WHERE token_hash = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    return sqlite3_changes(c->db) ? STORE_OK : STORE_NOTFOUND;
}

static int s_session_delete(store *s, const char *h, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_session_delete, 1, d, cb, ctx, NULL, NULL, h, NULL, 0);
}

/* ---- lifecycle ----------------------------------------------------------- */

static int s_queue_depth(store *s)
{
    return sq_exec_depth(X(s));
}

static void s_events_watch(store *s, void (*fn)(void *, int64_t), void *data)
{
    sq_exec_on_events(X(s), fn, data);
}

static void s_close(store *s)
{
    sq_exec_stop(X(s));
    free(s);
}

static const store_vtbl sqlite_vtbl = {
    .name = "sqlite",
    .ping = s_ping,
    .user_create = s_user_create,
    .user_by_email = s_user_by_email,
    .session_create = s_session_create,
    .session_get = s_session_get,
    .session_delete = s_session_delete,
    .engineer_get = sqv_engineer_get,
    .profile_put = sqv_profile_put,
    .attempt_start = sqv_attempt_start,
    .attempt_get = sqv_attempt_get,
    .attempt_finish = sqv_attempt_finish,
    .vetting_queue = sqv_vetting_queue,
    .scorecard_create = sqv_scorecard_create,
    .audit_list = sqv_audit_list,
    .request_create = sqr_request_create,
    .request_get = sqr_request_get,
    .matchable_page = sqr_matchable_page,
    .candidate_get = sqr_candidate_get,
    .candidate_move = sqr_candidate_move,
    .invitations_list = sqr_invitations_list,
    .request_widen = sqr_request_widen,
    .request_deadline = sqr_request_deadline,
    .sla_board = sqr_sla_board,
    .requests_list = sqr_requests_list,
    .request_cancel = sqr_request_cancel,
    .notifications_list = sqr_notifications_list,
    .notifications_read = sqn_notifications_read,
    .conversations_list = sqt_conversations_list,
    .conversation_get = sqt_conversation_get,
    .messages_list = sqt_messages_list,
    .message_create = sqt_message_create,
    .conversation_read = sqt_conversation_read,
    .jobs_claim = sqj_jobs_claim,
    .job_done = sqj_job_done,
    .job_ensure = sqj_job_ensure,
    .events_watch = s_events_watch,
    .events_head = sqe_events_head,
    .events_after = sqe_events_after,
    .events_prune = sqe_events_prune,
    .interview_get = sqi_interview_get,
    .interview_propose = sqi_interview_propose,
    .interview_accept = sqi_interview_accept,
    .interview_cancel = sqi_interview_cancel,
    .mail_get = sqe_mail_get,
    .mail_result = sqe_mail_result,
    .outbox_list = sqe_outbox_list,
    .mail_digest = sqe_mail_digest,
    .mail_requeue = sqe_mail_requeue,
    .contract_offer = sqk_contract_offer,
    .contract_get = sqk_contract_get,
    .contract_answer = sqk_contract_answer,
    .idem_claim = sqk_idem_claim,
    .idem_release = sqk_idem_release,
    .idem_prune = sqk_idem_prune,
    .fund_begin = sqk_fund_begin,
    .fund_finish = sqk_fund_finish,
    .payment_get = sqk_payment_get,
    .milestone_move = sqk_milestone_move,
    .dispute_open = sqk_dispute_open,
    .dispute_resolve = sqk_dispute_resolve,
    .dispute_get = sqk_dispute_get,
    .framework_counts = sqp_framework_counts,
    .framework_pool = sqp_framework_pool,
    .disputes_list = sqk_disputes_list,
    .contract_end = sqk_contract_end,
    .timesheet_submit = sqk_timesheet_submit,
    .timesheet_approve = sqk_timesheet_approve,
    .review_create = sqk_review_create,
    .reviews_get = sqk_reviews_get,
    .reviews_publish = sqk_reviews_publish,
    .balance = sqlite_balance,
    .ledger_report = sqlite_ledger_report,
    .money_out_get = sqo_money_out_get,
    .money_out_result = sqo_money_out_result,
    .money_out_list = sqo_money_out_list,
    .refund_retry = sqo_refund_retry,
    .payout_batch = sqo_payout_batch,
    .payout_account_set = sqo_payout_account_set,
    .payout_account_get = sqo_payout_account_get,
    .contracts_list = sqk_contracts_list,
    .contract_receipts = sqk_contract_receipts,
    .contract_timesheets = sqk_contract_timesheets,
    .user_get = sqa_user_get,
    .user_rename = sqa_user_rename,
    .password_change = sqa_password_change,
    .users_list = sqa_users_list,
    .user_set_status = sqa_user_set_status,
    .queue_depth = s_queue_depth,
    .close = s_close,
};

/* Applies pending migrations on a connection of its own (start-up only:
 * this blocks, and runs before the loop does). */
static int migrate_sqlite(const char *path, int *applied, int *current, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (sq_open_conn(path, &db, 0, err, errlen) < 0) return -1;
    int rc = -1;
    char *msg = NULL;
    *applied = 0;
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                     " name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto out;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version),0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK)
        goto out;
    int have = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    int latest = sqlite_migrations[sqlite_migrations_count - 1].version;
    if (have > latest) {
        snprintf(err, errlen, "database schema version %d is newer than this binary knows (%d)",
                 have, latest);
        sqlite3_close(db);
        return -1;
    }
    /* foreign keys are off while migrations run (a table rebuild drops a
     * table others point at; with them on, ON DELETE CASCADE would empty
     * those) and checked before each commit; the pragma cannot change
     * inside a transaction, so it is set around them */
    if (sqlite3_exec(db, "PRAGMA foreign_keys=OFF", NULL, NULL, &msg) != SQLITE_OK) goto out;
    for (int i = 0; i < sqlite_migrations_count; i++) {
        const migration *m = &sqlite_migrations[i];
        if (m->version <= have) continue;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) goto out;
        if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        sqlite3_stmt *fk = NULL;
        int broken = 1;
        if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &fk, NULL) == SQLITE_OK)
            broken = sqlite3_step(fk) != SQLITE_DONE;
        sqlite3_finalize(fk);
        if (broken) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            msg = sqlite3_mprintf("version %d leaves rows whose foreign keys point nowhere", m->version);
            goto out;
        }
        char rec[256];
        snprintf(rec, sizeof rec,
                 "INSERT INTO schema_migrations(version, name, applied_at) VALUES (%d, '%s', %lld)",
                 m->version, m->name, (long long)clock_now_s());
        if (sqlite3_exec(db, rec, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        (*applied)++;
        have = m->version;
    }
    *current = have;
    rc = 0;
out:
    if (rc < 0) snprintf(err, errlen, "migration failed: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

static int is_postgres(const char *db)
{
    return strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0;
}

int store_migrate(const char *db, int *applied, int *current, char *err, size_t errlen)
{
    if (is_postgres(db)) {
        snprintf(err, errlen, "the PostgreSQL backend is not built yet; use a SQLite path");
        return -1;
    }
    return migrate_sqlite(db, applied, current, err, errlen);
}

store *store_open(uv_loop_t *loop, const char *db, int migrate, char *err, size_t errlen)
{
    if (is_postgres(db)) {
        snprintf(err, errlen, "the PostgreSQL backend is not built yet; use a SQLite path");
        return NULL;
    }
    if (migrate) {
        int applied = 0, current = 0;
        if (migrate_sqlite(db, &applied, &current, err, errlen) < 0) return NULL;
        if (applied) log_msgf(LOG_INFO, "applied %d migration(s); schema at version %d", applied, current);
    }
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->base.v = &sqlite_vtbl;
    s->x = sq_exec_start(loop, db, 2, err, errlen);
    if (!s->x) {
        free(s);
        return NULL;
    }
    return &s->base;
}

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK: return "ok";
    case STORE_NOTFOUND: return "not found";
    case STORE_CONFLICT: return "conflict";
    case STORE_TIMEOUT: return "deadline passed";
    case STORE_BUSY: return "database queue full";
    case STORE_IO: return "database error";
    case STORE_CLOSED: return "database closed";
    }
    return "unknown";
}
