/* tx_reviews: double-blind reviews of ended contracts Each
 * party writes once within 14 days of the end; nothing is shown to the
 * other side until both have written (then both publish in the same
 * transaction) or the window closes (the reviews.publish job, scheduled by
 * the contract's end). */
#include "../rules/contracts.h"
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REVIEW_WINDOW_S (14 * 86400)

static int read_reviews(db_conn *c, const char *contract_id, store_reviews *out)
{
    memset(out, 0, sizeof *out);
    db_stmt *st = db_prep(c, ST_REVIEWS_CONTRACT);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, contract_id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    out->ended_at = db_col_int(st, 0);
    db_copy_col(out->client_id, sizeof out->client_id, st, 1);
    db_copy_col(out->engineer_id, sizeof out->engineer_id, st, 2);
    db_copy_col(out->contract_status, sizeof out->contract_status, st, 3);
    db_reset(st);
    st = db_prep(c, ST_REVIEWS_READ);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, contract_id);
    while ((rc = db_step(st)) == DB_ROW && out->n < 2) {
        store_review *r = &out->items[out->n++];
        db_copy_col(r->author_id, sizeof r->author_id, st, 0);
        db_copy_col(r->author_name, sizeof r->author_name, st, 1);
        db_copy_col(r->author_role, sizeof r->author_role, st, 2);
        db_copy_col(r->subject_id, sizeof r->subject_id, st, 3);
        r->rating = db_col_int(st, 4);
        db_copy_col(r->comment, sizeof r->comment, st, 5);
        r->created_at = db_col_int(st, 6);
        r->published_at = db_col_int(st, 7);
    }
    return rc == DB_ROW || rc == DB_DONE ? STORE_OK : db_rc(rc);
}

static int publish(db_conn *c, const char *contract_id, int64_t now)
{
    db_stmt *st = db_prep(c, ST_REVIEWS_PUBLISH);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, now);
    db_bind_text(st, 2, contract_id);
    int rc = db_rc(db_step(st));
    if (rc < 0 || db_changes(c) == 0) return rc;
    store_reviews rv;
    if ((rc = read_reviews(c, contract_id, &rv)) < 0) return rc;
    char *payload = tx_json_row(c, ST_REVIEWS_PUBLISH_EV, &rc, 1, contract_id);
    if (!payload) return rc;
    rc = tx_event(c, rv.client_id, "reviews.published", payload, now);
    if (rc == STORE_OK) rc = tx_event(c, rv.engineer_id, "reviews.published", payload, now);
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

static int run_create(db_conn *c, db_job *j)
{
    const create_args *a = j->in;
    store_reviews *out = j->out;
    int rc = read_reviews(c, a->contract_id, out);
    if (rc < 0) return rc;
    int client = strcmp(out->client_id, a->author_id) == 0;
    if (!client && strcmp(out->engineer_id, a->author_id) != 0) return STORE_NOTFOUND;
    if (strcmp(out->contract_status, "ended") != 0) { /* declined offers were never worked on */
        tx_money_conflict(a->why, "contract", out->contract_status,
                          "reviews open when an accepted contract ends");
        return STORE_CONFLICT;
    }
    if (a->now > out->ended_at + REVIEW_WINDOW_S) {
        tx_money_conflict(a->why, "review", "closed", "the 14-day review window has closed");
        return STORE_CONFLICT;
    }
    db_stmt *st = db_prep(c, ST_REVIEW_CREATE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->contract_id);
    db_bind_text(st, 2, a->author_id);
    db_bind_text(st, 3, client ? out->engineer_id : out->client_id);
    db_bind_int(st, 4, a->rating);
    db_bind_text(st, 5, a->comment);
    db_bind_int(st, 6, a->now);
    rc = db_rc(db_step(st));
    if (rc == STORE_CONFLICT)
        tx_money_conflict(a->why, "review", "written", "you have reviewed this contract already");
    if (rc < 0) return rc;
    if ((rc = tx_audit(c, a->now, a->author_id, "review.written", "contract", a->contract_id,
                       NULL)) < 0)
        return rc;
    if ((rc = read_reviews(c, a->contract_id, out)) < 0) return rc;
    if (out->n == 2) { /* both wrote: both show */
        if ((rc = publish(c, a->contract_id, a->now)) < 0) return rc;
        if ((rc = read_reviews(c, a->contract_id, out)) < 0) return rc;
    }
    return STORE_OK;
}

int tx_review_create(store *s, const char *contract_id, const char *author_id, int rating,
                     const char *comment, int64_t now, store_reviews *out,
                     store_money_conflict *why, uint64_t d, store_done_cb cb, void *ctx)
{
    create_args *a = calloc(1, sizeof *a);
    if (!a) return STORE_BUSY;
    snprintf(a->contract_id, sizeof a->contract_id, "%s", contract_id);
    snprintf(a->author_id, sizeof a->author_id, "%s", author_id);
    snprintf(a->comment, sizeof a->comment, "%s", comment);
    a->rating = rating;
    a->now = now;
    a->why = why;
    int rc = store_submit_args(s, run_create, 1, d, cb, ctx, a, sizeof *a, out);
    free(a);
    return rc;
}

static int run_get(db_conn *c, db_job *j)
{
    return read_reviews(c, j->s1, j->out);
}

int tx_reviews_get(store *s, const char *contract_id, store_reviews *out, uint64_t d,
                   store_done_cb cb, void *ctx)
{
    return store_submit(s, run_get, 0, d, cb, ctx, NULL, out, contract_id, NULL, 0);
}

static int run_publish(db_conn *c, db_job *j)
{
    int rc = publish(c, j->s1, j->n1);
    if (rc < 0) return rc;
    rc = tx_job_mark_done(c, j->s2, j->n1, NULL);
    return rc == STORE_CONFLICT ? STORE_OK : rc;
}

int tx_reviews_publish(store *s, const char *contract_id, const char *job_id, int64_t now,
                       uint64_t d, store_done_cb cb, void *ctx)
{
    return store_submit(s, run_publish, 1, d, cb, ctx, NULL, NULL, contract_id, job_id, now);
}
