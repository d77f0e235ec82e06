/*
 * move_sql.c - the statements of "pgpart move" (see move_sql.h): the catalog
 * reads that describe what a copy must carry, the write guard, and each
 * step of the move itself (copy, snapshot wait, swap).  The DDL of indexes,
 * triggers and grants is written by the server (pg_get_indexdef, ...), so
 * names in it come quoted and qualified.
 */
#include "commands/move/move_sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "pg/partition.h"
#include "pg/privilege.h"
#include "pg/stmt.h"
#include "util/mem.h"

void
tierindexlist_free(TierIndexList *l)
{
	int i;

	for (i = 0; i < l->n; i++)
	{
		FREE_ALL(l->items[i].name, l->items[i].tmp_name, l->items[i].old_name,
				 l->items[i].create_sql, l->items[i].constraint_sql);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* column 0 of every row of a query with two text parameters */
static bool
collect2(PgConn *pc, const char *sql, const char *p1, const char *p2, NameList *into,
		 PgpError *err)
{
	const char *params[2] = {p1, p2};

	return namelist_add_query(pc, sql, 2, params, into, err);
}

/* ---- indexes ---- */

/*
 * pg_get_indexdef() prints "CREATE [UNIQUE] INDEX name ON table USING ...";
 * the part after the table is the definition to repeat on the copy.  The
 * prefix is computed the same way (quote_ident, regclass text) and checked,
 * so a definition of another shape is an error rather than a guess.
 */
static const char indexes_sql[] =
	"SELECT ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid), "
	"  'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' "
	"    || pg_catalog.quote_ident(ic.relname) || ' ON ' "
	"    || $1::pg_catalog.oid::pg_catalog.regclass::text || ' ', "
	"  CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END, "
	"  con.contype, con.condeferrable, con.condeferred, i.indisvalid "
	"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	"LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid "
	"  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u') "
	"WHERE i.indrelid = $1::pg_catalog.oid ORDER BY ic.relname";

/*
 * The name of the index of table copy_name that stands for index name of
 * part_name: the partition's name in it replaced by the copy's
 * ("revenues_2025_q1_pkey" -> "revenues_2025_01_pkey"), else the copy's
 * name and the whole index name
 */
static char *
index_name_for(const char *name, const char *part_name, const char *copy_name)
{
	size_t n = strlen(part_name);

	if (strncmp(name, part_name, n) == 0 && name[n] == '_' && name[n + 1] != '\0')
		return naming_derive(copy_name, name + n + 1);
	return naming_derive(copy_name, name);
}

static bool capture(PgConn *pc, RelOid part, const char *copy_q, const char *part_name,
					const char *copy_name, TierIndexList *list, PgpError *err);

bool
tiermove_capture_indexes(PgConn *pc, RelOid part, const char *copy_q, TierIndexList *list,
						 PgpError *err)
{
	return capture(pc, part, copy_q, NULL, NULL, list, err);
}

bool
tiermove_capture_indexes_as(PgConn *pc, RelOid part, const char *part_name, const char *copy_q,
							const char *copy_name, TierIndexList *list, PgpError *err)
{
	return capture(pc, part, copy_q, part_name, copy_name, list, err);
}

static bool
capture(PgConn *pc, RelOid part, const char *copy_q, const char *part_name,
		const char *copy_name, TierIndexList *list, PgpError *err)
{
	PGresult *res;
	int i;

	memset(list, 0, sizeof(*list));
	res = catalog_oid_query(pc, indexes_sql, part, err);
	if (res == NULL)
		return false;
	list->items = pg_xcalloc((size_t) PQntuples(res) + 1, sizeof(TierIndex));
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *name = PQgetvalue(res, i, 0);
		const char *def = PQgetvalue(res, i, 1);
		const char *prefix = PQgetvalue(res, i, 2);
		TierIndex *ix;
		char *tmp_q;

		if (PQgetvalue(res, i, 7)[0] != 't')
		{
			list->skipped_invalid++;
			continue;
		}
		if (strncmp(def, prefix, strlen(prefix)) != 0)
		{
			err_set(err, EXIT_RUNTIME, "unexpected definition of index \"%s\": %s", name, def);
			PQclear(res);
			return false;
		}
		ix = &list->items[list->n];
		ix->name = pg_xstrdup(name);
		ix->tmp_name = copy_name ? index_name_for(name, part_name, copy_name)
								 : naming_derive(name, "pgpart_move");
		ix->old_name = naming_derive(name, "pgpart_old");
		if (ix->tmp_name == NULL || ix->old_name == NULL)
		{
			err_set(err, EXIT_RUNTIME, "cannot derive a temporary name for index \"%s\"", name);
			list->n++;
			PQclear(res);
			return false;
		}
		tmp_q = pgc_quote_ident(pc, ix->tmp_name);
		ix->create_sql = pg_xasprintf("CREATE %sINDEX %s ON %s %s", PQgetvalue(res, i, 3), tmp_q,
									  copy_q, def + strlen(prefix));
		if (!PQgetisnull(res, i, 4))
			ix->constraint_sql = pg_xasprintf(
				"ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s%s%s", copy_q, tmp_q,
				PQgetvalue(res, i, 4)[0] == 'p' ? "PRIMARY KEY" : "UNIQUE", tmp_q,
				PQgetvalue(res, i, 5)[0] == 't' ? " DEFERRABLE" : "",
				PQgetvalue(res, i, 6)[0] == 't' ? " INITIALLY DEFERRED" : "");
		free(tmp_q);
		list->n++;
	}
	PQclear(res);
	return true;
}

/* ---- what stops a move ---- */

/* $1 the parent's OID, $2 the partition's (as text) */
static const char blockers_sql[] =
	"SELECT 'foreign key ' || pg_catalog.quote_ident(conname) || ' of ' "
	"       || conrelid::pg_catalog.regclass::text || ' references ' "
	"       || confrelid::pg_catalog.regclass::text "
	"       || ' (DETACH would check every referencing row while holding the table''s lock)' "
	"FROM pg_catalog.pg_constraint WHERE contype = 'f' "
	"  AND confrelid IN ($1::pg_catalog.oid, $2::pg_catalog.oid) "
	"UNION ALL "
	"SELECT 'it has exclusion constraint ' || pg_catalog.quote_ident(conname) "
	"       || ' (not carried over)' "
	"FROM pg_catalog.pg_constraint WHERE conrelid = $2::pg_catalog.oid AND contype = 'x' "
	"UNION ALL "
	"SELECT DISTINCT 'view ' || r.ev_class::pg_catalog.regclass::text "
	"       || ' depends on it (it would go on reading the old table)' "
	"FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
	"WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
	"  AND d.refobjid = $2::pg_catalog.oid AND r.ev_class <> $2::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'it has rule ' || pg_catalog.quote_ident(rulename) FROM pg_catalog.pg_rewrite "
	"WHERE ev_class = $2::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'it has row-level security policy ' || pg_catalog.quote_ident(polname) "
	"       || ' (not carried over)' "
	"FROM pg_catalog.pg_policy WHERE polrelid = $2::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'it is in publication ' || pg_catalog.quote_ident(p.pubname) "
	"FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid "
	"WHERE pr.prrelid = $2::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'sequence ' || d.objid::pg_catalog.regclass::text "
	"       || ' belongs to one of its columns (dropping the old table would drop it)' "
	"FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
	"WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
	"  AND d.refobjid = $2::pg_catalog.oid AND d.deptype = 'a' "
	"UNION ALL "
	"SELECT CASE relkind WHEN 'p' THEN 'it is partitioned itself (move its partitions instead)' "
	"       ELSE 'it is not a plain table (relkind ' || relkind::text || ')' END "
	"FROM pg_catalog.pg_class WHERE oid = $2::pg_catalog.oid AND relkind <> 'r' "
	"UNION ALL "
	"SELECT 'index ' || pi.indexrelid::pg_catalog.regclass::text "
	"       || ' of the table has no index on this partition yet (ATTACH would build it while "
	"holding the table''s lock; is \"pgpart index add\" still running?)' "
	"FROM pg_catalog.pg_index pi WHERE pi.indrelid = $1::pg_catalog.oid AND NOT EXISTS ("
	"  SELECT FROM pg_catalog.pg_inherits h JOIN pg_catalog.pg_index ci ON ci.indexrelid = h.inhrelid "
	"  WHERE h.inhparent = pi.indexrelid AND ci.indrelid = $2::pg_catalog.oid)";

bool
tiermove_blockers(PgConn *pc, RelOid parent, RelOid part, NameList *blockers, PgpError *err)
{
	char p1[16], p2[16];

	snprintf(p1, sizeof(p1), "%u", parent);
	snprintf(p2, sizeof(p2), "%u", part);
	return collect2(pc, blockers_sql, p1, p2, blockers, err);
}

/* ---- settings of the copy ---- */

bool
tiermove_column_settings(PgConn *pc, RelOid part, const char *copy_q, NameList *stmts,
						 PgpError *err)
{
	char oid[16];

	snprintf(oid, sizeof(oid), "%u", part);
	return collect2(
		pc,
		"SELECT 'ALTER TABLE ' || $2 || ' ALTER COLUMN ' || pg_catalog.quote_ident(attname) "
		"       || ' SET STATISTICS ' || attstattarget "
		"FROM pg_catalog.pg_attribute WHERE attrelid = $1::pg_catalog.oid AND attnum > 0 "
		"  AND NOT attisdropped AND attstattarget >= 0 "
		"UNION ALL "
		/* the planner's options; not what a server build may keep there for itself */
		"SELECT 'ALTER TABLE ' || $2 || ' ALTER COLUMN ' || pg_catalog.quote_ident(attname) "
		"       || ' SET (' || pg_catalog.string_agg(o, ', ') || ')' "
		"FROM pg_catalog.pg_attribute, pg_catalog.unnest(attoptions) o "
		"WHERE attrelid = $1::pg_catalog.oid AND attnum > 0 AND NOT attisdropped "
		"  AND o ~ '^n_distinct(_inherited)?=' GROUP BY attname, attnum",
		oid, copy_q, stmts, err);
}

bool
tiermove_reloptions(PgConn *pc, RelOid part, char **options, PgpError *err)
{
	return catalog_oid_value(
		pc,
		"SELECT NULLIF(pg_catalog.concat_ws(', ', pg_catalog.array_to_string(c.reloptions, ', '), "
		"  (SELECT pg_catalog.string_agg('toast.' || o, ', ') FROM pg_catalog.unnest(t.reloptions) o)), '') "
		"FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid "
		"WHERE c.oid = $1::pg_catalog.oid",
		part, options, err);
}

bool
tiermove_foreign_keys(PgConn *pc, RelOid part, const char *copy_q, NameList *add,
					  NameList *validate, PgpError *err)
{
	char oid[16];
	const char *params[2] = {oid, copy_q};
	PGresult *res;
	int i;

	snprintf(oid, sizeof(oid), "%u", part);
	res = pgc_query(
		pc,
		"SELECT 'ALTER TABLE ' || $2 || ' ADD CONSTRAINT ' || pg_catalog.quote_ident(conname) || ' ' "
		"       || pg_catalog.pg_get_constraintdef(oid) || CASE WHEN convalidated THEN ' NOT VALID' "
		"          ELSE '' END, "
		"  CASE WHEN convalidated THEN 'ALTER TABLE ' || $2 || ' VALIDATE CONSTRAINT ' "
		"       || pg_catalog.quote_ident(conname) END "
		"FROM pg_catalog.pg_constraint WHERE conrelid = $1::pg_catalog.oid AND contype = 'f' "
		"ORDER BY conname",
		2, params, err);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		namelist_add(add, PQgetvalue(res, i, 0));
		if (!PQgetisnull(res, i, 1))
			namelist_add(validate, PQgetvalue(res, i, 1));
	}
	PQclear(res);
	return true;
}

