/* api: the route table and the handlers behind it. Handlers are thin:
 * decode and validate the body, call the domain or the store, encode. Who
 * may call a route is declared in the table (routes.c) and checked before
 * any handler runs (dispatch.c). */
#ifndef OPX_API_H
#define OPX_API_H
#include "../http/router.h"

extern const route api_routes[];
extern const int api_nroutes;

/* the server's dispatch(): test-only gate, authentication, roles, CSRF */
void api_dispatch(http_req *req);
/* static files for unmatched GET/HEAD */
void api_fallback(http_req *req);

/* JSON of a user as every endpoint shows it */
json_t *api_user_json(const char *id, const char *email, const char *name, const char *role,
                      int64_t created_at);
/* problem for a failed store call: 503 with Retry-After for busy/timeout */
void api_store_error(http_req *req, int rc);

/* handlers */
void api_healthz(http_req *req);
void api_readyz(http_req *req);
void api_metrics(http_req *req);
void api_openapi(http_req *req);
void api_test_clock(http_req *req);
void api_register(http_req *req);
void api_login(http_req *req);
void api_logout(http_req *req);
void api_me(http_req *req);
#endif
