/*
 * report_sql.h - the statements of "pgpart report": the snapshot it reads
 * in, what a rollup holds of the requested range, its buckets marked as
 * changed, and the one statement that computes the report from a rollup's
 * summary and the detail rows beside it (or the detail rows alone).  Only
 * reads: nothing here takes more than ACCESS SHARE.
 */
#ifndef PGPART_COMMANDS_REPORT_SQL_H
#define PGPART_COMMANDS_REPORT_SQL_H

#include "commands/rollup/rollup_sql.h"
#include "core/collist.h"

/* date ranges [lo[i], hi[i]) (ISO dates) read from the detail rows beside a rollup */
typedef struct DateRanges
{
	NameList lo;
	NameList hi;
} DateRanges;

void dateranges_free(DateRanges *d);
void dateranges_add(DateRanges *d, const char *lo, const char *hi);

/*
 * The report's snapshot: REPEATABLE READ READ ONLY, so that the summary and
 * the marks and the detail rows are read as of one moment (a change and its
 * mark commit together).  report_end rolls it back (nothing was changed).
 */
bool report_begin(PgConn *pc, PgpError *err);
void report_end(PgConn *pc);

/*
 * What rollup r does not hold of [from, to), clipped to it, in date order:
 * gaps in its coverage ((*gap)[i] true) and covered ranges whose source
 * partition is gone, archived or dropped (false).  *gap is malloc'd.
 */
bool report_shortfall(PgConn *pc, const Rollup *r, const char *from, const char *to,
					  DateRanges *ranges, bool **gap, PgpError *err);

/* r's buckets in [from, to) marked as changed, and whether a TRUNCATE was marked */
bool report_marked_buckets(PgConn *pc, const Rollup *r, const char *from, const char *to,
						   NameList *buckets, bool *everything, PgpError *err);

/* the name of r's measure kind(column) (column NULL: count(*)), or NULL when it has none */
const char *report_measure(const Rollup *r, AggKind kind, const char *column);

/*
 * What the report's statement reads and how it groups.  Its parameters: $1
 * and $2 the range [from, to), $3 the org with one_org, then the marked
 * buckets (a date[] literal) with skip_marked.
 */
typedef struct ReportQuery
{
	const Rollup *shape;	  /* the source: its time column and zone (grain unused) */
	const Rollup *rollup;	  /* its summary answers; NULL: the detail rows alone */
	const char *period;		  /* "day" or "month": a row per period; NULL: none */
	const NameList *by;	  /* the --by columns */
	const char *org_column;
	const char *amount_column;
	bool one_org;			  /* only the rows of one org ($3) */
	bool with_org;			  /* the org column is read: one org, or orgs counted */
	bool count_orgs;		  /* an "orgs" column: distinct orgs of each group */
	/*
	 * they are counted from the rollup's bitmaps (rollup add --distinct of
	 * the org column), the detail rows beside it turned into bitmaps too
	 */
	bool org_bits;
	bool skip_marked;		  /* the summary's marked buckets are left out */
	const DateRanges *detail; /* with a rollup: the ranges read from the detail rows beside it */
	/*
	 * without a rollup: the companion (in the source's schema) that holds the
	 * source's archived or remote partitions of the range (pg/companion.h),
	 * read with the source as the view over both does; NULL: the source alone.
	 * With a rollup the source alone is right: the summary holds the rows
	 * that went away.
	 */
	const char *detail_companion;
	const char *detail_companion_schema;
} ReportQuery;

/* *yes: the table has row security enabled */
bool report_row_security(PgConn *pc, RelOid table, bool *yes, PgpError *err);

/* the statement, malloc'd */
char *report_sql(PgConn *pc, const ReportQuery *q);

#endif