/* $1 a partition's OID, $2 the regclass text of the table that takes its place */
static const char carry_over_sql[] =
	"SELECT s FROM ("
	"SELECT 'ALTER TABLE ' || $2 || ' OWNER TO ' "
	"       || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(c.relowner)) AS s, 1 AS ord "
	"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'GRANT ' || a.privilege_type || ' ON ' || $2 || ' TO ' "
	"       || CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
	"          ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END "
	"       || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, 2 "
	"FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
	"WHERE c.oid = $1::pg_catalog.oid AND a.grantee <> c.relowner "
	"UNION ALL "
	"SELECT 'GRANT ' || a.privilege_type || ' (' || pg_catalog.quote_ident(att.attname) || ') ON ' "
	"       || $2 || ' TO ' "
	"       || CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
	"          ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END "
	"       || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, 3 "
	"FROM pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a "
	"WHERE att.attrelid = $1::pg_catalog.oid AND att.attacl IS NOT NULL AND NOT att.attisdropped "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $2 || ' ENABLE ROW LEVEL SECURITY', 4 "
	"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid AND c.relrowsecurity "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $2 || ' FORCE ROW LEVEL SECURITY', 5 "
	"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid AND c.relforcerowsecurity "
	") x ORDER BY ord";

/* $1 the partition's OID, $2 its regclass text: what only a copy under its names takes */
static const char after_rename_sql[] =
	"SELECT s FROM ("
	"SELECT 'COMMENT ON TABLE ' || $2 || ' IS ' "
	"       || COALESCE(pg_catalog.quote_literal(d.description), 'NULL') AS s, 1 AS ord, '' AS k "
	"FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid "
	"  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
	"WHERE c.oid = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $2 || ' REPLICA IDENTITY ' || CASE c.relreplident "
	"         WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING' "
	"         ELSE 'USING INDEX ' || (SELECT pg_catalog.quote_ident(ic.relname) "
	"           FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	"           WHERE i.indrelid = c.oid AND i.indisreplident) END, 5, '' "
	"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid AND c.relreplident IN ('f', 'n', 'i') "
	"UNION ALL "
	"SELECT 'COMMENT ON INDEX ' || pg_catalog.quote_ident(n.nspname) || '.' "
	"       || pg_catalog.quote_ident(ic.relname) || ' IS ' "
	"       || pg_catalog.quote_literal(d.description), 8, ic.relname::text "
	"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	"JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
	"JOIN pg_catalog.pg_description d ON d.objoid = ic.oid "
	"  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
	"WHERE i.indrelid = $1::pg_catalog.oid AND i.indisvalid "
	"UNION ALL "
	/* the partition's own triggers (not clones of the parent's, which ATTACH adds) */
	"SELECT pg_catalog.pg_get_triggerdef(t.oid), 9, t.tgname || '1' "
	"FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::pg_catalog.oid AND NOT t.tgisinternal "
	"  AND t.tgparentid = 0 AND t.tgname NOT IN ('" TIERMOVE_GUARD_ROW "', '" TIERMOVE_GUARD_TRUNCATE "') "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $2 || CASE t.tgenabled WHEN 'D' THEN ' DISABLE' "
	"         WHEN 'R' THEN ' ENABLE REPLICA' ELSE ' ENABLE ALWAYS' END "
	"       || ' TRIGGER ' || pg_catalog.quote_ident(t.tgname), 9, t.tgname || '2' "
	"FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::pg_catalog.oid AND NOT t.tgisinternal "
	"  AND t.tgparentid = 0 AND t.tgenabled <> 'O' "
	"  AND t.tgname NOT IN ('" TIERMOVE_GUARD_ROW "', '" TIERMOVE_GUARD_TRUNCATE "') "
	") x ORDER BY ord, k";

