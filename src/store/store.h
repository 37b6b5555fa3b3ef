/* store: the storage interface every handler and domain module talks to.
 *
 * Each operation is asynchronous: it is queued with a deadline, runs off
 * the event loop (SQLite: on a worker thread; PostgreSQL: non-blocking
 * libpq), and its callback runs later on the loop thread with a status.
 * Following libuv: when a call returns an error, the callback is never
 * called; when it returns 0, the callback is called exactly once.
 *
 * The caller owns the argument and result structs and must keep them alive
 * until the callback (requests do this by holding a reference). Nothing
 * above this header knows which database it is talking to: each operation
 * is one transaction (src/store/tx_*.c) written against the database
 * primitives of db.h, and store_open() picks the driver (SQLite or
 * PostgreSQL) from the --db string. */
#ifndef OPX_STORE_H
#define OPX_STORE_H
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

enum {
    STORE_OK = 0,
    STORE_NOTFOUND = -1,
    STORE_CONFLICT = -2, /* a uniqueness rule refused the write */
    STORE_TIMEOUT = -3,  /* the deadline passed before or during the query */
    STORE_BUSY = -4,     /* the queue is full: shed load */
    STORE_IO = -5,
    STORE_CLOSED = -6,
    STORE_UNAVAILABLE = -7, /* the database cannot be reached */
};

/* what the database's driver has seen since start */
typedef struct {
    int64_t refused;    /* operations refused: the queue was full (STORE_BUSY) */
    int64_t expired;    /* operations whose deadline passed while queued */
    int64_t retries;    /* transactions run again (serialization failure,
                         * deadlock, a connection lost before COMMIT) */
    int64_t reconnects; /* connections made again after one broke */
    int connections;    /* open now */
    int pool;           /* what it keeps open when all is well */
} store_stats;

typedef struct {
    char id[32];
    char email[256]; /* at most 254 bytes, checked before it gets here */
    char name[404];  /* 100 characters of up to 4 bytes */
    char role[16];
    char password_hash[160];
    int64_t created_at;
    char status[12]; /* active | suspended (read, never written by user_create) */
} store_user;

typedef struct {
    char token_hash[65];
    char csrf_token[48];
    int64_t created_at, expires_at;
    store_user user; /* session_get fills the owner too */
} store_session;


/* the admins' view of accounts (types in store_accounts.h) */
#include "store_accounts.h"

/* ---- vetting ---------------------------------------------------------- */

#define STORE_MAX_SKILLS 30
#define STORE_MAX_LINKS 5

typedef struct {
    char id[32];
    int self_level;
    int vetted_level; /* 0: not confirmed by a vetter */
} store_skill;

/* An engineer: the user, the profile (when has_profile), skills, vetting. */
typedef struct {
    char user_id[32];
    char name[404];
    char email[256];
    int has_profile;
    char headline[484];  /* 120 characters */
    char bio[20004];     /* 5000 characters */
    int64_t rate_amount; /* minor units */
    char currency[4];
    char timezone[64];
    int hours_per_week, years_experience, available;
    int nlinks;
    char links[STORE_MAX_LINKS][208];
    int nskills;
    store_skill skills[STORE_MAX_SKILLS];
    char status[24]; /* vetting state; "registered" without a profile */
    char level[8];   /* "" unless vetted */
    int64_t reapply_after, status_at;
    int rating_x100; /* published reviews' average x 100 (100..500); 0: not rated yet */
    int suspended;   /* the account is (not matched, cannot sign in) */
} store_engineer;

/* why a vetting write was refused (with STORE_CONFLICT) */
enum {
    VET_OK = 0,
    VET_WRONG_STATE,        /* status says where the engineer is */
    VET_PROFILE_INCOMPLETE, /* no profile yet */
    VET_ATTEMPT_OPEN,       /* open_attempt_id */
    VET_ATTEMPT_LIMIT,      /* next_attempt_at */
    VET_ATTEMPT_CLOSED,     /* submitted already, or expired */
    VET_INVITATION_CLOSED,  /* a candidate no longer invited: status says what it is */
};

typedef struct {
    int reason;
    char status[24];
    char open_attempt_id[32];
    int64_t next_attempt_at;
    int attempts_left;
} store_vet_result;

typedef struct {
    char id[32];
    char user_id[32];
    char questions[4096]; /* JSON [{"q":id,"p":[perm]}], never sent as is */
    int64_t started_at, expires_at, submitted_at; /* submitted_at 0: open */
    char answers[2048];   /* JSON of the graded answers, once submitted */
    int score, passed;
} store_attempt;

typedef struct {
    char id[32];
    char engineer_id[32], vetter_id[32];
    int scores[5]; /* concepts, must_have, testing, production, senior */
    char decision[12];
    char level[8];
    char notes[20004];
    int nconfirm;
    store_skill confirm[STORE_MAX_SKILLS]; /* id + vetted_level */
    int64_t created_at, reapply_after;
} store_scorecard;

typedef struct {
    char user_id[32], name[404], email[256], headline[484], timezone[64], currency[4];
    int hours_per_week, years_experience, score, nskills;
    int64_t rate_amount, waiting_since;
    store_skill skills[STORE_MAX_SKILLS];
    /* the latest practical challenge: status "" when none */
    char challenge_id[32], challenge_status[12];
    int challenge_score, challenge_passed;
} store_queue_item;

