/* pgtest: the unit tests' PostgreSQL. They run only when OPX_TEST_PG
 * names a server (postgres://USER@HOST:PORT/DB, e.g. from
 * tests/pg/pg-server.sh); each test makes a database of its own there and
 * drops it at the end. */
#ifndef OPX_TEST_PGTEST_H
#define OPX_TEST_PGTEST_H
#include <libpq-fe.h>
#include <stddef.h>

/* OPX_TEST_PG, or NULL when unset or empty */
const char *pgtest_server(void);
/* url with its database replaced by name, into out */
void pgtest_url(const char *url, const char *name, char *out, size_t cap);
/* creates a fresh database "opx_t_<tag>_<pid>" (dropping a leftover of the
 * same name) and writes its URL to out; 0 or -1 with err filled */
int pgtest_fresh(const char *tag, char *out, size_t cap, char *err, size_t errlen);
/* drops the database url names (connecting to the server's own) */
void pgtest_drop(const char *url);
/* a plain blocking connection; NULL with err filled */
PGconn *pgtest_connect(const char *url, char *err, size_t errlen);
#endif
