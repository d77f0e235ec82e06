/*
 * privilege.c - makes every function pgpart creates private to the owner of the
 * table it serves, in the transaction that creates it, and writes the guard
 * that makes a trigger function refuse any relation but its own; attaches
 * those functions as triggers that fire for every writer, and drops them.
 */
#include "pg/privilege.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/catalog.h"
#include "util/mem.h"

/*
 * What the owner of a rollup's trigger functions needs: they mark buckets in
 * pgpart.rollup_dirty and, when the table's OID is not the one they were
 * made with, look the table up in pgpart.rollup.  A migration's look up
 * pgpart.migration (the copies they write belong to the table's owner).
 */
const PrivNeed priv_rollup_needs[] = {
	{"schema", "pgpart", "USAGE"},
	{"table", "pgpart.rollup_dirty", "INSERT"},
	{"table", "pgpart.rollup", "SELECT"},
};
const int priv_rollup_nneeds = 3;
const PrivNeed priv_migration_needs[] = {
	{"schema", "pgpart", "USAGE"},
	{"table", "pgpart.migration", "SELECT"},
};
const int priv_migration_nneeds = 2;

static bool
grant_needs(PgConn *pc, const char *role, const char *role_q, const PrivNeed *needs, int nneeds,
			PgpError *err)
{
	int i;
	bool ok = true;

	for (i = 0; ok && i < nneeds; i++)
	{
		const PrivNeed *n = &needs[i];
		const char *params[3] = {role, n->object, n->privilege};
		bool schema = strcmp(n->kind, "schema") == 0;
		char *has = NULL;

		ok = pgc_query_value(pc,
							 schema ? "SELECT pg_catalog.has_schema_privilege($1, $2, $3)::text"
									: "SELECT pg_catalog.has_table_privilege($1, $2, $3)::text",
							 3, params, &has, err);
		if (ok && (has == NULL || strcmp(has, "true") != 0))
		{
			/* object and privilege are pgpart's own constants, never input */
			char *sql = pg_xasprintf("GRANT %s ON %s%s TO %s", n->privilege,
									 schema ? "SCHEMA " : "", n->object, role_q);

			ok = pgc_change(pc, sql, 0, NULL, err);
			free(sql);
		}
		free(has);
	}
	return ok;
}

bool
priv_secure_function(PgConn *pc, const char *signature, RelOid table, const PrivNeed *needs,
					 int nneeds, PgpError *err)
{
	char *sql;
	PGresult *res;
	bool ok;

	/*
	 * Not ALTER DEFAULT PRIVILEGES: per schema it can only add to the global
	 * default (EXECUTE for PUBLIC), never take from it, and globally it would
	 * change the user's own functions everywhere.
	 */
	sql = pg_xasprintf("REVOKE ALL ON FUNCTION %s FROM PUBLIC", signature);
	ok = pgc_change(pc, sql, 0, NULL, err);
	free(sql);
	if (!ok)
		return false;
	/* in --dry-run the function does not exist: it would belong to this role */
	res = catalog_oid_query_args(pc,
								 "SELECT pg_catalog.quote_ident(o.rolname), o.rolname, "
								 "  (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER), "
								 "  o.oid <> COALESCE((SELECT p.proowner FROM pg_catalog.pg_proc p "
								 "    WHERE p.oid = pg_catalog.to_regprocedure($2)), "
								 "    (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)) "
								 "FROM pg_catalog.pg_roles o "
								 "WHERE o.oid = CASE WHEN $1::pg_catalog.oid = 0 "
								 "  THEN (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'pgpart') "
								 "  ELSE (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid) END",
								 table, 1, &signature, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 2), "t") == 0 &&
		strcmp(PQgetvalue(res, 0, 3), "t") == 0)
	{
		char *role_q = pg_xstrdup(PQgetvalue(res, 0, 0));
		char *role = pg_xstrdup(PQgetvalue(res, 0, 1));

		/* a superuser's SECURITY DEFINER function would run the body as a superuser */
		sql = pg_xasprintf("ALTER FUNCTION %s OWNER TO %s", signature, role_q);
		ok = pgc_change(pc, sql, 0, NULL, err) && grant_needs(pc, role, role_q, needs, nneeds, err);
		free(sql);
		free(role_q);
		free(role);
	}
	PQclear(res);
	return ok;
}

