/* test_money: contracts and the ledger through the store: offer, answer,
 * fund (begin, finish, a retry of the same key, a declined card), submit,
 * approve (release with the fee), request changes, and the balances the
 * ledger report and an engineer's balance show after each. */
#include "harness.h"

static char acct_buf[96];
static const char *A(const char *kind, const char *owner)
{
    if (!owner)
        snprintf(acct_buf, sizeof acct_buf, "%s:EUR", kind);
    else if (strcmp(kind, "escrow") == 0)
        snprintf(acct_buf, sizeof acct_buf, "escrow:%s", owner);
    else
        snprintf(acct_buf, sizeof acct_buf, "%s:%s:EUR", kind, owner);
    return acct_buf;
}

static void assert_ledger_clean(void)
{
    store_ledger_report *r = NEW(store_ledger_report);
    OK(ledger_report, r);
    cr_assert_eq(r->violations, 0, "ledger: %s", r->report);
    free(r->report);
}

STORE_TEST(money_offer_answer_hires_and_fills)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {100000, 50000};
    store_contract *k = fx_contract(&p, amounts, 2, 1000, 0);
    STR_EQ(k->client_id, p.client->id);
    STR_EQ(k->engineer_id, p.engineer->id);
    STR_EQ(k->request_id, p.r->id);
    STR_EQ(k->client_name, "Carla");
    STR_EQ(k->engineer_name, "Erik");
    STR_EQ(k->type, "fixed");
    cr_assert_eq(k->fee_bps, 1000);
    cr_assert_eq(k->nmilestones, 2);
    cr_assert_eq(k->milestones[0].position, 1);
    cr_assert_eq(k->milestones[1].amount, 50000);
    STR_EQ(k->milestones[0].status, "pending");
    STR_EQ(k->milestones[0].due, "2030-01-01");
    cr_assert_eq(k->escrow, 0);
    /* a second open contract on the same candidate is refused */
    store_money_conflict *why = NEW(store_money_conflict);
    store_contract *k2 = h_contract();
    *k2 = *k;
    id_new("ctr", k2->id);
    for (int i = 0; i < k2->nmilestones; i++) {
        id_new("mst", k2->milestones[i].id);
        k2->milestones[i].note = NULL;
    }
    cr_assert_eq(CALL(contract_offer, k2, why), STORE_CONFLICT);
    STR_EQ(why->entity, "contract");
    /* only the engineer answers */
    store_contract *out = h_contract();
    cr_assert_eq(CALL(contract_answer, k->id, p.client->id, "active", H.now + 300, out, why),
                 STORE_NOTFOUND);
    OK(contract_answer, k->id, p.engineer->id, "active", H.now + 300, out, why);
    STR_EQ(out->status, "active");
    cr_assert_eq(out->accepted_at, H.now + 300);
    cr_assert_eq(out->engineer_busy, 1);
    cr_assert_eq(CALL(contract_answer, k->id, p.engineer->id, "declined", H.now + 301, out, why),
                 STORE_CONFLICT);
    STR_EQ(why->entity, "contract");
    STR_EQ(why->state, "active");
    store_request *r = NEW(store_request);
    OK(request_get, p.r->id, r);
    STR_EQ(r->status, "filled");
    STR_EQ(r->cand[0].status, "hired");
    store_candidate *c = NEW(store_candidate);
    OK(candidate_get, p.cand->id, c);
    STR_EQ(c->status, "hired");
    store_contract_free(out);
    cr_assert_eq(CALL(contract_get, "ctr_nobody", out), STORE_NOTFOUND);
}

STORE_TEST(money_offer_needs_an_accepted_candidate_of_the_client)
{
    store_user *client = fx_user("client", "Carla");
    store_user *e = fx_engineer("Erik", 9000);
    store_request *r = fx_request(client, &e, 1);
    fx_parties p = {.client = client, .engineer = e, .r = r, .cand = &r->cand[0]};
    store_contract *k = h_contract();
    id_new("ctr", k->id);
    snprintf(k->candidate_id, sizeof k->candidate_id, "%s", p.cand->id);
    snprintf(k->client_id, sizeof k->client_id, "%s", client->id);
    snprintf(k->type, sizeof k->type, "fixed");
    snprintf(k->currency, sizeof k->currency, "EUR");
    k->fee_bps = 1000;
    k->created_at = H.now;
    k->nmilestones = 1;
    id_new("mst", k->milestones[0].id);
    snprintf(k->milestones[0].title, sizeof k->milestones[0].title, "All of it");
    k->milestones[0].amount = 1000;
    store_money_conflict *why = NEW(store_money_conflict);
    cr_assert_eq(CALL(contract_offer, k, why), STORE_CONFLICT);
    STR_EQ(why->entity, "candidate");
    STR_EQ(why->state, "invited");
    store_user *other = fx_user("client", "Olga");
    snprintf(k->client_id, sizeof k->client_id, "%s", other->id);
    cr_assert_eq(CALL(contract_offer, k, why), STORE_NOTFOUND);
}

