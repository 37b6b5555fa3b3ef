/* response: JSON answers, RFC 9457 problem details, and decoding of JSON
 * request bodies into validated objects. Everything here ends in
 * http_respond(), which owns the wire format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http.h"

const char *http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    }
    return "Unknown";
}

static const char JSON_TYPE[] = "application/json; charset=utf-8";

void http_respond_json(http_req *req, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(body);
    if (!s) {
        static const char oom[] = "{\"type\":\"urn:opx:problem:internal\",\"title\":\"Internal "
                                  "Server Error\",\"status\":500}";
        http_respond(req, 500, "application/problem+json", oom, sizeof oom - 1);
        return;
    }
    if (status != 304) http_add_header(req, "Cache-Control: no-store");
    http_respond(req, status, JSON_TYPE, s, strlen(s));
    free(s);
}

void http_problem(http_req *req, int status, const char *slug, const char *title,
                  const char *detail, const jv_errors *errors)
{
    json_t *p = json_object();
    char type[96];
    snprintf(type, sizeof type, "urn:opx:problem:%s", slug);
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string(title));
    json_object_set_new(p, "status", json_integer(status));
    if (detail) json_object_set_new(p, "detail", json_string(detail));
    if (req->path) json_object_set_new(p, "instance", json_stringn(req->path, req->path_len));
    json_object_set_new(p, "request_id", json_string(req->request_id));
    if (errors && errors->n) {
        json_t *arr = json_array();
        for (int i = 0; i < errors->n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s}", "field", errors->e[i].field,
                                                 "message", errors->e[i].message));
        json_object_set_new(p, "errors", arr);
    }
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    http_add_header(req, "Cache-Control: no-store");
    http_respond(req, status, "application/problem+json", s ? s : "{}", s ? strlen(s) : 2);
    free(s);
}

json_t *http_json_body(http_req *req, const jv_field *spec)
{
    size_t n = 0;
    const char *ct = http_header_get(req, "content-type", &n);
    /* application/json, optionally with parameters such as charset=utf-8 */
    if (!ct || n < 16 || strncasecmp(ct, "application/json", 16) != 0 ||
        (n > 16 && ct[16] != ';' && ct[16] != ' ')) {
        http_problem(req, 415, "unsupported-media-type", "Unsupported Media Type",
                     "send the body as Content-Type: application/json", NULL);
        return NULL;
    }
    char err[256];
    json_t *obj = jv_decode(req->body.data ? req->body.data : "", req->body.len, err, sizeof err);
    if (!obj) {
        http_problem(req, 400, "malformed-json", "Bad Request", err, NULL);
        return NULL;
    }
    jv_errors errs = {.n = 0};
    if (spec && jv_validate(obj, spec, "", &errs) > 0) {
        json_decref(obj);
        http_problem(req, 422, "validation", "Unprocessable Content",
                     "some fields are invalid; see errors", &errs);
        return NULL;
    }
    return obj;
}
