/* test_arena_buf: the two memory primitives every request leans on.
 * arena: cap enforced, alignment, strndup/printf, reset keeps working.
 * buf: max enforced with the content left as it was, printf past the
 * stack fast path, JSON string escaping, steal/reset. */
#include "core/arena.h"
#include "core/buf.h"
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------ */

Test(arena, alloc_within_cap_is_aligned_and_writable)
{
    arena a;
    arena_init(&a, 1024);
    for (size_t n = 1; n < 40; n += 7) {
        unsigned char *p = arena_alloc(&a, n);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % 8, 0, "arena memory must be 8-byte aligned");
        memset(p, 0xAB, n);
    }
    arena_free(&a);
}

Test(arena, alloc_past_cap_returns_null)
{
    arena a;
    arena_init(&a, 256);
    cr_assert_not_null(arena_alloc(&a, 200));
    cr_assert_null(arena_alloc(&a, 100), "200 + 100 > cap 256");
    cr_assert_not_null(arena_alloc(&a, 48), "what is left below the cap is still usable");
    cr_assert_null(arena_alloc(&a, 16));
    cr_assert_leq(a.used_total, a.cap);
    arena_free(&a);
}

Test(arena, single_alloc_larger_than_cap_fails)
{
    arena a;
    arena_init(&a, 4096);
    cr_assert_null(arena_alloc(&a, 4097));
    cr_assert_eq(a.used_total, 0);
    arena_free(&a);
}

Test(arena, huge_sizes_do_not_wrap_around)
{
    arena a;
    arena_init(&a, 1 << 20);
    /* rounding SIZE_MAX up to 16 must not wrap into a tiny allocation */
    cr_assert_null(arena_alloc(&a, SIZE_MAX));
    cr_assert_null(arena_alloc(&a, SIZE_MAX - 7));
    cr_assert_null(arena_strndup(&a, "x", SIZE_MAX));
    cr_assert_eq(a.used_total, 0);
    arena_free(&a);
}

Test(arena, large_allocation_beyond_chunk_size)
{
    arena a;
    arena_init(&a, 1 << 20);
    char *p = arena_alloc(&a, 100000);
    cr_assert_not_null(p);
    memset(p, 'z', 100000);
    char *q = arena_alloc(&a, 10);
    cr_assert_not_null(q);
    cr_assert(q + 10 <= p || q >= p + 100000, "allocations must not overlap");
    arena_free(&a);
}

Test(arena, strndup_and_printf)
{
    arena a;
    arena_init(&a, 4096);
    char *s = arena_strndup(&a, "hello world", 5);
    cr_assert_str_eq(s, "hello");
    char *f = arena_printf(&a, "%s-%d-%03d", "x", 42, 7);
    cr_assert_str_eq(f, "x-42-007");
    cr_assert_str_eq(s, "hello", "earlier strings stay intact");
    arena_free(&a);
}

Test(arena, printf_respects_cap)
{
    arena a;
    arena_init(&a, 64);
    cr_assert_null(arena_printf(&a, "%0100d", 1));
    cr_assert_not_null(arena_printf(&a, "%d", 1));
    arena_free(&a);
}

Test(arena, reset_allows_reuse_up_to_cap_again)
{
    arena a;
    arena_init(&a, 64 * 1024);
    for (int round = 0; round < 5; round++) {
        size_t got = 0;
        while (arena_alloc(&a, 1000))
            got++;
        cr_assert_gt(got, 50, "round %d: got %zu", round, got);
        cr_assert_leq(a.used_total, a.cap);
        arena_reset(&a);
        cr_assert_eq(a.used_total, 0);
        cr_assert_not_null(a.head, "reset keeps one chunk for reuse");
    }
    char *p = arena_strndup(&a, "after reset", 11);
    cr_assert_str_eq(p, "after reset");
    arena_free(&a);
    cr_assert_null(a.head);
}

Test(arena, reset_and_free_on_empty_arena)
{
    arena a;
    arena_init(&a, 128);
    arena_reset(&a);
    arena_free(&a);
    cr_assert_null(a.head);
    cr_assert_eq(a.used_total, 0);
}

/* ---- buf -------------------------------------------------------------- */

Test(buf, append_and_nul_termination)
{
    buf b;
    buf_init(&b, 1024);
    cr_assert_eq(buf_append(&b, "abc", 3), 0);
    cr_assert_eq(buf_puts(&b, "def"), 0);
    cr_assert_eq(b.len, 6);
    cr_assert_str_eq(b.data, "abcdef");
    buf_free(&b);
}

