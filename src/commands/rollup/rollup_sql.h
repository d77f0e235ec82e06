/*
 * rollup_sql.h - per-bucket summaries ("rollups") of a partitioned table: the
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
	/*
	 * NULL: every row.  PostgreSQL's own text of the --where expression, for
	 * people to read: never run.  The refresh calls the expression as the
	 * function pgpart."rollup_<id>_filter" (see rollup_filter_check), with
	 * the columns its parameters are named after.
	 */
	char *filter;
	bool filter_compiled; /* that function exists (false: a filter stored as text by schema version 4, not converted) */
	NameList filter_args; /* its parameter names, the source's columns */
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

/*
 * A --where expression, as PostgreSQL checked it.  The check: the text (after
 * the lexical screen of core/sqlscreen.h) becomes the expression of a stored
 * generated boolean column of a temporary copy of the source's columns.
 * PostgreSQL then parses it once, over those columns only, and refuses
 * subqueries, aggregates, window and set-returning functions, system
 * columns, whole-row references and every function or operator that is not
 * immutable; pgpart also refuses any that is not built in (pg_depend lists
 * exactly those), as a function of someone else's, immutable or not, would
 * run with the rights of whoever refreshes.  What is kept is PostgreSQL's
 * deparse of the parsed expression, as the body of a SQL-standard function
 * (RETURN, parsed at creation and stored as a tree, so no text is parsed
 * again at refresh).  The refresh statement only names that function and
 * its columns: whatever the expression is, it cannot change the statement
 * around it.  The function is immutable and not SECURITY DEFINER, so the
 * planner inlines it as if the expression were written there.
 */
typedef struct RollupFilter
{
	char *canonical;  /* PostgreSQL's text of the expression */
	NameList columns; /* the source's columns it reads, in column order */
	NameList types;	  /* their types (format_type(), without type modifier) */
} RollupFilter;

void rollupfilter_free(RollupFilter *f);

/*
 * Checks expr as a --where of source.  Runs in a subtransaction of its own,
 * or a transaction when none is open, and leaves nothing behind (also in
 * --dry-run).  false (EXIT_USAGE when the expression is refused) with err.
 */
bool rollup_filter_check(PgConn *pc, RelOid source, const char *expr, RollupFilter *f,
						 PgpError *err);
/* pgpart."rollup_<id>_filter"(the columns) RETURNS boolean, owned and revoked as the others */
bool rollup_create_filter_function(PgConn *pc, const Rollup *r, const RollupFilter *f,
								   PgpError *err);

/* the summary table (partitioned by bucket, with a default partition) and its unique index */
bool rollup_create_summary(PgConn *pc, const Rollup *r, PgpError *err);
/* the summary's partition for [lo, hi) when missing */
bool rollup_ensure_summary_partition(PgConn *pc, const Rollup *r, const char *lo, const char *hi,
									 PgpError *err);
/*
 * The trigger functions (one per event), CREATE OR REPLACE: each refuses to
 * run for any table but the source and its partitions.
 */
bool rollup_create_functions(PgConn *pc, const Rollup *r, PgpError *err);
/* the marking triggers on one table (the parent or a partition), when missing */
bool rollup_ensure_triggers(PgConn *pc, const Rollup *r, const char *schema, const char *table,
							PgpError *err);
/* drops triggers (parent and partitions), functions, the summary and the records */
bool rollup_drop(PgConn *pc, const Rollup *r, PgpError *err);

#endif
