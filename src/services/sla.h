/* sla: the 8-hour promise, kept by durable jobs.
 *
 *   sla.half      at submission + 4 h: a request still matching with fewer
 *                 than 3 acceptances widens its search step by step (drop
 *                 the nice-to-haves, then seniority +-1, then the overlap)
 *                 until it finds new candidates, invites them, and records
 *                 what it relaxed;
 *   sla.deadline  at submission + 8 h: a request still matching becomes
 *                 breached; the client and every admin are notified;
 *                 matching goes on;
 *   invite.expire at invitation + 24 h: a silent candidate expires and the
 *                 next best is invited.
 *
 * Each handler commits its effect and its job's completion together. The
 * metrics: opx_time_to_match_seconds (histogram), opx_sla_hits_total and
 * opx_sla_breaches_total. */
#ifndef OPX_SLA_H
#define OPX_SLA_H
#include <stdint.h>
#include "../store/store.h"

void sla_init(store *s);
/* a request became matched at now (created at created_at, due at deadline) */
void sla_observe_match(int64_t created_at, int64_t deadline, int64_t now);
/* the relaxation flags a request's relaxed-JSON stands for */
unsigned sla_relax_flags(const char *relaxed_json);
#endif
