/* store: the store's one table of operations (store_vtbl), each a
 * transaction of src/store/tx_*.c, over the database store_open chose;
 * submitting a transaction as a job of that database's driver. */
#include "../core/log.h"
#include "db.h"
#include "tx_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    store base;
    database *d;
} db_store;

static database *D(store *s)
{
    return ((db_store *)s)->d;
}

/* hands j to the driver; when it refuses, frees j and what j owns */
static int submit(store *s, db_job *j, int write)
{
    database *d = D(s);
    int rc = d->drv->submit(d, j, write);
    if (rc < 0) {
        free(j->owned);
        free(j);
    }
    return rc;
}

int store_submit(store *s, db_run_fn run, int write, uint64_t deadline, store_done_cb cb,
                 void *ctx, const void *in, void *out, const char *s1, const char *s2, int64_t n1)
{
    db_job *j = db_job_new(run, deadline, cb, ctx);
    if (!j) return STORE_BUSY;
    j->in = in;
    j->out = out;
    j->s1 = s1;
    j->s2 = s2;
    j->n1 = n1;
    return submit(s, j, write);
}

int store_submit_args(store *s, db_run_fn run, int write, uint64_t deadline, store_done_cb cb,
                      void *ctx, const void *args, size_t len, void *out)
{
    void *copy = malloc(len);
    db_job *j = copy ? db_job_new(run, deadline, cb, ctx) : NULL;
    if (!j) {
        free(copy);
        return STORE_BUSY;
    }
    memcpy(copy, args, len);
    j->in = j->owned = copy;
    j->out = out;
    return submit(s, j, write);
}

/* ---- lifecycle ----------------------------------------------------------- */

static int s_queue_depth(store *s)
{
    database *d = D(s);
    return d->drv->depth(d);
}

static void s_stats(store *s, store_stats *out)
{
    database *d = D(s);
    memset(out, 0, sizeof *out);
    d->drv->stats(d, out);
}

static void s_events_watch(store *s, void (*fn)(void *, int64_t), void *data)
{
    database *d = D(s);
    d->drv->on_events(d, fn, data);
}

static void s_notices_watch(store *s, void (*fn)(void *, const char *), void *data)
{
    database *d = D(s);
    if (d->drv->on_notices) d->drv->on_notices(d, fn, data);
}

typedef struct {
    char topic[16], arg[DB_NOTICE_MAX];
} notice_args;

static int run_notice(db_conn *c, db_job *j)
{
    const notice_args *a = j->in;
    db_notice(c, a->topic, a->arg);
    return STORE_OK;
}

/* the callback of a job nobody waits for: ctx says what was lost */
static void log_if_lost(void *ctx, int rc)
{
    if (rc < 0 && rc != STORE_CLOSED) log_msgf(LOG_WARN, "%s: %s", (const char *)ctx, store_strerror(rc));
}

static int s_node_beat(store *s, const char *node_id, int alive_s, uint64_t deadline_ns)
{
    database *d = D(s);
    if (!d->drv->shared) return STORE_OK; /* alone on the database: nobody asks */
    return tx_node_beat(s, node_id, alive_s, deadline_ns, log_if_lost, "this node's heartbeat was not recorded");
}

static int s_notice(store *s, const char *topic, const char *arg, uint64_t deadline_ns)
{
    database *d = D(s);
    if (!d->drv->notice) return STORE_OK; /* nobody else to tell */
    notice_args a;
    snprintf(a.topic, sizeof a.topic, "%s", topic);
    snprintf(a.arg, sizeof a.arg, "%s", arg);
    return store_submit_args(s, run_notice, 1, deadline_ns, log_if_lost, "a notice to the other nodes was lost", &a,
                             sizeof a, NULL);
}

static void s_close(store *s)
{
    database *d = D(s);
    d->drv->close(d);
    free(s);
}

