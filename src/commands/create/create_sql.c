/*
 * create_sql.c - the statements of "pgpart create": see create_sql.h.
 * Identifiers are quoted with pgc_append_qualified / pgc_append_ident.
 */
#include "commands/create/create_sql.h"

#include <stdlib.h>

#include "util/mem.h"

static bool
run(PgConn *pc, StrBuf *sql, PgpError *err)
{
	bool ok = pgc_change(pc, sql->data, 0, NULL, err);

	sb_free(sql);
	return ok;
}

/* "<verb>schema.name<rest>", the name quoted */
static bool
on_table(PgConn *pc, const char *verb, const char *schema, const char *name, const char *rest,
		 PgpError *err)
{
	StrBuf sql;

	sb_init(&sql);
	sb_append(&sql, verb);
	pgc_append_qualified(pc, &sql, schema, name);
	sb_append(&sql, rest);
	return run(pc, &sql, err);
}

bool
create_lock_table(PgConn *pc, const char *schema, const char *name, PgpError *err)
{
	return on_table(pc, "LOCK TABLE ", schema, name, " IN ACCESS EXCLUSIVE MODE", err);
}

bool
create_partitioned_parent(PgConn *pc, const NewParent *np, PgpError *err)
{
	StrBuf sql;

	sb_init(&sql);
	sb_append(&sql, "CREATE TABLE ");
	pgc_append_qualified(pc, &sql, np->schema, np->name);
	sb_append(&sql, " (LIKE ");
	pgc_append_qualified(pc, &sql, np->like_schema, np->like_name);
	sb_append(&sql, np->without_indexes ? " INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE ("
										: " INCLUDING ALL) PARTITION BY RANGE (");
	pgc_append_ident(pc, &sql, np->column);
	sb_append(&sql, ")");
	if (np->tablespace)
	{
		sb_append(&sql, " TABLESPACE ");
		pgc_append_ident(pc, &sql, np->tablespace);
	}
	return run(pc, &sql, err);
}

bool
create_drop_table(PgConn *pc, const char *schema, const char *name, PgpError *err)
{
	return on_table(pc, "DROP TABLE ", schema, name, "", err);
}

bool
create_rename_table(PgConn *pc, const char *schema, const char *from, const char *to,
					PgpError *err)
{
	StrBuf sql;

	sb_init(&sql);
	sb_append(&sql, "ALTER TABLE ");
	pgc_append_qualified(pc, &sql, schema, from);
	sb_append(&sql, " RENAME TO ");
	pgc_append_ident(pc, &sql, to);
	return run(pc, &sql, err);
}

bool
create_table_oid(PgConn *pc, const char *schema, const char *name, RelOid *oid, PgpError *err)
{
	StrBuf q;
	const char *params[1];
	char *v = NULL;
	bool ok = true;

	*oid = 0;
	if (pc->dry_run)
		return true;
	sb_init(&q);
	pgc_append_qualified(pc, &q, schema, name);
	params[0] = q.data;
	ok = pgc_query_value(pc, "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::text", 1, params,
						 &v, err);
	sb_free(&q);
	*oid = v ? (RelOid) strtoul(v, NULL, 10) : 0;
	free(v);
	return ok;
}