#define STORE_QUEUE_MAX 100
typedef struct {
    int n;
    store_queue_item items[STORE_QUEUE_MAX];
} store_queue;

#define STORE_AUDIT_MAX 100
typedef struct {
    int n;
    struct {
        int64_t at;
        char actor_id[32], action[48], detail[256];
    } items[STORE_AUDIT_MAX];
} store_audit;

/* ---- requests and candidates ------------------------------------------------ */

#define STORE_MAX_CANDIDATES 24
typedef struct {
    char id[32], request_id[32], engineer_id[32];
    char status[12]; /* invited | accepted | declined | expired | hired | withdrawn */
    double score;
    int rank;
    char explain[4096]; /* JSON: at most 25 skills of a request, ~2.7 KiB */
    char engineer_name[404];
    int64_t invited_at, expires_at, responded_at;
} store_candidate;

typedef struct {
    char id[32], client_id[32];
    char title[484];
    char description[40004];
    char spec[4096];   /* JSON: the fields matching uses, as validated */
    char status[16];   /* matching | matched | filled | breached | cancelled */
    char relaxed[256]; /* JSON array of what the SLA widening relaxed */
    int64_t sla_deadline, created_at, matched_at, breached_at;
    int ncand;
    store_candidate cand[STORE_MAX_CANDIDATES];
} store_request;

/* what a candidate transition did (store_candidate_move) */
typedef struct {
    char request_id[32];
    char request_status[16]; /* after the move */
    char candidate_status[12]; /* before, when refused */
    int accepted;              /* acceptances of the request now */
    int became_matched;        /* this move made the request matched */
    int replaced;              /* index of the replacement invited, or -1 */
    int64_t created_at, sla_deadline;
} store_move_result;

#define STORE_INVITATIONS_MAX 50
typedef struct {
    int n;
    struct {
        store_candidate c;
        char title[484];
        char request_status[16];
        char spec[4096];
    } items[STORE_INVITATIONS_MAX];
} store_invitations;

#define STORE_LIST_MAX 100
typedef struct {
    int n;
    struct {
        char id[32], client_id[32], title[484], status[16];
        int64_t seq; /* creation order, the cursor */
        int64_t sla_deadline, created_at, matched_at;
        int invited, accepted;
    } items[STORE_LIST_MAX];
} store_request_list;

#define STORE_NOTES_MAX 50
typedef struct {
    int n;
    int unread; /* of all the user's notifications, not only these */
    struct {
        int64_t id, created_at, read_at;
        char kind[32];
        char payload[512];
    } items[STORE_NOTES_MAX];
} store_notifications;

#define STORE_SLA_MAX 100
typedef struct {
    int n;
    struct {
        char id[32], client_id[32], title[484], status[16], relaxed[256];
        int64_t sla_deadline, created_at;
        int invited, accepted;
    } items[STORE_SLA_MAX];
} store_sla_board;

/* ---- conversations ------------------------------------------------------- */

typedef struct {
    char id[32], conversation_id[32], sender_id[32];
    char *body; /* create: the caller's; list: malloc'd by the store, see store_page_free */
    int64_t seq, created_at;
    int64_t digest_at; /* create: when the recipient's email digest goes (0: none) */
} store_message;

#define STORE_MESSAGES_MAX 100
typedef struct {
    int n;
    store_message items[STORE_MESSAGES_MAX];
} store_message_page;

/* frees the bodies a messages_list filled in */
static inline void store_page_free(store_message_page *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->items[i].body);
        p->items[i].body = NULL;
    }
    p->n = 0;
}

typedef struct {
    char id[32], request_id[32], candidate_id[32];
    char client_id[32], client_name[404], engineer_id[32], engineer_name[404];
    char request_title[404];                   /* what the conversation is about */
    char client_timezone[64], engineer_timezone[64]; /* the request's zone, the profile's */
    int64_t created_at, last_message_at;
    int unread;
    int has_last;            /* the latest message: */
    char last_id[32], last_sender[32];
    char *last_body;         /* malloc'd by the store: see store_conversation_free */
    int64_t last_created_at;
} store_conversation;

#define STORE_CONVERSATIONS_MAX 50
typedef struct {
    int n;
    store_conversation items[STORE_CONVERSATIONS_MAX];
} store_conversation_list;

static inline void store_conversation_free(store_conversation *v)
{
    free(v->last_body);
    v->last_body = NULL;
}

/* one vetted engineer as matching needs it */
typedef struct {
    char user_id[32], currency[4], timezone[64], level[8];
    int available, hours_per_week, nskills;
    int64_t rate_amount;
    int rating_x100; /* 0: not rated */
    int busy;        /* holds an active contract */
    store_skill skills[STORE_MAX_SKILLS];
} store_match_row;

#define STORE_MATCH_PAGE 256
typedef struct {
    int n;
    store_match_row rows[STORE_MATCH_PAGE];
} store_match_page;

/* ---- durable jobs --------------------------------------------------------- */

#define STORE_JOBS_CLAIM_MAX 32
typedef struct {
    char id[32];
    char kind[32];
    char ref[72]; /* an id, or two joined by ':' */
    int64_t run_at;
    int attempts;
} store_job;

