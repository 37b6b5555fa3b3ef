/* tz: IANA zone names from tzdata.zi (see tz.h). */
#include "tz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_MAX 2048

static char *names[TZ_MAX];
static int count;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add(const char *name)
{
    if (count >= TZ_MAX || strlen(name) > 64) return;
    names[count] = strdup(name);
    if (names[count]) count++;
}

int tz_load(const char *path)
{
    tz_free();
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char a[128], b[128];
        /* "Z Europe/Berlin ..." defines a zone; "L Europe/Berlin Arctic/Longyearbyen" a link */
        if (line[0] == 'Z' && sscanf(line, "Z %127s", a) == 1) add(a);
        else if (line[0] == 'L' && sscanf(line, "L %127s %127s", a, b) == 2) add(b);
    }
    fclose(f);
    add("UTC");
    qsort(names, (size_t)count, sizeof names[0], cmp);
    return count;
}

int tz_valid(const char *name)
{
    if (!name || !*name || count == 0) return 0;
    return bsearch(&name, names, (size_t)count, sizeof names[0], cmp) != NULL;
}

void tz_free(void)
{
    for (int i = 0; i < count; i++) free(names[i]);
    count = 0;
}
