/* tx_accounts: accounts: a user's own (name, password: the other
 * sessions end) and the admins' view (list, suspend, reactivate: a
 * suspended user's sessions end in the same transaction). */
#include "tx_internal.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *id, *name, *hash, *keep;
    int64_t now;
    int *ended;
} acct_args;

static int read_one_user(db_conn *c, const char *id, store_user *u)
{
    db_stmt *st = db_prep(c, ST_READ_ONE_USER);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    db_copy_col(u->id, sizeof u->id, st, 0);
    db_copy_col(u->email, sizeof u->email, st, 1);
    db_copy_col(u->name, sizeof u->name, st, 2);
    db_copy_col(u->role, sizeof u->role, st, 3);
    db_copy_col(u->password_hash, sizeof u->password_hash, st, 4);
    u->created_at = db_col_int(st, 5);
    db_copy_col(u->status, sizeof u->status, st, 6);
    return STORE_OK;
}

static int run_user_get(db_conn *c, db_job *j)
{
    return read_one_user(c, j->s1, j->out);
}

int tx_user_get(store *s, const char *id, store_user *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_user_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_user_rename(db_conn *c, db_job *j)
{
    const acct_args *a = j->in;
    store_user *out = j->out;
    int rc = read_one_user(c, a->id, out);
    if (rc < 0) return rc;
    if (strcmp(out->name, a->name) != 0) {
        db_stmt *st = db_prep(c, ST_USER_RENAME);
        if (!st) return STORE_IO;
        db_bind_text(st, 1, a->name);
        db_bind_text(st, 2, a->id);
        if ((rc = db_rc(db_step(st))) < 0) return rc;
        if ((rc = tx_audit(c, a->now, a->id, "user.renamed", "user", a->id, NULL)) < 0) return rc;
        db_notice(c, "user", a->id); /* sessions cached elsewhere carry the name */
        snprintf(out->name, sizeof out->name, "%s", a->name);
    }
    out->password_hash[0] = '\0';
    return STORE_OK;
}

int tx_user_rename(store *s, const char *id, const char *name, int64_t now, store_user *out,
                   uint64_t d, store_done_cb cb, void *ctx)
{
    acct_args a = {.id = id, .name = name, .now = now};
    return store_submit_args(s, run_user_rename, 1, d, cb, ctx, &a, sizeof a, out);
}

/* deletes user_id's sessions except keep (NULL: all); *ended = how many */
int tx_sessions_end(db_conn *c, const char *user_id, const char *keep, int *ended)
{
    db_stmt *st = db_prep(c, ST_SESSIONS_END);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, user_id);
    if (keep) db_bind_text(st, 2, keep);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (ended) *ended = db_changes(c);
    /* other nodes forget the sessions they cached and end their streams */
    char arg[128];
    snprintf(arg, sizeof arg, "%s%s%s", user_id, keep ? ":" : "", keep ? keep : "");
    db_notice(c, "sessions", arg);
    return STORE_OK;
}

static int run_password_change(db_conn *c, db_job *j)
{
    const acct_args *a = j->in;
    db_stmt *st = db_prep(c, ST_PASSWORD_CHANGE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->hash);
    db_bind_text(st, 2, a->id);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (!db_changes(c)) return STORE_NOTFOUND;
    if ((rc = tx_sessions_end(c, a->id, a->keep, a->ended)) < 0) return rc;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"sessions_ended\":%d}", *a->ended);
    return tx_audit(c, a->now, a->id, "user.password_changed", "user", a->id, detail);
}

int tx_password_change(store *s, const char *user_id, const char *hash, const char *keep_session,
                       int64_t now, int *ended, uint64_t d, store_done_cb cb, void *ctx)
{
    acct_args a = {.id = user_id, .hash = hash, .keep = keep_session, .now = now, .ended = ended};
    return store_submit_args(s, run_password_change, 1, d, cb, ctx, &a, sizeof a, NULL);
}

/* ---- the admins' view: listing, suspending, reactivating ---------------------------------- */

