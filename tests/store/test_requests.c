/* test_requests: requests and their candidates: creation with its
 * invitations, notifications and jobs; accept, decline with a replacement,
 * expiry by its job, late answers; three acceptances match the request;
 * the SLA's widening and deadline; lists; cancelling. */
#include "harness.h"

static store_candidate repl_of(const store_request *r, const store_user *e, int rank)
{
    store_candidate k = {0};
    id_new("cnd", k.id);
    snprintf(k.request_id, sizeof k.request_id, "%s", r->id);
    snprintf(k.engineer_id, sizeof k.engineer_id, "%s", e->id);
    snprintf(k.status, sizeof k.status, "invited");
    k.score = 0.5;
    k.rank = rank;
    snprintf(k.explain, sizeof k.explain, "{}");
    k.invited_at = H.now + 100;
    k.expires_at = H.now + 100 + 24 * 3600;
    return k;
}

/* the due job of kind for ref, claimed; NULL when none */
static const store_job *claim_job(const char *kind, const char *ref, int64_t at)
{
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, at, 60, b);
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->jobs[i].kind, kind) == 0 && (!ref || strcmp(b->jobs[i].ref, ref) == 0))
            return &b->jobs[i];
    return NULL;
}

STORE_TEST(requests_create_invites_notifies_and_schedules)
{
    store_user *client = fx_user("client", "Carla");
    store_user *e[2] = {fx_engineer("Erik", 9000), fx_engineer("Eva", 9500)};
    store_request *r = fx_request(client, e, 2);
    STR_EQ(r->client_id, client->id);
    STR_EQ(r->title, "A React dashboard");
    STR_EQ(r->status, "matching");
    STR_EQ(r->relaxed, "[]");
    cr_assert_eq(r->sla_deadline, H.now + 8 * 3600);
    cr_assert_eq(r->cand[0].rank, 1);
    STR_EQ(r->cand[0].status, "invited");
    STR_EQ(r->cand[0].engineer_name, "Erik");
    cr_assert_float_eq(r->cand[0].score, 0.9, 1e-9);
    store_candidate *c = NEW(store_candidate);
    OK(candidate_get, r->cand[1].id, c);
    STR_EQ(c->engineer_id, e[1]->id);
    STR_EQ(c->request_id, r->id);
    cr_assert_eq(c->expires_at, H.now + 24 * 3600);
    cr_assert_eq(CALL(candidate_get, "cnd_nobody", c), STORE_NOTFOUND);
    cr_assert_eq(CALL(request_get, "req_nobody", r), STORE_NOTFOUND);
    /* each engineer: a notification and the invitation */
    store_notifications *n = NEW(store_notifications);
    OK(notifications_list, e[0]->id, n);
    cr_assert_eq(n->n, 1);
    cr_assert_eq(n->unread, 1);
    STR_EQ(n->items[0].kind, "invitation");
    cr_assert(strstr(n->items[0].payload, r->id), "%s", n->items[0].payload);
    store_invitations *inv = NEW(store_invitations);
    OK(invitations_list, e[1]->id, H.now + 10, inv);
    cr_assert_eq(inv->n, 1);
    STR_EQ(inv->items[0].c.id, r->cand[1].id);
    STR_EQ(inv->items[0].title, "A React dashboard");
    STR_EQ(inv->items[0].request_status, "matching");
    cr_assert(strstr(inv->items[0].spec, "react"));
    OK(invitations_list, e[1]->id, H.now + 24 * 3600, inv);
    cr_assert_eq(inv->n, 0, "expired invitations are not listed");
    /* its jobs: a mail to each engineer now, the SLA's half-time and
     * deadline, each invitation's expiry */
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now + 4 * 3600, 60, b);
    int mails = 0, half = 0;
    for (int i = 0; i < b->n; i++) {
        mails += strcmp(b->jobs[i].kind, "email.send") == 0;
        half += strcmp(b->jobs[i].kind, "sla.half") == 0 && strcmp(b->jobs[i].ref, r->id) == 0;
    }
    cr_assert_eq(b->n, 3);
    cr_assert_eq(mails, 2);
    cr_assert_eq(half, 1);
    for (int i = 0; i < b->n; i++)
        OK(job_done, b->jobs[i].id, H.now + 4 * 3600, NULL);
    OK(jobs_claim, H.now + 24 * 3600, 60, b);
    int deadline = 0, expire = 0;
    for (int i = 0; i < b->n; i++) {
        deadline += strcmp(b->jobs[i].kind, "sla.deadline") == 0;
        expire += strcmp(b->jobs[i].kind, "invite.expire") == 0;
    }
    cr_assert_eq(b->n, 3);
    cr_assert_eq(deadline, 1);
    cr_assert_eq(expire, 2);
    store_outbox *o = NEW(store_outbox);
    OK(outbox_list, "queued", 0, 10, o);
    cr_assert_eq(o->n, 2);
    STR_EQ(o->items[0].kind, "invitation");
    store_outbox_free(o);
    /* the audit row */
    store_audit *a = NEW(store_audit);
    OK(audit_list, "request", r->id, a);
    cr_assert_eq(a->n, 1);
    STR_EQ(a->items[0].action, "request.created");
}

