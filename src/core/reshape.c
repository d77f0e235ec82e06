/*
 * reshape.c - the periods a split or merge makes (reshape.h).
 */
#include "core/reshape.h"

#include <stdlib.h>

#include "util/mem.h"

static bool
fail(char **why, char *text)
{
	*why = text;
	return false;
}

bool
reshape_split(ReshapeSource src, CalUnit unit, Period **out, int *n, char **why)
{
	char lo[16], hi[16];
	CivilDate at = src.lo;
	int count = 0;

	*out = NULL;
	*n = 0;
	cal_date_format(src.lo, lo);
	cal_date_format(src.hi, hi);
	if (cal_compare(cal_period_start(src.lo, unit), src.lo) != 0)
		return fail(why, pg_xasprintf("the partition begins on %s, which does not begin a %s", lo,
									  cal_unit_name(unit)));
	while (cal_compare(at, src.hi) < 0 && count <= RESHAPE_MAX_TARGETS)
	{
		at = cal_period_add(at, unit, 1);
		count++;
	}
	if (count > RESHAPE_MAX_TARGETS)
		return fail(why, pg_xasprintf("%s .. %s would be more than %d partitions of a %s", lo, hi,
									  RESHAPE_MAX_TARGETS, cal_unit_name(unit)));
	if (cal_compare(at, src.hi) != 0)
		return fail(why, pg_xasprintf("%ss do not divide %s .. %s: the last would end after %s",
									  cal_unit_name(unit), lo, hi, hi));
	if (count < 2)
		return fail(why, pg_xasprintf("%s .. %s is already one %s", lo, hi, cal_unit_name(unit)));
	*out = pg_xcalloc((size_t) count, sizeof(Period));
	at = src.lo;
	for (*n = 0; *n < count; (*n)++)
	{
		Period *p = &(*out)[*n];

		p->start = at;
		p->end = cal_period_add(at, unit, 1);
		cal_period_suffix(at, unit, p->suffix);
		at = p->end;
	}
	return true;
}

static int
by_start(const void *a, const void *b)
{
	return cal_compare(((const ReshapeSource *) a)->lo, ((const ReshapeSource *) b)->lo);
}

/* whether [lo, hi) is exactly one period of unit */
static bool
one_period(CivilDate lo, CivilDate hi, CalUnit unit)
{
	return cal_compare(cal_period_start(lo, unit), lo) == 0 &&
		   cal_compare(cal_period_add(lo, unit, 1), hi) == 0;
}

bool
reshape_merge(ReshapeSource *sources, int n, bool unit_given, CalUnit *unit, Period *out,
			  char **why)
{
	static const CalUnit units[] = {CAL_DAY, CAL_WEEK, CAL_MONTH, CAL_QUARTER, CAL_YEAR};
	char a[16], b[16];
	int i;

	if (n < 2)
		return fail(why, pg_xstrdup("a merge needs at least two partitions"));
	qsort(sources, (size_t) n, sizeof(*sources), by_start);
	for (i = 1; i < n; i++)
		if (cal_compare(sources[i - 1].hi, sources[i].lo) != 0)
		{
			cal_date_format(sources[i - 1].hi, a);
			cal_date_format(sources[i].lo, b);
			return fail(why, cal_compare(sources[i - 1].hi, sources[i].lo) > 0
								 ? pg_xasprintf("the partitions overlap (one ends on %s, the "
												"next begins on %s)",
												a, b)
								 : pg_xasprintf("the partitions are not adjacent: nothing "
												"between %s and %s",
												a, b));
		}
	cal_date_format(sources[0].lo, a);
	cal_date_format(sources[n - 1].hi, b);
	if (unit_given && !one_period(sources[0].lo, sources[n - 1].hi, *unit))
		return fail(why, pg_xasprintf("%s .. %s is not one %s", a, b, cal_unit_name(*unit)));
	for (i = 0; !unit_given && i < (int) (sizeof(units) / sizeof(units[0])); i++)
		if (one_period(sources[0].lo, sources[n - 1].hi, units[i]))
		{
			*unit = units[i];
			unit_given = true;
		}
	if (!unit_given)
		return fail(why, pg_xasprintf("%s .. %s is not one day, week, month, quarter or year", a,
									  b));
	out->start = sources[0].lo;
	out->end = sources[n - 1].hi;
	cal_period_suffix(out->start, *unit, out->suffix);
	return true;
}
