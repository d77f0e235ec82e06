/*
 * report.h - "pgpart report daily|monthly|yearly|cross-org": the seed plan's
 * four reports over a managed table, answered from a rollup when one covers
 * the request (exactly: changed buckets are read from the detail rows) and
 * from the detail rows otherwise.  The result says which source answered and
 * why; nothing is printed here.
 */
#ifndef PGPART_COMMANDS_REPORT_H
#define PGPART_COMMANDS_REPORT_H

#include <stdbool.h>

#include "pg/conn.h"

typedef enum ReportKind
{
	REPORT_DAILY,	  /* one org, one day: by the --by columns */
	REPORT_MONTHLY,	  /* one org, one month: per day */
	REPORT_YEARLY,	  /* one org, one year: per month */
	REPORT_CROSS_ORG, /* every org over a date range: by the --by columns, with orgs counted */
} ReportKind;

typedef enum ReportSource
{
	SOURCE_AUTO,
	SOURCE_ROLLUP,
	SOURCE_DETAIL,
} ReportSource;

typedef struct ReportOptions
{
	const char *table;
	ReportKind kind;
	const char *org;	  /* value of the org column (as text) */
	const char *from;	  /* first date, inclusive */
	const char *to;		  /* last date, exclusive */
	const char *org_column;
	const char *amount_column;
	const char *by; /* column list; NULL: the kind's default */
	ReportSource source;
	bool count_orgs; /* cross-org: the distinct orgs of each group (default) */
} ReportOptions;

typedef struct ReportResult
{
	char **columns;
	int ncolumns;
	char ***rows; /* rows[i][j]; NULL for SQL NULL */
	int nrows;
	char *source;		/* "rollup NAME" or "detail" */
	char *why;			/* why this source */
	long dirty_buckets; /* read from the detail rows although a rollup served the rest */
	long extra_ranges;	/* archived or unpartitioned ranges also read from the detail rows */
	double query_ms;	/* the report's statements, as the client saw them */
} ReportResult;

void reportresult_free(ReportResult *r);
bool ops_report(PgConn *pc, const ReportOptions *opt, ReportResult *res, PgpError *err);

#endif
