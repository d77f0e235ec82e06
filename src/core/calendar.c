/*
 * calendar.c - civil-date arithmetic for partition boundaries.
 *
 * Dates are converted to a day count with the days-from-civil method (shift
 * the year to start in March so the leap day is the last day of the year);
 * that keeps week arithmetic and weekday computation exact for any year the
 * parser accepts, with no dependency on the C library's time zone code.
 */
#include "core/calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct
{
	const char *name;
	CalUnit unit;
} unit_names[] = {
	{"day", CAL_DAY},	  {"days", CAL_DAY},		 {"daily", CAL_DAY},
	{"week", CAL_WEEK},	  {"weeks", CAL_WEEK},		 {"weekly", CAL_WEEK},
	{"month", CAL_MONTH}, {"months", CAL_MONTH},	 {"monthly", CAL_MONTH},
	{"quarter", CAL_QUARTER}, {"quarters", CAL_QUARTER}, {"quarterly", CAL_QUARTER},
	{"year", CAL_YEAR},	  {"years", CAL_YEAR},		 {"yearly", CAL_YEAR},
	{"annual", CAL_YEAR},
};

bool
cal_unit_parse(const char *text, CalUnit *unit)
{
	if (text == NULL)
		return false;
	for (size_t i = 0; i < sizeof(unit_names) / sizeof(unit_names[0]); i++)
	{
		if (strcasecmp(text, unit_names[i].name) == 0)
		{
			*unit = unit_names[i].unit;
			return true;
		}
	}
	return false;
}

const char *
cal_unit_name(CalUnit unit)
{
	switch (unit)
	{
		case CAL_DAY:
			return "day";
		case CAL_WEEK:
			return "week";
		case CAL_MONTH:
			return "month";
		case CAL_QUARTER:
			return "quarter";
		case CAL_YEAR:
			return "year";
	}
	return "?";
}

const char *
cal_unit_date_trunc_field(CalUnit unit)
{
	/* date_trunc('week') is ISO: Monday, like CAL_WEEK */
	return cal_unit_name(unit);
}

bool
cal_is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
cal_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && cal_is_leap_year(year))
		return 29;
	return days[month - 1];
}

