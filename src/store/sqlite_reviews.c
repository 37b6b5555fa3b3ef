/* sqlite_reviews: double-blind reviews of ended contracts on SQLite. Each
 * party writes once within 14 days of the end; nothing is shown to the
 * other side until both have written (then both publish in the same
 * transaction) or the window closes (the reviews.publish job, scheduled by
 * the contract's end). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../domain/contracts.h"
#include "sqlite_internal.h"

#define REVIEW_WINDOW_S (14 * 86400)

static int read_reviews(sq_conn *c, const char *contract_id, store_reviews *out)
{
    memset(out, 0, sizeof *out);
    static const char k[] = "SELECT CASE WHEN status = 'ended' THEN coalesce(ended_at, 0) ELSE 0 END,"
                            " client_id, engineer_id, status FROM contracts WHERE id = ?";
    sqlite3_stmt *st = sq_prep(c, k);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, contract_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    out->ended_at = sqlite3_column_int64(st, 0);
    sqlite_copy_col(out->client_id, sizeof out->client_id, st, 1);
    sqlite_copy_col(out->engineer_id, sizeof out->engineer_id, st, 2);
    sqlite_copy_col(out->contract_status, sizeof out->contract_status, st, 3);
    sqlite3_reset(st);
    static const char sql[] = "SELECT r.author_id, u.name, u.role, r.subject_id, r.rating, r.comment, r.created_at,"
                              " coalesce(r.published_at, 0) FROM reviews r JOIN users u ON u.id = r.author_id"
                              " WHERE r.contract_id = ? ORDER BY r.created_at, r.author_id";
    st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, contract_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < 2) {
        store_review *r = &out->items[out->n++];
        sqlite_copy_col(r->author_id, sizeof r->author_id, st, 0);
        sqlite_copy_col(r->author_name, sizeof r->author_name, st, 1);
        sqlite_copy_col(r->author_role, sizeof r->author_role, st, 2);
        sqlite_copy_col(r->subject_id, sizeof r->subject_id, st, 3);
        r->rating = sqlite3_column_int(st, 4);
        sqlite_copy_col(r->comment, sizeof r->comment, st, 5);
        r->created_at = sqlite3_column_int64(st, 6);
        r->published_at = sqlite3_column_int64(st, 7);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : sq_rc(c, rc);
}

static int publish(sq_conn *c, const char *contract_id, int64_t now)
{
    static const char sql[] = "UPDATE reviews SET published_at = ? WHERE contract_id = ? AND published_at IS NULL";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, contract_id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0 || sqlite3_changes(c->db) == 0) return rc;
    store_reviews rv;
    if ((rc = read_reviews(c, contract_id, &rv)) < 0) return rc;
    static const char ev[] = "SELECT json_object('contract_id', ?1)";
    char *payload = sqlite_json_row(c, ev, &rc, 1, contract_id);
    if (!payload) return rc;
    rc = sqlite_event(c, rv.client_id, "reviews.published", payload, now);
    if (rc == STORE_OK) rc = sqlite_event(c, rv.engineer_id, "reviews.published", payload, now);
    free(payload);
    return rc;
}

typedef struct {
    char contract_id[32], author_id[32];
    int rating;
    char comment[8004];
    int64_t now;
    store_money_conflict *why;
} create_args;

static int run_create(sq_conn *c, sq_job *j)
{
    const create_args *a = j->in;
    store_reviews *out = j->out;
    int rc = read_reviews(c, a->contract_id, out);
    if (rc < 0) return rc;
    int client = strcmp(out->client_id, a->author_id) == 0;
    if (!client && strcmp(out->engineer_id, a->author_id) != 0) return STORE_NOTFOUND;
    if (strcmp(out->contract_status, "ended") != 0) { /* declined offers were never worked on */
        sqlite_money_conflict(a->why, "contract", out->contract_status, "reviews open when an accepted contract ends");
        return STORE_CONFLICT;
    }
    if (a->now > out->ended_at + REVIEW_WINDOW_S) {
        sqlite_money_conflict(a->why, "review", "closed", "the 14-day review window has closed");
        return STORE_CONFLICT;
    }
    static const char ins[] = "INSERT INTO reviews(contract_id, author_id, subject_id, rating, comment, created_at)"
                              " VALUES (?,?,?,?,?,?)";
    sqlite3_stmt *st = sq_prep(c, ins);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->contract_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->author_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, client ? out->engineer_id : out->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, a->rating);
    sqlite3_bind_text(st, 5, a->comment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, a->now);
    rc = sq_rc(c, sqlite3_step(st));
    if (rc == STORE_CONFLICT) sqlite_money_conflict(a->why, "review", "written", "you have reviewed this contract already");
    if (rc < 0) return rc;
    if ((rc = sqlite_audit(c, a->now, a->author_id, "review.written", "contract", a->contract_id, NULL)) < 0) return rc;
    if ((rc = read_reviews(c, a->contract_id, out)) < 0) return rc;
    if (out->n == 2) { /* both wrote: both show */
        if ((rc = publish(c, a->contract_id, a->now)) < 0) return rc;
        if ((rc = read_reviews(c, a->contract_id, out)) < 0) return rc;
    }
    return STORE_OK;
}

int sqk_review_create(store *s, const char *contract_id, const char *author_id, int rating, const char *comment,
                      int64_t now, store_reviews *out, store_money_conflict *why, uint64_t d, store_done_cb cb,
                      void *ctx)
{
    create_args *a = calloc(1, sizeof *a);
    if (!a) return STORE_BUSY;
    snprintf(a->contract_id, sizeof a->contract_id, "%s", contract_id);
    snprintf(a->author_id, sizeof a->author_id, "%s", author_id);
    snprintf(a->comment, sizeof a->comment, "%s", comment);
    a->rating = rating;
    a->now = now;
    a->why = why;
    int rc = sqlite_submit_args(s, run_create, 1, d, cb, ctx, a, sizeof *a, out);
    free(a);
    return rc;
}

static int run_get(sq_conn *c, sq_job *j)
{
    return read_reviews(c, j->s1, j->out);
}

int sqk_reviews_get(store *s, const char *contract_id, store_reviews *out, uint64_t d, store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_get, 0, d, cb, ctx, NULL, out, contract_id, NULL, 0);
}

static int run_publish(sq_conn *c, sq_job *j)
{
    int rc = publish(c, j->s1, j->n1);
    if (rc < 0) return rc;
    rc = sqlite_job_mark_done(c, j->s2, j->n1, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int sqk_reviews_publish(store *s, const char *contract_id, const char *job_id, int64_t now, uint64_t d,
                        store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_publish, 1, d, cb, ctx, NULL, NULL, contract_id, job_id, now);
}
