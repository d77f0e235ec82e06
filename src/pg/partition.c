/*
 * partition.c - creating and attaching partitions on a live parent without long
 * locks: a standalone table with a matching CHECK (so ATTACH does not scan),
 * rows of its range moved out of the default partition in the same short
 * transaction, under lock_timeout with retries.
 */
#include "pg/partition.h"

#include <stdlib.h>
#include <string.h>

#include "pg/stmt.h"
#include "util/mem.h"

/* the CHECK constraint that lets ATTACH skip its validation scan */
#define BOUNDS_CONSTRAINT "pgpart_partition_bounds"

/* "column >= lo AND column < hi", or only the upper bound when lo is NULL */
static void
append_range_predicate(PgConn *pc, StrBuf *sb, const char *column, const char *lo,
					   const char *hi)
{
	if (lo)
	{
		pgc_append_ident(pc, sb, column);
		sb_append(sb, " >= ");
		pgc_append_literal(pc, sb, lo);
		sb_append(sb, " AND ");
	}
	pgc_append_ident(pc, sb, column);
	sb_append(sb, " < ");
	pgc_append_literal(pc, sb, hi);
}

void
partition_append_bounds(PgConn *pc, StrBuf *sb, const char *column, const char *lo,
						const char *hi)
{
	pgc_append_ident(pc, sb, column);
	sb_append(sb, " IS NOT NULL AND ");
	append_range_predicate(pc, sb, column, lo, hi);
}

void
partition_append_bound_spec(PgConn *pc, StrBuf *sb, const char *lo, const char *hi)
{
	if (lo == NULL)
	{
		sb_append(sb, " DEFAULT");
		return;
	}
	sb_append(sb, " FOR VALUES FROM (");
	pgc_append_literal(pc, sb, lo);
	sb_append(sb, ") TO (");
	pgc_append_literal(pc, sb, hi);
	sb_append(sb, ")");
}

typedef struct AttachCtx
{
	const NewPartition *np;
	long rows_moved;
} AttachCtx;

/*
 * What CREATE TABLE ... PARTITION OF and LIKE leave out: the parent's replica
 * identity (FULL or NOTHING) and per-column statistics targets, and the
 * storage parameters of the newest sibling that has any (a partitioned
 * parent cannot hold them, so partitions carry them from one to the next).
 */
static bool
copy_settings(PgConn *pc, const NewPartition *np, PgpError *err)
{
	char *parent = pgc_quote_qualified(pc, np->parent_schema, np->parent_name);
	char *part = pgc_quote_qualified(pc, np->parent_schema, np->name);
	const char *params[2] = {parent, part};
	bool ok;

	if (pc->dry_run)
	{
		free(parent);
		free(part);
		return true;
	}
	ok = pgc_change_each(
		pc,
		"SELECT 'ALTER TABLE ' || $2 || ' REPLICA IDENTITY ' || "
		"  CASE c.relreplident WHEN 'f' THEN 'FULL' ELSE 'NOTHING' END "
		"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.regclass "
		"  AND c.relreplident IN ('f', 'n') "
		"UNION ALL "
		"SELECT 'ALTER TABLE ' || $2 || ' ALTER COLUMN ' || pg_catalog.quote_ident(a.attname) "
		"  || ' SET STATISTICS ' || a.attstattarget "
		"FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.regclass "
		"  AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget >= 0 "
		"UNION ALL "
		"(SELECT 'ALTER TABLE ' || $2 || ' SET (' || pg_catalog.array_to_string(c.reloptions, ', ') || ')' "
		" FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
		" WHERE i.inhparent = $1::pg_catalog.regclass AND c.reloptions IS NOT NULL "
		"   AND c.oid <> $2::pg_catalog.regclass ORDER BY c.oid DESC LIMIT 1)",
		2, params, err);
	free(parent);
	free(part);
	return ok;
}

/*
 * The parent's lock for an ATTACH (see lock_for_attach): SHARE ROW EXCLUSIVE
 * when a default partition's constraint narrows, so that no writer routes a
 * row with the partition map of before; otherwise what ATTACH itself takes.
 */
static bool
lock_parent_for_attach(PgConn *pc, const char *parent_q, bool has_default, PgpError *err)
{
	return stmt_change_f(pc, err, "LOCK TABLE ONLY %s IN %s MODE", parent_q,
						 has_default ? "SHARE ROW EXCLUSIVE" : "SHARE UPDATE EXCLUSIVE");
}

/*
 * The standalone table first: LIKE takes only ACCESS SHARE on the parent, so
 * nothing the application does waits while it is built.  Identity is left
 * out: partitions use the parent's sequence, a copy would start its own.
 * The CHECK constraint of the bounds lets ATTACH skip its validation scan.
 */
