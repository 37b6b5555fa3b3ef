/* test_talk: conversations (opened by an acceptance), messages in seq
 * order with their cursor, read markers and unread counts, the email
 * digest; interviews (propose, one open at a time, accept, cancel); and
 * the email outbox (send results, retries, failure, requeue). */
#include "harness.h"

static store_conversation *conversation_of(const fx_parties *p)
{
    store_conversation_list *l = NEW(store_conversation_list);
    OK(conversations_list, p->engineer->id, l);
    cr_assert_eq(l->n, 1);
    store_conversation *v = NEW(store_conversation);
    OK(conversation_get, l->items[0].id, v);
    for (int i = 0; i < l->n; i++)
        store_conversation_free(&l->items[i]);
    return v;
}

static store_message *say(const char *conv, const store_user *from, const char *body, int64_t at,
                          int64_t digest)
{
    store_message *m = NEW(store_message);
    id_new("msg", m->id);
    snprintf(m->conversation_id, sizeof m->conversation_id, "%s", conv);
    snprintf(m->sender_id, sizeof m->sender_id, "%s", from->id);
    m->body = (char *)body;
    m->created_at = at;
    m->digest_at = digest;
    OK(message_create, m);
    return m;
}

/* the one due job of kind, claimed (asserted) */
static store_job *due(const char *kind, int64_t at)
{
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, at, 60, b);
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->jobs[i].kind, kind) == 0) return &b->jobs[i];
    cr_assert_fail("no %s job due at %lld", kind, (long long)at);
    return NULL;
}

STORE_TEST(talk_messages_in_order_with_cursor_and_unread)
{
    fx_parties p = fx_hire();
    store_conversation *v = conversation_of(&p);
    STR_EQ(v->client_id, p.client->id);
    STR_EQ(v->client_name, "Carla");
    STR_EQ(v->engineer_name, "Erik");
    STR_EQ(v->request_title, "A React dashboard");
    STR_EQ(v->client_timezone, "Europe/Berlin");
    STR_EQ(v->engineer_timezone, "Europe/Berlin");
    cr_assert_eq(CALL(conversation_get, "cnv_nobody", v), STORE_NOTFOUND);
    store_message *m1 = say(v->id, p.client, "hello", H.now + 100, 0);
    store_message *m2 = say(v->id, p.engineer, "hi there", H.now + 101, 0);
    store_message *m3 = say(v->id, p.client, "when can you start?", H.now + 102, 0);
    cr_assert(m1->seq > 0 && m2->seq > m1->seq && m3->seq > m2->seq, "seq grows");
    store_message_page *pg = NEW(store_message_page);
    OK(messages_list, v->id, 0, 50, pg);
    cr_assert_eq(pg->n, 3);
    STR_EQ(pg->items[0].id, m1->id);
    STR_EQ(pg->items[0].body, "hello");
    STR_EQ(pg->items[1].sender_id, p.engineer->id);
    STR_EQ(pg->items[2].body, "when can you start?");
    cr_assert_eq(pg->items[2].created_at, H.now + 102);
    cr_assert_eq(pg->items[1].seq, m2->seq);
    store_page_free(pg);
    OK(messages_list, v->id, m1->seq, 1, pg);
    cr_assert_eq(pg->n, 1);
    STR_EQ(pg->items[0].id, m2->id);
    store_page_free(pg);
    OK(messages_list, v->id, m3->seq, 50, pg);
    cr_assert_eq(pg->n, 0);
    /* the engineer has two unread; the latest message shows in the list */
    store_conversation_list *l = NEW(store_conversation_list);
    OK(conversations_list, p.engineer->id, l);
    cr_assert_eq(l->n, 1);
    cr_assert_eq(l->items[0].unread, 2);
    cr_assert(l->items[0].has_last);
    STR_EQ(l->items[0].last_id, m3->id);
    STR_EQ(l->items[0].last_body, "when can you start?");
    cr_assert_eq(l->items[0].last_message_at, H.now + 102);
    store_conversation_free(&l->items[0]);
    OK(conversation_read, v->id, p.engineer->id, m1->id);
    OK(conversations_list, p.engineer->id, l);
    cr_assert_eq(l->items[0].unread, 1);
    store_conversation_free(&l->items[0]);
    OK(conversation_read, v->id, p.engineer->id, m3->id);
    OK(conversation_read, v->id, p.engineer->id, m1->id); /* never back */
    OK(conversations_list, p.engineer->id, l);
    cr_assert_eq(l->items[0].unread, 0);
    store_conversation_free(&l->items[0]);
    cr_assert_eq(CALL(conversation_read, v->id, p.engineer->id, "msg_nobody"), STORE_NOTFOUND);
    /* admins see every conversation */
    OK(conversations_list, NULL, l);
    cr_assert_eq(l->n, 1);
    store_conversation_free(&l->items[0]);
    /* both parties got each message live */
    store_event_page *ev = NEW(store_event_page);
    OK(events_after, p.engineer->id, 0, STORE_EVENTS_MAX, ev);
    int created = 0;
    for (int i = 0; i < ev->n; i++)
        created += strcmp(ev->items[i].kind, "message.created") == 0;
    store_events_free(ev);
    cr_assert_eq(created, 3);
    store_conversation_free(v);
}

