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
 * above this header knows which database it is talking to: a backend is a
 * table of functions (store_vtbl), chosen by store_open() from the --db
 * string. */
#ifndef OPX_STORE_H
#define OPX_STORE_H
#include <stdint.h>
#include <uv.h>

enum {
    STORE_OK = 0,
    STORE_NOTFOUND = -1,
    STORE_CONFLICT = -2, /* a uniqueness rule refused the write */
    STORE_TIMEOUT = -3,  /* the deadline passed before or during the query */
    STORE_BUSY = -4,     /* the queue is full: shed load */
    STORE_IO = -5,
    STORE_CLOSED = -6,
};

typedef struct {
    char id[32];
    char email[256]; /* at most 254 bytes, checked before it gets here */
    char name[404];  /* 100 characters of up to 4 bytes */
    char role[16];
    char password_hash[160];
    int64_t created_at;
} store_user;

typedef struct {
    char token_hash[65];
    char csrf_token[48];
    int64_t created_at, expires_at;
    store_user user; /* session_get fills the owner too */
} store_session;

typedef void (*store_done_cb)(void *ctx, int rc);
typedef struct store store;

typedef struct store_vtbl {
    const char *name;
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
    /* pending operations, for metrics and /readyz */
    int (*queue_depth)(store *s);
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
store *store_open(uv_loop_t *loop, const char *db, int migrate, char *err, size_t errlen);
/* Applies pending migrations and reports what it did (opx migrate). */
int store_migrate(const char *db, int *applied, int *current, char *err, size_t errlen);
const char *store_strerror(int rc);

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
#endif
