/*
 * rollup.h - "pgpart rollup add|refresh|status|drop" and "pgpart report":
 * summaries per bucket (day or month) of a partitioned table, kept current by
 * marking changed buckets (see commands/rollup/rollup_sql.h), and reports that read them.
 */
#ifndef PGPART_OPS_ROLLUP_H
#define PGPART_OPS_ROLLUP_H

#include "pg/catalog.h"
#include "pg/lock.h"

typedef struct RollupOptions
{
	const char *table;	  /* add: the source; refresh/status: a source or NULL for all */
	const char *name;	  /* add: the summary table; drop/refresh: which rollup */
	const char *grain;	  /* "day" or "month" */
	const char *group_by; /* "org_id, status" */
	const char *measures; /* "sum(amount), count(*)" */
	const char *where;	  /* SQL predicate or NULL */
	bool no_refresh;	  /* add: define only; summarise later */
	LockPolicy lock;
} RollupOptions;

/* one line per rollup and what happened to it */
typedef struct RollupReport
{
	NameList labels;
	NameList values;
} RollupReport;

void rollupreport_free(RollupReport *r);

bool ops_rollup_add(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);
bool ops_rollup_refresh(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);
bool ops_rollup_status(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);
bool ops_rollup_drop(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);

/* for maintain: refresh every rollup of one table; notes get one line per rollup */
bool ops_rollup_refresh_table(PgConn *pc, RelOid source, const LockPolicy *lock, NameList *notes,
							  PgpError *err);

/*
 * For "pgpart init", inside its transaction, one subtransaction per rollup:
 * a --where that an older version stored as text is checked and converted
 * into its function (or listed in problems when refused); with
 * rebuild_functions, trigger functions an earlier version made (without
 * the guard) are made again as this pgpart makes them (guarded, revoked, owned by the table's owner).
 */
bool ops_rollup_upgrade(PgConn *pc, bool rebuild_functions, NameList *done, NameList *problems,
						PgpError *err);

/* ---- report ---------------------------------------------------------- */

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
