/* tx_notifications: a user's notifications: the latest with the unread
 * count, and marking them read. */
#include "tx_internal.h"
#include <stdio.h>
#include <string.h>

static int count_unread(db_conn *c, const char *user_id, int *out)
{
    db_stmt *st = db_prep(c, ST_NOTES_COUNT_UNREAD);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, user_id);
    int rc = db_step(st);
    if (rc != DB_ROW) return db_rc(rc);
    *out = db_col_int(st, 0);
    return STORE_OK;
}

static int run_notes(db_conn *c, db_job *j)
{
    store_notifications *out = j->out;
    db_stmt *st = db_prep(c, ST_NOTES_LIST);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, j->s1);
    db_bind_int(st, 2, STORE_NOTES_MAX);
    int rc;
    out->n = 0;
    while ((rc = db_step(st)) == DB_ROW && out->n < STORE_NOTES_MAX) {
        out->items[out->n].id = db_col_int(st, 0);
        out->items[out->n].created_at = db_col_int(st, 1);
        out->items[out->n].read_at = db_col_int(st, 2);
        db_copy_col(out->items[out->n].kind, sizeof out->items[0].kind, st, 3);
        db_copy_col(out->items[out->n].payload, sizeof out->items[0].payload, st, 4);
        out->n++;
    }
    if (rc != DB_ROW && rc != DB_DONE) return db_rc(rc);
    return count_unread(c, j->s1, &out->unread);
}

int tx_notifications_list(store *s, const char *user_id, store_notifications *out, uint64_t d,
                          store_done_cb cb, void *ctx)
{
    return store_submit(s, run_notes, 0, d, cb, ctx, NULL, out, user_id, NULL, 0);
}

typedef struct {
    const char *user_id;
    int64_t up_to, now;
    int *unread;
} read_args;

static int run_notes_read(db_conn *c, db_job *j)
{
    const read_args *a = j->in;
    int rc;
    if (a->up_to > 0) {
        db_stmt *st = db_prep(c, ST_NOTES_READ_OWN);
        if (!st) return STORE_IO;
        db_bind_int(st, 1, a->up_to);
        db_bind_text(st, 2, a->user_id);
        rc = db_step(st);
        if (rc == DB_DONE) return STORE_NOTFOUND;
        if (rc != DB_ROW) return db_rc(rc);
    }
    db_stmt *st = db_prep(c, ST_NOTES_READ);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->now);
    db_bind_text(st, 2, a->user_id);
    db_bind_int(st, 3, a->up_to > 0 ? a->up_to : INT64_MAX);
    if ((rc = db_rc(db_step(st))) < 0) return rc;
    return count_unread(c, a->user_id, a->unread);
}

int tx_notifications_read(store *s, const char *user_id, int64_t up_to, int64_t now, int *unread,
                          uint64_t d, store_done_cb cb, void *ctx)
{
    read_args a = {user_id, up_to, now, unread};
    return store_submit_args(s, run_notes_read, 1, d, cb, ctx, &a, sizeof a, NULL);
}
