/*
 * partition.c - creating and attaching partitions on a live parent without long
 * locks: a standalone table with a matching CHECK (so ATTACH does not scan),
 * rows of its range moved out of the default partition in short batches
 * before the ATTACH (the rest in the ATTACH transaction), every lock under
 * lock_timeout with retries.
 */
#include "pg/partition.h"

#include <stdlib.h>
#include <string.h>

#include "pg/citus.h"
#include "pg/health.h"
#include "pg/stmt.h"
#include "util/clock.h"
#include "util/mem.h"

/* the CHECK constraint that lets ATTACH skip its validation scan */
#define BOUNDS_CONSTRAINT "pgpart_partition_bounds"

/*
 * The CHECK on the default partition that excludes the range being attached
 * (--drain-check).  One name per default partition: pgpart attaches one range
 * of a table at a time (under the table's advisory lock), and a run after a
 * crash finds a leftover by this name and drops it.
 */
#define DEFAULT_CHECK "pgpart_default_excludes_new_range"

/* how often the drain looks again for pages writers added behind it */
#define DRAIN_REREADS 3
#define DRAIN_MAX_PAGES 131072L

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
	bool table_ready;		 /* the drain made the standalone table already */
	bool move_remainder;	 /* rows of the range may still be in the default */
	bool drop_default_check; /* DEFAULT_CHECK is on the default partition */
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
	if (ok && np->parent_oid != 0)
	{
		/*
		 * On Citus, distributed like its parent before any row goes in: the
		 * rows then go to the shards, and ATTACH only changes metadata
		 * (otherwise Citus copies them at ATTACH, under the parent's lock,
		 * and leaves a hidden copy on the coordinator).  One catalog read on
		 * plain PostgreSQL.
		 */
		char *q = pgc_quote_qualified(pc, np->parent_schema, np->name);

		ok = citus_distribute_as_parent(pc, q, np->parent_oid, err);
		free(q);
	}
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
		res = pgc_query_change(pc, sql.data, 0, NULL, err);
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

/*
 * The comment on a standalone table that rows are being drained into: what
 * lets a run after a crash (kill -9 between two batches) recognise the table
 * as its own, with those bounds, and go on filling it instead of failing on
 * "already exists" or taking somebody else's table.
 */
static char *
drain_mark(const NewPartition *np)
{
	return pg_xasprintf("pgpart: rows of %s .. %s moved here from the default partition of %s, "
						"not attached yet",
						np->lo_literal, np->hi_literal, np->parent_name);
}

static bool
set_drain_mark(PgConn *pc, const NewPartition *np, bool on, PgpError *err)
{
	StrBuf sql;
	char *mark;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, "COMMENT ON TABLE ");
	pgc_append_qualified(pc, &sql, np->parent_schema, np->name);
	sb_append(&sql, " IS ");
	if (on)
	{
		mark = drain_mark(np);
		pgc_append_literal(pc, &sql, mark);
		free(mark);
	}
	else
		sb_append(&sql, "NULL");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

/* whether an interrupted drain of this very range left its standalone table */
static bool
drained_table_exists(PgConn *pc, const NewPartition *np, bool *exists, PgpError *err)
{
	char *q = pgc_quote_qualified(pc, np->parent_schema, np->name);
	char *mark = drain_mark(np);
	const char *params[2] = {q, mark};
	bool ok = stmt_query_bool(pc,
							  "SELECT EXISTS (SELECT FROM pg_catalog.pg_class c "
							  "WHERE c.oid = pg_catalog.to_regclass($1) AND c.relkind = 'r' "
							  "AND NOT c.relispartition "
							  "AND pg_catalog.obj_description(c.oid, 'pg_class') = $2)",
							  2, params, exists, err);

	free(q);
	free(mark);
	return ok;
}

/* the standalone table and its mark, committed before the first batch */
static bool
create_drain_table_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	const NewPartition *np = arg;

	lock_txn_mark_locked(stats);
	return create_standalone(pc, np, err) && set_drain_mark(pc, np, true, err);
}

