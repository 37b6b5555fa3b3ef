/* tx_users: accounts and sessions: creating a user, finding one by email,
 * and the sessions that sign them in; the ping /readyz sends. */
#include "tx_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ping ---------------------------------------------------------------- */

static int run_ping(db_conn *c, db_job *j)
{
    (void)j;
    db_stmt *st = db_prep(c, ST_PING);
    if (!st) return STORE_IO;
    return db_rc(db_step(st));
}

int tx_ping(store *s, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_ping, 0, d, cb, ctx, NULL, NULL, NULL, NULL, 0);
}

/* ---- users --------------------------------------------------------------- */

int tx_audit(db_conn *c, int64_t at, const char *actor, const char *action, const char *entity,
             const char *entity_id, const char *detail)
{
    db_stmt *st = db_prep(c, ST_AUDIT);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, at);
    db_bind_text(st, 2, actor);
    db_bind_text(st, 3, action);
    db_bind_text(st, 4, entity);
    db_bind_text(st, 5, entity_id);
    db_bind_text(st, 6, detail);
    return db_rc(db_step(st));
}

static int run_user_create(db_conn *c, db_job *j)
{
    const store_user *u = j->in;
    db_stmt *st = db_prep(c, ST_USER_CREATE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, u->id);
    db_bind_text(st, 2, u->email);
    db_bind_text(st, 3, u->name);
    db_bind_text(st, 4, u->role);
    db_bind_text(st, 5, u->password_hash);
    db_bind_int(st, 6, u->created_at);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"role\":\"%s\",\"ip\":\"%s\"}", u->role, j->s1 ? j->s1 : "");
    return tx_audit(c, u->created_at, u->id, "user.created", "user", u->id, detail);
}

int tx_user_create(store *s, const store_user *u, const char *ip, uint64_t d, store_done_cb cb,
                   void *ctx)
{
    return store_submit(s, run_user_create, 1, d, cb, ctx, u, NULL, ip, NULL, 0);
}

static void read_user(db_stmt *st, int col, store_user *u)
{
    db_copy_col(u->id, sizeof u->id, st, col + 0);
    db_copy_col(u->email, sizeof u->email, st, col + 1);
    db_copy_col(u->name, sizeof u->name, st, col + 2);
    db_copy_col(u->role, sizeof u->role, st, col + 3);
    db_copy_col(u->password_hash, sizeof u->password_hash, st, col + 4);
    u->created_at = db_col_int(st, col + 5);
    db_copy_col(u->status, sizeof u->status, st, col + 6);
}

static int run_user_by_email(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_USER_BY_EMAIL);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    read_user(st, 0, j->out);
    return STORE_OK;
}

int tx_user_by_email(store *s, const char *email, store_user *out, uint64_t d, store_done_cb cb,
                     void *ctx)
{
    return store_submit(s, run_user_by_email, 0, d, cb, ctx, NULL, out, email, NULL, 0);
}

/* ---- sessions ------------------------------------------------------------ */

static int run_session_create(db_conn *c, db_job *j)
{
    const store_session *x = j->in;
    /* expired sessions of this user go first: the table cannot grow forever */
    db_stmt *st = db_prep(c, ST_SESSION_CREATE_PURGE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, x->user.id);
    db_bind_int(st, 2, x->created_at);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    st = db_prep(c, ST_SESSION_CREATE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, x->token_hash);
    db_bind_text(st, 2, x->user.id);
    db_bind_text(st, 3, x->csrf_token);
    db_bind_int(st, 4, x->created_at);
    db_bind_int(st, 5, x->expires_at);
    return db_rc(db_step(st));
}

int tx_session_create(store *s, const store_session *x, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_session_create, 1, d, cb, ctx, x, NULL, NULL, NULL, 0);
}

static int run_session_get(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_SESSION_GET);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, j->n1);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    store_session *out = j->out;
    db_copy_col(out->token_hash, sizeof out->token_hash, st, 0);
    db_copy_col(out->csrf_token, sizeof out->csrf_token, st, 1);
    out->created_at = db_col_int(st, 2);
    out->expires_at = db_col_int(st, 3);
    read_user(st, 4, &out->user);
    out->user.password_hash[0] = '\0'; /* never needed past login */
    return STORE_OK;
}

int tx_session_get(store *s, const char *h, int64_t now, store_session *out, uint64_t d,
                   store_done_cb cb, void *ctx)
{
    return store_submit(s, run_session_get, 0, d, cb, ctx, NULL, out, h, NULL, now);
}

static int run_session_delete(db_conn *c, db_job *j)
{
    db_stmt *st = db_prep(c, ST_SESSION_DELETE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (!db_changes(c)) return STORE_NOTFOUND;
    db_notice(c, "session", j->s1); /* other nodes forget it if they cached it */
    return STORE_OK;
}

int tx_session_delete(store *s, const char *h, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_session_delete, 1, d, cb, ctx, NULL, NULL, h, NULL, 0);
}
