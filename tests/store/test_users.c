/* test_users: accounts and sessions through the store: creating a user,
 * the unique email, sessions and their expiry, renames, password changes
 * (other sessions end), and the admins' list and suspension. */
#include "core/token.h"
#include "harness.h"

static store_session *session_of(const store_user *u, int64_t expires_at)
{
    store_session *x = NEW(store_session);
    char tok[TOKEN_STR_LEN + 1];
    token_new(tok);
    token_hash_hex(tok, strlen(tok), x->token_hash);
    token_hex(x->csrf_token, 16);
    x->created_at = H.now;
    x->expires_at = expires_at;
    x->user = *u;
    OK(session_create, x);
    return x;
}

STORE_TEST(ping_answers)
{
    h_call w = {0};
    cr_assert_eq(h_wait(S->v->ping(S, h_deadline(), h_cb, &w), &w), STORE_OK);
    cr_assert_eq(S->v->queue_depth(S), 0);
}

STORE_TEST(user_create_then_by_email_and_get)
{
    store_user *u = fx_user("client", "Carla");
    store_user *back = NEW(store_user);
    OK(user_by_email, u->email, back);
    STR_EQ(back->id, u->id);
    STR_EQ(back->name, "Carla");
    STR_EQ(back->role, "client");
    STR_EQ(back->password_hash, u->password_hash);
    STR_EQ(back->status, "active");
    cr_assert_eq(back->created_at, H.now);
    memset(back, 0, sizeof *back);
    OK(user_get, u->id, back);
    STR_EQ(back->email, u->email);
    STR_EQ(back->password_hash, u->password_hash);
    cr_assert_eq(CALL(user_by_email, "nobody@example.com", back), STORE_NOTFOUND);
    cr_assert_eq(CALL(user_get, "usr_nobody", back), STORE_NOTFOUND);
}

STORE_TEST(user_duplicate_email_is_a_conflict)
{
    store_user *u = fx_user("client", "Carla");
    store_user *again = NEW(store_user);
    *again = *u;
    id_new("usr", again->id);
    cr_assert_eq(CALL(user_create, again, "127.0.0.1"), STORE_CONFLICT);
    store_user *back = NEW(store_user);
    OK(user_by_email, u->email, back);
    STR_EQ(back->id, u->id); /* the first one stays */
    cr_assert_eq(CALL(user_get, again->id, back), STORE_NOTFOUND);
}

STORE_TEST(user_create_is_audited)
{
    store_user *u = fx_user("engineer", "Erik");
    store_audit *a = NEW(store_audit);
    OK(audit_list, "user", u->id, a);
    cr_assert_eq(a->n, 1);
    STR_EQ(a->items[0].action, "user.created");
    STR_EQ(a->items[0].actor_id, u->id);
    cr_assert(strstr(a->items[0].detail, "\"role\":\"engineer\""), "%s", a->items[0].detail);
}

STORE_TEST(session_get_until_expiry_then_delete)
{
    store_user *u = fx_user("client", "Carla");
    store_session *x = session_of(u, H.now + 3600);
    store_session *got = NEW(store_session);
    OK(session_get, x->token_hash, H.now + 10, got);
    STR_EQ(got->token_hash, x->token_hash);
    STR_EQ(got->csrf_token, x->csrf_token);
    cr_assert_eq(got->expires_at, H.now + 3600);
    STR_EQ(got->user.id, u->id);
    STR_EQ(got->user.email, u->email);
    STR_EQ(got->user.role, "client");
    STR_EQ(got->user.password_hash, ""); /* never past login */
    /* expires_at <= now is expired */
    cr_assert_eq(CALL(session_get, x->token_hash, H.now + 3600, got), STORE_NOTFOUND);
    cr_assert_eq(CALL(session_get, "0000", H.now, got), STORE_NOTFOUND);
    OK(session_delete, x->token_hash);
    cr_assert_eq(CALL(session_get, x->token_hash, H.now + 10, got), STORE_NOTFOUND);
    cr_assert_eq(CALL(session_delete, x->token_hash), STORE_NOTFOUND);
}

STORE_TEST(user_rename_is_audited_once)
{
    store_user *u = fx_user("client", "Carla");
    store_user *out = NEW(store_user);
    OK(user_rename, u->id, "Carla Diaz", H.now + 5, out);
    STR_EQ(out->name, "Carla Diaz");
    STR_EQ(out->password_hash, "");
    OK(user_rename, u->id, "Carla Diaz", H.now + 6, out); /* no change: no audit row */
    store_user *back = NEW(store_user);
    OK(user_get, u->id, back);
    STR_EQ(back->name, "Carla Diaz");
    store_audit *a = NEW(store_audit);
    OK(audit_list, "user", u->id, a);
    int renamed = 0;
    for (int i = 0; i < a->n; i++)
        renamed += strcmp(a->items[i].action, "user.renamed") == 0;
    cr_assert_eq(renamed, 1);
    cr_assert_eq(CALL(user_rename, "usr_nobody", "X", H.now, out), STORE_NOTFOUND);
}

