/*
 * duration.c - durations with PostgreSQL's units (ms, s, min, h, d); a bare number is
 * refused because nobody can tell whether it meant seconds or milliseconds.
 */
#include "core/duration.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool
duration_parse_ms(const char *text, int64_t *ms)
{
	static const struct
	{
		const char *suffix;
		double factor;
	} units[] = {
		{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000}, {"h", 3600000},
		{"d", 86400000},
	};
	char *end;
	double v;
	size_t i;

	if (text == NULL || *text < '0' || *text > '9')
		return false;
	v = strtod(text, &end);
	if (end == text || !isfinite(v) || v < 0)
		return false;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	{
		if (strcmp(end, units[i].suffix) == 0)
		{
			v *= units[i].factor;
			if (v > 30.0 * 86400000)
				return false;
			*ms = (int64_t) llround(v);
			return true;
		}
	}
	return false;
}
