/* sqlite_interviews: interview proposals on SQLite. At most one interview
 * per conversation is open (proposed or accepted) — a partial unique index
 * says so — and each change writes, in its own transaction, the events for
 * both parties and the mails the change sends. The mails carry one JSON
 * document with both parties' names, addresses and time zones; the email
 * module renders each recipient's text and calendar invite from it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite_internal.h"

#define IV_COLS                                                                                    \
    "i.id, i.conversation_id, i.status, i.slots, i.duration_minutes, i.video_url,"               \
    " coalesce(i.slot, 0), i.sequence, coalesce(i.cancelled_by, ''), i.created_at, i.updated_at"

static void read_iv(sqlite3_stmt *st, store_interview *iv)
{
    memset(iv, 0, sizeof *iv);
    sqlite_copy_col(iv->id, sizeof iv->id, st, 0);
    sqlite_copy_col(iv->conversation_id, sizeof iv->conversation_id, st, 1);
    sqlite_copy_col(iv->status, sizeof iv->status, st, 2);
    const unsigned char *t = sqlite3_column_text(st, 3);
    const char *p = t ? (const char *)t : "[]";
    while (*p && iv->nslots < STORE_INTERVIEW_SLOTS) { /* "[a,b,c]", written by us */
        while (*p && (*p < '0' || *p > '9')) p++;
        if (!*p) break;
        char *end;
        iv->slots[iv->nslots++] = strtoll(p, &end, 10);
        p = end;
    }
    iv->duration_minutes = sqlite3_column_int(st, 4);
    sqlite_copy_col(iv->video_url, sizeof iv->video_url, st, 5);
    iv->slot = sqlite3_column_int64(st, 6);
    iv->sequence = sqlite3_column_int(st, 7);
    sqlite_copy_col(iv->cancelled_by, sizeof iv->cancelled_by, st, 8);
    iv->created_at = sqlite3_column_int64(st, 9);
    iv->updated_at = sqlite3_column_int64(st, 10);
}

static int get_by(sq_conn *c, const char *sql, const char *key, store_interview *out)
{
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    read_iv(st, out);
    sqlite3_reset(st);
    return STORE_OK;
}

static const char by_id[] = "SELECT " IV_COLS " FROM interviews i WHERE i.id = ?";
static const char latest[] = "SELECT " IV_COLS " FROM interviews i WHERE i.conversation_id = ?"
                             " ORDER BY i.created_at DESC, i.rowid DESC LIMIT 1";

/* the events of a change (the interview as the API shows it, to both
 * parties) and its mails (to_engineer_only: just the engineer) */
static int announce(sq_conn *c, const char *id, const char *kind, int to_engineer_only, int64_t now)
{
    static const char sql[] =
        "SELECT json_object('interview', json_object('id', i.id, 'conversation_id', i.conversation_id,"
        "   'status', i.status,"
        "   'slots', (SELECT json_group_array(" SQL_RFC3339("value") ") FROM json_each(i.slots)),"
        "   'duration_minutes', i.duration_minutes, 'video_url', i.video_url,"
        "   'slot', CASE WHEN i.slot IS NULL THEN NULL ELSE " SQL_RFC3339("i.slot") " END,"
        "   'cancelled_by', i.cancelled_by, 'created_at', " SQL_RFC3339("i.created_at") ","
        "   'updated_at', " SQL_RFC3339("i.updated_at") ")),"
        " json_object('interview_id', i.id, 'conversation_id', v.id, 'request_id', r.id,"
        "   'request_title', r.title, 'status', i.status, 'slots', json(i.slots), 'slot', i.slot,"
        "   'duration_minutes', i.duration_minutes, 'video_url', i.video_url,"
        "   'sequence', i.sequence, 'created_at', i.created_at,"
        "   'client_id', v.client_id, 'client_name', cu.name, 'client_email', cu.email,"
        "   'client_timezone', coalesce(json_extract(r.spec, '$.timezone'), 'UTC'),"
        "   'engineer_id', v.engineer_id, 'engineer_name', eu.name, 'engineer_email', eu.email,"
        "   'engineer_timezone', coalesce(p.timezone, 'UTC')),"
        " v.client_id, v.engineer_id"
        " FROM interviews i JOIN conversations v ON v.id = i.conversation_id"
        " JOIN requests r ON r.id = v.request_id JOIN users cu ON cu.id = v.client_id"
        " JOIN users eu ON eu.id = v.engineer_id LEFT JOIN engineer_profiles p ON p.user_id = v.engineer_id"
        " WHERE i.id = ?";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return STORE_NOTFOUND;
    if (rc != SQLITE_ROW) return sq_rc(c, rc);
    char *event = strdup((const char *)sqlite3_column_text(st, 0));
    char *mail = strdup((const char *)sqlite3_column_text(st, 1));
    char client[32], engineer[32];
    sqlite_copy_col(client, sizeof client, st, 2);
    sqlite_copy_col(engineer, sizeof engineer, st, 3);
    sqlite3_reset(st);
    rc = event && mail ? STORE_OK : STORE_BUSY;
    if (rc == STORE_OK) rc = sqlite_event(c, client, kind, event, now);
    if (rc == STORE_OK) rc = sqlite_event(c, engineer, kind, event, now);
    if (rc == STORE_OK) rc = sqlite_mail(c, engineer, kind, mail, now);
    if (rc == STORE_OK && !to_engineer_only) rc = sqlite_mail(c, client, kind, mail, now);
    free(event);
    free(mail);
    return rc;
}

