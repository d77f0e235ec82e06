/*
 * status.h - "pgpart status": partitions, sizes, tiers, rollups and warnings of
 * managed tables, shared with "pgpart metrics".  Prints nothing.
 */
#ifndef PGPART_COMMANDS_STATUS_H
#define PGPART_COMMANDS_STATUS_H

#include "core/calendar.h"
#include "core/schedule.h"
#include "pg/catalog.h"
#include "pg/stats.h"

#define STATUS_DEFAULT_COUNT_CAP 1000000L

typedef struct TableStatus
{
	char *schema;
	char *name;
	bool exists;
	char *column;
	IntervalSchedule sched; /* the table's interval, and its changes (repartition) */
	int premake;
	char *time_zone;
	PartitionStatsList parts;
	long default_rows; /* counted up to STATUS_DEFAULT_COUNT_CAP */
	int future_partitions;
	char *last_maintain_at; /* NULL: never */
	bool last_maintain_ok;
	NameList rollups; /* one line per rollup: coverage and freshness */
	NameList tiers;	  /* per partition (same order as parts): "hot" or "warm" */
	NameList intervals; /* per partition: "quarter", ...; "" when not one period */
	char *policy;	  /* the tier policy in words; NULL: none */
	NameList archived; /* archived (or being archived) partitions, one line each */
	NameList remote;   /* partitions on a remote server (pgpart remote), one line each */
	NameList warnings;
} TableStatus;

typedef struct StatusResult
{
	TableStatus *tables;
	int n;
	int warnings; /* over all tables */
} StatusResult;

void statusresult_free(StatusResult *r);
bool ops_status(PgConn *pc, const char *table, StatusResult *res, PgpError *err);

#endif
