/*
 * clone.c - captures, as server-generated statements, what a shadow table must
 * carry over from the table it replaces (indexes, constraints, ownership,
 * grants), and names what a migration cannot carry (foreign keys that point
 * at it, views, triggers, rules), so nothing is rebuilt from text pgpart
 * assembled by hand.
 */
#include "pg/clone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void
clonescript_free(CloneScript *cs)
{
	NAMELIST_FREE_ALL(&cs->before_drop, &cs->after_rename, &cs->blockers, &cs->warnings);
}

/*
 * Parameters of every query below: $1 the old table's OID, $2::text the new
 * table's temporary qualified name, $3::text the old table's qualified name (which
 * the new table will carry after the rename).
 */
static const char blockers_sql[] =
	"SELECT 'it is referenced by foreign key ' || pg_catalog.quote_ident(conname) || ' of ' "
	"       || conrelid::pg_catalog.regclass::text "
	"FROM pg_catalog.pg_constraint WHERE confrelid = $1::pg_catalog.oid AND contype = 'f' "
	"  AND $2::text IS NOT NULL AND $3::text IS NOT NULL "
	"UNION ALL "
	"SELECT DISTINCT 'view ' || r.ev_class::pg_catalog.regclass::text || ' depends on it' "
	"FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
	"WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
	"  AND d.refobjid = $1::pg_catalog.oid AND r.ev_class <> $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'it has trigger ' || pg_catalog.quote_ident(tgname) FROM pg_catalog.pg_trigger "
	"WHERE tgrelid = $1::pg_catalog.oid AND NOT tgisinternal "
	"UNION ALL "
	"SELECT 'it has rule ' || pg_catalog.quote_ident(rulename) FROM pg_catalog.pg_rewrite "
	"WHERE ev_class = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'it has row-level security policy ' || pg_catalog.quote_ident(polname) "
	"FROM pg_catalog.pg_policy WHERE polrelid = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'it has row-level security enabled' FROM pg_catalog.pg_class "
	"WHERE oid = $1::pg_catalog.oid AND relrowsecurity "
	"UNION ALL "
	"SELECT 'it takes part in table inheritance' FROM pg_catalog.pg_inherits "
	"WHERE inhrelid = $1::pg_catalog.oid OR inhparent = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'it is a typed table' FROM pg_catalog.pg_class "
	"WHERE oid = $1::pg_catalog.oid AND reloftype <> 0 "
	"UNION ALL "
	"SELECT 'it is in publication ' || pg_catalog.quote_ident(p.pubname) "
	"FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid "
	"WHERE pr.prrelid = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'column ' || pg_catalog.quote_ident(attname) || ' has column-level privileges' "
	"FROM pg_catalog.pg_attribute WHERE attrelid = $1::pg_catalog.oid AND attacl IS NOT NULL "
	"UNION ALL "
	"SELECT 'it is unlogged or temporary (a partitioned table cannot be)' "
	"FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid AND relpersistence <> 'p'";

static const char warnings_sql[] =
	"SELECT 'storage parameters ' || pg_catalog.array_to_string(reloptions, ', ') "
	"       || ' are not carried over (a partitioned table takes none; set them per partition)' "
	"FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid AND reloptions IS NOT NULL "
	"  AND $2::text IS NOT NULL AND $3::text IS NOT NULL "
	"UNION ALL "
	"SELECT 'replica identity USING INDEX is not carried over' FROM pg_catalog.pg_class "
	"WHERE oid = $1::pg_catalog.oid AND relreplident = 'i'";

/* serial columns: the sequence must follow the column, or DROP would take it along */
static const char before_drop_sql[] =
	"SELECT 'ALTER SEQUENCE ' || d.objid::pg_catalog.regclass::text || ' OWNED BY ' || $2::text "
	"       || '.' || pg_catalog.quote_ident(a.attname) "
	"FROM pg_catalog.pg_depend d "
	"JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
	"JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
	"WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
	"  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
	"  AND d.refobjid = $1::pg_catalog.oid AND d.deptype = 'a' AND $3::text IS NOT NULL";

