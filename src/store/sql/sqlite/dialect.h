/* dialect: SQL fragments the SQLite statements share. */
#ifndef OPX_SQL_SQLITE_DIALECT_H
#define OPX_SQL_SQLITE_DIALECT_H
/* a unix time column as the API writes times (RFC 3339, UTC) */
#define SQL_RFC3339(x) "strftime('%Y-%m-%dT%H:%M:%SZ', " x ", 'unixepoch')"
#endif
