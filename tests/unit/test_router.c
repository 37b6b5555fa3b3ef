/* test_router: route table matching (src/http/router.c): exact paths,
 * path parameters, 404 against 405 with the Allow list (GET brings HEAD),
 * HEAD served by GET routes, no trailing-slash or empty-segment matches,
 * and role names to role bits. */
#include "http/parser.h"
#include "http/router.h"
#include <criterion/criterion.h>
#include <string.h>

static void h(http_req *req)
{
    (void)req;
}

static const route table[] = {
    {HTTP_GET, "/", h, 0, 0, 0},
    {HTTP_GET, "/api/v1/projects", h, 0, 0, 0},
    {HTTP_POST, "/api/v1/projects", h, ROLE_CLIENT, 4096, 0},
    {HTTP_GET, "/api/v1/projects/{id}", h, 0, 0, 0},
    {HTTP_PATCH, "/api/v1/projects/{id}", h, 0, 0, 0},
    {HTTP_DELETE, "/api/v1/projects/{id}", h, 0, 0, 0},
    {HTTP_POST, "/api/v1/projects/{id}/milestones/{mid}/submit", h, 0, 0, 0},
    {HTTP_PUT, "/api/v1/me", h, 0, 0, 0},
    {HTTP_GET, "/a/{p1}/{p2}/{p3}/{p4}/{p5}", h, 0, 0, 0},
};
#define NT ((int)(sizeof table / sizeof table[0]))

static http_req *mk(unsigned method, const char *path)
{
    http_req *req = http_req_new(0);
    cr_assert_not_null(req);
    req->method = method;
    req->path = arena_strndup(&req->arena, path, strlen(path));
    req->path_len = strlen(path);
    return req;
}

static int match(unsigned method, const char *path, char *allow, size_t allow_len, http_req **out)
{
    http_req *req = mk(method, path);
    int r = router_match(table, NT, req, allow, allow_len);
    if (out)
        *out = req;
    else
        http_req_unref(req);
    return r;
}

Test(router, exact_paths)
{
    char allow[128];
    cr_assert_eq(match(HTTP_GET, "/", allow, sizeof allow, NULL), 0);
    cr_assert_eq(match(HTTP_GET, "/api/v1/projects", allow, sizeof allow, NULL), 1);
    cr_assert_eq(match(HTTP_POST, "/api/v1/projects", allow, sizeof allow, NULL), 2);
    cr_assert_eq(match(HTTP_PUT, "/api/v1/me", allow, sizeof allow, NULL), 7);
}

Test(router, path_params_captured)
{
    http_req *req = NULL;
    cr_assert_eq(match(HTTP_GET, "/api/v1/projects/prj_123", NULL, 0, &req), 3);
    cr_assert_eq(req->nparams, 1);
    cr_assert_str_eq(http_param_get(req, "id"), "prj_123");
    cr_assert_null(http_param_get(req, "mid"));
    req->path[17] = 'X'; /* params are copies, not views into the path */
    cr_assert_str_eq(http_param_get(req, "id"), "prj_123");
    http_req_unref(req);

    cr_assert_eq(match(HTTP_PATCH, "/api/v1/projects/p9", NULL, 0, &req), 4);
    cr_assert_str_eq(http_param_get(req, "id"), "p9");
    http_req_unref(req);

    cr_assert_eq(match(HTTP_POST, "/api/v1/projects/p1/milestones/m2/submit", NULL, 0, &req), 6);
    cr_assert_eq(req->nparams, 2);
    cr_assert_str_eq(http_param_get(req, "id"), "p1");
    cr_assert_str_eq(http_param_get(req, "mid"), "m2");
    http_req_unref(req);
}

Test(router, params_capped_at_max)
{
    http_req *req = NULL;
    cr_assert_eq(match(HTTP_GET, "/a/1/2/3/4/5", NULL, 0, &req), 8);
    cr_assert_eq(req->nparams, HTTP_MAX_PARAMS);
    cr_assert_str_eq(http_param_get(req, "p1"), "1");
    cr_assert_str_eq(http_param_get(req, "p4"), "4");
    cr_assert_null(http_param_get(req, "p5"));
    http_req_unref(req);
}

Test(router, not_found)
{
    char allow[128];
    const char *paths[] = {
        "/nothing",
        "/api/v1",
        "/api/v1/project",
        "/api/v1/projectsX",
        "/api/v1/projects/a/b",
        "/api/v1/projects/p1/milestones/m2",
        "/API/V1/PROJECTS",
        "",
        "api/v1/projects",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_req *req = NULL;
        cr_assert_eq(match(HTTP_GET, paths[i], allow, sizeof allow, &req), ROUTER_NOT_FOUND, "%s",
                     paths[i]);
        cr_assert_eq(req->nparams, 0);
        http_req_unref(req);
    }
}