bool
tiermove_carry_over(PgConn *pc, RelOid part, const char *table_regclass, NameList *stmts,
					PgpError *err)
{
	char oid[16];

	snprintf(oid, sizeof(oid), "%u", part);
	return collect2(pc, carry_over_sql, oid, table_regclass, stmts, err);
}

bool
tiermove_after_rename(PgConn *pc, RelOid part, const char *part_regclass, NameList *stmts,
					  PgpError *err)
{
	char oid[16];

	snprintf(oid, sizeof(oid), "%u", part);
	return tiermove_carry_over(pc, part, part_regclass, stmts, err) &&
		   collect2(pc, after_rename_sql, oid, part_regclass, stmts, err);
}

/* ---- the guard ---- */

bool
tiermove_ensure_guard_function(PgConn *pc, PgpError *err)
{
	static const char body[] =
		"BEGIN\n"
		"  RAISE EXCEPTION USING ERRCODE = 'object_in_use',\n"
		"    MESSAGE = pg_catalog.format('partition %s.%s is being moved to tablespace %s by "
		"pgpart; retry after the move finishes',\n"
		"      pg_catalog.quote_ident(TG_TABLE_SCHEMA), pg_catalog.quote_ident(TG_TABLE_NAME), "
		"TG_ARGV[0]),\n"
		"    HINT = 'Rows of this range cannot change while the partition is copied. If no "
		"\"pgpart move\" is running, \"pgpart move TABLE PARTITION --tablespace NAME --abort\" "
		"removes this guard.';\n"
		"END";
	char *exists = NULL;
	StrBuf sql;
	bool ok;

	if (!pgc_query_value(pc,
						 "SELECT pg_catalog.to_regprocedure('" TIERMOVE_GUARD_FUNCTION "()')::text",
						 0, NULL, &exists, err))
		return false;
	if (exists)
	{
		free(exists);
		return true;
	}
	sb_init(&sql);
	sb_append(&sql, "CREATE FUNCTION " TIERMOVE_GUARD_FUNCTION "() RETURNS trigger "
					"LANGUAGE plpgsql SET search_path = '' AS ");
	pgc_append_literal(pc, &sql, body);
	/*
	 * Shared by every table: owned by pgpart's role (the owner of schema
	 * pgpart).  It only raises an error, as its invoker, so it needs no guard
	 * against other tables; revoked all the same, as every function of pgpart.
	 */
	ok = pgc_change(pc, sql.data, 0, NULL, err) &&
		 priv_secure_function(pc, TIERMOVE_GUARD_FUNCTION "()", 0, NULL, 0, err);
	sb_free(&sql);
	return ok;
}

