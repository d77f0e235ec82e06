/*
 * metrics_sql.h - the statements of the metrics collection that read
 * pgpart's own tables (run_log, migration, archive_job) and set its
 * session's time limits.  Each returns the result to read, or NULL with err.
 */
#ifndef PGPART_COMMANDS_METRICS_SQL_H
#define PGPART_COMMANDS_METRICS_SQL_H

#include "pg/conn.h"

/* what the collection reads, one query each (rows described in metrics_sql.c) */
typedef enum MetricsRead
{
	METRICS_RUNS,		  /* maintain's outcomes per table, from run_log */
	METRICS_WRITERS_WAIT, /* per table and command: the last and the largest writers' wait */
	METRICS_MIGRATIONS,	  /* the newest migration of each table */
	METRICS_ARCHIVE,	  /* archive and restore outcomes */
	METRICS_REMOTE		  /* partitions on remote servers, and the remote jobs not ended */
} MetricsRead;

PGresult *metrics_sql_read(PgConn *pc, MetricsRead which, PgpError *err);
bool metrics_sql_set_timeouts(PgConn *pc, const char *lock_ms, const char *stmt_ms, PgpError *err);

#endif
