/*
 * rollup_sql.c - every statement of rollups: loading their records, the
 * summary table, the marking trigger functions and triggers, the --where
 * check and its function, summarising partitions and recomputing marked
 * buckets, and the facts "rollup status" shows.  Identifiers are quoted with
 * pgc_append_ident/pgc_quote_qualified, values are $n parameters; the
 * --where text only reaches the server inside the check of
 * rollup_filter_check (after the lexical screen), never a refresh.
 */
#include "commands/rollup/rollup_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "core/sqlscreen.h"
#include "pg/citus.h"
#include "pg/textarray.h"
#include "pg/privilege.h"
#include "pg/stmt.h"
#include "util/mem.h"
#include "util/strbuf.h"

void
rollup_free(Rollup *r)
{
	FREE_ALL(r->source_schema, r->source_name, r->summary_schema, r->summary_name, r->grain);
	namelist_free(&r->group_by);
	free(r->measures_text);
	measures_free(&r->measures);
	free(r->filter);
	namelist_free(&r->filter_args);
	FREE_ALL(r->refreshed_at, r->column, r->time_zone, r->dist_column, r->distinct_column);
	memset(r, 0, sizeof(*r));
}

void
rollup_list_free(Rollup *list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		rollup_free(&list[i]);
	free(list);
}

static char *
opt_value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_xstrdup(PQgetvalue(res, row, col));
}

bool
rollup_load(PgConn *pc, RelOid source, RelOid summary, Rollup **list, int *n, PgpError *err)
{
	char src[16], sum[16];
	const char *params[2] = {src, sum};
	PGresult *res;
	int i;

	*list = NULL;
	*n = 0;
	snprintf(src, sizeof(src), "%u", source);
	snprintf(sum, sizeof(sum), "%u", summary);
	res = pgc_query(
		pc,
		"SELECT r.id, r.source::pg_catalog.oid, sn.nspname, sc.relname, "
		"  r.summary::pg_catalog.oid, un.nspname, uc.relname, r.grain, r.group_by::text, "
		"  r.measures, r.filter, r.refreshed_at::text, pc.part_column, "
		"  pg_catalog.format_type(a.atttypid, NULL), pc.time_zone, f.args, "
		/* on Citus, the first column of the rollup's own marks table */
		"  (SELECT m.attname FROM pg_catalog.pg_attribute m WHERE m.attnum = 1 AND m.attrelid = "
		"   pg_catalog.to_regclass('pgpart.rollup_' || r.id || '_dirty')), "
		"  r.distinct_column "
		"FROM pgpart.rollup r "
		"JOIN pg_catalog.pg_class sc ON sc.oid = r.source "
		"JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace "
		"JOIN pg_catalog.pg_class uc ON uc.oid = r.summary "
		"JOIN pg_catalog.pg_namespace un ON un.oid = uc.relnamespace "
		"JOIN pgpart.part_config pc ON pc.parent_table = r.source "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = r.source AND a.attname = pc.part_column "
		/* the filter's function, by the name pgpart gives it (a function's OID is not kept by pg_upgrade) */
		"LEFT JOIN LATERAL (SELECT COALESCE(p.proargnames, '{}')::text AS args "
		"  FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pgpart'::pg_catalog.regnamespace "
		"  AND p.proname = 'rollup_' || r.id || '_filter' LIMIT 1) f ON true "
		"WHERE ($1::pg_catalog.oid = 0 OR r.source = $1::pg_catalog.oid) "
		"  AND ($2::pg_catalog.oid = 0 OR r.summary = $2::pg_catalog.oid) "
		"ORDER BY sn.nspname, sc.relname, r.id",
		2, params, err);
	if (res == NULL)
		return false;
	*n = PQntuples(res);
	*list = pg_xcalloc((size_t) (*n > 0 ? *n : 1), sizeof(Rollup));
	for (i = 0; i < *n; i++)
	{
		Rollup *r = &(*list)[i];
		const char *type = PQgetvalue(res, i, 13);
		char *why = NULL;

		r->id = atoi(PQgetvalue(res, i, 0));
		r->source = (RelOid) strtoul(PQgetvalue(res, i, 1), NULL, 10);
		r->source_schema = pg_xstrdup(PQgetvalue(res, i, 2));
		r->source_name = pg_xstrdup(PQgetvalue(res, i, 3));
		r->summary = (RelOid) strtoul(PQgetvalue(res, i, 4), NULL, 10);
		r->summary_schema = pg_xstrdup(PQgetvalue(res, i, 5));
		r->summary_name = pg_xstrdup(PQgetvalue(res, i, 6));
		r->grain = pg_xstrdup(PQgetvalue(res, i, 7));
		text_array_parse(PQgetvalue(res, i, 8), &r->group_by);
		r->measures_text = pg_xstrdup(PQgetvalue(res, i, 9));
		if (!measures_parse(r->measures_text, &r->measures, &why))
			free(why); /* stored only after it parsed */
		r->filter = opt_value(res, i, 10);
		r->refreshed_at = opt_value(res, i, 11);
		r->column = pg_xstrdup(PQgetvalue(res, i, 12));
		r->key_type = strcmp(type, "date") == 0 ? KEY_DATE
					  : strncmp(type, "timestamp with time zone", 24) == 0 ? KEY_TIMESTAMPTZ
																		  : KEY_TIMESTAMP;
		r->time_zone = pg_xstrdup(PQgetvalue(res, i, 14));
		r->filter_compiled = !PQgetisnull(res, i, 15) &&
							 text_array_parse(PQgetvalue(res, i, 15), &r->filter_args);
		r->dist_column = opt_value(res, i, 16);
		r->distinct_column = opt_value(res, i, 17);
	}
	PQclear(res);
	return true;
}

/* on Citus: the distributed table of one rollup's marks (an id, no quoting needed) */
static char *
citus_marks_table(const Rollup *r)
{
	return pg_xasprintf("pgpart.\"rollup_%d_dirty\"", r->id);
}

char *
rollup_marks_sql(const Rollup *r)
{
	char *citus, *sql;

	if (r->dist_column == NULL)
		return pg_xstrdup("pgpart.rollup_dirty");
	citus = citus_marks_table(r);
	sql = pg_xasprintf("(SELECT m.rollup_id, m.bucket, m.marked_at FROM pgpart.rollup_dirty m "
					   "UNION ALL SELECT m.rollup_id, m.bucket, m.marked_at FROM %s m)",
					   citus);
	free(citus);
	return sql;
}

/*
 * Sends "<head><marks table><tail>" for each table of the rollup's marks
 * (see rollup_marks_sql), with params; a DELETE cannot name a UNION.
 */