static bool
enable_always(PgConn *pc, const char *table_q, PgpError *err)
{
	/* ALWAYS: writers with session_replication_role = replica are refused too */
	char *a = pg_xasprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER " TIERMOVE_GUARD_ROW, table_q);
	char *b = pg_xasprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER " TIERMOVE_GUARD_TRUNCATE, table_q);
	bool ok = pgc_change(pc, a, 0, NULL, err) && pgc_change(pc, b, 0, NULL, err);

	free(a);
	free(b);
	return ok;
}

bool
tiermove_install_guard(PgConn *pc, RelOid part, const char *table_q, const char *tablespace,
					   PgpError *err)
{
	int present = 0;
	bool intact = false;
	StrBuf sql, arg;
	bool ok;

	if (!tiermove_guard_state(pc, part, &present, &intact, err))
		return false;
	if (intact)
		return true;
	/* disarmed by an earlier cleanup: arm it again (no stronger lock than creating it) */
	if (present == 2)
		return enable_always(pc, table_q, err);
	if (present > 0 && !tiermove_drop_guard(pc, table_q, err))
		return false;
	sb_init(&sql);
	sb_init(&arg);
	pgc_append_literal(pc, &arg, tablespace);
	sb_appendf(&sql,
			   "CREATE TRIGGER " TIERMOVE_GUARD_ROW " BEFORE INSERT OR UPDATE OR DELETE ON %s "
			   "FOR EACH ROW EXECUTE FUNCTION " TIERMOVE_GUARD_FUNCTION "(%s)",
			   table_q, arg.data);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_reset(&sql);
	sb_appendf(&sql,
			   "CREATE TRIGGER " TIERMOVE_GUARD_TRUNCATE " BEFORE TRUNCATE ON %s "
			   "FOR EACH STATEMENT EXECUTE FUNCTION " TIERMOVE_GUARD_FUNCTION "(%s)",
			   table_q, arg.data);
	ok = ok && pgc_change(pc, sql.data, 0, NULL, err) && enable_always(pc, table_q, err);
	sb_free(&sql);
	sb_free(&arg);
	return ok;
}

