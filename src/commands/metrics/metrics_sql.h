/*
 * metrics_sql.h - the statements of the metrics collection that read
 * pgpart's own tables (run_log, migration, archive_job) and set its
 * session's time limits.  Each returns the result to read, or NULL with err.
 */
#ifndef PGPART_COMMANDS_METRICS_SQL_H
#define PGPART_COMMANDS_METRICS_SQL_H

#include "pg/conn.h"

PGresult *metrics_sql_runs(PgConn *pc, PgpError *err);
PGresult *metrics_sql_migrations(PgConn *pc, PgpError *err);
/* per table and command in run_log: the last and the largest writers' wait, in seconds */
PGresult *metrics_sql_writers_wait(PgConn *pc, PgpError *err);
PGresult *metrics_sql_archive(PgConn *pc, PgpError *err);
bool metrics_sql_set_timeouts(PgConn *pc, const char *lock_ms, const char *stmt_ms, PgpError *err);

#endif