static bool
change_each_marks_table(PgConn *pc, const Rollup *r, const char *head, const char *tail,
						int nparams, const char *const *params, PgpError *err)
{
	char *citus = r->dist_column ? citus_marks_table(r) : NULL;
	char *sql = pg_xasprintf("%spgpart.rollup_dirty%s", head, tail);
	bool ok = pgc_change(pc, sql, nparams, params, err);

	free(sql);
	if (ok && citus)
	{
		sql = pg_xasprintf("%s%s%s", head, citus, tail);
		ok = pgc_change(pc, sql, nparams, params, err);
		free(sql);
	}
	free(citus);
	return ok;
}

char *
rollup_bucket_sql(PgConn *pc, const Rollup *r, const char *alias)
{
	StrBuf sb;
	StrBuf col;

	sb_init(&sb);
	sb_init(&col);
	sb_appendf(&col, "%s.", alias);
	pgc_append_ident(pc, &col, r->column);
	if (strcmp(r->grain, "month") == 0)
		sb_append(&sb, "pg_catalog.date_trunc('month', ");
	sb_append(&sb, "(");
	if (r->key_type == KEY_TIMESTAMPTZ)
	{
		/* the bucket is the civil date in the table's time zone, as its partitions are */
		sb_append(&sb, "pg_catalog.timezone(");
		pgc_append_literal(pc, &sb, r->time_zone);
		sb_appendf(&sb, ", %s)", col.data);
	}
	else
		sb_appendf(&sb, "%s::pg_catalog.timestamp", col.data);
	sb_append(&sb, ")");
	if (strcmp(r->grain, "month") == 0)
		sb_append(&sb, ")");
	sb_append(&sb, "::pg_catalog.date");
	sb_free(&col);
	return sb_steal(&sb);
}

char *
rollup_bucket_start_sql(PgConn *pc, const Rollup *r, const char *date_sql)
{
	StrBuf sb;

	sb_init(&sb);
	if (r->key_type == KEY_TIMESTAMPTZ)
	{
		sb_append(&sb, "pg_catalog.timezone(");
		pgc_append_literal(pc, &sb, r->time_zone);
		sb_appendf(&sb, ", (%s)::pg_catalog.timestamp)", date_sql);
	}
	else if (r->key_type == KEY_TIMESTAMP)
		sb_appendf(&sb, "(%s)::pg_catalog.timestamp", date_sql);
	else
		sb_appendf(&sb, "(%s)::pg_catalog.date", date_sql);
	return sb_steal(&sb);
}

static char *
filter_function_name(PgConn *pc, const Rollup *r)
{
	StrBuf sb;
	char *name = pg_xasprintf("rollup_%d_filter", r->id);

	sb_init(&sb);
	sb_append(&sb, "pgpart.");
	pgc_append_ident(pc, &sb, name);
	free(name);
	return sb_steal(&sb);
}

static void
append_filter_call(PgConn *pc, StrBuf *sb, const Rollup *r, const char *alias)
{
	char *func = filter_function_name(pc, r);
	int i;

	sb_appendf(sb, "%s(", func);
	for (i = 0; i < r->filter_args.n; i++)
	{
		sb_appendf(sb, "%s%s.", i ? ", " : "", alias);
		pgc_append_ident(pc, sb, r->filter_args.items[i]);
	}
	sb_append(sb, ")");
	free(func);
}

void
append_distinct_bitmap(PgConn *pc, StrBuf *sb, const char *column, const char *alias)
{
	StrBuf col;

	sb_init(&col);
	sb_appendf(&col, "%s.", alias);
	pgc_append_ident(pc, &col, column);
	/*
	 * >> on an integer is arithmetic and & keeps the low bits of its two's
	 * complement, so negative values get chunks and bits of their own too;
	 * a NULL gets a NULL chunk and no bit, as count(DISTINCT) ignores it
	 */
	sb_appendf(sb,
			   ", (%s >> %d) AS distinct_chunk, pg_catalog.bit_or(pg_catalog.set_bit("
			   "B'0'::pg_catalog.bit(%d), (%s & %d)::integer, 1)) AS distinct_bits",
			   col.data, ROLLUP_CHUNK_BITS, 1 << ROLLUP_CHUNK_BITS, col.data,
			   (1 << ROLLUP_CHUNK_BITS) - 1);
	sb_free(&col);
}

char *
rollup_aggregate_sql(PgConn *pc, const Rollup *r, const char *relation, const char *extra)
{
	StrBuf sb;
	char *bucket = rollup_bucket_sql(pc, r, "s");
	int i;

	sb_init(&sb);
	sb_appendf(&sb, "SELECT %s AS bucket", bucket);
	for (i = 0; i < r->group_by.n; i++)
	{
		sb_append(&sb, ", s.");
		pgc_append_ident(pc, &sb, r->group_by.items[i]);
	}
	for (i = 0; i < r->measures.n; i++)
	{
		const Measure *m = &r->measures.items[i];

		sb_appendf(&sb, ", pg_catalog.%s(", agg_name(m->kind));
		if (m->column)
		{
			sb_append(&sb, "s.");
			pgc_append_ident(pc, &sb, m->column);
		}
		else
			sb_append(&sb, "*");
		sb_append(&sb, ") AS ");
		pgc_append_ident(pc, &sb, m->name);
	}
	if (r->distinct_column)
		append_distinct_bitmap(pc, &sb, r->distinct_column, "s");
	sb_appendf(&sb, " FROM %s s WHERE ", relation);
	/* rows without a date have no bucket: they are never summarised */
	sb_append(&sb, "s.");
	pgc_append_ident(pc, &sb, r->column);
	sb_append(&sb, " IS NOT NULL");
	if (r->filter)
	{
		/* the function only, never the text: see rollup_filter_check */
		sb_append(&sb, " AND ");
		if (r->filter_compiled)
			append_filter_call(pc, &sb, r, "s");
		else
			sb_append(&sb, "false");
	}
	if (extra)
		sb_appendf(&sb, " AND (%s)", extra);
	sb_append(&sb, " GROUP BY 1");
	for (i = 0; i < r->group_by.n; i++)
		sb_appendf(&sb, ", %d", i + 2);
	if (r->distinct_column)
		sb_appendf(&sb, ", %d", r->group_by.n + r->measures.n + 2);
	free(bucket);
	return sb_steal(&sb);
}

