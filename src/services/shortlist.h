/* shortlist: the bridge between the store and the matching index.
 *
 * The index (matching.c) lives in memory on the loop thread. It is rebuilt
 * from the database at start (vetted engineers, a page at a time, before
 * the server listens) and kept in step afterwards: every profile or vetting
 * change that succeeds calls shortlist_update(), which upserts a vetted
 * engineer and removes anyone else. With several nodes, what another node
 * changed arrives as a store notice (see store.h notices_watch) and is
 * re-read here. A request's spec (JSON, see
 * requests.c) becomes a match_request here. */
#ifndef OPX_SHORTLIST_H
#define OPX_SHORTLIST_H
#include <uv.h>
#include "../store/store.h"

int shortlist_init(void);
void shortlist_free(void);
/* Blocks on its own loop iterations until the index is loaded (start-up). */
int shortlist_rebuild(uv_loop_t *loop, store *s, char *err, size_t errlen);
void shortlist_update(const store_engineer *e);
/* an engineer's contract started (busy) or ended: the next requests see it */
void shortlist_set_busy(const char *engineer_id, int busy);
/* an engineer changed where no store_engineer is at hand (reactivated
 * here, or anything on another node: a store notice): re-read and update,
 * in the background; a failure is logged */
void shortlist_engineer_changed(store *s, const char *engineer_id);
/* notices may have been missed: the index is loaded again, a page per
 * store call, and replaces the current one when complete */
void shortlist_refresh(store *s);
size_t shortlist_count(void);
size_t shortlist_memory_bytes(void);
/* Up to k candidates for spec, best first, skipping engineers already
 * candidates of existing (may be NULL); fills id-less store_candidates
 * (engineer_id, score, rank from first_rank, explain). relax: MATCH_RELAX_*.
 * Returns how many, or -1 when the spec is unusable. */
int shortlist_pick(const char *spec, unsigned relax, const store_request *existing, int first_rank,
                   store_candidate *out, int k);
/* gives picked candidates an id, the request, status invited and 24 h */
void requests_prepare_invites(const char *request_id, store_candidate *cands, int n, int64_t now);
#endif
