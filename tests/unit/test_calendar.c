/* unit tests of core/calendar.c: civil-date arithmetic behind partition bounds */
#include <stdint.h>
#include <stdlib.h>

#include "core/calendar.h"
#include "tap.h"

static CivilDate
d(int y, int m, int dd)
{
	CivilDate c = {y, m, dd};

	return c;
}

static const char *
fmt(CivilDate c)
{
	static char buf[4][11];
	static int i;

	i = (i + 1) % 4;
	cal_date_format(c, buf[i]);
	return buf[i];
}

static const char *
suffix(CivilDate c, CalUnit u)
{
	static char buf[CAL_SUFFIX_MAX];

	cal_period_suffix(c, u, buf);
	return buf;
}

static void
test_parse(void)
{
	CivilDate c;
	CalUnit u;

	ok(cal_date_parse("2025-02-28", &c) && c.year == 2025 && c.month == 2 && c.day == 28,
	   "parses a plain date");
	ok(cal_date_parse("2024-02-29", &c), "accepts 29 Feb in a leap year");
	ok(!cal_date_parse("2025-02-29", &c), "rejects 29 Feb in a common year");
	ok(!cal_date_parse("1900-02-29", &c), "1900 is not a leap year");
	ok(cal_date_parse("2000-02-29", &c), "2000 is a leap year");
	ok(!cal_date_parse("2025-02-30", &c), "rejects 30 Feb");
	ok(!cal_date_parse("2025-13-01", &c), "rejects month 13");
	ok(!cal_date_parse("2025-00-10", &c), "rejects month 0");
	ok(!cal_date_parse("2025-1-01", &c), "rejects a one-digit month");
	ok(!cal_date_parse("2025-01-01x", &c), "rejects trailing junk");
	ok(!cal_date_parse("0000-01-01", &c), "rejects year 0");
	ok(!cal_date_parse("", &c), "rejects empty");
	ok(!cal_date_parse(NULL, &c), "rejects NULL");
	ok(cal_date_parse("0001-01-01", &c) && cal_date_parse("9999-12-31", &c),
	   "accepts the extreme years");

	ok(cal_unit_parse("quarter", &u) && u == CAL_QUARTER, "quarter");
	ok(cal_unit_parse("Quarterly", &u) && u == CAL_QUARTER, "Quarterly, any case");
	ok(cal_unit_parse("weeks", &u) && u == CAL_WEEK, "plural weeks");
	ok(cal_unit_parse("daily", &u) && u == CAL_DAY, "daily");
	ok(!cal_unit_parse("fortnight", &u), "rejects an unknown unit");
	ok(!cal_unit_parse("3 months", &u), "rejects a count");
	is_str(cal_unit_name(CAL_MONTH), "month", "canonical name");
	is_str(fmt(d(7, 3, 9)), "0007-03-09", "formats with leading zeros");
}

static void
test_days(void)
{
	is_int(cal_date_to_days(d(1970, 1, 1)), 0, "epoch is day 0");
	is_int(cal_date_to_days(d(2000, 3, 1)), 11017, "2000-03-01");
	is_int(cal_date_to_days(d(1969, 12, 31)), -1, "day before the epoch");
	is_str(fmt(cal_days_to_date(-719162)), "0001-01-01", "day -719162 is 0001-01-01");
	is_str(fmt(cal_days_to_date(cal_date_to_days(d(9999, 12, 31)))), "9999-12-31",
		   "round trip at the far end");

	/* every day over 800 years round-trips and is one after the previous */
	{
		int64_t from = cal_date_to_days(d(1600, 1, 1));
		int64_t to = cal_date_to_days(d(2400, 12, 31));
		int bad = 0;
		CivilDate prev = cal_days_to_date(from - 1);

		for (int64_t x = from; x <= to; x++)
		{
			CivilDate c = cal_days_to_date(x);

			if (cal_date_to_days(c) != x || cal_compare(prev, c) >= 0 || c.day < 1 ||
				c.day > cal_days_in_month(c.year, c.month))
				bad++;
			prev = c;
		}
		is_int(bad, 0, "day counts round-trip from 1600 to 2400");
	}

	is_int(cal_iso_weekday(d(1970, 1, 1)), 4, "1970-01-01 was a Thursday");
	is_int(cal_iso_weekday(d(2025, 5, 17)), 6, "2025-05-17 is a Saturday");
	is_int(cal_iso_weekday(d(1969, 12, 29)), 1, "1969-12-29 was a Monday");
	is_int(cal_days_in_month(2024, 2), 29, "Feb 2024 has 29 days");
	is_int(cal_days_in_month(2100, 2), 28, "Feb 2100 has 28 days");
}

