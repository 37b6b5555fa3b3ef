/* sqlite_accounts: accounts: a user's own (name, password: the other
 * sessions end) and the admins' view (list, suspend, reactivate: a
 * suspended user's sessions end in the same transaction). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_internal.h"

typedef struct {
    const char *id, *name, *hash, *keep;
    int64_t now;
    int *ended;
} acct_args;

static int read_one_user(sq_conn *c, const char *id, store_user *u)
{
    static const char sql[] = "SELECT id, email, name, role, password_hash, created_at, status"
                              " FROM users WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    sqlite_copy_col(u->id, sizeof u->id, st, 0);
    sqlite_copy_col(u->email, sizeof u->email, st, 1);
    sqlite_copy_col(u->name, sizeof u->name, st, 2);
    sqlite_copy_col(u->role, sizeof u->role, st, 3);
    sqlite_copy_col(u->password_hash, sizeof u->password_hash, st, 4);
    u->created_at = sqlite3_column_int64(st, 5);
    sqlite_copy_col(u->status, sizeof u->status, st, 6);
    return STORE_OK;
}

static int run_user_get(sq_conn *c, sq_job *j)
{
    return read_one_user(c, j->s1, j->out);
}

int sqa_user_get(store *s, const char *id, store_user *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_user_get, 0, d, cb, ctx, NULL, out, id, NULL, 0);
}

static int run_user_rename(sq_conn *c, sq_job *j)
{
    const acct_args *a = j->in;
    store_user *out = j->out;
    int rc = read_one_user(c, a->id, out);
    if (rc < 0) return rc;
    if (strcmp(out->name, a->name) != 0) {
        static const char sql[] = "UPDATE users SET name = ? WHERE id = ?";
        sqlite3_stmt *st = sq_prep(c, sql);
        if (!st) return STORE_IO;
        sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->id, -1, SQLITE_STATIC);
        if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
        if ((rc = sqlite_audit(c, a->now, a->id, "user.renamed", "user", a->id, NULL)) < 0) return rc;
        snprintf(out->name, sizeof out->name, "%s", a->name);
    }
    out->password_hash[0] = '\0';
    return STORE_OK;
}

int sqa_user_rename(store *s, const char *id, const char *name, int64_t now, store_user *out, uint64_t d,
                    store_done_cb cb, void *ctx)
{
    acct_args a = {.id = id, .name = name, .now = now};
    return sqlite_submit_args(s, run_user_rename, 1, d, cb, ctx, &a, sizeof a, out);
}

/* deletes user_id's sessions except keep (NULL: all); *ended = how many */
int sqlite_sessions_end(sq_conn *c, const char *user_id, const char *keep, int *ended)
{
    static const char sql[] = "DELETE FROM sessions WHERE user_id = ? AND token_hash <> coalesce(?, '')";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    if (keep) sqlite3_bind_text(st, 2, keep, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (ended) *ended = sqlite3_changes(c->db);
    return STORE_OK;
}

static int run_password_change(sq_conn *c, sq_job *j)
{
    const acct_args *a = j->in;
    static const char sql[] = "UPDATE users SET password_hash = ? WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (!sqlite3_changes(c->db)) return STORE_NOTFOUND;
    if ((rc = sqlite_sessions_end(c, a->id, a->keep, a->ended)) < 0) return rc;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"sessions_ended\":%d}", *a->ended);
    return sqlite_audit(c, a->now, a->id, "user.password_changed", "user", a->id, detail);
}

int sqa_password_change(store *s, const char *user_id, const char *hash, const char *keep_session, int64_t now,
                        int *ended, uint64_t d, store_done_cb cb, void *ctx)
{
    acct_args a = {.id = user_id, .hash = hash, .keep = keep_session, .now = now, .ended = ended};
    return sqlite_submit_args(s, run_password_change, 1, d, cb, ctx, &a, sizeof a, NULL);
}

/* ---- the admins' view: listing, suspending, reactivating ---------------------------------- */

#define ACCOUNT_COLS                                                                                  \
    "u.rowid, u.id, u.email, u.name, u.role, u.created_at, u.status, coalesce(u.suspended_at, 0),"   \
    " coalesce(u.suspended_reason, '')"

