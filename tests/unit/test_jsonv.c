/* test_jsonv: strict JSON body decoding and field validation
 * (src/core/jsonv.c): decode errors with line/column, only objects,
 * duplicate keys refused; every unknown/missing/mistyped/out-of-range
 * field reported with its dotted path, lengths in characters, capped at
 * JV_MAX_ERRORS. */
#include "core/jsonv.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {"fixed", "hourly", NULL};
static const char *const currencies[] = {"USD", "EUR", NULL};

static const jv_field budget_fields[] = {
    {"amount", JV_INT, 1, 1, 1000000, NULL, NULL},
    {"currency", JV_STRING, 1, 0, 0, currencies, NULL},
    {NULL},
};

static const jv_field spec[] = {
    {"title", JV_STRING, 1, 3, 10, NULL, NULL},
    {"kind", JV_STRING, 1, 0, 0, kinds, NULL},
    {"note", JV_STRING, 0, 1, 0, NULL, NULL},
    {"hours", JV_INT, 0, 1, 100, NULL, NULL},
    {"public", JV_BOOL, 0, 0, 0, NULL, NULL},
    {"budget", JV_OBJECT, 0, 0, 0, NULL, budget_fields},
    {"tags", JV_ARRAY_OF_STRING, 0, 0, 3, NULL, NULL},
    {NULL},
};

static json_t *decode_ok(const char *s)
{
    char err[256] = "";
    json_t *v = jv_decode(s, strlen(s), err, sizeof err);
    cr_assert_not_null(v, "decode failed: %s for %s", err, s);
    return v;
}

static void decode_fails(const char *s, size_t len, const char *needle)
{
    char err[256] = "";
    json_t *v = jv_decode(s, len, err, sizeof err);
    cr_assert_null(v, "decoded: %.*s", (int)len, s);
    cr_assert_neq(err[0], '\0', "an error message is written");
    if (needle) cr_assert_not_null(strstr(err, needle), "'%s' lacks '%s'", err, needle);
}

/* validates s against spec; returns the errors */
static jv_errors check(const char *s)
{
    jv_errors e;
    memset(&e, 0, sizeof e);
    json_t *v = decode_ok(s);
    int n = jv_validate(v, spec, "", &e);
    cr_assert_eq(n, e.n, "return value counts the errors added");
    json_decref(v);
    return e;
}

static const jv_error *err_for(const jv_errors *e, const char *field)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->e[i].field, field) == 0) return &e->e[i];
    return NULL;
}

static void expect_err(const jv_errors *e, const char *field, const char *msg_part)
{
    const jv_error *x = err_for(e, field);
    if (!x) {
        char all[1024] = "";
        size_t o = 0;
        for (int i = 0; i < e->n && o < sizeof all; i++)
            o += (size_t)snprintf(all + o, sizeof all - o, "[%s: %s] ", e->e[i].field,
                                  e->e[i].message);
        cr_assert_fail("no error for %s; have %s", field, all);
    }
    cr_assert_not_null(strstr(x->message, msg_part), "%s: '%s' lacks '%s'", field, x->message,
                       msg_part);
}

#define VALID "\"title\":\"Build it\",\"kind\":\"fixed\""

/* ---- decoding -------------------------------------------------------------- */

Test(jsonv, decode_object)
{
    json_t *v = decode_ok("{\"a\": 1, \"b\": [true, null], \"c\": {\"d\": \"x\"}}");
    cr_assert(json_is_object(v));
    cr_assert_eq(json_integer_value(json_object_get(v, "a")), 1);
    json_decref(v);
}

Test(jsonv, decode_error_names_line_and_column)
{
    const char *s = "{\n  \"a\": 1,\n  \"b\": }\n";
    char err[256] = "";
    cr_assert_null(jv_decode(s, strlen(s), err, sizeof err));
    cr_assert_not_null(strstr(err, "line 3"), "%s", err);
    cr_assert_not_null(strstr(err, "column"), "%s", err);
    int line = 0, col = 0;
    const char *p = strstr(err, "line ");
    cr_assert_eq(sscanf(p, "line %d, column %d", &line, &col), 2, "%s", err);
    cr_assert_eq(line, 3);
    cr_assert_gt(col, 0);
}

Test(jsonv, decode_refuses_malformed)
{
    decode_fails("", 0, "empty");
    decode_fails("{", 1, "line 1");
    decode_fails("{\"a\":1,}", 8, "line 1");
    decode_fails("{'a':1}", 7, NULL);
    decode_fails("{\"a\":1} x", 9, NULL);
    decode_fails("{\"a\":01}", 8, NULL);
    decode_fails("{\"a\":NaN}", 9, NULL);
    decode_fails("{\"a\":\"\xff\"}", 8, NULL);     /* invalid UTF-8 */
    decode_fails("{\"a\":\"\\u0000\"}", 14, NULL); /* NUL inside a string */
    decode_fails("{\"a\":1}\0", 8, NULL);
}