Test(router, trailing_slash_and_empty_segments_do_not_match)
{
    char allow[128];
    cr_assert_eq(match(HTTP_GET, "/api/v1/projects/", allow, sizeof allow, NULL), ROUTER_NOT_FOUND,
                 "an empty {id} is no id");
    cr_assert_eq(match(HTTP_GET, "/api/v1/projects/p1/", allow, sizeof allow, NULL),
                 ROUTER_NOT_FOUND);
    cr_assert_eq(match(HTTP_PUT, "/api/v1/me/", allow, sizeof allow, NULL), ROUTER_NOT_FOUND);
    cr_assert_eq(match(HTTP_GET, "//api/v1/projects", allow, sizeof allow, NULL), ROUTER_NOT_FOUND);
    cr_assert_eq(match(HTTP_GET, "/api//v1/projects", allow, sizeof allow, NULL), ROUTER_NOT_FOUND);
    cr_assert_eq(match(HTTP_GET, "//", allow, sizeof allow, NULL), ROUTER_NOT_FOUND);
}

Test(router, wrong_method_is_405_with_allow)
{
    char allow[128];
    memset(allow, 'Z', sizeof allow);
    cr_assert_eq(match(HTTP_PUT, "/api/v1/projects/p1", allow, sizeof allow, NULL),
                 ROUTER_BAD_METHOD);
    cr_assert_str_eq(allow, "GET, HEAD, PATCH, DELETE");

    cr_assert_eq(match(HTTP_DELETE, "/api/v1/projects", allow, sizeof allow, NULL),
                 ROUTER_BAD_METHOD);
    cr_assert_str_eq(allow, "GET, HEAD, POST");

    cr_assert_eq(match(HTTP_POST, "/", allow, sizeof allow, NULL), ROUTER_BAD_METHOD);
    cr_assert_str_eq(allow, "GET, HEAD");

    cr_assert_eq(match(HTTP_GET, "/api/v1/me", allow, sizeof allow, NULL), ROUTER_BAD_METHOD);
    cr_assert_str_eq(allow, "PUT", "no GET route, so no HEAD either");

    cr_assert_eq(
        match(HTTP_GET, "/api/v1/projects/p/milestones/m/submit", allow, sizeof allow, NULL),
        ROUTER_BAD_METHOD);
    cr_assert_str_eq(allow, "POST");
}

Test(router, head_is_served_by_get)
{
    char allow[128];
    http_req *req = NULL;
    cr_assert_eq(match(HTTP_HEAD, "/api/v1/projects", allow, sizeof allow, NULL), 1);
    cr_assert_eq(match(HTTP_HEAD, "/api/v1/projects/p7", allow, sizeof allow, &req), 3);
    cr_assert_str_eq(http_param_get(req, "id"), "p7");
    cr_assert_eq(req->method, HTTP_HEAD, "the request keeps its own method");
    http_req_unref(req);
    cr_assert_eq(match(HTTP_HEAD, "/api/v1/me", allow, sizeof allow, NULL), ROUTER_BAD_METHOD);
    cr_assert_str_eq(allow, "PUT");
}

Test(router, allow_buffer_is_bounded)
{
    char allow[12];
    struct {
        char a[8];
        char guard[8];
    } small;
    memset(small.guard, 'G', sizeof small.guard);
    cr_assert_eq(match(HTTP_PUT, "/api/v1/projects/p1", small.a, sizeof small.a, NULL),
                 ROUTER_BAD_METHOD);
    cr_assert_eq(strlen(small.a), sizeof small.a - 1, "truncated and terminated");
    cr_assert_eq(strncmp(small.a, "GET, H", 6), 0);
    for (size_t i = 0; i < sizeof small.guard; i++)
        cr_assert_eq(small.guard[i], 'G');

    cr_assert_eq(match(HTTP_PUT, "/api/v1/projects/p1", allow, sizeof allow, NULL),
                 ROUTER_BAD_METHOD);
    cr_assert_eq(strlen(allow), sizeof allow - 1);
    cr_assert_eq(match(HTTP_PUT, "/api/v1/projects/p1", NULL, 0, NULL), ROUTER_BAD_METHOD,
                 "no Allow buffer is fine");
}

Test(router, empty_table)
{
    http_req *req = mk(HTTP_GET, "/");
    char allow[16];
    cr_assert_eq(router_match(table, 0, req, allow, sizeof allow), ROUTER_NOT_FOUND);
    http_req_unref(req);
}

Test(router, route_fields_reach_caller)
{
    int i = match(HTTP_POST, "/api/v1/projects", NULL, 0, NULL);
    cr_assert_eq(i, 2);
    cr_assert_eq(table[i].roles, ROLE_CLIENT);
    cr_assert_eq(table[i].max_body, 4096);
}

Test(router, role_bits)
{
    cr_assert_eq(router_role_bit("client"), ROLE_CLIENT);
    cr_assert_eq(router_role_bit("engineer"), ROLE_ENGINEER);
    cr_assert_eq(router_role_bit("vetter"), ROLE_VETTER);
    cr_assert_eq(router_role_bit("admin"), ROLE_ADMIN);
    cr_assert_eq(router_role_bit("Admin"), 0);
    cr_assert_eq(router_role_bit("root"), 0);
    cr_assert_eq(router_role_bit(""), 0);
    cr_assert_eq(router_role_bit("admin "), 0);
    cr_assert_eq(ROLES_SIGNED_IN & router_role_bit("vetter"), ROLE_VETTER);
    /* distinct bits */
    unsigned all = ROLE_CLIENT | ROLE_ENGINEER | ROLE_VETTER | ROLE_ADMIN;
    cr_assert_eq(__builtin_popcount(all), 4);
}
