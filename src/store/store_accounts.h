/* store_accounts: the types of the admins' view of accounts (users_list,
 * user_set_status), apart from store.h's table of operations. Included by
 * store.h only, after store_user. */
#ifndef OPX_STORE_ACCOUNTS_H
#define OPX_STORE_ACCOUNTS_H
#include <stdint.h>

typedef struct {
    store_user u; /* no password hash */
    int64_t seq, suspended_at;
    char suspended_reason[2004];
} store_account;

#define STORE_ACCOUNTS_MAX 100
typedef struct {
    int n;
    store_account items[STORE_ACCOUNTS_MAX];
} store_account_list;

/* users_list's filters: NULL is any */
typedef struct {
    const char *q, *role, *status;
    int64_t before_seq;
    int limit;
} store_account_filter;

#endif
