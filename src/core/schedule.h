/*
 * schedule.h - a table's intervals over time: quarters until 2027-04-01, then
 * months, for instance (pgpart repartition).
 *
 * A schedule is the interval the table was created with plus the changes made
 * since, each "from this date on, this interval".  Every change starts on a
 * boundary of both the interval before it and its own, so the periods of one
 * interval never straddle a change, and each period of the table is a whole
 * period of the interval in force at its start: its name (calendar.h's
 * suffix of that interval) differs from every other period's, whatever the
 * intervals are, because the suffix formats of two intervals never coincide.
 *
 * Pure logic: no I/O.
 */
#ifndef PGPART_CORE_SCHEDULE_H
#define PGPART_CORE_SCHEDULE_H

#include <stdbool.h>

#include "core/calendar.h"
#include "core/plan.h"

typedef struct IntervalChange
{
	CivilDate from; /* the first day of the first period of unit */
	CalUnit unit;
} IntervalChange;

typedef struct IntervalSchedule
{
	CalUnit first;			 /* in force before the first change */
	IntervalChange *changes; /* ascending from; malloc'd (sched_free) */
	int n;
} IntervalSchedule;

/* a schedule of one interval, no change (nothing to free) */
void sched_init(IntervalSchedule *s, CalUnit first);
void sched_free(IntervalSchedule *s);
void sched_copy(IntervalSchedule *dst, const IntervalSchedule *src);

/*
 * Appends a change.  Changes from the same date on or later are dropped
 * first: they were planned for periods that do not exist yet, and this one
 * replaces them.  The caller checks the date with sched_check_change.
 */
void sched_add(IntervalSchedule *s, CivilDate from, CalUnit unit);

/* how many changes start on from or later (sched_add replaces them) */
int sched_changes_from(const IntervalSchedule *s, CivilDate from);

/* the interval in force on date d, and the one the last change set */
CalUnit sched_unit_at(const IntervalSchedule *s, CivilDate d);
CalUnit sched_latest(const IntervalSchedule *s);
/* the interval of the period that ends on d (the one the day before d is in) */
CalUnit sched_unit_before(const IntervalSchedule *s, CivilDate d);
/* true when some period is made with another interval than the first */
bool sched_is_mixed(const IntervalSchedule *s);
/* true when some interval in the schedule is unit */
bool sched_uses(const IntervalSchedule *s, CalUnit unit);

/* start of the table's period that contains d, and of the one after it */
CivilDate sched_period_start(const IntervalSchedule *s, CivilDate d);
CivilDate sched_next_start(const IntervalSchedule *s, CivilDate start);
/* the period of the table starting at start (which must be a period start) */
Period sched_period(const IntervalSchedule *s, CivilDate start);
/* true when d is where one of the table's periods starts */
bool sched_is_boundary(const IntervalSchedule *s, CivilDate d);

/*
 * The table's periods from the one containing first through the one
 * containing last, as plan_periods does for one interval: count, 0 if
 * last < first, -1 past PLAN_MAX_PERIODS; *out is malloc'd.
 */
int sched_periods(const IntervalSchedule *s, CivilDate first, CivilDate last, Period **out);

/* the start of the period n periods after the one containing d */
CivilDate sched_advance(const IntervalSchedule *s, CivilDate d, int n);

/*
 * Of the starts of unit's periods (from date_trunc on rows), those that are
 * periods of the table (the interval in force there is unit), as periods into
 * out (room for n); returns how many.
 */
int sched_keep_periods_of(const IntervalSchedule *s, CalUnit unit, const CivilDate *starts, int n,
						  Period *out);

/* periods[0..n) in the order of their starts */
void sched_sort_periods(Period *periods, int n);

/* true when d starts a period of unit */
bool cal_is_period_start(CivilDate d, CalUnit unit);

/*
 * Up to want dates from not_before on where the interval may change to unit:
 * dates that start both a period of the table (as it is planned up to that
 * date) and a period of unit, searched within PLAN_MAX_PERIODS periods.
 * Returns how many were found.
 */
int sched_change_dates(const IntervalSchedule *s, CivilDate not_before, CalUnit unit, int want,
					   CivilDate *out);

typedef enum ChangeVerdict
{
	CHANGE_OK,
	CHANGE_SAME_UNIT,	  /* the interval in force there already is that one */
	CHANGE_INSIDE,		  /* --from before the end of the last partition */
	CHANGE_NOT_BOUNDARY, /* --from starts no period of the old and the new interval */
	CHANGE_NO_BOUNDARY	  /* no date starts a period of both (far enough to search) */
} ChangeVerdict;

/*
 * Whether the interval may change to unit from *from (has_from false: the
 * first date at or after partitions_end that starts a period of both the
 * interval in force there and unit, written to *from).  partitions_end: the
 * end of the table's last partition, before which periods exist already.
 */
ChangeVerdict sched_check_change(const IntervalSchedule *s, CivilDate partitions_end, CalUnit unit,
								 bool has_from, CivilDate *from);

#endif
