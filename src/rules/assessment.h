/* assessment: the question bank and the grading of attempts.
 *
 * The bank (question_bank.json, embedded at build time) is parsed and
 * checked at start-up. An attempt draws VETTING_QUESTIONS distinct
 * questions at random and shuffles each one's choices; what is stored is
 * the draw ({"q": id, "p": permutation}), so the server can show the same
 * attempt again and grade it, while the right answers and explanations
 * never leave the server before grading. */
#ifndef OPX_ASSESSMENT_H
#define OPX_ASSESSMENT_H
#include <jansson.h>
#include <stddef.h>
#include "../core/jsonv.h"

/* Parses and checks the embedded bank; -1 with a message when it is bad. */
int assessment_init(char *err, size_t errlen);
void assessment_free(void);
int assessment_bank_size(void);
/* A new random draw as JSON text into out; -1 when it does not fit. */
int assessment_draw(char *out, size_t outlen);
/* [{"id","prompt","choices":[...]}] in the drawn order, without answers. */
json_t *assessment_questions_json(const char *draw);
/* Grades answers ([{"question_id","choice"}]) against a draw. Returns -1
 * and fills errs when the answers are invalid; else 0 with *score, the
 * per-question results (with the right answers and explanations) and the
 * compact record of what was answered (for storage). */
int assessment_grade(const char *draw, json_t *answers, jv_errors *errs, int *score,
                     json_t **results, char *record, size_t recordlen);
#endif