void
priv_append_trigger_guard(StrBuf *body, RelOid expected, const char *catalog_check)
{
	/*
	 * First, before the body reads a single row: run for another table (one
	 * whose column types bring casts or operators of their own), the body's
	 * expressions would run that table owner's code with this function's
	 * owner's rights.  The OID comparison is all a normal write costs; a
	 * partition (a statement that names one, or a row trigger cloned from the
	 * parent) also looks up its root.
	 */
	sb_appendf(body,
			   "  IF TG_RELID <> %u::pg_catalog.oid THEN\n"
			   "    DECLARE\n"
			   "      pgpart_root pg_catalog.oid := COALESCE(pg_catalog.pg_partition_root(TG_RELID)::pg_catalog.oid, TG_RELID);\n"
			   "    BEGIN\n"
			   "      IF pgpart_root <> %u::pg_catalog.oid AND NOT (%s) THEN\n"
			   "        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',\n"
			   "          MESSAGE = pg_catalog.format('this pgpart trigger function serves table %%s only; "
			   "it refuses to run for %%s (trigger %%I)', %u::pg_catalog.oid::pg_catalog.regclass, "
			   "TG_RELID::pg_catalog.regclass, TG_NAME),\n"
			   "          HINT = 'pgpart attaches its trigger functions itself: drop this trigger.';\n"
			   "      END IF;\n"
			   "    END;\n"
			   "  END IF;\n",
			   expected, expected, catalog_check, expected);
}

bool
priv_count_guarded(PgConn *pc, const char *prefix, int *guarded, PgpError *err)
{
	const char *params[1] = {prefix};
	char *v = NULL;

	*guarded = 0;
	if (!pgc_query_value(pc,
						 "SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc p "
						 "WHERE p.pronamespace = 'pgpart'::pg_catalog.regnamespace "
						 "  AND p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype "
						 "  AND pg_catalog.left(p.proname, pg_catalog.length($1)) = $1 "
						 "  AND pg_catalog.strpos(p.prosrc, 'pgpart_root') > 0",
						 1, params, &v, err))
		return false;
	*guarded = v ? atoi(v) : 0;
	free(v);
	return true;
}

bool
priv_create_trigger(PgConn *pc, const char *name, const char *events, const char *table_q,
					const char *referencing, const char *level, const char *func, PgpError *err)
{
	bool refs = referencing && referencing[0];
	char *sql = pg_xasprintf("CREATE TRIGGER \"%s\" AFTER %s ON %s%s%s FOR EACH %s "
							 "EXECUTE FUNCTION %s()",
							 name, events, table_q, refs ? " " : "", refs ? referencing : "", level,
							 func);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	sql = pg_xasprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER \"%s\"", table_q, name);
	ok = ok && pgc_change(pc, sql, 0, NULL, err);
	free(sql);
	return ok;
}

bool
priv_drop_functions(PgConn *pc, const char *prefix, const char *const *what, int n,
					PgpError *err)
{
	int i;
	bool ok = true;

	for (i = 0; ok && i < n; i++)
	{
		char *sql = pg_xasprintf("DROP FUNCTION IF EXISTS pgpart.\"%s%s\"()", prefix, what[i]);

		ok = pgc_change(pc, sql, 0, NULL, err);
		free(sql);
	}
	return ok;
}

void
privaudit_free(PrivAudit *a)
{
	NAMELIST_FREE_ALL(&a->done, &a->problems);
}

