/*
 * companion.c - the companion partitioned table that holds the foreign
 * partitions of a table with unique indexes, and the view over both.
 *
 * Why a companion and not something else: PostgreSQL builds a unique index
 * of a partitioned table from one index per partition, and a foreign table
 * has none, so ATTACH of a foreign partition under a primary key is refused.
 * Dropping the key is not ours to do, and a view over the table plus loose
 * foreign tables would lose partition pruning.  A second partitioned table
 * keyed like the first keeps both: WHERE on the key prunes the partitions of
 * each branch of the view, and old rows stay reachable with plain SQL.
 */
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "pg/citus.h"
#include "pg/companion.h"
#include "pg/stmt.h"
#include "util/mem.h"
#include "util/strbuf.h"

#define COMPANION_SUFFIX "pgpart_foreign"
#define VIEW_SUFFIX "pgpart_all"

void
foreign_home_free(ForeignHome *home)
{
	free(home->schema);
	free(home->name);
	free(home->view_name);
	memset(home, 0, sizeof(*home));
}

/* $1: the table as regclass text */
static const char find_sql[] =
	"SELECT n.nspname, fp.relname, fv.relname, fp.oid "
	"FROM pgpart.part_config c "
	"JOIN pg_catalog.pg_class fp ON fp.oid = c.foreign_parent AND fp.relkind = 'p' "
	"JOIN pg_catalog.pg_namespace n ON n.oid = fp.relnamespace "
	"LEFT JOIN pg_catalog.pg_class fv ON fv.oid = c.foreign_view AND fv.relkind = 'v' "
	"  AND fv.relnamespace = fp.relnamespace "
	"WHERE c.parent_table = $1::pg_catalog.regclass";

bool
companion_find(PgConn *pc, const char *schema, const char *table, ForeignHome *home,
			   PgpError *err)
{
	char *q = pgc_quote_qualified(pc, schema, table);
	const char *params[1] = {q};
	PGresult *r = pgc_query(pc, find_sql, 1, params, err);

	memset(home, 0, sizeof(*home));
	free(q);
	if (r == NULL)
		return false;
	if (PQntuples(r) > 0)
	{
		home->schema = pg_xstrdup(PQgetvalue(r, 0, 0));
		home->name = pg_xstrdup(PQgetvalue(r, 0, 1));
		home->companion = true;
		home->view_name = PQgetisnull(r, 0, 2) ? NULL : pg_xstrdup(PQgetvalue(r, 0, 2));
		home->oid = (RelOid) strtoul(PQgetvalue(r, 0, 3), NULL, 10);
	}
	PQclear(r);
	return true;
}

/*
 * What decides the home, in one look: unique indexes, row security, the
 * owner (when it is not us), the key column, and whether the columns of a
 * recorded companion still match the table's (names and types, in any order:
 * what ATTACH compares).  $1 the table, $2 the companion or NULL.
 */
static const char facts_sql[] =
	"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
	"    WHERE i.indrelid = t.oid AND i.indisunique), "
	"  t.relrowsecurity, "
	"  CASE WHEN t.relowner <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER) "
	"    THEN pg_catalog.pg_get_userbyid(t.relowner) END, "
	"  (SELECT c.part_column FROM pgpart.part_config c WHERE c.parent_table = t.oid), "
	"  $2::pg_catalog.regclass IS NULL OR NOT EXISTS ("
	"    (SELECT a.attname, a.atttypid, a.atttypmod FROM pg_catalog.pg_attribute a "
	"      WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped "
	"     EXCEPT SELECT a.attname, a.atttypid, a.atttypmod FROM pg_catalog.pg_attribute a "
	"      WHERE a.attrelid = $2::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped) "
	"    UNION ALL "
	"    (SELECT a.attname, a.atttypid, a.atttypmod FROM pg_catalog.pg_attribute a "
	"      WHERE a.attrelid = $2::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped "
	"     EXCEPT SELECT a.attname, a.atttypid, a.atttypmod FROM pg_catalog.pg_attribute a "
	"      WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped)), "
	"  EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.oid "
	"    AND a.attgenerated <> '' AND NOT a.attisdropped), "
	"  t.oid "
	"FROM pg_catalog.pg_class t WHERE t.oid = $1::pg_catalog.regclass";

