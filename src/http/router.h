/* router: a static table of routes with path parameters ("{id}").
 * Matching walks the table once; a path that matches some pattern under
 * another method yields 405 with the Allow list. HEAD is served by GET
 * routes. Roles are declared per route here and enforced in one place
 * (api/dispatch.c), never inside handlers. */
#ifndef OPX_ROUTER_H
#define OPX_ROUTER_H
#include <stddef.h>
#include "http.h"

enum {
    ROLE_CLIENT = 1u << 0,
    ROLE_ENGINEER = 1u << 1,
    ROLE_VETTER = 1u << 2,
    ROLE_ADMIN = 1u << 3,
};
#define ROLES_SIGNED_IN (ROLE_CLIENT | ROLE_ENGINEER | ROLE_VETTER | ROLE_ADMIN)

enum { ROUTE_TEST_ONLY = 1u << 0 };

typedef void (*route_handler)(http_req *req);

typedef struct route {
    unsigned method; /* HTTP_GET, HTTP_POST, ... */
    const char *pattern;
    route_handler handler;
    unsigned roles; /* 0: anyone; else signed in with one of these roles */
    size_t max_body;
    unsigned flags;
} route;

#define ROUTER_NOT_FOUND (-1)
#define ROUTER_BAD_METHOD (-2)

/* Returns the route index and fills req->params, or ROUTER_NOT_FOUND, or
 * ROUTER_BAD_METHOD with allow (e.g. "GET, HEAD, POST") filled in. */
int router_match(const route *table, int n, http_req *req, char *allow, size_t allow_len);
unsigned router_role_bit(const char *role);
#endif