Test(jsonv, decode_refuses_non_objects)
{
    const char *cases[] = {"[1,2]", "\"str\"", "42", "null", "true", "[]"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        decode_fails(cases[i], strlen(cases[i]), "object");
}

Test(jsonv, decode_refuses_duplicate_keys)
{
    decode_fails("{\"a\":1,\"a\":2}", 13, NULL);
    decode_fails("{\"o\":{\"x\":1,\"x\":1}}", 19, NULL);
}

Test(jsonv, decode_honours_length)
{
    /* only len bytes are read: the rest of the buffer does not count */
    const char *s = "{\"a\":1}GARBAGE";
    char err[128];
    json_t *v = jv_decode(s, 7, err, sizeof err);
    cr_assert_not_null(v);
    json_decref(v);
}

Test(jsonv, decode_error_fits_small_buffer)
{
    char err[8];
    memset(err, 'x', sizeof err);
    cr_assert_null(jv_decode("{", 1, err, sizeof err));
    cr_assert_eq(strlen(err), sizeof err - 1);
}

/* ---- validation ------------------------------------------------------------ */

Test(jsonv, valid_bodies)
{
    jv_errors e = check("{" VALID "}");
    cr_assert_eq(e.n, 0);
    e = check("{" VALID ",\"note\":\"x\",\"hours\":100,\"public\":false,"
              "\"budget\":{\"amount\":5,\"currency\":\"EUR\"},\"tags\":[\"a\",\"b\",\"c\"]}");
    cr_assert_eq(e.n, 0, "first error: %s %s", e.e[0].field, e.e[0].message);
    e = check("{" VALID ",\"hours\":null,\"budget\":null}");
    cr_assert_eq(e.n, 0, "null optional fields are absent");
}

Test(jsonv, unknown_fields)
{
    jv_errors e = check("{" VALID ",\"titel\":\"x\",\"zzz\":1}");
    cr_assert_eq(e.n, 2);
    expect_err(&e, "titel", "unknown field");
    expect_err(&e, "zzz", "unknown field");
}

Test(jsonv, missing_required)
{
    jv_errors e = check("{}");
    cr_assert_eq(e.n, 2);
    expect_err(&e, "title", "is required");
    expect_err(&e, "kind", "is required");
    e = check("{\"title\":null,\"kind\":\"fixed\"}");
    cr_assert_eq(e.n, 1);
    expect_err(&e, "title", "is required");
}

Test(jsonv, wrong_types)
{
    jv_errors e = check("{\"title\":5,\"kind\":[],\"hours\":\"5\",\"public\":\"true\","
                        "\"budget\":[],\"tags\":\"a\",\"note\":{}}");
    cr_assert_eq(e.n, 7);
    expect_err(&e, "title", "must be a string");
    expect_err(&e, "kind", "must be a string");
    expect_err(&e, "hours", "must be an integer");
    expect_err(&e, "public", "must be a boolean");
    expect_err(&e, "budget", "must be an object");
    expect_err(&e, "tags", "must be an array of strings");
    expect_err(&e, "note", "must be a string");

    e = check("{" VALID ",\"hours\":1.5}");
    expect_err(&e, "hours", "must be an integer");
    e = check("{" VALID ",\"hours\":true}");
    expect_err(&e, "hours", "must be an integer");
    e = check("{" VALID ",\"public\":0}");
    expect_err(&e, "public", "must be a boolean");
}

Test(jsonv, string_length_bounds)
{
    jv_errors e = check("{\"title\":\"ab\",\"kind\":\"fixed\"}");
    cr_assert_eq(e.n, 1);
    expect_err(&e, "title", "at least 3 characters");
    e = check("{\"title\":\"abcdefghijk\",\"kind\":\"fixed\"}");
    expect_err(&e, "title", "at most 10 characters");
    e = check("{\"title\":\"abc\",\"kind\":\"fixed\"}");
    cr_assert_eq(e.n, 0);
    e = check("{\"title\":\"abcdefghij\",\"kind\":\"fixed\"}");
    cr_assert_eq(e.n, 0);
    e = check("{" VALID ",\"note\":\"\"}");
    expect_err(&e, "note", "must not be empty");
}

Test(jsonv, string_length_counts_characters_not_bytes)
{
    /* 10 x "é" = 20 bytes, 10 characters: allowed by max 10 */
    jv_errors e = check("{\"title\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                        "\xc3\xa9\xc3\xa9\xc3\xa9\",\"kind\":\"fixed\"}");
    cr_assert_eq(e.n, 0, "%s", e.n ? e.e[0].message : "");
    /* 2 x "€" = 6 bytes, 2 characters: below min 3 */
    e = check("{\"title\":\"\xe2\x82\xac\xe2\x82\xac\",\"kind\":\"fixed\"}");
    expect_err(&e, "title", "at least 3");
    /* escaped: 11 x \u00e9 is 11 characters */
    e = check("{\"title\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
              "\\u00e9\",\"kind\":\"fixed\"}");
    expect_err(&e, "title", "at most 10");
    /* one emoji (4 bytes) plus 2 letters = 3 characters */
    e = check("{\"title\":\"\xf0\x9f\x98\x80xy\",\"kind\":\"fixed\"}");
    cr_assert_eq(e.n, 0);
    cr_assert_eq(jv_utf8_len("\xf0\x9f\x98\x80xy", 6), 3);
    cr_assert_eq(jv_utf8_len("", 0), 0);
    cr_assert_eq(jv_utf8_len("abc", 3), 3);
}

Test(jsonv, control_characters_refused)
{
    jv_errors e = check("{\"title\":\"ab\\u0001cd\",\"kind\":\"fixed\"}");
    expect_err(&e, "title", "control characters");
    e = check("{\"title\":\"ab\\u001fcd\",\"kind\":\"fixed\"}");
    expect_err(&e, "title", "control characters");
    e = check("{\"title\":\"ab\\ncd\\t\",\"kind\":\"fixed\"}");
    cr_assert_eq(e.n, 0, "newline and tab are text");
}

Test(jsonv, one_of)
{
    jv_errors e = check("{\"title\":\"abc\",\"kind\":\"weekly\"}");
    cr_assert_eq(e.n, 1);
    expect_err(&e, "kind", "must be one of: fixed, hourly");
    e = check("{\"title\":\"abc\",\"kind\":\"Fixed\"}");
    expect_err(&e, "kind", "one of");
    e = check("{\"title\":\"abc\",\"kind\":\"fixe\"}");
    expect_err(&e, "kind", "one of");
    e = check("{\"title\":\"abc\",\"kind\":\"fixedd\"}");
    expect_err(&e, "kind", "one of");
    e = check("{\"title\":\"abc\",\"kind\":\"hourly\"}");
    cr_assert_eq(e.n, 0);
}

Test(jsonv, integer_range)
{
    jv_errors e = check("{" VALID ",\"hours\":0}");
    cr_assert_eq(e.n, 1);
    expect_err(&e, "hours", "between 1 and 100");
    e = check("{" VALID ",\"hours\":101}");
    expect_err(&e, "hours", "between 1 and 100");
    e = check("{" VALID ",\"hours\":-5}");
    expect_err(&e, "hours", "between 1 and 100");
    e = check("{" VALID ",\"hours\":9223372036854775807}");
    expect_err(&e, "hours", "between 1 and 100");
    e = check("{" VALID ",\"hours\":1}");
    cr_assert_eq(e.n, 0);
    e = check("{" VALID ",\"hours\":100}");
    cr_assert_eq(e.n, 0);
}

Test(jsonv, nested_object_paths)
{
    jv_errors e = check("{" VALID ",\"budget\":{\"amount\":0,\"extra\":1}}");
    cr_assert_eq(e.n, 3);
    expect_err(&e, "budget.amount", "between 1 and 1000000");
    expect_err(&e, "budget.extra", "unknown field");
    expect_err(&e, "budget.currency", "is required");
    e = check("{" VALID ",\"budget\":{\"amount\":\"5\",\"currency\":\"GBP\"}}");
    expect_err(&e, "budget.amount", "must be an integer");
    expect_err(&e, "budget.currency", "one of: USD, EUR");
}

Test(jsonv, prefix_is_applied)
{
    jv_errors e;
    memset(&e, 0, sizeof e);
    json_t *v = decode_ok("{\"amount\":-1,\"currency\":\"USD\"}");
    cr_assert_eq(jv_validate(v, budget_fields, "items[2].", &e), 1);
    cr_assert_str_eq(e.e[0].field, "items[2].amount");
    json_decref(v);
}

Test(jsonv, arrays_of_strings)
{
    jv_errors e = check("{" VALID ",\"tags\":[\"a\",1,\"c\"]}");
    cr_assert_eq(e.n, 1);
    expect_err(&e, "tags[1]", "must be a string");
    e = check("{" VALID ",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}");
    expect_err(&e, "tags", "between 0 and 3 items");
    e = check("{" VALID ",\"tags\":[]}");
    cr_assert_eq(e.n, 0);
}

Test(jsonv, all_errors_reported_at_once)
{
    jv_errors e = check("{\"title\":\"a\",\"kind\":\"x\",\"hours\":0,\"bogus\":true}");
    cr_assert_eq(e.n, 4);
    cr_assert_str_eq(e.e[0].field, "bogus", "unknown fields come first");
}

Test(jsonv, errors_are_capped)
{
    char body[4096];
    size_t o = (size_t)snprintf(body, sizeof body, "{" VALID);
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(body + o, sizeof body - o, ",\"u%d\":%d", i, i);
    snprintf(body + o, sizeof body - o, "}");
    jv_errors e = check(body);
    cr_assert_eq(e.n, JV_MAX_ERRORS);
    /* and a full list stays full: nothing is overwritten */
    jv_add_error(&e, "late", "ignored");
    cr_assert_eq(e.n, JV_MAX_ERRORS);
    cr_assert_null(err_for(&e, "late"));
}

Test(jsonv, long_names_are_truncated_safely)
{
    char body[1024];
    char key[400];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    snprintf(body, sizeof body, "{" VALID ",\"%s\":1}", key);
    jv_errors e = check(body);
    cr_assert_eq(e.n, 1);
    cr_assert_eq(strlen(e.e[0].field), sizeof e.e[0].field - 1);
    cr_assert_str_eq(e.e[0].message, "unknown field");
}
