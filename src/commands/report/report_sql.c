/*
 * report_sql.c - every statement "pgpart report" sends.  The report itself
 * is one SELECT over a UNION ALL of up to two branches with the same
 * columns (period, the --by columns, rows, amount, org, or instead of the
 * org a chunk of orgs and its bitmap when a rollup counts them): the rollup's
 * summary for its clean buckets, and the detail rows for the buckets still
 * marked as changed and the ranges the summary cannot hold.  Identifiers are
 * quoted with pgc_append_ident, the range and the org are $n parameters,
 * and the detail rows are selected by ranges of the time column itself, so
 * that its indexes and partition pruning serve them.
 */
#include "commands/report/report_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/strbuf.h"

void
dateranges_free(DateRanges *d)
{
	NAMELIST_FREE_ALL(&d->lo, &d->hi);
}

void
dateranges_add(DateRanges *d, const char *lo, const char *hi)
{
	namelist_add(&d->lo, lo);
	namelist_add(&d->hi, hi);
}

bool
report_begin(PgConn *pc, PgpError *err)
{
	return pgc_exec(pc, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err);
}

void
report_end(PgConn *pc)
{
	pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
}

bool
report_shortfall(PgConn *pc, const Rollup *r, const char *from, const char *to,
				 DateRanges *ranges, bool **gap, PgpError *err)
{
	char id[16], src[16];
	const char *params[4] = {id, from, to, src};
	PGresult *res;
	int i;

	*gap = NULL;
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
	*gap = pg_xcalloc((size_t) PQntuples(res) + 1, sizeof(bool));
	for (i = 0; i < PQntuples(res); i++)
	{
		dateranges_add(ranges, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		(*gap)[i] = PQgetvalue(res, i, 2)[0] == 't';
	}
	PQclear(res);
	return true;
}

bool
report_marked_buckets(PgConn *pc, const Rollup *r, const char *from, const char *to,
					  NameList *buckets, bool *everything, PgpError *err)
{
	char id[16];
	const char *params[3] = {id, from, to};
	char *marks = rollup_marks_sql(r);
	char *sql = pg_xasprintf("SELECT DISTINCT d.bucket::text FROM %s d "
							 "WHERE d.rollup_id = $1::integer AND (d.bucket IS NULL OR "
							 "(d.bucket >= $2::pg_catalog.date AND d.bucket < $3::pg_catalog.date))",
							 marks);
	bool ok;

	snprintf(id, sizeof(id), "%d", r->id);
	ok = rollup_read_marks(pc, sql, 3, params, buckets, everything, err);
	free(sql);
	free(marks);
	return ok;
}

const char *
report_measure(const Rollup *r, AggKind kind, const char *column)
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

/* ", alias.col" for each column of by (a leading comma) or "alias.col, " (a trailing one) */
static void
append_cols(PgConn *pc, StrBuf *sb, const char *alias, const NameList *by, bool trailing)
{
	int i;

	for (i = 0; i < by->n; i++)
	{
		if (alias)
			sb_appendf(sb, "%s%s.", trailing ? "" : ", ", alias);
		else if (!trailing)
			sb_append(sb, ", ");
		pgc_append_ident(pc, sb, by->items[i]);
		if (trailing)
			sb_append(sb, ", ");
	}
}

/* ", alias.amount::numeric, alias.org::text" (or NULL::text when the org is not read) */
static void
append_amount_org(PgConn *pc, StrBuf *sb, const char *alias, const char *amount,
				  const ReportQuery *q)
{
	sb_appendf(sb, "%s.", alias);
	pgc_append_ident(pc, sb, amount);
	sb_append(sb, "::pg_catalog.numeric, ");
	if (q->with_org)
	{
		sb_appendf(sb, "%s.", alias);
		pgc_append_ident(pc, sb, q->org_column);
		sb_append(sb, "::text");
	}
	else
		sb_append(sb, "NULL::text");
}

/* " AND alias.org = $3" for a report on one org */
static void
append_one_org(PgConn *pc, StrBuf *sb, const char *alias, const ReportQuery *q)
{
	if (!q->one_org)
		return;
	sb_appendf(sb, " AND %s.", alias);
	pgc_append_ident(pc, sb, q->org_column);
	sb_append(sb, " = $3");
}

/* " AND s.col >= start(lo) AND s.col < start(hi)" for dates given as SQL */
static void
append_time_range(PgConn *pc, StrBuf *sb, const Rollup *shape, const char *lo, const char *hi)
{
	char *s0 = rollup_bucket_start_sql(pc, shape, lo);
	char *s1 = rollup_bucket_start_sql(pc, shape, hi);

	sb_append(sb, "s.");
	pgc_append_ident(pc, sb, shape->column);
	sb_appendf(sb, " >= %s AND s.", s0);
	pgc_append_ident(pc, sb, shape->column);
	sb_appendf(sb, " < %s", s1);
	free(s0);
	free(s1);
}

static void
add_once(NameList *l, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i], name) == 0)
			return;
	namelist_add(l, name);
}

