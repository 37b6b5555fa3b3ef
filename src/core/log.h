/* log: JSON-lines logging that never blocks the event loop.
 * Lines are formatted by the caller into a bounded in-memory queue; a
 * dedicated thread writes them to the log fd. When the queue is full the
 * line is dropped and counted (opx_log_dropped_total) rather than letting
 * a slow disk or a stalled pipe stall the loop. */
#ifndef OPX_LOG_H
#define OPX_LOG_H
#include <stdint.h>
#include "buf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* fd: where lines go (2 = stderr). Starts the writer thread. */
int log_init(int fd, enum log_level min_level);
/* Flushes what is queued and stops the writer thread. */
void log_shutdown(void);
int log_enabled(enum log_level lvl);
int log_parse_level(const char *s, enum log_level *out);
/* A line: {"ts":..,"level":..,"msg":..<extra>} where extra is a
 * preformatted JSON fragment starting with ',' (or NULL). */
void log_line(enum log_level lvl, const char *msg, const char *extra);
void log_msgf(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t log_dropped(void);
#endif
