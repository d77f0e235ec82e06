/*
 * index_sql.c - the statements of "pgpart index add" (see index_sql.h): the
 * lookups, CREATE INDEX ON ONLY and ALTER INDEX ... ATTACH PARTITION (short
 * transactions under lock_timeout with retries), and CREATE / DROP INDEX
 * CONCURRENTLY (outside any transaction, as PostgreSQL requires).
 */
#include "commands/index/index.h"
#include "commands/index/index_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/stmt.h"
#include "util/mem.h"

bool
indexes_lookup(PgConn *pc, const char *schema, const char *name, IndexLookup *out, PgpError *err)
{
	const char *params[2] = {schema, name};
	PGresult *res;

	memset(out, 0, sizeof(*out));
	res = pgc_query(pc,
					"SELECT c.oid, c.relkind, i.indrelid, i.indisvalid "
					"FROM pg_catalog.pg_class c "
					"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					"LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid "
					"WHERE n.nspname = $1 AND c.relname = $2",
					2, params, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
	{
		out->exists = true;
		out->oid = (RelOid) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
		out->relkind = PQgetvalue(res, 0, 1)[0];
		out->table = (RelOid) strtoul(PQgetvalue(res, 0, 2), NULL, 10);
		out->valid = PQgetvalue(res, 0, 3)[0] == 't';
	}
	PQclear(res);
	return true;
}

bool
indexes_child_for(PgConn *pc, RelOid parent_index, RelOid partition, bool *has, PgpError *err)
{
	char a[16], b[16];
	const char *params[2] = {a, b};

	snprintf(a, sizeof(a), "%u", parent_index);
	snprintf(b, sizeof(b), "%u", partition);
	return stmt_query_bool(pc,
						   "SELECT EXISTS (SELECT FROM pg_catalog.pg_inherits h "
						   "JOIN pg_catalog.pg_index i ON i.indexrelid = h.inhrelid "
						   "WHERE h.inhparent = $1::pg_catalog.oid "
						   "  AND i.indrelid = $2::pg_catalog.oid)",
						   2, params, has, err);
}

static void
append_definition(PgConn *pc, StrBuf *sql, const IndexSpec *spec)
{
	int i;

	sb_append(sql, " USING ");
	pgc_append_ident(pc, sql, spec->method);
	sb_append(sql, " (");
	for (i = 0; i < spec->columns->n; i++)
	{
		if (i > 0)
			sb_append(sql, ", ");
		pgc_append_ident(pc, sql, spec->columns->items[i]);
	}
	sb_append(sql, ")");
	if (spec->where)
		sb_appendf(sql, " WHERE (%s)", spec->where);
}

typedef struct StmtCtx
{
	const char *sql;
} StmtCtx;

static bool
one_statement_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	StmtCtx *ctx = arg;

	lock_txn_mark_locked(stats);
	return pgc_change(pc, ctx->sql, 0, NULL, err);
}

bool
indexes_create_on_only(PgConn *pc, const LockPolicy *lock, const IndexSpec *spec,
					   const char *table, LockStats *stats, PgpError *err)
{
	StrBuf sql;
	StmtCtx ctx;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, spec->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
	pgc_append_ident(pc, &sql, spec->name);
	sb_append(&sql, " ON ONLY ");
	pgc_append_qualified(pc, &sql, spec->schema, table);
	append_definition(pc, &sql, spec);
	ctx.sql = sql.data;
	/* ON ONLY builds nothing, but takes SHARE on the parent: keep it short */
	ok = lock_run_txn(pc, lock, one_statement_body, &ctx, stats, err);
	sb_free(&sql);
	return ok;
}

bool
indexes_create_concurrently(PgConn *pc, const IndexSpec *spec, const char *partition_schema,
							const char *partition, const char *index_name, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	/*
	 * No lock_timeout here: CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which
	 * conflicts with no reader or writer, and then waits for older
	 * transactions to finish, which is its normal work.  Failing it half-way
	 * would only leave an invalid index to rebuild.
	 */
	sb_append(&sql, spec->unique ? "CREATE UNIQUE INDEX CONCURRENTLY " : "CREATE INDEX CONCURRENTLY ");
	pgc_append_ident(pc, &sql, index_name);
	sb_append(&sql, " ON ");
	pgc_append_qualified(pc, &sql, partition_schema, partition);
	append_definition(pc, &sql, spec);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	return ok;
}

bool
indexes_drop_concurrently(PgConn *pc, const char *schema, const char *index_name, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "DROP INDEX CONCURRENTLY IF EXISTS ");
	pgc_append_qualified(pc, &sql, schema, index_name);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	return ok;
}

bool
indexes_attach(PgConn *pc, const LockPolicy *lock, const char *parent_schema,
			   const char *parent_index, const char *child_schema, const char *child_index,
			   LockStats *stats, PgpError *err)
{
	StrBuf sql;
	StmtCtx ctx;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "ALTER INDEX ");
	pgc_append_qualified(pc, &sql, parent_schema, parent_index);
	sb_append(&sql, " ATTACH PARTITION ");
	pgc_append_qualified(pc, &sql, child_schema, child_index);
	ctx.sql = sql.data;
	ok = lock_run_txn(pc, lock, one_statement_body, &ctx, stats, err);
	sb_free(&sql);
	return ok;
}
