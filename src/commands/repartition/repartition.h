/*
 * repartition.h - "pgpart repartition TABLE --interval UNIT [--from DATE]":
 * from a date on, a managed table's new partitions are periods of another
 * interval (premake and maintain follow it); the change is a row of
 * pgpart.interval_history, so every command reads one schedule of intervals.
 * Existing partitions are never touched (their split and merge is other work).
 */
#ifndef PGPART_COMMANDS_REPARTITION_H
#define PGPART_COMMANDS_REPARTITION_H

#include "core/schedule.h"
#include "pg/catalog.h"
#include "util/namelist.h"

typedef struct RepartitionOptions
{
	const char *table;
	CalUnit unit;
	bool has_from;
	CivilDate from;
} RepartitionOptions;

typedef struct RepartitionResult
{
	char *schema;
	char *name;
	CalUnit unit;
	CalUnit previous; /* the interval of the period that ends on from */
	CivilDate from;
	bool has_partitions_end;
	CivilDate partitions_end; /* end of the last partition */
	int replaced;			  /* planned changes from that date on, replaced */
	IntervalSchedule sched;	  /* the schedule from now on */
	NameList first_periods;	  /* "name [from, to)" of the first periods of the new interval */
} RepartitionResult;

void repartitionresult_free(RepartitionResult *r);
bool ops_repartition(PgConn *pc, const RepartitionOptions *opt, RepartitionResult *res,
					 PgpError *err);

#endif