/*
 * The FROM item of the detail rows: the source, or the source and its
 * companion as one UNION ALL (what the view TABLE_pgpart_all is, inlined so
 * that a dropped or stale view cannot hide rows), of only the columns the
 * report reads.  UNION ALL of simple SELECTs is flattened into one append,
 * so the time range still prunes the partitions of both.
 */
static char *
detail_source(PgConn *pc, const ReportQuery *q)
{
	NameList cols = {0};
	StrBuf sb, list;
	int i;

	if (q->rollup || q->detail_companion == NULL)
		return pgc_quote_qualified(pc, q->shape->source_schema, q->shape->source_name);
	add_once(&cols, q->shape->column);
	add_once(&cols, q->amount_column);
	if (q->with_org || q->count_orgs || q->one_org)
		add_once(&cols, q->org_column);
	for (i = 0; q->by && i < q->by->n; i++)
		add_once(&cols, q->by->items[i]);
	sb_init(&list);
	for (i = 0; i < cols.n; i++)
	{
		if (i)
			sb_append(&list, ", ");
		pgc_append_ident(pc, &list, cols.items[i]);
	}
	sb_init(&sb);
	sb_appendf(&sb, "(SELECT %s FROM ", list.data);
	pgc_append_qualified(pc, &sb, q->shape->source_schema, q->shape->source_name);
	sb_appendf(&sb, " UNION ALL SELECT %s FROM ", list.data);
	pgc_append_qualified(pc, &sb, q->detail_companion_schema, q->detail_companion);
	sb_append(&sb, ")");
	sb_free(&list);
	namelist_free(&cols);
	return sb_steal(&sb);
}

/* the detail rows' branch: every row of the range, or only those of the ranges in only */
static void
append_detail(PgConn *pc, StrBuf *sb, const ReportQuery *q, const DateRanges *only)
{
	Rollup day = *q->shape;
	char *source_q = detail_source(pc, q);
	int i;

	sb_append(sb, "SELECT ");
	if (q->period)
	{
		char *p;

		day.grain = (char *) q->period;
		p = rollup_bucket_sql(pc, &day, "s");
		sb_append(sb, p);
		free(p);
	}
	else
		sb_append(sb, "NULL::pg_catalog.date");
	append_cols(pc, sb, "s", q->by, false);
	if (q->org_bits)
	{
		/* a bitmap per chunk of orgs, as the summary's, so that the two merge */
		sb_append(sb, ", pg_catalog.count(*), pg_catalog.sum(s.");
		pgc_append_ident(pc, sb, q->amount_column);
		sb_append(sb, ")::pg_catalog.numeric");
		append_distinct_bitmap(pc, sb, q->org_column, "s");
	}
	else
	{
		sb_append(sb, ", 1::bigint, ");
		append_amount_org(pc, sb, "s", q->amount_column, q);
	}
	sb_appendf(sb, " FROM %s s WHERE ", source_q);
	append_time_range(pc, sb, q->shape, "$1::pg_catalog.date", "$2::pg_catalog.date");
	append_one_org(pc, sb, "s", q);
	if (only)
	{
		/* one time range each, so indexes on the time column serve it */
		sb_append(sb, " AND (false");
		for (i = 0; i < only->lo.n; i++)
		{
			StrBuf d0, d1;

			sb_init(&d0);
			sb_init(&d1);
			pgc_append_literal(pc, &d0, only->lo.items[i]);
			sb_append(&d0, "::pg_catalog.date");
			pgc_append_literal(pc, &d1, only->hi.items[i]);
			sb_append(&d1, "::pg_catalog.date");
			sb_append(sb, " OR (");
			append_time_range(pc, sb, q->shape, d0.data, d1.data);
			sb_append(sb, ")");
			sb_free(&d0);
			sb_free(&d1);
		}
		sb_append(sb, ")");
	}
	if (q->org_bits)
	{
		sb_append(sb, " GROUP BY 1");
		for (i = 0; i < q->by->n; i++)
			sb_appendf(sb, ", %d", i + 2);
		sb_appendf(sb, ", %d", q->by->n + 4);
	}
	free(source_q);
}

