/* test_ledger: the money rules as data — every transaction the ledger
 * module builds balances per currency, the fee rounds down and never
 * overflows, splits add up, ledger_check refuses what would break an
 * invariant, the moves of money going out (a payout failed or reversed,
 * a card refund refused and sent again) are exactly the entries they
 * name, the send retry backoff stays in its bounds, and the
 * contract/milestone/timesheet state tables allow exactly the moves
 * PRODUCT.md names. */
#include "rules/contracts.h"
#include "rules/ledger.h"
#include "services/money_out.h"
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

static int64_t sum_of(const ledger_txn *t, const char *account)
{
    int64_t s = 0;
    for (int i = 0; i < t->n && i < LEDGER_MAX_ENTRIES; i++)
        if (strcmp(t->e[i].account, account) == 0) s += t->e[i].amount;
    return s;
}

static void balanced(const ledger_txn *t)
{
    char err[160] = "";
    cr_assert_eq(ledger_check(t, err, sizeof err), 0, "%s: %s", t->kind, err);
}

Test(ledger, fee_rounds_down_and_never_overflows)
{
    cr_assert_eq(ledger_fee(150000, 1000), 15000);
    cr_assert_eq(ledger_fee(999, 1000), 99); /* 99.9 -> 99: the engineer keeps the fraction */
    cr_assert_eq(ledger_fee(1, 1000), 0);
    cr_assert_eq(ledger_fee(12345, 0), 0);
    cr_assert_eq(ledger_fee(12345, 10000), 12345);
    cr_assert_eq(ledger_fee(LEDGER_MAX_AMOUNT, 1000), LEDGER_MAX_AMOUNT / 10);
    cr_assert_eq(ledger_fee(-5, 1000), 0);
}

Test(ledger, every_operation_balances_and_moves_the_right_accounts)
{
    ledger_txn t;
    ledger_fund(&t, "usr_c", "ctr_1", "mst_1", "USD", 150000);
    balanced(&t);
    cr_assert_eq(sum_of(&t, "escrow:ctr_1"), 150000);
    cr_assert_eq(sum_of(&t, "gateway_clearing:USD"), -150000);
    cr_assert_eq(sum_of(&t, "client_funding:usr_c:USD"), 0, "a charge passes through client funding");
    for (int i = 0; i < t.n; i++)
        if (strcmp(t.e[i].kind, "escrow") == 0) cr_assert_str_eq(t.e[i].milestone_id, "mst_1");

    ledger_release(&t, "usr_e", "ctr_1", "mst_1", "USD", 150000, 1000);
    balanced(&t);
    cr_assert_eq(sum_of(&t, "escrow:ctr_1"), -150000);
    cr_assert_eq(sum_of(&t, "payable:usr_e:USD"), 135000);
    cr_assert_eq(sum_of(&t, "revenue:USD"), 15000);

    ledger_refund(&t, "usr_c", "ctr_1", "mst_1", "EUR", 5000);
    balanced(&t);
    cr_assert_eq(sum_of(&t, "escrow:ctr_1"), -5000);
    cr_assert_eq(sum_of(&t, "gateway_clearing:EUR"), 5000);

    ledger_split(&t, "usr_c", "usr_e", "ctr_1", "mst_1", "USD", 100000, 50000, 1000);
    balanced(&t);
    cr_assert_eq(sum_of(&t, "escrow:ctr_1"), -150000, "release + refund leave escrow");
    cr_assert_eq(sum_of(&t, "payable:usr_e:USD"), 90000, "the fee is on the released part only");
    cr_assert_eq(sum_of(&t, "revenue:USD"), 10000);
    cr_assert_eq(sum_of(&t, "gateway_clearing:USD"), 50000);

    ledger_split(&t, "usr_c", "usr_e", "ctr_1", "mst_1", "USD", 0, 150000, 1000);
    balanced(&t);
    cr_assert_eq(sum_of(&t, "revenue:USD"), 0, "a full refund carries no fee");

    ledger_payout(&t, "usr_e", "USD", 135000);
    balanced(&t);
    cr_assert_eq(sum_of(&t, "payable:usr_e:USD"), -135000);
    cr_assert_eq(sum_of(&t, "paid_out:usr_e:USD"), 135000);
}

