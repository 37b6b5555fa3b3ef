/* harness: the store conformance suite's scaffolding. Each test gets a
 * fresh, migrated store of one backend (a temp SQLite file, or a fresh
 * database on the PostgreSQL server OPX_TEST_PG names) on its own loop;
 * CALL runs one store operation through store.h and the loop until its
 * callback, and answers the STORE_* code; the fx_* fixtures make users,
 * engineers, requests and contracts through store operations only (no
 * SQL), so every test body runs unchanged on both backends.
 *
 * STORE_TEST(name) { body } registers the body twice: sqlite/name and
 * postgres/name (the latter skipped without OPX_TEST_PG). */
#ifndef OPX_TEST_STORE_HARNESS_H
#define OPX_TEST_STORE_HARNESS_H
#include "core/token.h"
#include "store/store.h"
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>

typedef struct {
    uv_loop_t loop;
    store *s;
    int postgres;
    char url[512];   /* the SQLite path or the PostgreSQL URL */
    int64_t now;     /* the wall clock when the test began: every `now` is relative to it */
    char error[512]; /* why the store did not open */
} harness;

extern harness H;

void h_setup_sqlite(void);
void h_setup_postgres(void);
void h_teardown(void);
/* fails the test when the store did not open; 0 when it was not asked to
 * (postgres without OPX_TEST_PG) */
int h_ready(void);

/* one call in flight: what its callback said */
typedef struct {
    int done, rc;
} h_call;
void h_cb(void *ctx, int rc);
/* the submit's own answer when negative (no callback comes), else runs the
 * loop until the callback and returns its code */
int h_wait(int submit_rc, h_call *w);
uint64_t h_deadline(void);

#define S (H.s)
#define CALL(op, ...)                                                                              \
    ({                                                                                             \
        h_call h_w_ = {0};                                                                         \
        h_wait(S->v->op(S, ##__VA_ARGS__, h_deadline(), h_cb, &h_w_), &h_w_);                      \
    })
/* the same, asserting STORE_OK with the operation's name in the message */
#define OK(op, ...)                                                                                \
    do {                                                                                           \
        int ok_rc_ = CALL(op, __VA_ARGS__);                                                        \
        cr_assert_eq(ok_rc_, STORE_OK, #op ": %s (%d)", store_strerror(ok_rc_), ok_rc_);           \
    } while (0)

/* several calls in flight at once (what many nodes or requests do):
 * SUBMIT starts one into w (a refused submit counts as done with its
 * code), h_wait_all runs the loop until every one has called back */
void h_submitted(int submit_rc, h_call *w);
void h_wait_all(h_call *w, int n);
#define SUBMIT(w, op, ...) h_submitted(S->v->op(S, ##__VA_ARGS__, h_deadline(), h_cb, (w)), (w))

/* zeroed memory that lives until the test ends (the store's structs are
 * too large for the stack) */
void *h_alloc(size_t n);
#define NEW(T) ((T *)h_alloc(sizeof(T)))
/* a contract whose milestones' notes (the store's malloc) are freed at
 * the end of the test */
store_contract *h_contract(void);
/* a fresh id with the prefix, in memory that lives until the test ends */
const char *h_id(const char *prefix);

#define STORE_TEST(name)                                                                           \
    static void body_##name(void);                                                                 \
    Test(sqlite, name, .init = h_setup_sqlite, .fini = h_teardown)                                 \
    {                                                                                              \
        h_ready();                                                                                 \
        body_##name();                                                                             \
    }                                                                                              \
    Test(postgres, name, .init = h_setup_postgres, .fini = h_teardown)                             \
    {                                                                                              \
        if (!h_ready()) cr_skip_test("OPX_TEST_PG is not set");                                    \
        body_##name();                                                                             \
    }                                                                                              \
    static void body_##name(void)

#define STR_EQ(a, b, ...) cr_assert_str_eq((a), (b), ##__VA_ARGS__)

/* ---- fixtures: each makes its thing through store operations and asserts
 * that it worked ---- */

/* a user of role (client | engineer | admin | vetter) */
store_user *fx_user(const char *role, const char *name);
/* an engineer with a profile (rate in minor units of EUR, one skill) */
store_user *fx_engineer(const char *name, int64_t rate);
/* fx_engineer whose quiz passed (score 18): assessment_passed */
store_user *fx_quiz_passed(const char *name, int64_t rate);
/* fx_engineer taken through assessment and scorecard to vetted (senior) */
store_user *fx_vetted(const char *name, int64_t rate, store_user *vetter);
/* a request of client's inviting each engineer (n of them), read back */
store_request *fx_request(const store_user *client, store_user **engineers, int n);
/* the request's candidate of engineer */
const store_candidate *fx_candidate(const store_request *r, const store_user *engineer);
/* engineer accepts their invitation on r */
void fx_accept(const store_request *r, const store_user *engineer);
/* a client, an engineer invited and accepted: the two a contract needs */
typedef struct {
    store_user *client, *engineer, *admin;
    store_request *r;
    const store_candidate *cand;
} fx_parties;
fx_parties fx_hire(void);
/* a fixed-price contract offered on p with n milestones of amounts (EUR,
 * fee_bps), read back; answered active when accept */
store_contract *fx_contract(const fx_parties *p, const int64_t *amounts, int n, int fee_bps,
                            int accept);
/* an hourly contract (rate per hour, cap, first week week_start) */
store_contract *fx_hourly(const fx_parties *p, int64_t rate, int cap, const char *week_start,
                          int fee_bps);
/* funds milestone i of k (fund_begin + a succeeded fund_finish); k re-read */
void fx_fund(store_contract *k, int i);
/* re-reads k */
void fx_reload(store_contract *k);
/* the ledger's balance of account id (0 when it does not exist) */
int64_t fx_account(const char *id);
/* the idempotent answer render: {"contract":id,"status":...}, status 200 */
char *fx_render(const store_idem_done *self, const store_contract *k, int *status);
#endif
