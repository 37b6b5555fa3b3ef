/* tx_interviews: interview proposals At most one interview
 * per conversation is open (proposed or accepted) — a partial unique index
 * says so — and each change writes, in its own transaction, the events for
 * both parties and the mails the change sends. The mails carry one JSON
 * document with both parties' names, addresses and time zones; the email
 * module renders each recipient's text and calendar invite from it. */
#include "tx_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_iv(db_stmt *st, store_interview *iv)
{
    memset(iv, 0, sizeof *iv);
    db_copy_col(iv->id, sizeof iv->id, st, 0);
    db_copy_col(iv->conversation_id, sizeof iv->conversation_id, st, 1);
    db_copy_col(iv->status, sizeof iv->status, st, 2);
    const char *t = db_col_text(st, 3);
    const char *p = t ? t : "[]";
    while (*p && iv->nslots < STORE_INTERVIEW_SLOTS) { /* "[a,b,c]", written by us */
        while (*p && (*p < '0' || *p > '9'))
            p++;
        if (!*p) break;
        char *end;
        iv->slots[iv->nslots++] = strtoll(p, &end, 10);
        p = end;
    }
    iv->duration_minutes = db_col_int(st, 4);
    db_copy_col(iv->video_url, sizeof iv->video_url, st, 5);
    iv->slot = db_col_int(st, 6);
    iv->sequence = db_col_int(st, 7);
    db_copy_col(iv->cancelled_by, sizeof iv->cancelled_by, st, 8);
    iv->created_at = db_col_int(st, 9);
    iv->updated_at = db_col_int(st, 10);
}

static int get_by(db_conn *c, int sql, const char *key, store_interview *out)
{
    db_stmt *st = db_prep(c, sql);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, key);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    read_iv(st, out);
    db_reset(st);
    return STORE_OK;
}

/* the events of a change (the interview as the API shows it, to both
 * parties) and its mails (to_engineer_only: just the engineer) */
static int announce(db_conn *c, const char *id, const char *kind, int to_engineer_only, int64_t now)
{
    db_stmt *st = db_prep(c, ST_INTERVIEW_ANNOUNCE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_DONE) return STORE_NOTFOUND;
    if (rc != DB_ROW) return db_rc(rc);
    char *event = strdup(db_col_text(st, 0));
    char *mail = strdup(db_col_text(st, 1));
    char client[32], engineer[32];
    db_copy_col(client, sizeof client, st, 2);
    db_copy_col(engineer, sizeof engineer, st, 3);
    db_reset(st);
    rc = event && mail ? STORE_OK : STORE_BUSY;
    if (rc == STORE_OK) rc = tx_event(c, client, kind, event, now);
    if (rc == STORE_OK) rc = tx_event(c, engineer, kind, event, now);
    if (rc == STORE_OK) rc = tx_mail(c, engineer, kind, mail, now);
    if (rc == STORE_OK && !to_engineer_only) rc = tx_mail(c, client, kind, mail, now);
    free(event);
    free(mail);
    return rc;
}

static int run_get(db_conn *c, db_job *j)
{
    return get_by(c, ST_INTERVIEW_LATEST, j->s1, j->out);
}

int tx_interview_get(store *s, const char *conversation_id, store_interview *out, uint64_t d,
                     store_done_cb cb, void *ctx)
{
    return store_submit(s, run_get, 0, d, cb, ctx, NULL, out, conversation_id, NULL, 0);
}

