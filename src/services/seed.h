/* seed: `opx seed --demo`, a believable population for a demo database:
 * the staff and client demo accounts, DEMO_ENGINEERS vetted engineers
 * (seed_data.c makes them up, deterministically) and DEMO_APPLICANTS who
 * passed the assessment and wait in the interview queue. Everything goes
 * through the same store operations, and so the same lifecycle checks and
 * audit rows, as real users; times are back-dated so the queue and the
 * history look lived-in. Idempotent: people who exist are left alone. */
#ifndef OPX_SEED_H
#define OPX_SEED_H
#include <stdio.h>

#define DEMO_ENGINEERS 200
#define DEMO_APPLICANTS 12
#define DEMO_PASSWORD "demo-pass-123"

/* Returns 0, or 1 with a message on err when something failed. */
int seed_demo(const char *db, FILE *out, char *err, size_t errlen);
#endif