STORE_TEST(requests_accept_opens_a_conversation_and_three_match)
{
    store_user *client = fx_user("client", "Carla");
    store_user *e[4] = {fx_engineer("E1", 9000), fx_engineer("E2", 9000), fx_engineer("E3", 9000),
                        fx_engineer("E4", 9000)};
    store_request *r = fx_request(client, e, 4);
    store_move_result *res = NEW(store_move_result);
    /* only the candidate's engineer answers */
    cr_assert_eq(CALL(candidate_move, r->cand[0].id, e[1]->id, "accepted", NULL, H.now + 10, NULL,
                      NULL, 0, res),
                 STORE_NOTFOUND);
    OK(candidate_move, r->cand[0].id, e[0]->id, "accepted", NULL, H.now + 10, NULL, NULL, 0, res);
    cr_assert_eq(res->accepted, 1);
    cr_assert_eq(res->became_matched, 0);
    STR_EQ(res->request_status, "matching");
    STR_EQ(res->request_id, r->id);
    /* answered once */
    cr_assert_eq(CALL(candidate_move, r->cand[0].id, e[0]->id, "declined", NULL, H.now + 11, NULL,
                      NULL, 0, res),
                 STORE_CONFLICT);
    STR_EQ(res->candidate_status, "accepted");
    store_conversation_list *cl = NEW(store_conversation_list);
    OK(conversations_list, e[0]->id, cl);
    cr_assert_eq(cl->n, 1);
    STR_EQ(cl->items[0].client_id, client->id);
    STR_EQ(cl->items[0].engineer_id, e[0]->id);
    STR_EQ(cl->items[0].request_id, r->id);
    STR_EQ(cl->items[0].candidate_id, r->cand[0].id);
    store_conversation_free(&cl->items[0]);
    OK(candidate_move, r->cand[1].id, e[1]->id, "accepted", NULL, H.now + 12, NULL, NULL, 0, res);
    cr_assert_eq(res->accepted, 2);
    OK(candidate_move, r->cand[2].id, e[2]->id, "accepted", NULL, H.now + 13, NULL, NULL, 0, res);
    cr_assert_eq(res->accepted, 3);
    cr_assert_eq(res->became_matched, 1);
    STR_EQ(res->request_status, "matched");
    OK(candidate_move, r->cand[3].id, e[3]->id, "accepted", NULL, H.now + 14, NULL, NULL, 0, res);
    cr_assert_eq(res->became_matched, 0, "matched once");
    store_request *back = NEW(store_request);
    OK(request_get, r->id, back);
    STR_EQ(back->status, "matched");
    cr_assert_eq(back->matched_at, H.now + 13);
    OK(conversations_list, client->id, cl);
    cr_assert_eq(cl->n, 4);
    for (int i = 0; i < cl->n; i++)
        store_conversation_free(&cl->items[i]);
    /* the client was told live of each acceptance */
    store_event_page *pg = NEW(store_event_page);
    OK(events_after, client->id, 0, STORE_EVENTS_MAX, pg);
    int updated = 0;
    for (int i = 0; i < pg->n; i++)
        updated += strcmp(pg->items[i].kind, "candidate.updated") == 0;
    store_events_free(pg);
    cr_assert_eq(updated, 4);
}

