/*
 * shadow_sql.c - what plan and start read from a table before migrating it,
 * and the statements that make its partitioned copy (shadow_sql.h): keys,
 * indexes and the rest that CREATE TABLE ... LIKE does not carry.
 */
#include "commands/migrate/shadow_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "pg/textarray.h"
#include "util/mem.h"

static void
oid_text(RelOid oid, char *buf, size_t size)
{
	snprintf(buf, size, "%u", oid);
}

/* keys and exclusion constraints: columns, and whether the partition column is among them */
static const char keys_sql[] =
	"SELECT c.conname, c.contype::text, pg_catalog.pg_get_constraintdef(c.oid), "
	"       $2::name = ANY (SELECT a.attname FROM pg_catalog.pg_attribute a "
	"                       WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), "
	"       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord) "
	"        FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
	"        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), "
	"       (SELECT attnotnull FROM pg_catalog.pg_attribute "
	"        WHERE attrelid = c.conrelid AND attname = $2::name) "
	"FROM pg_catalog.pg_constraint c "
	"WHERE c.conrelid = $1::pg_catalog.oid AND c.contype IN ('p', 'u', 'x') ORDER BY c.oid";

/* other indexes: the text after "ON <table>", whatever the table's name */
static const char indexes_sql[] =
	"SELECT ic.relname, i.indisunique, "
	"       $2::name = ANY (SELECT a.attname FROM pg_catalog.pg_attribute a "
	"                       WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)), "
	"       pg_catalog.substr(pg_catalog.pg_get_indexdef(i.indexrelid), "
	"         pg_catalog.length(CASE WHEN i.indisunique THEN 'CREATE UNIQUE INDEX ' "
	"                                ELSE 'CREATE INDEX ' END "
	"           || pg_catalog.quote_ident(ic.relname) || ' ON ' "
	"           || i.indrelid::pg_catalog.regclass::text) + 1) "
	"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	"WHERE i.indrelid = $1::pg_catalog.oid AND NOT EXISTS ("
	"  SELECT FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid "
	"  AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) "
	"ORDER BY i.indexrelid";

/* $3: the shadow's qualified name */
static const char extras_sql[] =
	"SELECT 'ALTER TABLE ' || $3::text || ' ADD CONSTRAINT ' || pg_catalog.quote_ident(con.conname) "
	"       || ' ' || pg_catalog.pg_get_constraintdef(con.oid), 1 AS ord "
	"FROM pg_catalog.pg_constraint con "
	"WHERE con.conrelid = $1::pg_catalog.oid AND con.contype = 'f' AND $2::text IS NOT NULL "
	"UNION ALL "
	"SELECT 'COMMENT ON TABLE ' || $3::text || ' IS ' || pg_catalog.quote_literal(d.description), 2 "
	"FROM pg_catalog.pg_description d WHERE d.objoid = $1::pg_catalog.oid "
	"  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $3::text || ' ALTER COLUMN ' || pg_catalog.quote_ident(a.attname) "
	"       || ' SET STATISTICS ' || a.attstattarget, 5 "
	"FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
	"  AND NOT a.attisdropped AND a.attstattarget >= 0 "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $3::text || ' REPLICA IDENTITY ' "
	"       || CASE c.relreplident WHEN 'f' THEN 'FULL' ELSE 'NOTHING' END, 6 "
	"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid AND c.relreplident IN ('f', 'n') "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $3::text || ' OWNER TO ' "
	"       || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(c.relowner)), 3 "
	"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'GRANT ' || a.privilege_type || ' ON ' || $3::text || ' TO ' "
	"       || CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
	"          ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END "
	"       || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, 4 "
	"FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
	"WHERE c.oid = $1::pg_catalog.oid AND a.grantee <> c.relowner "
	"ORDER BY 2";

static void
add_owned(NameList *l, char *stmt)
{
	namelist_add(l, stmt);
	free(stmt);
}

bool
shadow_statements(PgConn *pc, RelOid source, const char *schema, const char *shadow_name,
				  const char *part_column, bool extend_keys, NameList *stmts, NameList *problems,
				  NameList *changes, PgpError *err)
{
	char oid[16];
	char *shadow = pgc_quote_qualified(pc, schema, shadow_name);
	char *col = pgc_quote_ident(pc, part_column);
	const char *params[3];
	PGresult *res;
	int i;
	bool ok = false;

	oid_text(source, oid, sizeof(oid));
	params[0] = oid;
	params[1] = part_column;
	params[2] = shadow;

	res = pgc_query(pc, keys_sql, 2, params, err);
	if (res == NULL)
		goto done;
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *name = PQgetvalue(res, i, 0);
		char kind = PQgetvalue(res, i, 1)[0];
		const char *def = PQgetvalue(res, i, 2);
		bool has_col = PQgetvalue(res, i, 3)[0] == 't';
		const char *cols = PQgetvalue(res, i, 4);
		bool col_not_null = PQgetvalue(res, i, 5)[0] == 't';
		char *newname = naming_derive(name, "pgpart_new");
		char *qnew = pgc_quote_ident(pc, newname);

		if (has_col)
			add_owned(stmts, pg_xasprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", shadow, qnew, def));
		else if (kind == 'x')
			add_owned(problems, pg_xasprintf("exclusion constraint %s does not contain \"%s\"; "
											 "PostgreSQL cannot enforce it per partition",
											 name, part_column));
		else if (!extend_keys)
			add_owned(problems,
					  pg_xasprintf("%s %s (%s) does not contain the partition column \"%s\"; "
								   "PostgreSQL enforces uniqueness per partition, so it must "
								   "(accept the change with --extend-keys)",
								   kind == 'p' ? "primary key" : "unique constraint", name, cols,
								   part_column));
		else if (kind == 'p' && !col_not_null)
		{
			/* a primary key would make the column NOT NULL and refuse rows without a date */
			add_owned(stmts, pg_xasprintf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s, %s)",
										  shadow, qnew, cols, col));
			add_owned(changes, pg_xasprintf("primary key %s (%s) becomes UNIQUE (%s, %s): \"%s\" "
											"may be NULL, which a primary key forbids",
											name, cols, cols, col, part_column));
		}
		else
		{
			add_owned(stmts, pg_xasprintf("ALTER TABLE %s ADD CONSTRAINT %s %s (%s, %s)", shadow,
										  qnew, kind == 'p' ? "PRIMARY KEY" : "UNIQUE", cols, col));
			add_owned(changes, pg_xasprintf("%s %s (%s) becomes (%s, %s): unique only together "
											"with \"%s\"",
											kind == 'p' ? "primary key" : "unique constraint",
											name, cols, cols, col, part_column));
		}
		free(qnew);
		free(newname);
	}
	PQclear(res);

	res = pgc_query(pc, indexes_sql, 2, params, err);
	if (res == NULL)
		goto done;
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *name = PQgetvalue(res, i, 0);
		bool unique = PQgetvalue(res, i, 1)[0] == 't';
		bool has_col = PQgetvalue(res, i, 2)[0] == 't';
		const char *rest = PQgetvalue(res, i, 3);
		char *newname = naming_derive(name, "pgpart_new");
		char *qnew = pgc_quote_ident(pc, newname);

		if (unique && !has_col)
			add_owned(problems, pg_xasprintf("unique index %s does not contain \"%s\"; make it a "
											 "constraint or add the column to it first",
											 name, part_column));
		else
			add_owned(stmts, pg_xasprintf("CREATE %sINDEX %s ON %s%s", unique ? "UNIQUE " : "",
										  qnew, shadow, rest));
		free(qnew);
		free(newname);
	}
	PQclear(res);
	ok = namelist_add_query(pc, extras_sql, 3, params, stmts, err);