/*
 * $1 the table, $2 the companion or the view (regclass text): each role's
 * rights on it brought in line with the table's, SELECT or nothing.  First
 * REVOKE ALL from whoever holds more or other than the table allows (a
 * revoke on the table, a default privilege of the role that made it), then
 * GRANT SELECT to whoever may read the table and cannot read this.
 */
static const char revokes_sql[] =
	"SELECT DISTINCT 'REVOKE ALL ON ' || $2 || ' FROM ' "
	"  || CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
	"     ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END "
	"FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
	"WHERE c.oid = $2::pg_catalog.regclass AND a.grantee <> c.relowner "
	"  AND (a.privilege_type <> 'SELECT' OR a.is_grantable OR NOT EXISTS ("
	"    SELECT 1 FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) b "
	"    WHERE t.oid = $1::pg_catalog.regclass AND b.grantee = a.grantee "
	"      AND b.privilege_type = 'SELECT'))";
static const char grants_sql[] =
	"SELECT 'GRANT SELECT ON ' || $2 || ' TO ' "
	"  || CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
	"     ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END "
	"FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
	"WHERE c.oid = $1::pg_catalog.regclass AND a.grantee <> c.relowner "
	"  AND a.privilege_type = 'SELECT' AND NOT EXISTS ("
	"    SELECT 1 FROM pg_catalog.pg_class x, pg_catalog.aclexplode(x.relacl) b "
	"    WHERE x.oid = $2::pg_catalog.regclass AND b.grantee = a.grantee "
	"      AND b.privilege_type = 'SELECT') "
	"ORDER BY 1";
/*
 * $1 the table, $2 the companion: row security as the table's.  With no
 * policy on the companion, enabled means nobody but its owner reads it.
 */
static const char rowsec_sql[] =
	"SELECT 'ALTER TABLE ' || $2 || CASE WHEN t.relrowsecurity THEN ' ENABLE' ELSE ' DISABLE' END "
	"  || ' ROW LEVEL SECURITY' "
	"FROM pg_catalog.pg_class t, pg_catalog.pg_class c "
	"WHERE t.oid = $1::pg_catalog.regclass AND c.oid = $2::pg_catalog.regclass "
	"  AND t.relrowsecurity <> c.relrowsecurity "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $2 || CASE WHEN t.relforcerowsecurity THEN ' FORCE' ELSE ' NO FORCE' END "
	"  || ' ROW LEVEL SECURITY' "
	"FROM pg_catalog.pg_class t, pg_catalog.pg_class c "
	"WHERE t.oid = $1::pg_catalog.regclass AND c.oid = $2::pg_catalog.regclass "
	"  AND t.relforcerowsecurity <> c.relforcerowsecurity";

/* the table's columns, quoted, in their order: the view's select list */
static const char columns_sql[] =
	"SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) "
	"FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.regclass "
	"  AND a.attnum > 0 AND NOT a.attisdropped";

/* a relation of that name exists in the schema */
static bool
name_taken(PgConn *pc, const char *schema, const char *name, bool *taken, PgpError *err)
{
	const char *params[2] = {schema, name};

	return stmt_query_bool(pc,
						   "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
						   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						   "WHERE n.nspname = $1 AND c.relname = $2)",
						   2, params, taken, err);
}

/* target's (regclass text) rights as the table's (SELECT or nothing); its row security too */
static bool
repeat_grants(PgConn *pc, const char *table_q, const char *target_q, bool rowsec,
			  PgpError *err)
{
	const char *params[2] = {table_q, target_q};

	return pgc_change_each(pc, revokes_sql, 2, params, err) &&
		   pgc_change_each(pc, grants_sql, 2, params, err) &&
		   (!rowsec || pgc_change_each(pc, rowsec_sql, 2, params, err));
}