STORE_TEST(talk_digest_mails_what_is_still_unread)
{
    fx_parties p = fx_hire();
    store_conversation *v = conversation_of(&p);
    say(v->id, p.client, "first", H.now + 100, H.now + 1000);
    say(v->id, p.client, "second", H.now + 101, H.now + 1001); /* one digest while one is pending */
    /* the mails so far (invitation, acceptance) are not this test's */
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now + 999, 60, b);
    for (int i = 0; i < b->n; i++)
        OK(job_done, b->jobs[i].id, H.now + 999, NULL);
    OK(jobs_claim, H.now + 1001, 60, b);
    cr_assert_eq(b->n, 1);
    STR_EQ(b->jobs[0].kind, "email.digest");
    char ref[72];
    snprintf(ref, sizeof ref, "%s:%s", v->id, p.engineer->id);
    STR_EQ(b->jobs[0].ref, ref);
    store_outbox *o = NEW(store_outbox);
    OK(outbox_list, NULL, 0, 100, o);
    int before = o->n;
    store_outbox_free(o);
    OK(mail_digest, b->jobs[0].id, b->jobs[0].ref, H.now + 1001);
    OK(outbox_list, NULL, 0, 100, o);
    cr_assert_eq(o->n, before + 1);
    STR_EQ(o->items[0].kind, "message.digest");
    STR_EQ(o->items[0].user_id, p.engineer->id);
    STR_EQ(o->items[0].to_addr, p.engineer->email);
    cr_assert(strstr(o->items[0].data, "second"), "%s", o->items[0].data);
    store_outbox_free(o);
    cr_assert_eq(CALL(job_done, b->jobs[0].id, H.now, NULL), STORE_CONFLICT,
                 "the digest completed its job");
    /* read by then: no mail */
    store_message *m = say(v->id, p.client, "third", H.now + 2000, H.now + 3000);
    OK(conversation_read, v->id, p.engineer->id, m->id);
    store_job *j = due("email.digest", H.now + 3000);
    OK(mail_digest, j->id, j->ref, H.now + 3000);
    OK(outbox_list, "queued", 0, 100, o);
    int digests = 0;
    for (int i = 0; i < o->n; i++)
        digests += strcmp(o->items[i].kind, "message.digest") == 0;
    store_outbox_free(o);
    cr_assert_eq(digests, 1);
    store_conversation_free(v);
}

STORE_TEST(interviews_propose_accept_cancel)
{
    fx_parties p = fx_hire();
    store_conversation *v = conversation_of(&p);
    store_interview *out = NEW(store_interview);
    cr_assert_eq(CALL(interview_get, v->id, out), STORE_NOTFOUND);
    store_interview *iv = NEW(store_interview);
    id_new("ivw", iv->id);
    snprintf(iv->conversation_id, sizeof iv->conversation_id, "%s", v->id);
    iv->nslots = 3;
    for (int i = 0; i < 3; i++)
        iv->slots[i] = H.now + 86400 * (i + 1);
    iv->duration_minutes = 45;
    snprintf(iv->video_url, sizeof iv->video_url, "https://meet.example.com/abc");
    snprintf(iv->proposed_by, sizeof iv->proposed_by, "%s", p.client->id);
    iv->created_at = H.now + 100;
    OK(interview_propose, iv, out);
    STR_EQ(out->id, iv->id);
    STR_EQ(out->status, "proposed");
    cr_assert_eq(out->nslots, 3);
    cr_assert_eq(out->slots[2], H.now + 3 * 86400);
    cr_assert_eq(out->duration_minutes, 45);
    STR_EQ(out->video_url, "https://meet.example.com/abc");
    int seq0 = out->sequence;
    /* one open at a time */
    store_interview *second = NEW(store_interview);
    *second = *iv;
    id_new("ivw", second->id);
    second->created_at = H.now + 101;
    cr_assert_eq(CALL(interview_propose, second, out), STORE_CONFLICT);
    STR_EQ(out->id, iv->id);
    OK(interview_accept, iv->id, iv->slots[1], H.now + 200, out);
    STR_EQ(out->status, "accepted");
    cr_assert_eq(out->slot, iv->slots[1]);
    cr_assert_eq(out->sequence, seq0 + 1);
    cr_assert_eq(CALL(interview_accept, iv->id, iv->slots[0], H.now + 201, out), STORE_CONFLICT);
    STR_EQ(out->status, "accepted");
    cr_assert_eq(CALL(interview_propose, second, out), STORE_CONFLICT,
                 "an accepted one is open too");
    OK(interview_cancel, iv->id, p.engineer->id, H.now + 300, out);
    STR_EQ(out->status, "cancelled");
    STR_EQ(out->cancelled_by, p.engineer->id);
    cr_assert_eq(out->sequence, seq0 + 2);
    cr_assert_eq(CALL(interview_cancel, iv->id, p.client->id, H.now + 301, out), STORE_CONFLICT);
    OK(interview_get, v->id, out);
    STR_EQ(out->status, "cancelled");
    /* now another may be proposed */
    second->created_at = H.now + 400;
    OK(interview_propose, second, out);
    OK(interview_get, v->id, out);
    STR_EQ(out->id, second->id, "the latest");
    /* mails: the proposal to the engineer only, acceptance and cancellation to both */
    store_outbox *o = NEW(store_outbox);
    OK(outbox_list, NULL, 0, 100, o);
    int proposed = 0, accepted = 0, cancelled = 0;
    for (int i = 0; i < o->n; i++) {
        proposed += strcmp(o->items[i].kind, "interview.proposed") == 0;
        accepted += strcmp(o->items[i].kind, "interview.accepted") == 0;
        cancelled += strcmp(o->items[i].kind, "interview.cancelled") == 0;
    }
    store_outbox_free(o);
    cr_assert_eq(proposed, 2);
    cr_assert_eq(accepted, 2);
    cr_assert_eq(cancelled, 2);
    store_conversation_free(v);
}

