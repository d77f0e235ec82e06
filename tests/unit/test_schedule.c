/* unit tests of core/schedule.c: the periods of a table whose interval changed */
#include <stdlib.h>

#include "core/naming.h"
#include "core/schedule.h"
#include "tap.h"

static CivilDate
d(int y, int m, int dd)
{
	CivilDate c = {y, m, dd};

	return c;
}

static int
same(CivilDate a, CivilDate b)
{
	return cal_compare(a, b) == 0;
}

/* quarters, then months from 2027-04-01 */
static void
test_quarter_then_month(void)
{
	IntervalSchedule s;
	Period *p = NULL;
	int n, i, contiguous = 1;

	sched_init(&s, CAL_QUARTER);
	sched_add(&s, d(2027, 4, 1), CAL_MONTH);
	ok(sched_is_mixed(&s), "quarter then month is mixed");
	is_int(sched_unit_at(&s, d(2027, 3, 31)), CAL_QUARTER, "quarters before the change");
	is_int(sched_unit_at(&s, d(2027, 4, 1)), CAL_MONTH, "months from the change on");
	is_int(sched_latest(&s), CAL_MONTH, "latest is month");
	is_int(sched_unit_before(&s, d(2027, 4, 1)), CAL_QUARTER, "the period ending at the change is a quarter");

	n = sched_periods(&s, d(2026, 11, 15), d(2027, 6, 10), &p);
	/* 2026_q4, 2027_q1, 2027_04, 2027_05, 2027_06 */
	is_int(n, 5, "two quarters and three months");
	is_str(p[0].suffix, "2026_q4", "first is the quarter 2026_q4");
	is_str(p[1].suffix, "2027_q1", "then 2027_q1");
	ok(same(p[1].end, d(2027, 4, 1)), "the last quarter ends at the change");
	is_str(p[2].suffix, "2027_04", "then the month 2027_04");
	ok(same(p[2].end, d(2027, 5, 1)), "a month long");
	is_str(p[4].suffix, "2027_06", "last is 2027_06");
	for (i = 1; i < n; i++)
		contiguous &= same(p[i].start, p[i - 1].end);
	ok(contiguous, "periods are contiguous across the change");
	free(p);

	ok(same(sched_period_start(&s, d(2027, 2, 14)), d(2027, 1, 1)),
	   "a date before the change is in its quarter");
	ok(same(sched_period_start(&s, d(2027, 5, 14)), d(2027, 5, 1)),
	   "a date after it in its month");
	ok(same(sched_advance(&s, d(2026, 12, 3), 2), d(2027, 4, 1)),
	   "premake 2 from 2026-12-03: two quarters ahead");
	ok(same(sched_advance(&s, d(2026, 12, 3), 4), d(2027, 6, 1)),
	   "premake 4: two quarters, then two months");
	ok(sched_is_boundary(&s, d(2027, 5, 1)), "2027-05-01 starts a month");
	ok(!sched_is_boundary(&s, d(2027, 2, 1)), "2027-02-01 is inside a quarter");
	sched_free(&s);
}

/* quarters, months, back to quarters; names never collide */
static void
test_back_and_forth(void)
{
	IntervalSchedule s, c;
	Period *p = NULL;
	int n, i, j, distinct = 1;

	sched_init(&s, CAL_QUARTER);
	sched_add(&s, d(2027, 1, 1), CAL_MONTH);
	sched_add(&s, d(2027, 7, 1), CAL_QUARTER);
	is_int(s.n, 2, "two changes");
	n = sched_periods(&s, d(2026, 10, 1), d(2027, 12, 31), &p);
	is_int(n, 1 + 6 + 2, "one quarter, six months, two quarters");
	is_str(p[7].suffix, "2027_q3", "quarters again from 2027-07-01");
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
		{
			char *a = naming_derive("revenues", p[i].suffix);
			char *b = naming_derive("revenues", p[j].suffix);

			distinct &= strcmp(a, b) != 0;
			free(a);
			free(b);
		}
	ok(distinct, "every partition name differs");
	free(p);

	sched_copy(&c, &s);
	sched_add(&c, d(2027, 4, 1), CAL_WEEK);
	is_int(c.n, 2, "a change before a planned one replaces it");
	ok(same(c.changes[1].from, d(2027, 4, 1)) && c.changes[1].unit == CAL_WEEK,
	   "the new change is the last");
	is_int(s.n, 2, "the copy is independent");
	sched_add(&c, d(2027, 4, 1), CAL_MONTH);
	is_int(c.n, 1, "changing back to the interval in force only cancels");
	sched_free(&c);
	sched_free(&s);
}

