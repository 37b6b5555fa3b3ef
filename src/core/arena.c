/* arena: bump allocation for per-request memory (see arena.h). */
#include "arena.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN 4096

struct arena_chunk {
    arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void arena_init(arena *a, size_t cap)
{
    a->head = NULL;
    a->used_total = 0;
    a->cap = cap;
}

void *arena_alloc(arena *a, size_t n)
{
    if (n > a->cap) return NULL; /* also keeps the rounding below from wrapping */
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (a->used_total + n > a->cap) return NULL;
    arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK_MIN ? n : ARENA_CHUNK_MIN;
        if (c && c->size * 2 > size && c->size * 2 <= 65536) size = c->size * 2;
        c = malloc(sizeof(*c) + size);
        if (!c) return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used_total += n;
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    if (n >= a->cap) return NULL;
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_reset(arena *a)
{
    arena_chunk *c = a->head;
    if (!c) return;
    arena_chunk *keep = c;
    /* keep the oldest (smallest) chunk: walk to the tail */
    arena_chunk *prev = NULL;
    while (c->next) {
        prev = c;
        c = c->next;
    }
    keep = c;
    if (prev) prev->next = NULL;
    c = a->head;
    while (c && c != keep) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    keep->used = 0;
    keep->next = NULL;
    a->head = keep;
    a->used_total = 0;
}

void arena_free(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->used_total = 0;
}
