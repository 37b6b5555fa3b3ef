/* sqlite_accounts: a user's own account (name, password) and the sessions
 * that end with a password change. */
#include <stdio.h>
#include <string.h>
#include "sqlite_internal.h"

typedef struct {
    const char *id, *name, *hash, *keep;
    int64_t now;
    int *ended;
} acct_args;

static int read_one_user(sq_conn *c, const char *id, store_user *u)
{
    static const char sql[] = "SELECT id, email, name, role, password_hash, created_at FROM users WHERE id = ?";
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