static const store_vtbl store_ops = {
    .ping = tx_ping,
    .user_create = tx_user_create,
    .user_by_email = tx_user_by_email,
    .session_create = tx_session_create,
    .session_get = tx_session_get,
    .session_delete = tx_session_delete,
    .engineer_get = tx_engineer_get,
    .profile_put = tx_profile_put,
    .attempt_start = tx_attempt_start,
    .attempt_get = tx_attempt_get,
    .attempt_finish = tx_attempt_finish,
    .vetting_queue = tx_vetting_queue,
    .scorecard_create = tx_scorecard_create,
    .audit_list = tx_audit_list,
    .challenge_start = tx_challenge_start,
    .challenge_get = tx_challenge_get,
    .challenge_latest = tx_challenge_latest,
    .challenge_submit = tx_challenge_submit,
    .challenge_claim = tx_challenge_claim,
    .challenge_grade = tx_challenge_grade,
    .challenge_release = tx_challenge_release,
    .challenge_queue = tx_challenge_queue,
    .request_create = tx_request_create,
    .request_get = tx_request_get,
    .matchable_page = tx_matchable_page,
    .candidate_get = tx_candidate_get,
    .candidate_move = tx_candidate_move,
    .invitations_list = tx_invitations_list,
    .request_widen = tx_request_widen,
    .request_deadline = tx_request_deadline,
    .sla_board = tx_sla_board,
    .requests_list = tx_requests_list,
    .request_cancel = tx_request_cancel,
    .notifications_list = tx_notifications_list,
    .notifications_read = tx_notifications_read,
    .conversations_list = tx_conversations_list,
    .conversation_get = tx_conversation_get,
    .messages_list = tx_messages_list,
    .message_create = tx_message_create,
    .conversation_read = tx_conversation_read,
    .jobs_claim = tx_jobs_claim,
    .job_done = tx_job_done,
    .job_ensure = tx_job_ensure,
    .events_watch = s_events_watch,
    .notices_watch = s_notices_watch,
    .notice = s_notice,
    .node_beat = s_node_beat,
    .events_head = tx_events_head,
    .events_after = tx_events_after,
    .events_prune = tx_events_prune,
    .interview_get = tx_interview_get,
    .interview_propose = tx_interview_propose,
    .interview_accept = tx_interview_accept,
    .interview_cancel = tx_interview_cancel,
    .mail_get = tx_mail_get,
    .mail_result = tx_mail_result,
    .outbox_list = tx_outbox_list,
    .mail_digest = tx_mail_digest,
    .mail_requeue = tx_mail_requeue,
    .contract_offer = tx_contract_offer,
    .contract_get = tx_contract_get,
    .contract_answer = tx_contract_answer,
    .idem_claim = tx_idem_claim,
    .idem_release = tx_idem_release,
    .idem_prune = tx_idem_prune,
    .fund_begin = tx_fund_begin,
    .fund_finish = tx_fund_finish,
    .payment_get = tx_payment_get,
    .milestone_move = tx_milestone_move,
    .dispute_open = tx_dispute_open,
    .dispute_resolve = tx_dispute_resolve,
    .dispute_get = tx_dispute_get,
    .framework_counts = tx_framework_counts,
    .framework_pool = tx_framework_pool,
    .disputes_list = tx_disputes_list,
    .contract_end = tx_contract_end,
    .timesheet_submit = tx_timesheet_submit,
    .timesheet_approve = tx_timesheet_approve,
    .review_create = tx_review_create,
    .reviews_get = tx_reviews_get,
    .reviews_publish = tx_reviews_publish,
    .balance = tx_balance,
    .ledger_report = tx_ledger_report,
    .money_out_get = tx_money_out_get,
    .money_out_result = tx_money_out_result,
    .money_out_list = tx_money_out_list,
    .refund_retry = tx_refund_retry,
    .payout_batch = tx_payout_batch,
    .payout_account_set = tx_payout_account_set,
    .payout_account_get = tx_payout_account_get,
    .contracts_list = tx_contracts_list,
    .contract_receipts = tx_contract_receipts,
    .contract_timesheets = tx_contract_timesheets,
    .user_get = tx_user_get,
    .user_rename = tx_user_rename,
    .password_change = tx_password_change,
    .users_list = tx_users_list,
    .user_set_status = tx_user_set_status,
    .queue_depth = s_queue_depth,
    .stats = s_stats,
    .close = s_close,
};

const char *store_backend(store *s)
{
    return D(s)->drv->name;
}

int store_migrate(const char *url, int *applied, int *current, char *err, size_t errlen)
{
    return db_migrate(url, applied, current, err, errlen);
}

void store_set_pool_size(int n)
{
    db_set_pool_size(n);
}

store *store_open(uv_loop_t *loop, const char *url, int migrate, char *err, size_t errlen)
{
    db_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.v = &store_ops;
    s->d = db_open(loop, url, migrate, err, errlen);
    if (!s->d) {
        free(s);
        return NULL;
    }
    return &s->base;
}

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK:
        return "ok";
    case STORE_NOTFOUND:
        return "not found";
    case STORE_CONFLICT:
        return "conflict";
    case STORE_TIMEOUT:
        return "deadline passed";
    case STORE_BUSY:
        return "database queue full";
    case STORE_IO:
        return "database error";
    case STORE_CLOSED:
        return "database closed";
    case STORE_UNAVAILABLE:
        return "database unreachable";
    }
    return "unknown";
}
