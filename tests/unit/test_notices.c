/* test_notices: every event the store mails about has its words in
 * rules/notices.c, once, and a kind without words sends no mail. */
#include "rules/notices.h"
#include <criterion/criterion.h>
#include <string.h>

/* the kinds tx_contract_announce and the money-out announcements mail */
static const char *const mailed[] = {
    "contract.offered",    "contract.accepted",
    "contract.declined",   "contract.ended",
    "milestone.funded",    "milestone.submitted",
    "milestone.released",  "milestone.changes_requested",
    "milestone.disputed",  "milestone.resolved",
    "timesheet.submitted", "timesheet.approved",
    "refund.succeeded",    "refund.failed",
    "payout.succeeded",    "payout.failed",
    "payout.reversed",
};

Test(notices, every_mailed_kind_has_a_subject_and_a_sentence)
{
    for (size_t i = 0; i < sizeof mailed / sizeof mailed[0]; i++) {
        const notice_words *w = notice_words_for(mailed[i]);
        cr_assert(w, "%s has no words", mailed[i]);
        cr_expect_str_eq(w->kind, mailed[i]);
        cr_expect(strlen(w->subject) > 8 && strlen(w->subject) < 60, "%s: subject %s", mailed[i],
                  w->subject);
        size_t n = strlen(w->text);
        cr_expect(n > 20 && w->text[n - 1] == '.', "%s: text %s", mailed[i], w->text);
        cr_expect(strchr(w->text, '\n') == NULL && strstr(w->text, "  ") == NULL,
                  "%s: one line of single-spaced text", mailed[i]);
    }
}

Test(notices, unknown_kinds_have_none)
{
    cr_expect_null(notice_words_for("milestone.fundedx"));
    cr_expect_null(notice_words_for(""));
    cr_expect_null(notice_words_for(NULL));
}
