/* tx_inspect: store_inspect (inspect.h), a read job that prepares the
 * query text with the driver's text statements, binds the parameters as
 * text and turns every row into JSON, values keeping their types. */
#include "inspect.h"
#include "tx_internal.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *sql;
    const char *const *params;
    int nparams;
    store_inspect_result *out;
} inspect_args;

static json_t *value(db_stmt *st, int col)
{
    const db_driver *drv = st->c->drv;
    switch (drv->col_type(st, col)) {
    case DB_T_NULL:
        return json_null();
    case DB_T_INT:
        return json_integer((json_int_t)db_col_int(st, col));
    case DB_T_DOUBLE:
        return json_real(db_col_double(st, col)); /* NULL for infinities */
    default: {
        const char *t = db_col_text(st, col);
        return t ? json_string(t) : json_null(); /* NULL for text not UTF-8 */
    }
    }
}

/* the rows of st into a new array; NULL with out->error filled */
static json_t *read_rows(db_stmt *st, int ncols, store_inspect_result *out, int *rcp)
{
    const db_driver *drv = st->c->drv;
    json_t *rows = json_array();
    int rc = DB_DONE;
    size_t n = 0;
    while (rows && (rc = db_step(st)) == DB_ROW) {
        if (++n > STORE_INSPECT_MAX_ROWS) {
            snprintf(out->error, sizeof out->error, "more than %d rows; narrow the query (LIMIT)",
                     STORE_INSPECT_MAX_ROWS);
            *rcp = STORE_IO;
            json_decref(rows);
            return NULL;
        }
        json_t *row = json_array();
        for (int i = 0; row && i < ncols; i++) {
            json_t *v = value(st, i);
            if (!v) {
                snprintf(out->error, sizeof out->error, "row %zu, column %s: %s", n,
                         drv->col_name(st, i),
                         drv->col_type(st, i) == DB_T_DOUBLE ? "not a finite number"
                                                             : "not valid UTF-8 text");
                json_decref(row);
                json_decref(rows);
                *rcp = STORE_IO;
                return NULL;
            }
            json_array_append_new(row, v);
        }
        if (!row || json_array_append_new(rows, row) < 0) break;
    }
    if (!rows || rc == DB_ROW) { /* out of memory */
        snprintf(out->error, sizeof out->error, "out of memory");
        json_decref(rows);
        *rcp = STORE_BUSY;
        return NULL;
    }
    if (rc < 0) {
        if (rc == STORE_TIMEOUT)
            snprintf(out->error, sizeof out->error, "%s", store_strerror(rc));
        else
            snprintf(out->error, sizeof out->error, "%s",
                     drv->errmsg ? drv->errmsg(st) : store_strerror(rc));
        /* PostgreSQL refuses a write only when it runs */
        out->refused = strncmp(out->error, DB_NOT_READ_ONLY, strlen(DB_NOT_READ_ONLY)) == 0;
        json_decref(rows);
        *rcp = rc;
        return NULL;
    }
    return rows;
}

static int run_inspect(db_conn *c, db_job *j)
{
    const inspect_args *a = j->in;
    store_inspect_result *out = a->out;
    const db_driver *drv = c->drv;
    if (!drv->prep_text || !drv->finalize || !drv->col_count || !drv->col_name || !drv->col_type) {
        snprintf(out->error, sizeof out->error, "not supported by this driver (%s)", drv->name);
        return STORE_IO;
    }
    db_stmt *st = drv->prep_text(c, a->sql, out->error, sizeof out->error);
    if (!st) {
        out->refused = strncmp(out->error, DB_NOT_READ_ONLY, strlen(DB_NOT_READ_ONLY)) == 0;
        return STORE_IO;
    }
    int rc = STORE_OK;
    int want = drv->param_count ? drv->param_count(st) : a->nparams;
    if (want != a->nparams) {
        snprintf(out->error, sizeof out->error, "the query takes %d parameter%s, %d given", want,
                 want == 1 ? "" : "s", a->nparams);
        drv->finalize(st);
        return STORE_IO;
    }
    for (int i = 0; i < a->nparams; i++)
        db_bind_text(st, i + 1, a->params[i]);
    int ncols = drv->col_count(st);
    json_t *cols = json_array();
    for (int i = 0; cols && i < ncols; i++) {
        const char *name = drv->col_name(st, i);
        if (json_array_append_new(cols, json_string(name ? name : "")) < 0) {
            json_decref(cols);
            cols = NULL;
        }
    }
    json_t *rows = cols ? read_rows(st, ncols, out, &rc) : NULL;
    if (!cols) {
        snprintf(out->error, sizeof out->error, "out of memory");
        rc = STORE_BUSY;
    }
    drv->finalize(st); /* before the job ends: a statement on a row pins its snapshot */
    if (!rows) {
        json_decref(cols);
        return rc;
    }
    out->json = json_pack("{s:o,s:o}", "columns", cols, "rows", rows);
    if (!out->json) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return STORE_BUSY;
    }
    return STORE_OK;
}

int store_inspect(store *s, const char *sql, const char *const *params, int nparams,
                  store_inspect_result *out, uint64_t deadline_ns, store_done_cb cb, void *ctx)
{
    out->json = NULL;
    out->refused = 0;
    out->error[0] = '\0';
    if (!sql || nparams < 0 || (nparams > 0 && !params)) {
        snprintf(out->error, sizeof out->error, "no query given");
        return STORE_IO;
    }
    inspect_args a = {sql, params, nparams, out};
    int rc = store_submit_args(s, run_inspect, 0, deadline_ns, cb, ctx, &a, sizeof a, NULL);
    if (rc < 0) snprintf(out->error, sizeof out->error, "%s", store_strerror(rc));
    return rc;
}

int store_inspect_can_open(const char *url, char *err, size_t errlen)
{
    if (db_is_postgres(url) || access(url, R_OK) == 0) return 0;
    snprintf(err, errlen, "cannot open %s: %s", url, strerror(errno));
    return -1;
}
