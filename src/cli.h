/* cli: opx commands that live beside main.c (each file one command or a
 * pair), called by main with argv starting at the command's name. */
#ifndef OPX_CLI_H
#define OPX_CLI_H

extern const char cli_usage_backup[], cli_usage_restore[], cli_usage_copy[];
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_copy(int argc, char **argv);
#endif
