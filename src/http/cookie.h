/* cookie: reading the Cookie header and writing the session cookie.
 * The session cookie is HttpOnly (scripts never see it), SameSite=Lax
 * (not sent on cross-site subrequests or POSTs) and Path=/; Secure when
 * the server is configured behind TLS. */
#ifndef OPX_COOKIE_H
#define OPX_COOKIE_H
#include <stddef.h>
#include <stdint.h>

#define SESSION_COOKIE "opx_session"

/* Finds name in a Cookie header value; returns a pointer to the value
 * (not NUL-terminated) and its length, or NULL. */
const char *cookie_find(const char *header, size_t len, const char *name, size_t *vlen);
/* Formats a Set-Cookie header value (no "Set-Cookie: " prefix). max_age 0
 * deletes the cookie. */
int cookie_format(char *out, size_t outlen, const char *name, const char *value, int64_t max_age,
                  int secure);
#endif