STORE_TEST(outbox_send_retry_fail_requeue)
{
    store_user *client = fx_user("client", "Carla");
    store_user *e[1] = {fx_engineer("Erik", 9000)};
    fx_request(client, e, 1); /* one invitation mail */
    store_outbox *o = NEW(store_outbox);
    OK(outbox_list, NULL, 0, 10, o);
    cr_assert_eq(o->n, 1);
    store_mail *m = NEW(store_mail);
    OK(mail_get, o->items[0].id, m);
    STR_EQ(m->status, "queued");
    STR_EQ(m->kind, "invitation");
    STR_EQ(m->to_addr, e[0]->email);
    STR_EQ(m->to_name, "Erik");
    cr_assert_eq(m->attempts, 0);
    free(m->data);
    /* mail_get clears its out first: the id must not live in it */
    char *id = h_alloc(32);
    memcpy(id, o->items[0].id, 32);
    store_outbox_free(o);
    cr_assert_eq(CALL(mail_get, "mail_nobody", NEW(store_mail)), STORE_NOTFOUND);
    store_job *j = due("email.send", H.now);
    STR_EQ(j->ref, id);
    /* deferred (breaker open): only the time moves */
    store_mail_result r = {
        .mail_id = id, .job_id = j->id, .now = H.now, .deferred = 1, .retry_at = H.now + 60};
    OK(mail_result, &r);
    OK(mail_get, id, m);
    cr_assert_eq(m->attempts, 0);
    cr_assert_eq(m->next_attempt_at, H.now + 60);
    free(m->data);
    /* a failed try, again later */
    j = due("email.send", H.now + 60);
    store_mail_result r2 = {.mail_id = id,
                            .job_id = j->id,
                            .now = H.now + 60,
                            .error = "421 try later",
                            .retry_at = H.now + 600};
    OK(mail_result, &r2);
    OK(mail_get, id, m);
    STR_EQ(m->status, "queued");
    cr_assert_eq(m->attempts, 1);
    STR_EQ(m->last_error, "421 try later");
    free(m->data);
    store_job_batch *b = NEW(store_job_batch);
    OK(jobs_claim, H.now + 599, 60, b);
    for (int i = 0; i < b->n; i++)
        cr_assert_str_neq(b->jobs[i].kind, "email.send", "not before its retry");
    j = due("email.send", H.now + 600);
    /* given up */
    store_mail_result r3 = {
        .mail_id = id, .job_id = j->id, .now = H.now + 600, .error = "550 no such user"};
    OK(mail_result, &r3);
    OK(mail_get, id, m);
    STR_EQ(m->status, "failed");
    cr_assert_eq(m->attempts, 2);
    free(m->data);
    OK(outbox_list, "failed", 0, 10, o);
    cr_assert_eq(o->n, 1);
    store_outbox_free(o);
    OK(jobs_claim, H.now + 100000, 60, b);
    for (int i = 0; i < b->n; i++)
        cr_assert_str_neq(b->jobs[i].kind, "email.send", "the send job is done");
    /* an admin sends it again */
    OK(mail_requeue, id, H.now + 700, m);
    STR_EQ(m->status, "queued");
    cr_assert_eq(m->attempts, 0);
    free(m->data);
    cr_assert_eq(CALL(mail_requeue, id, H.now + 701, m), STORE_CONFLICT, "not failed");
    free(m->data);
    cr_assert_eq(CALL(mail_requeue, "mail_nobody", H.now, NEW(store_mail)), STORE_NOTFOUND);
    j = due("email.send", H.now + 700);
    store_mail_result r4 = {.mail_id = id, .job_id = j->id, .now = H.now + 700, .sent = 1};
    OK(mail_result, &r4);
    OK(mail_get, id, m);
    STR_EQ(m->status, "sent");
    cr_assert_eq(m->sent_at, H.now + 700);
    free(m->data);
    /* a late answer for a sent mail changes nothing */
    OK(mail_result, &r3);
    OK(mail_get, id, m);
    STR_EQ(m->status, "sent");
    free(m->data);
    OK(outbox_list, "sent", 0, 10, o);
    cr_assert_eq(o->n, 1);
    store_outbox_free(o);
}