static void read_account(sqlite3_stmt *st, store_account *a)
{
    memset(a, 0, sizeof *a);
    a->seq = sqlite3_column_int64(st, 0);
    sqlite_copy_col(a->u.id, sizeof a->u.id, st, 1);
    sqlite_copy_col(a->u.email, sizeof a->u.email, st, 2);
    sqlite_copy_col(a->u.name, sizeof a->u.name, st, 3);
    sqlite_copy_col(a->u.role, sizeof a->u.role, st, 4);
    a->u.created_at = sqlite3_column_int64(st, 5);
    sqlite_copy_col(a->u.status, sizeof a->u.status, st, 6);
    a->suspended_at = sqlite3_column_int64(st, 7);
    sqlite_copy_col(a->suspended_reason, sizeof a->suspended_reason, st, 8);
}

static int run_users_list(sq_conn *c, sq_job *j)
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
    static const char sql[] = "SELECT " ACCOUNT_COLS " FROM users u"
                              " WHERE (?1 IS NULL OR u.name LIKE ?1 ESCAPE '\\' OR u.email LIKE ?1 ESCAPE '\\')"
                              " AND (?2 IS NULL OR u.role = ?2) AND (?3 IS NULL OR u.status = ?3)"
                              " AND (?4 = 0 OR u.rowid < ?4) ORDER BY u.rowid DESC LIMIT ?5";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    if (f->q) sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
    if (f->role) sqlite3_bind_text(st, 2, f->role, -1, SQLITE_STATIC);
    if (f->status) sqlite3_bind_text(st, 3, f->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, f->before_seq);
    sqlite3_bind_int(st, 5, f->limit < STORE_ACCOUNTS_MAX ? f->limit : STORE_ACCOUNTS_MAX);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_ACCOUNTS_MAX) read_account(st, &out->items[out->n++]);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

int sqa_users_list(store *s, const store_account_filter *f, store_account_list *out, uint64_t d, store_done_cb cb,
                   void *ctx)
{
    return sqlite_submit(s, run_users_list, 0, d, cb, ctx, f, out, NULL, NULL, 0);
}

typedef struct {
    const char *id, *to, *admin, *reason;
    int64_t now;
    int *ended;
} status_args;

static int read_account_by_id(sq_conn *c, const char *id, store_account *a)
{
    static const char sql[] = "SELECT " ACCOUNT_COLS " FROM users u WHERE u.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    read_account(st, a);
    sqlite3_reset(st);
    return STORE_OK;
}

static int run_user_set_status(sq_conn *c, sq_job *j)
{
    const status_args *a = j->in;
    store_account *out = j->out;
    *a->ended = 0;
    int rc = read_account_by_id(c, a->id, out);
    if (rc < 0) return rc;
    if (strcmp(out->u.status, a->to) == 0) return STORE_CONFLICT;
    int suspend = strcmp(a->to, "suspended") == 0;
    static const char sql[] = "UPDATE users SET status = ?1, suspended_at = CASE WHEN ?1 = 'suspended' THEN ?2 END,"
                              " suspended_reason = CASE WHEN ?1 = 'suspended' THEN ?3 END WHERE id = ?4";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->now);
    if (a->reason) sqlite3_bind_text(st, 3, a->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->id, -1, SQLITE_STATIC);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    if (suspend && (rc = sqlite_sessions_end(c, a->id, NULL, a->ended)) < 0) return rc;
    json_t *dj = json_pack("{s:s?,s:i}", "reason", a->reason, "sessions_ended", *a->ended);
    char *detail = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
    json_decref(dj);
    if (!detail) return STORE_IO;
    rc = sqlite_audit(c, a->now, a->admin, suspend ? "user.suspended" : "user.reactivated", "user", a->id, detail);
    free(detail);
    if (rc < 0) return rc;
    return read_account_by_id(c, a->id, out);
}

int sqa_user_set_status(store *s, const char *id, const char *to, const char *admin_id, const char *reason, int64_t now,
                        store_account *out, int *ended, uint64_t d, store_done_cb cb, void *ctx)
{
    status_args a = {id, to, admin_id, reason, now, ended};
    return sqlite_submit_args(s, run_user_set_status, 1, d, cb, ctx, &a, sizeof a, out);
}