bool
rollup_create_summary(PgConn *pc, const Rollup *r, PgpError *err)
{
	char *source_q = pgc_quote_qualified(pc, r->source_schema, r->source_name);
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	Rollup unfiltered = *r;
	char *shape;
	char *def = naming_derive(r->summary_name, "default");
	char *idx = naming_derive(r->summary_name, "key");
	StrBuf sql;
	bool ok;
	int i;

	/* the aggregate's own result types: sum(int) is bigint, sum(numeric) numeric... */
	unfiltered.filter = NULL; /* its function is made later, and a WHERE does not change them */
	shape = rollup_aggregate_sql(pc, &unfiltered, source_q, "false");
	sb_init(&sql);
	sb_appendf(&sql, "CREATE TEMP TABLE pgpart_rollup_shape ON COMMIT DROP AS %s", shape);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_reset(&sql);
	sb_appendf(&sql,
			   "CREATE TABLE %s (LIKE pg_temp.pgpart_rollup_shape) PARTITION BY RANGE (bucket)",
			   summary_q);
	ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
	sb_reset(&sql);
	sb_appendf(&sql, "ALTER TABLE %s ALTER COLUMN bucket SET NOT NULL", summary_q);
	ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
	if (r->distinct_column)
	{
		sb_reset(&sql);
		sb_appendf(&sql, "ALTER TABLE %s ALTER COLUMN distinct_bits SET STORAGE PLAIN", summary_q);
		ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
	}
	sb_reset(&sql);
	sb_append(&sql, "CREATE TABLE ");
	pgc_append_qualified(pc, &sql, r->summary_schema, def);
	sb_appendf(&sql, " PARTITION OF %s DEFAULT", summary_q);
	ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
	/* one row per bucket and group: reports look up by the first group column */
	sb_reset(&sql);
	sb_append(&sql, "CREATE UNIQUE INDEX ");
	pgc_append_ident(pc, &sql, idx);
	sb_appendf(&sql, " ON %s (", summary_q);
	for (i = 0; i < r->group_by.n; i++)
	{
		pgc_append_ident(pc, &sql, r->group_by.items[i]);
		sb_append(&sql, ", ");
	}
	sb_append(&sql, r->distinct_column ? "bucket, distinct_chunk) NULLS NOT DISTINCT"
										: "bucket) NULLS NOT DISTINCT");
	ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
	sb_reset(&sql);
	sb_appendf(&sql, "COMMENT ON TABLE %s IS ", summary_q);
	{
		char *c = pg_xasprintf("pgpart rollup of %s.%s by %s: %s", r->source_schema, r->source_name,
							   r->grain, r->measures_text);

		pgc_append_literal(pc, &sql, c);
		free(c);
	}
	ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	free(source_q);
	free(summary_q);
	free(shape);
	free(def);
	free(idx);
	return ok;
}

bool
rollup_ensure_summary_partition(PgConn *pc, const Rollup *r, const char *lo, const char *hi,
								PgpError *err)
{
	char *exists = NULL;
	char *suffix, *name;
	StrBuf sql;
	bool ok;

	/* a partition whose range starts at lo, found by its bound rather than its name */
	if (!catalog_oid_value_args(pc,
								"SELECT c.relname FROM pg_catalog.pg_inherits i "
								"JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
								"WHERE i.inhparent = $1::pg_catalog.oid "
								"  AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) LIKE "
								"      'FOR VALUES FROM (''' || $2 || ''')%'",
								r->summary, 1, &lo, &exists, err))
		return false;
	if (exists)
	{
		free(exists);
		return true;
	}
	suffix = pg_xasprintf("p%.4s%.2s%.2s", lo, lo + 5, lo + 8);
	name = naming_derive(r->summary_name, suffix);
	sb_init(&sql);
	sb_append(&sql, "CREATE TABLE ");
	pgc_append_qualified(pc, &sql, r->summary_schema, name);
	sb_append(&sql, " PARTITION OF ");
	pgc_append_qualified(pc, &sql, r->summary_schema, r->summary_name);
	sb_append(&sql, " FOR VALUES FROM (");
	pgc_append_literal(pc, &sql, lo);
	sb_append(&sql, ") TO (");
	pgc_append_literal(pc, &sql, hi);
	sb_append(&sql, ")");
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	free(suffix);
	free(name);
	return ok;
}

bool
rollup_place_on_citus(PgConn *pc, const Rollup *r, PgpError *err)
{
	char *source_q = pgc_quote_qualified(pc, r->source_schema, r->source_name);
	char *marks = citus_marks_table(r);
	char *type = NULL;
	StrBuf sql;
	const char *params[2] = {source_q, r->dist_column};
	bool ok;
	int i;

	/* the distribution column's type as the catalog writes it, typmod included */
	ok = pgc_query_value(pc,
						 "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM "
						 "pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.regclass "
						 "AND a.attname = $2",
						 2, params, &type, err);
	sb_init(&sql);
	if (ok)
	{
		sb_appendf(&sql, "CREATE TABLE %s (", marks);
		pgc_append_ident(pc, &sql, r->dist_column);
		sb_appendf(&sql, " %s NOT NULL, rollup_id integer NOT NULL, bucket date, "
						 "marked_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
				   type ? type : "bigint");
		ok = pgc_change(pc, sql.data, 0, NULL, err) &&
			 citus_distribute_colocated(pc, marks, r->dist_column, source_q, err);
	}
	for (i = 0; ok && i < r->group_by.n; i++)
		if (strcmp(r->group_by.items[i], r->dist_column) == 0)
		{
			char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);

			ok = citus_distribute_colocated(pc, summary_q, r->dist_column, source_q, err);
			free(summary_q);
			break;
		}
	sb_free(&sql);
	free(type);
	free(marks);
	free(source_q);
	return ok;
}

static char *
function_name(const Rollup *r, const char *what)
{
	return pg_xasprintf("pgpart.\"rollup_%d_%s\"", r->id, what);
}

/*
 * The first lines of every trigger function's body: see
 * priv_append_trigger_guard.  on_shards: the function fires on the shards on
 * the workers (Citus), where neither the source's OID nor pgpart.rollup
 * exist, so the relation must be a shard of the source by Citus's metadata.
 */
static void
append_guard(PgConn *pc, StrBuf *body, const Rollup *r, bool on_shards)
{
	char *check;

	if (on_shards)
	{
		char *source_q = pgc_quote_qualified(pc, r->source_schema, r->source_name);

		check = citus_shard_check_sql(pc, source_q, "pgpart_root");
		free(source_q);
		sb_append(body, "DECLARE\n  pgpart_mark record;\n");
	}
	else
		check = pg_xasprintf("EXISTS (SELECT FROM pgpart.rollup r WHERE r.id = %d "
							 "AND r.source::pg_catalog.oid = pgpart_root)",
							 r->id);
	sb_append(body, "BEGIN\n");
	priv_append_trigger_guard(body, r->source, check);
	free(check);
}

/*
 * SECURITY DEFINER: writers need no rights on pgpart's tables; every name is
 * qualified.  Created, revoked from PUBLIC and given to the table's owner in
 * the caller's transaction.
 */
