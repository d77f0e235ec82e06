/*
 * log.h - "pgpart log [TABLE] [--since DATE] [--keep-days N]": what
 * pgpart.change_log holds (pg/changelog.h writes it), newest last, and the
 * pruning of entries older than --keep-days, itself recorded.
 */
#ifndef PGPART_COMMANDS_LOG_H
#define PGPART_COMMANDS_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/calendar.h"
#include "pg/conn.h"

typedef struct LogOptions
{
	const char *table; /* NULL: every table */
	bool has_since;
	CivilDate since;
	bool has_keep;
	int64_t keep_ms;
	int limit; /* the newest this many */
} LogOptions;

typedef struct LogEntry
{
	char *started_at;
	double duration_ms;
	char *role;
	char *host;
	int pid;
	char *command;
	char *table; /* NULL: not about one table */
	char *kind;	 /* ddl, lock or rows */
	char *statement;
	long long rows; /* -1: the statement reports none */
	char *outcome;
	/* a LOCK: from granted to the commit; -1 otherwise, or not filled in */
	double lock_hold_ms;
} LogEntry;

typedef struct LogResult
{
	LogEntry *entries;
	int n;
	bool pruned_run;
	long long pruned;
} LogResult;

void logresult_free(LogResult *r);
bool ops_log(PgConn *pc, const LogOptions *opt, LogResult *res, PgpError *err);

#endif
