/* buf: a growable byte buffer created with a maximum size (curl's dynbuf
 * idea). Appends past the maximum fail with -1 and leave the buffer as it
 * was, so callers turn "too large" into a precise error instead of memory
 * growth. */
#ifndef OPX_BUF_H
#define OPX_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len, cap, max;
} buf;

void buf_init(buf *b, size_t max);
int buf_append(buf *b, const void *p, size_t n);
int buf_puts(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int buf_json_str(buf *b, const char *s, size_t n);
void buf_reset(buf *b);
/* Hands the memory to the caller (free() it); the buf is empty after. */
char *buf_steal(buf *b, size_t *len);
void buf_free(buf *b);
#endif
