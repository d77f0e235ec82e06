/*
 * target.h - a partitioned table pgpart is working on, with its partitions,
 * and the one routine every command uses to give it the partitions it lacks.
 */
#ifndef PGPART_PG_TARGET_H
#define PGPART_PG_TARGET_H

#include "core/plan.h"
#include "core/schedule.h"
#include "pg/bounds.h"
#include "pg/config.h"
#include "pg/lock.h"
#include "pg/partition.h"

typedef struct Target
{
	RelInfo parent;
	char *column;
	KeyType key_type;
	IntervalSchedule sched; /* the interval of each period (one, unless repartitioned) */
	char *time_zone;
	char *columns; /* insertable columns, quoted */
	PartitionList parts;
} Target;

bool target_load(PgConn *pc, RelOid parent, const char *column, CalUnit unit,
				 const char *time_zone, Target *t, PgpError *err);
/* the same for a managed table, following the history of its interval */
bool target_load_managed(PgConn *pc, const PartConfig *cfg, Target *t, PgpError *err);
void target_free(Target *t);
bool target_refresh_partitions(PgConn *pc, Target *t, PgpError *err);

typedef struct EnsureStats
{
	NameList created;
	NameList conflicts; /* human sentences */
	long rows_moved;
	int drain_batches; /* batch transactions that moved rows out of the default */
	int drain_pauses;  /* waits of the drain for the server's health */
	double drain_paused_ms;
	int lock_attempts;
	double max_lock_held_ms;
	LockFelt felt; /* the worst ATTACH transaction, for writers (failed ones too) */
} EnsureStats;

void ensurestats_free(EnsureStats *s);

/*
 * Makes sure each period has a partition: present ones are left alone, a
 * period overlapping a partition with other bounds is reported in conflicts
 * (and skipped), missing ones are created with ATTACH, taking their rows out
 * of the default partition (in batches, DRAIN_POLICY_DEFAULT).  Stops at the
 * first failure.
 */
bool target_ensure_periods(PgConn *pc, const LockPolicy *lock, Target *t, const Period *periods,
						   int n, EnsureStats *st, PgpError *err);
/* the same with the default partition drained as drain says */
bool target_ensure_periods_drained(PgConn *pc, const LockPolicy *lock, const DrainPolicy *drain,
								   Target *t, const Period *periods, int n, EnsureStats *st,
								   PgpError *err);

/* checks periods against existing partitions without changing anything */
bool target_find_conflicts(PgConn *pc, Target *t, const Period *periods, int n, NameList *conflicts,
						   PgpError *err);

/* adds a default partition (by ATTACH) if the table has none */
bool target_ensure_default(PgConn *pc, const LockPolicy *lock, Target *t, EnsureStats *st,
						   PgpError *err);

/* distinct periods of the rows sitting in the default partition, and NULL-key rows */
bool target_default_periods(PgConn *pc, Target *t, Period **periods, int *n, long *null_rows,
							PgpError *err);

/* [first .. today + premake] for a config; start NULL: from today */
bool target_wanted_periods(PgConn *pc, Target *t, const CivilDate *start, int premake,
						   Period **periods, int *n, PgpError *err);

/*
 * The periods from start (NULL: today, in time_zone) through the current
 * period plus premake; the same rule for create, migrate and maintain.
 */
bool target_plan_periods(PgConn *pc, const char *time_zone, CalUnit unit, const CivilDate *start,
						 int premake, Period **periods, int *n, PgpError *err);
/* the same along a schedule of intervals: premake counts periods of each */
bool target_plan_schedule(PgConn *pc, const char *time_zone, const IntervalSchedule *sched,
						  const CivilDate *start, int premake, Period **periods, int *n,
						  PgpError *err);

/* bounds[2i], bounds[2i+1]: start and end of periods[i] (free with bounds_free(.., 2n)) */
bool target_resolve_bounds(PgConn *pc, KeyType key_type, const char *time_zone,
						   const Period *periods, int n, ResolvedBound **bounds, PgpError *err);

#endif
