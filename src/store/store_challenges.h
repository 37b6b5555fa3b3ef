/* store_challenges: the types of the practical challenge's attempts
 * (challenge_* in store.h's table of operations). An attempt row is also
 * the durable job that grades it: `queued` waits for a grader, `running`
 * is claimed under a lease (a node that dies mid-grade loses it and the
 * attempt is claimed again), `graded` is final. Included by store.h only. */
#ifndef OPX_STORE_CHALLENGES_H
#define OPX_STORE_CHALLENGES_H
#include <stdint.h>
#include <stdlib.h>

#define STORE_CHALLENGE_CODE_MAX (64 * 1024)
#define STORE_CHALLENGE_CLAIM_MAX 8

typedef struct {
    char id[32], user_id[32], challenge_id[48];
    char status[12];          /* open | queued | running | graded */
    int64_t started_at, expires_at, submitted_at, graded_at, lease_until;
    int tries;                /* claims so far: the fencing token of a grading */
    int score, passed;        /* graded only */
    char *code;               /* malloc'd by the reads; NULL before a submission */
    char *result;             /* malloc'd JSON of the grade; NULL before */
} store_challenge;

static inline void store_challenge_free(store_challenge *a)
{
    free(a->code);
    free(a->result);
    a->code = a->result = NULL;
}

typedef struct {
    int n;
    store_challenge items[STORE_CHALLENGE_CLAIM_MAX];
} store_challenge_batch;

static inline void store_challenge_batch_free(store_challenge_batch *b)
{
    for (int i = 0; i < b->n; i++) store_challenge_free(&b->items[i]);
    b->n = 0;
}

/* the rules an attempt starts under (rules/vetting.h has the defaults) */
typedef struct {
    int max_attempts;   /* per window */
    int64_t window_s;
} store_challenge_rules;

/* the grading queue, for metrics and admission */
typedef struct {
    int queued, running;
    int64_t oldest_queued_at; /* 0: none */
} store_challenge_queue;
#endif
