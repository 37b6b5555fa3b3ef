/* arena: a bump allocator that owns all memory of one request.
 * Everything allocated from an arena is freed at once by arena_reset() or
 * arena_free(); nothing is freed piecemeal. An arena has a hard cap so that
 * input can never make one request grow without bound. */
#ifndef OPX_ARENA_H
#define OPX_ARENA_H
#include <stddef.h>

typedef struct arena_chunk arena_chunk;
typedef struct arena {
    arena_chunk *head;
    size_t used_total; /* bytes handed out since the last reset */
    size_t cap;        /* arena_alloc fails past this */
} arena;

void arena_init(arena *a, size_t cap);
/* Returns 8-byte aligned memory, or NULL when the cap would be passed. */
void *arena_alloc(arena *a, size_t n);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees every chunk but the first, which is kept for reuse. */
void arena_reset(arena *a);
void arena_free(arena *a);
#endif
