/* frameworks: the public figures of the vetted pool, for anyone (the
 * landing page and the /hire/{framework} pages). GET /api/v1/frameworks:
 * each framework of the skills catalog with how many engineers are vetted
 * on it; GET /api/v1/frameworks/{id}: its levels, hourly rates and a few
 * anonymised profiles (no names, no ids: vetted levels, years, zone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../app.h"
#include "../rules/skills.h"
#include "api.h"

static int is_framework(int i)
{
    return i >= 0 && strcmp(skills_catalog[i].group, "frameworks") == 0;
}

/* the catalog's name beside each {"id"} of arr */
static void name_each(json_t *arr)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        int k = skills_find(json_string_value(json_object_get(o, "id")));
        json_object_set_new(o, "name", json_string(k >= 0 ? skills_catalog[k].name : ""));
    }
}

static void on_json(void *ctx, int rc)
{
    api_call *c = ctx;
    char **text = c->out;
    http_req *req = c->req;
    if (!http_req_cancelled(req)) {
        json_t *j = rc == STORE_OK && *text ? json_loads(*text, 0, NULL) : NULL;
        if (rc < 0) {
            api_store_error(req, rc);
        } else if (!j) {
            http_problem(req, 500, "internal", "Internal Server Error", "the figures could not be read", NULL);
        } else if (json_is_array(j)) { /* the list */
            name_each(j);
            http_respond_json(req, 200, json_pack("{s:o}", "items", j));
            j = NULL;
        } else {
            int k = skills_find(json_string_value(json_object_get(j, "id")));
            json_object_set_new(j, "name", json_string(k >= 0 ? skills_catalog[k].name : ""));
            size_t i;
            json_t *p;
            json_array_foreach(json_object_get(j, "profiles"), i, p) name_each(json_object_get(p, "skills"));
            http_respond_json(req, 200, j);
            j = NULL;
        }
        json_decref(j);
    }
    free(*text);
    api_call_end(c);
}

/* the catalog's framework ids as a JSON array, made once (the catalog is
 * constant); the store reads it on a worker thread while the call runs */
static const char *framework_ids(void)
{
    static char text[512];
    if (text[0]) return text;
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "[");
    for (int i = 0; i < skills_count && n < sizeof text; i++)
        if (is_framework(i))
            n += (size_t)snprintf(text + n, sizeof text - n, "%s\"%s\"", n > 1 ? "," : "", skills_catalog[i].id);
    if (n < sizeof text) snprintf(text + n, sizeof text - n, "]");
    return text;
}

void api_frameworks(http_req *req)
{
    api_call *c = api_call_new(req, sizeof(char *));
    if (!c) return;
    int rc = STORE_CALL(APP->store, framework_counts, framework_ids(), c->out, req->deadline_ns, on_json, c);
    api_call_track(c, rc);
}

void api_framework_get(http_req *req)
{
    const char *id = http_param_get(req, "id");
    if (!is_framework(skills_find(id))) {
        http_problem(req, 404, "not-found", "Not Found",
                     "no such framework; GET /api/v1/frameworks lists them", NULL);
        return;
    }
    api_call *c = api_call_new(req, sizeof(char *));
    if (!c) return;
    int rc = STORE_CALL(APP->store, framework_pool, id, c->out, req->deadline_ns, on_json, c);
    api_call_track(c, rc);
}
