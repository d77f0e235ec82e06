/*
 * pgpart report: the seed plan's four reports, answered from a rollup when
 * one covers the request and from the detail rows otherwise.
 *
 * Everything is read in one REPEATABLE READ snapshot: the rollup for the
 * buckets that are clean in that snapshot, the detail rows for the buckets
 * still marked as changed.  A change and its mark commit together, so the
 * result equals the same report computed from the detail rows alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/collist.h"
#include "commands/report/report.h"
#include "commands/rollup/rollup.h"
#include "pg/bounds.h"
#include "pg/catalog.h"
#include "pg/citus.h"
#include "pg/companion.h"
#include "pg/config.h"
#include "commands/report/report_sql.h"
#include "commands/rollup/rollup_sql.h"
#include "pg/schema.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/strbuf.h"

/* beyond this many changed buckets, reading the detail rows is simpler and as fast */
#define MAX_DIRTY_BUCKETS 200

void
reportresult_free(ReportResult *r)
{
	int i, j;

	for (i = 0; i < r->nrows; i++)
	{
		for (j = 0; j < r->ncolumns; j++)
			free(r->rows[i][j]);
		free(r->rows[i]);
	}
	free(r->rows);
	for (j = 0; j < r->ncolumns; j++)
		free(r->columns[j]);
	FREE_ALL(r->columns, r->source, r->why);
	memset(r, 0, sizeof(*r));
}

static bool
has(const NameList *l, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i], name) == 0)
			return true;
	return false;
}

/* what the report groups by in time: nothing (daily, cross-org), days or months */
static const char *
period_grain(ReportKind k)
{
	return k == REPORT_MONTHLY ? "day" : k == REPORT_YEARLY ? "month" : NULL;
}

/*
 * One org's reports filter on it, and a cross-org report counts distinct
 * orgs unless told not to: a count of distinct values does not add up across
 * buckets, so only rows grouped by org, or bitmaps of the orgs present
 * (rollup add --distinct), can give it.  Without it, a rollup that is not
 * grouped by org (a few rows per bucket however many orgs there are) can
 * answer.
 */
static bool
report_needs_org(const ReportOptions *opt)
{
	return opt->org != NULL || (opt->kind == REPORT_CROSS_ORG && opt->count_orgs);
}

/*
 * Whether r counts the distinct orgs a cross-org report wants without being
 * grouped by org: bitmaps of its org column (rollup add --distinct)
 */
static bool
counts_orgs(const Rollup *r, const ReportOptions *opt)
{
	return opt->org == NULL && opt->kind == REPORT_CROSS_ORG && opt->count_orgs &&
		   r->distinct_column && strcmp(r->distinct_column, opt->org_column) == 0;
}

/* why rollup r cannot answer, or NULL when it can (coverage is checked later) */
static const char *
unsuitable(const Rollup *r, const ReportOptions *opt, const NameList *by)
{
	int i;

	if (r->filter)
		return "it keeps only some rows (--where)";
	if (!report_measure(r, AGG_COUNT, NULL) || !report_measure(r, AGG_SUM, opt->amount_column))
		return "it lacks count(*) or the sum of the amount column";
	if (report_needs_org(opt) && !has(&r->group_by, opt->org_column) && !counts_orgs(r, opt))
		return opt->org ? "it is not grouped by the org column"
						: "it neither is grouped by the org column nor counts it (--distinct)";
	for (i = 0; i < by->n; i++)
		if (!has(&r->group_by, by->items[i]))
			return "it is not grouped by every --by column";
	if (strcmp(r->grain, "month") == 0)
	{
		const char *pg = period_grain(opt->kind);

		if (pg && strcmp(pg, "day") == 0)
			return "its buckets are months, the report wants days";
		if (strcmp(opt->from + 8, "01") != 0 || strcmp(opt->to + 8, "01") != 0)
			return "its buckets are months, the range is not whole months";
	}
	return NULL;
}

/*
 * A guess of a rollup's rows per bucket from its shape: each group column
 * multiplies them, bitmaps of a column by its chunks, fewer than its values
 */
