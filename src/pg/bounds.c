/*
 * bounds.c - asks the server, in one query, for the instant at which each civil
 * period starts in the table's time zone, rather than computing offsets here:
 * routing of rows uses the server's time zone database, so must the bounds.
 */
#include "pg/bounds.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

bool
bounds_resolve(PgConn *pc, KeyType key_type, const char *time_zone, const CivilDate *dates, int n,
			   ResolvedBound *out, PgpError *err)
{
	StrBuf arr;
	const char *params[3];
	PGresult *res;
	int i;

	memset(out, 0, sizeof(ResolvedBound) * (size_t) n);
	if (n == 0)
		return true;
	sb_init(&arr);
	sb_append_char(&arr, '{');
	for (i = 0; i < n; i++)
	{
		char buf[16];

		cal_date_format(dates[i], buf);
		if (i > 0)
			sb_append_char(&arr, ',');
		sb_append(&arr, buf);
	}
	sb_append_char(&arr, '}');
	params[0] = arr.data;
	params[1] = key_type == KEY_TIMESTAMPTZ ? "timestamptz"
				: key_type == KEY_TIMESTAMP ? "timestamp"
											: "date";
	params[2] = time_zone;
	res = pgc_query(pc,
					"WITH d AS ("
					"  SELECT d, o, CASE $2 "
					"     WHEN 'timestamptz' THEN ((d::timestamp AT TIME ZONE $3)::text) "
					"     WHEN 'timestamp' THEN (d::timestamp)::text "
					"     ELSE d::text END AS lit "
					"  FROM pg_catalog.unnest($1::date[]) WITH ORDINALITY AS u(d, o)) "
					"SELECT lit, (EXTRACT(epoch FROM lit::timestamptz) * 1000000)::bigint "
					"FROM d ORDER BY o",
					3, params, err);
	sb_free(&arr);
	if (res == NULL)
		return false;
	for (i = 0; i < n && i < PQntuples(res); i++)
	{
		out[i].literal = pg_xstrdup(PQgetvalue(res, i, 0));
		out[i].us = strtoll(PQgetvalue(res, i, 1), NULL, 10);
	}
	PQclear(res);
	return true;
}

void
bounds_free(ResolvedBound *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(b[i].literal);
}
