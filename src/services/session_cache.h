/* session_cache: recently verified sessions, in memory on the loop thread.
 *
 * Authenticating every request against the database costs a thread hop
 * and a query; this cache answers repeat requests of one session from
 * memory for at most `ttl` seconds after the database last confirmed it.
 * It is exact for everything this process does (logout removes the entry
 * at once); with several nodes sharing PostgreSQL, a session revoked on
 * another node is dropped here when its notice arrives (store.h
 * notices_watch: milliseconds after the commit), and at worst, with the
 * listener cut off, stays usable for ttl seconds. A fixed
 * number of slots; a full neighbourhood evicts its oldest entry. */
#ifndef OPX_SESSION_CACHE_H
#define OPX_SESSION_CACHE_H
#include <stdint.h>
#include "../store/store.h"

/* slots: entries kept at most; ttl_s 0 disables the cache */
int session_cache_init(int slots, int ttl_s);
void session_cache_free(void);
/* 1 and *out filled when hash is cached, fresh and not expired at now_s */
int session_cache_get(const char *hash, int64_t now_s, uint64_t mono_ns, store_session *out);
void session_cache_put(const char *hash, const store_session *s, uint64_t mono_ns);
void session_cache_drop(const char *hash);
/* drops every entry of user_id except the session keep (NULL: all); a
 * scan of every slot, for the rare account-wide change */
void session_cache_drop_user(const char *user_id, const char *keep);
/* forgets every entry */
void session_cache_clear(void);
uint64_t session_cache_hits(void);
uint64_t session_cache_misses(void);
#endif
