/* money_jobs: job handlers of the money path (see money_jobs.c). */
#ifndef OPX_MONEY_JOBS_H
#define OPX_MONEY_JOBS_H
#include "../store/store.h"

/* registers the handlers; call before jobs_start */
void money_jobs_init(store *s);
#endif