static bool
create_trigger_function(PgConn *pc, const Rollup *r, const char *func, const char *body,
						PgpError *err)
{
	StrBuf sql;
	char *sig = pg_xasprintf("%s()", func);
	char *marks = r->dist_column ? citus_marks_table(r) : NULL;
	PrivNeed needs[8];
	int nneeds = priv_rollup_nneeds;
	bool ok;

	memcpy(needs, priv_rollup_needs, sizeof(PrivNeed) * (size_t) priv_rollup_nneeds);
	if (marks)
		needs[nneeds++] = (PrivNeed){"table", marks, "INSERT"};
	sb_init(&sql);
	/*
	 * SECURITY DEFINER (writers need no rights on pgpart's tables): EXECUTE is
	 * revoked from PUBLIC below, in this transaction (REVOKE ALL ... FROM
	 * PUBLIC, priv_secure_function), so nobody else can attach it.
	 */
	sb_appendf(&sql,
			   "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql "
			   "SECURITY DEFINER SET search_path = '' AS ",
			   func);
	pgc_append_literal(pc, &sql, body);
	ok = pgc_change(pc, sql.data, 0, NULL, err) &&
		 priv_secure_function(pc, sig, r->source, needs, nneeds, err);
	sb_free(&sql);
	free(marks);
	free(sig);
	return ok;
}

/* "(SELECT columns FROM t1 UNION ALL ...) t": the rows of the named transition tables */
static void
append_marked_rows(StrBuf *body, const char *columns, const char *tables)
{
	char *t, *list, *save = NULL;
	bool first = true;

	sb_append(body, "(");
	list = pg_xstrdup(tables);
	for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
	{
		sb_appendf(body, "%sSELECT %s FROM %s", first ? "" : " UNION ALL ", columns, t);
		first = false;
	}
	free(list);
	sb_append(body, ") t");
}

/*
 * On Citus the body runs on a shard; its marks go to the colocated shard of
 * the rollup's marks table, on the same worker (the distribution column
 * keeps them there), in the writer's own transaction.  One INSERT per
 * distinct mark: Citus cannot plan an INSERT ... SELECT from a transition
 * table into a distributed table, and runs a one-row INSERT on the shard
 * beside the trigger's (local execution, which Citus allows in triggers; a
 * remote one it refuses).
 */
static void
append_citus_marks(PgConn *pc, StrBuf *body, const Rollup *r, const char *tables,
				   const char *bucket, const char *time_col)
{
	StrBuf cols, dist;
	char *marks = citus_marks_table(r);

	sb_init(&dist);
	pgc_append_ident(pc, &dist, r->dist_column);
	sb_init(&cols);
	sb_appendf(&cols, "%s, %s", dist.data, time_col);
	sb_appendf(body, "  FOR pgpart_mark IN SELECT DISTINCT t.%s AS k, %s AS b FROM ", dist.data,
			   bucket);
	append_marked_rows(body, cols.data, tables);
	sb_appendf(body,
			   " WHERE t.%s IS NOT NULL LOOP\n"
			   "    INSERT INTO %s (%s, rollup_id, bucket) VALUES (pgpart_mark.k, %d, pgpart_mark.b);\n"
			   "  END LOOP;\n",
			   time_col, marks, dist.data, r->id);
	sb_free(&cols);
	sb_free(&dist);
	free(marks);
}

/* a function with a body that inserts the marks of the rows in the named transition tables */
static bool
create_mark_function(PgConn *pc, const Rollup *r, const char *what, const char *tables,
					 PgpError *err)
{
	char *func = function_name(r, what);
	char *bucket = rollup_bucket_sql(pc, r, "t");
	StrBuf body, col;
	bool ok;

	sb_init(&col);
	pgc_append_ident(pc, &col, r->column);
	sb_init(&body);
	append_guard(pc, &body, r, r->dist_column != NULL);
	if (r->dist_column)
		append_citus_marks(pc, &body, r, tables, bucket, col.data);
	else
	{
		sb_appendf(&body,
				   "  INSERT INTO pgpart.rollup_dirty (rollup_id, bucket)\n  SELECT DISTINCT %d, "
				   "%s FROM ",
				   r->id, bucket);
		append_marked_rows(&body, col.data, tables);
		sb_appendf(&body, " WHERE t.%s IS NOT NULL;\n", col.data);
	}
	sb_append(&body, "  RETURN NULL;\nEND");
	ok = create_trigger_function(pc, r, func, body.data, err);
	sb_free(&body);
	sb_free(&col);
	free(bucket);
	free(func);
	return ok;
}

bool
rollup_create_functions(PgConn *pc, const Rollup *r, PgpError *err)
{
	char *func = function_name(r, "truncate");
	StrBuf body;
	bool ok;

	/* one function per event: a trigger with transition tables may have only one event */
	ok = create_mark_function(pc, r, "insert", "new_rows", err) &&
		 create_mark_function(pc, r, "update", "old_rows,new_rows", err) &&
		 create_mark_function(pc, r, "delete", "old_rows", err);
	sb_init(&body);
	/* on Citus too: TRUNCATE triggers fire on the coordinator only */
	append_guard(pc, &body, r, false);
	sb_appendf(&body,
			   "  INSERT INTO pgpart.rollup_dirty (rollup_id, bucket) VALUES (%d, NULL);\n"
			   "  RETURN NULL;\nEND",
			   r->id);
	ok = ok && create_trigger_function(pc, r, func, body.data, err);
	sb_free(&body);
	free(func);
	return ok;
}

/* ---- --where ---- */

void
rollupfilter_free(RollupFilter *f)
{
	free(f->canonical);
	NAMELIST_FREE_ALL(&f->columns, &f->types);
	memset(f, 0, sizeof(*f));
}

#define CHECK_TABLE "pg_temp.pgpart_where_check"
#define CHECK_COLUMN "pgpart_where_check"