Test(buf, empty_append_on_fresh_buffer)
{
    buf b;
    buf_init(&b, 16);
    cr_assert_eq(buf_append(&b, "", 0), 0);
    cr_assert_eq(buf_puts(&b, ""), 0);
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}

Test(buf, append_past_max_fails_and_leaves_content)
{
    buf b;
    buf_init(&b, 10);
    cr_assert_eq(buf_append(&b, "12345678", 8), 0);
    cr_assert_eq(buf_append(&b, "abc", 3), -1);
    cr_assert_eq(b.len, 8);
    cr_assert_str_eq(b.data, "12345678");
    cr_assert_eq(buf_append(&b, "ab", 2), 0, "exactly max is allowed");
    cr_assert_str_eq(b.data, "12345678ab");
    cr_assert_eq(buf_append(&b, "x", 1), -1);
    cr_assert_str_eq(b.data, "12345678ab");
    cr_assert_leq(b.cap, b.max);
    buf_free(&b);
}

Test(buf, max_zero_refuses_any_byte)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(buf_append(&b, "a", 1), -1);
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}

Test(buf, huge_length_does_not_wrap)
{
    buf b;
    buf_init(&b, 64);
    cr_assert_eq(buf_puts(&b, "hi"), 0);
    cr_assert_eq(buf_append(&b, "x", SIZE_MAX - 1), -1);
    cr_assert_eq(b.len, 2);
    cr_assert_str_eq(b.data, "hi");
    buf_free(&b);
}

Test(buf, printf_short_and_long)
{
    buf b;
    buf_init(&b, 4096);
    cr_assert_eq(buf_printf(&b, "%d:%s", 7, "x"), 0);
    cr_assert_str_eq(b.data, "7:x");
    char big[1001];
    memset(big, 'q', 1000);
    big[1000] = '\0';
    cr_assert_eq(buf_printf(&b, "[%s]", big), 0, "past the 512-byte fast path");
    cr_assert_eq(b.len, 3 + 1002);
    cr_assert_eq(b.data[3], '[');
    cr_assert_eq(b.data[b.len - 1], ']');
    cr_assert_eq(b.data[b.len], '\0');
    buf_free(&b);
}

Test(buf, printf_past_max_fails_and_leaves_content)
{
    buf b;
    buf_init(&b, 600);
    cr_assert_eq(buf_puts(&b, "keep"), 0);
    cr_assert_eq(buf_printf(&b, "%0700d", 5), -1);
    cr_assert_eq(b.len, 4);
    cr_assert_str_eq(b.data, "keep");
    buf_free(&b);
}

static void json_str_eq(const char *in, size_t n, const char *want)
{
    buf b;
    buf_init(&b, 1024);
    cr_assert_eq(buf_json_str(&b, in, n), 0);
    cr_assert_eq(b.len, strlen(want), "got %s want %s", b.data, want);
    cr_assert_str_eq(b.data, want);
    buf_free(&b);
}

Test(buf, json_str_plain)
{
    json_str_eq("hello", 5, "\"hello\"");
    json_str_eq("", 0, "\"\"");
}

Test(buf, json_str_quotes_and_backslash)
{
    json_str_eq("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    json_str_eq("\"", 1, "\"\\\"\"");
}

Test(buf, json_str_control_chars)
{
    json_str_eq("a\nb", 3, "\"a\\nb\"");
    json_str_eq("\t", 1, "\"\\u0009\"");
    json_str_eq("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    json_str_eq("x\0y", 3, "\"x\\u0000y\"");
    json_str_eq("\r", 1, "\"\\u000d\"");
}

Test(buf, json_str_utf8_passthrough)
{
    /* é, €, 😀 pass through byte for byte */
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", s);
    json_str_eq(s, strlen(s), want);
}

Test(buf, json_str_past_max_fails)
{
    buf b;
    buf_init(&b, 8);
    cr_assert_eq(buf_json_str(&b, "abcdefghij", 10), -1);
    cr_assert_leq(b.len, 8);
    buf_free(&b);
}

Test(buf, reset_and_steal)
{
    buf b;
    buf_init(&b, 64);
    buf_puts(&b, "abc");
    buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.data, "");
    buf_puts(&b, "xyz");
    size_t n = 0;
    char *p = buf_steal(&b, &n);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(p, "xyz");
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    free(p);
    cr_assert_eq(buf_puts(&b, "again"), 0, "a stolen buf is usable again");
    cr_assert_str_eq(b.data, "again");
    buf_free(&b);
}
