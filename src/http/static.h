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

/* The policy every page is served with: scripts, styles, fetches and
 * event streams only from the server itself; nothing inline, no frames. */
#define STATIC_CSP                                                                                     \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "                  \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "    \
    "frame-ancestors 'none'"

/* Loads dir, or with dir NULL the app built into the binary. NULL (with
 * err) when dir is not a directory or its files exceed the limits. */
static_files *static_load(const char *dir, char *err, size_t errlen);
void static_free(static_files *sf);
size_t static_count(const static_files *sf);
/* Answers GET/HEAD for req->path: 200, 304 or 404; a page path (no dot in
 * its last segment) that is not a file gets index.html. */
void static_serve(static_files *sf, http_req *req);
/* Type for a file name by extension. */
const char *static_content_type(const char *name);
/* Decodes and checks a URL path; returns 0 and the clean path in out, or
 * -1 when the path is unsafe (traversal, NUL, backslash, bad escapes). */
int static_clean_path(const char *path, size_t len, char *out, size_t outlen);
#endif
