/*
 * catalog.c - reads a user's table from the system catalogs: names resolved
 * as psql would (the user's search_path, for that one lookup only; pgpart's
 * own statements run with an empty one), columns, keys, partitions, row
 * estimates.  Only ACCESS SHARE is ever taken, so these never wait on DDL.
 */
#include "pg/catalog.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pg/changelog.h"
#include "util/mem.h"
#include "util/strbuf.h"

void
relinfo_free(RelInfo *r)
{
	FREE_ALL(r->schema, r->name, r->tablespace);
	memset(r, 0, sizeof(*r));
}

void
columninfo_free(ColumnInfo *c)
{
	FREE_ALL(c->name, c->type_name);
	memset(c, 0, sizeof(*c));
}

bool
namelist_add_query(PgConn *pc, const char *sql, int nparams, const char *const *params,
				   NameList *into, PgpError *err)
{
	PGresult *res = pgc_query(pc, sql, nparams, params, err);
	int i;

	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 0))
			namelist_add(into, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return pg_xstrdup(PQgetvalue(res, row, col));
}

/*
 * Runs one query with the user's search_path in force, so that names they
 * type resolve exactly as in psql; pgpart's own path is restored afterwards.
 */
static PGresult *
query_with_user_path(PgConn *pc, const char *sql, int nparams, const char *const *params,
					 PgpError *err)
{
	const char *p[1] = {pc->user_search_path};
	PGresult *res;
	PgpError reset_err;

	if (!pgc_exec(pc, "SELECT pg_catalog.set_config('search_path', $1, false)", 1, p, err))
		return NULL;
	res = pgc_query(pc, sql, nparams, params, err);
	err_init(&reset_err);
	if (!pgc_exec(pc, "SELECT pg_catalog.set_config('search_path', '', false)", 0, NULL,
				  &reset_err))
	{
		PQclear(res);
		*err = reset_err;
		return NULL;
	}
	return res;
}

static const char rel_columns[] =
	"SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, c.relpersistence, "
	"       t.spcname "
	"FROM pg_catalog.pg_class c "
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace ";

static bool
fill_relinfo(PGresult *res, RelInfo *rel, bool *found)
{
	memset(rel, 0, sizeof(*rel));
	*found = PQntuples(res) > 0;
	if (*found)
	{
		rel->oid = (RelOid) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
		rel->schema = pg_xstrdup(PQgetvalue(res, 0, 1));
		rel->name = pg_xstrdup(PQgetvalue(res, 0, 2));
		rel->relkind = PQgetvalue(res, 0, 3)[0];
		rel->is_partition = PQgetvalue(res, 0, 4)[0] == 't';
		rel->relpersistence = PQgetvalue(res, 0, 5)[0];
		rel->tablespace = dup_or_null(res, 0, 6);
	}
	PQclear(res);
	return true;
}

bool
catalog_resolve_table(PgConn *pc, const char *user_name, RelInfo *rel, bool *found, PgpError *err)
{
	StrBuf sql;
	PGresult *res;
	const char *params[1] = {user_name};

	sb_init(&sql);
	sb_append(&sql, rel_columns);
	sb_append(&sql, "WHERE c.oid = pg_catalog.to_regclass($1)");
	res = query_with_user_path(pc, sql.data, 1, params, err);
	sb_free(&sql);
	if (res == NULL)
	{
		err_prefix(err, "invalid table name \"%s\"", user_name);
		err->exit_code = EXIT_USAGE;
		return false;
	}
	if (!fill_relinfo(res, rel, found))
		return false;
	if (*found)
		changelog_subject(pc, rel->schema, rel->name);
	return true;
}

bool
catalog_table_by_oid(PgConn *pc, RelOid oid, RelInfo *rel, bool *found, PgpError *err)
{
	StrBuf sql;
	PGresult *res;

	sb_init(&sql);
	sb_append(&sql, rel_columns);
	sb_append(&sql, "WHERE c.oid = $1::pg_catalog.oid");
	res = catalog_oid_query(pc, sql.data, oid, err);
	sb_free(&sql);
	if (res == NULL)
		return false;
	return fill_relinfo(res, rel, found);
}