STORE_TEST(password_change_ends_the_other_sessions)
{
    store_user *u = fx_user("client", "Carla");
    store_session *keep = session_of(u, H.now + 3600);
    store_session *other1 = session_of(u, H.now + 3600);
    store_session *other2 = session_of(u, H.now + 3600);
    store_user *someone = fx_user("client", "Sam");
    store_session *theirs = session_of(someone, H.now + 3600);
    int ended = -1;
    OK(password_change, u->id, "$argon2id$new", keep->token_hash, H.now + 10, &ended);
    cr_assert_eq(ended, 2);
    store_session *got = NEW(store_session);
    OK(session_get, keep->token_hash, H.now + 20, got);
    cr_assert_eq(CALL(session_get, other1->token_hash, H.now + 20, got), STORE_NOTFOUND);
    cr_assert_eq(CALL(session_get, other2->token_hash, H.now + 20, got), STORE_NOTFOUND);
    OK(session_get, theirs->token_hash, H.now + 20, got);
    store_user *back = NEW(store_user);
    OK(user_get, u->id, back);
    STR_EQ(back->password_hash, "$argon2id$new");
    cr_assert_eq(CALL(password_change, "usr_nobody", "h", NULL, H.now, &ended), STORE_NOTFOUND);
}

STORE_TEST(users_list_filters_and_pages)
{
    store_user *a = fx_user("client", "Alice_Smith");
    store_user *b = fx_user("engineer", "Bob");
    store_user *c = fx_user("client", "Carol");
    store_account_list *l = NEW(store_account_list);
    store_account_filter f = {.limit = 10};
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 3);
    /* newest first */
    STR_EQ(l->items[0].u.id, c->id);
    STR_EQ(l->items[2].u.id, a->id);
    cr_assert(l->items[0].seq > l->items[1].seq && l->items[1].seq > l->items[2].seq);
    STR_EQ(l->items[1].u.password_hash, "");
    f.role = "client";
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 2);
    f.role = NULL;
    f.q = "BOB"; /* case-insensitive substring of name or email */
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].u.id, b->id);
    f.q = "e_s"; /* '_' is literal, not LIKE's wildcard */
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].u.id, a->id);
    f.q = "%";
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 0);
    f.q = NULL;
    f.limit = 2;
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 2);
    f.before_seq = l->items[1].seq;
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].u.id, a->id);
}

STORE_TEST(suspend_ends_sessions_and_reactivate)
{
    store_user *admin = fx_user("admin", "Ada");
    store_user *u = fx_user("client", "Carla");
    store_session *x = session_of(u, H.now + 3600);
    session_of(u, H.now + 3600);
    store_account *out = NEW(store_account);
    int ended = -1;
    OK(user_set_status, u->id, "suspended", admin->id, "fraud", H.now + 10, out, &ended);
    cr_assert_eq(ended, 2);
    STR_EQ(out->u.status, "suspended");
    cr_assert_eq(out->suspended_at, H.now + 10);
    STR_EQ(out->suspended_reason, "fraud");
    store_session *got = NEW(store_session);
    cr_assert_eq(CALL(session_get, x->token_hash, H.now + 20, got), STORE_NOTFOUND);
    store_account_list *l = NEW(store_account_list);
    store_account_filter f = {.status = "suspended", .limit = 10};
    OK(users_list, &f, l);
    cr_assert_eq(l->n, 1);
    STR_EQ(l->items[0].u.id, u->id);
    /* suspended already */
    cr_assert_eq(
        CALL(user_set_status, u->id, "suspended", admin->id, NULL, H.now + 11, out, &ended),
        STORE_CONFLICT);
    STR_EQ(out->u.status, "suspended");
    OK(user_set_status, u->id, "active", admin->id, NULL, H.now + 12, out, &ended);
    STR_EQ(out->u.status, "active");
    cr_assert_eq(ended, 0);
    cr_assert_eq(
        CALL(user_set_status, "usr_nobody", "suspended", admin->id, NULL, H.now, out, &ended),
        STORE_NOTFOUND);
    store_audit *a = NEW(store_audit);
    OK(audit_list, "user", u->id, a);
    int susp = 0, react = 0;
    for (int i = 0; i < a->n; i++) {
        susp += strcmp(a->items[i].action, "user.suspended") == 0;
        react += strcmp(a->items[i].action, "user.reactivated") == 0;
    }
    cr_assert_eq(susp, 1);
    cr_assert_eq(react, 1);
}