Test(ledger, check_refuses_what_breaks_an_invariant)
{
    char err[160];
    ledger_txn t;
    ledger_fund(&t, "usr_c", "ctr_1", "mst_1", "USD", 1000);
    t.e[0].amount -= 1; /* no longer sums to zero */
    cr_assert_eq(ledger_check(&t, err, sizeof err), -1);
    cr_assert(strstr(err, "USD"), "%s", err);

    ledger_fund(&t, "usr_c", "ctr_1", "mst_1", "USD", 1000);
    memcpy(t.e[3].currency, "EUR", 4); /* escrow in another currency: two sums, neither zero */
    cr_assert_eq(ledger_check(&t, err, sizeof err), -1);

    ledger_fund(&t, "usr_c", "ctr_1", "mst_1", "usd", 1000);
    cr_assert_eq(ledger_check(&t, err, sizeof err), -1, "lower-case currency");

    ledger_payout_back(&t, "payout_gift", "usr_e", "USD", 1000); /* balanced, but no such transaction */
    cr_assert_eq(ledger_check(&t, err, sizeof err), -1);
    cr_assert(strstr(err, "payout_gift"), "%s", err);

    ledger_fund(&t, "usr_c", "ctr_1", "mst_1", "USD", 0);
    cr_assert_eq(ledger_check(&t, err, sizeof err), -1, "an empty transaction");

    ledger_fund(&t, "usr_c", "ctr_1", "mst_1", "USD", LEDGER_MAX_AMOUNT + 1);
    cr_assert_eq(ledger_check(&t, err, sizeof err), -1, "beyond the amount bound");

    ledger_fund(&t, "usr_c", "ctr_1", "mst_1", "USD", 1000);
    snprintf(t.e[0].kind, sizeof t.e[0].kind, "bonus");
    cr_assert_eq(ledger_check(&t, err, sizeof err), -1, "an unknown account kind");

    cr_assert(ledger_kind_nonnegative("escrow") && ledger_kind_nonnegative("payable") &&
              ledger_kind_nonnegative("revenue") && ledger_kind_nonnegative("client_funding"));
    cr_assert(!ledger_kind_nonnegative("gateway_clearing") && !ledger_kind_nonnegative("paid_out"));
}

/* entry i of t is exactly this (owner "" for platform-wide accounts; no
 * milestone on entries that are not escrow) */
static void entry_is(const ledger_txn *t, int i, const char *account, const char *kind,
                     const char *owner, const char *currency, int64_t amount)
{
    cr_assert_lt(i, t->n, "%s: entry %d of %d", t->kind, i, t->n);
    const ledger_entry *e = &t->e[i];
    cr_expect_str_eq(e->account, account, "%s: entry %d", t->kind, i);
    cr_expect_str_eq(e->kind, kind, "%s: entry %d", t->kind, i);
    cr_expect_str_eq(e->owner, owner, "%s: entry %d", t->kind, i);
    cr_expect_str_eq(e->currency, currency, "%s: entry %d", t->kind, i);
    cr_expect_eq(e->amount, amount, "%s: entry %d: %lld", t->kind, i, (long long)e->amount);
    cr_expect_str_eq(e->milestone_id, "", "%s: entry %d carries no milestone", t->kind, i);
}

Test(ledger, a_failed_or_reversed_payout_moves_paid_out_back_to_payable)
{
    const char *kinds[] = {"payout_failed", "payout_reversed"};
    for (int k = 0; k < 2; k++) {
        ledger_txn t;
        memset(&t, 0x5a, sizeof t); /* nothing of a previous use shows through */
        ledger_payout_back(&t, kinds[k], "usr_e", "EUR", 37800);
        balanced(&t);
        cr_assert_str_eq(t.kind, kinds[k]);
        cr_assert_eq(t.n, 2, "%s: %d entries", kinds[k], t.n);
        entry_is(&t, 0, "paid_out:usr_e:EUR", "paid_out", "usr_e", "EUR", -37800);
        entry_is(&t, 1, "payable:usr_e:EUR", "payable", "usr_e", "EUR", 37800);
        cr_assert_str_eq(t.contract_id, "", "a payout belongs to no contract");
        cr_assert_str_eq(t.milestone_id, "");
        cr_assert_str_eq(t.memo, "");
    }
    /* a payout and its failure cancel out on both accounts */
    ledger_txn out, back;
    ledger_payout(&out, "usr_e", "USD", 135000);
    ledger_payout_back(&back, "payout_failed", "usr_e", "USD", 135000);
    balanced(&out);
    balanced(&back);
    cr_assert_eq(sum_of(&out, "payable:usr_e:USD") + sum_of(&back, "payable:usr_e:USD"), 0);
    cr_assert_eq(sum_of(&out, "paid_out:usr_e:USD") + sum_of(&back, "paid_out:usr_e:USD"), 0);
    cr_assert_eq(sum_of(&back, "gateway_clearing:USD"), 0, "a payout never touches card cash");
    /* the smallest and the largest amounts still balance */
    ledger_payout_back(&back, "payout_reversed", "usr_e", "USD", 1);
    balanced(&back);
    ledger_payout_back(&back, "payout_reversed", "usr_e", "USD", LEDGER_MAX_AMOUNT);
    balanced(&back);
    ledger_payout_back(&back, "payout_failed", "usr_e", "USD", 0);
    cr_assert_eq(back.n, 0, "no entry for nothing");
    char err[160];
    cr_assert_eq(ledger_check(&back, err, sizeof err), -1, "an empty transaction");
}

