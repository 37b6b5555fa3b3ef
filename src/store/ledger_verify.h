/* ledger_verify: re-derives every balance from the ledger's entries and
 * checks the money invariants (see tx_ledger.c for the list). */
#ifndef OPX_LEDGER_VERIFY_H
#define OPX_LEDGER_VERIFY_H
#include <stdint.h>
#include "../core/buf.h"

/* Opens the database url names and checks it in one snapshot. Returns 0 with the
 * violation count in *violations and a text report appended to report,
 * or -1 when the database could not be read (why in report). */
int store_ledger_verify(const char *db, buf *report, int64_t *violations);
#endif
