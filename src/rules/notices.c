/* notices: the words of each event's mail (see notices.h). */
#include "notices.h"
#include <stddef.h>
#include <string.h>

static const notice_words words[] = {
    {"contract.offered", "You have a contract offer",
     "A client offered you a contract. Review and accept it in Offline Pixel."},
    {"contract.accepted", "Your contract was accepted",
     "The engineer accepted your contract. Fund the first milestone to start."},
    {"contract.declined", "Your contract offer was declined",
     "The engineer declined your contract offer."},
    {"milestone.funded", "A milestone was funded",
     "Your client funded a milestone: its money is in escrow. You can start."},
    {"milestone.submitted", "A milestone was submitted for review",
     "Your engineer submitted a milestone. Approve it, ask for changes or open a "
     "dispute within 14 days; after that it is released automatically."},
    {"milestone.released", "A milestone was released to you",
     "A milestone's money moved from escrow to your balance, less the platform fee."},
    {"milestone.changes_requested", "Changes were requested",
     "Your client asked for changes to a milestone; it is back in progress."},
    {"milestone.disputed", "A milestone is disputed",
     "A milestone was disputed; its money stays in escrow until an admin resolves "
     "it."},
    {"milestone.resolved", "A dispute was resolved",
     "An admin resolved a dispute: part of the milestone was released, part "
     "refunded."},
    {"contract.ended", "A contract ended",
     "A contract ended. Unfunded work was dropped and escrow refunded; you can now "
     "review each other."},
    {"timesheet.submitted", "A timesheet was submitted",
     "Your engineer submitted a weekly timesheet. Approve it within 5 days; after "
     "that the hours are released automatically."},
    {"timesheet.approved", "A timesheet was approved",
     "Your weekly hours were released to your balance, less the platform fee."},
    {"refund.succeeded", "Your refund is on its way",
     "A refund to your card went through; your bank shows it within a few days."},
    {"payout.succeeded", "A payout is on its way",
     "A payout of your released earnings was sent to your payout account."},
    {"refund.failed", "A refund could not be made",
     "The card refund was refused. The money is held for you and our team will send "
     "it again."},
    {"payout.failed", "A payout failed",
     "A payout to your payout account failed; the money is back in your balance and "
     "goes out in the next payout once your payout account is fixed."},
    {"payout.reversed", "A payout was reversed",
     "A payout to your account was reversed; the money is back in your balance."},
};

const notice_words *notice_words_for(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof words / sizeof words[0]; i++)
        if (strcmp(words[i].kind, kind) == 0) return &words[i];
    return NULL;
}