Test(ledger, a_refused_refund_is_held_for_the_client_and_sent_again)
{
    ledger_txn t;
    memset(&t, 0x5a, sizeof t);
    ledger_refund_failed(&t, "usr_c", "ctr_1", "mst_2", "USD", 8000);
    balanced(&t);
    cr_assert_str_eq(t.kind, "refund_failed");
    cr_assert_str_eq(t.contract_id, "ctr_1");
    cr_assert_str_eq(t.milestone_id, "mst_2", "verify matches refunds to the ledger per milestone");
    cr_assert_str_eq(t.memo, "");
    cr_assert_eq(t.n, 2, "%d entries", t.n);
    entry_is(&t, 0, "gateway_clearing:USD", "gateway_clearing", "", "USD", -8000);
    entry_is(&t, 1, "client_funding:usr_c:USD", "client_funding", "usr_c", "USD", 8000);

    ledger_txn again;
    memset(&again, 0x5a, sizeof again);
    ledger_refund_again(&again, "usr_c", "ctr_1", "mst_2", "USD", 8000);
    balanced(&again);
    cr_assert_str_eq(again.kind, "refund", "sent again is a refund like the first");
    cr_assert_str_eq(again.contract_id, "ctr_1");
    cr_assert_str_eq(again.milestone_id, "mst_2");
    cr_assert_eq(again.n, 2, "%d entries", again.n);
    entry_is(&again, 0, "client_funding:usr_c:USD", "client_funding", "usr_c", "USD", -8000);
    entry_is(&again, 1, "gateway_clearing:USD", "gateway_clearing", "", "USD", 8000);

    /* refund, refused, sent again: escrow left once, the cash left once, nothing held for the
     * client */
    ledger_txn first;
    ledger_refund(&first, "usr_c", "ctr_1", "mst_2", "USD", 8000);
    balanced(&first);
    const ledger_txn *all[] = {&first, &t, &again};
    int64_t escrow = 0, clearing = 0, funding = 0;
    for (int i = 0; i < 3; i++) {
        escrow += sum_of(all[i], "escrow:ctr_1");
        clearing += sum_of(all[i], "gateway_clearing:USD");
        funding += sum_of(all[i], "client_funding:usr_c:USD");
    }
    cr_assert_eq(escrow, -8000);
    cr_assert_eq(clearing, 8000);
    cr_assert_eq(funding, 0);
    /* refused and not yet sent again: the client's money waits in client_funding */
    cr_assert_eq(
        sum_of(&first, "client_funding:usr_c:USD") + sum_of(&t, "client_funding:usr_c:USD"), 8000);
    cr_assert_eq(sum_of(&first, "gateway_clearing:USD") + sum_of(&t, "gateway_clearing:USD"), 0);

    /* another currency names other accounts */
    ledger_refund_failed(&t, "usr_c", "ctr_9", "mst_9", "GBP", 1);
    balanced(&t);
    entry_is(&t, 0, "gateway_clearing:GBP", "gateway_clearing", "", "GBP", -1);
    entry_is(&t, 1, "client_funding:usr_c:GBP", "client_funding", "usr_c", "GBP", 1);
    ledger_refund_again(&t, "usr_c", "ctr_9", "mst_9", "GBP", LEDGER_MAX_AMOUNT);
    balanced(&t);
    ledger_refund_again(&t, "usr_c", "ctr_9", "mst_9", "GBP", 0);
    cr_assert_eq(t.n, 0, "no entry for nothing");
}

/* the backoff before attempt n+1: 30 s doubling per attempt, at most an
 * hour, times 50%..150% by the jitter */
static int64_t backoff_base(int attempts)
{
    int64_t base = 30;
    for (int i = 1; i < attempts && base < 3600; i++)
        base *= 2;
    return base > 3600 ? 3600 : base;
}