STORE_TEST(requests_decline_invites_the_first_free_replacement)
{
    store_user *client = fx_user("client", "Carla");
    store_user *e[2] = {fx_engineer("E1", 9000), fx_engineer("E2", 9000)};
    store_user *spare = fx_engineer("Spare", 9000);
    store_request *r = fx_request(client, e, 2);
    store_candidate repl[2] = {repl_of(r, e[1], 3),
                               repl_of(r, spare, 4)}; /* e[1] is on it already */
    store_move_result *res = NEW(store_move_result);
    OK(candidate_move, r->cand[0].id, e[0]->id, "declined", "busy", H.now + 100, NULL, repl, 2,
       res);
    cr_assert_eq(res->replaced, 1);
    store_request *back = NEW(store_request);
    OK(request_get, r->id, back);
    cr_assert_eq(back->ncand, 3);
    int found = 0;
    for (int i = 0; i < back->ncand; i++) {
        if (strcmp(back->cand[i].id, r->cand[0].id) == 0) {
            STR_EQ(back->cand[i].status, "declined");
            cr_assert_eq(back->cand[i].responded_at, H.now + 100);
        }
        if (strcmp(back->cand[i].engineer_id, spare->id) == 0) {
            found = 1;
            STR_EQ(back->cand[i].status, "invited");
        }
    }
    cr_assert(found);
    store_invitations *inv = NEW(store_invitations);
    OK(invitations_list, spare->id, H.now + 200, inv);
    cr_assert_eq(inv->n, 1);
}

STORE_TEST(requests_expiry_job_and_late_answers)
{
    store_user *client = fx_user("client", "Carla");
    store_user *e[2] = {fx_engineer("E1", 9000), fx_engineer("E2", 9000)};
    store_request *r = fx_request(client, e, 2);
    store_move_result *res = NEW(store_move_result);
    int64_t late = H.now + 24 * 3600;
    /* at 24 h the answer is too late even before the job ran */
    cr_assert_eq(
        CALL(candidate_move, r->cand[0].id, e[0]->id, "accepted", NULL, late, NULL, NULL, 0, res),
        STORE_CONFLICT);
    STR_EQ(res->candidate_status, "expired");
    const store_job *j = claim_job("invite.expire", r->cand[0].id, late);
    cr_assert(j, "the expiry job is due");
    OK(candidate_move, r->cand[0].id, NULL, "expired", NULL, late, j->id, NULL, 0, res);
    store_candidate *c = NEW(store_candidate);
    OK(candidate_get, r->cand[0].id, c);
    STR_EQ(c->status, "expired");
    cr_assert_eq(CALL(job_done, j->id, late, NULL), STORE_CONFLICT, "the move completed its job");
    /* the expiry job of one already answered finds nothing to do and is done */
    OK(candidate_move, r->cand[1].id, e[1]->id, "declined", NULL, H.now + 5, NULL, NULL, 0, res);
    const store_job *j2 = claim_job("invite.expire", r->cand[1].id, late + 3600);
    cr_assert_null(j2, "a declined candidate's expiry job was cancelled");
}