typedef struct {
    int limit; /* in: claim at most this many (0 or more than the max: the max) */
    int n;
    store_job jobs[STORE_JOBS_CLAIM_MAX];
} store_job_batch;

/* ---- live events ---------------------------------------------------------- */

/* One event for one user: written in the transaction of the change it
 * announces; the id orders every user's stream and is the SSE id. */
typedef struct {
    int64_t id, created_at;
    char user_id[32];
    char kind[40];
    char *payload; /* JSON text, malloc'd by the store: see store_events_free */
} store_event;

#define STORE_EVENTS_MAX 500
typedef struct {
    int n;
    store_event items[STORE_EVENTS_MAX];
} store_event_page;

static inline void store_events_free(store_event_page *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->items[i].payload);
        p->items[i].payload = NULL;
    }
    p->n = 0;
}

/* ---- interviews ------------------------------------------------------------ */

#define STORE_INTERVIEW_SLOTS 3
typedef struct {
    char id[32], conversation_id[32];
    char status[16];           /* proposed | accepted | cancelled */
    int nslots;
    int64_t slots[STORE_INTERVIEW_SLOTS]; /* start times, unix seconds */
    int duration_minutes;
    char video_url[2048];
    int64_t slot;              /* the accepted start; 0 before */
    int sequence;              /* RFC 5545 SEQUENCE: bumped by each change */
    char cancelled_by[32];
    char proposed_by[32];      /* propose: the client, for the audit row */
    int64_t created_at, updated_at;
} store_interview;

/* ---- email outbox ------------------------------------------------------------ */

typedef struct {
    int64_t seq;
    char id[32], user_id[32];
    char to_addr[256], to_name[404];
    char kind[40];
    char *data;                /* JSON text, malloc'd by the store: see store_outbox_free */
    char status[8];            /* queued | sent | failed */
    int attempts;
    char last_error[256];
    int64_t created_at, next_attempt_at, sent_at;
} store_mail;

#define STORE_OUTBOX_MAX 100
typedef struct {
    int n;
    store_mail items[STORE_OUTBOX_MAX];
} store_outbox;

static inline void store_outbox_free(store_outbox *o)
{
    for (int i = 0; i < o->n; i++) {
        free(o->items[i].data);
        o->items[i].data = NULL;
    }
    o->n = 0;
}

/* what a send attempt came to */
typedef struct {
    const char *mail_id, *job_id;
    int64_t now;
    int sent;                  /* 1: delivered */
    const char *error;         /* why not, when not */
    int64_t retry_at;          /* not sent: when to try again; 0: give up (failed) */
    int deferred;              /* not tried at all (breaker open): only retry_at changes */
} store_mail_result;

/* ---- contracts and money (types in store_money.h) ---------------------------- */
#include "store_money.h"
/* ---- the practical challenge (types in store_challenges.h) -------------------- */
#include "store_challenges.h"

typedef void (*store_done_cb)(void *ctx, int rc);
typedef struct store store;