/* what PostgreSQL made of the expression; under the check's savepoint */
static bool
read_checked(PgConn *pc, const char *expr, RollupFilter *f, PgpError *err)
{
	PGresult *res;
	char *others = NULL;
	char *why = NULL;
	int i;
	bool ok;

	res = pgc_query(pc,
					"SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid), d.oid::text, a.attnum::text "
					"FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a "
					"  ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
					"WHERE d.adrelid = '" CHECK_TABLE "'::pg_catalog.regclass "
					"  AND a.attname = '" CHECK_COLUMN "'",
					0, NULL, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) != 1)
	{
		PQclear(res);
		err_set(err, EXIT_RUNTIME, "could not read back the checked --where expression");
		return false;
	}
	f->canonical = pg_xstrdup(PQgetvalue(res, 0, 0));
	{
		/* the generation expression's dependencies: on the default (CREATE) or the column */
		char *deps = pg_xasprintf(
			"FROM pg_catalog.pg_depend dep WHERE ((dep.classid = "
			"'pg_catalog.pg_attrdef'::pg_catalog.regclass AND dep.objid = %s) OR (dep.classid = "
			"'pg_catalog.pg_class'::pg_catalog.regclass AND dep.objid = '" CHECK_TABLE
			"'::pg_catalog.regclass AND dep.objsubid = %s))",
			PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		char *sql;

		PQclear(res);
		/* built-in objects are pinned: pg_depend lists only the others */
		sql = pg_xasprintf("SELECT pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object("
						   "dep.refclassid, dep.refobjid, 0), ', ') %s AND dep.refclassid IN "
						   "('pg_catalog.pg_proc'::pg_catalog.regclass, "
						   "'pg_catalog.pg_operator'::pg_catalog.regclass)",
						   deps);
		ok = pgc_query_value(pc, sql, 0, NULL, &others, err);
		free(sql);
		sql = pg_xasprintf("SELECT a.attname, pg_catalog.format_type(a.atttypid, NULL) "
						   "FROM pg_catalog.pg_attribute a WHERE a.attrelid = '" CHECK_TABLE
						   "'::pg_catalog.regclass AND a.attnum > 0 AND a.attname <> '" CHECK_COLUMN
						   "' AND a.attnum IN (SELECT dep.refobjsubid %s AND dep.refclassid = "
						   "'pg_catalog.pg_class'::pg_catalog.regclass AND dep.refobjid = '" CHECK_TABLE
						   "'::pg_catalog.regclass) ORDER BY a.attnum",
						   deps);
		res = ok ? pgc_query(pc, sql, 0, NULL, err) : NULL;
		free(sql);
		free(deps);
		if (res == NULL)
		{
			free(others);
			return false;
		}
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		namelist_add(&f->columns, PQgetvalue(res, i, 0));
		namelist_add(&f->types, PQgetvalue(res, i, 1));
	}
	PQclear(res);
	if (others)
	{
		err_set(err, EXIT_USAGE, "invalid --where \"%s\": it uses %s", expr, others);
		err_detail(err, "Only PostgreSQL's built-in functions and operators are allowed: the "
						"expression runs with the rights of whoever refreshes the rollup.");
		free(others);
		return false;
	}
	/* what is kept must pass the same screen (it always should: PostgreSQL wrote it) */
	if (!sqlscreen_expression(f->canonical, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --where \"%s\": PostgreSQL's text of it is refused (%s)",
				expr, why);
		free(why);
		return false;
	}
	return true;
}

bool
rollup_filter_check(PgConn *pc, RelOid source, const char *expr, RollupFilter *f, PgpError *err)
{
	bool own_txn = PQtransactionStatus(pc->conn) == PQTRANS_IDLE;
	char *why = NULL;
	char *source_q = NULL;
	char *sql;
	bool ok;
	PgpError ignored;

	memset(f, 0, sizeof(*f));
	if (!sqlscreen_expression(expr, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --where \"%s\": %s", expr, why);
		err_hint(err, "Give one true/false condition on the table's columns, e.g. --where "
					  "\"status = 'paid'\".");
		free(why);
		return false;
	}
	if (!catalog_regclass_text(pc, source, &source_q, err))
		return false;
	if (!pgc_exec(pc, own_txn ? "BEGIN" : "SAVEPOINT pgpart_where_check", 0, NULL, err))
	{
		free(source_q);
		return false;
	}
	/* the screen keeps expr between these parentheses */
	sql = pg_xasprintf("CREATE TEMP TABLE pgpart_where_check (LIKE %s, " CHECK_COLUMN
					   " boolean GENERATED ALWAYS AS (%s) STORED) ON COMMIT DROP",
					   source_q, expr);
	ok = pgc_exec(pc, sql, 0, NULL, err);
	free(sql);
	if (!ok)
	{
		char *server = pg_xstrdup(err->message ? err->message : "refused");

		err_set(err, EXIT_USAGE, "invalid --where \"%s\": %s", expr, server);
		err_detail(err, "PostgreSQL checked it as a generated column of a copy of %s.", source_q);
		err_hint(err, "Give one true/false condition on the columns of %s, with built-in immutable "
					  "functions and operators only: no subqueries, aggregates or other tables, "
					  "nothing that depends on the time or the session.",
				 source_q);
		free(server);
	}
	ok = ok && read_checked(pc, expr, f, err);
	err_init(&ignored);
	if (own_txn)
		pgc_exec(pc, "ROLLBACK", 0, NULL, &ignored);
	else if (pgc_exec(pc, "ROLLBACK TO SAVEPOINT pgpart_where_check", 0, NULL, &ignored))
		pgc_exec(pc, "RELEASE SAVEPOINT pgpart_where_check", 0, NULL, &ignored);
	err_clear(&ignored);
	free(source_q);
	if (!ok)
		rollupfilter_free(f);
	return ok;
}

bool
rollup_create_filter_function(PgConn *pc, const Rollup *r, const RollupFilter *f, PgpError *err)
{
	char *func = filter_function_name(pc, r);
	StrBuf sql, sig;
	char *others = NULL;
	int i;
	bool ok;

	sb_init(&sql);
	sb_init(&sig);
	sb_appendf(&sql, "CREATE OR REPLACE FUNCTION %s(", func);
	sb_appendf(&sig, "%s(", func);
	for (i = 0; i < f->columns.n; i++)
	{
		/* the types are the catalog's own names of the columns' types */
		sb_append(&sql, i ? ", " : "");
		pgc_append_ident(pc, &sql, f->columns.items[i]);
		sb_appendf(&sql, " %s", f->types.items[i]);
		sb_appendf(&sig, "%s%s", i ? ", " : "", f->types.items[i]);
	}
	sb_append(&sig, ")");
	/* parameters named after the columns: the expression's names mean them */
	sb_appendf(&sql, ") RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN (%s)",
			   f->canonical);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	if (ok && !pc->dry_run)
	{
		const char *params[1] = {sig.data};

		/* parsed again with parameters for columns: still nothing but built-in objects */
		ok = pgc_query_value(pc,
							 "SELECT pg_catalog.string_agg(pg_catalog.pg_describe_object("
							 "d.refclassid, d.refobjid, 0), ', ') FROM pg_catalog.pg_depend d "
							 "WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
							 "AND d.objid = pg_catalog.to_regprocedure($1) AND d.refclassid IN "
							 "('pg_catalog.pg_proc'::pg_catalog.regclass, "
							 "'pg_catalog.pg_operator'::pg_catalog.regclass)",
							 1, params, &others, err);
		if (ok && others)
		{
			err_set(err, EXIT_USAGE, "invalid --where: as a function it uses %s", others);
			ok = false;
		}
		free(others);
	}
	ok = ok && priv_secure_function(pc, sig.data, r->source, NULL, 0, err);
	sb_free(&sql);
	sb_free(&sig);
	free(func);
	return ok;
}

