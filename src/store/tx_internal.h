/* tx_internal: what the transaction files share: submitting a job, the
 * audit writer, events, mails, jobs and money moves inside a running
 * transaction. Not for use above src/store/. */
#ifndef OPX_TX_INTERNAL_H
#define OPX_TX_INTERNAL_H
#include "../core/buf.h"
#include "../core/token.h"
#include "../rules/ledger.h"
#include "db.h"
#include "store.h"

int store_submit(store *s, db_run_fn run, int write, uint64_t deadline, store_done_cb cb, void *ctx,
                 const void *in, void *out, const char *s1, const char *s2, int64_t n1);
/* store_submit for arguments that do not fit s1/s2/n1: a copy of the
 * len bytes at args rides with the job (j->in) and is freed after the
 * callback; pointers inside it must stay valid until then */
int store_submit_args(store *s, db_run_fn run, int write, uint64_t deadline, store_done_cb cb,
                      void *ctx, const void *args, size_t len, void *out);
int tx_audit(db_conn *c, int64_t at, const char *actor, const char *action, const char *entity,
             const char *entity_id, const char *detail);

/* tx_users.c */
int tx_ping(store *s, uint64_t d, store_done_cb cb, void *ctx);
int tx_user_create(store *s, const store_user *u, const char *ip, uint64_t d, store_done_cb cb,
                   void *ctx);
int tx_user_by_email(store *s, const char *email, store_user *out, uint64_t d, store_done_cb cb,
                     void *ctx);
int tx_session_create(store *s, const store_session *x, uint64_t d, store_done_cb cb, void *ctx);
int tx_session_get(store *s, const char *h, int64_t now, store_session *out, uint64_t d,
                   store_done_cb cb, void *ctx);
int tx_session_delete(store *s, const char *h, uint64_t d, store_done_cb cb, void *ctx);

/* tx_jobs.c: scheduling inside a running transaction */
int tx_job_schedule(db_conn *c, const char *kind, const char *ref, int64_t run_at);
/* schedules kind/ref unless one is pending already (which keeps its time) */
int tx_job_schedule_once(db_conn *c, const char *kind, const char *ref, int64_t run_at);
/* the pending kind/ref job has nothing left to do (its effect was overtaken) */
int tx_job_cancel(db_conn *c, const char *kind, const char *ref, int64_t now);
int tx_job_mark_done(db_conn *c, const char *id, int64_t now, const char *error);
int tx_jobs_claim(store *s, int64_t now, int lease_s, store_job_batch *out, uint64_t d,
                  store_done_cb cb, void *ctx);
int tx_job_ensure(store *s, const char *kind, const char *ref, int64_t run_at, uint64_t d,
                  store_done_cb cb, void *ctx);
int tx_job_done(store *s, const char *id, int64_t now, const char *error, uint64_t d,
                store_done_cb cb, void *ctx);

/* tx_requests.c */
int tx_request_create(store *s, const store_request *r, uint64_t d, store_done_cb cb, void *ctx);
int tx_request_get(store *s, const char *id, store_request *out, uint64_t d, store_done_cb cb,
                   void *ctx);

int tx_matchable_page(store *s, const char *after, store_match_page *out, uint64_t d,
                      store_done_cb cb, void *ctx);

int tx_candidate_get(store *s, const char *id, store_candidate *out, uint64_t d, store_done_cb cb,
                     void *ctx);
int tx_candidate_move(store *s, const char *candidate_id, const char *engineer_id, const char *to,
                      const char *reason, int64_t now, const char *job_id,
                      const store_candidate *repl, int nrepl, store_move_result *res, uint64_t d,
                      store_done_cb cb, void *ctx);
int tx_invitations_list(store *s, const char *engineer_id, int64_t now, store_invitations *out,
                        uint64_t d, store_done_cb cb, void *ctx);
int tx_request_widen(store *s, const store_request *r, const char *job_id, int64_t now, uint64_t d,
                     store_done_cb cb, void *ctx);