static int
row_weight(const Rollup *r)
{
	return 2 * r->group_by.n + (r->distinct_column ? 1 : 0);
}

/* whether rollup a has fewer rows per range than rollup b */
static bool
fewer_rows(const Rollup *a, const Rollup *b)
{
	bool a_month = strcmp(a->grain, "month") == 0, b_month = strcmp(b->grain, "month") == 0;

	if (a_month != b_month)
		return a_month;
	return row_weight(a) < row_weight(b);
}

static bool
in_ranges(const DateRanges *d, const char *date)
{
	int i;

	/* ISO dates compare as text */
	for (i = 0; i < d->lo.n; i++)
		if (strcmp(date, d->lo.items[i]) >= 0 && strcmp(date, d->hi.items[i]) < 0)
			return true;
	return false;
}

/* whether an attached partition of table (not the default) overlaps [lo, hi) of r's calendar */
static bool
partition_overlaps(PgConn *pc, const Rollup *r, RelOid table, const char *lo, const char *hi,
				   bool *yes, PgpError *err)
{
	CivilDate d[2];
	ResolvedBound b[2];
	PartitionList parts;
	int i;

	*yes = false;
	if (!cal_date_parse(lo, &d[0]) || !cal_date_parse(hi, &d[1]))
	{
		err_set(err, EXIT_RUNTIME, "unexpected rollup coverage dates %s, %s", lo, hi);
		return false;
	}
	memset(b, 0, sizeof(b));
	if (!bounds_resolve(pc, r->key_type, r->time_zone, d, 2, b, err))
		return false;
	if (!catalog_partitions(pc, table, &parts, err))
	{
		bounds_free(b, 2);
		return false;
	}
	for (i = 0; i < parts.n && !*yes; i++)
	{
		const PartitionInfo *p = &parts.items[i];

		if (p->is_default)
			continue;
		*yes = !p->bounds_known || ((p->lo_unbounded || p->lo_us < b[1].us) &&
									 (p->hi_unbounded || p->hi_us > b[0].us));
	}
	partitionlist_free(&parts);
	bounds_free(b, 2);
	return true;
}

/*
 * What rollup r does not hold of [from, to), and whether it can answer all
 * the same.  Two kinds of range are read from the detail rows beside it:
 * gaps in its coverage where the table has no partition (a year that began
 * before the table's first partition: only the default partition can hold
 * rows there), and ranges whose partition was archived or dropped, whose
 * summary stays while any row written there since went to the default
 * partition and is not in the summary.  A gap where a partition exists
 * (not summarised yet) means it cannot answer.
 */
static bool
shortfall(PgConn *pc, const Rollup *r, const ReportOptions *opt, const ForeignHome *home,
		  DateRanges *extra, bool *fits, PgpError *err)
{
	DateRanges ranges = {{0}, {0}};
	bool *gap = NULL;
	int i;
	bool ok;

	*fits = true;
	ok = report_shortfall(pc, r, opt->from, opt->to, &ranges, &gap, err);
	for (i = 0; ok && *fits && i < ranges.lo.n; i++)
	{
		bool taken = false;

		/*
		 * a gap the companion holds: archived before the rollup summarised
		 * it, so its rows are in neither the summary nor the table
		 */
		if (gap[i] && (!(ok = partition_overlaps(pc, r, r->source, ranges.lo.items[i],
												 ranges.hi.items[i], &taken, err)) ||
					   (!taken && home->name &&
						!(ok = partition_overlaps(pc, r, home->oid, ranges.lo.items[i],
												  ranges.hi.items[i], &taken, err)))))
			break;
		if (taken)
			*fits = false;
		else
			dateranges_add(extra, ranges.lo.items[i], ranges.hi.items[i]);
	}
	free(gap);
	dateranges_free(&ranges);
	return ok;
}

