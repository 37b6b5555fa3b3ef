/* session_cache: a bounded TTL cache of sessions (see session_cache.h). */
#include "session_cache.h"
#include <stdlib.h>
#include <string.h>

#define PROBE 4

typedef struct {
    char hash[65];
    uint64_t cached_ns;
    store_session sess;
} entry;

static struct {
    entry *e;
    int n;
    uint64_t ttl_ns;
    uint64_t hits, misses;
} C;

int session_cache_init(int slots, int ttl_s)
{
    session_cache_free();
    if (ttl_s <= 0 || slots <= 0) return 0;
    C.e = calloc((size_t)slots, sizeof *C.e);
    if (!C.e) return -1;
    C.n = slots;
    C.ttl_ns = (uint64_t)ttl_s * 1000000000ull;
    return 0;
}

void session_cache_free(void)
{
    free(C.e);
    memset(&C, 0, sizeof C);
}

static size_t slot_of(const char *hash)
{
    /* the key is already a uniform hash: its first 16 hex digits will do */
    uint64_t h = 0;
    for (int i = 0; i < 16 && hash[i]; i++) {
        char c = hash[i];
        h = (h << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return (size_t)(h % (uint64_t)C.n);
}

static entry *find(const char *hash)
{
    size_t s = slot_of(hash);
    for (int i = 0; i < PROBE; i++) {
        entry *e = &C.e[(s + (size_t)i) % (size_t)C.n];
        if (e->hash[0] && strcmp(e->hash, hash) == 0) return e;
    }
    return NULL;
}

int session_cache_get(const char *hash, int64_t now_s, uint64_t mono_ns, store_session *out)
{
    if (!C.e) return 0;
    entry *e = find(hash);
    if (!e || mono_ns - e->cached_ns > C.ttl_ns || e->sess.expires_at <= now_s) {
        if (e) e->hash[0] = '\0';
        C.misses++;
        return 0;
    }
    C.hits++;
    *out = e->sess;
    return 1;
}

void session_cache_put(const char *hash, const store_session *s, uint64_t mono_ns)
{
    if (!C.e) return;
    entry *e = find(hash);
    if (!e) {
        size_t slot = slot_of(hash);
        entry *oldest = NULL;
        for (int i = 0; i < PROBE; i++) {
            entry *c = &C.e[(slot + (size_t)i) % (size_t)C.n];
            if (!c->hash[0]) {
                oldest = c;
                break;
            }
            if (!oldest || c->cached_ns < oldest->cached_ns) oldest = c;
        }
        e = oldest;
    }
    memcpy(e->hash, hash, 65);
    e->hash[64] = '\0';
    e->sess = *s;
    e->sess.user.password_hash[0] = '\0';
    e->cached_ns = mono_ns;
}

void session_cache_drop(const char *hash)
{
    if (!C.e) return;
    entry *e = find(hash);
    if (e) e->hash[0] = '\0';
}

void session_cache_drop_user(const char *user_id, const char *keep)
{
    for (int i = 0; i < C.n; i++) {
        entry *e = &C.e[i];
        if (e->hash[0] && strcmp(e->sess.user.id, user_id) == 0 && !(keep && strcmp(e->hash, keep) == 0))
            e->hash[0] = '\0';
    }
}

void session_cache_clear(void)
{
    for (int i = 0; i < C.n; i++)
        C.e[i].hash[0] = '\0';
}

uint64_t session_cache_hits(void)
{
    return C.hits;
}

uint64_t session_cache_misses(void)
{
    return C.misses;
}
