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

#include "core/collist.h"
#include "ops/rollup.h"
#include "pg/config.h"
#include "pg/rollup.h"
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

static bool
covered(PgConn *pc, const Rollup *r, const ReportOptions *opt, bool *yes, PgpError *err)
{
	char id[16];
	const char *params[3] = {id, opt->from, opt->to};
	char *v = NULL;
	bool ok;

	snprintf(id, sizeof(id), "%d", r->id);
	/* coverage ranges never overlap: their clipped lengths add up to the range's */
	ok = pgc_query_value(pc,
						 "SELECT (COALESCE(pg_catalog.sum(LEAST(c.hi, $3::pg_catalog.date) - "
						 "GREATEST(c.lo, $2::pg_catalog.date)), 0) = $3::pg_catalog.date - "
						 "$2::pg_catalog.date)::text FROM pgpart.rollup_coverage c "
						 "WHERE c.rollup_id = $1::integer AND c.lo < $3::pg_catalog.date "
						 "AND c.hi > $2::pg_catalog.date",
						 3, params, &v, err);
	*yes = ok && v && v[0] == 't';
	free(v);
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
			  const ColumnList *by, const NameList *only)
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
		/* one time range per changed bucket, so indexes on the time column serve it */
		Rollup b = *shape;

		b.grain = (char *) "day";
		sb_append(sb, " AND (false");
		for (i = 0; i < only->n; i++)
		{
			StrBuf d, d1;
			char *s0, *s1;

			sb_init(&d);
			sb_init(&d1);
			pgc_append_literal(pc, &d, only->items[i]);
			sb_appendf(&d1, "%s::pg_catalog.date + %s", d.data,
					   strcmp(shape->grain, "month") == 0 ? "interval '1 month'" : "1");
			sb_append(&d, "::pg_catalog.date");
			s0 = rollup_bucket_start_sql(pc, &b, d.data);
			s1 = rollup_bucket_start_sql(pc, &b, d1.data);
			sb_append(sb, " OR (s.");
			pgc_append_ident(pc, sb, shape->column);
			sb_appendf(sb, " >= %s AND s.", s0);
			pgc_append_ident(pc, sb, shape->column);
			sb_appendf(sb, " < %s)", s1);
			free(s0);
			free(s1);
			sb_free(&d);
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
		   const ColumnList *by, ReportResult *res, PgpError *err)
{
	StrBuf sql;
	NameList dirty = {0};
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
			else
				namelist_add(&dirty, PQgetvalue(r, i, 0));
		}
		PQclear(r);
		if (everything || dirty.n > MAX_DIRTY_BUCKETS)
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
		{
			params[np++] = dirty_literal;
			sb_append(&sql, " UNION ALL ");
			append_detail(pc, &sql, shape, opt, by, &dirty);
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
			bool cov = false;

			if (no == NULL)
			{
				if (!covered(pc, cand, opt, &cov, err))
					goto out_txn;
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
				use = cand;
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
	ok = run_report(pc, opt, &shape, use, &by, res, err);
	if (ok && res->why == NULL)
	{
		if (use)
			res->why = res->dirty_buckets
						   ? pg_xasprintf("%ld bucket%s changed since the last refresh read from "
										  "the detail rows",
										  res->dirty_buckets, res->dirty_buckets == 1 ? "" : "s")
						   : pg_xstrdup("the rollup covers the range");
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
	namelist_free(&reasons);
	rollup_list_free(list, n);
	partconfig_list_free(cfg, ncfg);
	collist_free(&by);
	return ok;
}