STORE_TEST(requests_sla_widen_deadline_board_and_notifications)
{
    store_user *admin = fx_user("admin", "Ada");
    store_user *client = fx_user("client", "Carla");
    store_user *e[1] = {fx_engineer("E1", 9000)};
    store_user *extra = fx_engineer("Extra", 9000);
    store_request *r = fx_request(client, e, 1);
    store_sla_board *board = NEW(store_sla_board);
    OK(sla_board, board);
    cr_assert_eq(board->n, 1);
    STR_EQ(board->items[0].id, r->id);
    cr_assert_eq(board->items[0].invited, 1);
    cr_assert_eq(board->items[0].accepted, 0);

    const store_job *half = claim_job("sla.half", r->id, H.now + 4 * 3600);
    cr_assert(half);
    store_request *w = NEW(store_request);
    *w = *r;
    snprintf(w->relaxed, sizeof w->relaxed, "[\"timezone\"]");
    w->ncand = 1;
    w->cand[0] = repl_of(r, extra, 2);
    OK(request_widen, w, half->id, H.now + 4 * 3600);
    store_request *back = NEW(store_request);
    OK(request_get, r->id, back);
    STR_EQ(back->relaxed, "[\"timezone\"]");
    cr_assert_eq(back->ncand, 2);
    cr_assert_eq(CALL(job_done, half->id, H.now, NULL), STORE_CONFLICT, "widen completed its job");

    const store_job *dl = claim_job("sla.deadline", r->id, H.now + 8 * 3600);
    cr_assert(dl);
    store_move_result *res = NEW(store_move_result);
    OK(request_deadline, r->id, dl->id, H.now + 8 * 3600, res);
    STR_EQ(res->request_status, "breached");
    OK(request_get, r->id, back);
    STR_EQ(back->status, "breached");
    cr_assert_eq(back->breached_at, H.now + 8 * 3600);
    OK(sla_board, board);
    cr_assert_eq(board->n, 1, "breached requests stay on the board");
    STR_EQ(board->items[0].status, "breached");
    STR_EQ(board->items[0].relaxed, "[\"timezone\"]");
    store_notifications *n = NEW(store_notifications);
    OK(notifications_list, client->id, n);
    cr_assert_eq(n->n, 1);
    STR_EQ(n->items[0].kind, "request.sla_breached");
    OK(notifications_list, admin->id, n);
    cr_assert_eq(n->n, 1);
    STR_EQ(n->items[0].kind, "admin.sla_breach");
    /* a second run of the deadline changes nothing */
    OK(request_deadline, r->id, dl->id, H.now + 9 * 3600, res);
    STR_EQ(res->request_status, "breached");
    OK(notifications_list, client->id, n);
    cr_assert_eq(n->n, 1);
    /* a request already matched is not breached */
    store_user *e3[3] = {fx_engineer("A", 9000), fx_engineer("B", 9000), fx_engineer("C", 9000)};
    store_request *r2 = fx_request(client, e3, 3);
    for (int i = 0; i < 3; i++)
        fx_accept(r2, e3[i]);
    const store_job *dl2 = claim_job("sla.deadline", r2->id, H.now + 8 * 3600 + 60);
    cr_assert(dl2);
    OK(request_deadline, r2->id, dl2->id, H.now + 8 * 3600 + 60, res);
    STR_EQ(res->request_status, "matched");
}

STORE_TEST(requests_list_pages_newest_first)
{
    store_user *c1 = fx_user("client", "Carla"), *c2 = fx_user("client", "Cid");
    store_user *e[1] = {fx_engineer("E1", 9000)};
    store_request *a = fx_request(c1, e, 1);
    store_request *b = fx_request(c2, e, 0);
    store_request *c = fx_request(c1, e, 0);
    store_request_list *l = NEW(store_request_list);
    OK(requests_list, NULL, 0, 10, l);
    cr_assert_eq(l->n, 3);
    STR_EQ(l->items[0].id, c->id);
    STR_EQ(l->items[1].id, b->id);
    STR_EQ(l->items[2].id, a->id);
    cr_assert_eq(l->items[2].invited, 1);
    OK(requests_list, c1->id, 0, 1, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].id, c->id);
    OK(requests_list, c1->id, l->items[0].seq, 10, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].id, a->id);
    STR_EQ(l->items[0].status, "matching");
}

