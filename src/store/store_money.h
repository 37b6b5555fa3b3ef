/* store_money: the types of the store's money operations (contracts,
 * milestones, payments, the ledger's views, refunds and payouts), apart
 * from store.h's table of operations so each area's types read on their
 * own. Included by store.h only. */
#ifndef OPX_STORE_MONEY_H
#define OPX_STORE_MONEY_H
#include <stdint.h>
#include <stdlib.h>

#define STORE_MILESTONES_MAX 20
typedef struct {
    char id[32], contract_id[32];
    int position;
    char title[804];           /* 200 characters */
    int64_t amount;
    char due[11], week_start[11]; /* YYYY-MM-DD or "" */
    char status[12];
    char *note;                /* malloc'd by the store (may be NULL) */
    char links[1100];          /* JSON array text */
    char changes_note[2004];
    char dispute_id[32];
    int64_t escrow;            /* this milestone's money in escrow now */
    int64_t created_at, funded_at, submitted_at, settled_at;
} store_milestone;

typedef struct {
    char id[32], request_id[32], candidate_id[32], client_id[32], engineer_id[32];
    char client_name[404], engineer_name[404], request_title[484];
    char type[8], status[12], currency[4];
    int64_t hourly_rate;
    int weekly_cap_hours, fee_bps;
    int64_t created_at, accepted_at, ended_at;
    int64_t escrow;            /* the contract's escrow balance */
    int engineer_busy;         /* after contract_answer / contract_end: the engineer holds an active contract */
    int nmilestones;
    store_milestone milestones[STORE_MILESTONES_MAX];
} store_contract;

static inline void store_contract_free(store_contract *k)
{
    for (int i = 0; i < k->nmilestones; i++) {
        free(k->milestones[i].note);
        k->milestones[i].note = NULL;
    }
}

/* an Idempotency-Key as a money POST claims it */
typedef struct {
    char user_id[32];
    char key[256];
    char route[64];
    char body_hash[65];
    char owner[33];            /* this process's boot id */
    int64_t lease_until;       /* when the claiming request will have given up (unix s) */
} store_idem;

/* NEW: claimed now; REPLAY: answered before; MISMATCH: the key came with
 * another request; OURS: claimed by this process earlier (the caller knows
 * whether it still runs); TAKEN_OVER: its claimant is gone, carry on;
 * ELSEWHERE: another process (a live node) runs it now */
enum { STORE_IDEM_NEW, STORE_IDEM_REPLAY, STORE_IDEM_MISMATCH, STORE_IDEM_TAKEN_OVER, STORE_IDEM_OURS,
       STORE_IDEM_ELSEWHERE };
typedef struct {
    int state;                 /* STORE_IDEM_* */
    int status;                /* REPLAY: the first answer's status */
    char *response;            /* REPLAY: its body (malloc'd by the store) */
} store_idem_result;

/* The answer a money POST gives, made and saved inside the transaction
 * of its effect (so a replay returns exactly what the first call got).
 * render runs on the store's thread with the contract as it is after the
 * change, and returns a malloc'd body and its status; the store keeps the
 * result in response/status for the caller, who frees response. Without
 * a key nothing is saved, but render still runs. */
typedef struct store_idem_done {
    const char *user_id, *key;
    char *(*render)(const struct store_idem_done *self, const store_contract *k, int *status);
    const void *arg;
    char milestone_id[32];
    int status;
    char *response;
} store_idem_done;

/* why a contract or milestone write was refused (with STORE_CONFLICT) */
typedef struct {
    char entity[16];           /* "contract", "milestone", "candidate", "escrow" */
    char state[16];            /* its current state */
    char detail[160];
} store_money_conflict;

/* a card payment through the gateway */
typedef struct {
    char id[32], milestone_id[32], kind[8], gateway[16], gateway_key[128], gateway_ref[128];
    int64_t amount;
    char currency[4];
    char status[12];
    char error[256];
} store_payment;

typedef struct {
    char id[32], milestone_id[32], contract_id[32], opened_by[32];
    char reason[8004];         /* 2000 characters */
    char from_status[12], status[12]; /* open | resolved */
    int64_t release, refund;   /* the admin's split */
    char resolved_by[32];
    int64_t created_at, resolved_at;
    int64_t amount;            /* the milestone's */
    char currency[4];
} store_dispute;

/* A dispute with what and whom it is about, as its parties and admins read
 * it (GET /disputes/{id}, the admins' list). reason is malloc'd by the
 * store: store_dispute_view_free. */
typedef struct {
    store_dispute d;           /* reason left empty: see text */
    char *text;                /* the reason given */
    char milestone_title[404], request_id[32], request_title[404];
    char client_id[32], client_name[404], engineer_id[32], engineer_name[404];
    int64_t seq;               /* orders the list (the cursor) */
} store_dispute_view;

#define STORE_DISPUTES_MAX 100
typedef struct {
    int n;
    store_dispute_view items[STORE_DISPUTES_MAX];
} store_dispute_list;

static inline void store_dispute_view_free(store_dispute_view *v)
{
    free(v->text);
    v->text = NULL;
}

static inline void store_dispute_list_free(store_dispute_list *l)
{
    for (int i = 0; i < l->n; i++) store_dispute_view_free(&l->items[i]);
    l->n = 0;
}

typedef struct {
    char id[32], contract_id[32], milestone_id[32], week_start[11];
    int hours;
    char note[8004];           /* 2000 characters */
    char status[12];           /* submitted | approved | disputed */
    int64_t amount;            /* hours * the contract's rate */
    int64_t submitted_at, approved_at;
} store_timesheet;

