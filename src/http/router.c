/* router: pattern matching over the route table (see router.h). */
#include "router.h"
#include <stdio.h>
#include <string.h>

unsigned router_role_bit(const char *role)
{
    if (strcmp(role, "client") == 0) return ROLE_CLIENT;
    if (strcmp(role, "engineer") == 0) return ROLE_ENGINEER;
    if (strcmp(role, "vetter") == 0) return ROLE_VETTER;
    if (strcmp(role, "admin") == 0) return ROLE_ADMIN;
    return 0;
}

/* Matches path against pattern; on success records params (pointing into
 * req's arena) and returns 1. */
static int match(const char *pat, const char *path, size_t plen, http_req *req, int capture)
{
    const char *p = path, *end = path + plen;
    int nparams = 0;
    while (*pat) {
        if (p >= end || *p != '/' || *pat != '/') return 0;
        pat++;
        p++;
        const char *seg_end = memchr(p, '/', (size_t)(end - p));
        if (!seg_end) seg_end = end;
        size_t seg_len = (size_t)(seg_end - p);
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            if (!close || seg_len == 0) return 0;
            if (capture && nparams < HTTP_MAX_PARAMS) {
                /* names live in the static table; "{id}" -> "id" copied once */
                char *name = arena_strndup(&req->arena, pat + 1, (size_t)(close - pat - 1));
                char *value = arena_strndup(&req->arena, p, seg_len);
                if (!name || !value) return 0;
                req->params[nparams].name = name;
                req->params[nparams].value = value;
            }
            nparams++;
            pat = close + 1;
        } else {
            const char *pseg_end = strchr(pat, '/');
            size_t pseg_len = pseg_end ? (size_t)(pseg_end - pat) : strlen(pat);
            if (pseg_len != seg_len || memcmp(pat, p, seg_len) != 0) return 0;
            pat += pseg_len;
        }
        p = seg_end;
    }
    if (p != end) return 0;
    if (capture) req->nparams = nparams < HTTP_MAX_PARAMS ? nparams : HTTP_MAX_PARAMS;
    return 1;
}

int router_match(const route *table, int n, http_req *req, char *allow, size_t allow_len)
{
    unsigned method = req->method == HTTP_HEAD ? HTTP_GET : req->method;
    int path_seen = 0;
    unsigned seen_methods[16];
    int nseen = 0;
    for (int i = 0; i < n; i++) {
        const route *r = &table[i];
        if (!match(r->pattern, req->path, req->path_len, req, 0)) continue;
        if (r->method == method) {
            match(r->pattern, req->path, req->path_len, req, 1);
            return i;
        }
        path_seen = 1;
        if (nseen < 16) seen_methods[nseen++] = r->method;
    }
    if (!path_seen) return ROUTER_NOT_FOUND;
    if (allow && allow_len) {
        allow[0] = '\0';
        for (int i = 0; i < nseen; i++) {
            const char *m = http_method_str((enum http_method)seen_methods[i]);
            size_t used = strlen(allow);
            snprintf(allow + used, allow_len - used, "%s%s%s", used ? ", " : "", m,
                     seen_methods[i] == HTTP_GET ? ", HEAD" : "");
        }
    }
    return ROUTER_BAD_METHOD;
}
