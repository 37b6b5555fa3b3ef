/* accounts: password hashing off the loop, and account input rules (see
 * accounts.h). */
#include "accounts.h"
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define OPS crypto_pwhash_OPSLIMIT_INTERACTIVE /* t=2 */
#define MEM (19u << 20)                        /* m=19 MiB */

typedef struct {
    uv_work_t w;
    char password[PASSWORD_MAX_BYTES + 1];
    char hash[crypto_pwhash_STRBYTES];
    const char *verify_against; /* NULL: hash mode */
    int verify, rc;
    accounts_hash_cb cb;
    void *ctx;
} hash_job;

static uv_loop_t *loop;
static int max_pending = 64, pending;
static unsigned long long verified; /* argon2id verifications finished */
static char dummy_hash[crypto_pwhash_STRBYTES];

int accounts_init(uv_loop_t *l, int maxp)
{
    loop = l;
    if (maxp > 0) max_pending = maxp;
    /* a real argon2id string, so a miss costs what a wrong password costs */
    return accounts_hash_sync("opx-dummy-password-for-timing", dummy_hash);
}

int accounts_pending(void)
{
    return pending;
}

unsigned long long accounts_verified(void)
{
    return verified;
}

int accounts_hash_sync(const char *password, char out[128])
{
    return crypto_pwhash_str(out, password, strlen(password), OPS, MEM) == 0 ? 0 : -1;
}

static void work(uv_work_t *w)
{
    hash_job *j = w->data;
    size_t n = strlen(j->password);
    if (j->verify) {
        const char *h = j->verify_against ? j->verify_against : dummy_hash;
        int ok = crypto_pwhash_str_verify(h, j->password, n) == 0;
        j->rc = j->verify_against && ok ? 0 : 1;
    } else {
        j->rc = crypto_pwhash_str(j->hash, j->password, n, OPS, MEM) == 0 ? 0 : -1;
    }
    sodium_memzero(j->password, sizeof j->password);
}

static void after(uv_work_t *w, int status)
{
    hash_job *j = w->data;
    pending--;
    if (status < 0) j->rc = -1;
    else if (j->verify) verified++;
    j->cb(j->ctx, j->rc, j->rc == 0 && !j->verify ? j->hash : NULL);
    free((void *)j->verify_against);
    sodium_memzero(j, sizeof *j);
    free(j);
}

static int submit(const char *password, const char *against, int verify, accounts_hash_cb cb,
                  void *ctx)
{
    if (pending >= max_pending || strlen(password) > PASSWORD_MAX_BYTES) return -1;
    hash_job *j = calloc(1, sizeof *j);
    if (!j) return -1;
    memcpy(j->password, password, strlen(password) + 1); /* length checked above */
    j->verify = verify;
    j->verify_against = against ? strdup(against) : NULL;
    j->cb = cb;
    j->ctx = ctx;
    j->w.data = j;
    if (uv_queue_work(loop, &j->w, work, after) < 0) {
        free((void *)j->verify_against);
        free(j);
        return -1;
    }
    pending++;
    return 0;
}

int accounts_hash(const char *password, accounts_hash_cb cb, void *ctx)
{
    return submit(password, NULL, 0, cb, ctx);
}

int accounts_verify(const char *hash, const char *password, accounts_hash_cb cb, void *ctx)
{
    return submit(password, hash && hash[0] ? hash : NULL, 1, cb, ctx);
}

int accounts_normalize_email(char *email, jv_errors *errs, const char *field)
{
    size_t n = strlen(email);
    for (size_t i = 0; i < n; i++) email[i] = (char)tolower((unsigned char)email[i]);
    const char *at = strchr(email, '@');
    int ok = n >= 3 && n <= 254 && at && at != email && strchr(at + 1, '@') == NULL;
    if (ok) {
        const char *dom = at + 1;
        const char *dot = strrchr(dom, '.');
        ok = dot && dot != dom && dot[1] != '\0' && (size_t)(at - email) <= 64;
        for (size_t i = 0; ok && i < n; i++) {
            unsigned char c = (unsigned char)email[i];
            if (c <= ' ' || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' ||
                c == ':' || c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\')
                ok = 0;
        }
        if (ok && (strstr(dom, "..") || dom[0] == '.' || dom[0] == '-')) ok = 0;
    }
    if (!ok) jv_add_error(errs, field, "must be a valid email address");
    return ok ? 0 : -1;
}

int accounts_check_password(const char *pw, size_t len, jv_errors *errs, const char *field)
{
    if (len > PASSWORD_MAX_BYTES || jv_utf8_len(pw, len) > PASSWORD_MAX) {
        jv_add_error(errs, field, "must be at most %d characters", PASSWORD_MAX);
        return -1;
    }
    if (jv_utf8_len(pw, len) < PASSWORD_MIN) {
        jv_add_error(errs, field, "must be at least %d characters", PASSWORD_MIN);
        return -1;
    }
    /* one character repeated, compared as UTF-8 sequences, not bytes */
    size_t first = 1;
    while (first < len && ((unsigned char)pw[first] & 0xC0) == 0x80) first++;
    int repeated = len % first == 0;
    for (size_t i = first; repeated && i < len; i += first)
        repeated = memcmp(pw + i, pw, first) == 0;
    if (repeated) {
        jv_add_error(errs, field, "must not be one repeated character");
        return -1;
    }
    return 0;
}