static bool
fetch(PgConn *pc, const char *sql, const char **params, int np, ReportResult *res, PgpError *err)
{
	PGresult *r = pgc_query(pc, sql, np, params, err);
	int i, j;

	if (r == NULL)
		return false;
	res->ncolumns = PQnfields(r);
	res->columns = pg_xcalloc((size_t) res->ncolumns, sizeof(char *));
	for (j = 0; j < res->ncolumns; j++)
		res->columns[j] = pg_xstrdup(PQfname(r, j));
	res->nrows = PQntuples(r);
	res->rows = pg_xcalloc((size_t) (res->nrows > 0 ? res->nrows : 1), sizeof(char **));
	for (i = 0; i < res->nrows; i++)
	{
		res->rows[i] = pg_xcalloc((size_t) res->ncolumns, sizeof(char *));
		for (j = 0; j < res->ncolumns; j++)
			res->rows[i][j] = PQgetisnull(r, i, j) ? NULL : pg_xstrdup(PQgetvalue(r, i, j));
	}
	PQclear(r);
	return true;
}

/*
 * *reaches: detail rows of the report's range live under the table's
 * companion (home, found once by ops_report): archived in place or remote
 */
static bool
detail_reaches_companion(PgConn *pc, const Rollup *shape, const ReportOptions *opt,
						 const ForeignHome *home, bool *reaches, PgpError *err)
{
	bool rowsec = false;

	*reaches = false;
	if (home->name == NULL)
		return true;
	if (!partition_overlaps(pc, shape, home->oid, opt->from, opt->to, reaches, err))
		return false;
	if (!*reaches)
		return true;
	if (!report_row_security(pc, shape->source, &rowsec, err))
		return false;
	if (rowsec)
	{
		/* the companion has no policies: what it would give is not what the table's allow */
		err_set(err, EXIT_USAGE,
				"the range reaches archived partitions of %s.%s, but the table has row security, "
				"which its companion %s.%s cannot apply",
				shape->source_schema, shape->source_name, home->schema, home->name);
		err_hint(err, "Restore those partitions (pgpart restore), or report on a range after them.");
		return false;
	}
	return true;
}

static bool
run_report(PgConn *pc, const ReportOptions *opt, const Rollup *shape, const Rollup *use,
		   const ForeignHome *home, const DateRanges *extra, const NameList *by,
		   ReportResult *res, PgpError *err)
{
	char *sql;
	ReportQuery q;
	NameList dirty = {0};
	DateRanges detail = {{0}, {0}};
	char *dirty_literal = NULL;
	const char *params[4];
	const char *pg = period_grain(opt->kind);
	int np = 0, i;
	bool ok = true, use_rollup = use != NULL;
	double t0 = clock_ms();
	bool reaches = false;

	if (use_rollup)
	{
		NameList marked = {0};
		bool everything = false;

		/*
		 * On Citus an org's marks, summary rows and detail rows are on one
		 * worker: read there in one snapshot, they agree as on one server
		 */
		if ((use->dist_column && !citus_one_snapshot_per_worker(pc, err)) ||
			!report_marked_buckets(pc, use, opt->from, opt->to, &marked, &everything, err))
			return false;
		/* the extra ranges are read from the detail rows whole anyway */
		for (i = 0; i < marked.n; i++)
			if (!in_ranges(extra, marked.items[i]))
				namelist_add(&dirty, marked.items[i]);
		namelist_free(&marked);
		/* with archived ranges the detail rows alone would miss their rows */
		if (everything || (dirty.n > MAX_DIRTY_BUCKETS && extra->lo.n == 0))
		{
			use_rollup = false;
			res->why = pg_xstrdup(everything ? "the table was truncated since the last refresh"
											 : "too many buckets changed since the last refresh");
		}
		else
		{
			StrBuf lit;

			sb_init(&lit);
			sb_append(&lit, "{");
			for (i = 0; i < dirty.n; i++)
				sb_appendf(&lit, "%s%s", i ? "," : "", dirty.items[i]);
			sb_append(&lit, "}");
			dirty_literal = sb_steal(&lit);
			res->dirty_buckets = dirty.n;
			res->extra_ranges = extra->lo.n;
			for (i = 0; i < extra->lo.n; i++)
			{
				namelist_add(&detail.lo, extra->lo.items[i]);
				namelist_add(&detail.hi, extra->hi.items[i]);
			}
			for (i = 0; i < dirty.n; i++)
			{
				CivilDate d;
				char end[16];

				if (!cal_date_parse(dirty.items[i], &d))
					continue;
				cal_date_format(
					cal_period_add(d, strcmp(use->grain, "month") == 0 ? CAL_MONTH : CAL_DAY, 1),
					end);
				namelist_add(&detail.lo, dirty.items[i]);
				namelist_add(&detail.hi, end);
			}
		}
	}
	params[np++] = opt->from;
	params[np++] = opt->to;
	if (opt->org)
		params[np++] = opt->org;
	memset(&q, 0, sizeof(q));
	q.shape = shape;
	q.rollup = use_rollup ? use : NULL;
	q.period = pg;
	q.by = by;
	q.org_column = opt->org_column;
	q.amount_column = opt->amount_column;
	q.one_org = opt->org != NULL;
	q.with_org = report_needs_org(opt);
	q.count_orgs = opt->kind == REPORT_CROSS_ORG && opt->count_orgs;
	q.org_bits = q.rollup && q.count_orgs && !has(&use->group_by, opt->org_column);
	q.skip_marked = use_rollup && dirty.n > 0;
	q.detail = &detail;
	if (!use_rollup && !(ok = detail_reaches_companion(pc, shape, opt, home, &reaches, err)))
		goto out;
	q.detail_companion = reaches ? home->name : NULL;
	q.detail_companion_schema = home->schema;
	if (q.skip_marked)
		params[np++] = dirty_literal;
	sql = report_sql(pc, &q);
	ok = fetch(pc, sql, params, np, res, err);
	res->query_ms = clock_ms() - t0;
	if (use_rollup)
		res->source = pg_xasprintf("rollup %s.%s", use->summary_schema, use->summary_name);
	else if (q.detail_companion)
		res->source = pg_xasprintf("detail, with the archived and remote partitions of %s.%s",
								   home->schema, home->name);
	else
		res->source = pg_xstrdup("detail");
	free(sql);
out:
	free(dirty_literal);
	namelist_free(&dirty);
	dateranges_free(&detail);
	return ok;
}