bool
catalog_split_name(PgConn *pc, const char *user_name, char **schema, char **name, PgpError *err)
{
	const char *params[1] = {user_name};
	PGresult *res;
	int n;

	res = query_with_user_path(pc,
							   "SELECT (pg_catalog.parse_ident($1))[1], "
							   "       (pg_catalog.parse_ident($1))[2], "
							   "       pg_catalog.array_length(pg_catalog.parse_ident($1), 1), "
							   "       pg_catalog.current_schema()",
							   1, params, err);
	if (res == NULL)
	{
		err_prefix(err, "invalid table name \"%s\"", user_name);
		err->exit_code = EXIT_USAGE;
		return false;
	}
	n = atoi(PQgetvalue(res, 0, 2));
	if (n == 1)
	{
		if (PQgetisnull(res, 0, 3))
		{
			PQclear(res);
			err_set(err, EXIT_USAGE, "no schema to create \"%s\" in", user_name);
			err_hint(err, "Qualify the name (schema.table): the search_path names no existing "
						  "schema.");
			return false;
		}
		*schema = pg_xstrdup(PQgetvalue(res, 0, 3));
		*name = pg_xstrdup(PQgetvalue(res, 0, 0));
	}
	else if (n == 2)
	{
		*schema = pg_xstrdup(PQgetvalue(res, 0, 0));
		*name = pg_xstrdup(PQgetvalue(res, 0, 1));
	}
	else
	{
		PQclear(res);
		err_set(err, EXIT_USAGE, "invalid table name \"%s\"", user_name);
		err_hint(err, "Give a table name as table or schema.table.");
		return false;
	}
	PQclear(res);
	return true;
}

bool
catalog_column(PgConn *pc, RelOid table, const char *column, ColumnInfo *col, bool *found,
			   PgpError *err)
{
	PGresult *res;

	memset(col, 0, sizeof(*col));
	/* a domain over timestamptz partitions like timestamptz: compare base types */
	res = catalog_oid_query_args(pc,
								 "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
								 "       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END, "
								 "       a.attnotnull, a.attgenerated <> '' "
								 "FROM pg_catalog.pg_attribute a "
								 "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
								 "WHERE a.attrelid = $1::pg_catalog.oid AND a.attname = $2 "
								 "  AND a.attnum > 0 AND NOT a.attisdropped",
								 table, 1, &column, err);
	if (res == NULL)
		return false;
	*found = PQntuples(res) > 0;
	if (*found)
	{
		unsigned typ = (unsigned) strtoul(PQgetvalue(res, 0, 2), NULL, 10);

		col->name = pg_xstrdup(PQgetvalue(res, 0, 0));
		col->type_name = pg_xstrdup(PQgetvalue(res, 0, 1));
		col->not_null = PQgetvalue(res, 0, 3)[0] == 't';
		col->generated = PQgetvalue(res, 0, 4)[0] == 't';
		col->key_type_ok = true;
		/* built-in type OIDs are fixed across versions */
		if (typ == 1184)
			col->key_type = KEY_TIMESTAMPTZ;
		else if (typ == 1114)
			col->key_type = KEY_TIMESTAMP;
		else if (typ == 1082)
			col->key_type = KEY_DATE;
		else
			col->key_type_ok = false;
	}
	PQclear(res);
	return true;
}

/* params: oid's text (in buf) as $1, then args; how many there are */
static int
oid_params(RelOid oid, int nargs, const char *const *args, char *buf, size_t size,
		   const char **params)
{
	int n = 1;

	snprintf(buf, size, "%u", oid);
	params[0] = buf;
	while (n <= nargs && n <= CATALOG_OID_ARGS_MAX)
	{
		params[n] = args[n - 1];
		n++;
	}
	return n;
}

PGresult *
catalog_oid_query_args(PgConn *pc, const char *sql, RelOid oid, int nargs,
					   const char *const *args, PgpError *err)
{
	char buf[16];
	const char *params[1 + CATALOG_OID_ARGS_MAX];
	int n = oid_params(oid, nargs, args, buf, sizeof(buf), params);

	return pgc_query(pc, sql, n, params, err);
}

bool
catalog_oid_value_args(PgConn *pc, const char *sql, RelOid oid, int nargs,
					   const char *const *args, char **value, PgpError *err)
{
	char buf[16];
	const char *params[1 + CATALOG_OID_ARGS_MAX];
	int n = oid_params(oid, nargs, args, buf, sizeof(buf), params);

	return pgc_query_value(pc, sql, n, params, value, err);
}

PGresult *
catalog_oid_query(PgConn *pc, const char *sql, RelOid oid, PgpError *err)
{
	return catalog_oid_query_args(pc, sql, oid, 0, NULL, err);
}

bool
catalog_oid_value(PgConn *pc, const char *sql, RelOid oid, char **value, PgpError *err)
{
	return catalog_oid_value_args(pc, sql, oid, 0, NULL, value, err);
}

bool
catalog_oid_bool(PgConn *pc, const char *sql, RelOid oid, bool *yes, PgpError *err)
{
	char *v = NULL;

	if (!catalog_oid_value(pc, sql, oid, &v, err))
		return false;
	*yes = v && v[0] == 't';
	free(v);
	return true;
}

bool
catalog_regclass_text(PgConn *pc, RelOid oid, char **text, PgpError *err)
{
	return catalog_oid_value(pc, "SELECT $1::pg_catalog.oid::pg_catalog.regclass::text", oid,
							 text, err);
}