bool
rollup_ensure_triggers(PgConn *pc, const Rollup *r, const char *schema, const char *table,
					   PgpError *err)
{
	static const char *const events[][3] = {
		{"insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"},
		{"update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"},
		{"delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"},
		{"truncate", "TRUNCATE", ""},
	};
	char *table_q = pgc_quote_qualified(pc, schema, table);
	const char *rel[1] = {table_q};
	size_t i;
	bool ok, foreign = false;

	/*
	 * A foreign partition (a remote tier's, updatable 'false', or an archive's
	 * file_fdw) takes no writes, and PostgreSQL refuses it statement triggers
	 * with transition tables: nothing to mark there.
	 */
	ok = stmt_query_bool(pc,
						 "SELECT relkind = 'f' FROM pg_catalog.pg_class "
						 "WHERE oid = $1::pg_catalog.regclass",
						 1, rel, &foreign, err);
	if (!ok || foreign)
	{
		free(table_q);
		return ok;
	}
	/*
	 * Statement triggers of a partitioned table do not fire for statements
	 * that name a partition directly, so every partition gets them too: each
	 * statement is marked exactly once, by the table it names.
	 */
	for (i = 0; ok && i < sizeof(events) / sizeof(events[0]); i++)
	{
		char *tg = pg_xasprintf("pgpart_rollup_%d_%s", r->id, events[i][0]);
		char *func = function_name(r, events[i][0]);
		char *exists = NULL;
		const char *params[2] = {table_q, tg};

		ok = pgc_query_value(pc,
							 "SELECT t.tgname FROM pg_catalog.pg_trigger t "
							 "WHERE t.tgrelid = $1::pg_catalog.regclass AND t.tgname = $2",
							 2, params, &exists, err);
		if (ok && exists == NULL)
			ok = priv_create_trigger(pc, tg, events[i][1], table_q, events[i][2], "STATEMENT",
									 func, err);
		free(exists);
		free(func);
		free(tg);
	}
	free(table_q);
	return ok;
}

bool
rollup_drop(PgConn *pc, const Rollup *r, PgpError *err)
{
	static const char *const what[] = {"insert", "update", "delete", "truncate"};
	char id[16];
	PGresult *res;
	size_t i;
	int t;
	bool ok = true;
	char *summary_q, *prefix;

	snprintf(id, sizeof(id), "%d", r->id);
	/* the parent and every partition that carries one of this rollup's triggers */
	res = pgc_query(pc,
					"SELECT DISTINCT t.tgrelid::pg_catalog.regclass::text FROM pg_catalog.pg_trigger t "
					"WHERE t.tgname LIKE 'pgpart\\_rollup\\_' || $1 || '\\_%'",
					1, (const char *[]){id}, err);
	if (res == NULL)
		return false;
	for (t = 0; ok && t < PQntuples(res); t++)
		for (i = 0; ok && i < sizeof(what) / sizeof(what[0]); i++)
		{
			char *sql = pg_xasprintf("DROP TRIGGER IF EXISTS \"pgpart_rollup_%d_%s\" ON %s", r->id,
									 what[i], PQgetvalue(res, t, 0));

			ok = pgc_change(pc, sql, 0, NULL, err);
			free(sql);
		}
	PQclear(res);
	prefix = pg_xasprintf("rollup_%d_", r->id);
	ok = ok && priv_drop_functions(pc, prefix, what, (int) (sizeof(what) / sizeof(what[0])), err);
	free(prefix);
	if (ok)
	{
		/* the filter's function, whatever its arguments */
		char *sig = NULL;
		char *name = pg_xasprintf("rollup_%d_filter", r->id);

		ok = pgc_query_value(pc,
							 "SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p "
							 "WHERE p.pronamespace = 'pgpart'::pg_catalog.regnamespace AND p.proname = $1",
							 1, (const char *[]){name}, &sig, err);
		if (ok && sig)
		{
			char *sql = pg_xasprintf("DROP FUNCTION %s", sig);

			ok = pgc_change(pc, sql, 0, NULL, err);
			free(sql);
		}
		free(sig);
		free(name);
	}
	summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	{
		char *sql = pg_xasprintf("DROP TABLE %s", summary_q);

		ok = ok && pgc_change(pc, sql, 0, NULL, err);
		free(sql);
	}
	free(summary_q);
	if (ok && r->dist_column)
	{
		char *marks = citus_marks_table(r);
		char *sql = pg_xasprintf("DROP TABLE %s", marks);

		ok = pgc_change(pc, sql, 0, NULL, err);
		free(sql);
		free(marks);
	}
	ok = ok &&
		 pgc_change(pc, "DELETE FROM pgpart.rollup_dirty WHERE rollup_id = $1::integer", 1,
					(const char *[]){id}, err) &&
		 pgc_change(pc, "DELETE FROM pgpart.rollup WHERE id = $1::integer", 1,
					(const char *[]){id}, err);
	return ok;
}

/* ---- records ---- */

bool
rollup_insert(PgConn *pc, Rollup *r, PgpError *err)
{
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *source_q = pgc_quote_qualified(pc, r->source_schema, r->source_name);
	char *groups = text_array_literal(&r->group_by);
	const char *params[7] = {source_q,			 summary_q, r->grain,			 groups,
							 r->measures_text, r->filter, r->distinct_column};
	char *id = NULL;
	bool ok;

	ok = pgc_query_value(pc,
						 "INSERT INTO pgpart.rollup (source, summary, grain, group_by, measures, "
						 "filter, distinct_column) VALUES ($1::pg_catalog.regclass, "
						 "$2::pg_catalog.regclass, $3, $4::name[], $5, $6, $7) RETURNING id::text",
						 7, params, &id, err);
	if (ok)
	{
		r->id = atoi(id);
		free(id);
		id = NULL;
		ok = pgc_query_value(pc, "SELECT $1::pg_catalog.regclass::pg_catalog.oid::text", 1,
							 params + 1, &id, err);
		if (ok && id)
			r->summary = (RelOid) strtoul(id, NULL, 10);
	}
	free(id);
	free(groups);
	free(source_q);
	free(summary_q);
	return ok;
}

bool
rollup_store_filter(PgConn *pc, const Rollup *r, const char *canonical, PgpError *err)
{
	char id[16];
	const char *params[2] = {canonical, id};

	snprintf(id, sizeof(id), "%d", r->id);
	return pgc_change(pc, "UPDATE pgpart.rollup SET filter = $1 WHERE id = $2::integer", 2, params,
					  err);
}


/* ---- summarising ---- */

void
rollup_pieces_free(RollupPiece *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		FREE_ALL(p[i].qualified, p[i].name, p[i].lo, p[i].hi);
	free(p);
}