static bool
create_standalone(PgConn *pc, const NewPartition *np, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "CREATE TABLE ");
	pgc_append_qualified(pc, &sql, np->parent_schema, np->name);
	sb_append(&sql, " (LIKE ");
	pgc_append_qualified(pc, &sql, np->parent_schema, np->parent_name);
	sb_append(&sql, " INCLUDING ALL EXCLUDING IDENTITY");
	if (np->lo_literal)
	{
		sb_append(&sql, ", CONSTRAINT " BOUNDS_CONSTRAINT " CHECK (");
		partition_append_bounds(pc, &sql, np->column, np->lo_literal, np->hi_literal);
		sb_append(&sql, ")");
	}
	sb_append(&sql, ")");
	if (np->tablespace)
	{
		sb_append(&sql, " TABLESPACE ");
		pgc_append_ident(pc, &sql, np->tablespace);
	}
	ok = stmt_change_sb(pc, &sql, err) && copy_settings(pc, np, err);
	sb_free(&sql);
	return ok;
}

/*
 * Strong locks in the order queries take them (parent, then partition), so
 * that we cannot deadlock with the application.  ONLY: LOCK on a
 * partitioned table would otherwise lock every partition.
 *
 * With a default partition, ATTACH narrows the default's constraint.  An
 * INSERT that routed its row to the default with the partition map it read
 * before our commit would then fail the new constraint ("violates partition
 * constraint", an error no retry logic expects).  So writers of the parent
 * are kept out for this short transaction: SHARE ROW EXCLUSIVE waits for the
 * ones in flight, and those that come after see the new partition.  Readers
 * are not blocked by it.  Without a default partition nothing else changes,
 * and SHARE UPDATE EXCLUSIVE (what ATTACH itself takes) lets writers go on.
 */
static bool
lock_for_attach(PgConn *pc, const NewPartition *np, PgpError *err)
{
	char *parent_q = pgc_quote_qualified(pc, np->parent_schema, np->parent_name);
	bool ok = lock_parent_for_attach(pc, parent_q, np->default_name != NULL, err);
	StrBuf sql;

	free(parent_q);
	if (!ok || np->default_name == NULL)
		return ok;
	sb_init(&sql);
	sb_append(&sql, "LOCK TABLE ONLY ");
	pgc_append_qualified(pc, &sql, np->default_schema, np->default_name);
	sb_append(&sql, " IN ACCESS EXCLUSIVE MODE");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

/*
 * The range's rows from the default partition into the new table: one
 * statement, so that a row is deleted from the default exactly when it is
 * inserted.
 */
static bool
move_from_default(PgConn *pc, const NewPartition *np, long *rows_moved, PgpError *err)
{
	StrBuf sql;
	PGresult *res;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "WITH moved AS (DELETE FROM ONLY ");
	pgc_append_qualified(pc, &sql, np->default_schema, np->default_name);
	sb_append(&sql, " WHERE ");
	append_range_predicate(pc, &sql, np->column, np->lo_literal, np->hi_literal);
	sb_appendf(&sql, " RETURNING %s) INSERT INTO ", np->columns);
	pgc_append_qualified(pc, &sql, np->parent_schema, np->name);
	sb_appendf(&sql, " (%s) SELECT %s FROM moved", np->columns, np->columns);
	if (pc->dry_run)
		ok = stmt_change_sb(pc, &sql, err);
	else
	{
		res = pgc_query(pc, sql.data, 0, NULL, err);
		ok = res != NULL;
		if (ok)
			*rows_moved = atol(PQcmdTuples(res));
		PQclear(res);
	}
	sb_free(&sql);
	return ok;
}

/* ATTACH; then the CHECK goes: the partition constraint guarantees the same */
static bool
attach(PgConn *pc, const NewPartition *np, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "ALTER TABLE ");
	pgc_append_qualified(pc, &sql, np->parent_schema, np->parent_name);
	sb_append(&sql, " ATTACH PARTITION ");
	pgc_append_qualified(pc, &sql, np->parent_schema, np->name);
	partition_append_bound_spec(pc, &sql, np->lo_literal, np->hi_literal);
	ok = stmt_change_sb(pc, &sql, err);
	if (ok && np->lo_literal)
	{
		sb_append(&sql, "ALTER TABLE ");
		pgc_append_qualified(pc, &sql, np->parent_schema, np->name);
		sb_append(&sql, " DROP CONSTRAINT " BOUNDS_CONSTRAINT);
		ok = stmt_change_sb(pc, &sql, err);
	}
	sb_free(&sql);
	return ok;
}

/* the one transaction of partition_attach_new, run (and re-run) by lock_run_txn */
static bool
attach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	AttachCtx *ctx = arg;
	const NewPartition *np = ctx->np;

	ctx->rows_moved = 0;
	if (!create_standalone(pc, np, err) || !lock_for_attach(pc, np, err))
		return false;
	lock_txn_mark_locked(stats);
	if (np->move_from_default && np->default_name && np->lo_literal &&
		!move_from_default(pc, np, &ctx->rows_moved, err))
		return false;
	return attach(pc, np, err);
}