/* the summary's branch: its clean buckets of the range */
static void
append_rollup(PgConn *pc, StrBuf *sb, const ReportQuery *q)
{
	const Rollup *r = q->rollup;
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);

	sb_append(sb, "SELECT ");
	if (q->period && strcmp(q->period, "month") == 0)
		sb_append(sb, "pg_catalog.date_trunc('month', r.bucket)::pg_catalog.date");
	else if (q->period)
		sb_append(sb, "r.bucket");
	else
		sb_append(sb, "NULL::pg_catalog.date");
	append_cols(pc, sb, "r", q->by, false);
	sb_append(sb, ", r.");
	pgc_append_ident(pc, sb, report_measure(r, AGG_COUNT, NULL));
	sb_append(sb, "::bigint, ");
	if (q->org_bits)
	{
		sb_append(sb, "r.");
		pgc_append_ident(pc, sb, report_measure(r, AGG_SUM, q->amount_column));
		sb_append(sb, "::pg_catalog.numeric, r.distinct_chunk, r.distinct_bits");
	}
	else
		append_amount_org(pc, sb, "r", report_measure(r, AGG_SUM, q->amount_column), q);
	sb_appendf(sb,
			   " FROM %s r WHERE r.bucket >= $1::pg_catalog.date AND r.bucket < "
			   "$2::pg_catalog.date",
			   summary_q);
	append_one_org(pc, sb, "r", q);
	if (q->skip_marked)
		sb_appendf(sb, " AND r.bucket <> ALL($%d::pg_catalog.date[])", q->one_org ? 4 : 3);
	free(summary_q);
}

/* the branches of the report, as the FROM item x(period, by..., n, amount, org or chunk, bits) */
static void
append_branches(PgConn *pc, StrBuf *sql, const ReportQuery *q)
{
	sb_append(sql, "(");
	if (q->rollup)
	{
		append_rollup(pc, sql, q);
		if (q->detail && q->detail->lo.n > 0)
		{
			sb_append(sql, " UNION ALL ");
			append_detail(pc, sql, q, q->detail);
		}
	}
	else
		append_detail(pc, sql, q, NULL);
	sb_append(sql, ") x(period");
	append_cols(pc, sql, NULL, q->by, false);
	sb_append(sql, q->org_bits ? ", n, amount, chunk, bits)" : ", n, amount, org)");
}

/*
 * With bitmaps, the distinct orgs of a group are counted per chunk of orgs
 * (the union of its bitmaps over the buckets) and the counts added up: a
 * chunk holds different orgs than every other chunk
 */
static void
append_chunk_counts(PgConn *pc, StrBuf *sql, const ReportQuery *q)
{
	sb_append(sql, "(SELECT x.period");
	append_cols(pc, sql, "x", q->by, false);
	sb_append(sql, ", pg_catalog.sum(x.n), pg_catalog.sum(x.amount), "
				   "pg_catalog.bit_count(pg_catalog.bit_or(x.bits)) FROM ");
	append_branches(pc, sql, q);
	sb_append(sql, " GROUP BY x.period");
	append_cols(pc, sql, "x", q->by, false);
	sb_append(sql, ", x.chunk) y(period");
	append_cols(pc, sql, NULL, q->by, false);
	sb_append(sql, ", n, amount, orgs)");
}

char *
report_sql(PgConn *pc, const ReportQuery *q)
{
	StrBuf sql;
	int i, ncols = (q->period ? 1 : 0) + q->by->n;
	const char *a = q->org_bits ? "y" : "x";

	sb_init(&sql);
	sb_append(&sql, "SELECT ");
	if (q->period)
		sb_appendf(&sql, "%s.period AS %s, ", a, q->period);
	append_cols(pc, &sql, a, q->by, true);
	sb_appendf(&sql, "pg_catalog.sum(%s.n)::bigint AS rows, pg_catalog.sum(%s.amount) AS amount",
			   a, a);
	if (q->count_orgs && q->org_bits)
		sb_append(&sql, ", COALESCE(pg_catalog.sum(y.orgs), 0)::bigint AS orgs");
	else if (q->count_orgs)
		sb_append(&sql, ", pg_catalog.count(DISTINCT x.org) AS orgs");
	sb_append(&sql, " FROM ");
	if (q->org_bits)
		append_chunk_counts(pc, &sql, q);
	else
		append_branches(pc, &sql, q);
	sb_append(&sql, " GROUP BY ");
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
	return sb_steal(&sql);
}

bool
report_row_security(PgConn *pc, RelOid table, bool *yes, PgpError *err)
{
	return catalog_oid_bool(pc,
							"SELECT relrowsecurity FROM pg_catalog.pg_class "
							"WHERE oid = $1::pg_catalog.oid",
							table, yes, err);
}