/* the companion's and its view's rights (and the companion's row security) as the table's */
static bool
sync_home(PgConn *pc, const char *table_q, const ForeignHome *home, PgpError *err)
{
	char *comp_q = pgc_quote_qualified(pc, home->schema, home->name);
	bool ok = repeat_grants(pc, table_q, comp_q, true, err);

	if (ok && home->view_name)
	{
		char *view_q = pgc_quote_qualified(pc, home->schema, home->view_name);

		ok = repeat_grants(pc, table_q, view_q, false, err);
		free(view_q);
	}
	free(comp_q);
	return ok;
}

/* the view over the table and its companion, the table's owner's, with its SELECT grants */
static bool
make_view(PgConn *pc, const char *table_q, const char *owner_q, const char *comp_q,
		  const char *view_q, PgpError *err)
{
	const char *params[1] = {table_q};
	const char *rp[2] = {view_q, table_q};
	char *cols = NULL;
	bool ok;

	if (!pgc_query_value(pc, columns_sql, 1, params, &cols, err))
		return false;
	/* security_invoker: each branch is read with the reader's own grants */
	ok = stmt_change_f(pc, err,
					   "CREATE VIEW %s WITH (security_invoker = true) AS "
					   "SELECT %s FROM %s UNION ALL SELECT %s FROM %s",
					   view_q, cols ? cols : "", table_q, cols ? cols : "", comp_q) &&
		 (owner_q == NULL || stmt_change_f(pc, err, "ALTER VIEW %s OWNER TO %s", view_q, owner_q)) &&
		 pgc_change(pc,
					"UPDATE pgpart.part_config SET foreign_view = $1::pg_catalog.regclass "
					"WHERE parent_table = $2::pg_catalog.regclass",
					2, rp, err) &&
		 repeat_grants(pc, table_q, view_q, false, err);
	free(cols);
	return ok;
}

/* the companion itself: the table's columns, its key, no index */
static bool
make_table(PgConn *pc, const char *table_q, const char *owner_q, const char *column,
		   const char *comp_q, PgpError *err)
{
	const char *rp[2] = {comp_q, table_q};
	char *col_q = pgc_quote_ident(pc, column);
	bool ok;

	/* LIKE without INCLUDING: the columns, their types and NOT NULL; no key, no index */
	ok = stmt_change_f(pc, err, "CREATE TABLE %s (LIKE %s) PARTITION BY RANGE (%s)", comp_q,
					   table_q, col_q) &&
		 (owner_q == NULL ||
		  stmt_change_f(pc, err, "ALTER TABLE %s OWNER TO %s", comp_q, owner_q)) &&
		 stmt_change_f(pc, err,
					   "COMMENT ON TABLE %s IS 'pgpart: the archived and remote partitions of "
					   "the table beside it (read both through the view)'",
					   comp_q) &&
		 pgc_change(pc,
					"UPDATE pgpart.part_config SET foreign_parent = $1::pg_catalog.regclass "
					"WHERE parent_table = $2::pg_catalog.regclass",
					2, rp, err) &&
		 repeat_grants(pc, table_q, comp_q, true, err);
	free(col_q);
	return ok;
}

/*
 * What is missing of home (the companion, or only its view, dropped by
 * someone since), made under the names pgpart derives, when they are free
 */
static bool
make_missing(PgConn *pc, const char *schema, const char *table, const char *table_q,
			 const char *owner, const char *column, ForeignHome *home, char **why, PgpError *err)
{
	bool make_comp = home->name == NULL, taken = false, ok = true;
	char *comp_q, *view_q, *owner_q;

	if (make_comp)
	{
		home->schema = pg_xstrdup(schema);
		home->name = naming_derive(table, COMPANION_SUFFIX);
		home->companion = true;
	}
	home->view_name = naming_derive(table, VIEW_SUFFIX);
	if (home->name == NULL || home->view_name == NULL)
	{
		*why = pg_xstrdup("the table's name leaves no room for its companion's name");
		return true;
	}
	if ((make_comp && !name_taken(pc, schema, home->name, &taken, err)) ||
		(!taken && !name_taken(pc, schema, home->view_name, &taken, err)))
		return false;
	if (taken)
	{
		*why = pg_xasprintf("%s.%s or %s.%s exists already and is not this table's companion "
							"or its view",
							schema, home->name, schema, home->view_name);
		return true;
	}
	comp_q = pgc_quote_qualified(pc, home->schema, home->name);
	view_q = pgc_quote_qualified(pc, home->schema, home->view_name);
	owner_q = owner ? pgc_quote_ident(pc, owner) : NULL;
	ok = (!make_comp || make_table(pc, table_q, owner_q, column, comp_q, err)) &&
		 make_view(pc, table_q, owner_q, comp_q, view_q, err);
	free(owner_q);
	free(comp_q);
	free(view_q);
	return ok;
}

