/* ledger: the money rules as data. Every movement of money is one ledger
 * transaction: a list of entries (account, currency, signed amount in
 * minor units) that sums to zero per currency. This module builds the
 * transactions of each money operation and checks them; the store appends
 * them (entries are append-only) and keeps balances beside them, where the
 * database itself refuses a negative balance on the accounts that hold
 * money for someone. `opx ledger verify` re-derives everything.
 *
 * Accounts (ids are "<kind>:<owner>:<currency>", escrow "escrow:<contract>"):
 *   gateway_clearing  cash through the payment gateway; the outside world's
 *                     side of charges and refunds (its balance is minus the
 *                     cash the platform holds). Any sign.
 *   client_funding    a client's money received and not yet in escrow (a
 *                     charge lands here and moves on at once). >= 0.
 *   escrow            per contract: funded and not yet released or refunded. >= 0.
 *   payable           per engineer: released to them, not yet paid out. >= 0.
 *   paid_out          per engineer: what payouts sent them (the outside
 *                     world's side of payouts). Any sign (>= 0 in practice).
 *   revenue           the platform's fees. >= 0.
 * So: -gateway_clearing = client_funding + escrow + payable + revenue
 *     + (paid_out is money that left: it balances payable's decrease). */
#ifndef OPX_LEDGER_H
#define OPX_LEDGER_H
#include <stddef.h>
#include <stdint.h>

#define LEDGER_MAX_ENTRIES 8
#define LEDGER_ACCOUNT_MAX 80
#define LEDGER_MAX_AMOUNT 100000000000LL /* 1e11 minor units: far above any milestone, far below overflow */

typedef struct {
    char account[LEDGER_ACCOUNT_MAX];
    char kind[20];
    char owner[32];
    char currency[4];
    int64_t amount;          /* credit to the account when positive */
    char milestone_id[32];   /* escrow entries: which milestone's money */
} ledger_entry;

typedef struct {
    char kind[24];           /* fund, release, refund, resolve, timesheet, payout, payout_failed,
                                payout_reversed, refund_failed */
    char contract_id[32], milestone_id[32];
    char memo[128];
    int n;
    ledger_entry e[LEDGER_MAX_ENTRIES];
} ledger_txn;

/* the ISO 4217 currencies opx handles (rates, budgets, contracts), NULL-terminated */
extern const char *const ledger_currencies[];

/* the fee on amount at bps basis points, rounded down (the engineer keeps
 * the remainder of a minor unit) */
int64_t ledger_fee(int64_t amount, int fee_bps);

/* the client's card pays amount into the contract's escrow for the milestone */
void ledger_fund(ledger_txn *t, const char *client_id, const char *contract_id,
                 const char *milestone_id, const char *currency, int64_t amount);
/* escrow -> engineer's payable, minus the fee to revenue */
void ledger_release(ledger_txn *t, const char *engineer_id, const char *contract_id,
                    const char *milestone_id, const char *currency, int64_t amount, int fee_bps);
/* escrow -> back to the client's card */
void ledger_refund(ledger_txn *t, const char *client_id, const char *contract_id,
                   const char *milestone_id, const char *currency, int64_t amount);
/* a dispute's split: release part (with the fee), refund the rest */
void ledger_split(ledger_txn *t, const char *client_id, const char *engineer_id,
                  const char *contract_id, const char *milestone_id, const char *currency,
                  int64_t release, int64_t refund, int fee_bps);
/* payable -> paid out to the engineer (a payout row is made with it) */
void ledger_payout(ledger_txn *t, const char *engineer_id, const char *currency, int64_t amount);
/* a payout that failed or was reversed: paid out -> payable again (kind
 * names which: payout_failed, payout_reversed) */
void ledger_payout_back(ledger_txn *t, const char *kind, const char *engineer_id, const char *currency,
                        int64_t amount);
/* a card refund the gateway refused: the cash is still here, held for the
 * client (gateway_clearing -> client_funding) until an admin sends it again */
void ledger_refund_failed(ledger_txn *t, const char *client_id, const char *contract_id,
                          const char *milestone_id, const char *currency, int64_t amount);
/* ... sent again: client_funding -> gateway_clearing (kind refund) */
void ledger_refund_again(ledger_txn *t, const char *client_id, const char *contract_id,
                         const char *milestone_id, const char *currency, int64_t amount);

/* 0 when t is well formed: a known transaction kind, 2..LEDGER_MAX_ENTRIES entries, no zero amount,
 * amounts within LEDGER_MAX_AMOUNT, known kinds, a 3-letter currency on
 * each, one currency per account, and a zero sum per currency. Else -1
 * and why in err. */
int ledger_check(const ledger_txn *t, char *err, size_t errlen);
/* 1 for the account kinds whose balance may never go below zero */
int ledger_kind_nonnegative(const char *kind);
#endif
