/*
 * reshape.h - the partitions a split or a merge makes, from the civil dates
 * of the partitions it replaces: pure calendar arithmetic, tested without a
 * database.
 *
 * A split cuts one partition [lo, hi) into periods of a shorter interval
 * that tile it exactly (a quarter into three months); a merge joins adjacent
 * partitions into the one period of some interval that they tile exactly
 * (twelve months into their year).  The new partitions are named as pgpart
 * names a period of their interval, so a table split or merged looks as if
 * it had been made that way.
 */
#ifndef PGPART_CORE_RESHAPE_H
#define PGPART_CORE_RESHAPE_H

#include <stdbool.h>

#include "core/plan.h"

/* a partition being replaced: its civil bounds [lo, hi) in the table's time zone */
typedef struct ReshapeSource
{
	CivilDate lo;
	CivilDate hi;
} ReshapeSource;

/* more new partitions than this from one split is a mistake (a year into days is 366) */
#define RESHAPE_MAX_TARGETS 400

/*
 * The periods of unit that tile [lo, hi), at least two; false with a
 * malloc'd *why when lo does not start such a period, the periods do not end
 * on hi, there would be only one, or more than RESHAPE_MAX_TARGETS.
 */
bool reshape_split(ReshapeSource src, CalUnit unit, Period **out, int *n, char **why);

/*
 * The one period that sources (at least two, in any order: sorted here) tile
 * without gap or overlap, and its interval; unit_given: the interval the
 * caller asked for (false: the shortest that fits).  false with *why.
 */
bool reshape_merge(ReshapeSource *sources, int n, bool unit_given, CalUnit *unit, Period *out,
				   char **why);

#endif
