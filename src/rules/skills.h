/* skills: the skills catalog of PRODUCT.md, with stable ids in groups.
 * Ids never change once shipped (profiles, requests and matching refer to
 * them); names are for display. */
#ifndef OPX_SKILLS_H
#define OPX_SKILLS_H
#include <jansson.h>

typedef struct {
    const char *id, *name, *group;
} skill;

extern const skill skills_catalog[];
extern const int skills_count;

/* index in the catalog, or -1 */
int skills_find(const char *id);
/* {"groups":[{"id","name","skills":[{"id","name"}]}]} */
json_t *skills_catalog_json(void);
#endif
