/*
 * log_sql.h - the statements of pgpart log: reading pgpart.change_log and
 * deleting its old entries.
 */
#ifndef PGPART_COMMANDS_LOG_SQL_H
#define PGPART_COMMANDS_LOG_SQL_H

#include "commands/log/log.h"

/* table: the stored name (NULL every table); since: "YYYY-MM-DD" or NULL */
bool log_sql_read(PgConn *pc, const char *table, const char *since, int limit, LogResult *res,
				  PgpError *err);
/* schema.name as the log stores it (quoted where needed, as regclass prints it) */
bool log_sql_stored_name(PgConn *pc, const char *schema, const char *name, char **stored,
						 PgpError *err);
/* in one transaction: deletes entries older than keep_ms, and records that it did */
bool log_sql_prune(PgConn *pc, int64_t keep_ms, long long *deleted, PgpError *err);

#endif