STORE_TEST(requests_cancel_withdraws_and_notifies)
{
    store_user *admin = fx_user("admin", "Ada");
    store_user *client = fx_user("client", "Carla");
    store_user *other = fx_user("client", "Olga");
    store_user *e[2] = {fx_engineer("E1", 9000), fx_engineer("E2", 9000)};
    store_request *r = fx_request(client, e, 2);
    fx_accept(r, e[0]);
    store_request *out = NEW(store_request);
    store_money_conflict *why = NEW(store_money_conflict);
    cr_assert_eq(CALL(request_cancel, r->id, other->id, other->id, NULL, H.now + 100, out, why),
                 STORE_NOTFOUND);
    OK(request_cancel, r->id, client->id, client->id, "found someone", H.now + 100, out, why);
    STR_EQ(out->status, "cancelled");
    for (int i = 0; i < out->ncand; i++)
        STR_EQ(out->cand[i].status, "withdrawn");
    for (int i = 0; i < 2; i++) {
        store_notifications *n = NEW(store_notifications);
        OK(notifications_list, e[i]->id, n);
        cr_assert_eq(n->n, 2);
        STR_EQ(n->items[0].kind, "invitation.withdrawn"); /* newest first */
        cr_assert(strstr(n->items[0].payload, "found someone"), "%s", n->items[0].payload);
    }
    cr_assert_eq(CALL(request_cancel, r->id, admin->id, NULL, NULL, H.now + 101, out, why),
                 STORE_CONFLICT);
    STR_EQ(why->entity, "request");
    STR_EQ(why->state, "cancelled");
    /* nothing is due for it any more */
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now + 30 * 86400, 60, b);
    for (int i = 0; i < b->n; i++)
        cr_assert(strcmp(b->jobs[i].ref, r->id) != 0 && strcmp(b->jobs[i].ref, r->cand[1].id) != 0,
                  "%s %s is still due", b->jobs[i].kind, b->jobs[i].ref);
    store_invitations *inv = NEW(store_invitations);
    OK(invitations_list, e[1]->id, H.now + 200, inv);
    cr_assert_eq(inv->n, 0);
    cr_assert_eq(CALL(request_cancel, "req_nobody", admin->id, NULL, NULL, H.now, out, why),
                 STORE_NOTFOUND);
}

STORE_TEST(requests_cancel_refused_while_an_offer_waits_or_once_filled)
{
    fx_parties p = fx_hire();
    int64_t amounts[] = {1000};
    store_contract *k = fx_contract(&p, amounts, 1, 1000, 0);
    store_request *out = NEW(store_request);
    store_money_conflict *why = NEW(store_money_conflict);
    cr_assert_eq(
        CALL(request_cancel, p.r->id, p.client->id, p.client->id, NULL, H.now + 500, out, why),
        STORE_CONFLICT);
    STR_EQ(why->entity, "contract");
    STR_EQ(why->state, "offered");
    store_contract *after = h_contract();
    OK(contract_answer, k->id, p.engineer->id, "active", H.now + 600, after, why);
    cr_assert_eq(
        CALL(request_cancel, p.r->id, p.client->id, p.client->id, NULL, H.now + 700, out, why),
        STORE_CONFLICT);
    STR_EQ(why->entity, "request");
    STR_EQ(why->state, "filled");
    store_contract_free(after);
}

STORE_TEST(notifications_read_up_to_and_all)
{
    store_user *client = fx_user("client", "Carla");
    store_user *e[1] = {fx_engineer("E1", 9000)};
    fx_request(client, e, 1);
    fx_request(client, e, 1);
    fx_request(client, e, 1);
    store_notifications *n = NEW(store_notifications);
    OK(notifications_list, e[0]->id, n);
    cr_assert_eq(n->n, 3);
    cr_assert_eq(n->unread, 3);
    cr_assert(n->items[0].id > n->items[1].id, "newest first");
    int unread = -1;
    OK(notifications_read, e[0]->id, n->items[1].id, H.now + 10, &unread);
    cr_assert_eq(unread, 1);
    OK(notifications_list, e[0]->id, n);
    cr_assert_eq(n->unread, 1);
    cr_assert_eq(n->items[0].read_at, 0);
    cr_assert_eq(n->items[2].read_at, H.now + 10);
    /* not theirs */
    cr_assert_eq(CALL(notifications_read, client->id, n->items[0].id, H.now + 11, &unread),
                 STORE_NOTFOUND);
    OK(notifications_read, e[0]->id, 0, H.now + 12, &unread);
    cr_assert_eq(unread, 0);
    OK(notifications_list, e[0]->id, n);
    cr_assert_eq(n->unread, 0);
    cr_assert_eq(n->items[2].read_at, H.now + 10, "read once, never again");
}