bool
companion_prepare(PgConn *pc, const char *schema, const char *table, ForeignHome *home,
				  char **why, PgpError *err)
{
	char *table_q = pgc_quote_qualified(pc, schema, table);
	char *comp_regclass = NULL;
	const char *params[2];
	PGresult *r;
	bool unique, rowsec, columns_match, generated, distributed = false, ok = false;
	RelOid oid;
	char *owner = NULL, *column = NULL;

	*why = NULL;
	if (!companion_find(pc, schema, table, home, err))
		goto out;
	if (home->name)
		comp_regclass = pgc_quote_qualified(pc, home->schema, home->name);
	params[0] = table_q;
	params[1] = comp_regclass;
	if ((r = pgc_query(pc, facts_sql, 2, params, err)) == NULL)
		goto out;
	if (PQntuples(r) == 0)
	{
		PQclear(r);
		err_set(err, EXIT_USAGE, "table %s.%s does not exist", schema, table);
		goto out;
	}
	unique = PQgetvalue(r, 0, 0)[0] == 't';
	rowsec = PQgetvalue(r, 0, 1)[0] == 't';
	owner = PQgetisnull(r, 0, 2) ? NULL : pg_xstrdup(PQgetvalue(r, 0, 2));
	column = PQgetisnull(r, 0, 3) ? NULL : pg_xstrdup(PQgetvalue(r, 0, 3));
	columns_match = PQgetvalue(r, 0, 4)[0] == 't';
	generated = PQgetvalue(r, 0, 5)[0] == 't';
	oid = (RelOid) strtoul(PQgetvalue(r, 0, 6), NULL, 10);
	PQclear(r);
	/* a local companion beside a distributed table: Citus would plan the view across both */
	if (!citus_is_managed(pc, oid, &distributed, err))
		goto out;
	ok = true;
	/* an existing companion follows the table's grants and row security first, whatever comes next */
	if (home->name && !(ok = sync_home(pc, table_q, home, err)))
		goto out;
	if (distributed && unique && home->name == NULL)
		*why = pg_xstrdup("the table is distributed by Citus, and a companion table would be local "
						  "to the coordinator");
	else if (!unique && home->name == NULL)
	{
		/* the table takes its foreign partitions itself */
		home->schema = pg_xstrdup(schema);
		home->name = pg_xstrdup(table);
		home->companion = false;
	}
	else if (rowsec)
		*why = pg_xstrdup("the table has row security, whose policies would not guard the "
						  "companion table its old rows would be read from");
	else if (generated)
		*why = pg_xstrdup("the table has generated columns");
	else if (column == NULL)
		*why = pg_xstrdup("the table is not managed by pgpart");
	else if (home->name && !columns_match)
		*why = pg_xasprintf("the table's columns differ from those of its companion %s.%s, made "
							"before they changed",
							home->schema, home->name);
	else if (home->name == NULL || home->view_name == NULL)
		ok = make_missing(pc, schema, table, table_q, owner, column, home, why, err);
out:
	if (!ok || *why)
		foreign_home_free(home);
	free(owner);
	free(column);
	free(comp_regclass);
	free(table_q);
	return ok;
}

bool
companion_sync(PgConn *pc, const char *schema, const char *table, PgpError *err)
{
	ForeignHome home;
	char *table_q;
	bool ok;

	if (!companion_find(pc, schema, table, &home, err))
		return false;
	if (home.name == NULL)
		return true;
	table_q = pgc_quote_qualified(pc, schema, table);
	ok = sync_home(pc, table_q, &home, err);
	free(table_q);
	foreign_home_free(&home);
	return ok;
}