typedef struct store_vtbl {
    int (*ping)(store *s, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* u->id, email, name, role, password_hash, created_at set by the caller */
    int (*user_create)(store *s, const store_user *u, const char *actor_ip, uint64_t deadline_ns,
                       store_done_cb cb, void *ctx);
    int (*user_by_email)(store *s, const char *email, store_user *out, uint64_t deadline_ns,
                         store_done_cb cb, void *ctx);
    int (*session_create)(store *s, const store_session *sess, uint64_t deadline_ns,
                          store_done_cb cb, void *ctx);
    /* NOTFOUND for unknown or expired (expires_at <= now_s) */
    int (*session_get)(store *s, const char *token_hash, int64_t now_s, store_session *out,
                       uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*session_delete)(store *s, const char *token_hash, uint64_t deadline_ns,
                          store_done_cb cb, void *ctx);
    /* NOTFOUND unless user_id is an engineer; profile fields when has_profile */
    int (*engineer_get)(store *s, const char *user_id, store_engineer *out, uint64_t deadline_ns,
                        store_done_cb cb, void *ctx);
    /* Writes the profile and self-rated skills (confirmed levels are kept),
     * moves registered -> profile_complete, and re-reads into out. */
    int (*profile_put)(store *s, const store_engineer *in, int64_t now, store_engineer *out,
                       uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* Starts an attempt unless the rules refuse (CONFLICT + res->reason). */
    int (*attempt_start)(store *s, const store_attempt *a, store_vet_result *res,
                         uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*attempt_get)(store *s, const char *id, store_attempt *out, uint64_t deadline_ns,
                       store_done_cb cb, void *ctx);
    /* Records the graded result once (CONFLICT + VET_ATTEMPT_CLOSED when it
     * was submitted or expired); a pass moves the engineer on. */
    int (*attempt_finish)(store *s, const store_attempt *a, int64_t now, store_vet_result *res,
                          uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*vetting_queue)(store *s, store_queue *out, uint64_t deadline_ns, store_done_cb cb,
                         void *ctx);
    /* Records the scorecard and the decision (CONFLICT + VET_WRONG_STATE
     * unless the engineer is assessment_passed). */
    int (*scorecard_create)(store *s, const store_scorecard *sc, store_vet_result *res,
                            uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*audit_list)(store *s, const char *entity, const char *entity_id, store_audit *out,
                      uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* Starts the practical challenge a (id, user_id, challenge_id,
     * started_at, expires_at) unless the rules refuse: CONFLICT with
     * VET_WRONG_STATE (the engineer has not passed the quiz or is past the
     * interview), VET_ATTEMPT_OPEN (+ open_attempt_id: one open, queued or
     * running), VET_ATTEMPT_LIMIT (+ next_attempt_at). */
    int (*challenge_start)(store *s, const store_challenge *a, const store_challenge_rules *rules,
                           store_vet_result *res, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* the attempt with its code and result (the caller frees them) */
    int (*challenge_get)(store *s, const char *id, store_challenge *out, uint64_t deadline_ns,
                         store_done_cb cb, void *ctx);
    /* the engineer's latest attempt (NOTFOUND: none) */
    int (*challenge_latest)(store *s, const char *user_id, store_challenge *out,
                            uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* open -> queued with the code, unless it is not user_id's (NOTFOUND),
     * no longer open or expired at now (CONFLICT + VET_ATTEMPT_CLOSED), or
     * queue_max attempts wait or run already (BUSY: the queue is full) */
    int (*challenge_submit)(store *s, const char *id, const char *user_id, const char *code,
                            int64_t now, int queue_max, store_vet_result *res,
                            uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* claims up to max attempts due for grading, oldest submission first:
     * queued ones, and running ones whose lease ran out (a grader died);
     * each becomes running until now + lease_s with tries + 1 */
    int (*challenge_claim)(store *s, int64_t now, int lease_s, int max, store_challenge_batch *out,
                           uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* running -> graded with a's score, passed and result, if a->tries is
     * still the attempt's (CONFLICT: it was claimed again since); the
     * engineer gets a live event, the audit trail a row */
    int (*challenge_grade)(store *s, const store_challenge *a, int64_t now, uint64_t deadline_ns,
                           store_done_cb cb, void *ctx);
    /* a claimed attempt goes back to the queue unused (shutdown): running
     * with a->tries -> queued, tries - 1 */
    int (*challenge_release)(store *s, const store_challenge *a, uint64_t deadline_ns,
                             store_done_cb cb, void *ctx);
    int (*challenge_queue)(store *s, store_challenge_queue *out, uint64_t deadline_ns,
                           store_done_cb cb, void *ctx);
    /* Inserts the request, its first candidates (invited), their expiry
     * jobs and the SLA jobs (half-time, deadline) in one transaction. */
    int (*request_create)(store *s, const store_request *r, uint64_t deadline_ns, store_done_cb cb,
                          void *ctx);
    int (*request_get)(store *s, const char *id, store_request *out, uint64_t deadline_ns,
                       store_done_cb cb, void *ctx);
    int (*candidate_get)(store *s, const char *id, store_candidate *out, uint64_t deadline_ns,
                         store_done_cb cb, void *ctx);
    /* Moves an invited candidate to accepted, declined or expired (CONFLICT
     * when it is no longer invited or its 24 h passed; NOTFOUND when
     * engineer_id is given and is not the candidate's); invites the first
     * of the nrepl replacements (best first) not already on the request,
     * so moves that race for one next-best each get someone; completes
     * job_id when given; a third acceptance makes the request matched.
     * One transaction; res->replaced tells which replacement was invited. */
    int (*candidate_move)(store *s, const char *candidate_id, const char *engineer_id,
                          const char *to, const char *reason, int64_t now, const char *job_id,
                          const store_candidate *repl, int nrepl, store_move_result *res,
                          uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*invitations_list)(store *s, const char *engineer_id, int64_t now, store_invitations *out,
                            uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* The SLA's half-time step: invites the given extra candidates and
     * records what was relaxed, if the request still matches; completes
     * the job. */
    int (*request_widen)(store *s, const store_request *r, const char *job_id, int64_t now,
                         uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* The SLA's deadline: a request still matching becomes breached, the
     * client and every admin get a notification; completes the job.
     * res->request_status says what happened. */
    int (*request_deadline)(store *s, const char *request_id, const char *job_id, int64_t now,
                            store_move_result *res, uint64_t deadline_ns, store_done_cb cb,
                            void *ctx);
    /* newest first (creation order); client_id NULL: everyone's; before_seq
     * is the cursor (0 for the first page) */
    int (*requests_list)(store *s, const char *client_id, int64_t before_seq, int limit, store_request_list *out, uint64_t deadline_ns, store_done_cb cb,
                         void *ctx);
    /* user_id's conversations (NULL: all, for admins), newest activity first */
    int (*conversations_list)(store *s, const char *user_id, store_conversation_list *out,
                              uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* the conversation and its parties (unread 0, no last message: cheap) */
    int (*conversation_get)(store *s, const char *id, store_conversation *out,
                            uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* messages with seq > after, oldest first, at most limit */
    int (*messages_list)(store *s, const char *conversation_id, int64_t after, int limit,
                         store_message_page *out, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* stores m (id, conversation_id, sender_id, body, created_at); fills m->seq */
    int (*message_create)(store *s, store_message *m, uint64_t deadline_ns, store_done_cb cb,
                          void *ctx);
    /* moves user's read marker to message_id (never back); NOTFOUND when the
     * message is not in the conversation */
    int (*conversation_read)(store *s, const char *conversation_id, const char *user_id,
                             const char *message_id, uint64_t deadline_ns, store_done_cb cb,
                             void *ctx);
    /* matching|matched|breached -> cancelled by actor: client_id (NULL for
     * an admin) must own it (NOTFOUND otherwise); every invited or accepted
     * candidate is withdrawn, its engineer notified (notification + live
     * event); the SLA and expiry jobs end. CONFLICT (why: the request's
     * state, or an open contract offer) otherwise. out: the request after */
    int (*request_cancel)(store *s, const char *id, const char *actor, const char *client_id, const char *reason,
                          int64_t now, store_request *out, store_money_conflict *why, uint64_t deadline_ns,
                          store_done_cb cb, void *ctx);
    /* the user's latest notifications, newest first, and the unread count */
    int (*notifications_list)(store *s, const char *user_id, store_notifications *out,
                              uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* marks the user's notifications with id <= up_to (0: all) read at now;
     * NOTFOUND when up_to is not one of theirs; *unread: what is left */
    int (*notifications_read)(store *s, const char *user_id, int64_t up_to, int64_t now, int *unread,
                              uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*sla_board)(store *s, store_sla_board *out, uint64_t deadline_ns, store_done_cb cb,
                     void *ctx);
    /* vetted engineers with user_id > after, in id order, a page at a time */
    int (*matchable_page)(store *s, const char *after, store_match_page *out, uint64_t deadline_ns,
                          store_done_cb cb, void *ctx);
    /* Leases up to out->limit (at most STORE_JOBS_CLAIM_MAX) due jobs
     * (run_at <= now, not done, lease expired) until now + lease_s; a
     * crashed holder's lease simply runs out and the job is claimed again. */
    int (*jobs_claim)(store *s, int64_t now, int lease_s, store_job_batch *out, uint64_t deadline_ns,
                      store_done_cb cb, void *ctx);
    /* Marks a job done (kind-specific effects mark it in their own
     * transaction instead, so effect and completion commit together). */
    int (*job_done)(store *s, const char *id, int64_t now, const char *error, uint64_t deadline_ns,
                    store_done_cb cb, void *ctx);
    /* schedules kind/ref at run_at unless it is pending already (a
     * recurring job's first run; it reschedules itself afterwards) */
    int (*job_ensure)(store *s, const char *kind, const char *ref, int64_t run_at, uint64_t deadline_ns,
                      store_done_cb cb, void *ctx);
    /* ---- live events ---- */
    /* fn(data, max_id) runs on the loop after each commit that added
     * events; max_id is the highest id committed so far */
    void (*events_watch)(store *s, void (*fn)(void *data, int64_t max_id), void *data);
    /* fn(data, text) runs on the loop with each notice committed by any
     * process on a shared database (this one's too): "session:<hash>" (a
     * session ended), "sessions:<id>[:<hash>]" (all of a user's sessions
     * ended but the one named), "user:<id>" (what sessions carry of the
     * user changed), "engineer:<id>" (matching data changed),
     * "busy:<0|1>:<id>" (an engineer's active contracts), what callers of
     * notice() send, "all:" (notices
     * may have been missed: forget what is cached). Never called on a
     * database only this process uses. */
    void (*notices_watch)(store *s, void (*fn)(void *data, const char *text), void *data);
    /* a notice of its own, not tied to a change ("login:..."), for the
     * other processes; fire and forget (a failure is logged), and nothing
     * at all on a database only this process uses */
    int (*notice)(store *s, const char *topic, const char *arg, uint64_t deadline_ns);
    /* this process (node_id, which must outlive the call) is alive for
     * alive_s more seconds of the database's clock; 0: it is going. Other
     * nodes take over the Idempotency-Keys of a node whose heartbeat
     * stopped. Fire and forget; nothing on a database only it uses. */
    int (*node_beat)(store *s, const char *node_id, int alive_s, uint64_t deadline_ns);
    /* out[0]: the highest event id (0 when none); out[1]: every id up to
     * it is gone (pruned), 0 when nothing was */
    int (*events_head)(store *s, int64_t out[2], uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* events with id > after, oldest first, at most limit (<= STORE_EVENTS_MAX);
     * user_id NULL: everyone's */
    int (*events_after)(store *s, const char *user_id, int64_t after, int limit,
                        store_event_page *out, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* deletes events created before `before`; *max_deleted = the highest
     * id deleted (0: none) */
    int (*events_prune)(store *s, int64_t before, int64_t *max_deleted, uint64_t deadline_ns,
                        store_done_cb cb, void *ctx);
    /* ---- interviews ---- */
    /* the conversation's latest interview (NOTFOUND: none yet) */
    int (*interview_get)(store *s, const char *conversation_id, store_interview *out,
                         uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* iv (id, conversation_id, slots, duration, video_url, created_at) is
     * stored as proposed; CONFLICT (out = the open one) while another is
     * proposed or accepted. Events to both parties, a mail to the engineer. */
    int (*interview_propose)(store *s, const store_interview *iv, store_interview *out,
                             uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* proposed -> accepted at slot; CONFLICT (out = current) when it is no
     * longer proposed. Events and an invitation mail to each party. */
    int (*interview_accept)(store *s, const char *interview_id, int64_t slot, int64_t now,
                            store_interview *out, uint64_t deadline_ns, store_done_cb cb,
                            void *ctx);
    /* proposed|accepted -> cancelled by user_id; CONFLICT (out = current)
     * otherwise. Events and a cancellation mail to each party. */
    int (*interview_cancel)(store *s, const char *interview_id, const char *user_id, int64_t now,
                            store_interview *out, uint64_t deadline_ns, store_done_cb cb,
                            void *ctx);
    /* ---- email outbox ---- */
    int (*mail_get)(store *s, const char *id, store_mail *out, uint64_t deadline_ns,
                    store_done_cb cb, void *ctx);
    /* records a send attempt: sent, retried at retry_at, or failed; the
     * mail's job is rescheduled or completed in the same transaction */
    int (*mail_result)(store *s, const store_mail_result *r, uint64_t deadline_ns,
                       store_done_cb cb, void *ctx);
    /* newest first; status NULL: any; before_seq 0: from the newest */
    int (*outbox_list)(store *s, const char *status, int64_t before_seq, int limit,
                       store_outbox *out, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* failed -> queued again, attempts from zero, with a new send job;
     * NOTFOUND, or CONFLICT (out = the mail) when it is not failed */
    int (*mail_requeue)(store *s, const char *id, int64_t now, store_mail *out, uint64_t deadline_ns,
                        store_done_cb cb, void *ctx);
    /* the message digest job ref "conversation:user": queues one mail when
     * the user still has unread messages there; completes the job */
    int (*mail_digest)(store *s, const char *job_id, const char *ref, int64_t now,
                       uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* ---- contracts and money ---- */
    /* k (ids, type, currency, rates, fee, milestones) offered by its client
     * to an accepted candidate; NOTFOUND when the candidate is not the
     * client's; CONFLICT (why) when the candidate is not accepted or holds
     * an open contract. Fills k from the database on success. */
    int (*contract_offer)(store *s, store_contract *k, store_money_conflict *why,
                          uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*contract_get)(store *s, const char *id, store_contract *out, uint64_t deadline_ns,
                        store_done_cb cb, void *ctx);
    /* offered -> active by the engineer: the candidate is hired, the
     * request filled. offered -> declined likewise (to = "declined"). */
    int (*contract_answer)(store *s, const char *id, const char *engineer_id, const char *to,
                           int64_t now, store_contract *out, store_money_conflict *why,
                           uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* Claims an idempotency key (see store_idem_result) */
    int (*idem_claim)(store *s, const store_idem *in, int64_t now, store_idem_result *out,
                      uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* forgets a claimed key whose request ended without a final answer */
    /* forgets keys created before `before` (a batch at a time), for the
     * recurring job job_id, which it reschedules: at once while more wait,
     * else at next_run_at; deleted: how many went */
    int (*idem_prune)(store *s, int64_t before, const char *job_id, int64_t now, int64_t next_run_at,
                      int64_t *deleted, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*idem_release)(store *s, const char *user_id, const char *key, uint64_t deadline_ns,
                        store_done_cb cb, void *ctx);
    /* funding, step 1: the milestone must be pending in an active contract
     * of client_id; records (or finds, on a retry) the pending charge p
     * keyed by p->gateway_key. */
    int (*fund_begin)(store *s, const char *milestone_id, const char *client_id, store_payment *p,
                      int64_t now, store_contract *out, store_money_conflict *why,
                      uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* a payment by its id (webhooks name it back) */
    int (*payment_get)(store *s, const char *id, store_payment *out, uint64_t deadline_ns, store_done_cb cb,
                       void *ctx);
    /* funding, step 2: the gateway's answer. Succeeded: the ledger's fund
     * transaction, the milestone funded, events; failed: the payment
     * failed. Either way the idempotent answer is saved with it. */
    int (*fund_finish)(store *s, const store_payment *p, int64_t now, store_idem_done *idem,
                       uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* milestone moves by a party: "submitted" (engineer; note, links),
     * "released" (client approves: ledger release with the contract's fee;
     * idem saved), "funded" (client requests changes; note). */
    int (*milestone_move)(store *s, const char *milestone_id, const char *user_id, const char *to,
                          const char *note, const char *links, int64_t now,
                          store_idem_done *idem, store_contract *out,
                          store_money_conflict *why, uint64_t deadline_ns, store_done_cb cb,
                          void *ctx);
    /* funded|submitted -> disputed by a party (reason); k is the contract after */
    int (*dispute_open)(store *s, const char *milestone_id, const char *user_id, const char *reason,
                        int64_t now, store_dispute *out, store_contract *k, store_money_conflict *why,
                        uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* the vetted pool per framework, as JSON text the caller frees:
     * [{"id","vetted_count"}] for the ids of ids_json (a JSON array), and
     * for one framework {"id","vetted_count","levels","rate","profiles"} */
    int (*framework_counts)(store *s, const char *ids_json, char **out, uint64_t deadline_ns, store_done_cb cb,
                            void *ctx);
    int (*framework_pool)(store *s, const char *skill_id, char **out, uint64_t deadline_ns, store_done_cb cb,
                          void *ctx);
    /* one dispute with its milestone's title and the parties; NOTFOUND */
    int (*dispute_get)(store *s, const char *id, store_dispute_view *out, uint64_t deadline_ns,
                       store_done_cb cb, void *ctx);
    /* disputes, open ones first, then newest first (status NULL: any);
     * after (open, seq) from the last item of the page before, seq 0: from the start */
    int (*disputes_list)(store *s, const char *status, int after_open, int64_t after_seq, int limit,
                         store_dispute_list *out, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* an admin splits the disputed escrow: release (with the fee) + refund
     * must equal it (CONFLICT otherwise); the milestone is resolved */
    int (*dispute_resolve)(store *s, const char *dispute_id, const char *admin_id, int64_t release,
                           int64_t refund, int64_t now, store_idem_done *idem, store_dispute *out,
                           store_contract *k, store_money_conflict *why, uint64_t deadline_ns,
                           store_done_cb cb, void *ctx);
    /* active -> ended by a party: pending milestones dropped, funded ones
     * refunded; CONFLICT while one is submitted or disputed */
    int (*contract_end)(store *s, const char *id, const char *user_id, int64_t now, store_contract *out,
                        store_money_conflict *why, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* hourly: the engineer reports a week whose milestone is funded; that
     * milestone becomes submitted and a 5-day auto-release starts */
    int (*timesheet_submit)(store *s, const char *contract_id, const char *engineer_id,
                            const char *week_start, int hours, const char *note, int64_t now,
                            store_timesheet *out, store_contract *k, store_money_conflict *why,
                            uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* the client (or "system" after 5 days) approves: hours * rate is
     * released (with the fee), the rest of the week's escrow refunded, and
     * the next week's milestone offered for funding */
    int (*timesheet_approve)(store *s, const char *timesheet_id, const char *user_id, int64_t now,
                             store_idem_done *idem, store_timesheet *out, store_contract *k,
                             store_money_conflict *why, uint64_t deadline_ns, store_done_cb cb,
                             void *ctx);
    /* a party's review of an ended contract, within 14 days of its end;
     * publishes both when the other has written (CONFLICT: not ended, window
     * closed, or written already). out: the contract's reviews after. */
    int (*review_create)(store *s, const char *contract_id, const char *author_id, int rating,
                         const char *comment, int64_t now, store_reviews *out,
                         store_money_conflict *why, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*reviews_get)(store *s, const char *contract_id, store_reviews *out, uint64_t deadline_ns,
                       store_done_cb cb, void *ctx);
    /* the review window's end: publishes whatever was written; completes the job */
    int (*reviews_publish)(store *s, const char *contract_id, const char *job_id, int64_t now,
                           uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*balance)(store *s, const char *engineer_id, store_balance *out, uint64_t deadline_ns,
                   store_done_cb cb, void *ctx);
    /* totals per currency and kind, the largest accounts, and a full
     * verification (tx_ledger.c) in one snapshot */
    int (*ledger_report)(store *s, store_ledger_report *out, uint64_t deadline_ns, store_done_cb cb,
                         void *ctx);
    /* ---- money out: refunds and payouts (tx_money_out.c) ---- */
    /* a refund or payout by kind and id, with what its send needs */
    int (*money_out_get)(store *s, const char *kind, const char *id, store_money_out *out,
                         uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* records what the gateway said: succeeded, pending (a refund the
     * gateway has not settled: its job asks again at retry_at, unless a
     * webhook settles it first), failed (the ledger moves the money back:
     * a refund's to the client's funding balance, a payout's to the
     * engineer's payable), retry (the job runs again at retry_at), or
     * reversed (a payout taken back). Moves only a row whose state allows it (CONFLICT otherwise,
     * nothing moved, the job completed); out is the row after. */
    int (*money_out_result)(store *s, const store_money_out_result *r, int64_t now, store_money_out *out,
                            uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* newest first; kind refund|payout; status and owner (an engineer's
     * payouts) may be NULL; before_seq 0: from the newest */
    int (*money_out_list)(store *s, const char *kind, const char *status, const char *owner_id,
                          int64_t before_seq, int limit, store_money_out_list *out, uint64_t deadline_ns,
                          store_done_cb cb, void *ctx);
    /* a failed refund sent again: the client's funding balance moves back
     * out and a new refund row is queued (out); CONFLICT when not failed
     * or sent again already (out: the old row); idem saved when given
     * (its render reads out) */
    int (*refund_retry)(store *s, const char *id, const char *admin_id, int64_t now, store_idem_done *idem,
                        store_money_out *out, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* a payout run (see store_payout_run); idem saved when given (its
     * render reads out) */
    int (*payout_batch)(store *s, const store_payout_run *run, store_idem_done *idem, store_payout_batch *out,
                        uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* an engineer's payout account ("" when unset: get answers NOTFOUND) */
    int (*payout_account_set)(store *s, const char *user_id, const char *stripe_account, int64_t now,
                              uint64_t deadline_ns, store_done_cb cb, void *ctx);
    int (*payout_account_get)(store *s, const char *user_id, char out[STORE_PAYOUT_ACCOUNT_MAX], int64_t *updated_at,
                              uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* ---- contract views (tx_contract_views.c) ---- */
    /* newest first (f: the caller's side, filters and cursor; f must outlive the call) */
    int (*contracts_list)(store *s, const store_contract_filter *f, store_contract_list *out, uint64_t deadline_ns,
                          store_done_cb cb, void *ctx);
    /* every charge and refund of the contract's milestones, oldest first;
     * NOTFOUND unless user_id (NULL: an admin) is a party */
    int (*contract_receipts)(store *s, const char *contract_id, const char *user_id, store_receipts *out,
                             uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* the contract's timesheets by week; NOTFOUND as contract_receipts */
    int (*contract_timesheets)(store *s, const char *contract_id, const char *user_id, store_timesheet_list *out,
                               uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* ---- a user's own account (tx_accounts.c) ---- */
    /* the user with its password hash */
    int (*user_get)(store *s, const char *id, store_user *out, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* sets the name (audited when it changed); out: the user after (no hash) */
    int (*user_rename)(store *s, const char *id, const char *name, int64_t now, store_user *out,
                       uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* a new password hash; every session of the user but keep_session ends
     * in the same transaction (*ended: how many) */
    int (*password_change)(store *s, const char *user_id, const char *hash, const char *keep_session, int64_t now,
                           int *ended, uint64_t deadline_ns, store_done_cb cb, void *ctx);
    /* accounts newest first; q matches name or email (case-insensitive substring) */
    int (*users_list)(store *s, const store_account_filter *f, store_account_list *out, uint64_t deadline_ns,
                      store_done_cb cb, void *ctx);
    /* active <-> suspended by admin_id (audited); suspending ends every
     * session of the user (*ended). CONFLICT when it is in that state
     * already (out filled either way); NOTFOUND for no such user */
    int (*user_set_status)(store *s, const char *id, const char *to, const char *admin_id, const char *reason,
                           int64_t now, store_account *out, int *ended, uint64_t deadline_ns, store_done_cb cb,
                           void *ctx);
    /* pending operations, for metrics and /readyz */
    int (*queue_depth)(store *s);
    /* the driver's counters since start, for metrics and /readyz */
    void (*stats)(store *s, store_stats *out);
    /* Stops accepting work, finishes what is queued, delivers every
     * callback, and releases the backend; the loop must then run once more
     * so the backend's handles close. */
    void (*close)(store *s);
} store_vtbl;

struct store {
    const store_vtbl *v;
};

/* Opens the backend named by db ("path/to/file.db" is SQLite). With
 * migrate, pending migrations are applied first. Returns NULL with a
 * message in err on failure. */
/* connections a PostgreSQL store opens (one worker thread each); before
 * store_open */
void store_set_pool_size(int n);
store *store_open(uv_loop_t *loop, const char *db, int migrate, char *err, size_t errlen);
/* A consistent copy of db in a new file (never over one), safe while
 * servers write: SQLite's online backup, or pg_dump's custom format
 * (opx backup). -1 with err on failure, leaving no partial file. */
int store_backup(const char *db, const char *file, char *err, size_t errlen);
/* Puts a backup of store_backup into db, which must be empty (no tables)
 * unless force, and which no server may be using (opx restore). */
int store_restore(const char *db, const char *file, int force, char *err, size_t errlen);
/* Every row of the SQLite database from into the empty PostgreSQL
 * database to (migrated first), in one transaction; a line per table in
 * report (opx copy). -1 with err, and nothing in to, on failure. */
struct buf;
int store_copy(const char *from, const char *to, struct buf *report, char *err, size_t errlen);
/* Applies pending migrations and reports what it did (opx migrate). */
int store_migrate(const char *db, int *applied, int *current, char *err, size_t errlen);
const char *store_strerror(int rc);
/* the driver's name: "sqlite" or "postgres" */
const char *store_backend(store *s);

static inline int store_ping(store *s, uint64_t d, store_done_cb cb, void *ctx)
{
    return s->v->ping(s, d, cb, ctx);
}
static inline int store_user_create(store *s, const store_user *u, const char *ip, uint64_t d,
                                    store_done_cb cb, void *ctx)
{
    return s->v->user_create(s, u, ip, d, cb, ctx);
}
static inline int store_user_by_email(store *s, const char *email, store_user *out, uint64_t d,
                                      store_done_cb cb, void *ctx)
{
    return s->v->user_by_email(s, email, out, d, cb, ctx);
}
static inline int store_session_create(store *s, const store_session *x, uint64_t d,
                                       store_done_cb cb, void *ctx)
{
    return s->v->session_create(s, x, d, cb, ctx);
}
static inline int store_session_get(store *s, const char *h, int64_t now, store_session *out,
                                    uint64_t d, store_done_cb cb, void *ctx)
{
    return s->v->session_get(s, h, now, out, d, cb, ctx);
}
static inline int store_session_delete(store *s, const char *h, uint64_t d, store_done_cb cb,
                                       void *ctx)
{
    return s->v->session_delete(s, h, d, cb, ctx);
}

#define STORE_CALL(s, op, ...) ((s)->v->op((s), __VA_ARGS__))
#endif
