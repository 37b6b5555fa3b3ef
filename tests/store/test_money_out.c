/* test_money_out: disputes (open by a party, an admin's split), ending a
 * contract (funded escrow refunded, pending work dropped), card refunds
 * through the gateway (refused: held for the client, sent again) and
 * payout runs (accounts, skipped, succeeded, reversed), with the ledger
 * verified clean after each. */
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

static void submit(store_contract *k, int i, const fx_parties *p)
{
    store_money_conflict *why = NEW(store_money_conflict);
    store_contract *out = h_contract();
    OK(milestone_move, k->milestones[i].id, p->engineer->id, "submitted", "done", NULL, H.now + 600,
       NULL, out, why);
    store_contract_free(out);
    fx_reload(k);
}

static store_money_out_list *refunds(const char *status)
{
    store_money_out_list *l = NEW(store_money_out_list);
    OK(money_out_list, "refund", status, NULL, 0, 100, l);
    return l;
}

STORE_TEST(disputes_open_list_and_resolve_with_a_split)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {100000, 5000};
    store_contract *k = fx_contract(&p, amounts, 2, 1000, 1);
    const char *m0 = k->milestones[0].id;
    store_dispute *d = NEW(store_dispute);
    store_contract *after = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    /* nothing to dispute on a pending milestone */
    cr_assert_eq(CALL(dispute_open, m0, p.client->id, "no", H.now + 500, d, after, why),
                 STORE_CONFLICT);
    STR_EQ(why->state, "pending");
    fx_fund(k, 0);
    submit(k, 0, &p);
    store_user *stranger = fx_user("client", "Sam");
    cr_assert_eq(CALL(dispute_open, m0, stranger->id, "mine", H.now + 700, d, after, why),
                 STORE_NOTFOUND);
    OK(dispute_open, m0, p.client->id, "the login does not work", H.now + 700, d, after, why);
    STR_EQ(d->status, "open");
    STR_EQ(d->from_status, "submitted");
    STR_EQ(d->milestone_id, m0);
    STR_EQ(d->contract_id, k->id);
    STR_EQ(d->opened_by, p.client->id);
    STR_EQ(d->reason, "the login does not work");
    cr_assert_eq(d->amount, 100000);
    STR_EQ(d->currency, "EUR");
    STR_EQ(after->milestones[0].status, "disputed");
    STR_EQ(after->milestones[0].dispute_id, d->id);
    cr_assert_eq(after->escrow, 100000);
    store_contract_free(after);
    /* the admins heard of it */
    store_event_page *ev = NEW(store_event_page);
    OK(events_after, p.admin->id, 0, STORE_EVENTS_MAX, ev);
    int heard = 0;
    for (int i = 0; i < ev->n; i++)
        heard += strcmp(ev->items[i].kind, "admin.dispute_opened") == 0;
    store_events_free(ev);
    cr_assert_eq(heard, 1);
    /* one dispute at a time */
    cr_assert_eq(CALL(dispute_open, m0, p.engineer->id, "again", H.now + 701, NEW(store_dispute),
                      after, why),
                 STORE_CONFLICT);
    store_contract_free(after);

    store_dispute_view *v = NEW(store_dispute_view);
    OK(dispute_get, d->id, v);
    STR_EQ(v->text, "the login does not work");
    STR_EQ(v->milestone_title, "Milestone 1");
    STR_EQ(v->request_id, p.r->id);
    STR_EQ(v->client_name, "Carla");
    STR_EQ(v->engineer_name, "Erik");
    STR_EQ(v->d.status, "open");
    store_dispute_view_free(v);
    cr_assert_eq(CALL(dispute_get, "dsp_nobody", v), STORE_NOTFOUND);

    /* a second dispute, on the other milestone, to see the list's order */
    fx_fund(k, 1);
    store_dispute *d2 = NEW(store_dispute);
    OK(dispute_open, k->milestones[1].id, p.engineer->id, "not paid", H.now + 800, d2, after, why);
    store_contract_free(after);
    store_dispute_list *l = NEW(store_dispute_list);
    OK(disputes_list, "open", 0, 0, 10, l);
    cr_assert_eq(l->n, 2);
    STR_EQ(l->items[0].d.id, d2->id, "newest first");
    store_dispute_list_free(l);
    OK(disputes_list, NULL, 1, 0, 1, l);
    cr_assert_eq(l->n, 1);
    int64_t seq = l->items[0].seq;
    store_dispute_list_free(l);
    OK(disputes_list, NULL, 1, seq, 10, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].d.id, d->id);
    store_dispute_list_free(l);

    /* the split must be the escrow */
    store_dispute *res = NEW(store_dispute);
    cr_assert_eq(
        CALL(dispute_resolve, d->id, p.admin->id, 60000, 30000, H.now + 900, NULL, res, after, why),
        STORE_CONFLICT);
    STR_EQ(why->entity, "escrow");
    store_contract_free(after);
    store_idem_done done = {.user_id = p.admin->id, .key = NULL, .render = fx_render};
    OK(dispute_resolve, d->id, p.admin->id, 60000, 40000, H.now + 900, &done, res, after, why);
    free(done.response);
    STR_EQ(res->status, "resolved");
    cr_assert_eq(res->release, 60000);
    cr_assert_eq(res->refund, 40000);
    STR_EQ(res->resolved_by, p.admin->id);
    cr_assert_eq(res->resolved_at, H.now + 900);
    STR_EQ(after->milestones[0].status, "resolved");
    cr_assert_eq(after->milestones[0].escrow, 0);
    store_contract_free(after);
    cr_assert_eq(fx_account(A("payable", p.engineer->id)), 54000);
    cr_assert_eq(fx_account(A("revenue", NULL)), 6000);
    cr_assert_eq(fx_account(A("escrow", k->id)), 5000, "the other milestone's");
    cr_assert_eq(fx_account(A("gateway_clearing", NULL)), -105000 + 40000);
    store_money_out_list *rl = refunds("pending");
    cr_assert_eq(rl->n, 1);
    cr_assert_eq(rl->items[0].amount, 40000);
    STR_EQ(rl->items[0].owner_id, p.client->id);
    STR_EQ(rl->items[0].milestone_id, m0);
    cr_assert(rl->items[0].charge_ref[0], "the charge it gives back part of");
    cr_assert_eq(
        CALL(dispute_resolve, d->id, p.admin->id, 60000, 40000, H.now + 901, NULL, res, after, why),
        STORE_CONFLICT);
    STR_EQ(why->entity, "dispute");
    store_contract_free(after);
    OK(disputes_list, "resolved", 0, 0, 10, l);
    cr_assert_eq(l->n, 1);
    store_dispute_list_free(l);
    assert_ledger_clean();
}

