/* fuzz_json_body: libFuzzer target for request-body decoding and
 * validation (src/core/jsonv.c) and JSON string output (buf_json_str).
 * The input is a request body: jv_decode, then jv_validate against a
 * nested spec with every field type, one_of and ranges. A body that
 * validates must still validate after a dump and reload, and every string
 * in it must survive buf_json_str and come back identical. */
#include "core/buf.h"
#include "core/jsonv.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const countries[] = {"DE", "FR", "US", "GB", NULL};
static const char *const currencies[] = {"USD", "EUR", NULL};
static const char *const kinds[] = {"fixed", "hourly", "retainer", NULL};

static const jv_field address_fields[] = {
    {"street", JV_STRING, 1, 1, 64, NULL, NULL},
    {"zip", JV_STRING, 0, 4, 10, NULL, NULL},
    {"country", JV_STRING, 1, 0, 0, countries, NULL},
    {NULL},
};

static const jv_field budget_fields[] = {
    {"amount", JV_INT, 1, 1, 100000000, NULL, NULL},
    {"currency", JV_STRING, 1, 0, 0, currencies, NULL},
    {"billing", JV_OBJECT, 0, 0, 0, NULL, address_fields},
    {NULL},
};

static const jv_field spec[] = {
    {"title", JV_STRING, 1, 3, 120, NULL, NULL},
    {"description", JV_STRING, 0, 0, 4000, NULL, NULL},
    {"kind", JV_STRING, 1, 0, 0, kinds, NULL},
    {"hours", JV_INT, 0, 0, 10000, NULL, NULL},
    {"negative", JV_INT, 0, INT64_MIN, -1, NULL, NULL},
    {"public", JV_BOOL, 0, 0, 0, NULL, NULL},
    {"budget", JV_OBJECT, 1, 0, 0, NULL, budget_fields},
    {"meta", JV_OBJECT, 0, 0, 0, NULL, NULL}, /* any object */
    {"tags", JV_ARRAY_OF_STRING, 0, 0, 8, NULL, NULL},
    {"skills", JV_ARRAY_OF_STRING, 0, 1, 0, NULL, NULL},
    {NULL},
};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_json_body: invariant broken: %s\n", what);
    abort();
}

static void check_errors(const jv_errors *e, int before, int returned)
{
    if (e->n < 0 || e->n > JV_MAX_ERRORS) die("error count out of range");
    if (returned != e->n - before) die("jv_validate's return value");
    for (int i = 0; i < e->n; i++) {
        if (!memchr(e->e[i].field, '\0', sizeof e->e[i].field)) die("field not terminated");
        if (!memchr(e->e[i].message, '\0', sizeof e->e[i].message)) die("message not terminated");
        if (!e->e[i].message[0]) die("empty message");
    }
}

/* every string in v goes through buf_json_str and back unchanged */
static void strings_round_trip(json_t *v, int depth)
{
    if (depth > 64) return;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        buf b;
        buf_init(&b, 8 * n + 16);
        if (buf_json_str(&b, s, n) < 0) die("buf_json_str failed within its max");
        json_error_t je;
        json_t *back = json_loadb(b.data, b.len, JSON_DECODE_ANY, &je);
        if (!back) {
            fprintf(stderr, "reload failed: %s\n", je.text);
            die("buf_json_str produced invalid JSON");
        }
        if (!json_is_string(back) || json_string_length(back) != n ||
            memcmp(json_string_value(back), s, n) != 0)
            die("buf_json_str changed the string");
        if (jv_utf8_len(s, n) > n) die("more characters than bytes");
        json_decref(back);
        buf_free(&b);
        return;
    }
    const char *key;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, item)
        {
            buf b;
            buf_init(&b, 8 * strlen(key) + 16);
            if (buf_json_str(&b, key, strlen(key)) < 0) die("buf_json_str failed on a key");
            buf_free(&b);
            strings_round_trip(item, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) strings_round_trip(item, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160];
    memset(err, 0x55, sizeof err);
    (void)jv_utf8_len((const char *)data, size);
    json_t *v = jv_decode((const char *)data, size, err, sizeof err);
    if (!v) {
        if (!memchr(err, '\0', sizeof err) || !err[0]) die("decode error message");
        return 0;
    }
    if (!json_is_object(v)) die("jv_decode returned a non-object");

    jv_errors e;
    memset(&e, 0, sizeof e);
    int n = jv_validate(v, spec, "", &e);
    check_errors(&e, 0, n);

    /* again with a prefix, appending to a list that is partly full */
    jv_errors e2;
    memset(&e2, 0, sizeof e2);
    jv_add_error(&e2, "x", "pre-existing %d", 1);
    int n2 = jv_validate(v, spec, "items[12345].", &e2);
    check_errors(&e2, 1, n2);
    for (int i = 1; i < e2.n; i++)
        if (strncmp(e2.e[i].field, "items[12345].", 13) != 0) die("prefix not applied");

    /* the nested tables on their own, against the same object */
    jv_errors e3;
    memset(&e3, 0, sizeof e3);
    check_errors(&e3, 0, jv_validate(v, budget_fields, "budget.", &e3));

    strings_round_trip(v, 0);

    if (n == 0) {
        /* valid stays valid through a dump and reload */
        char *dump = json_dumps(v, JSON_COMPACT);
        if (!dump) die("json_dumps failed");
        json_t *again = jv_decode(dump, strlen(dump), err, sizeof err);
        if (!again) die("a valid body did not reload");
        jv_errors e4;
        memset(&e4, 0, sizeof e4);
        if (jv_validate(again, spec, "", &e4) != 0) die("a valid body became invalid");
        json_decref(again);
        free(dump);
    }
    json_decref(v);
    return 0;
}