done:
	free(shadow);
	free(col);
	return ok;
}

/* the primary key, else the first unique constraint whose columns are all NOT NULL */
bool
shadow_find_key(PgConn *pc, RelOid table, NameList *key, NameList *types, PgpError *err)
{
	PGresult *res;
	bool ok;

	res = catalog_oid_query(pc,
							"SELECT pg_catalog.array_agg(a.attname ORDER BY k.ord)::text, "
							"       pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) "
							"                            ORDER BY k.ord)::text "
							"FROM pg_catalog.pg_constraint c, "
							"     pg_catalog.unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
							"JOIN pg_catalog.pg_attribute a ON a.attnum = k.attnum "
							"WHERE c.conrelid = $1::pg_catalog.oid AND a.attrelid = c.conrelid "
							"  AND c.contype IN ('p', 'u') "
							"GROUP BY c.oid, c.contype HAVING pg_catalog.bool_and(a.attnotnull) "
							"ORDER BY c.contype = 'p' DESC, c.oid LIMIT 1",
							table, err);
	if (res == NULL)
		return false;
	ok = PQntuples(res) == 0 || (text_array_parse(PQgetvalue(res, 0, 0), key) &&
								 text_array_parse(PQgetvalue(res, 0, 1), types));
	PQclear(res);
	if (!ok)
		err_set(err, EXIT_RUNTIME, "cannot read the key of table %u", table);
	return ok;
}