static bool
parse_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool
cal_date_parse(const char *text, CivilDate *date)
{
	CivilDate d;

	if (text == NULL || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
		return false;
	if (!parse_digits(text, 4, &d.year) || !parse_digits(text + 5, 2, &d.month) ||
		!parse_digits(text + 8, 2, &d.day))
		return false;
	if (d.year < 1 || d.month < 1 || d.month > 12 || d.day < 1 ||
		d.day > cal_days_in_month(d.year, d.month))
		return false;
	*date = d;
	return true;
}

void
cal_date_format(CivilDate date, char *buf)
{
	/* unsigned modulo: lets the compiler prove the 10 characters fit */
	snprintf(buf, 11, "%04u-%02u-%02u", (unsigned) date.year % 10000u,
			 (unsigned) date.month % 100u, (unsigned) date.day % 100u);
}

int64_t
cal_date_to_days(CivilDate date)
{
	int64_t y = date.year - (date.month <= 2 ? 1 : 0);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (date.month + 9) % 12; /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

CivilDate
cal_days_to_date(int64_t days)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	CivilDate d;

	d.day = (int) (doy - (153 * mp + 2) / 5 + 1);
	d.month = (int) (mp < 10 ? mp + 3 : mp - 9);
	d.year = (int) (yoe + era * 400 + (d.month <= 2 ? 1 : 0));
	return d;
}

int
cal_iso_weekday(CivilDate date)
{
	/* 1970-01-01 was a Thursday (4) */
	int64_t days = cal_date_to_days(date);
	int64_t wd = ((days + 3) % 7 + 7) % 7; /* 0 = Monday */

	return (int) wd + 1;
}

int
cal_compare(CivilDate a, CivilDate b)
{
	if (a.year != b.year)
		return a.year < b.year ? -1 : 1;
	if (a.month != b.month)
		return a.month < b.month ? -1 : 1;
	if (a.day != b.day)
		return a.day < b.day ? -1 : 1;
	return 0;
}

CivilDate
cal_period_start(CivilDate date, CalUnit unit)
{
	CivilDate s = date;

	switch (unit)
	{
		case CAL_DAY:
			break;
		case CAL_WEEK:
			s = cal_days_to_date(cal_date_to_days(date) - (cal_iso_weekday(date) - 1));
			break;
		case CAL_MONTH:
			s.day = 1;
			break;
		case CAL_QUARTER:
			s.day = 1;
			s.month = ((date.month - 1) / 3) * 3 + 1;
			break;
		case CAL_YEAR:
			s.day = 1;
			s.month = 1;
			break;
	}
	return s;
}

static CivilDate
add_months(CivilDate start, int64_t months)
{
	int64_t total = (int64_t) start.year * 12 + (start.month - 1) + months;
	int64_t year = total >= 0 ? total / 12 : -((-total + 11) / 12);
	CivilDate d;

	d.year = (int) year;
	d.month = (int) (total - year * 12) + 1;
	d.day = start.day;
	if (d.day > cal_days_in_month(d.year, d.month))
		d.day = cal_days_in_month(d.year, d.month);
	return d;
}

CivilDate
cal_period_add(CivilDate start, CalUnit unit, int n)
{
	switch (unit)
	{
		case CAL_DAY:
			return cal_days_to_date(cal_date_to_days(start) + n);
		case CAL_WEEK:
			return cal_days_to_date(cal_date_to_days(start) + (int64_t) n * 7);
		case CAL_MONTH:
			return add_months(start, n);
		case CAL_QUARTER:
			return add_months(start, (int64_t) n * 3);
		case CAL_YEAR:
			return add_months(start, (int64_t) n * 12);
	}
	return start;
}

/*
 * ISO 8601 week-numbering year and week of a date: the week belongs to the
 * year that contains its Thursday.
 */
static void
iso_week(CivilDate date, int *iso_year, int *week)
{
	int64_t days = cal_date_to_days(date);
	int64_t thursday = days - (cal_iso_weekday(date) - 1) + 3;
	CivilDate th = cal_days_to_date(thursday);
	CivilDate jan1 = {th.year, 1, 1};

	*iso_year = th.year;
	*week = (int) ((thursday - cal_date_to_days(jan1)) / 7) + 1;
}

void
cal_period_suffix(CivilDate start, CalUnit unit, char *buf)
{
	unsigned y = (unsigned) start.year % 10000u;
	unsigned m = (unsigned) start.month % 100u;

	switch (unit)
	{
		case CAL_DAY:
			snprintf(buf, CAL_SUFFIX_MAX, "%04u%02u%02u", y, m,
					 (unsigned) start.day % 100u);
			break;
		case CAL_WEEK:
			{
				int iy, w;

				iso_week(start, &iy, &w);
				snprintf(buf, CAL_SUFFIX_MAX, "%04u_w%02u", (unsigned) iy % 10000u,
						 (unsigned) w % 100u);
				break;
			}
		case CAL_MONTH:
			snprintf(buf, CAL_SUFFIX_MAX, "%04u_%02u", y, m);
			break;
		case CAL_QUARTER:
			snprintf(buf, CAL_SUFFIX_MAX, "%04u_q%u", y, ((m + 2) / 3) % 10u);
			break;
		case CAL_YEAR:
			snprintf(buf, CAL_SUFFIX_MAX, "%04u", y);
			break;
	}
}

bool
cal_period_parse(const char *text, CalUnit unit, CivilDate *from, CivilDate *to)
{
	char buf[16];
	size_t want;

	if (text == NULL)
		return false;
	switch (unit)
	{
		case CAL_DAY:
			want = 10;
			snprintf(buf, sizeof(buf), "%.10s", text);
			break;
		case CAL_MONTH:
			want = 7;
			snprintf(buf, sizeof(buf), "%.7s-01", text);
			break;
		case CAL_YEAR:
			want = 4;
			snprintf(buf, sizeof(buf), "%.4s-01-01", text);
			break;
		default:
			return false;
	}
	if (strlen(text) != want || !cal_date_parse(buf, from))
		return false;
	*to = cal_period_add(*from, unit, 1);
	return to->year <= 9999;
}
