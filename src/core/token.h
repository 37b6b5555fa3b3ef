/* token: random identifiers and secrets (libsodium).
 * Session tokens are 32 random bytes shown to the client as base64url; the
 * store only ever sees their BLAKE2b-256 hash, so a leaked database holds
 * no usable credential. Compares of secrets are constant-time. */
#ifndef OPX_TOKEN_H
#define OPX_TOKEN_H
#include <stddef.h>
#include <stdint.h>

#define TOKEN_BYTES 32
#define TOKEN_STR_LEN 43 /* base64url, no padding, of 32 bytes */
#define TOKEN_HASH_BYTES 32
#define TOKEN_HASH_HEX 65
#define ID_STR_MAX 32

int token_init(void); /* sodium_init */
/* A new secret token: out gets TOKEN_STR_LEN chars + NUL. */
void token_new(char out[TOKEN_STR_LEN + 1]);
/* Hash of a presented token, as lowercase hex (64 chars + NUL). */
void token_hash_hex(const char *tok, size_t len, char out[TOKEN_HASH_HEX]);
/* Checks a presented token's shape (length and alphabet) before any lookup. */
int token_valid_shape(const char *tok, size_t len);
/* prefix + "_" + 20 chars of [0-9a-z], e.g. "usr_0mpit6a2x3mzwcjcgvk2": the
 * first ID_TIME_CHARS are the wall clock in milliseconds (base 36, so ids
 * sort by creation and inserts stay at the end of each index), the other
 * 11 random (~56 bits: unique within a millisecond). Ids name things; they
 * are not secrets (tokens are). */
#define ID_TIME_CHARS 9
void id_new(const char *prefix, char out[ID_STR_MAX]);
/* Constant-time equality of two strings of possibly different lengths. */
int token_equal(const char *a, size_t alen, const char *b, size_t blen);
/* nbytes*2 random hex chars from the CSPRNG (one syscall per call). */
void token_hex(char *out, size_t nbytes);
/* nbytes*2 hex chars from a fast per-thread generator seeded from the
 * CSPRNG: unique enough for request, trace and span ids, never for
 * secrets (a getrandom call per id cost ~8% of /healthz throughput). */
void token_fast_hex(char *out, size_t nbytes);
#endif
