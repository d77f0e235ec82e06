/*
 * measures.h - the --measures of "pgpart rollup add", e.g.
 * "sum(amount), count(*), max(amount)".
 *
 * Only aggregates that a report can merge again across buckets are
 * accepted: sum, count, min and max (an average is sum / count).  Columns
 * follow collist's rules and are quoted later; nothing typed is pasted into
 * SQL as is.
 */
#ifndef PGPART_CORE_MEASURES_H
#define PGPART_CORE_MEASURES_H

#include <stdbool.h>

typedef enum AggKind
{
	AGG_SUM,
	AGG_COUNT,
	AGG_MIN,
	AGG_MAX,
} AggKind;

typedef struct Measure
{
	AggKind kind;
	char *column; /* NULL for count(*) */
	char *name;	  /* the summary table's column: sum_amount, count, count_x, min_x, max_x */
} Measure;

typedef struct MeasureList
{
	Measure *items;
	int n;
} MeasureList;

/* false with a malloc'd *why (caller frees) when text is not such a list */
bool measures_parse(const char *text, MeasureList *out, char **why);
void measures_free(MeasureList *l);

/* "sum", "count", "min", "max" */
const char *agg_name(AggKind k);
/* how a report merges this measure over several buckets: sum for sum and count */
const char *agg_merge(AggKind k);

#endif