bool
catalog_insertable_columns(PgConn *pc, RelOid table, char **list, PgpError *err)
{
	if (!catalog_oid_value(pc,
						   "SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' "
						   "                             ORDER BY a.attnum) "
						   "FROM pg_catalog.pg_attribute a "
						   "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
						   "  AND NOT a.attisdropped AND a.attgenerated = ''",
						   table, list, err))
		return false;
	if (*list == NULL)
	{
		err_set(err, EXIT_RUNTIME, "table has no columns that can be copied");
		return false;
	}
	return true;
}

bool
catalog_unique_keys_without(PgConn *pc, RelOid table, const char *column, NameList *keys,
							PgpError *err)
{
	char buf[16];
	const char *params[2] = {buf, column};

	snprintf(buf, sizeof(buf), "%u", table);
	return namelist_add_query(pc,
							  "SELECT CASE con.contype WHEN 'p' THEN 'primary key ' "
							  "                        WHEN 'u' THEN 'unique constraint ' "
							  "                        WHEN 'x' THEN 'exclusion constraint ' "
							  "                        ELSE 'unique index ' END "
							  "       || pg_catalog.quote_ident(ic.relname) "
							  "       || ' ' || pg_catalog.regexp_replace("
							  "            pg_catalog.pg_get_indexdef(i.indexrelid), '^.* USING \\w+ ', '') "
							  "FROM pg_catalog.pg_index i "
							  "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
							  "LEFT JOIN pg_catalog.pg_constraint con "
							  "       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
							  "WHERE i.indrelid = $1::pg_catalog.oid "
							  "  AND (i.indisunique OR i.indisexclusion) "
							  "  AND NOT (SELECT a.attnum FROM pg_catalog.pg_attribute a "
							  "           WHERE a.attrelid = i.indrelid AND a.attname = $2) "
							  "          = ANY (i.indkey::pg_catalog.int2[]) "
							  "ORDER BY ic.relname",
							  2, params, keys, err);
}

bool
catalog_table_has_rows(PgConn *pc, RelOid table, bool *has_rows, PgpError *err)
{
	char *qualified = NULL;
	char *v = NULL;
	StrBuf sql;
	bool ok;

	if (!catalog_regclass_text(pc, table, &qualified, err))
		return false;
	sb_init(&sql);
	/* the regclass text of an OID is already quoted and qualified (empty search_path) */
	/* SELECT 1: a Citus table's rows may come back through a record-typed function */
	sb_appendf(&sql, "SELECT EXISTS (SELECT 1 FROM %s)", qualified);
	ok = pgc_query_value(pc, sql.data, 0, NULL, &v, err);
	if (ok)
		*has_rows = v && v[0] == 't';
	free(v);
	free(qualified);
	sb_free(&sql);
	return ok;
}

bool
catalog_estimate_rows(PgConn *pc, RelOid table, double *rows, PgpError *err)
{
	char *qualified = NULL, *plan = NULL, *reltuples = NULL;
	json_t *root = NULL;
	StrBuf sql;
	bool ok = false;

	if (!catalog_oid_value(pc, "SELECT c.reltuples::text FROM pg_catalog.pg_class c WHERE c.oid = "
							   "$1::pg_catalog.oid", table, &reltuples, err))
		return false;
	*rows = reltuples ? atof(reltuples) : 0;
	free(reltuples);
	if (*rows >= 0)
		return true;
	/* the planner estimates an unanalysed table from its pages and column widths */
	if (!catalog_regclass_text(pc, table, &qualified, err))
		return false;
	sb_init(&sql);
	sb_appendf(&sql, "EXPLAIN (FORMAT JSON) SELECT FROM %s", qualified);
	if (pgc_query_value(pc, sql.data, 0, NULL, &plan, err))
	{
		root = plan ? json_loads(plan, 0, NULL) : NULL;
		*rows = json_number_value(
			json_object_get(json_object_get(json_array_get(root, 0), "Plan"), "Plan Rows"));
		ok = true;
	}
	json_decref(root);
	free(plan);
	free(qualified);
	sb_free(&sql);
	return ok;
}