STORE_TEST(contract_end_refunds_funded_and_drops_pending)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {30000, 20000, 10000};
    store_contract *k = fx_contract(&p, amounts, 3, 1000, 1);
    fx_fund(k, 0);
    fx_fund(k, 1);
    submit(k, 1, &p);
    store_contract *out = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    /* a submitted milestone must be settled first */
    cr_assert_eq(CALL(contract_end, k->id, p.client->id, H.now + 700, out, why), STORE_CONFLICT);
    STR_EQ(why->state, "submitted");
    store_contract_free(out);
    store_idem_done done = {.render = fx_render};
    OK(milestone_move, k->milestones[1].id, p.client->id, "released", NULL, NULL, H.now + 800,
       &done, out, why);
    free(done.response);
    store_contract_free(out);
    store_user *stranger = fx_user("client", "Sam");
    cr_assert_eq(CALL(contract_end, k->id, stranger->id, H.now + 900, out, why), STORE_NOTFOUND);
    OK(contract_end, k->id, p.engineer->id, H.now + 900, out, why);
    STR_EQ(out->status, "ended");
    cr_assert_eq(out->ended_at, H.now + 900);
    cr_assert_eq(out->engineer_busy, 0);
    STR_EQ(out->milestones[0].status, "refunded");
    STR_EQ(out->milestones[1].status, "released");
    STR_EQ(out->milestones[2].status, "refunded");
    cr_assert_eq(out->escrow, 0);
    store_contract_free(out);
    cr_assert_eq(fx_account(A("escrow", k->id)), 0);
    cr_assert_eq(fx_account(A("payable", p.engineer->id)), 18000);
    store_money_out_list *rl = refunds(NULL);
    cr_assert_eq(rl->n, 1, "only the funded one had money to give back");
    cr_assert_eq(rl->items[0].amount, 30000);
    STR_EQ(rl->items[0].contract_id, k->id);
    cr_assert_eq(CALL(contract_end, k->id, p.client->id, H.now + 901, out, why), STORE_CONFLICT);
    STR_EQ(why->state, "ended");
    store_contract_free(out);
    assert_ledger_clean();
}

