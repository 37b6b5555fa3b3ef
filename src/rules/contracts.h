/* contracts: the rules of hiring and paying, in one place. The state
 * machines of contracts, milestones and timesheets are tables here, and
 * every store transaction that moves one asks them first (a move they do
 * not list is a 409 with the current state). Offer validation lives here
 * too. Money itself is src/rules/ledger.c. */
#ifndef OPX_CONTRACTS_H
#define OPX_CONTRACTS_H
#include <jansson.h>
#include <stdint.h>
#include "../core/jsonv.h"

#define CONTRACT_MAX_MILESTONES 20
#define CONTRACT_FEE_BPS_DEFAULT 1000      /* 10% */
#define MILESTONE_AUTO_RELEASE_S (14 * 86400)
#define TIMESHEET_AUTO_RELEASE_S (5 * 86400)

/* contract: offered -> active | declined | withdrawn; active -> ended */
int contracts_can_move(const char *from, const char *to);
/* milestone: pending -> funded -> submitted -> released; submitted ->
 * funded (changes requested); funded|submitted -> disputed -> resolved;
 * pending|funded -> refunded (the contract ends) */
int milestones_can_move(const char *from, const char *to);
/* timesheet: submitted -> approved | disputed */
int timesheets_can_move(const char *from, const char *to);
/* milestone states whose money sits in escrow */
int milestone_holds_escrow(const char *status);

extern const jv_field contract_offer_fields[];
/* Checks an offer body beyond its field table: type-specific fields,
 * amounts, dates (YYYY-MM-DD, not in the past relative to today_s),
 * currency. Errors go to errs. */
void contracts_check_offer(json_t *body, int64_t today_s, jv_errors *errs);
#endif
