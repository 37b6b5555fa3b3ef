/* jsonv: strict JSON body decoding and field validation (see jsonv.h). */
#include "jsonv.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

json_t *jv_decode(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    if (len == 0) {
        snprintf(err, errlen, "request body is empty; a JSON object is required");
        return NULL;
    }
    /* DECODE_ANY so that a valid scalar ("42") is named "not an object"
     * below instead of being called malformed */
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!v) {
        snprintf(err, errlen, "malformed JSON at line %d, column %d: %s", je.line, je.column,
                 je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        snprintf(err, errlen, "the body must be a JSON object");
        json_decref(v);
        return NULL;
    }
    return v;
}

void jv_add_error(jv_errors *out, const char *field, const char *fmt, ...)
{
    if (out->n >= JV_MAX_ERRORS) return;
    jv_error *e = &out->e[out->n++];
    snprintf(e->field, sizeof e->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

int jv_has_error(const jv_errors *errs, const char *field)
{
    for (int i = 0; i < errs->n; i++)
        if (strcmp(errs->e[i].field, field) == 0) return 1;
    return 0;
}

size_t jv_utf8_len(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

static const char *type_name(jv_type t)
{
    switch (t) {
    case JV_STRING: return "a string";
    case JV_INT: return "an integer";
    case JV_BOOL: return "a boolean";
    case JV_OBJECT: return "an object";
    case JV_ARRAY_OF_STRING: return "an array of strings";
    case JV_ARRAY_OF_OBJECT: return "an array of objects";
    }
    return "?";
}

static int type_ok(json_t *v, jv_type t)
{
    switch (t) {
    case JV_STRING: return json_is_string(v);
    case JV_INT: return json_is_integer(v);
    case JV_BOOL: return json_is_boolean(v);
    case JV_OBJECT: return json_is_object(v);
    case JV_ARRAY_OF_STRING:
    case JV_ARRAY_OF_OBJECT: return json_is_array(v);
    }
    return 0;
}

static int has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t' && s[i] != '\r') return 1;
    return 0;
}

static void check_string(json_t *v, const jv_field *f, const char *path, jv_errors *out)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    size_t chars = jv_utf8_len(s, n);
    if (f->one_of) {
        for (const char *const *o = f->one_of; *o; o++)
            if (strlen(*o) == n && memcmp(*o, s, n) == 0) return;
        char list[256] = "";
        for (const char *const *o = f->one_of; *o; o++) {
            if (list[0]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, *o, sizeof list - strlen(list) - 1);
        }
        jv_add_error(out, path, "must be one of: %s", list);
        return;
    }
    if (f->min && chars < (size_t)f->min)
        jv_add_error(out, path, f->min == 1 ? "must not be empty" : "must be at least %lld characters",
                     (long long)f->min);
    else if (f->max && chars > (size_t)f->max)
        jv_add_error(out, path, "must be at most %lld characters", (long long)f->max);
    else if (has_control(s, n))
        jv_add_error(out, path, "must not contain control characters");
}

int jv_validate(json_t *obj, const jv_field *spec, const char *prefix, jv_errors *out)
{
    int before = out->n;
    char path[96];
    /* unknown fields first: they are usually typos of a known one */
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        const jv_field *f = spec;
        while (f->name && strcmp(f->name, key) != 0) f++;
        if (!f->name) {
            snprintf(path, sizeof path, "%s%s", prefix, key);
            jv_add_error(out, path, "unknown field");
        }
    }
    for (const jv_field *f = spec; f->name; f++) {
        snprintf(path, sizeof path, "%s%s", prefix, f->name);
        json_t *v = json_object_get(obj, f->name);
        if (!v || json_is_null(v)) {
            if (f->required) jv_add_error(out, path, "is required");
            continue;
        }
        if (!type_ok(v, f->type)) {
            jv_add_error(out, path, "must be %s", type_name(f->type));
            continue;
        }
        switch (f->type) {
        case JV_STRING: check_string(v, f, path, out); break;
        case JV_INT: {
            json_int_t x = json_integer_value(v);
            if (x < f->min || x > f->max)
                jv_add_error(out, path, "must be between %lld and %lld", (long long)f->min,
                             (long long)f->max);
            break;
        }
        case JV_OBJECT:
            if (f->fields) {
                char sub[96];
                snprintf(sub, sizeof sub, "%s.", path);
                jv_validate(v, f->fields, sub, out);
            }
            break;
        case JV_ARRAY_OF_OBJECT: {
            size_t n = json_array_size(v);
            if ((f->min && n < (size_t)f->min) || (f->max && n > (size_t)f->max)) {
                jv_add_error(out, path, "must have between %lld and %lld items", (long long)f->min,
                             (long long)f->max);
                break;
            }
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) {
                char ip[96];
                snprintf(ip, sizeof ip, "%s[%zu]", path, i);
                if (!json_is_object(item)) {
                    jv_add_error(out, ip, "must be an object");
                } else if (f->fields) {
                    char sub[100];
                    snprintf(sub, sizeof sub, "%s.", ip);
                    jv_validate(item, f->fields, sub, out);
                }
            }
            break;
        }
        case JV_ARRAY_OF_STRING: {
            size_t n = json_array_size(v);
            if ((f->min && n < (size_t)f->min) || (f->max && n > (size_t)f->max)) {
                jv_add_error(out, path, "must have between %lld and %lld items", (long long)f->min,
                             (long long)f->max);
                break;
            }
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) {
                char ip[96];
                snprintf(ip, sizeof ip, "%s[%zu]", path, i);
                if (!json_is_string(item)) jv_add_error(out, ip, "must be a string");
            }
            break;
        }
        case JV_BOOL: break;
        }
    }
    return out->n - before;
}
