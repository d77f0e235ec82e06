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

/*
 * Whether the existing ranges cover [lo, hi) without a gap: walks from lo,
 * each step to the furthest end of a range that contains the point reached
 */
static bool
covered(int64_t lo, int64_t hi, const ExistingRange *existing, int n)
{
	int64_t at = lo;

	while (at < hi)
	{
		int64_t next = at;
		int i;

		for (i = 0; i < n; i++)
		{
			const ExistingRange *r = &existing[i];

			if ((r->lo_unbounded || r->lo <= at) && (r->hi_unbounded || r->hi > at))
			{
				if (r->hi_unbounded)
					return true;
				if (r->hi > next)
					next = r->hi;
			}
		}
		if (next == at)
			return false;
		at = next;
	}
	return true;
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
		if (!r->lo_unbounded && !r->hi_unbounded && r->lo == lo && r->hi == hi)
		{
			*which = i;
			return SLOT_PRESENT;
		}
		if (*which < 0)
			*which = i;
	}
	if (*which < 0)
		return SLOT_MISSING;
	/*
	 * Partitions of another interval that hold the whole period (months a
	 * quarter was split into, the year months were merged into) leave
	 * nothing to make; only a period partly covered cannot be made
	 */
	return covered(lo, hi, existing, n) ? SLOT_PRESENT : SLOT_CONFLICT;
}
