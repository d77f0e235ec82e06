/*
 * rollup.h - per-bucket summaries ("rollups") of a partitioned table: the
 * summary table, the triggers that mark changed buckets, and the statements
 * that summarise a partition or re-summarise changed buckets.
 *
 * The design that keeps reports exact without slowing writers much: the
 * application's statements only record WHICH buckets they changed (one small
 * insert per statement into pgpart.rollup_dirty, from statement-level
 * triggers with transition tables), never the sums themselves.  A refresh
 * deletes the marks it can see and recomputes those buckets from the detail
 * rows, in one transaction: every change whose mark it consumed is committed
 * and so inside its aggregate.  A report reads, in one snapshot, the summary
 * for clean buckets and the detail rows for buckets still marked: exact
 * whatever the time since the last refresh.  A partition that no longer
 * changes is summarised once.
 */
#ifndef PGPART_PG_ROLLUP_H
#define PGPART_PG_ROLLUP_H

#include "core/measures.h"
#include "pg/catalog.h"

typedef struct Rollup
{
	int id;
	RelOid source;
	char *source_schema;
	char *source_name;
	RelOid summary;
	char *summary_schema;
	char *summary_name;
	char *grain; /* "day" or "month" */
	NameList group_by;
	char *measures_text;
	MeasureList measures;
	char *filter; /* NULL: every row */
	char *refreshed_at;
	/* from pgpart.part_config and the column */
	char *column;
	KeyType key_type;
	char *time_zone;
} Rollup;

void rollup_free(Rollup *r);
void rollup_list_free(Rollup *list, int n);

/* rollups of source (0: all), or the one whose summary table is summary (0: any) */
bool rollup_load(PgConn *pc, RelOid source, RelOid summary, Rollup **list, int *n, PgpError *err);

/* SQL: the bucket (a date) of alias's row */
char *rollup_bucket_sql(PgConn *pc, const Rollup *r, const char *alias);
/* SQL: the value of the partition column where the bucket given as SQL date begins */
char *rollup_bucket_start_sql(PgConn *pc, const Rollup *r, const char *date_sql);

/*
 * SELECT bucket, group columns..., measures FROM relation s WHERE [filter]
 * AND (extra) GROUP BY ...; relation is qualified and quoted, extra may be NULL.
 */
char *rollup_aggregate_sql(PgConn *pc, const Rollup *r, const char *relation, const char *extra);

/* the summary table (partitioned by bucket, with a default partition) and its unique index */
bool rollup_create_summary(PgConn *pc, const Rollup *r, PgpError *err);
/* the summary's partition for [lo, hi) when missing */
bool rollup_ensure_summary_partition(PgConn *pc, const Rollup *r, const char *lo, const char *hi,
									 PgpError *err);
/* the trigger functions (one per rollup) */
bool rollup_create_functions(PgConn *pc, const Rollup *r, PgpError *err);
/* the marking triggers on one table (the parent or a partition), when missing */
bool rollup_ensure_triggers(PgConn *pc, const Rollup *r, const char *schema, const char *table,
							PgpError *err);
/* drops triggers (parent and partitions), functions, the summary and the records */
bool rollup_drop(PgConn *pc, const Rollup *r, PgpError *err);

#endif
