/* ledger: building and checking money transactions (see ledger.h). */
#include "ledger.h"
#include <stdio.h>
#include <string.h>

const char *const ledger_currencies[] = {"USD", "EUR", "GBP", "CAD", "AUD", "CHF", "SEK",
                                         "NOK", "DKK", "PLN", "NZD", "SGD", NULL};

static const char *const kinds[] = {"gateway_clearing", "client_funding", "escrow",
                                    "payable",          "paid_out",       "revenue", NULL};

/* what a transaction may be (ledger.h names who makes each) */
static const char *const txn_kinds[] = {"fund",          "release",         "refund",       "resolve", "timesheet",
                                        "payout",        "payout_failed",   "payout_reversed",
                                        "refund_failed", NULL};

int ledger_kind_nonnegative(const char *kind)
{
    return strcmp(kind, "gateway_clearing") != 0 && strcmp(kind, "paid_out") != 0;
}

int64_t ledger_fee(int64_t amount, int fee_bps)
{
    if (amount <= 0 || fee_bps <= 0) return 0;
    if (fee_bps >= 10000) return amount;
    return amount / 10000 * fee_bps + (amount % 10000) * fee_bps / 10000; /* no overflow */
}

static void begin(ledger_txn *t, const char *kind, const char *contract_id, const char *milestone_id)
{
    memset(t, 0, sizeof *t);
    snprintf(t->kind, sizeof t->kind, "%s", kind);
    if (contract_id) snprintf(t->contract_id, sizeof t->contract_id, "%s", contract_id);
    if (milestone_id) snprintf(t->milestone_id, sizeof t->milestone_id, "%s", milestone_id);
}

/* one entry; owner NULL for platform-wide accounts; escrow accounts are
 * per contract (their currency is the contract's) */
static void add(ledger_txn *t, const char *kind, const char *owner, const char *currency,
                int64_t amount, const char *milestone_id)
{
    if (t->n >= LEDGER_MAX_ENTRIES || amount == 0) return;
    ledger_entry *e = &t->e[t->n++];
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    snprintf(e->owner, sizeof e->owner, "%s", owner ? owner : "");
    snprintf(e->currency, sizeof e->currency, "%s", currency);
    if (strcmp(kind, "escrow") == 0) snprintf(e->account, sizeof e->account, "escrow:%s", owner);
    else if (owner) snprintf(e->account, sizeof e->account, "%s:%s:%s", kind, owner, currency);
    else snprintf(e->account, sizeof e->account, "%s:%s", kind, currency);
    e->amount = amount;
    if (milestone_id) snprintf(e->milestone_id, sizeof e->milestone_id, "%s", milestone_id);
}

void ledger_fund(ledger_txn *t, const char *client_id, const char *contract_id,
                 const char *milestone_id, const char *currency, int64_t amount)
{
    begin(t, "fund", contract_id, milestone_id);
    add(t, "gateway_clearing", NULL, currency, -amount, NULL);
    add(t, "client_funding", client_id, currency, amount, NULL);
    add(t, "client_funding", client_id, currency, -amount, NULL);
    add(t, "escrow", contract_id, currency, amount, milestone_id);
}

static void release_part(ledger_txn *t, const char *engineer_id, const char *contract_id,
                         const char *milestone_id, const char *currency, int64_t amount, int fee_bps)
{
    int64_t fee = ledger_fee(amount, fee_bps);
    add(t, "escrow", contract_id, currency, -amount, milestone_id);
    add(t, "payable", engineer_id, currency, amount - fee, NULL);
    add(t, "revenue", NULL, currency, fee, NULL);
}

static void refund_part(ledger_txn *t, const char *client_id, const char *contract_id,
                        const char *milestone_id, const char *currency, int64_t amount)
{
    add(t, "escrow", contract_id, currency, -amount, milestone_id);
    add(t, "client_funding", client_id, currency, amount, NULL);
    add(t, "client_funding", client_id, currency, -amount, NULL);
    add(t, "gateway_clearing", NULL, currency, amount, NULL);
}

void ledger_release(ledger_txn *t, const char *engineer_id, const char *contract_id,
                    const char *milestone_id, const char *currency, int64_t amount, int fee_bps)
{
    begin(t, "release", contract_id, milestone_id);
    release_part(t, engineer_id, contract_id, milestone_id, currency, amount, fee_bps);
}