/* the default partition's size in pages now, and its rows per page (estimate) */
static bool
default_pages(PgConn *pc, const NewPartition *np, long *pages, double *rows_per_page,
			  PgpError *err)
{
	char *q = pgc_quote_qualified(pc, np->default_schema, np->default_name);
	const char *params[1] = {q};
	PGresult *res = pgc_query(
		pc,
		"SELECT pg_catalog.pg_relation_size(c.oid) / "
		"  pg_catalog.current_setting('block_size')::pg_catalog.int8, "
		"  CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages ELSE 50 END "
		"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.regclass",
		1, params, err);

	free(q);
	if (res == NULL)
		return false;
	*pages = PQntuples(res) ? atol(PQgetvalue(res, 0, 0)) : 0;
	*rows_per_page = PQntuples(res) ? atof(PQgetvalue(res, 0, 1)) : 50;
	if (*rows_per_page < 1)
		*rows_per_page = 1;
	PQclear(res);
	return true;
}

typedef struct DrainBatch
{
	const NewPartition *np;
	long first_page; /* the window of the default partition's pages [first, first + pages) */
	long pages;
	long limit; /* rows at most */
	long moved;
} DrainBatch;

/*
 * One batch, one transaction: the rows of the range in a window of the
 * default partition's pages (a TID range scan, so a batch reads its window
 * only, not the pages drained before it), locked FOR UPDATE SKIP LOCKED (a
 * row a writer holds is left for a later batch or the ATTACH transaction,
 * so the drain never waits for the application), deleted and inserted into
 * the new table by one statement: a kill -9 anywhere leaves each row either
 * still in the default partition or committed in the new table.
 * Writers wait only to update a row of the batch, and at most as long as the
 * batch, which the time budget bounds.
 */
static bool
drain_batch_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	DrainBatch *b = arg;
	const NewPartition *np = b->np;
	char lo[48], hi[48], lim[32];
	const char *params[3] = {lo, hi, lim};
	StrBuf sql;
	PGresult *res;
	bool ok;

	snprintf(lo, sizeof(lo), "(%ld,0)", b->first_page);
	snprintf(hi, sizeof(hi), "(%ld,0)", b->first_page + b->pages);
	snprintf(lim, sizeof(lim), "%ld", b->limit);
	lock_txn_mark_locked(stats);
	sb_init(&sql);
	sb_append(&sql, "WITH batch AS (SELECT ctid FROM ONLY ");
	pgc_append_qualified(pc, &sql, np->default_schema, np->default_name);
	sb_append(&sql, " WHERE ctid >= $1::pg_catalog.tid AND ctid < $2::pg_catalog.tid AND ");
	append_range_predicate(pc, &sql, np->column, np->lo_literal, np->hi_literal);
	sb_append(&sql, " LIMIT $3::pg_catalog.int8 FOR UPDATE SKIP LOCKED), "
					"moved AS (DELETE FROM ONLY ");
	pgc_append_qualified(pc, &sql, np->default_schema, np->default_name);
	sb_appendf(&sql,
			   " WHERE ctid = ANY (ARRAY(SELECT ctid FROM batch)) RETURNING %s) INSERT INTO ",
			   np->columns);
	pgc_append_qualified(pc, &sql, np->parent_schema, np->name);
	sb_appendf(&sql, " (%s) SELECT %s FROM moved", np->columns, np->columns);
	b->moved = 0;
	if (pc->dry_run)
		ok = pgc_change(pc, sql.data, 3, params, err);
	else
	{
		res = pgc_query_change(pc, sql.data, 3, params, err);
		ok = res != NULL;
		if (ok)
			b->moved = atol(PQcmdTuples(res));
		PQclear(res);
	}
	sb_free(&sql);
	return ok;
}

/*
 * Before each batch (no transaction open, no lock held): --drain-pause, then
 * the health limits, which wait (th NULL: none given).  rows: what the batch
 * before moved.
 */
static bool
drain_throttle(PgConn *pc, const DrainPolicy *d, Throttle *th, long rows, PgpError *err)
{
	if (rows > 0 && d->pause_ms > 0)
		sleep_ms(d->pause_ms);
	return th == NULL || throttle_between_batches(th, pc, rows, err);
}

