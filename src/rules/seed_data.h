/* seed_data: believable, deterministic demo engineers for `opx seed --demo`.
 * Owns the name pools, time zones, headline/bio/note templates and the
 * rules that tie rate, experience, skills and vetting scores to a level.
 * Pure computation: no I/O, no allocation, only libc and the skills
 * catalog. Every string is valid UTF-8 and fits its buffer. */
#ifndef OPX_SEED_DATA_H
#define OPX_SEED_DATA_H

#define SEED_MAX_SKILLS 12
#define SEED_MAX_LINKS 3

typedef struct {
    char name[64];        /* "Amara Okafor" */
    char headline[121];   /* <= 120 bytes: "Senior FastAPI engineer — asyncpg, Redis" */
    char bio[1200];       /* 2-4 sentences, varied, mentions concrete async work */
    char timezone[48];    /* a real IANA zone: the Americas, Europe, Africa, Asia, Oceania */
    long rate_amount;     /* minor units per hour, 4000..25000, correlated with level */
    char currency[4];     /* mostly USD, some EUR/GBP */
    int hours_per_week;   /* 10..40 */
    int years_experience; /* 2..20, correlated with level */
    int available;        /* ~90% 1 */
    int nskills;
    struct {
        char id[32];
        int self_level;
        int vetted_level;
    } skills[SEED_MAX_SKILLS];
    /* 4..12 distinct catalog ids, the main framework first; always at least
     * one framework and one concurrency skill; self_level 1..5; vetted_level
     * 1..5 within +-1 of self_level (vetters correct some) */
    int nlinks;
    char links[SEED_MAX_LINKS][128]; /* https://github.com/<handle>, https://<handle>.dev ... */
    char level[8];                   /* "mid" | "senior" | "staff" (about 45/40/15 %) */
    int scores[5];                   /* rubric 1..5: concepts, must_have, testing, production,
                                        senior; consistent with level */
    char notes[400];                 /* a vetter's interview note, 1-2 sentences */
    int quiz_score;                  /* 14..20 out of 20 (they passed) */
} seed_engineer;

/* Fills e with engineer number i (0-based) of a population generated from seed.
 * Same (seed, i) -> same engineer. Names are unique for i < 1000. */
void seed_engineer_make(unsigned seed, int i, seed_engineer *e);
#endif