STORE_TEST(refunds_refused_held_then_sent_again)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {30000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 1);
    fx_fund(k, 0);
    store_contract *out = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    OK(contract_end, k->id, p.client->id, H.now + 700, out, why);
    store_contract_free(out);
    store_money_out_list *rl = refunds("pending");
    cr_assert_eq(rl->n, 1);
    store_money_out *o = NEW(store_money_out);
    OK(money_out_get, "refund", rl->items[0].id, o);
    STR_EQ(o->kind, "refund");
    STR_EQ(o->status, "pending");
    cr_assert_eq(o->amount, 30000);
    STR_EQ(o->gateway, "sandbox");
    cr_assert_eq(CALL(money_out_get, "refund", "ref_nobody", NEW(store_money_out)), STORE_NOTFOUND);
    char first[32];
    memcpy(first, o->id, sizeof first);
    /* its send job: the gateway could not be reached, try again later */
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now + 700, 60, b);
    const store_job *job = NULL;
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->jobs[i].kind, "payment.refund") == 0 && strcmp(b->jobs[i].ref, first) == 0)
            job = &b->jobs[i];
    cr_assert(job, "the refund's job is due");
    store_money_out_result r = {.outcome = STORE_OUT_RETRY, .retry_at = H.now + 1000};
    snprintf(r.kind, sizeof r.kind, "refund");
    snprintf(r.id, sizeof r.id, "%s", first);
    snprintf(r.error, sizeof r.error, "gateway unavailable");
    snprintf(r.job_id, sizeof r.job_id, "%s", job->id);
    OK(money_out_result, &r, H.now + 701, o);
    STR_EQ(o->status, "pending");
    cr_assert_eq(o->attempts, 1);
    /* refused */
    store_money_out_result f = {.outcome = STORE_OUT_FAILED};
    snprintf(f.kind, sizeof f.kind, "refund");
    snprintf(f.id, sizeof f.id, "%s", first);
    snprintf(f.error, sizeof f.error, "charge_disputed");
    snprintf(f.job_id, sizeof f.job_id, "%s", job->id);
    OK(money_out_result, &f, H.now + 1000, o);
    STR_EQ(o->status, "failed");
    STR_EQ(o->error, "charge_disputed");
    cr_assert_eq(fx_account(A("client_funding", p.client->id)), 30000, "held for the client");
    assert_ledger_clean();
    cr_assert_eq(CALL(money_out_result, &f, H.now + 1001, o), STORE_CONFLICT, "failed once");
    /* an admin sends it again: a new row */
    store_money_out *again = NEW(store_money_out);
    OK(refund_retry, first, p.admin->id, H.now + 1100, NULL, again);
    cr_assert_str_neq(again->id, first);
    STR_EQ(again->status, "pending");
    cr_assert_eq(again->amount, 30000);
    cr_assert_eq(fx_account(A("client_funding", p.client->id)), 0);
    cr_assert_eq(CALL(refund_retry, first, p.admin->id, H.now + 1101, NULL, o), STORE_CONFLICT);
    STR_EQ(o->id, first, "out: the old row");
    cr_assert_eq(CALL(refund_retry, again->id, p.admin->id, H.now + 1102, NULL, o), STORE_CONFLICT,
                 "not failed");
    /* a webhook settles it */
    store_money_out_result s = {.outcome = STORE_OUT_SUCCEEDED};
    snprintf(s.kind, sizeof s.kind, "refund");
    snprintf(s.id, sizeof s.id, "%s", again->id);
    snprintf(s.gateway_ref, sizeof s.gateway_ref, "re_123");
    OK(money_out_result, &s, H.now + 1200, o);
    STR_EQ(o->status, "succeeded");
    STR_EQ(o->gateway_ref, "re_123");
    store_money_out_list *all = refunds(NULL);
    cr_assert_eq(all->n, 2);
    STR_EQ(all->items[0].id, again->id, "newest first");
    store_money_out_list *page = NEW(store_money_out_list);
    OK(money_out_list, "refund", NULL, NULL, 0, 1, page);
    cr_assert_eq(page->n, 1);
    cr_assert(page->next_seq > 0);
    OK(money_out_list, "refund", NULL, NULL, page->next_seq, 1, page);
    cr_assert_eq(page->n, 1);
    STR_EQ(page->items[0].id, first);
    /* the receipts show the charge and both refunds */
    store_receipts *rc = NEW(store_receipts);
    OK(contract_receipts, k->id, p.client->id, rc);
    cr_assert_eq(rc->n, 3);
    STR_EQ(rc->items[0].kind, "charge");
    STR_EQ(rc->currency, "EUR");
    int refund_rows = 0;
    for (int i = 0; i < rc->n; i++)
        if (strcmp(rc->items[i].kind, "refund") == 0) {
            refund_rows++;
            cr_assert(rc->items[i].refund_of[0]);
        }
    cr_assert_eq(refund_rows, 2);
    OK(contract_receipts, k->id, NULL, rc);
    cr_assert_eq(rc->n, 3, "an admin sees them too");
    cr_assert_eq(CALL(contract_receipts, k->id, fx_user("client", "Sam")->id, rc), STORE_NOTFOUND);
    assert_ledger_clean();
}

