/*
 * check_sql.c - the statements of "pgpart check".  The EXPLAIN text is the
 * only one built from outside text (pg_stat_statements' query): it is
 * screened by planverdict_screen_statement first and only ever follows
 * "EXPLAIN" or "PREPARE ... AS", in a READ ONLY transaction; the extended
 * protocol (pgc_query) accepts one statement per call besides.
 */
#include "commands/check/check_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

#define CHECK_PREPARED_NAME "pgpart_check_stmt"

void
pgssrow_list_free(PgssRow *rows, int n)
{
	int i;

	for (i = 0; i < n; i++)
		FREE_ALL(rows[i].queryid, rows[i].query);
	free(rows);
}

bool
check_pgss_schema(PgConn *pc, char **schema, PgpError *err)
{
	return pgc_query_value(pc,
						   "SELECT n.nspname FROM pg_catalog.pg_extension e "
						   "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
						   "WHERE e.extname = 'pg_stat_statements'",
						   0, NULL, schema, err);
}

bool
check_read_statements(PgConn *pc, const char *pgss_schema, int limit, PgssRow **rows, int *n,
					  PgpError *err)
{
	StrBuf sql;
	char lim[16];
	const char *params[1] = {lim};
	PGresult *res;
	int i;

	*rows = NULL;
	*n = 0;
	snprintf(lim, sizeof(lim), "%d", limit);
	sb_init(&sql);
	sb_append(&sql, "SELECT s.queryid::text, s.query, s.calls, s.total_exec_time, "
					"s.mean_exec_time FROM ");
	pgc_append_qualified(pc, &sql, pgss_schema, "pg_stat_statements");
	sb_append(&sql,
			  " s WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d "
			  "                   WHERE d.datname = pg_catalog.current_database()) "
			  "AND s.toplevel AND s.query OPERATOR(pg_catalog.~*) '^\\s*(select|with|prepare)\\M' "
			  "AND s.query OPERATOR(pg_catalog.!~) '(pg_catalog|pgpart)\\.' "
			  "ORDER BY s.total_exec_time DESC, s.queryid LIMIT $1::pg_catalog.int4");
	res = pgc_query(pc, sql.data, 1, params, err);
	sb_free(&sql);
	if (res == NULL)
		return false;
	*n = PQntuples(res);
	*rows = pg_xcalloc((size_t) *n + 1, sizeof(PgssRow));
	for (i = 0; i < *n; i++)
	{
		PgssRow *r = &(*rows)[i];

		r->queryid = pg_xstrdup(PQgetvalue(res, i, 0));
		r->query = pg_xstrdup(PQgetvalue(res, i, 1));
		r->calls = atoll(PQgetvalue(res, i, 2));
		r->total_ms = atof(PQgetvalue(res, i, 3));
		r->mean_ms = atof(PQgetvalue(res, i, 4));
	}
	PQclear(res);
	return true;
}

/*
 * One value per parameter of the prepared statement, as EXECUTE's untyped
 * literals (the server coerces them to the inferred types).  The generic
 * plan's shape does not depend on them; they only decide which partitions
 * executor start-up prunes.  Time types get now(): a range ending or
 * starting there lands in the current partition, as a dashboard's would.
 * Other types get a neutral non-NULL value (a NULL would let start-up prune
 * every partition and hide the plan); types without one get NULL.
 */
static bool
execute_arguments(PgConn *pc, StrBuf *args, PgpError *err)
{
	PGresult *res = pgc_query(
		pc,
		"SELECT CASE WHEN t.oid IN ('pg_catalog.timestamptz'::pg_catalog.regtype, "
		"                           'pg_catalog.timestamp'::pg_catalog.regtype, "
		"                           'pg_catalog.date'::pg_catalog.regtype) "
		"            THEN pg_catalog.now()::pg_catalog.text "
		"            WHEN t.oid = 'pg_catalog.interval'::pg_catalog.regtype THEN '1 day' "
		"            WHEN t.typcategory = 'N' THEN '1' "
		"            WHEN t.typcategory = 'B' THEN 'false' "
		"            WHEN t.typcategory = 'S' THEN 'day' "
		"            WHEN t.typcategory = 'A' THEN '{}' END "
		"FROM pg_catalog.pg_prepared_statements p "
		"CROSS JOIN LATERAL pg_catalog.unnest(p.parameter_types) WITH ORDINALITY a(typ, n) "
		"JOIN pg_catalog.pg_type t ON t.oid = a.typ "
		"WHERE p.name = '" CHECK_PREPARED_NAME "' ORDER BY a.n",
		0, NULL, err);
	int i;

	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		if (i > 0)
			sb_append(args, ", ");
		if (PQgetisnull(res, i, 0))
			sb_append(args, "NULL");
		else
			pgc_append_literal(pc, args, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return true;
}

static bool
explain_in_transaction(PgConn *pc, const char *text, bool has_params, char **plan,
					   PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	if (!has_params)
	{
		sb_append(&sql, "EXPLAIN (FORMAT JSON, VERBOSE) ");
		sb_append(&sql, text);
		ok = pgc_query_value(pc, sql.data, 0, NULL, plan, err);
		sb_free(&sql);
		return ok;
	}
	sb_append(&sql, "PREPARE " CHECK_PREPARED_NAME " AS ");
	sb_append(&sql, text);
	ok = pgc_exec(pc, sql.data, 0, NULL, err);
	sb_reset(&sql);
	if (ok)
	{
		sb_append(&sql, "EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE " CHECK_PREPARED_NAME " (");
		ok = execute_arguments(pc, &sql, err);
		sb_append(&sql, ")");
		ok = ok && pgc_query_value(pc, sql.data, 0, NULL, plan, err) &&
			 pgc_exec(pc, "DEALLOCATE " CHECK_PREPARED_NAME, 0, NULL, err);
	}
	sb_free(&sql);
	return ok;
}

bool
check_explain(PgConn *pc, const char *text, bool has_params, int timeout_ms, char **plan,
			  PgpError *err)
{
	char timeout[24];
	const char *params[2] = {timeout, pc->user_search_path ? pc->user_search_path : ""};
	bool ok;

	*plan = NULL;
	snprintf(timeout, sizeof(timeout), "%dms", timeout_ms);
	ok = pgc_exec(pc, "BEGIN TRANSACTION READ ONLY", 0, NULL, err) &&
		 pgc_exec(pc,
				  "SELECT pg_catalog.set_config('statement_timeout', $1, true), "
				  "       pg_catalog.set_config('search_path', $2, true), "
				  "       pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true)",
				  2, params, err) &&
		 explain_in_transaction(pc, text, has_params, plan, err);
	/* nothing to keep: the transaction only ever read */
	pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
	/* a prepared statement outlives its transaction: gone whatever failed */
	if (!ok && has_params)
		pgc_exec_quiet(pc, "DEALLOCATE " CHECK_PREPARED_NAME, 0, NULL);
	if (!ok)
	{
		free(*plan);
		*plan = NULL;
	}
	return ok;
}

static bool
oid_lines(PgConn *pc, const char *sql, RelOid parent, NameList *lines, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};

	snprintf(oid, sizeof(oid), "%u", parent);
	return namelist_add_query(pc, sql, 1, params, lines, err);
}

