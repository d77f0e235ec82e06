/*
 * schedule.c - periods of a table whose interval changed over time.  Every
 * walk goes period by period with the interval in force at each period's
 * start; that lands exactly on each change because a change starts on a
 * boundary of the interval before it (sched_check_change refuses others).
 */
#include "core/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void
sched_init(IntervalSchedule *s, CalUnit first)
{
	s->first = first;
	s->changes = NULL;
	s->n = 0;
}

void
sched_free(IntervalSchedule *s)
{
	free(s->changes);
	s->changes = NULL;
	s->n = 0;
}

void
sched_copy(IntervalSchedule *dst, const IntervalSchedule *src)
{
	sched_init(dst, src->first);
	if (src->n == 0)
		return;
	dst->changes = pg_xcalloc((size_t) src->n, sizeof(IntervalChange));
	memcpy(dst->changes, src->changes, sizeof(IntervalChange) * (size_t) src->n);
	dst->n = src->n;
}

int
sched_changes_from(const IntervalSchedule *s, CivilDate from)
{
	int i, k = 0;

	for (i = 0; i < s->n; i++)
		if (cal_compare(s->changes[i].from, from) >= 0)
			k++;
	return k;
}

CalUnit
sched_unit_at(const IntervalSchedule *s, CivilDate d)
{
	CalUnit u = s->first;
	int i;

	for (i = 0; i < s->n && cal_compare(s->changes[i].from, d) <= 0; i++)
		u = s->changes[i].unit;
	return u;
}

CalUnit
sched_unit_before(const IntervalSchedule *s, CivilDate d)
{
	return sched_unit_at(s, cal_period_add(d, CAL_DAY, -1));
}

void
sched_add(IntervalSchedule *s, CivilDate from, CalUnit unit)
{
	int keep = 0;

	while (keep < s->n && cal_compare(s->changes[keep].from, from) < 0)
		keep++;
	s->n = keep;
	/* a change back to the interval already in force only cancels the later ones */
	if (sched_unit_before(s, from) == unit)
		return;
	s->changes = pg_xrealloc(s->changes, sizeof(IntervalChange) * (size_t) (s->n + 1));
	s->changes[s->n].from = from;
	s->changes[s->n].unit = unit;
	s->n++;
}

CalUnit
sched_latest(const IntervalSchedule *s)
{
	return s->n > 0 ? s->changes[s->n - 1].unit : s->first;
}

bool
sched_is_mixed(const IntervalSchedule *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->changes[i].unit != s->first)
			return true;
	return false;
}

bool
sched_uses(const IntervalSchedule *s, CalUnit unit)
{
	int i;

	if (s->first == unit)
		return true;
	for (i = 0; i < s->n; i++)
		if (s->changes[i].unit == unit)
			return true;
	return false;
}

CivilDate
sched_period_start(const IntervalSchedule *s, CivilDate d)
{
	return cal_period_start(d, sched_unit_at(s, d));
}

CivilDate
sched_next_start(const IntervalSchedule *s, CivilDate start)
{
	return cal_period_add(start, sched_unit_at(s, start), 1);
}

Period
sched_period(const IntervalSchedule *s, CivilDate start)
{
	Period p;
	CalUnit u = sched_unit_at(s, start);

	p.start = start;
	p.end = cal_period_add(start, u, 1);
	cal_period_suffix(start, u, p.suffix);
	return p;
}

bool
cal_is_period_start(CivilDate d, CalUnit unit)
{
	return cal_compare(cal_period_start(d, unit), d) == 0;
}

bool
sched_is_boundary(const IntervalSchedule *s, CivilDate d)
{
	return cal_is_period_start(d, sched_unit_at(s, d));
}

int
sched_periods(const IntervalSchedule *s, CivilDate first, CivilDate last, Period **out)
{
	CivilDate start = sched_period_start(s, first);
	CivilDate stop = sched_period_start(s, last);
	int n = 0;
	int cap = 0;
	Period *periods = NULL;

	*out = NULL;
	while (cal_compare(start, stop) <= 0)
	{
		if (n >= PLAN_MAX_PERIODS)
		{
			free(periods);
			return -1;
		}
		if (n == cap)
		{
			cap = cap ? cap * 2 : 16;
			periods = pg_xrealloc(periods, sizeof(Period) * (size_t) cap);
		}
		periods[n] = sched_period(s, start);
		start = periods[n].end;
		n++;
	}
	*out = periods;
	return n;
}

CivilDate
sched_advance(const IntervalSchedule *s, CivilDate d, int n)
{
	CivilDate p = sched_period_start(s, d);
	int i;

	for (i = 0; i < n; i++)
		p = sched_next_start(s, p);
	return p;
}

int
sched_keep_periods_of(const IntervalSchedule *s, CalUnit unit, const CivilDate *starts, int n,
					  Period *out)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
	{
		CivilDate start = cal_period_start(starts[i], unit);

		/*
		 * A row's unit-period start lies in a stretch of the schedule with
		 * another interval only when the row itself does (changes are on
		 * boundaries of both sides), so the other interval's query has it.
		 */
		if (sched_unit_at(s, start) == unit)
			out[k++] = sched_period(s, start);
	}
	return k;
}

static int
by_start(const void *a, const void *b)
{
	return cal_compare(((const Period *) a)->start, ((const Period *) b)->start);
}

void
sched_sort_periods(Period *periods, int n)
{
	if (n > 1)
		qsort(periods, (size_t) n, sizeof(Period), by_start);
}

int
sched_change_dates(const IntervalSchedule *s, CivilDate not_before, CalUnit unit, int want,
				   CivilDate *out)
{
	CivilDate d = sched_period_start(s, not_before);
	int steps, found = 0;

	if (cal_compare(d, not_before) < 0)
		d = sched_next_start(s, d);
	for (steps = 0; found < want && steps < PLAN_MAX_PERIODS; steps++)
	{
		if (cal_is_period_start(d, unit))
			out[found++] = d;
		d = sched_next_start(s, d);
	}
	return found;
}

ChangeVerdict
sched_check_change(const IntervalSchedule *s, CivilDate partitions_end, CalUnit unit,
				   bool has_from, CivilDate *from)
{
	if (!has_from)
	{
		if (sched_change_dates(s, partitions_end, unit, 1, from) == 0)
			return CHANGE_NO_BOUNDARY;
	}
	else
	{
		if (cal_compare(*from, partitions_end) < 0)
			return CHANGE_INSIDE;
		if (!sched_is_boundary(s, *from) || !cal_is_period_start(*from, unit))
			return CHANGE_NOT_BOUNDARY;
	}
	/* the same interval as before, and no planned change to cancel: nothing to do */
	if (sched_unit_before(s, *from) == unit && sched_changes_from(s, *from) == 0)
		return CHANGE_SAME_UNIT;
	return CHANGE_OK;
}