/* the health limits of the drain, keyed by the parent (pgpart.throttle_limit) */
static bool
drain_throttle_open(PgConn *pc, const NewPartition *np, Throttle *th, bool *open, PgpError *err)
{
	char *label;
	bool ok;

	*open = false;
	if (!health_args_given(&np->drain->health) || np->parent_oid == 0)
		return true;
	label = pg_xasprintf("drain of the default partition of %s.%s", np->parent_schema,
						 np->parent_name);
	ok = throttle_open_for(th, pc, np->parent_oid, label, &np->drain->health, 0, err);
	free(label);
	if (ok && !throttle_settle(th, pc, &np->drain->health, err))
	{
		throttle_close(th, pc);
		ok = false;
	}
	*open = ok;
	return ok;
}

static void
drain_throttle_close(PgConn *pc, Throttle *th, bool open, AttachResult *res)
{
	if (!open)
		return;
	res->drain_pauses += th->pauses;
	res->drain_paused_ms += th->paused_ms;
	throttle_close(th, pc);
}

static double
clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * One pass over the default partition, window by window, each a batch
 * transaction (lock_run_txn: under lock_timeout, retried).  The window and
 * the row limit follow the time budget: a batch that took less than it
 * grows the next one (at most twice), one that took more shrinks it.  A
 * window whose limit was reached is read again (it may hold more rows);
 * otherwise the next window follows.  Pages writers added behind the pass
 * are looked at again, a few times; what is left, and rows that arrive
 * later, the ATTACH transaction moves.
 */
static bool drain_pass(PgConn *pc, const LockPolicy *policy, const NewPartition *np,
					   Throttle *th, AttachResult *res, PgpError *err);

static bool
drain_default_in_batches(PgConn *pc, const LockPolicy *policy, const NewPartition *np,
						 AttachResult *res, PgpError *err)
{
	Throttle th;
	bool open = false, ok;

	if (!pc->dry_run && !drain_throttle_open(pc, np, &th, &open, err))
		return false;
	ok = drain_pass(pc, policy, np, open ? &th : NULL, res, err);
	drain_throttle_close(pc, &th, open, res);
	return ok;
}

static bool
drain_pass(PgConn *pc, const LockPolicy *policy, const NewPartition *np, Throttle *th,
		   AttachResult *res, PgpError *err)
{
	const DrainPolicy *d = np->drain;
	double budget = d->batch_time_ms > 0 ? d->batch_time_ms : 50;
	DrainBatch b = {np, 0, 1, 0, 0};
	double per_page;
	long pages;
	int rereads = 0;

	if (!default_pages(pc, np, &pages, &per_page, err))
		return false;
	/* a small first batch: it learns how fast this table and machine are */
	b.limit = d->batch_rows < 500 ? d->batch_rows : 500;
	b.pages = (long) clamp(b.limit / per_page, 1, DRAIN_MAX_PAGES);
	if (pc->dry_run)
	{
		pgc_dry_run_note(pc, "repeated, each its own transaction, over windows of the default "
							 "partition's pages until its end; windows and limits follow "
							 "--drain-batch-time and --drain-batch-rows");
		b.limit = d->batch_rows;
		b.pages = (long) clamp(b.limit / per_page, 1, DRAIN_MAX_PAGES);
		return lock_run_txn(pc, policy, drain_batch_body, &b, NULL, err);
	}
	for (;;)
	{
		LockStats st;
		double took, f;
		long limit_used = b.limit;

		if (b.first_page >= pages)
		{
			if (rereads++ >= DRAIN_REREADS || !default_pages(pc, np, &pages, &per_page, err))
				return !err_is_set(err);
			if (b.first_page >= pages)
				return true;
		}
		if (!drain_throttle(pc, d, th, b.moved, err) ||
			!lock_run_txn(pc, policy, drain_batch_body, &b, &st, err))
			return false;
		lock_felt_note(&res->drain_felt, &st);
		res->drain_batches++;
		res->rows_moved += b.moved;
		took = st.queued_ms + st.held_ms;
		f = clamp(budget / (took > 0.1 ? took : 0.1), 0.5, 2.0);
		if (b.moved < limit_used)
			b.first_page += b.pages;
		b.limit = (long) clamp(b.limit * f, 1, d->batch_rows);
		b.pages = (long) clamp(b.pages * f, 1, DRAIN_MAX_PAGES);
	}
}