bool
tiermove_disarm_guard(PgConn *pc, RelOid part, const char *table_q, PgpError *err)
{
	int present = 0;
	bool intact = false;
	char *a, *b;
	bool ok;

	if (!tiermove_guard_state(pc, part, &present, &intact, err))
		return false;
	if (present == 0)
		return true;
	if (present != 2)
		return tiermove_drop_guard(pc, table_q, err);
	a = pg_xasprintf("ALTER TABLE %s DISABLE TRIGGER " TIERMOVE_GUARD_ROW, table_q);
	b = pg_xasprintf("ALTER TABLE %s DISABLE TRIGGER " TIERMOVE_GUARD_TRUNCATE, table_q);
	ok = pgc_change(pc, a, 0, NULL, err) && pgc_change(pc, b, 0, NULL, err);
	free(a);
	free(b);
	return ok;
}

bool
tiermove_drop_guard(PgConn *pc, const char *table_q, PgpError *err)
{
	char *a = pg_xasprintf("DROP TRIGGER IF EXISTS " TIERMOVE_GUARD_ROW " ON %s", table_q);
	char *b = pg_xasprintf("DROP TRIGGER IF EXISTS " TIERMOVE_GUARD_TRUNCATE " ON %s", table_q);
	bool ok = pgc_change(pc, a, 0, NULL, err) && pgc_change(pc, b, 0, NULL, err);

	free(a);
	free(b);
	return ok;
}