void ledger_refund(ledger_txn *t, const char *client_id, const char *contract_id,
                   const char *milestone_id, const char *currency, int64_t amount)
{
    begin(t, "refund", contract_id, milestone_id);
    refund_part(t, client_id, contract_id, milestone_id, currency, amount);
}

void ledger_split(ledger_txn *t, const char *client_id, const char *engineer_id,
                  const char *contract_id, const char *milestone_id, const char *currency,
                  int64_t release, int64_t refund, int fee_bps)
{
    begin(t, "resolve", contract_id, milestone_id);
    if (release > 0) release_part(t, engineer_id, contract_id, milestone_id, currency, release, fee_bps);
    if (refund > 0) refund_part(t, client_id, contract_id, milestone_id, currency, refund);
}

void ledger_payout(ledger_txn *t, const char *engineer_id, const char *currency, int64_t amount)
{
    begin(t, "payout", NULL, NULL);
    add(t, "payable", engineer_id, currency, -amount, NULL);
    add(t, "paid_out", engineer_id, currency, amount, NULL);
}

void ledger_payout_back(ledger_txn *t, const char *kind, const char *engineer_id, const char *currency,
                        int64_t amount)
{
    begin(t, kind, NULL, NULL);
    add(t, "paid_out", engineer_id, currency, -amount, NULL);
    add(t, "payable", engineer_id, currency, amount, NULL);
}

void ledger_refund_failed(ledger_txn *t, const char *client_id, const char *contract_id,
                          const char *milestone_id, const char *currency, int64_t amount)
{
    begin(t, "refund_failed", contract_id, milestone_id);
    add(t, "gateway_clearing", NULL, currency, -amount, NULL);
    add(t, "client_funding", client_id, currency, amount, NULL);
}

void ledger_refund_again(ledger_txn *t, const char *client_id, const char *contract_id,
                         const char *milestone_id, const char *currency, int64_t amount)
{
    begin(t, "refund", contract_id, milestone_id);
    add(t, "client_funding", client_id, currency, -amount, NULL);
    add(t, "gateway_clearing", NULL, currency, amount, NULL);
}

int ledger_check(const ledger_txn *t, char *err, size_t errlen)
{
    int kind_known = 0;
    for (int k = 0; txn_kinds[k]; k++) kind_known |= strcmp(txn_kinds[k], t->kind) == 0;
    if (!kind_known) {
        snprintf(err, errlen, "unknown transaction kind \"%s\"", t->kind);
        return -1;
    }
    if (t->n < 2 || t->n > LEDGER_MAX_ENTRIES) {
        snprintf(err, errlen, "a transaction has 2 to %d entries, not %d", LEDGER_MAX_ENTRIES, t->n);
        return -1;
    }
    struct {
        char cur[4];
        int64_t sum;
    } sums[LEDGER_MAX_ENTRIES];
    int ns = 0;
    for (int i = 0; i < t->n; i++) {
        const ledger_entry *e = &t->e[i];
        if (e->amount == 0 || e->amount > LEDGER_MAX_AMOUNT || e->amount < -LEDGER_MAX_AMOUNT) {
            snprintf(err, errlen, "entry %d: amount %lld out of range", i, (long long)e->amount);
            return -1;
        }
        int known = 0;
        for (int k = 0; kinds[k]; k++) known |= strcmp(kinds[k], e->kind) == 0;
        if (!known) {
            snprintf(err, errlen, "entry %d: unknown account kind %s", i, e->kind);
            return -1;
        }
        if (strlen(e->currency) != 3 || e->currency[0] < 'A' || e->currency[0] > 'Z' ||
            e->currency[1] < 'A' || e->currency[1] > 'Z' || e->currency[2] < 'A' || e->currency[2] > 'Z') {
            snprintf(err, errlen, "entry %d: currency \"%s\" is not an ISO 4217 code", i, e->currency);
            return -1;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(t->e[k].account, e->account) == 0 && strcmp(t->e[k].currency, e->currency) != 0) {
                snprintf(err, errlen, "account %s in two currencies", e->account);
                return -1;
            }
        int s = 0;
        while (s < ns && strcmp(sums[s].cur, e->currency) != 0) s++;
        if (s == ns) {
            memcpy(sums[ns].cur, e->currency, 4);
            sums[ns++].sum = 0;
        }
        sums[s].sum += e->amount;
    }
    for (int s = 0; s < ns; s++)
        if (sums[s].sum != 0) {
            snprintf(err, errlen, "%s entries sum to %lld, not zero", sums[s].cur, (long long)sums[s].sum);
            return -1;
        }
    return 0;
}