bool
check_index_leads(PgConn *pc, RelOid parent, NameList *leads, PgpError *err)
{
	return oid_lines(pc,
					 "SELECT pg_catalog.string_agg(a.attname, ',' ORDER BY k.n) "
					 "FROM pg_catalog.pg_index x "
					 "CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::pg_catalog.int2[]) "
					 "     WITH ORDINALITY k(attnum, n) "
					 "JOIN pg_catalog.pg_attribute a "
					 "  ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
					 "WHERE x.indrelid = $1::pg_catalog.oid "
					 "  AND k.n <= LEAST(2, x.indnkeyatts::pg_catalog.int4) "
					 "GROUP BY x.indexrelid ORDER BY 1",
					 parent, leads, err);
}

bool
check_unused_indexes(PgConn *pc, RelOid parent, NameList *lines, PgpError *err)
{
	/* unique ones enforce a constraint whether or not a query reads them */
	return oid_lines(pc,
					 "SELECT 'index ' || pg_catalog.quote_ident(ci.relname) || ' was never "
					 "scanned on any of its ' || pg_catalog.count(*) || ' partitions since the "
					 "statistics were reset (' || "
					 "pg_catalog.pg_size_pretty(pg_catalog.sum(pg_catalog.pg_relation_size("
					 "su.indexrelid))::pg_catalog.int8) || '): drop it if no query needs it' "
					 "FROM pg_catalog.pg_index px "
					 "JOIN pg_catalog.pg_class ci ON ci.oid = px.indexrelid "
					 "JOIN pg_catalog.pg_inherits ii ON ii.inhparent = px.indexrelid "
					 "JOIN pg_catalog.pg_stat_user_indexes su ON su.indexrelid = ii.inhrelid "
					 "WHERE px.indrelid = $1::pg_catalog.oid AND NOT px.indisunique "
					 "GROUP BY ci.relname HAVING pg_catalog.sum(su.idx_scan) = 0 ORDER BY 1",
					 parent, lines, err);
}

bool
check_size_outliers(PgConn *pc, RelOid parent, NameList *lines, PgpError *err)
{
	/*
	 * Only partitions holding data count: the empty future ones premake
	 * keeps are as small as they should be.  Three at least, or no median.
	 */
	return oid_lines(
		pc,
		"WITH p AS (SELECT c.relname, pg_catalog.pg_relation_size(c.oid) AS bytes "
		"           FROM pg_catalog.pg_inherits i "
		"           JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
		"           WHERE i.inhparent = $1::pg_catalog.oid AND c.relkind = 'r' "
		"             AND NOT c.relpartbound IS NULL "
		"             AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'), "
		"     m AS (SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY bytes) AS med, "
		"                  pg_catalog.count(*) AS n FROM p WHERE bytes > 0) "
		"SELECT 'partition ' || pg_catalog.quote_ident(p.relname) || ' holds ' || "
		"       pg_catalog.pg_size_pretty(p.bytes) || ', ' || "
		"       CASE WHEN p.bytes > 4 * m.med "
		"            THEN pg_catalog.round((p.bytes / m.med)::pg_catalog.numeric, 1) || "
		"                 ' times the median partition (' "
		"            ELSE 'under a quarter of the median partition (' END || "
		"       pg_catalog.pg_size_pretty(m.med::pg_catalog.int8) || '): ' || "
		"       CASE WHEN p.bytes > 4 * m.med "
		"            THEN 'a shorter interval would keep partitions even' "
		"            ELSE 'a longer interval would mean fewer partitions to plan' END "
		"FROM p, m WHERE m.n >= 3 AND p.bytes > 0 "
		"  AND (p.bytes > 4 * m.med OR p.bytes * 4 < m.med) ORDER BY p.relname",
		parent, lines, err);
}