static const char after_rename_sql[] =
	/* keys and unique/exclusion constraints, under their old names */
	"SELECT 'ALTER TABLE ' || $3::text || ' ADD CONSTRAINT ' || pg_catalog.quote_ident(con.conname) "
	"       || ' ' || pg_catalog.pg_get_constraintdef(con.oid), 1 AS ord "
	"FROM pg_catalog.pg_constraint con "
	"WHERE con.conrelid = $1::pg_catalog.oid AND con.contype IN ('p', 'u', 'x') AND $2::text IS NOT NULL "
	"UNION ALL "
	/* other indexes: pg_get_indexdef names the table, which by then is the new one */
	"SELECT pg_catalog.pg_get_indexdef(i.indexrelid), 2 "
	"FROM pg_catalog.pg_index i "
	"WHERE i.indrelid = $1::pg_catalog.oid AND NOT EXISTS ("
	"  SELECT FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid "
	"  AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $3::text || ' ADD CONSTRAINT ' || pg_catalog.quote_ident(con.conname) "
	"       || ' ' || pg_catalog.pg_get_constraintdef(con.oid), 3 "
	"FROM pg_catalog.pg_constraint con "
	"WHERE con.conrelid = $1::pg_catalog.oid AND con.contype = 'f' "
	"UNION ALL "
	"SELECT 'COMMENT ON INDEX ' || pg_catalog.quote_ident(n.nspname) || '.' "
	"       || pg_catalog.quote_ident(ic.relname) || ' IS ' || pg_catalog.quote_literal(d.description), 4 "
	"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
	"JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
	"JOIN pg_catalog.pg_description d ON d.objoid = ic.oid "
	"  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
	"WHERE i.indrelid = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'COMMENT ON TABLE ' || $3::text || ' IS ' || pg_catalog.quote_literal(d.description), 5 "
	"FROM pg_catalog.pg_description d WHERE d.objoid = $1::pg_catalog.oid "
	"  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
	"UNION ALL "
	"SELECT 'ALTER TABLE ' || $3::text || ' OWNER TO ' "
	"       || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(c.relowner)), 6 "
	"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid "
	"UNION ALL "
	"SELECT 'GRANT ' || a.privilege_type || ' ON ' || $3::text || ' TO ' "
	"       || CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
	"          ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END "
	"       || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, 7 "
	"FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
	"WHERE c.oid = $1::pg_catalog.oid AND a.grantee <> c.relowner "
	"UNION ALL "
	/* identity columns get a new sequence from LIKE: continue where the old one was */
	"SELECT pg_catalog.format("
	"       'SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(%L, %L), %s, %s)', "
	"       $3::text, a.attname, s.last_value, "
	"       CASE WHEN s.is_called THEN 'true' ELSE 'false' END), 8 "
	"FROM pg_catalog.pg_attribute a, "
	"LATERAL (SELECT * FROM pg_catalog.pg_sequences ps "
	"         WHERE (pg_catalog.quote_ident(ps.schemaname) || '.' || pg_catalog.quote_ident(ps.sequencename)) "
	"               = pg_catalog.pg_get_serial_sequence($3::text, a.attname)) q, "
	"LATERAL (SELECT q.last_value IS NOT NULL AS is_called, "
	"                COALESCE(q.last_value, q.start_value) AS last_value) s "
	"WHERE a.attrelid = $1::pg_catalog.oid AND a.attidentity <> '' AND NOT a.attisdropped "
	"ORDER BY 2";

bool
clone_capture(PgConn *pc, RelOid table, const char *new_schema, const char *new_tmp_name,
			  CloneScript *cs, PgpError *err)
{
	char oid[16];
	char *old_qualified = NULL;
	StrBuf tmp;
	const char *params[3];
	bool ok = false;

	memset(cs, 0, sizeof(*cs));
	snprintf(oid, sizeof(oid), "%u", table);
	params[0] = oid;
	if (!pgc_query_value(pc, "SELECT $1::pg_catalog.oid::pg_catalog.regclass::text", 1, params,
						 &old_qualified, err))
		return false;
	sb_init(&tmp);
	pgc_append_qualified(pc, &tmp, new_schema, new_tmp_name);
	params[1] = tmp.data;
	params[2] = old_qualified;
	ok = namelist_add_query(pc, blockers_sql, 3, params, &cs->blockers, err) &&
		 namelist_add_query(pc, warnings_sql, 3, params, &cs->warnings, err) &&
		 namelist_add_query(pc, before_drop_sql, 3, params, &cs->before_drop, err) &&
		 namelist_add_query(pc, after_rename_sql, 3, params, &cs->after_rename, err);
	sb_free(&tmp);
	free(old_qualified);
	return ok;
}