static int run_get(sq_conn *c, sq_job *j)
{
    return get_by(c, latest, j->s1, j->out);
}

int sqi_interview_get(store *s, const char *conversation_id, store_interview *out, uint64_t d,
                      store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_get, 0, d, cb, ctx, NULL, out, conversation_id, NULL, 0);
}

static int run_propose(sq_conn *c, sq_job *j)
{
    const store_interview *iv = j->in;
    char slots[96];
    int n = snprintf(slots, sizeof slots, "[");
    for (int i = 0; i < iv->nslots; i++)
        n += snprintf(slots + n, sizeof slots - (size_t)n, "%s%lld", i ? "," : "",
                      (long long)iv->slots[i]);
    snprintf(slots + n, sizeof slots - (size_t)n, "]");
    static const char sql[] =
        "INSERT INTO interviews(id, conversation_id, status, slots, duration_minutes, video_url,"
        " created_at, updated_at) VALUES (?1, ?2, 'proposed', ?3, ?4, ?5, ?6, ?6)";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, iv->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, iv->conversation_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, slots, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, iv->duration_minutes);
    sqlite3_bind_text(st, 5, iv->video_url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, iv->created_at);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc == STORE_CONFLICT) { /* one is open already: say which */
        int g = get_by(c, latest, iv->conversation_id, j->out);
        return g < 0 ? g : STORE_CONFLICT;
    }
    if (rc < 0) return rc;
    if ((rc = sqlite_audit(c, iv->created_at, iv->proposed_by, "interview.proposed", "interview",
                           iv->id, NULL)) < 0)
        return rc;
    if ((rc = announce(c, iv->id, "interview.proposed", 1, iv->created_at)) < 0) return rc;
    return get_by(c, by_id, iv->id, j->out);
}

int sqi_interview_propose(store *s, const store_interview *iv, store_interview *out, uint64_t d,
                          store_done_cb cb, void *ctx)
{
    return sqlite_submit(s, run_propose, 1, d, cb, ctx, iv, out, NULL, NULL, 0);
}

typedef struct {
    char id[32], user_id[32];
    int64_t slot, now;
} change_args;

static int run_accept(sq_conn *c, sq_job *j)
{
    const change_args *a = j->in;
    static const char sql[] = "UPDATE interviews SET status = 'accepted', slot = ?1, updated_at = ?2,"
                              " sequence = sequence + 1 WHERE id = ?3 AND status = 'proposed'";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_int64(st, 1, a->slot);
    sqlite3_bind_int64(st, 2, a->now);
    sqlite3_bind_text(st, 3, a->id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) != 1) {
        rc = get_by(c, by_id, a->id, j->out);
        return rc < 0 ? rc : STORE_CONFLICT;
    }
    char detail[48];
    snprintf(detail, sizeof detail, "{\"slot\":%lld}", (long long)a->slot);
    if ((rc = sqlite_audit(c, a->now, a->user_id, "interview.accepted", "interview", a->id, detail)) < 0)
        return rc;
    if ((rc = announce(c, a->id, "interview.accepted", 0, a->now)) < 0) return rc;
    return get_by(c, by_id, a->id, j->out);
}

int sqi_interview_accept(store *s, const char *id, int64_t slot, int64_t now, store_interview *out,
                         uint64_t d, store_done_cb cb, void *ctx)
{
    change_args a = {.slot = slot, .now = now};
    snprintf(a.id, sizeof a.id, "%s", id);
    return sqlite_submit_args(s, run_accept, 1, d, cb, ctx, &a, sizeof a, out);
}

static int run_cancel(sq_conn *c, sq_job *j)
{
    const change_args *a = j->in;
    static const char sql[] =
        "UPDATE interviews SET status = 'cancelled', cancelled_by = ?1, updated_at = ?2,"
        " sequence = sequence + 1 WHERE id = ?3 AND status IN ('proposed', 'accepted')";
    sqlite3_stmt *st = sq_prep(c, sql);
    if (!st) return STORE_IO;
    sqlite3_bind_text(st, 1, a->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->now);
    sqlite3_bind_text(st, 3, a->id, -1, SQLITE_STATIC);
    int rc = sq_rc(c, sqlite3_step(st));
    if (rc < 0) return rc;
    if (sqlite3_changes(c->db) != 1) {
        rc = get_by(c, by_id, a->id, j->out);
        return rc < 0 ? rc : STORE_CONFLICT;
    }
    if ((rc = sqlite_audit(c, a->now, a->user_id, "interview.cancelled", "interview", a->id, NULL)) < 0)
        return rc;
    if ((rc = announce(c, a->id, "interview.cancelled", 0, a->now)) < 0) return rc;
    return get_by(c, by_id, a->id, j->out);
}

int sqi_interview_cancel(store *s, const char *id, const char *user_id, int64_t now,
                         store_interview *out, uint64_t d, store_done_cb cb, void *ctx)
{
    change_args a = {.now = now};
    snprintf(a.id, sizeof a.id, "%s", id);
    snprintf(a.user_id, sizeof a.user_id, "%s", user_id);
    return sqlite_submit_args(s, run_cancel, 1, d, cb, ctx, &a, sizeof a, out);
}