STORE_TEST(money_declined_offer_leaves_the_request_open)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {1000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 0);
    store_money_conflict *why = NEW(store_money_conflict);
    store_contract *out = h_contract();
    OK(contract_answer, k->id, p.engineer->id, "declined", H.now + 300, out, why);
    STR_EQ(out->status, "declined");
    store_request *r = NEW(store_request);
    OK(request_get, p.r->id, r);
    cr_assert_str_neq(r->status, "filled");
    store_contract_free(out);
}

STORE_TEST(money_fund_submit_approve_moves_the_ledger)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {100000, 50000};
    store_contract *k = fx_contract(&p, amounts, 2, 1000, 1);
    const char *m0 = k->milestones[0].id;
    fx_fund(k, 0);
    cr_assert_eq(k->escrow, 100000);
    cr_assert_eq(k->milestones[0].escrow, 100000);
    cr_assert_eq(k->milestones[0].funded_at, H.now + 401);
    cr_assert_eq(fx_account(A("escrow", k->id)), 100000);
    cr_assert_eq(fx_account(A("gateway_clearing", NULL)), -100000);
    cr_assert_eq(fx_account(A("client_funding", p.client->id)), 0);
    assert_ledger_clean();

    store_money_conflict *why = NEW(store_money_conflict);
    store_contract *out = h_contract();
    /* the client may not submit, nor approve a milestone that is only funded */
    cr_assert_eq(CALL(milestone_move, m0, p.client->id, "submitted", NULL, NULL, H.now + 500, NULL,
                      out, why),
                 STORE_CONFLICT);
    STR_EQ(why->entity, "role");
    cr_assert_eq(
        CALL(milestone_move, m0, p.client->id, "released", NULL, NULL, H.now + 500, NULL, out, why),
        STORE_CONFLICT);
    STR_EQ(why->entity, "milestone");
    STR_EQ(why->state, "funded");
    store_user *stranger = fx_user("client", "Sam");
    cr_assert_eq(
        CALL(milestone_move, m0, stranger->id, "released", NULL, NULL, H.now + 500, NULL, out, why),
        STORE_NOTFOUND);
    /* the second milestone is not funded: it cannot be submitted */
    cr_assert_eq(CALL(milestone_move, k->milestones[1].id, p.engineer->id, "submitted", NULL, NULL,
                      H.now + 500, NULL, out, why),
                 STORE_CONFLICT);

    OK(milestone_move, m0, p.engineer->id, "submitted", "done, see the demo",
       "[\"https://example.com/demo\"]", H.now + 600, NULL, out, why);
    STR_EQ(out->milestones[0].status, "submitted");
    STR_EQ(out->milestones[0].note, "done, see the demo");
    cr_assert(strstr(out->milestones[0].links, "https://example.com/demo"), "%s",
              out->milestones[0].links);
    cr_assert_eq(out->milestones[0].submitted_at, H.now + 600);
    store_contract_free(out);
    /* changes requested: back to funded, the money stays in escrow */
    OK(milestone_move, m0, p.client->id, "funded", "the chart is wrong", NULL, H.now + 700, NULL,
       out, why);
    STR_EQ(out->milestones[0].status, "funded");
    STR_EQ(out->milestones[0].changes_note, "the chart is wrong");
    cr_assert_eq(out->escrow, 100000);
    store_contract_free(out);
    OK(milestone_move, m0, p.engineer->id, "submitted", "fixed", NULL, H.now + 800, NULL, out, why);
    store_contract_free(out);

    store_idem_done done = {.user_id = p.client->id, .key = NULL, .render = fx_render};
    OK(milestone_move, m0, p.client->id, "released", NULL, NULL, H.now + 900, &done, out, why);
    cr_assert(done.response && strstr(done.response, k->id), "render ran with the contract");
    free(done.response);
    STR_EQ(out->milestones[0].status, "released");
    cr_assert_eq(out->milestones[0].escrow, 0);
    cr_assert_eq(out->escrow, 0);
    store_contract_free(out);
    cr_assert_eq(fx_account(A("escrow", k->id)), 0);
    cr_assert_eq(fx_account(A("payable", p.engineer->id)), 90000);
    cr_assert_eq(fx_account(A("revenue", NULL)), 10000);
    store_balance *b = NEW(store_balance);
    OK(balance, p.engineer->id, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->rows[0].currency, "EUR");
    cr_assert_eq(b->rows[0].payable, 90000);
    cr_assert_eq(b->rows[0].paid_out, 0);
    /* released once: a second approval is refused and moves nothing */
    cr_assert_eq(
        CALL(milestone_move, m0, p.client->id, "released", NULL, NULL, H.now + 901, NULL, out, why),
        STORE_CONFLICT);
    cr_assert_eq(fx_account(A("payable", p.engineer->id)), 90000);
    assert_ledger_clean();

    store_ledger_report *r = NEW(store_ledger_report);
    OK(ledger_report, r);
    free(r->report);
    int64_t rev = 0, pay = 0;
    for (int i = 0; i < r->ntotals; i++) {
        if (strcmp(r->totals[i].currency, "EUR") != 0) continue;
        if (strcmp(r->totals[i].kind, "revenue") == 0) rev = r->totals[i].balance;
        if (strcmp(r->totals[i].kind, "payable") == 0) pay = r->totals[i].balance;
    }
    cr_assert_eq(rev, 10000);
    cr_assert_eq(pay, 90000);
}