static int run_propose(db_conn *c, db_job *j)
{
    const store_interview *iv = j->in;
    char slots[96];
    int n = snprintf(slots, sizeof slots, "[");
    for (int i = 0; i < iv->nslots; i++)
        n += snprintf(slots + n, sizeof slots - (size_t)n, "%s%lld", i ? "," : "",
                      (long long)iv->slots[i]);
    snprintf(slots + n, sizeof slots - (size_t)n, "]");
    db_stmt *st = db_prep(c, ST_INTERVIEW_PROPOSE);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, iv->id);
    db_bind_text(st, 2, iv->conversation_id);
    db_bind_text_copy(st, 3, slots);
    db_bind_int(st, 4, iv->duration_minutes);
    db_bind_text(st, 5, iv->video_url);
    db_bind_int(st, 6, iv->created_at);
    int rc = db_rc(db_step(st));
    if (rc == STORE_CONFLICT) { /* one is open already: say which */
        int g = get_by(c, ST_INTERVIEW_LATEST, iv->conversation_id, j->out);
        return g < 0 ? g : STORE_CONFLICT;
    }
    if (rc < 0) return rc;
    if ((rc = tx_audit(c, iv->created_at, iv->proposed_by, "interview.proposed", "interview",
                       iv->id, NULL)) < 0)
        return rc;
    if ((rc = announce(c, iv->id, "interview.proposed", 1, iv->created_at)) < 0) return rc;
    return get_by(c, ST_INTERVIEW_BY_ID, iv->id, j->out);
}

int tx_interview_propose(store *s, const store_interview *iv, store_interview *out, uint64_t d,
                         store_done_cb cb, void *ctx)
{
    return store_submit(s, run_propose, 1, d, cb, ctx, iv, out, NULL, NULL, 0);
}

typedef struct {
    char id[32], user_id[32];
    int64_t slot, now;
} change_args;

static int run_accept(db_conn *c, db_job *j)
{
    const change_args *a = j->in;
    db_stmt *st = db_prep(c, ST_INTERVIEW_ACCEPT);
    if (!st) return STORE_IO;
    db_bind_int(st, 1, a->slot);
    db_bind_int(st, 2, a->now);
    db_bind_text(st, 3, a->id);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (db_changes(c) != 1) {
        rc = get_by(c, ST_INTERVIEW_BY_ID, a->id, j->out);
        return rc < 0 ? rc : STORE_CONFLICT;
    }
    char detail[48];
    snprintf(detail, sizeof detail, "{\"slot\":%lld}", (long long)a->slot);
    if ((rc = tx_audit(c, a->now, a->user_id, "interview.accepted", "interview", a->id, detail)) <
        0)
        return rc;
    if ((rc = announce(c, a->id, "interview.accepted", 0, a->now)) < 0) return rc;
    return get_by(c, ST_INTERVIEW_BY_ID, a->id, j->out);
}

int tx_interview_accept(store *s, const char *id, int64_t slot, int64_t now, store_interview *out,
                        uint64_t d, store_done_cb cb, void *ctx)
{
    change_args a = {.slot = slot, .now = now};
    snprintf(a.id, sizeof a.id, "%s", id);
    return store_submit_args(s, run_accept, 1, d, cb, ctx, &a, sizeof a, out);
}

static int run_cancel(db_conn *c, db_job *j)
{
    const change_args *a = j->in;
    db_stmt *st = db_prep(c, ST_INTERVIEW_CANCEL);
    if (!st) return STORE_IO;
    db_bind_text(st, 1, a->user_id);
    db_bind_int(st, 2, a->now);
    db_bind_text(st, 3, a->id);
    int rc = db_rc(db_step(st));
    if (rc < 0) return rc;
    if (db_changes(c) != 1) {
        rc = get_by(c, ST_INTERVIEW_BY_ID, a->id, j->out);
        return rc < 0 ? rc : STORE_CONFLICT;
    }
    if ((rc = tx_audit(c, a->now, a->user_id, "interview.cancelled", "interview", a->id, NULL)) < 0)
        return rc;
    if ((rc = announce(c, a->id, "interview.cancelled", 0, a->now)) < 0) return rc;
    return get_by(c, ST_INTERVIEW_BY_ID, a->id, j->out);
}

int tx_interview_cancel(store *s, const char *id, const char *user_id, int64_t now,
                        store_interview *out, uint64_t d, store_done_cb cb, void *ctx)
{
    change_args a = {.now = now};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    return store_submit_args(s, run_cancel, 1, d, cb, ctx, &a, sizeof a, out);
}