int tx_request_deadline(store *s, const char *request_id, const char *job_id, int64_t now,
                        store_move_result *res, uint64_t d, store_done_cb cb, void *ctx);
int tx_requests_list(store *s, const char *client_id, int64_t before_seq, int limit,
                     store_request_list *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_notifications_list(store *s, const char *user_id, store_notifications *out, uint64_t d,
                          store_done_cb cb, void *ctx);
int tx_sla_board(store *s, store_sla_board *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_request_cancel(store *s, const char *id, const char *actor, const char *client_id,
                      const char *reason, int64_t now, store_request *out,
                      store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx);

/* tx_events.c: events and mails inside a running transaction */
/* runs sql (one row, one text column) with the text parameters given and
 * returns a malloc'd copy of the text; NULL on error (rc says why) */
char *tx_json_row(db_conn *c, int sql, int *rc, int nparams, ...);
/* the same, also copying the row's second column (e.g. whom it concerns) into col1 */
char *tx_json_row_with(db_conn *c, int sql, int *rc, char *col1, size_t col1_cap, int nparams, ...);
int tx_event(db_conn *c, const char *user_id, const char *kind, const char *payload, int64_t now);
/* the same event to both parties of a conversation */
int tx_event_parties(db_conn *c, const char *conversation_id, const char *kind, const char *payload,
                     int64_t now);
/* the same event to every admin */
int tx_event_admins(db_conn *c, const char *kind, const char *payload, int64_t now);
/* queues a mail of kind to user_id (data: the template's JSON) and its job */
int tx_mail(db_conn *c, const char *user_id, const char *kind, const char *data, int64_t now);
int tx_events_head(store *s, int64_t out[2], uint64_t d, store_done_cb cb, void *ctx);
int tx_events_after(store *s, const char *user_id, int64_t after, int limit, store_event_page *out,
                    uint64_t d, store_done_cb cb, void *ctx);
int tx_events_prune(store *s, int64_t before, int64_t *max_deleted, uint64_t d, store_done_cb cb,
                    void *ctx);
int tx_mail_get(store *s, const char *id, store_mail *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_mail_result(store *s, const store_mail_result *r, uint64_t d, store_done_cb cb, void *ctx);
int tx_outbox_list(store *s, const char *status, int64_t before_seq, int limit, store_outbox *out,
                   uint64_t d, store_done_cb cb, void *ctx);
int tx_mail_requeue(store *s, const char *id, int64_t now, store_mail *out, uint64_t d,
                    store_done_cb cb, void *ctx);
int tx_mail_digest(store *s, const char *job_id, const char *ref, int64_t now, uint64_t d,
                   store_done_cb cb, void *ctx);

/* tx_interviews.c */
int tx_interview_get(store *s, const char *conversation_id, store_interview *out, uint64_t d,
                     store_done_cb cb, void *ctx);
int tx_interview_propose(store *s, const store_interview *iv, store_interview *out, uint64_t d,
                         store_done_cb cb, void *ctx);
int tx_interview_accept(store *s, const char *id, int64_t slot, int64_t now, store_interview *out,
                        uint64_t d, store_done_cb cb, void *ctx);
int tx_interview_cancel(store *s, const char *id, const char *user_id, int64_t now,
                        store_interview *out, uint64_t d, store_done_cb cb, void *ctx);

/* tx_requests.c: the request of a contract that starts becomes filled */
int tx_request_fill(db_conn *c, const char *request_id, const char *actor, int64_t now);

/* tx_contracts.c: shared with the other money files */
int tx_contract_read(db_conn *c, const char *id, store_contract *k);
/* sets k->engineer_busy: whether k's engineer holds an active contract now */
int tx_engineer_busy(db_conn *c, store_contract *k);
/* the contract holding milestone_id */
int tx_contract_of(db_conn *c, const char *milestone_id, store_contract *k);
const store_milestone *tx_milestone_find(const store_contract *k, const char *id);
/* events to both parties; a mail (subject, text) to mail_to unless NULL */
/* the contract's event to both parties, and its mail (words from
 * rules/notices.c) to mail_to unless NULL */
int tx_contract_announce(db_conn *c, const store_contract *k, const char *kind, const char *mail_to,
                         int64_t now);
void tx_money_conflict(store_money_conflict *why, const char *entity, const char *state,
                       const char *detail);
/* renders the idempotent answer from k and saves it with the key */
int tx_idem_save(db_conn *c, store_idem_done *idem, const store_contract *k, int64_t now);
/* appends t (checked) and moves the balances; CONFLICT when one would go negative */
int tx_ledger_post(db_conn *c, const ledger_txn *t, int64_t now);
int tx_contract_offer(store *s, store_contract *k, store_money_conflict *why, uint64_t d,
                      store_done_cb cb, void *ctx);
int tx_contract_get(store *s, const char *id, store_contract *out, uint64_t d, store_done_cb cb,
                    void *ctx);
int tx_contract_answer(store *s, const char *id, const char *engineer_id, const char *to,
                       int64_t now, store_contract *out, store_money_conflict *why, uint64_t d,
                       store_done_cb cb, void *ctx);
int tx_idem_claim(store *s, const store_idem *in, int64_t now, store_idem_result *out, uint64_t d,
                  store_done_cb cb, void *ctx);
int tx_idem_prune(store *s, int64_t before, const char *job_id, int64_t now, int64_t next_run_at,
                  int64_t *deleted, uint64_t d, store_done_cb cb, void *ctx);
/* node_id alive for alive_s more seconds of the database's time; 0: gone
 * (node_id must outlive the job) */
int tx_node_beat(store *s, const char *node_id, int64_t alive_s, uint64_t d, store_done_cb cb, void *ctx);
int tx_idem_release(store *s, const char *user_id, const char *key, uint64_t d, store_done_cb cb,
                    void *ctx);
int tx_fund_begin(store *s, const char *milestone_id, const char *client_id, store_payment *p,
                  int64_t now, store_contract *out, store_money_conflict *why, uint64_t d,
                  store_done_cb cb, void *ctx);
int tx_payment_get(store *s, const char *id, store_payment *out, uint64_t d, store_done_cb cb,
                   void *ctx);
int tx_fund_finish(store *s, const store_payment *p, int64_t now, store_idem_done *idem, uint64_t d,
                   store_done_cb cb, void *ctx);
int tx_milestone_move(store *s, const char *milestone_id, const char *user_id, const char *to,
                      const char *note, const char *links, int64_t now, store_idem_done *idem,
                      store_contract *out, store_money_conflict *why, uint64_t d, store_done_cb cb,
                      void *ctx);

int tx_dispute_open(store *s, const char *milestone_id, const char *user_id, const char *reason,
                    int64_t now, store_dispute *out, store_contract *k, store_money_conflict *why,
                    uint64_t d, store_done_cb cb, void *ctx);
int tx_dispute_resolve(store *s, const char *dispute_id, const char *admin_id, int64_t release,
                       int64_t refund, int64_t now, store_idem_done *idem, store_dispute *out,
                       store_contract *k, store_money_conflict *why, uint64_t d, store_done_cb cb,
                       void *ctx);
/* tx_pools.c: the vetted pool's public figures, as JSON text (malloc'd) */
int tx_framework_counts(store *s, const char *ids_json, char **out, uint64_t d, store_done_cb cb,
                        void *ctx);
int tx_framework_pool(store *s, const char *skill_id, char **out, uint64_t d, store_done_cb cb,
                      void *ctx);
int tx_dispute_get(store *s, const char *id, store_dispute_view *out, uint64_t d, store_done_cb cb,
                   void *ctx);
int tx_disputes_list(store *s, const char *status, int after_open, int64_t after_seq, int limit,
                     store_dispute_list *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_contract_end(store *s, const char *id, const char *user_id, int64_t now, store_contract *out,
                    store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx);

/* tx_money_out.c: the card refund of amount (escrow just moved back
 * in the ledger) queued against the milestone's charge, with its job; its
 * id into id unless NULL */
int tx_refund_queue(db_conn *c, const char *milestone_id, int64_t amount, const char *currency,
                    int64_t now, char id[ID_STR_MAX]);
int tx_money_out_get(store *s, const char *kind, const char *id, store_money_out *out, uint64_t d,
                     store_done_cb cb, void *ctx);
int tx_money_out_result(store *s, const store_money_out_result *r, int64_t now,
                        store_money_out *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_money_out_list(store *s, const char *kind, const char *status, const char *owner_id,
                      int64_t before_seq, int limit, store_money_out_list *out, uint64_t d,
                      store_done_cb cb, void *ctx);
int tx_refund_retry(store *s, const char *id, const char *admin_id, int64_t now,
                    store_idem_done *idem, store_money_out *out, uint64_t d, store_done_cb cb,
                    void *ctx);
int tx_payout_batch(store *s, const store_payout_run *run, store_idem_done *idem,
                    store_payout_batch *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_payout_account_set(store *s, const char *user_id, const char *stripe_account, int64_t now,
                          uint64_t d, store_done_cb cb, void *ctx);
int tx_payout_account_get(store *s, const char *user_id, char out[STORE_PAYOUT_ACCOUNT_MAX],
                          int64_t *updated_at, uint64_t d, store_done_cb cb, void *ctx);

/* tx_timesheets.c */
int tx_open_next_week(db_conn *c, const store_contract *k, const char *week, int position,
                      int64_t now);
int tx_timesheet_submit(store *s, const char *contract_id, const char *engineer_id,
                        const char *week_start, int hours, const char *note, int64_t now,
                        store_timesheet *out, store_contract *k, store_money_conflict *why,
                        uint64_t d, store_done_cb cb, void *ctx);
int tx_timesheet_approve(store *s, const char *timesheet_id, const char *user_id, int64_t now,
                         store_idem_done *idem, store_timesheet *out, store_contract *k,
                         store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx);

/* tx_reviews.c */
int tx_review_create(store *s, const char *contract_id, const char *author_id, int rating,
                     const char *comment, int64_t now, store_reviews *out,
                     store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx);
int tx_reviews_get(store *s, const char *contract_id, store_reviews *out, uint64_t d,
                   store_done_cb cb, void *ctx);
int tx_reviews_publish(store *s, const char *contract_id, const char *job_id, int64_t now,
                       uint64_t d, store_done_cb cb, void *ctx);

/* tx_ledger.c */

int tx_balance(store *s, const char *engineer_id, store_balance *out, uint64_t d, store_done_cb cb,
               void *ctx);
int tx_ledger_report(store *s, store_ledger_report *out, uint64_t d, store_done_cb cb, void *ctx);

/* tx_talk.c */
int tx_conversation_open(db_conn *c, const char *id, const char *candidate_id, int64_t now);
int tx_conversations_list(store *s, const char *user_id, store_conversation_list *out, uint64_t d,
                          store_done_cb cb, void *ctx);
int tx_conversation_get(store *s, const char *id, store_conversation *out, uint64_t d,
                        store_done_cb cb, void *ctx);
int tx_messages_list(store *s, const char *conversation_id, int64_t after, int limit,
                     store_message_page *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_message_create(store *s, store_message *m, uint64_t d, store_done_cb cb, void *ctx);
int tx_conversation_read(store *s, const char *conversation_id, const char *user_id,
                         const char *message_id, uint64_t d, store_done_cb cb, void *ctx);

/* tx_contract_views.c */
int tx_contracts_list(store *s, const store_contract_filter *f, store_contract_list *out,
                      uint64_t d, store_done_cb cb, void *ctx);
int tx_contract_receipts(store *s, const char *contract_id, const char *user_id,
                         store_receipts *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_contract_timesheets(store *s, const char *contract_id, const char *user_id,
                           store_timesheet_list *out, uint64_t d, store_done_cb cb, void *ctx);

/* tx_notifications.c */
int tx_notifications_read(store *s, const char *user_id, int64_t up_to, int64_t now, int *unread,
                          uint64_t d, store_done_cb cb, void *ctx);

/* tx_accounts.c */
/* deletes user_id's sessions except keep (NULL: all); *ended = how many (unless NULL) */
int tx_sessions_end(db_conn *c, const char *user_id, const char *keep, int *ended);
int tx_user_get(store *s, const char *id, store_user *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_user_rename(store *s, const char *id, const char *name, int64_t now, store_user *out,
                   uint64_t d, store_done_cb cb, void *ctx);
int tx_users_list(store *s, const store_account_filter *f, store_account_list *out, uint64_t d,
                  store_done_cb cb, void *ctx);
int tx_user_set_status(store *s, const char *id, const char *to, const char *admin_id,
                       const char *reason, int64_t now, store_account *out, int *ended, uint64_t d,
                       store_done_cb cb, void *ctx);
int tx_password_change(store *s, const char *user_id, const char *hash, const char *keep_session,
                       int64_t now, int *ended, uint64_t d, store_done_cb cb, void *ctx);

/* tx_vetting.c */
int tx_engineer_get(store *s, const char *user_id, store_engineer *out, uint64_t d,
                    store_done_cb cb, void *ctx);
int tx_profile_put(store *s, const store_engineer *in, int64_t now, store_engineer *out, uint64_t d,
                   store_done_cb cb, void *ctx);
int tx_attempt_start(store *s, const store_attempt *a, store_vet_result *res, uint64_t d,
                     store_done_cb cb, void *ctx);
int tx_attempt_get(store *s, const char *id, store_attempt *out, uint64_t d, store_done_cb cb,
                   void *ctx);
int tx_attempt_finish(store *s, const store_attempt *a, int64_t now, store_vet_result *res,
                      uint64_t d, store_done_cb cb, void *ctx);
int tx_vetting_queue(store *s, store_queue *out, uint64_t d, store_done_cb cb, void *ctx);
int tx_scorecard_create(store *s, const store_scorecard *sc, store_vet_result *res, uint64_t d,
                        store_done_cb cb, void *ctx);
int tx_audit_list(store *s, const char *entity, const char *entity_id, store_audit *out, uint64_t d,
                  store_done_cb cb, void *ctx);
/* tx_challenges.c */
int tx_challenge_start(store *s, const store_challenge *a, const store_challenge_rules *rules,
                       store_vet_result *res, uint64_t d, store_done_cb cb, void *ctx);
int tx_challenge_get(store *s, const char *id, store_challenge *out, uint64_t d, store_done_cb cb,
                     void *ctx);
int tx_challenge_latest(store *s, const char *user_id, store_challenge *out, uint64_t d,
                        store_done_cb cb, void *ctx);
int tx_challenge_submit(store *s, const char *id, const char *user_id, const char *code, int64_t now,
                        int queue_max, store_vet_result *res, uint64_t d, store_done_cb cb, void *ctx);
int tx_challenge_claim(store *s, int64_t now, int lease_s, int max, store_challenge_batch *out,
                       uint64_t d, store_done_cb cb, void *ctx);
int tx_challenge_grade(store *s, const store_challenge *a, int64_t now, uint64_t d, store_done_cb cb,
                       void *ctx);
int tx_challenge_release(store *s, const store_challenge *a, uint64_t d, store_done_cb cb, void *ctx);
int tx_challenge_queue(store *s, store_challenge_queue *out, uint64_t d, store_done_cb cb, void *ctx);
#endif