STORE_TEST(money_fund_begin_retry_finds_its_charge_and_a_decline_moves_nothing)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {20000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 1);
    const char *m0 = k->milestones[0].id;
    store_money_conflict *why = NEW(store_money_conflict);
    store_contract *out = h_contract();
    store_payment *pay = NEW(store_payment);
    snprintf(pay->gateway, sizeof pay->gateway, "sandbox");
    snprintf(pay->gateway_key, sizeof pay->gateway_key, "fund:%s:k1", m0);
    /* only the contract's client funds it */
    cr_assert_eq(CALL(fund_begin, m0, p.engineer->id, pay, H.now + 400, out, why), STORE_NOTFOUND);
    OK(fund_begin, m0, p.client->id, pay, H.now + 400, out, why);
    STR_EQ(pay->status, "pending");
    STR_EQ(pay->kind, "charge");
    cr_assert_eq(pay->amount, 20000);
    STR_EQ(pay->currency, "EUR");
    char first[32];
    memcpy(first, pay->id, sizeof first);
    store_contract_free(out);
    /* the same key again: the same charge */
    store_payment *again = NEW(store_payment);
    snprintf(again->gateway, sizeof again->gateway, "sandbox");
    snprintf(again->gateway_key, sizeof again->gateway_key, "fund:%s:k1", m0);
    OK(fund_begin, m0, p.client->id, again, H.now + 401, out, why);
    STR_EQ(again->id, first);
    store_contract_free(out);
    /* another key while that charge is in flight: refused */
    store_payment *other = NEW(store_payment);
    snprintf(other->gateway, sizeof other->gateway, "sandbox");
    snprintf(other->gateway_key, sizeof other->gateway_key, "fund:%s:k2", m0);
    cr_assert_eq(CALL(fund_begin, m0, p.client->id, other, H.now + 402, out, why), STORE_CONFLICT);
    store_contract_free(out);
    /* the card is declined */
    snprintf(pay->status, sizeof pay->status, "failed");
    snprintf(pay->error, sizeof pay->error, "card_declined");
    OK(fund_finish, pay, H.now + 403, NULL);
    store_payment *got = NEW(store_payment);
    OK(payment_get, first, got);
    STR_EQ(got->status, "failed");
    STR_EQ(got->error, "card_declined");
    STR_EQ(got->milestone_id, m0);
    cr_assert_eq(CALL(payment_get, "pay_nobody", got), STORE_NOTFOUND);
    fx_reload(k);
    STR_EQ(k->milestones[0].status, "pending");
    cr_assert_eq(fx_account(A("escrow", k->id)), 0);
    /* a new key now funds it */
    fx_fund(k, 0);
    cr_assert_eq(fx_account(A("escrow", k->id)), 20000);
    /* a finished charge answered again changes nothing */
    snprintf(pay->status, sizeof pay->status, "succeeded");
    OK(fund_finish, pay, H.now + 404, NULL);
    cr_assert_eq(fx_account(A("escrow", k->id)), 20000);
    /* funded already */
    snprintf(other->gateway_key, sizeof other->gateway_key, "fund:%s:k3", m0);
    cr_assert_eq(CALL(fund_begin, m0, p.client->id, other, H.now + 405, out, why), STORE_CONFLICT);
    STR_EQ(why->entity, "milestone");
    store_contract_free(out);
    assert_ledger_clean();
}

STORE_TEST(money_unanswered_offer_cannot_be_funded)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {20000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 0);
    store_money_conflict *why = NEW(store_money_conflict);
    store_contract *out = h_contract();
    store_payment *pay = NEW(store_payment);
    snprintf(pay->gateway, sizeof pay->gateway, "sandbox");
    snprintf(pay->gateway_key, sizeof pay->gateway_key, "fund:%s:k1", k->milestones[0].id);
    cr_assert_eq(CALL(fund_begin, k->milestones[0].id, p.client->id, pay, H.now + 400, out, why),
                 STORE_CONFLICT);
    STR_EQ(why->entity, "contract");
    STR_EQ(why->state, "offered");
    store_contract_free(out);
}
