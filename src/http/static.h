/* static: the web app's files, served from memory.
 * The web/ directory is read once at start-up (bounded in file count and
 * bytes), so serving never touches the disk from the loop. Each file has a
 * content type from its extension and a strong ETag from its content;
 * If-None-Match answers 304. Only files that were found under the root at
 * start are reachable, so no request path can escape it ("..", encoded
 * or not, is refused outright). */
#ifndef OPX_STATIC_H
#define OPX_STATIC_H
#include "http.h"

typedef struct static_files static_files;

/* Loads dir; a missing dir gives an empty set. NULL only on overflow. */
static_files *static_load(const char *dir, char *err, size_t errlen);
void static_free(static_files *sf);
size_t static_count(const static_files *sf);
/* Answers GET/HEAD for req->path: 200, 304 or 404. */
void static_serve(static_files *sf, http_req *req);
/* Type for a file name by extension. */
const char *static_content_type(const char *name);
/* Decodes and checks a URL path; returns 0 and the clean path in out, or
 * -1 when the path is unsafe (traversal, NUL, backslash, bad escapes). */
int static_clean_path(const char *path, size_t len, char *out, size_t outlen);
#endif
