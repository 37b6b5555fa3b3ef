/* sqlite_notifications: a user's notifications: the latest with the unread
 * count, and marking them read. */
#include <stdio.h>
#include <string.h>
#include "sqlite_internal.h"

static int count_unread(sq_conn *c, const char *user_id, int *out)
{
    static const char sql[] = "SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    *out = sqlite3_column_int(st, 0);
    return STORE_OK;
}

static int run_notes(sq_conn *c, sq_job *j)
{
    store_notifications *out = j->out;
    static const char sql[] = "SELECT id, created_at, coalesce(read_at, 0), kind, payload"
                              " FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, j->s1, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, STORE_NOTES_MAX);
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_NOTES_MAX) {
        out->items[out->n].id = sqlite3_column_int64(st, 0);
        out->items[out->n].created_at = sqlite3_column_int64(st, 1);
        out->items[out->n].read_at = sqlite3_column_int64(st, 2);
        sqlite_copy_col(out->items[out->n].kind, sizeof out->items[0].kind, st, 3);
        sqlite_copy_col(out->items[out->n].payload, sizeof out->items[0].payload, st, 4);
        out->n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sq_rc(c, rc);
    return count_unread(c, j->s1, &out->unread);
}

int sqr_notifications_list(store *s, const char *user_id, store_notifications *out, uint64_t d,
                           store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_notes, 0, d, cb, ctx, NULL, out, user_id, NULL, 0);
}

typedef struct {
    const char *user_id;
    int64_t up_to, now;
    int *unread;
} read_args;

static int run_notes_read(sq_conn *c, sq_job *j)
{
    const read_args *a = j->in;
    int rc;
    if (a->up_to > 0) {
        static const char own[] = "SELECT 1 FROM notifications WHERE id = ? AND user_id = ?";
        sqlite3_stmt *st = sq_prep(c, own);
        if (!st) return STORE_IO;
        sqlite3_bind_int64(st, 1, a->up_to);
        sqlite3_bind_text(st, 2, a->user_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) return STORE_NOTFOUND;
        if (rc != SQLITE_ROW) return sq_rc(c, rc);
    }
    static const char sql[] = "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL"
                              " AND id <= ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->now);
    sqlite3_bind_text(st, 2, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, a->up_to > 0 ? a->up_to : INT64_MAX);
    if ((rc = sq_rc(c, sqlite3_step(st))) < 0) return rc;
    return count_unread(c, a->user_id, a->unread);
}

int sqn_notifications_read(store *s, const char *user_id, int64_t up_to, int64_t now, int *unread, uint64_t d,
                           store_done_cb cb, void *ctx)
{
    read_args a = {user_id, up_to, now, unread};
    return sqlite_submit_args(s, run_notes_read, 1, d, cb, ctx, &a, sizeof a, NULL);
}
