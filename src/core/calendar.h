/*
 * calendar.h - civil-date arithmetic for partition boundaries.
 *
 * Partition boundaries are civil (wall-clock) dates: a quarter starts on the
 * first of January, April, July or October in the table's time zone, whatever
 * the UTC offset is that day.  Working in civil dates keeps every boundary
 * exact across DST changes and leap years; the server turns a civil date into
 * an instant with its own time zone database, so client and server can never
 * disagree about an offset.
 *
 * Pure logic: no I/O, no allocation except where a function says it returns
 * a malloc'd string.
 */
#ifndef PGPART_CORE_CALENDAR_H
#define PGPART_CORE_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

typedef enum CalUnit
{
	CAL_DAY,
	CAL_WEEK, /* ISO week, starts on Monday */
	CAL_MONTH,
	CAL_QUARTER,
	CAL_YEAR
} CalUnit;

/* Proleptic Gregorian date; year 1..9999 accepted by the parser. */
typedef struct CivilDate
{
	int year;
	int month; /* 1..12 */
	int day;   /* 1..31 */
} CivilDate;

/* "day", "week", "month", "quarter", "year" (also plural and "daily", ...) */
bool cal_unit_parse(const char *text, CalUnit *unit);
/* canonical singular name: "quarter" */
const char *cal_unit_name(CalUnit unit);
/* the keyword PostgreSQL's date_trunc() takes for this unit */
const char *cal_unit_date_trunc_field(CalUnit unit);

/* strict "YYYY-MM-DD"; rejects 2025-02-30, trailing junk, years outside 1..9999 */
bool cal_date_parse(const char *text, CivilDate *date);
/* "YYYY-MM-DD" into buf, which must hold at least 11 bytes */
void cal_date_format(CivilDate date, char *buf);

bool cal_is_leap_year(int year);
int cal_days_in_month(int year, int month);
/* days since 1970-01-01 (negative before), and back */
int64_t cal_date_to_days(CivilDate date);
CivilDate cal_days_to_date(int64_t days);
/* 1 = Monday .. 7 = Sunday */
int cal_iso_weekday(CivilDate date);
int cal_compare(CivilDate a, CivilDate b);

/* first day of the period of this unit that contains date */
CivilDate cal_period_start(CivilDate date, CalUnit unit);
/* start of the period n periods after the one starting at start (n may be < 0) */
CivilDate cal_period_add(CivilDate start, CalUnit unit, int n);

/*
 * A report's period [*from, *to) from text naming it: "YYYY-MM-DD" for a day,
 * "YYYY-MM" for a month, "YYYY" for a year (other units: false).  false also
 * when the period would end after 9999-12-31, which no date here can name.
 */
bool cal_period_parse(const char *text, CalUnit unit, CivilDate *from, CivilDate *to);

/*
 * Partition name suffix of the period starting at start:
 *   year "2025", quarter "2025_q1", month "2025_05",
 *   week "2025_w07" (ISO week-numbering year and week), day "20250517".
 * buf must hold at least CAL_SUFFIX_MAX bytes.
 */
#define CAL_SUFFIX_MAX 16
void cal_period_suffix(CivilDate start, CalUnit unit, char *buf);

#endif