bool
priv_audit_functions(PgConn *pc, PrivAudit *a, PgpError *err)
{
	PGresult *res;
	int i;
	bool ok = true;

	/* which table each function serves follows from its name: rollup_<id>_..., migration_<id>_... */
	res = pgc_query(
		pc,
		"WITH f AS ("
		"  SELECT p.oid::pg_catalog.regprocedure::text AS sig, p.proowner, "
		"    p.proacl IS NULL OR EXISTS (SELECT FROM pg_catalog.aclexplode(p.proacl) x "
		"      WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE') AS public_exec, "
		"    CASE WHEN p.proname ~ '^rollup_[0-9]+_' THEN 'rollup' "
		"      WHEN p.proname ~ '^migration_[0-9]+_' THEN 'migration' END AS kind, "
		"    CASE WHEN p.proname ~ '^rollup_[0-9]+_' THEN (SELECT c.relowner FROM pgpart.rollup r "
		"        JOIN pg_catalog.pg_class c ON c.oid = r.source "
		"        WHERE r.id = pg_catalog.substring(p.proname, '^rollup_([0-9]+)_')::integer) "
		"      WHEN p.proname ~ '^migration_[0-9]+_' THEN (SELECT c.relowner FROM pgpart.migration m "
		"        JOIN pg_catalog.pg_class c ON c.oid = m.source "
		"        WHERE m.id = pg_catalog.substring(p.proname, '^migration_([0-9]+)_')::bigint) "
		"      ELSE (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'pgpart') "
		"    END AS want "
		"  FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pgpart'::pg_catalog.regnamespace "
		/* file_fdw's own functions (archive): the extension's, not pgpart's */
		"    AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d "
		"      WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid "
		"      AND d.deptype = 'e')) "
		"SELECT f.sig, o.rolname, f.public_exec, "
		"  (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER) "
		"    OR pg_catalog.pg_has_role(CURRENT_USER, f.proowner, 'USAGE'), "
		"  o.rolsuper AND w.oid IS NOT NULL AND NOT w.rolsuper, "
		"  (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER), "
		"  w.rolname, pg_catalog.quote_ident(w.rolname), COALESCE(f.kind, '') "
		"FROM f JOIN pg_catalog.pg_roles o ON o.oid = f.proowner "
		"LEFT JOIN pg_catalog.pg_roles w ON w.oid = f.want "
		"ORDER BY 1",
		0, NULL, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *sig = PQgetvalue(res, i, 0);
		const char *owner = PQgetvalue(res, i, 1);
		bool public_exec = PQgetvalue(res, i, 2)[0] == 't';
		bool can_change = PQgetvalue(res, i, 3)[0] == 't';
		bool wrong_owner = PQgetvalue(res, i, 4)[0] == 't';
		bool superuser = PQgetvalue(res, i, 5)[0] == 't';
		const char *want = PQgetvalue(res, i, 6);
		const char *want_q = PQgetvalue(res, i, 7);
		const char *kind = PQgetvalue(res, i, 8);

		if (public_exec)
		{
			if (can_change)
			{
				char *sql = pg_xasprintf("REVOKE ALL ON FUNCTION %s FROM PUBLIC", sig);

				ok = pgc_change(pc, sql, 0, NULL, err);
				free(sql);
				namelist_addf(&a->done, "revoked EXECUTE from PUBLIC on %s", sig);
			}
			else
				namelist_addf(
					&a->problems,
					"%s is executable by every role and owned by %s: run \"pgpart init\" as %s "
					"or as a superuser to revoke that",
					sig, owner, owner);
		}
		if (ok && wrong_owner)
		{
			if (superuser)
			{
				char *sql = pg_xasprintf("ALTER FUNCTION %s OWNER TO %s", sig, want_q);

				ok = pgc_change(pc, sql, 0, NULL, err);
				free(sql);
				if (ok && strcmp(kind, "rollup") == 0)
					ok = grant_needs(pc, want, want_q, priv_rollup_needs, priv_rollup_nneeds, err);
				else if (ok && strcmp(kind, "migration") == 0)
					ok = grant_needs(pc, want, want_q, priv_migration_needs, priv_migration_nneeds,
									 err);
				namelist_addf(&a->done, "%s: owner %s -> %s (the owner of the table it serves)",
							  sig, owner, want);
			}
			else
				namelist_addf(
					&a->problems,
					"%s is owned by the superuser %s but serves a table of %s: run \"pgpart "
					"init\" as a superuser to give it to %s",
					sig, owner, want, want);
		}
	}
	PQclear(res);
	return ok;
}
