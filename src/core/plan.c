/*
 * plan.c - the periods a table should have and how each compares with the
 * partitions that exist; pure integer arithmetic on instants the server has
 * already resolved, so it can be tested without a database.
 */
#include "core/plan.h"

#include "core/schedule.h"

int
plan_periods(CivilDate first, CivilDate last, CalUnit unit, Period **out)
{
	IntervalSchedule one;

	sched_init(&one, unit);
	return sched_periods(&one, first, last, out);
}

static bool
overlaps(int64_t lo, int64_t hi, const ExistingRange *r)
{
	bool starts_before_our_end = r->lo_unbounded || r->lo < hi;
	bool ends_after_our_start = r->hi_unbounded || r->hi > lo;

	return starts_before_our_end && ends_after_our_start;
}

SlotState
plan_classify(int64_t lo, int64_t hi, const ExistingRange *existing, int n, int *which)
{
	int i;

	*which = -1;
	for (i = 0; i < n; i++)
	{
		const ExistingRange *r = &existing[i];

		if (!overlaps(lo, hi, r))
			continue;
		*which = i;
		if (!r->lo_unbounded && !r->hi_unbounded && r->lo == lo && r->hi == hi)
			return SLOT_PRESENT;
		return SLOT_CONFLICT;
	}
	return SLOT_MISSING;
}
