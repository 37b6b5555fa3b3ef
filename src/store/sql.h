/* sql: the statements of the store, addressed by id.
 *
 * stmt_ids.def is the one list of statement ids. Every dialect gives each
 * id its text, one file per area (sql/sqlite/AREA.c, sql/postgres/AREA.c),
 * with parameters numbered (?1.. in SQLite, $1.. in PostgreSQL) so a test
 * can check that both dialects take the same parameters. */
#ifndef OPX_SQL_H
#define OPX_SQL_H

enum { SQL_SQLITE = 0, SQL_POSTGRES = 1, SQL_DIALECTS = 2 };

enum stmt_id {
    ST_NONE = 0,
#define STMT(id) id,
#include "stmt_ids.def"
#undef STMT
    ST__COUNT
};

typedef struct {
    int id;
    const char *sql;
} sql_stmt;

/* the text of statement id in dialect; NULL if it has none */
const char *sql_text(int dialect, int id);
/* the name of statement id ("ST_USER_CREATE"), for logs and tests */
const char *sql_name(int id);
/* the parameters text uses, as a bit set (bit n: parameter n, 1..63; bit 0
 * set when a parameter is unnumbered or out of range) */
unsigned long long sql_params(int dialect, const char *text);
/* the areas' tables, each ending with {0, NULL}; NULL-terminated */
extern const sql_stmt *const sql_tables[SQL_DIALECTS][32];
#endif