bool
rollup_load_pieces(PgConn *pc, const Rollup *r, RollupPiece **out, int *nout, PgpError *err)
{
	PartitionList parts;
	RollupPiece *p;
	int i, n = 0;
	bool tz = r->key_type == KEY_TIMESTAMPTZ;
	const char *lo_sql = tz ? "pg_catalog.timezone($3, $1::pg_catalog.timestamptz)"
							: "$1::pg_catalog.timestamp";
	const char *hi_sql = tz ? "pg_catalog.timezone($3, $2::pg_catalog.timestamptz)"
							: "$2::pg_catalog.timestamp";
	char *sql;
	char id[16];
	bool ok = true;

	*out = NULL;
	*nout = 0;
	if (!catalog_partitions(pc, r->source, &parts, err))
		return false;
	sql = pg_xasprintf(
		/* the zone is typed even when the key has none (a date or timestamp key) */
		"WITH b AS (SELECT %s AS lo, %s AS hi, $3::text AS zone) "
		"SELECT b.lo::pg_catalog.date::text, b.hi::pg_catalog.date::text, "
		"  b.lo = pg_catalog.date_trunc($4, b.lo) AND b.hi = pg_catalog.date_trunc($4, b.hi), "
		"  EXISTS (SELECT FROM pgpart.rollup_coverage c WHERE c.rollup_id = $5::integer "
		"    AND c.lo = b.lo::pg_catalog.date AND c.hi = b.hi::pg_catalog.date) "
		"FROM b",
		lo_sql, hi_sql);
	snprintf(id, sizeof(id), "%d", r->id);
	p = pg_xcalloc((size_t) (parts.n > 0 ? parts.n : 1), sizeof(RollupPiece));
	for (i = 0; ok && i < parts.n; i++)
	{
		const PartitionInfo *pi = &parts.items[i];
		const char *params[5] = {pi->lo_text, pi->hi_text, r->time_zone, r->grain, id};
		PGresult *res;

		if (pi->is_default || !pi->bounds_known || pi->lo_unbounded || pi->hi_unbounded)
			continue;
		res = pgc_query(pc, sql, 5, params, err);
		if (res == NULL)
		{
			ok = false;
			break;
		}
		p[n].qualified = pgc_quote_qualified(pc, pi->schema, pi->name);
		p[n].name = pg_xstrdup(pi->name);
		p[n].lo = pg_xstrdup(PQgetvalue(res, 0, 0));
		p[n].hi = pg_xstrdup(PQgetvalue(res, 0, 1));
		p[n].aligned = PQgetvalue(res, 0, 2)[0] == 't';
		p[n].covered = PQgetvalue(res, 0, 3)[0] == 't';
		n++;
		PQclear(res);
	}
	partitionlist_free(&parts);
	free(sql);
	if (!ok)
	{
		rollup_pieces_free(p, n);
		return false;
	}
	*out = p;
	*nout = n;
	return true;
}

bool
rollup_lock(PgConn *pc, const Rollup *r, PgpError *err)
{
	char id[16];
	const char *params[1] = {id};

	snprintf(id, sizeof(id), "%d", r->id);
	return pgc_exec(pc,
					"SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pgpart.rollup'), "
					"$1::integer)",
					1, params, err);
}

/* INSERT INTO the summary the rows of agg; *groups: how many (0 in --dry-run, where it is printed) */
static bool
insert_summary_rows(PgConn *pc, const char *summary_q, const char *agg, int nparams,
					const char *const *params, long long *groups, PgpError *err)
{
	char *sql = pg_xasprintf("INSERT INTO %s %s", summary_q, agg);
	PGresult *res;
	bool ok;

	*groups = 0;
	if (pc->dry_run)
		ok = pgc_change(pc, sql, nparams, params, err);
	else
	{
		res = pgc_query(pc, sql, nparams, params, err);
		ok = res != NULL;
		if (ok)
		{
			*groups = atoll(PQcmdTuples(res));
			PQclear(res);
		}
	}
	free(sql);
	return ok;
}

bool
rollup_summarise_piece(PgConn *pc, const Rollup *r, const RollupPiece *piece, long long *groups,
					   PgpError *err)
{
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *agg = rollup_aggregate_sql(pc, r, piece->qualified, NULL);
	char id[16], rows[32];
	const char *params[5] = {id, piece->lo, piece->hi, piece->name, rows};
	char *sql;
	bool ok;

	snprintf(id, sizeof(id), "%d", r->id);
	/* the marks of this range are consumed: the aggregate below sees their changes */
	ok = change_each_marks_table(pc, r, "DELETE FROM ",
								 " WHERE rollup_id = $1::integer AND bucket >= $2::pg_catalog.date "
								 "AND bucket < $3::pg_catalog.date",
								 3, params, err);
	sql = pg_xasprintf("DELETE FROM %s WHERE bucket >= $1::pg_catalog.date AND bucket < "
					   "$2::pg_catalog.date",
					   summary_q);
	ok = ok && pgc_change(pc, sql, 2, params + 1, err);
	free(sql);
	ok = ok && insert_summary_rows(pc, summary_q, agg, 0, NULL, groups, err);
	snprintf(rows, sizeof(rows), "%lld", *groups);
	ok = ok && pgc_change(pc,
						  "INSERT INTO pgpart.rollup_coverage (rollup_id, lo, hi, partition_name, "
						  "summary_rows) VALUES ($1::integer, $2::pg_catalog.date, "
						  "$3::pg_catalog.date, $4, $5::bigint) ON CONFLICT (rollup_id, lo) DO "
						  "UPDATE SET hi = EXCLUDED.hi, partition_name = EXCLUDED.partition_name, "
						  "summary_rows = EXCLUDED.summary_rows, built_at = pg_catalog.now()",
						  5, params, err);
	free(agg);
	free(summary_q);
	return ok;
}