Test(money_out, retry_backoff_doubles_up_to_an_hour_within_its_jitter)
{
    const int64_t want[] = {0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600};
    const uint32_t big[] = {12345, 0x7fffffff, 0x80000000, 0xdeadbeef, UINT32_MAX - 1, UINT32_MAX};
    for (int a = 1; a <= 12; a++) {
        int64_t base = want[a];
        cr_assert_eq(backoff_base(a), base, "attempt %d", a);
        cr_assert_eq(money_out_retry_after(a, 0), base / 2, "attempt %d, no jitter: half the base",
                     a);
        cr_assert_eq(money_out_retry_after(a, (uint32_t)base), base + base / 2,
                     "attempt %d, the largest jitter: 150%%", a);
        cr_assert_eq(money_out_retry_after(a, (uint32_t)base + 1), base / 2,
                     "attempt %d: the jitter wraps", a);
        /* every jitter up to one past the base (where it wraps), then the large ones */
        for (uint32_t j = 0; j < (uint32_t)base + 2 + sizeof big / sizeof big[0]; j++) {
            uint32_t jitter = j < (uint32_t)base + 2 ? j : big[j - (uint32_t)base - 2];
            int64_t s = money_out_retry_after(a, jitter);
            cr_assert(s * 2 >= base && s * 2 <= base * 3,
                      "attempt %d, jitter %u: %lld s outside %lld..%lld", a, jitter, (long long)s,
                      (long long)(base / 2), (long long)(base * 3 / 2));
            if (j <= (uint32_t)base)
                cr_assert_eq(s, base / 2 + j, "attempt %d, jitter %u: one second per step", a, j);
        }
        if (a > 1) {
            int64_t prev = money_out_retry_after(a - 1, 0);
            cr_assert_eq(money_out_retry_after(a, 0), 2 * prev < 1800 ? 2 * prev : 1800,
                         "attempt %d: the floor doubles until the cap", a);
        }
    }
    /* the exact extremes the contract names */
    cr_assert_eq(money_out_retry_after(1, 0), 15);
    cr_assert_eq(money_out_retry_after(1, 30), 45);
    cr_assert_eq(money_out_retry_after(1, UINT32_MAX), 15 + (int64_t)(UINT32_MAX % 31));
    cr_assert_eq(money_out_retry_after(7, 0), 960);
    cr_assert_eq(money_out_retry_after(7, 1920), 2880);
    /* the cap: 1 h from the 8th attempt on (30 * 2^7 = 3840 > 3600), however many */
    const int capped[] = {8, 9, 12, 20, 31, 32, 64, 1000, 1000000, INT_MAX};
    for (size_t i = 0; i < sizeof capped / sizeof capped[0]; i++) {
        int a = capped[i];
        cr_assert_eq(money_out_retry_after(a, 0), 1800, "attempt %d", a);
        cr_assert_eq(money_out_retry_after(a, 3600), 5400, "attempt %d", a);
        cr_assert_eq(money_out_retry_after(a, 3601), 1800, "attempt %d", a);
        int64_t s = money_out_retry_after(a, UINT32_MAX);
        cr_assert(s >= 1800 && s <= 5400, "attempt %d: %lld", a, (long long)s);
    }
    /* no attempt recorded yet (or a nonsense count): the first backoff */
    for (int a = -5; a <= 0; a++) {
        cr_assert_eq(money_out_retry_after(a, 0), 15, "attempt %d", a);
        cr_assert_eq(money_out_retry_after(a, 30), 45, "attempt %d", a);
        cr_assert_eq(money_out_retry_after(a, UINT32_MAX), money_out_retry_after(1, UINT32_MAX),
                     "attempt %d", a);
    }
    cr_assert_eq(money_out_retry_after(INT_MIN, 0), 15);
    /* every jitter of one base lands on each second of the window once */
    for (uint32_t j = 0; j <= 60; j++)
        cr_assert_eq(money_out_retry_after(2, j), 30 + j);
}

Test(contracts, the_state_tables_allow_exactly_the_documented_moves)
{
    const char *ms[] = {"pending",  "funded",   "submitted", "released",
                        "disputed", "resolved", "refunded"};
    const char *allowed[][2] = {
        {"pending", "funded"},    {"funded", "submitted"}, {"submitted", "released"},
        {"submitted", "funded"},  {"funded", "disputed"},  {"submitted", "disputed"},
        {"disputed", "resolved"}, {"pending", "refunded"}, {"funded", "refunded"}};
    int n = 0;
    for (size_t a = 0; a < 7; a++)
        for (size_t b = 0; b < 7; b++) {
            int want = 0;
            for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
                want |= strcmp(allowed[k][0], ms[a]) == 0 && strcmp(allowed[k][1], ms[b]) == 0;
            cr_expect_eq(milestones_can_move(ms[a], ms[b]), want, "%s -> %s", ms[a], ms[b]);
            n += want;
        }
    cr_assert_eq(n, 9);
    cr_assert(contracts_can_move("offered", "active") && contracts_can_move("active", "ended"));
    cr_assert(!contracts_can_move("ended", "active") && !contracts_can_move("declined", "active"));
    cr_assert(timesheets_can_move("submitted", "approved") && !timesheets_can_move("approved", "submitted"));
    cr_assert(milestone_holds_escrow("funded") && milestone_holds_escrow("disputed") &&
              !milestone_holds_escrow("released") && !milestone_holds_escrow("pending"));
}