bool
shadow_data_range(PgConn *pc, const char *source_q, const char *column, bool zoned,
				  const char *time_zone, char **min_text, char **max_text, PgpError *err)
{
	StrBuf sql;
	PGresult *res;
	const char *params[1] = {time_zone};
	int i;

	sb_init(&sql);
	sb_append(&sql, "SELECT ");
	for (i = 0; i < 2; i++)
	{
		sb_append(&sql, i == 0 ? "(pg_catalog.min(" : ", (pg_catalog.max(");
		pgc_append_ident(pc, &sql, column);
		sb_append(&sql, zoned ? ") AT TIME ZONE $1)::date::text" : "))::date::text");
	}
	sb_appendf(&sql, " FROM ONLY %s WHERE $1::text IS NOT NULL", source_q);
	res = pgc_query(pc, sql.data, 1, params, err);
	sb_free(&sql);
	if (res == NULL)
		return false;
	*min_text = PQgetisnull(res, 0, 0) ? NULL : pg_xstrdup(PQgetvalue(res, 0, 0));
	*max_text = PQgetisnull(res, 0, 1) ? NULL : pg_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return true;
}

PGresult *
shadow_plan_facts(PgConn *pc, RelOid source, PgpError *err)
{
	return catalog_oid_query(pc,
							 "SELECT NULL, "
							 "       pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid)), "
							 "       (SELECT pg_catalog.string_agg(pg_catalog.format('%I (%s)', a.attname, "
							 "          CASE WHEN a.attidentity <> '' THEN 'identity: values are copied, "
							 "the sequence position is carried over at switch' "
							 "               WHEN a.attgenerated <> '' THEN 'generated: recomputed, not copied' "
							 "               ELSE 'serial: the sequence is shared, ownership moves at switch' END), '; ') "
							 "        FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
							 "        AND NOT a.attisdropped AND (a.attidentity <> '' OR a.attgenerated <> '' "
							 "        OR pg_catalog.pg_get_serial_sequence(c.oid::pg_catalog.regclass::text, a.attname) IS NOT NULL)), "
							 "       (SELECT pg_catalog.string_agg(pg_catalog.format('%I -> %s', con.conname, "
							 "          con.confrelid::pg_catalog.regclass), '; ') FROM pg_catalog.pg_constraint con "
							 "        WHERE con.conrelid = c.oid AND con.contype = 'f') "
							 "FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid",
							 source, err);
}

bool
shadow_create_table(PgConn *pc, const char *shadow_q, const char *source_q, const char *column,
					const char *tablespace, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "CREATE TABLE %s (LIKE %s INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (",
			   shadow_q, source_q);
	pgc_append_ident(pc, &sql, column);
	sb_append(&sql, ")");
	if (tablespace)
	{
		sb_append(&sql, " TABLESPACE ");
		pgc_append_ident(pc, &sql, tablespace);
	}
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	return ok;
}

bool
shadow_partition_storage(PgConn *pc, RelOid source, const char *shadow_q, PgpError *err)
{
	char oid[16];
	const char *params[2] = {oid, shadow_q};

	oid_text(source, oid, sizeof(oid));
	return pgc_change_each(pc,
						   "SELECT 'ALTER TABLE ' || i.inhrelid::pg_catalog.regclass::text || ' SET (' "
						   "  || pg_catalog.array_to_string(c.reloptions, ', ') || ')' "
						   "FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i "
						   "WHERE c.oid = $1::pg_catalog.oid AND c.reloptions IS NOT NULL "
						   "  AND i.inhparent = pg_catalog.to_regclass($2)",
						   2, params, err);
}

bool
shadow_oid(PgConn *pc, const char *shadow_q, RelOid *oid, PgpError *err)
{
	char *oid_txt = NULL;
	const char *params[1] = {shadow_q};

	if (!pgc_query_value(pc, "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::text", 1, params,
						 &oid_txt, err))
		return false;
	*oid = (RelOid) strtoul(oid_txt ? oid_txt : "0", NULL, 10);
	free(oid_txt);
	return true;
}

bool
shadow_name_of(PgConn *pc, RelOid shadow, char **shadow_q, PgpError *err)
{
	return catalog_regclass_text(pc, shadow, shadow_q, err);
}
