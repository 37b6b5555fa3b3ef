/* static: the web app's files in memory, with ETags and the app's security
 * headers (see static.h). */
#include "static.h"
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define STATIC_MAX_FILES 512
#define STATIC_MAX_FILE (8u << 20)
#define STATIC_MAX_TOTAL (64u << 20)
#define STATIC_MAX_DEPTH 6

typedef struct {
    char path[256]; /* "/index.html" */
    char etag[40];
    const char *type;
    char *data;
    size_t len;
    int owned; /* data was read from disk (freed), else it is the binary's own */
} sfile;

struct static_files {
    sfile files[STATIC_MAX_FILES];
    size_t n, total;
};

const char *static_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

static void add_loaded(static_files *sf, sfile *x, const char *url_path);

static int load_file(static_files *sf, const char *fs_path, const char *url_path, char *err,
                     size_t errlen)
{
    struct stat st;
    if (stat(fs_path, &st) < 0 || !S_ISREG(st.st_mode)) return 0;
    if (sf->n >= STATIC_MAX_FILES || (size_t)st.st_size > STATIC_MAX_FILE ||
        sf->total + (size_t)st.st_size > STATIC_MAX_TOTAL || strlen(url_path) >= 256) {
        snprintf(err, errlen, "web files exceed the limits (%d files, %u MiB): %s", STATIC_MAX_FILES,
                 STATIC_MAX_TOTAL >> 20, fs_path);
        return -1;
    }
    FILE *f = fopen(fs_path, "rb");
    if (!f) return 0;
    sfile *x = &sf->files[sf->n];
    x->len = (size_t)st.st_size;
    x->data = malloc(x->len ? x->len : 1);
    if (!x->data || fread(x->data, 1, x->len, f) != x->len) {
        free(x->data);
        fclose(f);
        snprintf(err, errlen, "cannot read %s", fs_path);
        return -1;
    }
    fclose(f);
    x->owned = 1;
    add_loaded(sf, x, url_path);
    return 0;
}

/* fills in what every file has: its path, type and ETag */
static void add_loaded(static_files *sf, sfile *x, const char *url_path)
{
    snprintf(x->path, sizeof x->path, "%s", url_path);
    x->type = static_content_type(url_path);
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (unsigned char *)x->data, x->len, NULL, 0);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(x->etag, sizeof x->etag, "\"%.32s\"", hex);
    sf->total += x->len;
    sf->n++;
}

static int walk(static_files *sf, const char *dir, const char *url_prefix, int depth, char *err,
                size_t errlen)
{
    if (depth > STATIC_MAX_DEPTH) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* no dotfiles, no . or .. */
        char fs[1024], url[512];
        snprintf(fs, sizeof fs, "%s/%s", dir, e->d_name);
        snprintf(url, sizeof url, "%s/%s", url_prefix, e->d_name);
        struct stat st;
        if (stat(fs, &st) < 0) continue;
        if (S_ISDIR(st.st_mode)) rc = walk(sf, fs, url, depth + 1, err, errlen);
        else rc = load_file(sf, fs, url, err, errlen);
    }
    closedir(d);
    return rc;
}

/* the web app built into the binary (tools/embed.c --dir web) */
extern const struct {
    const char *path;
    const char *data;
    size_t len;
} web_embedded[];
extern const int web_embedded_count;

static_files *static_load(const char *dir, char *err, size_t errlen)
{
    static_files *sf = calloc(1, sizeof *sf);
    if (!sf) return NULL;
    if (!dir) {
        for (int i = 0; i < web_embedded_count && sf->n < STATIC_MAX_FILES; i++) {
            sfile *x = &sf->files[sf->n];
            x->data = (char *)web_embedded[i].data;
            x->len = web_embedded[i].len;
            add_loaded(sf, x, web_embedded[i].path);
        }
        return sf;
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--web %s: not a directory", dir);
        static_free(sf);
        return NULL;
    }
    if (walk(sf, dir, "", 0, err, errlen) < 0) {
        static_free(sf);
        return NULL;
    }
    return sf;
}

void static_free(static_files *sf)
{
    if (!sf) return;
    for (size_t i = 0; i < sf->n; i++)
        if (sf->files[i].owned) free(sf->files[i].data);
    free(sf);
}

size_t static_count(const static_files *sf)
{
    return sf ? sf->n : 0;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int static_clean_path(const char *path, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    if (len == 0 || path[0] != '/') return -1;
    for (size_t i = 0; i < len; i++) {
        char c = path[i];
        if (c == '%') {
            if (i + 2 >= len) return -1;
            int hi = hexv(path[i + 1]), lo = hexv(path[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || c == '\\') return -1;
        if (o + 1 >= outlen) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    /* refuse any dot segment and empty segment: "/../", "/./", "//" */
    for (size_t i = 0; i < o; i++) {
        if (out[i] != '/') continue;
        const char *seg = out + i + 1;
        if (seg[0] == '/') return -1;
        if (seg[0] == '.' && (seg[1] == '/' || seg[1] == '\0')) return -1;
        if (seg[0] == '.' && seg[1] == '.' && (seg[2] == '/' || seg[2] == '\0')) return -1;
    }
    return 0;
}

static int etag_matches(const char *inm, size_t n, const char *etag)
{
    size_t el = strlen(etag);
    if (n == 1 && inm[0] == '*') return 1;
    for (size_t i = 0; i + el <= n; i++) {
        /* a weak validator W/"x" matches too for GET/HEAD */
        if (memcmp(inm + i, etag, el) == 0) return 1;
    }
    return 0;
}

/* The app's pages are routes of its own router (/hire/fastapi,
 * /requests/req_...): a path whose last segment has no dot is a page and
 * gets index.html; one with a dot names a file, and a missing file is 404. */
static int is_page_path(const char *clean)
{
    const char *last = strrchr(clean, '/');
    return last && !strchr(last, '.');
}

static const sfile *find(const static_files *sf, const char *path)
{
    for (size_t i = 0; sf && i < sf->n; i++)
        if (strcmp(sf->files[i].path, path) == 0) return &sf->files[i];
    return NULL;
}

void static_serve(static_files *sf, http_req *req)
{
    char clean[512];
    if (static_clean_path(req->path, req->path_len, clean, sizeof clean) < 0) {
        http_problem(req, 404, "not-found", "Not Found", "no such file", NULL);
        return;
    }
    const sfile *f = find(sf, clean);
    if (!f && is_page_path(clean)) f = find(sf, "/index.html");
    if (!f) {
        http_problem(req, 404, "not-found", "Not Found", "no such file", NULL);
        return;
    }
    /* no-cache: every file is revalidated by its ETag (a 304 costs no body),
     * so a page never runs one deploy's modules with another's */
    http_add_header(req, "ETag: %s", f->etag);
    http_add_header(req, "Cache-Control: no-cache");
    http_add_header(req, "X-Content-Type-Options: nosniff");
    if (strncmp(f->type, "text/html", 9) == 0) {
        http_add_header(req, "Content-Security-Policy: %s", STATIC_CSP);
        http_add_header(req, "Referrer-Policy: same-origin");
        http_add_header(req, "X-Frame-Options: DENY");
        http_add_header(req, "Permissions-Policy: camera=(), microphone=(), geolocation=()");
    }
    size_t n = 0;
    const char *inm = http_header_get(req, "if-none-match", &n);
    if (inm && etag_matches(inm, n, f->etag)) {
        http_respond(req, 304, NULL, NULL, 0);
        return;
    }
    http_respond(req, 200, f->type, f->data, f->len);
}
