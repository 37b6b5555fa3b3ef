/* requests: the rules of a client's request: what a valid one is, how its
 * matching spec is stored, and the SLA's clock.
 *
 * Request states (one table, checked in one place):
 *
 *   matching ──3 acceptances──> matched ──contract accepted──> filled
 *      │  ^                         ^
 *      │  └ matching goes on        │ 3 acceptances
 *      └──SLA deadline passed──> breached
 *   matching | matched | breached ──client──> cancelled
 */
#ifndef OPX_REQUESTS_H
#define OPX_REQUESTS_H
#include <jansson.h>
#include <stdint.h>
#include "../core/jsonv.h"

#define REQUEST_SLA_S (8 * 3600)
#define REQUEST_SLA_HALF_S (REQUEST_SLA_S / 2)
#define REQUEST_INVITE_TTL_S (24 * 3600)
#define REQUEST_MATCHED_AT 3   /* acceptances that make a request matched */
#define REQUEST_SHORTLIST 5    /* invited at once */
#define REQUEST_REPLACEMENT_OPTIONS 5 /* next-best offered per replacement: racing moves each get one */

extern const jv_field request_spec_fields[];
/* Rules beyond the schema; fills spec (JSON text of the matching fields)
 * when valid. today_s is the server's now, for the start date. */
int requests_check(json_t *body, int64_t today_s, jv_errors *errs, char *spec, size_t speclen);
int requests_can_move(const char *from, const char *to);
/* "2026-11-24" -> unix seconds at 00:00 UTC; -1 when not a real date */
int64_t requests_parse_date(const char *s);
#endif