void
partitionlist_free(PartitionList *l)
{
	int i;

	for (i = 0; i < l->n; i++)
	{
		FREE_ALL(l->items[i].schema, l->items[i].name, l->items[i].lo_text, l->items[i].hi_text,
				 l->items[i].tablespace);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
	l->default_index = -1;
}

bool
catalog_partitions(PgConn *pc, RelOid parent, PartitionList *list, PgpError *err)
{
	PGresult *res;
	int i;

	memset(list, 0, sizeof(*list));
	list->default_index = -1;
	/*
	 * The server prints a bound only as text ("FOR VALUES FROM ('...') TO
	 * ('...')"); take the two literals apart and let the server turn them
	 * into numbers, so no client-side date parsing is involved.  The session
	 * runs in UTC, so a timestamp or date bound maps to the same instant as
	 * a timestamptz one written the same way.
	 */
	res = catalog_oid_query(
		pc,
		"WITH p AS ("
		"  SELECT c.oid, n.nspname, c.relname, t.spcname, "
		"         pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound "
		"  FROM pg_catalog.pg_inherits h "
		"  JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid "
		"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"  LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace "
		"  WHERE h.inhparent = $1::pg_catalog.oid), "
		"b AS ("
		"  SELECT p.*, pg_catalog.regexp_match(bound, "
		"           '^FOR VALUES FROM \\((MINVALUE|''[^'']*'')\\) TO \\((MAXVALUE|''[^'']*'')\\)$') "
		"           AS m "
		"  FROM p), "
		"v AS ("
		"  SELECT b.*, "
		"         CASE WHEN m[1] LIKE '''%' THEN pg_catalog.btrim(m[1], '''') END AS lo, "
		"         CASE WHEN m[2] LIKE '''%' THEN pg_catalog.btrim(m[2], '''') END AS hi "
		"  FROM b) "
		"SELECT oid, nspname, relname, bound = 'DEFAULT', m IS NOT NULL, "
		"       m[1] = 'MINVALUE', m[2] = 'MAXVALUE', "
		"       (EXTRACT(epoch FROM lo::timestamptz) * 1000000)::bigint, "
		"       (EXTRACT(epoch FROM hi::timestamptz) * 1000000)::bigint, "
		"       lo, hi, spcname "
		"FROM v "
		"ORDER BY bound = 'DEFAULT', lo::timestamptz NULLS FIRST, relname",
		parent, err);
	if (res == NULL)
		return false;
	list->n = PQntuples(res);
	list->items = pg_xcalloc((size_t) list->n, sizeof(PartitionInfo));
	for (i = 0; i < list->n; i++)
	{
		PartitionInfo *p = &list->items[i];

		p->oid = (RelOid) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		p->schema = pg_xstrdup(PQgetvalue(res, i, 1));
		p->name = pg_xstrdup(PQgetvalue(res, i, 2));
		p->is_default = PQgetvalue(res, i, 3)[0] == 't';
		p->bounds_known = PQgetvalue(res, i, 4)[0] == 't';
		p->lo_unbounded = PQgetvalue(res, i, 5)[0] == 't';
		p->hi_unbounded = PQgetvalue(res, i, 6)[0] == 't';
		p->lo_us = PQgetisnull(res, i, 7) ? 0 : strtoll(PQgetvalue(res, i, 7), NULL, 10);
		p->hi_us = PQgetisnull(res, i, 8) ? 0 : strtoll(PQgetvalue(res, i, 8), NULL, 10);
		p->lo_text = dup_or_null(res, i, 9);
		p->hi_text = dup_or_null(res, i, 10);
		p->tablespace = dup_or_null(res, i, 11);
		if (p->is_default)
			list->default_index = i;
	}
	PQclear(res);
	return true;
}

bool
catalog_range_key_column(PgConn *pc, RelOid parent, char **column, PgpError *err)
{
	return catalog_oid_value(pc,
							 "SELECT a.attname FROM pg_catalog.pg_partitioned_table pt "
							 "JOIN pg_catalog.pg_attribute a "
							 "  ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0] "
							 "WHERE pt.partrelid = $1::pg_catalog.oid AND pt.partstrat = 'r' "
							 "  AND pt.partnatts = 1",
							 parent, column, err);
}

bool
catalog_today(PgConn *pc, const char *time_zone, char **date, PgpError *err)
{
	const char *params[1] = {time_zone};

	if (!pgc_query_value(pc, "SELECT (pg_catalog.now() AT TIME ZONE $1)::date::text", 1, params,
						 date, err))
	{
		if (strcmp(err->sqlstate, SQLSTATE_INVALID_PARAMETER_VALUE) != 0)
			return false;
		err_set(err, EXIT_USAGE, "unknown time zone \"%s\"", time_zone);
		err_hint(err, "Use a name from pg_timezone_names, such as UTC or Europe/Berlin.");
		return false;
	}
	return true;
}

bool
catalog_today_date(PgConn *pc, const char *time_zone, CivilDate *today, PgpError *err)
{
	char *text = NULL;
	bool ok;

	if (!catalog_today(pc, time_zone, &text, err))
		return false;
	ok = cal_date_parse(text, today);
	if (!ok)
		err_set(err, EXIT_RUNTIME, "server returned an unexpected date \"%s\"", text);
	free(text);
	return ok;
}
