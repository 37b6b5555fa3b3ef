/* events: the live event hub behind GET /api/v1/events.
 *
 * The events table is the source of truth: every change that users should
 * see live writes its event rows in its own transaction. After a commit
 * that added events, the store pokes the hub (events_watch); the hub reads
 * everything past its cursor in id order (one query for all users, one at
 * a time) and writes each event to the open streams of its user.
 *
 * A stream opened with Last-Event-ID L subscribes first, then replays the
 * user's events after L from the table (at most EVENTS_REPLAY_MAX; past
 * that the client gets a `reset` event and should reload); live events
 * that arrive meanwhile are held and sent after the replay, each id once
 * and in order. Heartbeat comments keep idle streams (and proxies) alive;
 * a reader too slow to take its events is cut off (http_stream bound);
 * on shutdown every stream ends with a retry hint. Events are kept
 * EVENTS_KEEP_S; a resume from before the pruned range gets `reset`. */
#ifndef OPX_EVENTS_H
#define OPX_EVENTS_H
#include <stdint.h>
#include <uv.h>
#include "../http/http.h"
#include "../store/store.h"

#define EVENTS_REPLAY_MAX STORE_EVENTS_MAX
#define EVENTS_PENDING_MAX 256 /* live events held while a replay runs */
#define EVENTS_KEEP_S (7 * 86400) /* events older than this are pruned hourly */

typedef struct {
    int max_streams;          /* open streams on this node; past it, 503 */
    int max_per_user;         /* past it, 429 */
    uint64_t heartbeat_ms;    /* comment line on every stream */
    size_t max_queued;        /* bytes queued to one slow stream before it is cut */
    int retry_ms;             /* the reconnection delay announced to clients */
} events_config;

void events_config_default(events_config *cfg);
/* reads the current head of the table, then follows commits */
int events_start(uv_loop_t *loop, store *s, const events_config *cfg);
void events_stop(void);

/* Opens req's event stream for req->auth.id, replaying after last_id
 * (-1: live events only). Returns 0 when opened (or req was gone), 503
 * when the node's streams are full, 429 when the user's are; then req is
 * untouched and the caller answers. */
int events_open(http_req *req, int64_t last_id);

int events_streams(void);
/* Ends at once every stream of user_id except those opened by the session
 * keep (NULL: all of them): its sessions were ended. Returns how many. */
int events_close_user(const char *user_id, const char *keep);
#endif
