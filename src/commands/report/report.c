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
#include "pg/config.h"
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
	free(r->columns);
	free(r->source);
	free(r->why);
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

static const char *
measure_name(const Rollup *r, AggKind kind, const char *column)
{
	int i;

	for (i = 0; i < r->measures.n; i++)
	{
		const Measure *m = &r->measures.items[i];

		if (m->kind == kind && ((column == NULL && m->column == NULL) ||
								(column && m->column && strcmp(column, m->column) == 0)))
			return m->name;
	}
	return NULL;
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
 * buckets, so only rows grouped by org can give it.  Without it, a rollup
 * that is not grouped by org (a few rows per bucket however many orgs there
 * are) can answer.
 */
static bool
report_needs_org(const ReportOptions *opt)
{
	return opt->org != NULL || (opt->kind == REPORT_CROSS_ORG && opt->count_orgs);
}

/* why rollup r cannot answer, or NULL when it can (coverage is checked later) */
static const char *
unsuitable(const Rollup *r, const ReportOptions *opt, const ColumnList *by)
{
	int i;

	if (r->filter)
		return "it keeps only some rows (--where)";
	if (!measure_name(r, AGG_COUNT, NULL) || !measure_name(r, AGG_SUM, opt->amount_column))
		return "it lacks count(*) or the sum of the amount column";
	if (report_needs_org(opt) && !has(&r->group_by, opt->org_column))
		return "it is not grouped by the org column";
	for (i = 0; i < by->n; i++)
		if (!has(&r->group_by, by->names[i]))
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

/* whether rollup a has fewer rows per range than rollup b (a guess from its shape) */
static bool
fewer_rows(const Rollup *a, const Rollup *b)
{
	bool a_month = strcmp(a->grain, "month") == 0, b_month = strcmp(b->grain, "month") == 0;

	if (a_month != b_month)
		return a_month;
	return a->group_by.n < b->group_by.n;
}

/* date ranges [lo[i], hi[i]) of a report read from the detail rows beside a rollup */
typedef struct DateRanges
{
	NameList lo;
	NameList hi;
} DateRanges;

static void
dateranges_free(DateRanges *d)
{
	namelist_free(&d->lo);
	namelist_free(&d->hi);
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

/* whether an attached partition of the source (not the default) overlaps [lo, hi) */
static bool
partition_overlaps(PgConn *pc, const Rollup *r, const char *lo, const char *hi, bool *yes,
				   PgpError *err)
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
	if (!catalog_partitions(pc, r->source, &parts, err))
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
shortfall(PgConn *pc, const Rollup *r, const ReportOptions *opt, DateRanges *extra, bool *fits,
		  PgpError *err)
{
	char id[16], src[16];
	const char *params[4] = {id, opt->from, opt->to, src};
	PGresult *res;
	int i;
	bool ok = true;

	*fits = true;
	snprintf(id, sizeof(id), "%d", r->id);
	snprintf(src, sizeof(src), "%u", r->source);
	res = pgc_query(pc,
					"WITH c AS (SELECT GREATEST(c.lo, $2::pg_catalog.date) AS lo, "
					"    LEAST(c.hi, $3::pg_catalog.date) AS hi, "
					"    EXISTS (SELECT FROM pg_catalog.pg_inherits i "
					"      JOIN pg_catalog.pg_class k ON k.oid = i.inhrelid "
					"      WHERE i.inhparent = $4::pg_catalog.oid "
					"      AND k.relname = c.partition_name) AS live "
					"  FROM pgpart.rollup_coverage c WHERE c.rollup_id = $1::integer "
					"  AND c.lo < $3::pg_catalog.date AND c.hi > $2::pg_catalog.date), "
					"g AS (SELECT COALESCE(pg_catalog.lag(c.hi) OVER (ORDER BY c.lo), "
					"    $2::pg_catalog.date) AS lo, c.lo AS hi FROM c "
					"  UNION ALL SELECT COALESCE(pg_catalog.max(c.hi), $2::pg_catalog.date), "
					"    $3::pg_catalog.date FROM c) "
					"SELECT g.lo::text, g.hi::text, true FROM g WHERE g.lo < g.hi "
					"UNION ALL SELECT c.lo::text, c.hi::text, false FROM c WHERE NOT c.live "
					"ORDER BY 1",
					4, params, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && *fits && i < PQntuples(res); i++)
	{
		bool gap = PQgetvalue(res, i, 2)[0] == 't', taken = false;

		if (gap && !(ok = partition_overlaps(pc, r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
											 &taken, err)))
			break;
		if (taken)
			*fits = false;
		else
		{
			namelist_add(&extra->lo, PQgetvalue(res, i, 0));
			namelist_add(&extra->hi, PQgetvalue(res, i, 1));
		}
	}
	PQclear(res);
	return ok;
}

static void
append_cols(PgConn *pc, StrBuf *sb, const char *alias, const ColumnList *by)
{
	int i;

	for (i = 0; i < by->n; i++)
	{
		sb_appendf(sb, ", %s.", alias);
		pgc_append_ident(pc, sb, by->names[i]);
	}
}

/* the detail rows' branch: every row of the range, or only those of the changed buckets */
static void
append_detail(PgConn *pc, StrBuf *sb, const Rollup *shape, const ReportOptions *opt,
			  const ColumnList *by, const DateRanges *only)
{
	Rollup day = *shape;
	const char *pg = period_grain(opt->kind);
	char *source_q = pgc_quote_qualified(pc, shape->source_schema, shape->source_name);
	char *lo = rollup_bucket_start_sql(pc, shape, "$1::pg_catalog.date");
	char *hi = rollup_bucket_start_sql(pc, shape, "$2::pg_catalog.date");
	int i;

	sb_append(sb, "SELECT ");
	if (pg)
	{
		char *p;

		day.grain = (char *) pg;
		p = rollup_bucket_sql(pc, &day, "s");
		sb_append(sb, p);
		free(p);
	}
	else
		sb_append(sb, "NULL::pg_catalog.date");
	append_cols(pc, sb, "s", by);
	sb_append(sb, ", 1::bigint, s.");
	pgc_append_ident(pc, sb, opt->amount_column);
	sb_append(sb, "::pg_catalog.numeric, ");
	if (report_needs_org(opt))
	{
		sb_append(sb, "s.");
		pgc_append_ident(pc, sb, opt->org_column);
		sb_append(sb, "::text");
	}
	else
		sb_append(sb, "NULL::text");
	sb_appendf(sb, " FROM %s s WHERE s.", source_q);
	pgc_append_ident(pc, sb, shape->column);
	sb_appendf(sb, " >= %s AND s.", lo);
	pgc_append_ident(pc, sb, shape->column);
	sb_appendf(sb, " < %s", hi);
	if (opt->org)
	{
		sb_append(sb, " AND s.");
		pgc_append_ident(pc, sb, opt->org_column);
		sb_append(sb, " = $3");
	}
	if (only)
	{
		/* one time range each, so indexes on the time column serve it */
		Rollup b = *shape;

		b.grain = (char *) "day";
		sb_append(sb, " AND (false");
		for (i = 0; i < only->lo.n; i++)
		{
			StrBuf d0, d1;
			char *s0, *s1;

			sb_init(&d0);
			sb_init(&d1);
			pgc_append_literal(pc, &d0, only->lo.items[i]);
			sb_append(&d0, "::pg_catalog.date");
			pgc_append_literal(pc, &d1, only->hi.items[i]);
			sb_append(&d1, "::pg_catalog.date");
			s0 = rollup_bucket_start_sql(pc, &b, d0.data);
			s1 = rollup_bucket_start_sql(pc, &b, d1.data);
			sb_append(sb, " OR (s.");
			pgc_append_ident(pc, sb, shape->column);
			sb_appendf(sb, " >= %s AND s.", s0);
			pgc_append_ident(pc, sb, shape->column);
			sb_appendf(sb, " < %s)", s1);
			free(s0);
			free(s1);
			sb_free(&d0);
			sb_free(&d1);
		}
		sb_append(sb, ")");
	}
	free(lo);
	free(hi);
	free(source_q);
}

static void
append_rollup(PgConn *pc, StrBuf *sb, const Rollup *r, const ReportOptions *opt,
			  const ColumnList *by, bool skip_dirty)
{
	const char *pg = period_grain(opt->kind);
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);

	sb_append(sb, "SELECT ");
	if (pg && strcmp(pg, "month") == 0)
		sb_append(sb, "pg_catalog.date_trunc('month', r.bucket)::pg_catalog.date");
	else if (pg)
		sb_append(sb, "r.bucket");
	else
		sb_append(sb, "NULL::pg_catalog.date");
	append_cols(pc, sb, "r", by);
	sb_append(sb, ", r.");
	pgc_append_ident(pc, sb, measure_name(r, AGG_COUNT, NULL));
	sb_append(sb, "::bigint, r.");
	pgc_append_ident(pc, sb, measure_name(r, AGG_SUM, opt->amount_column));
	sb_append(sb, "::pg_catalog.numeric, ");
	if (report_needs_org(opt))
	{
		sb_append(sb, "r.");
		pgc_append_ident(pc, sb, opt->org_column);
		sb_append(sb, "::text");
	}
	else
		sb_append(sb, "NULL::text");
	sb_appendf(sb,
			   " FROM %s r WHERE r.bucket >= $1::pg_catalog.date AND r.bucket < "
			   "$2::pg_catalog.date",
			   summary_q);
	if (opt->org)
	{
		sb_append(sb, " AND r.");
		pgc_append_ident(pc, sb, opt->org_column);
		sb_append(sb, " = $3");
	}
	if (skip_dirty)
		sb_appendf(sb, " AND r.bucket <> ALL($%d::pg_catalog.date[])", opt->org ? 4 : 3);
	free(summary_q);
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

static bool
run_report(PgConn *pc, const ReportOptions *opt, const Rollup *shape, const Rollup *use,
		   const DateRanges *extra, const ColumnList *by, ReportResult *res, PgpError *err)
{
	StrBuf sql;
	NameList dirty = {0};
	DateRanges detail = {{0}, {0}};
	char *dirty_literal = NULL;
	const char *params[4];
	const char *pg = period_grain(opt->kind);
	int np = 0, i;
	bool ok = true, use_rollup = use != NULL;
	double t0 = clock_ms();

	if (use_rollup)
	{
		char id[16];
		const char *p3[3] = {id, opt->from, opt->to};
		PGresult *r;
		bool everything = false;

		snprintf(id, sizeof(id), "%d", use->id);
		r = pgc_query(pc,
					  "SELECT DISTINCT d.bucket::text FROM pgpart.rollup_dirty d "
					  "WHERE d.rollup_id = $1::integer AND (d.bucket IS NULL OR "
					  "(d.bucket >= $2::pg_catalog.date AND d.bucket < $3::pg_catalog.date))",
					  3, p3, err);
		if (r == NULL)
			return false;
		for (i = 0; i < PQntuples(r); i++)
		{
			if (PQgetisnull(r, i, 0))
				everything = true;
			/* the extra ranges are read from the detail rows whole anyway */
			else if (!in_ranges(extra, PQgetvalue(r, i, 0)))
				namelist_add(&dirty, PQgetvalue(r, i, 0));
		}
		PQclear(r);
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
	sb_init(&sql);
	sb_append(&sql, "SELECT ");
	if (pg)
		sb_appendf(&sql, "x.period AS %s, ", pg);
	for (i = 0; i < by->n; i++)
	{
		sb_append(&sql, "x.");
		pgc_append_ident(pc, &sql, by->names[i]);
		sb_append(&sql, ", ");
	}
	sb_append(&sql, "pg_catalog.sum(x.n)::bigint AS rows, pg_catalog.sum(x.amount) AS amount");
	if (opt->kind == REPORT_CROSS_ORG && opt->count_orgs)
		sb_append(&sql, ", pg_catalog.count(DISTINCT x.org) AS orgs");
	sb_append(&sql, " FROM (");
	if (use_rollup)
	{
		append_rollup(pc, &sql, use, opt, by, dirty.n > 0);
		if (dirty.n > 0)
			params[np++] = dirty_literal;
		if (detail.lo.n > 0)
		{
			sb_append(&sql, " UNION ALL ");
			append_detail(pc, &sql, shape, opt, by, &detail);
		}
	}
	else
		append_detail(pc, &sql, shape, opt, by, NULL);
	sb_append(&sql, ") x(period");
	for (i = 0; i < by->n; i++)
	{
		sb_append(&sql, ", ");
		pgc_append_ident(pc, &sql, by->names[i]);
	}
	sb_append(&sql, ", n, amount, org) GROUP BY ");
	{
		int ncols = (pg ? 1 : 0) + by->n;

		if (ncols == 0)
			sb_append(&sql, "()");
		for (i = 0; i < ncols; i++)
			sb_appendf(&sql, "%s%d", i ? ", " : "", i + 1);
		if (ncols > 0)
		{
			sb_append(&sql, " ORDER BY ");
			for (i = 0; i < ncols; i++)
				sb_appendf(&sql, "%s%d", i ? ", " : "", i + 1);
		}
	}
	ok = fetch(pc, sql.data, params, np, res, err);
	res->query_ms = clock_ms() - t0;
	if (use_rollup)
		res->source = pg_xasprintf("rollup %s.%s", use->summary_schema, use->summary_name);
	else
		res->source = pg_xstrdup("detail");
	sb_free(&sql);
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
	const Rollup *use = NULL;
	DateRanges extra = {{0}, {0}};
	ColumnList by = {0};
	char *why = NULL;
	NameList reasons = {0};
	bool found, ok = false;
	ColumnInfo col;

	memset(res, 0, sizeof(*res));
	memset(&shape, 0, sizeof(shape));
	if (!collist_parse(opt->by, &by, &why))
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
		const char *c = i < by.n ? by.names[i] : i == by.n ? opt->org_column : opt->amount_column;

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

	if (!pgc_exec(pc, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err))
		goto out_rel;
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
				if (!shortfall(pc, cand, opt, &ex, &cov, err))
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
	ok = run_report(pc, opt, &shape, use, &extra, &by, res, err);
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
	{
		PgpError e;

		err_init(&e);
		pgc_exec(pc, "ROLLBACK", 0, NULL, &e);
		err_clear(&e);
	}
out_rel:
	relinfo_free(&rel);
out_by:
	dateranges_free(&extra);
	namelist_free(&reasons);
	rollup_list_free(list, n);
	partconfig_list_free(cfg, ncfg);
	collist_free(&by);
	return ok;
}
