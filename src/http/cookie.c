/* cookie: Cookie header parsing and Set-Cookie formatting (see cookie.h). */
#include "cookie.h"
#include <stdio.h>
#include <string.h>

const char *cookie_find(const char *h, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i < len) {
        while (i < len && (h[i] == ' ' || h[i] == '\t' || h[i] == ';')) i++;
        size_t start = i;
        while (i < len && h[i] != '=' && h[i] != ';') i++;
        size_t klen = i - start;
        while (klen && (h[start + klen - 1] == ' ' || h[start + klen - 1] == '\t')) klen--;
        if (i >= len || h[i] != '=') { /* a pair without '=' is skipped */
            continue;
        }
        i++; /* '=' */
        while (i < len && (h[i] == ' ' || h[i] == '\t')) i++;
        size_t vstart = i;
        while (i < len && h[i] != ';') i++;
        size_t vl = i - vstart;
        while (vl && (h[vstart + vl - 1] == ' ' || h[vstart + vl - 1] == '\t')) vl--;
        if (vl >= 2 && h[vstart] == '"' && h[vstart + vl - 1] == '"') {
            vstart++;
            vl -= 2;
        }
        if (klen == nl && memcmp(h + start, name, nl) == 0) {
            *vlen = vl;
            return h + vstart;
        }
    }
    return NULL;
}

int cookie_format(char *out, size_t outlen, const char *name, const char *value, int64_t max_age,
                  int secure)
{
    int n = snprintf(out, outlen, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s", name,
                     max_age > 0 ? value : "", (long long)(max_age > 0 ? max_age : 0),
                     secure ? "; Secure" : "");
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