static void read_account(db_stmt *st, store_account *a)
{
    memset(a, 0, sizeof *a);
    a->seq = db_col_int(st, 0);
    db_copy_col(a->u.id, sizeof a->u.id, st, 1);
    db_copy_col(a->u.email, sizeof a->u.email, st, 2);
    db_copy_col(a->u.name, sizeof a->u.name, st, 3);
    db_copy_col(a->u.role, sizeof a->u.role, st, 4);
    a->u.created_at = db_col_int(st, 5);
    db_copy_col(a->u.status, sizeof a->u.status, st, 6);
    a->suspended_at = db_col_int(st, 7);
    db_copy_col(a->suspended_reason, sizeof a->suspended_reason, st, 8);
}

static int run_users_list(db_conn *c, db_job *j)
{
    const store_account_filter *f = j->in;
    store_account_list *out = j->out;
    /* q is matched literally: LIKE's wildcards in it are escaped */
    char pat[512] = "";
    if (f->q) {
        size_t n = 0;
        pat[n++] = '%';
        for (const char *p = f->q; *p && n < sizeof pat - 3; p++) {
            if (*p == '%' || *p == '_' || *p == '\\') pat[n++] = '\\';
            pat[n++] = *p;
        }
        pat[n++] = '%';
        pat[n] = '\0';
    }
    db_stmt *st = db_prep(c, ST_USERS_LIST);
    if (!st) return STORE_IO;
    if (f->q) db_bind_text(st, 1, pat);
    if (f->role) db_bind_text(st, 2, f->role);
    if (f->status) db_bind_text(st, 3, f->status);
    db_bind_int(st, 4, f->before_seq);
    db_bind_int(st, 5, f->limit < STORE_ACCOUNTS_MAX ? f->limit : STORE_ACCOUNTS_MAX);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_ACCOUNTS_MAX)
        read_account(st, &out->items[out->n++]);
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

int tx_users_list(store *s, const store_account_filter *f, store_account_list *out, uint64_t d,
                  store_done_cb cb, void *ctx)
{
    return store_submit(s, run_users_list, 0, d, cb, ctx, f, out, NULL, NULL, 0);
}

typedef struct {
    const char *id, *to, *admin, *reason;
    int64_t now;
    int *ended;
} status_args;

static int read_account_by_id(db_conn *c, const char *id, store_account *a)
{
    db_stmt *st = db_prep(c, ST_READ_ACCOUNT_BY_ID);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    read_account(st, a);
    db_reset(st);
    return STORE_OK;
}

static int run_user_set_status(db_conn *c, db_job *j)
{
    const status_args *a = j->in;
    store_account *out = j->out;
    *a->ended = 0;
    int rc = read_account_by_id(c, a->id, out);
    if (rc < 0) return rc;
    if (strcmp(out->u.status, a->to) == 0) return STORE_CONFLICT;
    int suspend = strcmp(a->to, "suspended") == 0;
    db_stmt *st = db_prep(c, ST_USER_SET_STATUS);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->to);
    db_bind_int(st, 2, a->now);
    if (a->reason) db_bind_text(st, 3, a->reason);
    db_bind_text(st, 4, a->id);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    if (suspend && (rc = tx_sessions_end(c, a->id, NULL, a->ended)) < 0) return rc;
    if (strcmp(out->u.role, "engineer") == 0)
        db_notice(c, "engineer", a->id); /* in or out of matching */
    json_t *dj = json_pack("{s:s?,s:i}", "reason", a->reason, "sessions_ended", *a->ended);
    char *detail = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
    json_decref(dj);
    if (!detail) return STORE_IO;
    rc = tx_audit(c, a->now, a->admin, suspend ? "user.suspended" : "user.reactivated", "user",
                  a->id, detail);
    free(detail);
    if (rc < 0) return rc;
    return read_account_by_id(c, a->id, out);
}

int tx_user_set_status(store *s, const char *id, const char *to, const char *admin_id,
                       const char *reason, int64_t now, store_account *out, int *ended, uint64_t d,
                       store_done_cb cb, void *ctx)
{
    status_args a = {id, to, admin_id, reason, now, ended};
    return store_submit_args(s, run_user_set_status, 1, d, cb, ctx, &a, sizeof a, out);
}
