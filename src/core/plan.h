/*
 * plan.h - deciding which partitions a table should have.
 *
 * The caller describes the periods it wants (civil dates, from calendar.h),
 * the server turns their boundaries into instants, and plan_classify() then
 * compares those instants with the partitions that exist: a wanted period is
 * present (a partition with exactly its bounds exists, or partitions of
 * another interval hold all of it: after a split or a merge), missing, or in
 * conflict with partitions that hold only part of it (someone partitioned
 * this range differently; pgpart never touches such a range).
 */
#ifndef PGPART_CORE_PLAN_H
#define PGPART_CORE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/calendar.h"

/* more than this in one go is almost certainly a mistake (--start 1900 daily) */
#define PLAN_MAX_PERIODS 10000

typedef struct Period
{
	CivilDate start;
	CivilDate end; /* exclusive: the start of the next period */
	char suffix[CAL_SUFFIX_MAX];
} Period;

/*
 * The periods of unit from the one containing first through the one
 * containing last, in order.  Returns the count (0 if last < first) or -1 if
 * there would be more than PLAN_MAX_PERIODS; *out is malloc'd (caller frees).
 */
int plan_periods(CivilDate first, CivilDate last, CalUnit unit, Period **out);

/* an existing partition's range in microseconds; unbounded ends allowed */
typedef struct ExistingRange
{
	bool lo_unbounded;
	bool hi_unbounded;
	int64_t lo;
	int64_t hi;
} ExistingRange;

typedef enum SlotState
{
	SLOT_MISSING,
	SLOT_PRESENT,
	SLOT_CONFLICT
} SlotState;

/*
 * State of the wanted range [lo, hi) against the existing ranges; *which is
 * the index of the matching or conflicting range (-1 when missing).
 */
SlotState plan_classify(int64_t lo, int64_t hi, const ExistingRange *existing, int n, int *which);

#endif
