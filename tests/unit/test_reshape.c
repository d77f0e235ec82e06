/* the periods a split or a merge makes (core/reshape.c) */
#include <stdlib.h>
#include <string.h>

#include "core/reshape.h"
#include "tap.h"

static CivilDate
d(int y, int m, int day)
{
	CivilDate c = {y, m, day};

	return c;
}

static ReshapeSource
src(CivilDate lo, CivilDate hi)
{
	ReshapeSource s = {lo, hi};

	return s;
}

int
main(void)
{
	Period *p = NULL, one;
	char *why = NULL;
	int n = 0;
	CalUnit u;
	ReshapeSource months[12];
	int i;

	ok(reshape_split(src(d(2025, 1, 1), d(2025, 4, 1)), CAL_MONTH, &p, &n, &why),
	   "a quarter splits into months");
	is_int(n, 3, "three of them");
	is_str(p[0].suffix, "2025_01", "named as months");
	is_str(p[2].suffix, "2025_03", "the last");
	is_int(p[2].end.month, 4, "ends where the quarter ends");
	free(p);

	ok(reshape_split(src(d(2024, 1, 1), d(2025, 1, 1)), CAL_DAY, &p, &n, &why), "a leap year into days");
	is_int(n, 366, "366 days");
	free(p);

	ok(!reshape_split(src(d(2025, 1, 1), d(2025, 4, 1)), CAL_WEEK, &p, &n, &why),
	   "weeks do not divide a quarter");
	ok(why && strstr(why, "does not begin a week"), "and it says why");
	free(why);
	why = NULL;
	ok(!reshape_split(src(d(2025, 1, 6), d(2025, 4, 1)), CAL_WEEK, &p, &n, &why),
	   "weeks from a Monday do not end on April 1st");
	ok(why && strstr(why, "do not divide"), "the last would run over");
	free(why);
	why = NULL;
	ok(!reshape_split(src(d(2025, 1, 1), d(2025, 2, 1)), CAL_MONTH, &p, &n, &why),
	   "a month into one month is no split");
	ok(why && strstr(why, "already one month"), "said so");
	free(why);
	why = NULL;
	ok(p == NULL && n == 0, "a refusal allocates nothing");

	for (i = 0; i < 12; i++)
		months[11 - i] = src(d(2025, i + 1, 1), i == 11 ? d(2026, 1, 1) : d(2025, i + 2, 1));
	ok(reshape_merge(months, 12, false, &u, &one, &why), "twelve months merge, in any order");
	is_int(u, CAL_YEAR, "into their year");
	is_str(one.suffix, "2025", "named as the year");
	ok(reshape_merge(months, 3, false, &u, &one, &why), "three months merge");
	is_int(u, CAL_QUARTER, "into a quarter");
	u = CAL_YEAR;
	ok(!reshape_merge(months, 3, true, &u, &one, &why), "but not into a year");
	ok(why && strstr(why, "is not one year"), "said so");
	free(why);
	why = NULL;
	ok(!reshape_merge(months, 2, false, &u, &one, &why), "two months are no period");
	free(why);
	why = NULL;
	months[1] = months[0];
	ok(!reshape_merge(months, 3, false, &u, &one, &why), "the same partition twice");
	ok(why && strstr(why, "overlap"), "overlaps");
	free(why);
	why = NULL;
	months[0] = src(d(2025, 1, 1), d(2025, 2, 1));
	months[1] = src(d(2025, 3, 1), d(2025, 4, 1));
	ok(!reshape_merge(months, 2, false, &u, &one, &why), "a gap");
	ok(why && strstr(why, "not adjacent"), "not adjacent");
	free(why);
	why = NULL;
	ok(!reshape_merge(months, 1, false, &u, &one, &why), "one partition is no merge");
	free(why);
	return done_testing();
}