bool
tiermove_guard_state(PgConn *pc, RelOid part, int *present, bool *intact, PgpError *err)
{
	PGresult *res;

	res = catalog_oid_query(
		pc,
		"SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE tgenabled = 'A') "
		"FROM pg_catalog.pg_trigger WHERE tgrelid = $1::pg_catalog.oid "
		"AND tgname IN ('" TIERMOVE_GUARD_ROW "', '" TIERMOVE_GUARD_TRUNCATE "')",
		part, err);
	if (res == NULL)
		return false;
	*present = atoi(PQgetvalue(res, 0, 0));
	*intact = atoi(PQgetvalue(res, 0, 1)) == 2;
	PQclear(res);
	return true;
}

bool
tiermove_find_table(PgConn *pc, const char *schema, const char *name, RelOid *oid,
					char **comment, PgpError *err)
{
	const char *params[2] = {schema, name};
	PGresult *res;

	*oid = 0;
	*comment = NULL;
	res = pgc_query(pc,
					/* a partition is never pgpart's leftover, whatever its comment */
					"SELECT c.oid, CASE WHEN NOT c.relispartition "
					"  THEN pg_catalog.obj_description(c.oid, 'pg_class') END "
					"FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					"WHERE n.nspname = $1 AND c.relname = $2",
					2, params, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
	{
		*oid = (RelOid) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
		if (!PQgetisnull(res, 0, 1))
			*comment = pg_xstrdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return true;
}

/* ---- the steps of the move itself (commands/move/move.c) ---- */

bool
tiermove_range_closed(PgConn *pc, KeyType key_type, const char *hi_text, const char *time_zone,
					  bool *closed, PgpError *err)
{
	const char *params[3];

	params[0] = key_type == KEY_TIMESTAMPTZ ? "timestamptz"
				: key_type == KEY_TIMESTAMP ? "timestamp"
											: "date";
	params[1] = hi_text;
	params[2] = time_zone;
	/* the whole range is in the past: its exclusive upper bound is not after now */
	return stmt_query_bool(
		pc,
		"SELECT CASE $1 WHEN 'timestamptz' THEN $2::pg_catalog.timestamptz <= pg_catalog.now() "
		"  WHEN 'timestamp' THEN $2::pg_catalog.timestamp <= pg_catalog.timezone($3, pg_catalog.now()) "
		"  ELSE $2::pg_catalog.date <= pg_catalog.timezone($3, pg_catalog.now())::pg_catalog.date END",
		3, params, closed, err);
}

bool
tiermove_tablespace(PgConn *pc, const char *name, char **spcname, bool *may_create,
					PgpError *err)
{
	const char *params[1] = {name};

	return stmt_text_and_flags(pc,
							   "SELECT s.spcname, pg_catalog.has_tablespace_privilege(s.oid, 'CREATE') "
							   "  OR s.oid = d.dattablespace "
							   "FROM pg_catalog.pg_tablespace s, pg_catalog.pg_database d "
							   "WHERE s.spcname = $1 AND d.datname = pg_catalog.current_database()",
							   1, params, spcname, 1, may_create, err);
}

bool
tiermove_current_place(PgConn *pc, RelOid part, const char *target, char **from, bool *there,
					   bool *unlogged, PgpError *err)
{
	char oid[16];
	const char *params[2] = {oid, target};
	bool facts[2];

	snprintf(oid, sizeof(oid), "%u", part);
	if (!stmt_text_and_flags(
			pc,
			"WITH d AS (SELECT ds.spcname FROM pg_catalog.pg_database db "
			"  JOIN pg_catalog.pg_tablespace ds ON ds.oid = db.dattablespace "
			"  WHERE db.datname = pg_catalog.current_database()) "
			"SELECT COALESCE(t.spcname, d.spcname), "
			"  COALESCE(t.spcname, d.spcname) = $2 AND NOT EXISTS ("
			"    SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
			"    LEFT JOIN pg_catalog.pg_tablespace it ON it.oid = ic.reltablespace "
			"    WHERE i.indrelid = c.oid AND COALESCE(it.spcname, d.spcname) <> $2), "
			"  c.relpersistence = 'u' "
			"FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace, d "
			"WHERE c.oid = $1::pg_catalog.oid",
			2, params, from, 2, facts, err))
		return false;
	*there = facts[0];
	*unlogged = facts[1];
	return true;
}

bool
tiermove_lock_exclusive(PgConn *pc, const char *table_q, bool only, PgpError *err)
{
	return stmt_change_f(pc, err, "LOCK TABLE %s%s IN ACCESS EXCLUSIVE MODE", only ? "ONLY " : "",
					table_q);
}

bool
tiermove_lock_writers_out(PgConn *pc, const char *table_q, PgpError *err)
{
	return stmt_change_f(pc, err, "LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", table_q);
}

bool
tiermove_drop_table(PgConn *pc, const char *table_q, PgpError *err)
{
	return stmt_change_f(pc, err, "DROP TABLE IF EXISTS %s", table_q);
}

bool
tiermove_comment(PgConn *pc, const char *table_q, const char *comment, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "COMMENT ON TABLE %s IS ", table_q);
	if (comment)
		pgc_append_literal(pc, &sql, comment);
	else
		sb_append(&sql, "NULL");
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	return ok;
}

bool
tiermove_create_copy(PgConn *pc, const TierCopy *c, PgpError *err)
{
	const char *params[1] = {c->tablespace ? c->tablespace : ""};
	StrBuf sql;
	bool ok;

	/* indexes and constraint indexes built later in the transaction land in the target too */
	if (!pgc_change(pc, "SELECT pg_catalog.set_config('default_tablespace', $1, true)", 1, params,
					err))
		return false;
	/*
	 * LIKE the partition: its columns (in its order, no dropped ones, which
	 * are exactly the parent's), defaults, CHECK and NOT NULL constraints,
	 * generated columns, storage, compression, comments and extended
	 * statistics.  Identity stays on the parent; indexes come after the rows.
	 */
	sb_init(&sql);
	sb_appendf(&sql, "CREATE %sTABLE %s (LIKE %s INCLUDING ALL EXCLUDING IDENTITY EXCLUDING INDEXES, ",
			   c->unlogged ? "UNLOGGED " : "", c->copy_q, c->part_q);
	sb_append(&sql, "CONSTRAINT " TIERMOVE_BOUNDS_CONSTRAINT " CHECK (");
	partition_append_bounds(pc, &sql, c->column, c->lo_text, c->hi_text);
	sb_append(&sql, ")");
	sb_append(&sql, ")");
	if (c->reloptions)
		sb_appendf(&sql, " WITH (%s)", c->reloptions);
	if (c->tablespace)
	{
		sb_append(&sql, " TABLESPACE ");
		pgc_append_ident(pc, &sql, c->tablespace);
	}
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	return ok;
}

bool
tiermove_copy_rows(PgConn *pc, const char *copy_q, const char *part_q, const char *columns,
				   long *rows, char **xid, PgpError *err)
{
	char *sql = pg_xasprintf("INSERT INTO %s (%s) SELECT %s FROM ONLY %s", copy_q, columns,
							 columns, part_q);
	PGresult *res;

	*rows = 0;
	*xid = NULL;
	if (pc->dry_run)
	{
		bool ok = pgc_change(pc, sql, 0, NULL, err);

		free(sql);
		return ok;
	}
	res = pgc_query_change(pc, sql, 0, NULL, err);
	free(sql);
	if (res == NULL)
		return false;
	*rows = atol(PQcmdTuples(res));
	PQclear(res);
	return pgc_query_value(pc, "SELECT pg_catalog.pg_current_xact_id()::pg_catalog.xid::text", 0,
						   NULL, xid, err);
}

bool
tiermove_analyze(PgConn *pc, const char *table_q, PgpError *err)
{
	return stmt_change_f(pc, err, "ANALYZE %s", table_q);
}

bool
tiermove_old_snapshots(PgConn *pc, const char *xid, char **vxids, PgpError *err)
{
	const char *params[1] = {xid};

	/* named by their virtual xid: their ends are waited for, not new transactions of theirs */
	return pgc_query_value(pc,
						   "SELECT pg_catalog.string_agg(l.virtualxid, ',') "
						   "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
						   "WHERE l.locktype = 'virtualxid' AND l.virtualxid = l.virtualtransaction "
						   "AND a.pid <> pg_catalog.pg_backend_pid() AND a.backend_xmin IS NOT NULL "
						   "AND a.backend_type IS DISTINCT FROM 'autovacuum worker' "
						   "AND pg_catalog.age(a.backend_xmin) >= pg_catalog.age($1::pg_catalog.xid)",
						   1, params, vxids, err);
}

bool
tiermove_still_open(PgConn *pc, const char *vxids, char **left, PgpError *err)
{
	const char *params[1] = {vxids};

	return pgc_query_value(pc,
						   "SELECT pg_catalog.string_agg(virtualxid || ' (pid ' || pid || ')', ', ') "
						   "FROM pg_catalog.pg_locks WHERE locktype = 'virtualxid' "
						   "AND virtualxid = ANY (pg_catalog.string_to_array($1, ','))",
						   1, params, left, err);
}

bool
tiermove_exchange(PgConn *pc, const char *parent_q, const char *part_q, const char *copy_q,
				  const char *bound_sql, PgpError *err)
{
	return stmt_change_f(pc, err, "ALTER TABLE %s DETACH PARTITION %s", parent_q, part_q) &&
		   stmt_change_f(pc, err, "ALTER TABLE %s ATTACH PARTITION %s %s", parent_q, copy_q, bound_sql);
}

bool
tiermove_rename(PgConn *pc, bool index, const char *schema, const char *from, const char *to,
				PgpError *err)
{
	char *from_q = pgc_quote_qualified(pc, schema, from);
	char *to_q = pgc_quote_ident(pc, to);
	bool ok = stmt_change_f(pc, err, "ALTER %s %s RENAME TO %s", index ? "INDEX" : "TABLE", from_q,
					   to_q);

	free(from_q);
	free(to_q);
	return ok;
}

bool
tiermove_partition_bound(PgConn *pc, RelOid part, char **bound_sql, PgpError *err)
{
	return catalog_oid_value(pc,
					 "SELECT pg_catalog.pg_get_expr(relpartbound, oid) FROM pg_catalog.pg_class "
					 "WHERE oid = $1::pg_catalog.oid",
					 part, bound_sql, err);
}

bool
tiermove_total_size(PgConn *pc, const char *regclass, long long *bytes, PgpError *err)
{
	const char *params[1] = {regclass};

	return stmt_query_number(pc, "SELECT pg_catalog.pg_total_relation_size($1::pg_catalog.regclass)",
							 1, params, bytes, err);
}