/* "<verb> <the default partition><rest>", run; rest holds no value from a user */
static bool
on_default(PgConn *pc, const NewPartition *np, const char *verb, const char *rest,
		   PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_append(&sql, verb);
	pgc_append_qualified(pc, &sql, np->default_schema, np->default_name);
	sb_append(&sql, rest);
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

/*
 * After a drain the default partition's pages hold the dead versions of the
 * rows moved: the ATTACH transaction would read them all under its lock (the
 * rows left, ATTACH's own scan).  VACUUM takes SHARE UPDATE EXCLUSIVE (writers
 * go on) and gives the empty pages at the end back, the ACCESS EXCLUSIVE it
 * needs for that only taken when nobody waits, and let go as soon as
 * somebody does.  A default that held mostly rows of the range shrinks to
 * the little writers added meanwhile.
 */
static bool
vacuum_default(PgConn *pc, const NewPartition *np, PgpError *err)
{
	return on_default(pc, np, "VACUUM ", "", err);
}

/*
 * "column IS NULL OR column < lo OR column >= hi" on the default partition:
 * the negation of the new partition's constraint, in the form PostgreSQL
 * normalises that negation to, so that ATTACH proves from it that the
 * default holds no row of the range and skips its scan.  NOT VALID: adding
 * it reads nothing and holds the default's ACCESS EXCLUSIVE lock only for
 * the catalog change.
 */
static bool
add_default_check_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	const NewPartition *np = arg;
	StrBuf rest;
	bool ok;

	sb_init(&rest);
	sb_append(&rest, " DROP CONSTRAINT IF EXISTS " DEFAULT_CHECK ", ADD CONSTRAINT " DEFAULT_CHECK
					 " CHECK (");
	pgc_append_ident(pc, &rest, np->column);
	sb_append(&rest, " IS NULL OR ");
	pgc_append_ident(pc, &rest, np->column);
	sb_append(&rest, " < ");
	pgc_append_literal(pc, &rest, np->lo_literal);
	sb_append(&rest, " OR ");
	pgc_append_ident(pc, &rest, np->column);
	sb_append(&rest, " >= ");
	pgc_append_literal(pc, &rest, np->hi_literal);
	sb_append(&rest, ") NOT VALID");
	ok = on_default(pc, np, "ALTER TABLE ONLY ", rest.data, err);
	lock_txn_mark_locked(stats);
	sb_free(&rest);
	return ok;
}

/* VALIDATE reads the default under SHARE UPDATE EXCLUSIVE: writers go on */
static bool
validate_default_check_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	const NewPartition *np = arg;
	bool ok = on_default(pc, np, "ALTER TABLE ONLY ", " VALIDATE CONSTRAINT " DEFAULT_CHECK, err);

	lock_txn_mark_locked(stats);
	return ok;
}

/* in the ATTACH transaction, which holds the default's ACCESS EXCLUSIVE lock already */
static bool
drop_default_check(PgConn *pc, const NewPartition *np, PgpError *err)
{
	return on_default(pc, np, "ALTER TABLE ONLY ", " DROP CONSTRAINT " DEFAULT_CHECK, err);
}

/* whether DEFAULT_CHECK is on the default partition (a crash may have left it), and valid */
static bool
default_check_state(PgConn *pc, const NewPartition *np, bool *present, bool *validated,
					PgpError *err)
{
	char *q = pgc_quote_qualified(pc, np->default_schema, np->default_name);
	const char *params[2] = {q, DEFAULT_CHECK};
	PGresult *res = pgc_query(pc,
							  "SELECT c.convalidated FROM pg_catalog.pg_constraint c "
							  "WHERE c.conrelid = $1::pg_catalog.regclass AND c.conname = $2",
							  2, params, err);

	free(q);
	if (res == NULL)
		return false;
	*present = PQntuples(res) > 0;
	*validated = *present && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return true;
}

