/* api: the route table and the handlers behind it. Handlers are thin:
 * decode and validate the body, call the domain or the store, encode. Who
 * may call a route is declared in the table (routes.c) and checked before
 * any handler runs (dispatch.c). */
#ifndef OPX_API_H
#define OPX_API_H
#include "../http/router.h"
#include "../store/store.h"

extern const route api_routes[];
extern const int api_nroutes;

/* the server's dispatch(): test-only gate, authentication, roles, CSRF */
void api_dispatch(http_req *req);
/* static files for unmatched GET/HEAD */
void api_fallback(http_req *req);

/* JSON of a user as every endpoint shows it */
json_t *api_user_json(const char *id, const char *email, const char *name, const char *role,
                      int64_t created_at);
/* an RFC 3339 string, or null for 0 */
json_t *api_time_json(int64_t unix_s);
/* {"amount","currency"} */
json_t *api_money_json(int64_t amount, const char *currency);
/* an engineer as the viewer (req's caller) may see it */
json_t *api_engineer_json(const store_engineer *e, const http_req *viewer);
/* a request with its candidates, as its owner sees it */
json_t *api_request_json(const store_request *r);
/* 409 for a vetting move the store refused, with "state" and details */
void api_vetting_conflict(http_req *req, const store_vet_result *res);
/* problem for a failed store call: 503 with Retry-After for busy/timeout */
void api_store_error(http_req *req, int rc);
/* a list's query: ?limit (1..max, dflt when absent) and the cursor
 * parameter `name` ("<prefix><digits>" as this server gave it out, 0 when
 * absent); what is wrong goes to errs */
void api_page_params(http_req *req, jv_errors *errs, long dflt, long max, const char *name, char prefix, long *limit,
                     long long *cursor);
/* a list's answer, the twin of api_page_params: 200 {"items": items,
 * "next_cursor": "<prefix><cursor>" when more may follow, else null};
 * takes items */
void api_respond_page(http_req *req, json_t *items, int more, char prefix, long long cursor);

/* After starting a store call for req: on failure answers it (503/500);
 * on success takes the reference that the callback drops. */
static inline void api_track(http_req *req, int rc)
{
    if (rc < 0) api_store_error(req, rc);
    else http_req_ref(req);
}
/* A store call whose result is too large for the request's arena: the
 * result (out, zeroed) is malloc'd here and freed by api_call_end. */
typedef struct {
    http_req *req;
    void *out;
    int limit; /* for paged lists */
} api_call;

/* NULL when memory is short (then 503 is answered) */
api_call *api_call_new(http_req *req, size_t out_size);
/* after the store call: on failure answers it and frees out; on success
 * takes the reference the callback gives back with api_call_end */
void api_call_track(api_call *c, int rc);
void api_call_end(api_call *c);

/* After conversation_get returned rc into v: 1 when req's caller may go
 * on (a party; an admin when !write), else the problem (404 to outsiders,
 * 403 to admins writing, 503 for store trouble) is answered and 0. */
int api_conversation_access(http_req *req, int rc, const store_conversation *v, int write);

/* contracts and money (contracts.c, money.c) */
json_t *api_milestone_json(const store_contract *k, const store_milestone *m);
json_t *api_contract_json(const store_contract *k);
/* 409 wrong-state naming the entity and its state (403 for a wrong party) */
void api_money_conflict(http_req *req, const store_money_conflict *why);
json_t *api_dispute_json(const store_dispute *d);
json_t *api_timesheet_json(const store_timesheet *t);

/* handlers */
void api_healthz(http_req *req);
void api_readyz(http_req *req);
void api_metrics(http_req *req);
void api_openapi(http_req *req);
void api_test_clock(http_req *req);
void api_register(http_req *req);
void api_login(http_req *req);
/* the login limits' bucket key for an IP ("ip") or an email ("acct"): a
 * hash, 32 hex digits, the same on every node */
void login_limit_key(const char *what, const char *value, char out[33]);
void api_logout(http_req *req);
void api_me(http_req *req);
void api_auth_session(http_req *req);
void api_me_patch(http_req *req);
void api_me_password(http_req *req);
void api_skills(http_req *req);
void api_terms(http_req *req);
void api_frameworks(http_req *req);
void api_framework_get(http_req *req);
void api_profile_get(http_req *req);
void api_profile_put(http_req *req);
void api_engineer_get(http_req *req);
void api_engineer_audit(http_req *req);
void api_assessment_start(http_req *req);
void api_assessment_get(http_req *req);
void api_assessment_submit(http_req *req);
void api_vetting_queue(http_req *req);
void api_scorecard(http_req *req);
void api_request_create(http_req *req);
void api_request_get(http_req *req);
void api_requests_list(http_req *req);
void api_request_cancel(http_req *req);
void api_invitations(http_req *req);
void api_candidate_accept(http_req *req);
void api_candidate_decline(http_req *req);
void api_admin_sla(http_req *req);
void api_admin_users(http_req *req);
void api_user_suspend(http_req *req);
void api_user_reactivate(http_req *req);
void api_notifications(http_req *req);
void api_notifications_read(http_req *req);
void api_conversations(http_req *req);
void api_messages_list(http_req *req);
void api_message_post(http_req *req);
void api_conversation_read(http_req *req);
void api_events(http_req *req);
void api_interview_get(http_req *req);
void api_outbox_list(http_req *req);
void api_contract_offer(http_req *req);
void api_contract_get(http_req *req);
void api_contracts_list(http_req *req);
void api_contract_payments(http_req *req);
void api_contract_timesheets(http_req *req);
void api_contract_accept(http_req *req);
void api_contract_decline(http_req *req);
void api_milestone_fund(http_req *req);
void api_milestone_submit(http_req *req);
void api_milestone_approve(http_req *req);
void api_milestone_changes(http_req *req);
void api_contract_end(http_req *req);
void api_milestone_dispute(http_req *req);
void api_dispute_resolve(http_req *req);
void api_dispute_get(http_req *req);
void api_admin_disputes(http_req *req);
void api_balance(http_req *req);
void api_my_payouts(http_req *req);
void api_admin_payouts(http_req *req);
void api_admin_refunds(http_req *req);
void api_payout_account_get(http_req *req);
void api_payout_account_put(http_req *req);
void api_payouts_run(http_req *req);
void api_refund_retry(http_req *req);
json_t *api_money_out_json(const store_money_out *o);
void api_timesheet_submit(http_req *req);
void api_timesheet_approve(http_req *req);
void api_review_create(http_req *req);
void api_stripe_webhook(http_req *req);
void api_reviews_get(http_req *req);
void api_admin_ledger(http_req *req);
void api_outbox_get(http_req *req);
void api_outbox_retry(http_req *req);
void api_interview_propose(http_req *req);
void api_interview_accept(http_req *req);
void api_interview_cancel(http_req *req);
#endif
