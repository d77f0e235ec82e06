#include "commands/migrate/shadow_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
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

	res = pgc_query(pc, extras_sql, 3, params, err);
	if (res == NULL)
		goto done;
	for (i = 0; i < PQntuples(res); i++)
		namelist_add(stmts, PQgetvalue(res, i, 0));
	PQclear(res);
	ok = true;
done:
	free(shadow);
	free(col);
	return ok;
}

bool
shadow_swap_index_names(PgConn *pc, RelOid from, RelOid to, const char *suffix_from,
						const char *suffix_to, PgpError *err)
{
	char a[16], b[16];
	const char *params[2] = {a, b};
	PGresult *res;
	int i;
	bool ok = true;

	oid_text(from, a, sizeof(a));
	oid_text(to, b, sizeof(b));
	res = pgc_query(pc,
					"SELECT n.nspname, c.relname FROM pg_catalog.pg_index i "
					"JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
					"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					"WHERE i.indrelid = $1::pg_catalog.oid AND $2::text IS NOT NULL ORDER BY 2",
					2, params, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *schema = PQgetvalue(res, i, 0);
		const char *name = PQgetvalue(res, i, 1);
		char *parked = naming_derive(name, suffix_from);
		char *sibling = naming_derive(name, suffix_to);
		char *exists = NULL;
		const char *p2[3] = {b, sibling, schema};

		ok = pgc_query_value(pc,
							 "SELECT 1 FROM pg_catalog.pg_index i "
							 "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
							 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							 "WHERE i.indrelid = $1::pg_catalog.oid AND c.relname = $2 "
							 "AND n.nspname = $3",
							 3, p2, &exists, err);
		if (ok && exists)
		{
			StrBuf sql;

			sb_init(&sql);
			sb_append(&sql, "ALTER INDEX ");
			pgc_append_qualified(pc, &sql, schema, name);
			sb_append(&sql, " RENAME TO ");
			pgc_append_ident(pc, &sql, parked);
			ok = pgc_change(pc, sql.data, 0, NULL, err);
			sb_reset(&sql);
			sb_append(&sql, "ALTER INDEX ");
			pgc_append_qualified(pc, &sql, schema, sibling);
			sb_append(&sql, " RENAME TO ");
			pgc_append_ident(pc, &sql, name);
			ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
			sb_free(&sql);
		}
		free(exists);
		free(parked);
		free(sibling);
	}
	PQclear(res);
	return ok;
}

bool
shadow_copy_identity_positions(PgConn *pc, RelOid from, RelOid to, PgpError *err)
{
	char a[16], b[16];
	const char *params[2] = {a, b};

	oid_text(from, a, sizeof(a));
	oid_text(to, b, sizeof(b));
	return pgc_change(
		pc,
		"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
		"         $2::pg_catalog.oid::pg_catalog.regclass::text, a.attname), "
		"       COALESCE(s.last_value, s.start_value), s.last_value IS NOT NULL) "
		"FROM pg_catalog.pg_attribute a "
		"JOIN pg_catalog.pg_sequences s ON pg_catalog.format('%I.%I', s.schemaname, s.sequencename) "
		"  = pg_catalog.pg_get_serial_sequence($1::pg_catalog.oid::pg_catalog.regclass::text, a.attname) "
		"WHERE a.attrelid = $1::pg_catalog.oid AND a.attidentity <> '' AND NOT a.attisdropped",
		2, params, err);
}

bool
shadow_move_owned_sequences(PgConn *pc, RelOid from, RelOid to, PgpError *err)
{
	char a[16], b[16];
	const char *params[2] = {a, b};
	PGresult *res;
	int i;
	bool ok = true;

	oid_text(from, a, sizeof(a));
	oid_text(to, b, sizeof(b));
	res = pgc_query(pc,
					"SELECT 'ALTER SEQUENCE ' || d.objid::pg_catalog.regclass::text || ' OWNED BY ' "
					"       || $2::pg_catalog.oid::pg_catalog.regclass::text || '.' "
					"       || pg_catalog.quote_ident(a.attname) "
					"FROM pg_catalog.pg_depend d "
					"JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
					"JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid "
					"  AND a.attnum = d.refobjsubid "
					"WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
					"  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
					"  AND d.refobjid = $1::pg_catalog.oid AND d.deptype = 'a'",
					2, params, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
		ok = pgc_change(pc, PQgetvalue(res, i, 0), 0, NULL, err);
	PQclear(res);
	return ok;
}

bool
shadow_swap_identity_sequence_names(PgConn *pc, RelOid from, RelOid to, const char *suffix_from,
									PgpError *err)
{
	char a[16], b[16];
	const char *params[2] = {a, b};
	PGresult *res;
	int i;
	bool ok = true;

	oid_text(from, a, sizeof(a));
	oid_text(to, b, sizeof(b));
	/* identity sequences, by column: from's (the name to keep) and to's */
	res = pgc_query(pc,
					"SELECT n.nspname, fs.relname, pg_catalog.pg_get_serial_sequence("
					"         $2::pg_catalog.oid::pg_catalog.regclass::text, a.attname) "
					"FROM pg_catalog.pg_attribute a "
					"JOIN pg_catalog.pg_class fs ON fs.oid = pg_catalog.pg_get_serial_sequence("
					"       $1::pg_catalog.oid::pg_catalog.regclass::text, a.attname)::pg_catalog.regclass "
					"JOIN pg_catalog.pg_namespace n ON n.oid = fs.relnamespace "
					"WHERE a.attrelid = $1::pg_catalog.oid AND a.attidentity <> '' AND NOT a.attisdropped",
					2, params, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *schema = PQgetvalue(res, i, 0);
		const char *name = PQgetvalue(res, i, 1);
		char *parked = naming_derive(name, suffix_from);
		StrBuf sql;

		if (PQgetisnull(res, i, 2))
		{
			free(parked);
			continue;
		}
		sb_init(&sql);
		sb_append(&sql, "ALTER SEQUENCE ");
		pgc_append_qualified(pc, &sql, schema, name);
		sb_append(&sql, " RENAME TO ");
		pgc_append_ident(pc, &sql, parked);
		ok = pgc_change(pc, sql.data, 0, NULL, err);
		sb_reset(&sql);
		sb_appendf(&sql, "ALTER SEQUENCE %s RENAME TO ", PQgetvalue(res, i, 2));
		pgc_append_ident(pc, &sql, name);
		ok = ok && pgc_change(pc, sql.data, 0, NULL, err);
		sb_free(&sql);
		free(parked);
	}
	PQclear(res);
	return ok;
}
