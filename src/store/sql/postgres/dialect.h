/* dialect: SQL fragments the PostgreSQL statements share. */
#ifndef OPX_SQL_POSTGRES_DIALECT_H
#define OPX_SQL_POSTGRES_DIALECT_H
/* a unix time column as the API writes times (RFC 3339, UTC) */
#define SQL_RFC3339(x) "to_char(to_timestamp(" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#endif