bool
partition_attach_new(PgConn *pc, const LockPolicy *policy, const NewPartition *np,
					 AttachResult *result, PgpError *err)
{
	AttachCtx ctx = {np, 0};
	/* the modes of lock_for_attach (ATTACH's own on the parent are not stronger) */
	LockTarget targets[2] = {
		{np->parent_oid, np->default_name ? LOCK_SHARE_ROW_EXCLUSIVE : LOCK_SHARE_UPDATE_EXCLUSIVE},
		{np->default_oid, LOCK_ACCESS_EXCLUSIVE}};
	int ntargets = np->parent_oid == 0 ? 0 : np->default_oid == 0 ? 1 : 2;
	bool ok;

	memset(&result->locks, 0, sizeof(result->locks));
	ok = lock_run_txn_on(pc, policy, targets, ntargets, attach_body, &ctx, &result->locks, err);
	result->rows_moved = ok ? ctx.rows_moved : 0;
	if (!ok)
		err_prefix(err, "could not create partition %s.%s", np->parent_schema, np->name);
	return ok;
}

bool
partition_lock_for_attach(PgConn *pc, const char *parent_q, PgpError *err)
{
	const char *params[1] = {parent_q};
	char *has_default = NULL;
	bool ok;

	if (!pgc_query_value(pc,
						 "SELECT EXISTS (SELECT FROM pg_catalog.pg_inherits i "
						 "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
						 "WHERE i.inhparent = $1::pg_catalog.regclass "
						 "AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT')",
						 1, params, &has_default, err))
		return false;
	ok = !(has_default && has_default[0] == 't') || lock_parent_for_attach(pc, parent_q, true, err);
	free(has_default);
	return ok;
}

bool
partition_create_of(PgConn *pc, const NewPartition *np, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "CREATE TABLE ");
	pgc_append_qualified(pc, &sql, np->parent_schema, np->name);
	sb_append(&sql, " PARTITION OF ");
	pgc_append_qualified(pc, &sql, np->parent_schema, np->parent_name);
	partition_append_bound_spec(pc, &sql, np->lo_literal, np->hi_literal);
	if (np->tablespace)
	{
		sb_append(&sql, " TABLESPACE ");
		pgc_append_ident(pc, &sql, np->tablespace);
	}
	ok = pgc_change(pc, sql.data, 0, NULL, err) && copy_settings(pc, np, err);
	sb_free(&sql);
	return ok;
}

bool
partition_count_default_rows(PgConn *pc, const char *default_schema, const char *default_name,
							 const char *column, const char *lo_literal, const char *hi_literal,
							 long *count, PgpError *err)
{
	StrBuf sql;
	long long n;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "SELECT pg_catalog.count(*) FROM ONLY ");
	pgc_append_qualified(pc, &sql, default_schema, default_name);
	sb_append(&sql, " WHERE ");
	append_range_predicate(pc, &sql, column, lo_literal, hi_literal);
	ok = stmt_query_number(pc, sql.data, 0, NULL, &n, err);
	*count = (long) n;
	sb_free(&sql);
	return ok;
}

bool
partition_default_period_starts(PgConn *pc, const char *default_schema, const char *default_name,
								const char *column, KeyType key_type, const char *trunc_field,
								const char *time_zone, CivilDate **starts, int *n, long *null_rows,
								PgpError *err)
{
	StrBuf sql, key;
	const char *params[2] = {trunc_field, time_zone};
	PGresult *res;
	int i, k = 0;

	*starts = NULL;
	*n = 0;
	*null_rows = 0;
	sb_init(&key);
	pgc_append_ident(pc, &key, column);
	sb_init(&sql);
	/* the civil time the row belongs to, in the table's zone for timestamptz */
	sb_append(&sql, "SELECT pg_catalog.date_trunc($1, ");
	if (key_type == KEY_TIMESTAMPTZ)
		sb_appendf(&sql, "%s AT TIME ZONE $2", key.data);
	else
		sb_appendf(&sql, "%s::timestamp", key.data);
	sb_appendf(&sql, ")::date::text AS period, pg_catalog.count(*) FROM ONLY ");
	pgc_append_qualified(pc, &sql, default_schema, default_name);
	/* $2 is referenced in every branch so its type is always known */
	sb_append(&sql, " WHERE $2::text IS NOT NULL GROUP BY 1 ORDER BY 1 NULLS LAST");
	res = pgc_query(pc, sql.data, 2, params, err);
	sb_free(&sql);
	sb_free(&key);
	if (res == NULL)
		return false;
	*starts = pg_xcalloc((size_t) PQntuples(res) + 1, sizeof(CivilDate));
	for (i = 0; i < PQntuples(res); i++)
	{
		if (PQgetisnull(res, i, 0))
		{
			*null_rows = atol(PQgetvalue(res, i, 1));
			continue;
		}
		if (cal_date_parse(PQgetvalue(res, i, 0), &(*starts)[k]))
			k++;
	}
	*n = k;
	PQclear(res);
	return true;
}