/* every pair of intervals: names of one never equal those of the other */
static void
test_suffixes_never_collide(void)
{
	CalUnit units[] = {CAL_DAY, CAL_WEEK, CAL_MONTH, CAL_QUARTER, CAL_YEAR};
	int a, b, collisions = 0;

	for (a = 0; a < 5; a++)
		for (b = a + 1; b < 5; b++)
		{
			Period *pa = NULL, *pb = NULL;
			int na = plan_periods(d(2020, 1, 1), d(2030, 12, 31), units[a], &pa);
			int nb = plan_periods(d(2020, 1, 1), d(2030, 12, 31), units[b], &pb);
			int i, j;

			for (i = 0; i < na; i++)
				for (j = 0; j < nb; j++)
					collisions += strcmp(pa[i].suffix, pb[j].suffix) == 0;
			free(pa);
			free(pb);
		}
	is_int(collisions, 0, "no suffix of one interval is a suffix of another (2020-2030)");
}

static void
test_check_change(void)
{
	IntervalSchedule s;
	CivilDate from, dates[3];
	int n;

	sched_init(&s, CAL_QUARTER);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_MONTH, false, &from), CHANGE_OK,
		   "months from the end of the last quarter");
	ok(same(from, d(2027, 4, 1)), "default --from: where the next partition would start");

	from = d(2027, 2, 1);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_MONTH, true, &from), CHANGE_INSIDE,
		   "--from inside existing partitions");
	from = d(2027, 5, 1);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_MONTH, true, &from), CHANGE_NOT_BOUNDARY,
		   "--from inside a future quarter");
	from = d(2027, 7, 1);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_MONTH, true, &from), CHANGE_OK,
		   "--from at a later quarter start");
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_QUARTER, false, &from), CHANGE_SAME_UNIT,
		   "quarters again: nothing to change");

	/* quarters to years: only quarter starts that are also January 1st */
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_YEAR, false, &from), CHANGE_OK,
		   "years from the first January after the last quarter");
	ok(same(from, d(2028, 1, 1)), "default --from is 2028-01-01");
	from = d(2027, 10, 1);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_YEAR, true, &from), CHANGE_NOT_BOUNDARY,
		   "2027-10-01 starts a quarter but no year");

	/* quarters to weeks: a quarter start that is a Monday */
	n = sched_change_dates(&s, d(2027, 4, 1), CAL_WEEK, 3, dates);
	is_int(n, 3, "three dates where quarters may turn into weeks");
	ok(cal_iso_weekday(dates[0]) == 1 && dates[0].day == 1 && (dates[0].month - 1) % 3 == 0,
	   "each a Monday starting a quarter");
	ok(same(dates[0], d(2029, 1, 1)) && same(dates[2], d(2030, 4, 1)), "2029-01-01, 2029-10-01, 2030-04-01");

	sched_add(&s, d(2027, 4, 1), CAL_MONTH);
	from = d(2027, 4, 1);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_QUARTER, true, &from), CHANGE_OK,
		   "a planned change may be cancelled");
	from = d(2027, 6, 1);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_QUARTER, true, &from), CHANGE_NOT_BOUNDARY,
		   "months to quarters only on a quarter start");
	from = d(2027, 7, 1);
	is_int(sched_check_change(&s, d(2027, 4, 1), CAL_QUARTER, true, &from), CHANGE_OK,
		   "months back to quarters from 2027-07-01");
	sched_free(&s);
}

static void
test_default_rows(void)
{
	IntervalSchedule s;
	CivilDate rows[] = {{2027, 2, 10}, {2027, 5, 20}, {2027, 12, 31}};
	Period out[3];
	int n;

	sched_init(&s, CAL_QUARTER);
	sched_add(&s, d(2027, 4, 1), CAL_MONTH);
	n = sched_keep_periods_of(&s, CAL_QUARTER, rows, 3, out);
	is_int(n, 1, "of the rows' quarters only the one before the change is a partition");
	is_str(out[0].suffix, "2027_q1", "that is 2027_q1");
	n = sched_keep_periods_of(&s, CAL_MONTH, rows, 3, out);
	is_int(n, 2, "the months of the rows after the change");
	is_str(out[1].suffix, "2027_12", "2027_12 among them");
	ok(sched_uses(&s, CAL_MONTH) && !sched_uses(&s, CAL_DAY), "the intervals in use");
	out[0] = sched_period(&s, d(2027, 12, 1));
	out[1] = sched_period(&s, d(2027, 1, 1));
	out[2] = sched_period(&s, d(2027, 5, 1));
	sched_sort_periods(out, 3);
	ok(strcmp(out[0].suffix, "2027_q1") == 0 && strcmp(out[1].suffix, "2027_05") == 0 &&
		   strcmp(out[2].suffix, "2027_12") == 0,
	   "periods of both intervals sorted by their starts");
	sched_free(&s);
}

int
main(void)
{
	test_quarter_then_month();
	test_back_and_forth();
	test_suffixes_never_collide();
	test_check_change();
	test_default_rows();
	return done_testing();
}