/* the one transaction of partition_attach_new, run (and re-run) by lock_run_txn */
static bool
attach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	AttachCtx *ctx = arg;
	const NewPartition *np = ctx->np;

	ctx->rows_moved = 0;
	if ((!ctx->table_ready && !create_standalone(pc, np, err)) || !lock_for_attach(pc, np, err))
		return false;
	lock_txn_mark_locked(stats);
	if (ctx->move_remainder && np->move_from_default && np->default_name && np->lo_literal &&
		!move_from_default(pc, np, &ctx->rows_moved, err))
		return false;
	return attach(pc, np, err) && (!ctx->table_ready || set_drain_mark(pc, np, false, err)) &&
		   (!ctx->drop_default_check || drop_default_check(pc, np, err));
}

/*
 * What the ATTACH transaction will lock, for lock_run_txn_on's look before
 * each attempt: the modes of lock_for_attach (ATTACH's own on the parent are
 * not stronger).  Returns how many are known.
 */
static int
attach_targets(const NewPartition *np, LockTarget targets[2])
{
	/* ATTACH locks the parent alone (LOCK TABLE ONLY), and the default partition */
	targets[0].rel = np->parent_oid;
	targets[0].mode = np->default_name ? LOCK_SHARE_ROW_EXCLUSIVE : LOCK_SHARE_UPDATE_EXCLUSIVE;
	targets[0].scope = LOCK_SCOPE_RELATION;
	targets[1].rel = np->default_oid;
	targets[1].mode = LOCK_ACCESS_EXCLUSIVE;
	targets[1].scope = LOCK_SCOPE_RELATION;
	return np->parent_oid == 0 ? 0 : np->default_oid == 0 ? 1 : 2;
}

/*
 * The drain of the default partition before the ATTACH, in steps that are
 * each a short transaction and each safe to interrupt:
 *  1. the standalone table, marked with a comment (a rerun resumes into it);
 *  2. batches of rows out of the default partition into it;
 *  3. with --drain-check: a NOT VALID CHECK on the default that excludes the
 *     range, a second pass for rows writers put there before it;
 *  4. VACUUM of the default (when rows moved), then with --drain-check its
 *     VALIDATE;
 *  5. the ATTACH transaction: the rows left (none with a valid CHECK),
 *     ATTACH, the mark and the CHECK dropped.
 *
 * Why the CHECK on the default is not the default: while it is there and
 * the range has no partition yet, an application INSERT of a row of that
 * range fails ("violates check constraint"), from step 3 to the commit of 5,
 * a window as long as the second pass, VACUUM and VALIDATE (reads of the
 * whole default partition).  Without it no writer ever gets an error; the
 * ATTACH transaction then reads the default partition twice under its lock
 * (to move what is left, and ATTACH's own scan), but after the drain and
 * VACUUM the default holds only rows of other ranges, so that read is short
 * unless the default stays big (NULL keys, archived ranges).  Then --drain-check is the better
 * trade, if no writer inserts rows of the new range.
 *
 * While the drain runs, the rows already moved are in a table that is not
 * yet a partition: queries of the parent do not see them, and an UPDATE or
 * DELETE of one through the parent finds nothing.  --drain-batch-rows 0
 * keeps every row visible (all moved in the ATTACH transaction, as before)
 * at the price of the writers' wait.
 */
