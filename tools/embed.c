/* embed: turns a file into a C array at build time (used for the OpenAPI
 * document), so the binary never reads the source tree at run time.
 * usage: embed INPUT OUTPUT SYMBOL */
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: embed INPUT OUTPUT SYMBOL\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "w");
    if (!in || !out) {
        perror("embed");
        return 1;
    }
    fprintf(out, "/* generated from %s by tools/embed.c; do not edit */\n", argv[1]);
    fprintf(out, "const char %s[] = {", argv[3]);
    unsigned long n = 0;
    int c;
    while ((c = fgetc(in)) != EOF) fprintf(out, "%s%d,", n++ % 20 ? "" : "\n", c);
    fprintf(out, "0};\nconst unsigned long %s_len = %luUL;\n", argv[3], n);
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
