/* inspect: one read-only query given as text, run on the store's database
 * for support and tests (`opx inspect`), whichever driver serves it. */
#ifndef OPX_INSPECT_H
#define OPX_INSPECT_H
#include "store.h"
#include <jansson.h>
#include <stdint.h>

/* rows past this fail the query: narrow it (LIMIT) */
#define STORE_INSPECT_MAX_ROWS 100000

typedef struct {
    /* {"columns": ["name", ...], "rows": [[value, ...], ...]} on success:
     * an integer is a JSON integer, a double a real, text a string, SQL
     * NULL null. NULL on failure. The caller json_decref()s it. */
    json_t *json;
    /* why it failed (the database's message, or the store's) */
    char error[512];
    /* set when the statement was refused for not being a read-only query */
    int refused;
} store_inspect_result;

/* Runs sql, one read-only statement that returns rows, in one read job (one
 * snapshot; safe beside a running server) with params[0..nparams) bound to
 * its parameters in order, each AS TEXT: compare them with text columns, or
 * let the database convert them (SQLite's affinity makes `WHERE seq = ?`
 * with "5" compare as an integer). sql, params and out must stay valid until
 * cb runs. cb gets STORE_OK, or a negative STORE_* code with out->error
 * saying why: STORE_IO for text that does not prepare, a statement that
 * would write, a parameter count that does not match, or a driver without
 * text statements; STORE_TIMEOUT past deadline_ns. */
int store_inspect(store *s, const char *sql, const char *const *params, int nparams,
                  store_inspect_result *out, uint64_t deadline_ns, store_done_cb cb, void *ctx);

/* 0 when url names a PostgreSQL database or an existing readable file;
 * -1 with why in err otherwise (so inspecting never creates a file) */
int store_inspect_can_open(const char *url, char *err, size_t errlen);
#endif
