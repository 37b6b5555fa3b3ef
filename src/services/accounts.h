/* accounts: the rules of users, passwords and sessions.
 *
 * Passwords are hashed with argon2id (libsodium's crypto_pwhash_str,
 * OWASP's m=19 MiB, t=2) on libuv's thread pool, never on the loop; the
 * number of hashes queued at once is capped, past which callers shed load
 * with 503. Login compares against a fixed dummy hash when the email is
 * unknown, so a miss costs the same time as a wrong password. Sessions are
 * random 256-bit tokens; only their hash is stored. */
#ifndef OPX_ACCOUNTS_H
#define OPX_ACCOUNTS_H
#include <stddef.h>
#include <uv.h>
#include "../core/jsonv.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 256                    /* characters */
#define PASSWORD_MAX_BYTES (PASSWORD_MAX * 4) /* the same in UTF-8, at worst */

/* rc: 0 ok, -1 failed; for verify, 0 = match, 1 = mismatch */
typedef void (*accounts_hash_cb)(void *ctx, int rc, const char *hash);

int accounts_init(uv_loop_t *loop, int max_pending);
/* Hashes password (copied). Returns -1 when too many hashes are queued
 * (then cb is not called). */
int accounts_hash(const char *password, accounts_hash_cb cb, void *ctx);
/* Checks password against hash (NULL hash: the dummy, always a mismatch). */
int accounts_verify(const char *hash, const char *password, accounts_hash_cb cb, void *ctx);
int accounts_pending(void);
/* Verifications run so far, against an account's hash or the dummy alike. */
unsigned long long accounts_verified(void);
/* Blocking hash, for the CLI only. */
int accounts_hash_sync(const char *password, char out[128]);
/* Lowercases and checks an email; adds a field error when invalid. */
int accounts_normalize_email(char *email, jv_errors *errs, const char *field);
/* Extra password rules beyond length. */
int accounts_check_password(const char *pw, size_t len, jv_errors *errs, const char *field);
#endif
