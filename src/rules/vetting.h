/* vetting: the engineer's vetting lifecycle, as a table, checked in one
 * place. Every store operation that moves an engineer asks
 * vetting_can_move() inside its transaction and writes the audit row in
 * that same transaction.
 *
 *    registered ──PUT profile──> profile_complete ──assessment passed──> assessment_passed
 *                                     ^                                        │ scorecard
 *                                     │ new attempt after reapply_after        v
 *                                  rejected <──decision: rejected── interviewed
 *                                                                      │ decision: vetted
 *                                                                      v
 *                                                                    vetted
 *
 * Invariants: (1) only vetted engineers are ever matched; (2) a rejected
 * engineer may start again only at or after reapply_after (90 days);
 * (3) a transition not in the table is refused with the current state. */
#ifndef OPX_VETTING_H
#define OPX_VETTING_H
#include <stdint.h>

#define VETTING_PASS_MARK 14        /* of 20: 70% */
#define VETTING_QUESTIONS 20
#define VETTING_ATTEMPT_SECONDS (30 * 60)
#define VETTING_ATTEMPT_WINDOW (30 * 86400) /* at most VETTING_MAX_ATTEMPTS per window */
#define VETTING_MAX_ATTEMPTS 3
#define VETTING_REAPPLY_SECONDS (90 * 86400)

/* the practical challenge: taken after the quiz, before the interview;
 * retakes limited as for the quiz */
#define VETTING_CHALLENGE_MAX_ATTEMPTS 3
#define VETTING_CHALLENGE_WINDOW (30 * 86400)
/* 1 when an engineer in state may start a practical challenge */
int vetting_may_take_challenge(const char *state);

/* 1 when from -> to is a transition of the lifecycle */
int vetting_can_move(const char *from, const char *to);
int vetting_valid_state(const char *s);
int vetting_valid_level(const char *s);
#endif
