/* test_ledger: the money rules as data — every transaction the ledger
 * module builds balances per currency, the fee rounds down and never
 * overflows, splits add up, ledger_check refuses what would break an
 * invariant, and the contract/milestone/timesheet state tables allow
 * exactly the moves PRODUCT.md names. */
#include "domain/contracts.h"
#include "domain/ledger.h"
#include <criterion/criterion.h>
#include <string.h>

static int64_t sum_of(const ledger_txn *t, const char *account)
{
    int64_t s = 0;
    for (int i = 0; i < t->n; i++)
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

Test(contracts, the_state_tables_allow_exactly_the_documented_moves)
{
    const char *ms[] = {"pending", "funded", "submitted", "released", "disputed", "resolved", "refunded"};
    const char *allowed[][2] = {{"pending", "funded"},     {"funded", "submitted"},  {"submitted", "released"},
                                {"submitted", "funded"},   {"funded", "disputed"},   {"submitted", "disputed"},
                                {"disputed", "resolved"},  {"pending", "refunded"},  {"funded", "refunded"}};
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
