/* token: random ids, session secrets and their hashes (see token.h). */
#include "token.h"
#include <time.h>
#include <sodium.h>
#include <string.h>

int token_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void token_new(char out[TOKEN_STR_LEN + 1])
{
    unsigned char raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_STR_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void token_hash_hex(const char *tok, size_t len, char out[TOKEN_HASH_HEX])
{
    unsigned char h[TOKEN_HASH_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)tok, len, NULL, 0);
    sodium_bin2hex(out, TOKEN_HASH_HEX, h, sizeof h);
}

int token_valid_shape(const char *tok, size_t len)
{
    if (len != TOKEN_STR_LEN) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = tok[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

void id_new(const char *prefix, char out[ID_STR_MAX])
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    size_t p = strlen(prefix);
    if (p > 8) p = 8;
    memcpy(out, prefix, p);
    out[p++] = '_';
    /* the time first, so new rows land at the right edge of every index on
     * their id instead of scattering writes over its pages */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = ID_TIME_CHARS - 1; i >= 0; i--) {
        out[p + (size_t)i] = alphabet[ms % 36];
        ms /= 36;
    }
    p += ID_TIME_CHARS;
    unsigned char raw[20 - ID_TIME_CHARS];
    randombytes_buf(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++) out[p++] = alphabet[raw[i] % 36]; /* 36*7=252: tiny bias, ids only */
    out[p] = '\0';
}

int token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen) return 0;
    return sodium_memcmp(a, b, alen) == 0;
}

void token_hex(char *out, size_t nbytes)
{
    unsigned char raw[32];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    randombytes_buf(raw, nbytes);
    sodium_bin2hex(out, nbytes * 2 + 1, raw, nbytes);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void token_fast_hex(char *out, size_t nbytes)
{
    static _Thread_local uint64_t s[4];
    static _Thread_local int seeded;
    static const char hex[] = "0123456789abcdef";
    if (!seeded) {
        do randombytes_buf(s, sizeof s);
        while (!(s[0] | s[1] | s[2] | s[3]));
        seeded = 1;
    }
    size_t o = 0;
    while (nbytes > 0) {
        /* xoshiro256** */
        uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        for (int i = 0; i < 8 && nbytes > 0; i++, nbytes--) {
            unsigned b = (unsigned)(r >> (i * 8)) & 0xff;
            out[o++] = hex[b >> 4];
            out[o++] = hex[b & 15];
        }
    }
    out[o] = '\0';
}