bool
ops_report(PgConn *pc, const ReportOptions *opt, ReportResult *res, PgpError *err)
{
	RelInfo rel;
	PartConfig *cfg = NULL;
	int ncfg = 0, n = 0, i;
	Rollup *list = NULL, shape;
	ForeignHome home = {0};
	const Rollup *use = NULL;
	DateRanges extra = {{0}, {0}};
	NameList by = {0};
	char *why = NULL;
	NameList reasons = {0};
	bool found, ok = false;
	ColumnInfo col;

	memset(res, 0, sizeof(*res));
	memset(&shape, 0, sizeof(shape));
	/* --by '': no groups, one row of totals */
	if (opt->by[strspn(opt->by, " \t")] != '\0' && !collist_parse(opt->by, &by, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --by \"%s\": %s", opt->by, why);
		free(why);
		return false;
	}
	if (!schema_require(pc, err) || !catalog_resolve_table(pc, opt->table, &rel, &found, err))
		goto out_by;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		goto out_by;
	}
	if (!config_load(pc, rel.oid, &cfg, &ncfg, err))
		goto out_rel;
	if (ncfg == 0)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not managed by pgpart", rel.schema, rel.name);
		err_hint(err, "Reports need the table's time column and zone: partition it with pgpart.");
		goto out_rel;
	}
	for (i = 0; i < by.n + 2; i++)
	{
		const char *c = i < by.n ? by.items[i] : i == by.n ? opt->org_column : opt->amount_column;

		if (!catalog_column(pc, rel.oid, c, &col, &found, err))
			goto out_rel;
		columninfo_free(&col);
		if (!found)
		{
			err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", c, rel.schema,
					rel.name);
			err_hint(err, "Name the columns with --org-column, --amount-column and --by.");
			goto out_rel;
		}
	}
	/* the detail rows are read through the same bucket arithmetic as the rollups */
	if (!catalog_column(pc, rel.oid, cfg[0].column, &col, &found, err))
		goto out_rel;
	shape.key_type = col.key_type;
	columninfo_free(&col);
	shape.source = rel.oid;
	shape.source_schema = rel.schema;
	shape.source_name = rel.name;
	shape.column = cfg[0].column;
	shape.time_zone = cfg[0].time_zone;
	shape.grain = (char *) "day";

	if (!report_begin(pc, err))
		goto out_rel;
	/* the companion's partitions: read by every rollup's coverage and by the detail rows */
	if (!companion_find(pc, rel.schema, rel.name, &home, err))
		goto out_txn;
	if (opt->source != SOURCE_DETAIL)
	{
		if (!rollup_load(pc, rel.oid, 0, &list, &n, err))
			goto out_txn;
		/*
		 * Of the rollups that fit, read the one with the fewest rows per
		 * range: month buckets before day buckets, then the fewest group-by
		 * columns (a rollup not grouped by org has a few rows per bucket
		 * whatever the number of orgs).
		 */
		for (i = 0; i < n; i++)
		{
			const Rollup *cand = &list[i];
			const char *no = unsuitable(cand, opt, &by);
			DateRanges ex = {{0}, {0}};
			bool cov = false;

			if (no == NULL)
			{
				if (!shortfall(pc, cand, opt, &home, &ex, &cov, err))
				{
					dateranges_free(&ex);
					goto out_txn;
				}
				if (!cov)
					no = "it does not cover the whole range (run pgpart rollup refresh)";
			}
			if (no != NULL)
			{
				char *line = pg_xasprintf("%s: %s", cand->summary_name, no);

				namelist_add(&reasons, line);
				free(line);
			}
			else if (use == NULL || fewer_rows(cand, use))
			{
				use = cand;
				dateranges_free(&extra);
				extra = ex;
				memset(&ex, 0, sizeof(ex));
			}
			dateranges_free(&ex);
		}
		if (use == NULL && opt->source == SOURCE_ROLLUP)
		{
			err_set(err, EXIT_USAGE, "no rollup of %s.%s can answer this report", rel.schema,
					rel.name);
			if (reasons.n)
			{
				char *all = namelist_join(&reasons, "; ");

				err_detail(err, "%s", all);
				free(all);
			}
			else
				err_detail(err, "The table has no rollup.");
			err_hint(err, "Add one, e.g. pgpart rollup add %s --name %s_daily --grain day "
						  "--group-by '%s, status, category' --measures 'sum(%s), count(*)'.",
					 rel.name, rel.name, opt->org_column, opt->amount_column);
			goto out_txn;
		}
	}
	ok = run_report(pc, opt, &shape, use, &home, &extra, &by, res, err);
	if (ok && res->why == NULL)
	{
		if (use)
		{
			StrBuf w;

			sb_init(&w);
			if (res->dirty_buckets)
				sb_appendf(&w, "%ld bucket%s changed since the last refresh read from the "
							   "detail rows",
						   res->dirty_buckets, res->dirty_buckets == 1 ? "" : "s");
			if (res->extra_ranges)
				sb_appendf(&w, "%s%ld archived or unpartitioned range%s also read from the detail "
							   "rows (the default partition)",
						   w.len ? "; " : "", res->extra_ranges, res->extra_ranges == 1 ? "" : "s");
			if (w.len == 0)
				sb_append(&w, "the rollup covers the range");
			res->why = sb_steal(&w);
		}
		else if (opt->source == SOURCE_DETAIL)
			res->why = pg_xstrdup("asked for (--source detail)");
		else if (reasons.n)
		{
			char *all = namelist_join(&reasons, "; ");

			res->why = pg_xasprintf("no usable rollup (%s)", all);
			free(all);
		}
		else
			res->why = pg_xstrdup("the table has no rollup");
	}
out_txn:
	report_end(pc);
	foreign_home_free(&home);
out_rel:
	relinfo_free(&rel);
out_by:
	dateranges_free(&extra);
	namelist_free(&reasons);
	rollup_list_free(list, n);
	partconfig_list_free(cfg, ncfg);
	namelist_free(&by);
	return ok;
}
