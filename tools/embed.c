/* embed: turns files into C arrays at build time, so the binary never reads
 * the source tree at run time.
 *   embed INPUT OUTPUT SYMBOL          one file (the OpenAPI document, the
 *                                      question bank): SYMBOL[], SYMBOL_len
 *   embed --dir DIR OUTPUT SYMBOL DEP  every regular file under DIR (the web
 *                                      app), as SYMBOL[] = {path, data, len}
 *                                      ending with a NULL path, SYMBOL_count;
 *                                      DEP is a Makefile-style depfile naming
 *                                      every file and directory read, so
 *                                      ninja re-runs it when one changes or a
 *                                      file appears. Dotfiles are skipped,
 *                                      as static.c skips them on disk.
 * The output is written only when its bytes change, so a no-op build does
 * not recompile or relink anything. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILES 512
#define MAX_DEPTH 6
#define SAFE_NAME "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (b->n + n + 1 > cap) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            perror("embed");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void putf(sbuf *b, const char *fmt, const char *a)
{
    char tmp[2048];
    int n = snprintf(tmp, sizeof tmp, fmt, a);
    put(b, tmp, (size_t)n);
}

/* data as decimal bytes, twenty to a line */
static int put_bytes(sbuf *out, const char *path, unsigned long *len)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        perror(path);
        return -1;
    }
    unsigned long n = 0;
    int c;
    char tmp[8];
    while ((c = fgetc(in)) != EOF) {
        int k = snprintf(tmp, sizeof tmp, "%s%d,", n++ % 20 ? "" : "\n", c);
        put(out, tmp, (size_t)k);
    }
    fclose(in);
    put(out, "0", 1);
    *len = n;
    return 0;
}

/* writes path only when its content differs from b */
static int write_if_changed(const char *path, const sbuf *b)
{
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t same = 1, i = 0;
        int c;
        while ((c = fgetc(f)) != EOF && same) same = i < b->n && (char)c == b->p[i++];
        fclose(f);
        if (same && i == b->n) return 0;
    }
    f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->n, f) != b->n) {
        perror(path);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int one_file(const char *in, const char *out, const char *sym)
{
    sbuf b = {0};
    unsigned long n = 0;
    putf(&b, "/* generated from %s by tools/embed.c; do not edit */\n", in);
    putf(&b, "const char %s[] = {", sym);
    int rc = 1;
    if (put_bytes(&b, in, &n) == 0) {
        char tail[256];
        snprintf(tail, sizeof tail, "};\nconst unsigned long %s_len = %luUL;\n", sym, n);
        put(&b, tail, strlen(tail));
        rc = write_if_changed(out, &b) == 0 ? 0 : 1;
    }
    free(b.p);
    return rc;
}

typedef struct {
    char url[512], fs[1024];
} entry;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->url, ((const entry *)b)->url);
}

static int walk(const char *dir, const char *url, int depth, entry *e, int *n, sbuf *dep)
{
    if (depth > MAX_DEPTH) return 0;
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    put(dep, " \\\n ", 4);
    put(dep, dir, strlen(dir));
    struct dirent *x;
    int rc = 0;
    while (rc == 0 && (x = readdir(d))) {
        if (x->d_name[0] == '.') continue;
        if (x->d_name[strspn(x->d_name, SAFE_NAME)]) {
            fprintf(stderr, "embed: %s/%s: only letters, digits and ._- in web file names\n", dir, x->d_name);
            rc = -1;
            break;
        }
        char fs[1024], u[512];
        snprintf(fs, sizeof fs, "%s/%s", dir, x->d_name);
        snprintf(u, sizeof u, "%s/%s", url, x->d_name);
        struct stat st;
        if (stat(fs, &st) < 0) continue;
        if (S_ISDIR(st.st_mode)) {
            rc = walk(fs, u, depth + 1, e, n, dep);
        } else if (S_ISREG(st.st_mode)) {
            if (*n >= MAX_FILES) {
                fprintf(stderr, "embed: more than %d files under the web root\n", MAX_FILES);
                rc = -1;
                break;
            }
            snprintf(e[*n].url, sizeof e[*n].url, "%s", u);
            snprintf(e[*n].fs, sizeof e[*n].fs, "%s", fs);
            (*n)++;
            put(dep, " \\\n ", 4);
            put(dep, fs, strlen(fs));
        }
    }
    closedir(d);
    return rc;
}

/* the generated source for the n files in e, into b */
static int dir_source(const char *dir, const char *sym, entry *e, int n, sbuf *b)
{
    unsigned long *lens = calloc((size_t)n + 1, sizeof *lens);
    if (!lens) return -1;
    putf(b, "/* generated from %s by tools/embed.c; do not edit */\n", dir);
    put(b, "#include <stddef.h>\n", 20);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "static const char f%d[] = {", i);
        put(b, name, strlen(name));
        if (put_bytes(b, e[i].fs, &lens[i]) < 0) {
            free(lens);
            return -1;
        }
        put(b, "};\n", 3);
    }
    putf(b, "const struct { const char *path; const char *data; size_t len; } %s[] = {\n", sym);
    for (int i = 0; i < n; i++) {
        char row[64];
        put(b, "  {\"", 4);
        put(b, e[i].url, strlen(e[i].url));
        snprintf(row, sizeof row, "\", f%d, %luUL},\n", i, lens[i]);
        put(b, row, strlen(row));
    }
    put(b, "  {NULL, NULL, 0}\n};\n", 21);
    char tail[128];
    snprintf(tail, sizeof tail, "const int %s_count = %d;\n", sym, n);
    put(b, tail, strlen(tail));
    free(lens);
    return 0;
}

static int whole_dir(const char *dir, const char *out, const char *sym, const char *depfile)
{
    static entry e[MAX_FILES];
    int n = 0, rc = 1;
    sbuf b = {0}, dep = {0};
    put(&dep, out, strlen(out));
    put(&dep, ":", 1);
    if (walk(dir, "", 0, e, &n, &dep) == 0) {
        put(&dep, "\n", 1);
        qsort(e, (size_t)n, sizeof e[0], cmp_entry); /* readdir order is the file system's */
        if (dir_source(dir, sym, e, n, &b) == 0 && write_if_changed(out, &b) == 0 &&
            write_if_changed(depfile, &dep) == 0)
            rc = 0;
    }
    free(b.p);
    free(dep.p);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--dir") == 0) return whole_dir(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 4) return one_file(argv[1], argv[2], argv[3]);
    fprintf(stderr, "usage: embed INPUT OUTPUT SYMBOL\n       embed --dir DIR OUTPUT SYMBOL DEPFILE\n");
    return 2;
}