bool
rollup_read_marks(PgConn *pc, const char *sql, int nparams, const char *const *params,
				  NameList *buckets, bool *everything, PgpError *err)
{
	PGresult *res;
	int i;

	*everything = false;
	res = pgc_query(pc, sql, nparams, params, err);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		if (PQgetisnull(res, i, 0))
			*everything = true;
		else
			namelist_add(buckets, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return true;
}

bool
rollup_take_marks(PgConn *pc, const Rollup *r, NameList *buckets, bool *everything, PgpError *err)
{
	char id[16];
	const char *params[1] = {id};

	char *citus = r->dist_column ? citus_marks_table(r) : NULL;
	char *sql;
	bool ok, truncated = false;

	snprintf(id, sizeof(id), "%d", r->id);
	ok = rollup_read_marks(
		pc,
		"WITH d AS (DELETE FROM pgpart.rollup_dirty WHERE rollup_id = $1::integer "
		"RETURNING bucket) SELECT DISTINCT d.bucket::text FROM d ORDER BY 1 NULLS FIRST",
		1, params, buckets, everything, err);
	if (ok && citus)
	{
		/* only TRUNCATE marks are in pgpart.rollup_dirty then, and none here */
		sql = pg_xasprintf("WITH d AS (DELETE FROM %s WHERE rollup_id = $1::integer "
						   "RETURNING bucket) SELECT DISTINCT d.bucket::text FROM d ORDER BY 1",
						   citus);
		ok = rollup_read_marks(pc, sql, 1, params, buckets, &truncated, err);
		free(sql);
	}
	free(citus);
	return ok;
}

bool
rollup_piece_buckets(PgConn *pc, const Rollup *r, const RollupPiece *piece, char **list,
					 PgpError *err)
{
	const char *params[3] = {piece->lo, piece->hi, r->grain};

	return pgc_query_value(pc,
						   "SELECT pg_catalog.string_agg(g::pg_catalog.date::text, ',') FROM "
						   "pg_catalog.generate_series($1::pg_catalog.date, "
						   "$2::pg_catalog.date - 1, ('1 ' || $3)::interval) g",
						   3, params, list, err);
}

bool
rollup_recompute(PgConn *pc, const Rollup *r, const RollupPiece *piece, const char *buckets_literal,
				 PgpError *err)
{
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *bucket = rollup_bucket_sql(pc, r, "s");
	char *lo = rollup_bucket_start_sql(
		pc, r, "(SELECT pg_catalog.min(x) FROM pg_catalog.unnest($1::pg_catalog.date[]) x)");
	char *hi = rollup_bucket_start_sql(
		pc, r,
		strcmp(r->grain, "month") == 0
			? "(SELECT pg_catalog.max(x) FROM pg_catalog.unnest($1::pg_catalog.date[]) x) + "
			  "interval '1 month'"
			: "(SELECT pg_catalog.max(x) FROM pg_catalog.unnest($1::pg_catalog.date[]) x) + 1");
	StrBuf extra;
	char *agg, *sql;
	const char *params[1] = {buckets_literal};
	long long groups;
	bool ok;

	/* the time range lets PostgreSQL use the partition column's indexes */
	sb_init(&extra);
	sb_appendf(&extra, "%s = ANY($1::pg_catalog.date[]) AND s.", bucket);
	pgc_append_ident(pc, &extra, r->column);
	sb_appendf(&extra, " >= %s AND s.", lo);
	pgc_append_ident(pc, &extra, r->column);
	sb_appendf(&extra, " < %s", hi);
	agg = rollup_aggregate_sql(pc, r, piece->qualified, extra.data);
	sql = pg_xasprintf("DELETE FROM %s WHERE bucket = ANY($1::pg_catalog.date[])", summary_q);
	ok = pgc_change(pc, sql, 1, params, err);
	free(sql);
	ok = ok && insert_summary_rows(pc, summary_q, agg, 1, params, &groups, err);
	free(agg);
	sb_free(&extra);
	free(lo);
	free(hi);
	free(bucket);
	free(summary_q);
	return ok;
}

bool
rollup_mark_refreshed(PgConn *pc, const Rollup *r, PgpError *err)
{
	char id[16];
	const char *params[1] = {id};

	snprintf(id, sizeof(id), "%d", r->id);
	return pgc_change(pc, "UPDATE pgpart.rollup SET refreshed_at = pg_catalog.now() WHERE id = $1::integer",
					  1, params, err);
}

void
rollupfacts_free(RollupFacts *f)
{
	FREE_ALL(f->partitions, f->range, f->changed, f->oldest_mark, f->refreshed_at, f->size,
			 f->bitmaps, f->bits_set);
	memset(f, 0, sizeof(*f));
}

/*
 * How full the bitmaps are: a bitmap costs 2 kB whatever it holds, so
 * values spread thinly over their range (a few per 16384) make the summary
 * large for what it counts
 */
static bool
distinct_fill(PgConn *pc, const Rollup *r, RollupFacts *f, PgpError *err)
{
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *sql = pg_xasprintf(
		"SELECT pg_catalog.count(*)::text, COALESCE(pg_catalog.round(100 * "
		"pg_catalog.avg(pg_catalog.bit_count(s.distinct_bits)) / %d, 1), 0)::text FROM %s s",
		1 << ROLLUP_CHUNK_BITS, summary_q);
	PGresult *res = pgc_query(pc, sql, 0, NULL, err);

	free(sql);
	free(summary_q);
	if (res == NULL)
		return false;
	f->bitmaps = pg_xstrdup(PQgetvalue(res, 0, 0));
	f->bits_set = pg_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return true;
}

bool
rollup_facts(PgConn *pc, const Rollup *r, RollupFacts *f, PgpError *err)
{
	char id[16];
	const char *params[1] = {id};
	PGresult *res;
	char *marks = rollup_marks_sql(r);
	char *sql;

	memset(f, 0, sizeof(*f));
	snprintf(id, sizeof(id), "%d", r->id);
	/* the marks by the parameter, not by r.id: on Citus they are partly in a distributed table */
	sql = pg_xasprintf(
		"SELECT (SELECT pg_catalog.count(*) FROM pgpart.rollup_coverage c WHERE c.rollup_id = r.id), "
		"  (SELECT pg_catalog.min(c.lo)::text || ' .. ' || pg_catalog.max(c.hi)::text "
		"   FROM pgpart.rollup_coverage c WHERE c.rollup_id = r.id), "
		"  m.changed, m.truncated, m.oldest::text, "
		"  COALESCE(r.refreshed_at::text, 'never'), "
		"  pg_catalog.pg_size_pretty((SELECT pg_catalog.sum(pg_catalog.pg_total_relation_size(t.relid))::bigint FROM pg_catalog.pg_partition_tree(r.summary) t)) "
		"FROM pgpart.rollup r, (SELECT pg_catalog.count(DISTINCT d.bucket) AS changed, "
		"  COALESCE(pg_catalog.bool_or(d.bucket IS NULL), false) AS truncated, "
		"  pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.min(d.marked_at))) AS oldest "
		"  FROM %s d WHERE d.rollup_id = $1::integer) m "
		"WHERE r.id = $1::integer",
		marks);
	res = pgc_query(pc, sql, 1, params, err);
	free(sql);
	free(marks);
	if (res == NULL)
		return false;
	if (PQntuples(res) != 1)
	{
		PQclear(res);
		err_set(err, EXIT_RUNTIME, "rollup %s.%s is gone", r->summary_schema, r->summary_name);
		return false;
	}
	f->partitions = pg_xstrdup(PQgetvalue(res, 0, 0));
	f->range = opt_value(res, 0, 1);
	f->changed = pg_xstrdup(PQgetvalue(res, 0, 2));
	f->truncated = PQgetvalue(res, 0, 3)[0] == 't';
	f->oldest_mark = opt_value(res, 0, 4);
	f->refreshed_at = pg_xstrdup(PQgetvalue(res, 0, 5));
	f->size = pg_xstrdup(PQgetvalue(res, 0, 6));
	PQclear(res);
	return !r->distinct_column || distinct_fill(pc, r, f, err);
}