STORE_TEST(payouts_need_an_account_then_pay_and_reverse)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {100000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 1);
    fx_fund(k, 0);
    submit(k, 0, &p);
    store_contract *out = h_contract();
    store_money_conflict *why = NEW(store_money_conflict);
    store_idem_done done = {.render = fx_render};
    OK(milestone_move, k->milestones[0].id, p.client->id, "released", NULL, NULL, H.now + 700,
       &done, out, why);
    free(done.response);
    store_contract_free(out);

    char account[STORE_PAYOUT_ACCOUNT_MAX];
    int64_t updated = 0;
    cr_assert_eq(CALL(payout_account_get, p.engineer->id, account, &updated), STORE_NOTFOUND);
    store_payout_run run = {.now = H.now + 800, .min_amount = 1000, .need_destination = 1};
    snprintf(run.gateway, sizeof run.gateway, "stripe");
    snprintf(run.actor, sizeof run.actor, "%s", p.admin->id);
    store_payout_batch *batch = NEW(store_payout_batch);
    OK(payout_batch, &run, NULL, batch);
    cr_assert_eq(batch->payouts.n, 0);
    cr_assert_eq(batch->skipped, 1, "owed, but no payout account");
    OK(payout_account_set, p.engineer->id, "acct_1Abc", H.now + 850);
    OK(payout_account_get, p.engineer->id, account, &updated);
    STR_EQ(account, "acct_1Abc");
    cr_assert_eq(updated, H.now + 850);
    /* a recurring run reschedules its job */
    OK(job_ensure, "payout.run", "", H.now + 900);
    store_job_batch *jb = NEW(store_job_batch);
    OK(jobs_claim, H.now + 900, 60, jb);
    const store_job *runjob = NULL;
    for (int i = 0; i < jb->n; i++)
        if (strcmp(jb->jobs[i].kind, "payout.run") == 0) runjob = &jb->jobs[i];
    cr_assert(runjob);
    run.now = H.now + 900;
    run.next_run_at = H.now + 86400;
    snprintf(run.job_id, sizeof run.job_id, "%s", runjob->id);
    OK(payout_batch, &run, NULL, batch);
    cr_assert_eq(batch->payouts.n, 1);
    cr_assert_eq(batch->skipped, 0);
    cr_assert_eq(batch->more, 0);
    store_money_out *po = &batch->payouts.items[0];
    STR_EQ(po->kind, "payout");
    STR_EQ(po->status, "pending");
    STR_EQ(po->owner_id, p.engineer->id);
    STR_EQ(po->destination, "acct_1Abc");
    STR_EQ(po->batch_id, batch->batch_id);
    cr_assert_eq(po->amount, 90000);
    store_balance *bal = NEW(store_balance);
    OK(balance, p.engineer->id, bal);
    cr_assert_eq(bal->n, 1);
    cr_assert_eq(bal->rows[0].payable, 0);
    cr_assert_eq(bal->rows[0].paid_out, 90000);
    cr_assert_eq(bal->rows[0].in_transit, 90000);
    OK(jobs_claim, H.now + 86400 - 1, 60, jb);
    for (int i = 0; i < jb->n; i++)
        cr_assert_str_neq(jb->jobs[i].kind, "payout.run", "the run waits for its next time");
    /* nothing left to pay */
    run.job_id[0] = '\0';
    OK(payout_batch, &run, NULL, batch);
    cr_assert_eq(batch->payouts.n, 0);
    /* the transfer lands, then is reversed: payable again */
    char id[32];
    store_money_out_list *pl = NEW(store_money_out_list);
    OK(money_out_list, "payout", NULL, p.engineer->id, 0, 10, pl);
    cr_assert_eq(pl->n, 1);
    memcpy(id, pl->items[0].id, sizeof id);
    store_money_out_result s = {.outcome = STORE_OUT_SUCCEEDED};
    snprintf(s.kind, sizeof s.kind, "payout");
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.gateway_ref, sizeof s.gateway_ref, "tr_1");
    store_money_out *o = NEW(store_money_out);
    OK(money_out_result, &s, H.now + 1000, o);
    STR_EQ(o->status, "succeeded");
    OK(balance, p.engineer->id, bal);
    cr_assert_eq(bal->rows[0].in_transit, 0);
    cr_assert_eq(CALL(money_out_result, &s, H.now + 1001, o), STORE_CONFLICT, "succeeded once");
    store_money_out_result rv = {.outcome = STORE_OUT_REVERSED};
    snprintf(rv.kind, sizeof rv.kind, "payout");
    snprintf(rv.id, sizeof rv.id, "%s", id);
    snprintf(rv.gateway_ref, sizeof rv.gateway_ref, "tr_1");
    snprintf(rv.error, sizeof rv.error, "account closed");
    OK(money_out_result, &rv, H.now + 1100, o);
    STR_EQ(o->status, "reversed");
    OK(balance, p.engineer->id, bal);
    cr_assert_eq(bal->rows[0].payable, 90000);
    cr_assert_eq(bal->rows[0].paid_out, 0);
    OK(money_out_list, "payout", "reversed", NULL, 0, 10, pl);
    cr_assert_eq(pl->n, 1);
    OK(money_out_list, "payout", "pending", NULL, 0, 10, pl);
    cr_assert_eq(pl->n, 0);
    assert_ledger_clean();
}
