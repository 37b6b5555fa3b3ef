/* jsonv: strict decoding and validation of JSON request bodies.
 * A body is decoded with jansson (duplicate keys refused, UTF-8 checked),
 * must be an object, and is then checked against a field table: every
 * unknown field, missing field, wrong type and out-of-range value is
 * reported with its dotted path, so one 422 names every problem at once. */
#ifndef OPX_JSONV_H
#define OPX_JSONV_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { JV_STRING, JV_INT, JV_BOOL, JV_OBJECT, JV_ARRAY_OF_STRING, JV_ARRAY_OF_OBJECT } jv_type;

typedef struct jv_field {
    const char *name;
    jv_type type;
    int required;
    int64_t min, max; /* string: length in characters; int: value; array: items */
    const char *const *one_of;     /* NULL-terminated allowed strings, or NULL */
    const struct jv_field *fields; /* JV_OBJECT, JV_ARRAY_OF_OBJECT: nested table, NULL-name terminated */
} jv_field;

#define JV_MAX_ERRORS 16
typedef struct {
    char field[96];
    char message[128];
} jv_error;

typedef struct {
    jv_error e[JV_MAX_ERRORS];
    int n;
} jv_errors;

/* Decodes body into a JSON object. On failure returns NULL and writes a
 * message naming line and column into err. */
json_t *jv_decode(const char *body, size_t len, char *err, size_t errlen);
/* Checks obj against spec (terminated by a {NULL} entry). Returns the
 * number of errors appended to out (0 = valid). */
int jv_validate(json_t *obj, const jv_field *spec, const char *prefix, jv_errors *out);
void jv_add_error(jv_errors *out, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 when errs already holds an error for exactly this field path */
int jv_has_error(const jv_errors *errs, const char *field);
/* Length of a valid UTF-8 string in code points. */
size_t jv_utf8_len(const char *s, size_t n);
#endif