typedef struct {
    char author_id[32], author_name[404], author_role[12], subject_id[32];
    int rating;                /* 1..5 */
    char comment[8004];        /* 2000 characters */
    int64_t created_at, published_at; /* 0: not published yet */
} store_review;

typedef struct {
    int n;
    store_review items[2];
    int64_t ended_at;          /* the contract's; the window closes 14 days later */
    char client_id[32], engineer_id[32];
    char contract_status[12];
} store_reviews;

/* an engineer's money per currency */
typedef struct {
    int n;
    struct {
        char currency[4];
        int64_t payable, paid_out, pending;
        int64_t in_transit;    /* paid out in a batch, the transfer not yet confirmed */
    } rows[16];
} store_balance;

/* the ledger as admins see it */
#define STORE_LEDGER_ACCOUNTS_MAX 200
typedef struct {
    int ntotals;
    struct {
        char currency[4], kind[20];
        int64_t balance;
    } totals[96];
    int naccounts;
    struct {
        char id[80], kind[20], owner[32], currency[4];
        int64_t balance;
    } accounts[STORE_LEDGER_ACCOUNTS_MAX];
    int64_t violations;
    char *report;              /* malloc'd by the store */
} store_ledger_report;

#define STORE_PAYOUT_ACCOUNT_MAX 72 /* "acct_" + up to 60 letters or digits, and the NUL */

/* money going out through the gateway: a card refund (a payments row of
 * kind refund, made in the transaction that moved the escrow back) or a
 * payout (a payouts row, made by a batch); each is sent by its own job */
typedef struct {
    char kind[8];              /* refund | payout */
    char id[32];
    char gateway[16];
    char gateway_ref[128];     /* the gateway's id once it answered */
    char charge_ref[128];      /* refund: the charge it gives back part of */
    char destination[STORE_PAYOUT_ACCOUNT_MAX]; /* payout: the connected account */
    char owner_id[32];         /* refund: the client; payout: the engineer */
    char milestone_id[32], contract_id[32], batch_id[32];
    int64_t amount;
    char currency[4];
    char status[12];           /* pending | succeeded | failed | reversed (payouts) */
    char error[256];
    int attempts;              /* gateway calls that could not be made */
    int64_t created_at, updated_at;
    int64_t seq;               /* the list cursor */
} store_money_out;

/* what a send job (or a webhook) learned of a refund or payout */
enum { STORE_OUT_SUCCEEDED, STORE_OUT_PENDING, STORE_OUT_FAILED, STORE_OUT_RETRY, STORE_OUT_REVERSED };
typedef struct {
    char kind[8], id[32];
    int outcome;               /* STORE_OUT_* */
    char gateway_ref[128], error[256];
    int64_t retry_at;          /* RETRY: when the job runs again */
    char job_id[40];           /* the send job to complete or reschedule; "" from a webhook */
} store_money_out_result;

#define STORE_MONEY_OUT_PAGE 100
typedef struct {
    int n;
    store_money_out items[STORE_MONEY_OUT_PAGE];
    int64_t next_seq;          /* the cursor for the next page; 0: none */
} store_money_out_list;

/* one payout run: every payable balance of at least min_amount becomes a
 * payout (at most STORE_MONEY_OUT_PAGE a run; `more` says others wait) */
typedef struct {
    int64_t now, min_amount;
    int need_destination;      /* stripe: engineers without a payout account wait */
    char gateway[16];
    char job_id[40];           /* the recurring job to reschedule ("" when an admin runs it) */
    int64_t next_run_at;
    char actor[32];
} store_payout_run;

typedef struct {
    char batch_id[32];
    int skipped;               /* owed money, but no payout account */
    int more;
    store_money_out_list payouts;
} store_payout_batch;

/* ---- read views of contracts (tx_contract_views.c) ---- */
#define STORE_CONTRACT_LIST_MAX 100
typedef struct {
    char id[32], request_id[32], request_title[484];
    char client_id[32], client_name[404], engineer_id[32], engineer_name[404];
    char type[8], status[12], currency[4];
    int64_t hourly_rate, total, escrow, seq;
    int weekly_cap_hours, fee_bps, milestones;
    int64_t created_at, accepted_at, ended_at;
    /* [{id, position, title, amount, due, week_start, status, changes_note}]
     * in position order, malloc'd by the store: store_contract_list_free */
    char *milestones_json;
} store_contract_row;

typedef struct {
    int n;
    store_contract_row items[STORE_CONTRACT_LIST_MAX];
} store_contract_list;

static inline void store_contract_list_free(store_contract_list *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->items[i].milestones_json);
        l->items[i].milestones_json = NULL;
    }
    l->n = 0;
}

/* contracts_list's filters: NULL is any */
typedef struct {
    const char *client_id, *engineer_id, *request_id, *status;
    int64_t before_seq; /* 0: from the newest */
    int limit;
} store_contract_filter;

#define STORE_RECEIPTS_MAX 200
typedef struct {
    int n;
    char currency[4];
    struct {
        char id[32], kind[8], milestone_id[32], milestone_title[804], gateway[16], gateway_ref[128];
        int64_t amount;
        char currency[4], status[12], error[256];
        char refund_of[32];    /* a refund: the milestone's succeeded charge it returns */
        int64_t created_at, updated_at;
    } items[STORE_RECEIPTS_MAX];
} store_receipts;

#define STORE_TIMESHEETS_MAX 120
typedef struct {
    int n;
    store_timesheet items[STORE_TIMESHEETS_MAX];
} store_timesheet_list;
#endif
