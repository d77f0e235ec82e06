/*
 * partspec.h - how a table is to be partitioned, as the user asked for it:
 * the options "create" and "migrate plan|start" share (--column, --interval,
 * --start, --premake, --time-zone).  A plain value with its defaults, so the
 * commands' option tables fill it directly and their operations take it
 * whole instead of copying field by field.
 */
#ifndef PGPART_CORE_PARTSPEC_H
#define PGPART_CORE_PARTSPEC_H

#include <stdbool.h>

#include "core/calendar.h"

typedef struct PartitionArgs
{
	const char *column; /* the partition key */
	CalUnit unit;
	bool has_start;
	CivilDate start;
	int premake; /* future periods made ahead of time */
	const char *time_zone;
} PartitionArgs;

#define PARTITION_ARGS_DEFAULT {NULL, CAL_QUARTER, false, {0, 0, 0}, 4, "UTC"}

#endif
