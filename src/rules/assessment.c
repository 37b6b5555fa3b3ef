/* assessment: bank, draws and grading (see assessment.h). */
#include "assessment.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "vetting.h"

extern const char question_bank_json[];
extern const unsigned long question_bank_json_len;

#define BANK_MAX 256

typedef struct {
    const char *id, *prompt, *explanation;
    const char *choices[4];
    int answer;
} question;

static json_t *bank_root; /* owns every string the questions point at */
static question bank[BANK_MAX];
static int nbank;

int assessment_bank_size(void)
{
    return nbank;
}

void assessment_free(void)
{
    json_decref(bank_root);
    bank_root = NULL;
    nbank = 0;
}

int assessment_init(char *err, size_t errlen)
{
    json_error_t je;
    assessment_free();
    bank_root = json_loadb(question_bank_json, question_bank_json_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(bank_root)) {
        snprintf(err, errlen, "question bank: %s (line %d)", je.text, je.line);
        return -1;
    }
    size_t i;
    json_t *q;
    json_array_foreach(bank_root, i, q) {
        if (nbank >= BANK_MAX) break;
        question *x = &bank[nbank];
        json_t *choices = NULL;
        json_int_t answer = -1;
        if (json_unpack(q, "{s:s,s:s,s:s,s:o,s:I}", "id", &x->id, "prompt", &x->prompt,
                        "explanation", &x->explanation, "choices", &choices, "answer",
                        &answer) != 0 ||
            json_array_size(choices) != 4 || answer < 0 || answer > 3) {
            snprintf(err, errlen, "question bank: entry %zu is malformed", i);
            return -1;
        }
        for (int k = 0; k < 4; k++) {
            x->choices[k] = json_string_value(json_array_get(choices, (size_t)k));
            if (!x->choices[k]) {
                snprintf(err, errlen, "question bank: %s has a non-string choice", x->id);
                return -1;
            }
        }
        for (int k = 0; k < nbank; k++)
            if (strcmp(bank[k].id, x->id) == 0) {
                snprintf(err, errlen, "question bank: duplicate id %s", x->id);
                return -1;
            }
        x->answer = (int)answer;
        nbank++;
    }
    if (nbank < 2 * VETTING_QUESTIONS) {
        snprintf(err, errlen, "question bank: %d questions, at least %d needed", nbank,
                 2 * VETTING_QUESTIONS);
        return -1;
    }
    return 0;
}

static const question *find(const char *id)
{
    for (int i = 0; i < nbank; i++)
        if (strcmp(bank[i].id, id) == 0) return &bank[i];
    return NULL;
}

int assessment_draw(char *out, size_t outlen)
{
    int idx[BANK_MAX];
    for (int i = 0; i < nbank; i++) idx[i] = i;
    /* Fisher-Yates with an unbiased uniform source */
    for (int i = nbank - 1; i > 0; i--) {
        int k = (int)randombytes_uniform((uint32_t)i + 1);
        int t = idx[i];
        idx[i] = idx[k];
        idx[k] = t;
    }
    size_t used = 0;
    int n = snprintf(out, outlen, "[");
    used += (size_t)n;
    for (int i = 0; i < VETTING_QUESTIONS; i++) {
        int p[4] = {0, 1, 2, 3};
        for (int k = 3; k > 0; k--) {
            int r = (int)randombytes_uniform((uint32_t)k + 1);
            int t = p[k];
            p[k] = p[r];
            p[r] = t;
        }
        n = snprintf(out + used, outlen - used, "%s{\"q\":\"%s\",\"p\":[%d,%d,%d,%d]}",
                     i ? "," : "", bank[idx[i]].id, p[0], p[1], p[2], p[3]);
        if (n < 0 || (size_t)n >= outlen - used) return -1;
        used += (size_t)n;
    }
    if (used + 2 > outlen) return -1;
    out[used++] = ']';
    out[used] = '\0';
    return 0;
}

/* the draw's entries: question and permutation (shown k -> bank choice p[k]) */
typedef struct {
    const question *q;
    int p[4];
} drawn;

static int parse_draw(const char *draw, drawn *out, int max)
{
    json_t *arr = json_loads(draw, 0, NULL);
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (n >= max) break;
        const char *id = json_string_value(json_object_get(e, "q"));
        json_t *p = json_object_get(e, "p");
        const question *q = id ? find(id) : NULL;
        if (!q || json_array_size(p) != 4) continue; /* a question retired from the bank */
        out[n].q = q;
        for (int k = 0; k < 4; k++) out[n].p[k] = (int)json_integer_value(json_array_get(p, (size_t)k));
        n++;
    }
    json_decref(arr);
    return n;
}

json_t *assessment_questions_json(const char *draw)
{
    drawn d[VETTING_QUESTIONS];
    int n = parse_draw(draw, d, VETTING_QUESTIONS);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *choices = json_array();
        for (int k = 0; k < 4; k++) json_array_append_new(choices, json_string(d[i].q->choices[d[i].p[k]]));
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "id", d[i].q->id, "prompt",
                                             d[i].q->prompt, "choices", choices));
    }
    return arr;
}

int assessment_grade(const char *draw, json_t *answers, jv_errors *errs, int *score,
                     json_t **results, char *record, size_t recordlen)
{
    drawn d[VETTING_QUESTIONS];
    int n = parse_draw(draw, d, VETTING_QUESTIONS);
    int chosen[VETTING_QUESTIONS];
    for (int i = 0; i < n; i++) chosen[i] = -1;
    size_t i;
    json_t *a;
    json_array_foreach(answers, i, a) {
        char path[64];
        const char *qid = json_string_value(json_object_get(a, "question_id"));
        json_int_t choice = json_integer_value(json_object_get(a, "choice"));
        int k = 0;
        while (k < n && strcmp(d[k].q->id, qid ? qid : "") != 0) k++;
        snprintf(path, sizeof path, "answers[%zu].question_id", i);
        if (k == n) {
            jv_add_error(errs, path, "is not a question of this attempt");
            continue;
        }
        if (chosen[k] != -1) {
            jv_add_error(errs, path, "answers %s a second time", qid);
            continue;
        }
        chosen[k] = (int)choice; /* the range was checked by the schema */
    }
    if (errs->n) return -1;
    *score = 0;
    *results = json_array();
    size_t used = (size_t)snprintf(record, recordlen, "[");
    for (int k = 0; k < n; k++) {
        int right_shown = 0;
        for (int s = 0; s < 4; s++)
            if (d[k].p[s] == d[k].q->answer) right_shown = s;
        int ok = chosen[k] == right_shown;
        *score += ok;
        json_array_append_new(*results,
                              json_pack("{s:s,s:o,s:i,s:b,s:s}", "question_id", d[k].q->id,
                                        "your_choice", chosen[k] < 0 ? json_null() : json_integer(chosen[k]),
                                        "correct_choice", right_shown, "correct", ok,
                                        "explanation", d[k].q->explanation));
        int w = snprintf(record + used, recordlen > used ? recordlen - used : 0, "%s%d",
                         k ? "," : "", chosen[k]);
        if (w > 0) used += (size_t)w;
    }
    if (used + 2 <= recordlen) {
        record[used++] = ']';
        record[used] = '\0';
    }
    return 0;
}