static void
test_periods(void)
{
	is_str(fmt(cal_period_start(d(2025, 5, 17), CAL_QUARTER)), "2025-04-01", "Q2 start");
	is_str(fmt(cal_period_start(d(2025, 12, 31), CAL_QUARTER)), "2025-10-01", "Q4 start");
	is_str(fmt(cal_period_start(d(2025, 5, 17), CAL_MONTH)), "2025-05-01", "month start");
	is_str(fmt(cal_period_start(d(2025, 5, 17), CAL_YEAR)), "2025-01-01", "year start");
	is_str(fmt(cal_period_start(d(2025, 5, 17), CAL_DAY)), "2025-05-17", "day start");
	is_str(fmt(cal_period_start(d(2025, 5, 17), CAL_WEEK)), "2025-05-12", "ISO week starts Monday");
	is_str(fmt(cal_period_start(d(2025, 1, 1), CAL_WEEK)), "2024-12-30",
		   "a week can start in the previous year");

	is_str(fmt(cal_period_add(d(2025, 10, 1), CAL_QUARTER, 1)), "2026-01-01", "Q4 + 1 wraps the year");
	is_str(fmt(cal_period_add(d(2025, 1, 1), CAL_QUARTER, -1)), "2024-10-01", "Q1 - 1");
	is_str(fmt(cal_period_add(d(2025, 1, 1), CAL_MONTH, -13)), "2023-12-01", "month - 13");
	is_str(fmt(cal_period_add(d(2024, 2, 28), CAL_DAY, 1)), "2024-02-29", "leap day follows 28 Feb");
	is_str(fmt(cal_period_add(d(2024, 2, 29), CAL_DAY, 1)), "2024-03-01", "1 Mar follows the leap day");
	is_str(fmt(cal_period_add(d(2025, 2, 28), CAL_DAY, 1)), "2025-03-01", "no leap day in 2025");
	is_str(fmt(cal_period_add(d(2024, 12, 30), CAL_WEEK, 1)), "2025-01-06", "week + 1");
	is_str(fmt(cal_period_add(d(2024, 1, 1), CAL_YEAR, 1)), "2025-01-01", "year + 1");
	is_str(fmt(cal_period_add(d(9999, 10, 1), CAL_QUARTER, -4)), "9998-10-01", "far future");
	is_str(fmt(cal_period_add(d(1, 4, 1), CAL_QUARTER, -1)), "0001-01-01", "far past");

	/*
	 * DST: boundaries are civil dates, so the days around a change are still
	 * consecutive whole days; the server makes 2025-03-30 23 hours long in
	 * Europe/Berlin (checked by the integration tests).
	 */
	is_str(fmt(cal_period_add(d(2025, 3, 30), CAL_DAY, 1)), "2025-03-31", "spring-forward day");
	is_str(fmt(cal_period_add(d(2025, 10, 26), CAL_DAY, 1)), "2025-10-27", "fall-back day");
	is_str(fmt(cal_period_add(d(2025, 3, 1), CAL_MONTH, 1)), "2025-04-01", "DST month");
}

static void
test_suffix(void)
{
	is_str(suffix(d(2025, 1, 1), CAL_YEAR), "2025", "year suffix");
	is_str(suffix(d(2025, 1, 1), CAL_QUARTER), "2025_q1", "Q1 suffix");
	is_str(suffix(d(2025, 10, 1), CAL_QUARTER), "2025_q4", "Q4 suffix");
	is_str(suffix(d(2025, 5, 1), CAL_MONTH), "2025_05", "month suffix");
	is_str(suffix(d(2025, 5, 17), CAL_DAY), "20250517", "day suffix");
	is_str(suffix(d(2025, 2, 10), CAL_WEEK), "2025_w07", "week 7 of 2025");
	is_str(suffix(d(2024, 12, 30), CAL_WEEK), "2025_w01",
		   "a week starting in Dec 2024 is week 1 of ISO year 2025");
	is_str(suffix(d(2020, 12, 28), CAL_WEEK), "2020_w53", "2020 has 53 ISO weeks");
	is_str(suffix(d(2021, 1, 4), CAL_WEEK), "2021_w01", "2021 week 1 starts on 4 Jan");
	is_str(suffix(d(1, 1, 1), CAL_QUARTER), "0001_q1", "year 1 padded");
}

static const char *
report_period(const char *text, CalUnit unit)
{
	static char buf[32];
	CivilDate from, to;
	char a[11], b[11];

	if (!cal_period_parse(text, unit, &from, &to))
		return "refused";
	cal_date_format(from, a);
	cal_date_format(to, b);
	snprintf(buf, sizeof(buf), "%s %s", a, b);
	return buf;
}

static void
test_report_periods(void)
{
	is_str(report_period("2025", CAL_YEAR), "2025-01-01 2026-01-01", "a year");
	is_str(report_period("2024-02", CAL_MONTH), "2024-02-01 2024-03-01", "a month");
	is_str(report_period("2024-12", CAL_MONTH), "2024-12-01 2025-01-01", "December");
	is_str(report_period("2024-02-29", CAL_DAY), "2024-02-29 2024-03-01", "a leap day");
	is_str(report_period("9998", CAL_YEAR), "9998-01-01 9999-01-01", "the last year that ends in range");
	/* the end would be in year 10000, which a date here cannot name: no wrap to 0000 */
	is_str(report_period("9999", CAL_YEAR), "refused", "year 9999 is refused, not wrapped");
	is_str(report_period("9999-12", CAL_MONTH), "refused", "December 9999 is refused");
	is_str(report_period("9999-12-31", CAL_DAY), "refused", "the last day of 9999 is refused");
	is_str(report_period("9999-11", CAL_MONTH), "9999-11-01 9999-12-01", "November 9999 is fine");
	is_str(report_period("0000", CAL_YEAR), "refused", "year 0");
	is_str(report_period("25", CAL_YEAR), "refused", "two digits");
	is_str(report_period("20255", CAL_YEAR), "refused", "five digits");
	is_str(report_period("2025-13", CAL_MONTH), "refused", "month 13");
	is_str(report_period("2025-1", CAL_MONTH), "refused", "one-digit month");
	is_str(report_period("2025-02-30", CAL_DAY), "refused", "30 February");
	is_str(report_period("2025", CAL_QUARTER), "refused", "quarters are not report periods");
	is_str(report_period(NULL, CAL_YEAR), "refused", "no text");
}

int
main(void)
{
	test_parse();
	test_days();
	test_periods();
	test_suffix();
	test_report_periods();
	return done_testing();
}
