/* money_jobs: job handlers of the money path (see money_jobs.c). */
#ifndef OPX_MONEY_JOBS_H
#define OPX_MONEY_JOBS_H
#include "../store/store.h"

#define MONEY_IDEM_KEEP_S (48 * 3600)
#define MONEY_IDEM_PRUNE_EVERY_S 3600

/* registers the handlers and schedules the first key pruning; call before jobs_start */
void money_jobs_init(store *s);
#endif
