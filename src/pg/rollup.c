#include "pg/rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "pg/migration.h"
#include "util/mem.h"
#include "util/strbuf.h"

void
rollup_free(Rollup *r)
{
	free(r->source_schema);
	free(r->source_name);
	free(r->summary_schema);
	free(r->summary_name);
	free(r->grain);
	namelist_free(&r->group_by);
	free(r->measures_text);
	measures_free(&r->measures);
	free(r->filter);
	free(r->refreshed_at);
	free(r->column);
	free(r->time_zone);
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
		"  pg_catalog.format_type(a.atttypid, NULL), pc.time_zone "
		"FROM pgpart.rollup r "
		"JOIN pg_catalog.pg_class sc ON sc.oid = r.source "
		"JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace "
		"JOIN pg_catalog.pg_class uc ON uc.oid = r.summary "
		"JOIN pg_catalog.pg_namespace un ON un.oid = uc.relnamespace "
		"JOIN pgpart.part_config pc ON pc.parent_table = r.source "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = r.source AND a.attname = pc.part_column "
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
	}
	PQclear(res);
	return true;
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
	sb_appendf(&sb, " FROM %s s WHERE ", relation);
	/* rows without a date have no bucket: they are never summarised */
	sb_append(&sb, "s.");
	pgc_append_ident(pc, &sb, r->column);
	sb_append(&sb, " IS NOT NULL");
	if (r->filter)
		sb_appendf(&sb, " AND (%s)", r->filter);
	if (extra)
		sb_appendf(&sb, " AND (%s)", extra);
	sb_append(&sb, " GROUP BY 1");
	for (i = 0; i < r->group_by.n; i++)
		sb_appendf(&sb, ", %d", i + 2);
	free(bucket);
	return sb_steal(&sb);
}

bool
rollup_create_summary(PgConn *pc, const Rollup *r, PgpError *err)
{
	char *source_q = pgc_quote_qualified(pc, r->source_schema, r->source_name);
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *shape = rollup_aggregate_sql(pc, r, source_q, "false");
	char *def = naming_derive(r->summary_name, "default");
	char *idx = naming_derive(r->summary_name, "key");
	StrBuf sql;
	bool ok;
	int i;

	/* the aggregate's own result types: sum(int) is bigint, sum(numeric) numeric... */
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
	sb_append(&sql, "bucket) NULLS NOT DISTINCT");
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
	char oid[16];
	const char *params[2] = {oid, lo};
	char *exists = NULL;
	char *suffix, *name;
	StrBuf sql;
	bool ok;

	snprintf(oid, sizeof(oid), "%u", r->summary);
	/* a partition whose range starts at lo, found by its bound rather than its name */
	if (!pgc_query_value(pc,
						 "SELECT c.relname FROM pg_catalog.pg_inherits i "
						 "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
						 "WHERE i.inhparent = $1::pg_catalog.oid "
						 "  AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) LIKE "
						 "      'FOR VALUES FROM (''' || $2 || ''')%'",
						 2, params, &exists, err))
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

static char *
function_name(const Rollup *r, const char *what)
{
	return pg_xasprintf("pgpart.\"rollup_%d_%s\"", r->id, what);
}

/* CREATE FUNCTION with a body that inserts the marks of the rows in the named transition tables */
static bool
create_mark_function(PgConn *pc, const Rollup *r, const char *what, const char *tables,
					 PgpError *err)
{
	char *func = function_name(r, what);
	char *bucket = rollup_bucket_sql(pc, r, "t");
	StrBuf body, sql, col;
	char *t, *list, *save = NULL;
	bool ok;

	sb_init(&col);
	pgc_append_ident(pc, &col, r->column);
	sb_init(&body);
	sb_appendf(&body,
			   "BEGIN\n  INSERT INTO pgpart.rollup_dirty (rollup_id, bucket)\n  SELECT DISTINCT %d, "
			   "%s FROM (",
			   r->id, bucket);
	list = pg_xstrdup(tables);
	for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		sb_appendf(&body, "%sSELECT %s FROM %s", body.data[body.len - 1] == '(' ? "" : " UNION ALL ",
				   col.data, t);
	free(list);
	sb_appendf(&body, ") t WHERE t.%s IS NOT NULL;\n  RETURN NULL;\nEND", col.data);
	sb_init(&sql);
	/* SECURITY DEFINER: writers need no rights on pgpart's tables; every name is qualified */
	sb_appendf(&sql,
			   "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql "
			   "SECURITY DEFINER SET search_path = '' AS ",
			   func);
	pgc_append_literal(pc, &sql, body.data);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
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
	char *sql;
	StrBuf body;
	bool ok;

	/* one function per event: a trigger with transition tables may have only one event */
	ok = create_mark_function(pc, r, "insert", "new_rows", err) &&
		 create_mark_function(pc, r, "update", "old_rows,new_rows", err) &&
		 create_mark_function(pc, r, "delete", "old_rows", err);
	sb_init(&body);
	sb_appendf(&body,
			   "BEGIN\n  INSERT INTO pgpart.rollup_dirty (rollup_id, bucket) VALUES (%d, NULL);\n"
			   "  RETURN NULL;\nEND",
			   r->id);
	sql = NULL;
	if (ok)
	{
		StrBuf s;

		sb_init(&s);
		sb_appendf(&s,
				   "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql "
				   "SECURITY DEFINER SET search_path = '' AS ",
				   func);
		pgc_append_literal(pc, &s, body.data);
		sql = sb_steal(&s);
		ok = pgc_change(pc, sql, 0, NULL, err);
	}
	free(sql);
	sb_free(&body);
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
	size_t i;
	bool ok = true;

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
		{
			char *sql = pg_xasprintf("CREATE TRIGGER \"%s\" AFTER %s ON %s %s FOR EACH STATEMENT "
									 "EXECUTE FUNCTION %s()",
									 tg, events[i][1], table_q, events[i][2], func);

			ok = pgc_change(pc, sql, 0, NULL, err);
			free(sql);
			/* ALWAYS: writers with session_replication_role = replica change data too */
			sql = pg_xasprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER \"%s\"", table_q, tg);
			ok = ok && pgc_change(pc, sql, 0, NULL, err);
			free(sql);
		}
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
	char *summary_q;

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
	for (i = 0; ok && i < sizeof(what) / sizeof(what[0]); i++)
	{
		char *func = function_name(r, what[i]);
		char *sql = pg_xasprintf("DROP FUNCTION IF EXISTS %s()", func);

		ok = pgc_change(pc, sql, 0, NULL, err);
		free(sql);
		free(func);
	}
	summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	{
		char *sql = pg_xasprintf("DROP TABLE %s", summary_q);

		ok = ok && pgc_change(pc, sql, 0, NULL, err);
		free(sql);
	}
	free(summary_q);
	ok = ok &&
		 pgc_change(pc, "DELETE FROM pgpart.rollup_dirty WHERE rollup_id = $1::integer", 1,
					(const char *[]){id}, err) &&
		 pgc_change(pc, "DELETE FROM pgpart.rollup WHERE id = $1::integer", 1,
					(const char *[]){id}, err);
	return ok;
}