static bool
drain_then_attach(PgConn *pc, const LockPolicy *policy, const NewPartition *np,
				  AttachResult *result, PgpError *err)
{
	AttachCtx ctx = {np, 0, true, true, false};
	LockTarget targets[2];
	int ntargets;
	LockStats st;
	bool exists, present = false, validated = false;
	bool ok;

	if (!drained_table_exists(pc, np, &exists, err))
		return false;
	if (!exists)
	{
		if (!lock_run_txn(pc, policy, create_drain_table_body, (void *) np, &st, err))
			return false;
		lock_felt_note(&result->drain_felt, &st);
	}
	/* batch_rows 0: a rerun of an interrupted batched drain, finished in the ATTACH */
	if (np->drain->batch_rows > 0 && !drain_default_in_batches(pc, policy, np, result, err))
		return false;
	if (np->drain->batch_rows > 0 && np->drain->default_check)
	{
		if (!lock_run_txn(pc, policy, add_default_check_body, (void *) np, &st, err))
			return false;
		lock_felt_note(&result->drain_felt, &st);
		if (!drain_default_in_batches(pc, policy, np, result, err))
			return false;
	}
	if ((result->rows_moved > 0 || pc->dry_run) && !vacuum_default(pc, np, err))
		return false;
	if (np->drain->batch_rows > 0 && np->drain->default_check)
	{
		if (!lock_run_txn(pc, policy, validate_default_check_body, (void *) np, &st, err))
			return false;
		lock_felt_note(&result->drain_felt, &st);
	}
	if (pc->dry_run)
		present = validated = np->drain->default_check;
	else if (!default_check_state(pc, np, &present, &validated, err))
		return false;
	/* a valid CHECK proves no row of the range is left; a leftover one goes */
	ctx.move_remainder = !validated;
	ctx.drop_default_check = present;
	ntargets = attach_targets(np, targets);
	ok = lock_run_txn_on(pc, policy, targets, ntargets, attach_body, &ctx, &result->locks, err);
	if (ok)
		result->rows_moved += ctx.rows_moved;
	else if (result->rows_moved > 0 || exists)
		err_hint(err, "Rows already moved wait in the table %s.%s, which is not attached yet; "
					  "run pgpart maintain again to finish.",
				 np->parent_schema, np->name);
	return ok;
}

/*
 * Batches when asked for; and always when an interrupted batched drain left
 * its marked table, which holds rows only it can bring back into view.
 */
static bool
drain_wanted(PgConn *pc, const NewPartition *np, bool *wanted, PgpError *err)
{
	*wanted = false;
	if (!np->drain || !np->move_from_default || !np->default_name || !np->lo_literal)
		return true;
	if (np->drain->batch_rows > 0)
	{
		*wanted = true;
		return true;
	}
	return drained_table_exists(pc, np, wanted, err);
}

bool
partition_attach_new(PgConn *pc, const LockPolicy *policy, const NewPartition *np,
					 AttachResult *result, PgpError *err)
{
	AttachCtx ctx = {np, 0, false, true, false};
	LockTarget targets[2];
	int ntargets = attach_targets(np, targets);
	bool ok, batched, validated;

	memset(result, 0, sizeof(*result));
	if (!drain_wanted(pc, np, &batched, err))
		ok = false;
	else if (batched)
		ok = drain_then_attach(pc, policy, np, result, err);
	/* a CHECK an interrupted --drain-check left on the default goes with this ATTACH */
	else if (np->default_name && !pc->dry_run &&
			 !default_check_state(pc, np, &ctx.drop_default_check, &validated, err))
		ok = false;
	else
	{
		ok = lock_run_txn_on(pc, policy, targets, ntargets, attach_body, &ctx, &result->locks,
							 err);
		result->rows_moved = ok ? ctx.rows_moved : 0;
	}
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
partition_attach_range(PgConn *pc, const char *parent_q, const char *part_q, const char *lo,
					   const char *hi, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "ALTER TABLE %s ATTACH PARTITION %s", parent_q, part_q);
	partition_append_bound_spec(pc, &sql, lo, hi);
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
partition_drop_check(PgConn *pc, const char *table_q, const char *name, bool if_exists,
					 PgpError *err)
{
	char *name_q = pgc_quote_ident(pc, name);
	bool ok = stmt_change_f(pc, err, "ALTER TABLE %s DROP CONSTRAINT %s%s", table_q,
							if_exists ? "IF EXISTS " : "", name_q);

	free(name_q);
	return ok;
}

bool
partition_drop_foreign(PgConn *pc, const char *part_q, PgpError *err)
{
	return stmt_change_f(pc, err, "DROP FOREIGN TABLE %s", part_q);
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
