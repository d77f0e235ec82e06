/*
 * bounds.h - turning civil period boundaries into partition bounds.
 *
 * The server does the conversion: for a timestamptz key, midnight of a civil
 * date in the table's time zone becomes an instant through the server's own
 * time zone database (so DST and historical offsets are exactly what
 * PostgreSQL itself will use for routing rows).
 */
#ifndef PGPART_PG_BOUNDS_H
#define PGPART_PG_BOUNDS_H

#include <stdint.h>

#include "core/calendar.h"
#include "pg/catalog.h"

typedef struct ResolvedBound
{
	char *literal; /* the text to put in FOR VALUES FROM (...) (unquoted) */
	int64_t us;	   /* microseconds since 1970-01-01 UTC */
} ResolvedBound;

/* resolves n dates at once; out[] entries are filled (free with bounds_free) */
bool bounds_resolve(PgConn *pc, KeyType key_type, const char *time_zone, const CivilDate *dates,
					int n, ResolvedBound *out, PgpError *err);
void bounds_free(ResolvedBound *b, int n);

#endif
