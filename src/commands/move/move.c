/*
 * move.c - the warm tier: move one closed partition to another
 * tablespace (and back) without an ACCESS EXCLUSIVE lock on the table for
 * the length of a rewrite.
 *
 * ALTER TABLE ... SET TABLESPACE would hold ACCESS EXCLUSIVE on the
 * partition while it copies every block: every query of the table that
 * touches the partition would wait that long.  Instead:
 *
 *   guard   a short transaction installs a BEFORE trigger on the partition
 *           that refuses INSERT, UPDATE, DELETE and TRUNCATE with a clear
 *           error (55006): from its commit on, the rows cannot change;
 *   copy    a new table in the target tablespace gets the rows, then the
 *           indexes, a CHECK constraint of the bounds (so ATTACH needs no
 *           scan) and statistics; count and checksum are compared with the
 *           partition's before this transaction commits.  Readers go on
 *           reading the partition the whole time;
 *   swap    one short transaction under lock_timeout, retried with backoff:
 *           DETACH the partition, ATTACH the copy with the same bounds,
 *           trade names (table and indexes), and give the copy the
 *           partition's own triggers, grants, owner and comment.  Readers of
 *           the table wait for it (milliseconds, at most lock_timeout to get
 *           the locks);
 *   drop    the former partition, in its own transaction (or kept).
 *
 * A crash anywhere leaves every row in the attached partition: before the
 * swap the copy is a leftover (recognised by its name and COMMENT marker),
 * after it the former partition is.  The next run drops leftovers and the
 * guard, and starts again or finishes.
 */
#include "commands/move/move.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "pg/partition.h"
#include "pg/lock.h"
#include "pg/worklock.h"
#include "pg/catalog.h"
#include "pg/citus.h"
#include "pg/compare.h"
#include "pg/config.h"
#include "pg/health.h"
#include "pg/schema.h"
#include "pg/stmt.h"
#include "commands/move/move_sql.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/testhook.h"

void
tiermoveresult_free(TierMoveResult *r)
{
	FREE_ALL(r->partition, r->from_tablespace, r->to_tablespace, r->old_table);
	namelist_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

typedef struct Move
{
	const TierMoveOptions *opt;
	RelInfo parent;
	PartitionList parts;
	const PartitionInfo *part;
	const PartitionInfo *def; /* the default partition or NULL */
	char *column;
	KeyType key_type;
	char *time_zone;
	char *tablespace; /* the target, as the catalog spells it */
	char *part_q;	  /* "schema"."name" */
	char *part_regclass;
	char *copy_name;
	char *copy_q;
	char *old_name; /* the former partition's name after the swap */
	char *old_q;
	char *parent_q;
	char *default_q;
	char *bound_sql; /* FOR VALUES FROM (...) TO (...) */
	char *columns;	 /* insertable columns, quoted */
	char *reloptions;
	char *fingerprint;
	char *copy_xid; /* the copy's transaction (32-bit xid, as text) */
	bool unlogged;
	TierIndexList idx;
	NameList col_settings;
	NameList fk_add;
	NameList fk_validate;
	NameList after;
	long rows;
} Move;

static void
move_free(Move *m)
{
	relinfo_free(&m->parent);
	partitionlist_free(&m->parts);
	FREE_ALL(m->column, m->time_zone, m->tablespace, m->part_q, m->part_regclass, m->copy_name,
			 m->copy_q, m->old_name, m->old_q, m->parent_q, m->default_q, m->bound_sql,
			 m->columns, m->reloptions, m->fingerprint, m->copy_xid);
	tierindexlist_free(&m->idx);
	NAMELIST_FREE_ALL(&m->col_settings, &m->fk_add, &m->fk_validate, &m->after);
}

static void
note_locks(TierMoveResult *res, const LockStats *st)
{
	res->lock_attempts += st->attempts;
	if (st->held_ms > res->max_lock_held_ms)
		res->max_lock_held_ms = st->held_ms;
	lock_felt_note(&res->felt, st);
}

#ifdef PGPART_TEST_HOOKS
/*
 * Test builds only: PGPART_TEST_MOVE_PAUSE=STEP:SECONDS stops the move at
 * STEP ("copy": rows copied, transaction open; "swap": copy committed, swap
 * not begun) so that tests can act meanwhile or kill pgpart there.
 */
#define test_pause(step) testhook_pause("PGPART_TEST_MOVE_PAUSE", (step))
#else
#define test_pause(step) ((void) 0)
#endif

static bool
cancelled(const Move *m, PgpError *err)
{
	if (m->opt->cancel == NULL || !*m->opt->cancel)
		return false;
	err_set(err, EXIT_RUNTIME, "interrupted; nothing was changed");
	return true;
}

/* ---- checks: nothing is changed until all of them passed ---- */

static bool
resolve(PgConn *pc, Move *m, PgpError *err)
{
	const TierMoveOptions *opt = m->opt;
	RelInfo rel;
	ColumnInfo col;
	bool found;
	PartConfig *cfgs = NULL;
	int ncfg = 0, i;

	if (!catalog_resolve_table(pc, opt->table, &m->parent, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		return false;
	}
	if (m->parent.relkind != 'p')
	{
		err_set(err, EXIT_USAGE, "%s.%s is not a partitioned table", m->parent.schema,
				m->parent.name);
		return false;
	}
	if (!catalog_range_key_column(pc, m->parent.oid, &m->column, err))
		return false;
	if (m->column == NULL)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not partitioned by RANGE on one column",
				m->parent.schema, m->parent.name);
		return false;
	}
	if (!catalog_column(pc, m->parent.oid, m->column, &col, &found, err))
		return false;
	if (!found || !col.key_type_ok)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not partitioned by a date or timestamp column",
				m->parent.schema, m->parent.name);
		columninfo_free(&col);
		return false;
	}
	m->key_type = col.key_type;
	columninfo_free(&col);
	/* the table's time zone decides when a timestamp or date range is over */
	if (!config_load(pc, m->parent.oid, &cfgs, &ncfg, err))
		return false;
	m->time_zone = pg_xstrdup(ncfg > 0 && cfgs[0].time_zone ? cfgs[0].time_zone : "UTC");
	partconfig_list_free(cfgs, ncfg);

	if (!catalog_partitions(pc, m->parent.oid, &m->parts, err))
		return false;
	if (m->parts.default_index >= 0)
		m->def = &m->parts.items[m->parts.default_index];
	if (!catalog_resolve_table(pc, opt->partition, &rel, &found, err))
		return false;
	for (i = 0; i < m->parts.n && m->part == NULL; i++)
		if (found ? m->parts.items[i].oid == rel.oid
				  : strcmp(m->parts.items[i].name, opt->partition) == 0)
			m->part = &m->parts.items[i];
	relinfo_free(&rel);
	if (m->part == NULL)
	{
		err_set(err, EXIT_USAGE, "\"%s\" is not a partition of %s.%s", opt->partition,
				m->parent.schema, m->parent.name);
		err_hint(err, "\"pgpart status %s.%s\" lists its partitions.", m->parent.schema,
				 m->parent.name);
		return false;
	}
	if (m->part->is_default)
	{
		err_set(err, EXIT_USAGE, "%s.%s is the default partition, which is never closed",
				m->part->schema, m->part->name);
		err_hint(err, "Only a partition whose range is entirely in the past can be moved.");
		return false;
	}
	if (!m->part->bounds_known)
	{
		err_set(err, EXIT_USAGE, "the bounds of partition %s.%s are not a simple range",
				m->part->schema, m->part->name);
		return false;
	}
	m->parent_q = pgc_quote_qualified(pc, m->parent.schema, m->parent.name);
	m->part_q = pgc_quote_qualified(pc, m->part->schema, m->part->name);
	if (m->def)
		m->default_q = pgc_quote_qualified(pc, m->def->schema, m->def->name);
	m->copy_name = naming_derive(m->part->name, "pgpart_move");
	m->old_name = naming_derive(m->part->name, "pgpart_old");
	if (m->copy_name == NULL || m->old_name == NULL)
	{
		err_set(err, EXIT_RUNTIME, "cannot derive temporary names for %s", m->part->name);
		return false;
	}
	m->copy_q = pgc_quote_qualified(pc, m->part->schema, m->copy_name);
	m->old_q = pgc_quote_qualified(pc, m->part->schema, m->old_name);
	return catalog_regclass_text(pc, m->part->oid, &m->part_regclass, err);
}

static bool
check_closed(PgConn *pc, Move *m, PgpError *err)
{
	bool closed = false;

	if (m->part->hi_unbounded || m->part->hi_text == NULL)
	{
		err_set(err, EXIT_USAGE, "partition %s.%s has no upper bound (MAXVALUE): it is never "
								 "closed",
				m->part->schema, m->part->name);
		return false;
	}
	if (!tiermove_range_closed(pc, m->key_type, m->part->hi_text, m->time_zone, &closed, err))
		return false;
	if (!closed)
	{
		err_set(err, EXIT_USAGE, "partition %s.%s is not closed: its range ends at %s, which is "
								 "not in the past (time zone %s)",
				m->part->schema, m->part->name, m->part->hi_text, m->time_zone);
		err_hint(err, "Only a partition whose range is entirely in the past can be moved; "
					  "writes to an open range must not be refused.");
	}
	return closed;
}

static bool
check_tablespace(PgConn *pc, Move *m, PgpError *err)
{
	bool may = false;

	if (!tiermove_tablespace(pc, m->opt->tablespace, &m->tablespace, &may, err))
		return false;
	if (m->tablespace == NULL)
	{
		err_set(err, EXIT_USAGE, "tablespace \"%s\" does not exist", m->opt->tablespace);
		err_hint(err, "CREATE TABLESPACE creates one; \\db in psql lists them.");
		return false;
	}
	if (strcmp(m->tablespace, "pg_global") == 0)
	{
		err_set(err, EXIT_USAGE, "tablespace pg_global holds only shared system catalogs");
		return false;
	}
	if (!may)
	{
		err_set(err, EXIT_USAGE, "permission denied to create in tablespace \"%s\"",
				m->tablespace);
		err_hint(err, "GRANT CREATE ON TABLESPACE %s TO the role pgpart connects as.",
				 m->tablespace);
		return false;
	}
	return true;
}

/* where the partition is now; *there: the heap and every index already in the target */
static bool
current_place(PgConn *pc, Move *m, char **from, bool *there, PgpError *err)
{
	if (!tiermove_current_place(pc, m->part->oid, m->tablespace, from, there, &m->unlogged, err))
		return false;
	if (*from == NULL)
	{
		err_set(err, EXIT_RUNTIME, "partition %s.%s disappeared", m->part->schema, m->part->name);
		return false;
	}
	return true;
}

/* ---- leftovers of an interrupted move ---- */

typedef enum GuardAction
{
	GUARD_KEEP,
	GUARD_DISARM, /* disable: does not wait for readers */
	GUARD_DROP	  /* drop: ACCESS EXCLUSIVE on the partition */
} GuardAction;

typedef struct DropCtx
{
	const Move *m;
	const char *table_q; /* a table to drop, or NULL */
	GuardAction guard;
} DropCtx;

static bool
drop_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	DropCtx *c = arg;

	if (c->guard == GUARD_DROP && !tiermove_lock_exclusive(pc, c->m->part_q, false, err))
		return false;
	lock_txn_mark_locked(stats);
	if (c->table_q && !tiermove_drop_table(pc, c->table_q, err))
		return false;
	if (c->guard == GUARD_DISARM)
		return tiermove_disarm_guard(pc, c->m->part->oid, c->m->part_q, err);
	if (c->guard == GUARD_DROP)
		return tiermove_drop_guard(pc, c->m->part_q, err);
	return true;
}

static bool
run_drop(PgConn *pc, Move *m, const char *table_q, GuardAction guard, TierMoveResult *res,
		 PgpError *err)
{
	DropCtx c = {m, table_q, guard};
	LockStats st;
	bool ok = lock_run_txn(pc, &m->opt->lock, drop_body, &c, &st, err);

	if (ok)
		note_locks(res, &st);
	return ok;
}

/* drops the guard triggers if there are any; when a reader keeps that from happening, says so */
static bool
remove_guard(PgConn *pc, Move *m, TierMoveResult *res, PgpError *err)
{
	int present = 0;
	bool intact = false;
	PgpError derr;

	if (!tiermove_guard_state(pc, m->part->oid, &present, &intact, err))
		return false;
	if (present == 0)
		return true;
	err_init(&derr);
	if (!run_drop(pc, m, NULL, GUARD_DROP, res, &derr))
	{
		char *note = pg_xasprintf("the guard triggers on %s.%s are disabled but not dropped (%s); "
								  "the next move of it drops them",
								  m->part->schema, m->part->name,
								  derr.message ? derr.message : "error");

		namelist_add(&res->notes, note);
		free(note);
	}
	err_clear(&derr);
	return true;
}

/*
 * name is pgpart's leftover if it carries one of the markers: mark_drop
 * means drop it; mark_keep (may be NULL) means it was kept on purpose.  A
 * table of that name without a marker is the user's: refuse when the move
 * needs the name (need_name), else leave it alone.
 */
static bool
clear_leftover(PgConn *pc, Move *m, const char *name, const char *name_q, const char *mark_drop,
			   const char *mark_keep, bool need_name, TierMoveResult *res, PgpError *err)
{
	RelOid oid;
	char *comment = NULL;
	bool ok = true;

	if (!tiermove_find_table(pc, m->part->schema, name, &oid, &comment, err))
		return false;
	if (oid == 0)
		return true;
	if (comment && strncmp(comment, mark_drop, strlen(mark_drop)) == 0)
	{
		log_info("dropping %s.%s, left by an interrupted move", m->part->schema, name);
		ok = run_drop(pc, m, name_q, GUARD_KEEP, res, err);
		if (ok)
		{
			char *note = pg_xasprintf("dropped %s.%s, left by an interrupted move",
									  m->part->schema, name);

			namelist_add(&res->notes, note);
			free(note);
			res->leftovers_dropped++;
		}
	}
	else if (!need_name)
		ok = true;
	else if (comment && mark_keep && strncmp(comment, mark_keep, strlen(mark_keep)) == 0)
	{
		err_set(err, EXIT_USAGE, "%s.%s, kept by an earlier move with --keep-old, is in the way",
				m->part->schema, name);
		err_hint(err, "Drop it (DROP TABLE %s) and run the move again.", name_q);
		ok = false;
	}
	else
	{
		err_set(err, EXIT_USAGE, "a table named %s.%s exists; pgpart needs that name for the move",
				m->part->schema, name);
		err_hint(err, "Rename or drop it; pgpart drops only tables it marked as its own.");
		ok = false;
	}
	free(comment);
	return ok;
}

/* --abort, and the cleanup after a failed attempt: the copy (if still a copy) and the guard */
static bool
undo(PgConn *pc, Move *m, TierMoveResult *res, PgpError *err)
{
	RelOid oid;
	char *comment = NULL;
	bool copy_is_ours;

	if (!tiermove_find_table(pc, m->part->schema, m->copy_name, &oid, &comment, err))
		return false;
	copy_is_ours = oid != 0 && comment &&
				   strncmp(comment, TIERMOVE_COPY_MARK, strlen(TIERMOVE_COPY_MARK)) == 0;
	free(comment);
	/* writers first: the guard is disabled, which no reader can hold up */
	return run_drop(pc, m, copy_is_ours ? m->copy_q : NULL, GUARD_DISARM, res, err) &&
		   remove_guard(pc, m, res, err);
}

/* ---- 1. guard ---- */

static bool
guard_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Move *m = arg;

	/*
	 * SHARE ROW EXCLUSIVE (what CREATE TRIGGER takes) waits for the writers
	 * in progress and lets readers through; once it commits, every later
	 * write of the range meets the trigger.
	 */
	if (!tiermove_lock_writers_out(pc, m->part_q, err))
		return false;
	lock_txn_mark_locked(stats);
	return tiermove_ensure_guard_function(pc, err) &&
		   tiermove_install_guard(pc, m->part->oid, m->part_q, m->tablespace, err);
}

/* ---- 2. copy ---- */

static bool
compare(PgConn *pc, Move *m, PgpError *err)
{
	TableCopy spec;
	NameList none = {0};
	KeyRange all = {NULL, NULL};
	char *sql;
	PGresult *res;
	bool ok = false;

	if (!tablecopy_load(pc, m->part->oid, m->copy_q, &none, m->column, &spec, err))
	{
		tablecopy_free(&spec);
		return false;
	}
	sql = tablecopy_compare_sql(&spec, &all);
	res = pgc_query(pc, sql, 0, NULL, err);
	free(sql);
	tablecopy_free(&spec);
	if (res == NULL)
		return false;
	if (strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2)) == 0 &&
		strcmp(PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 3)) == 0)
		ok = true;
	else
	{
		err_set(err, EXIT_RUNTIME, "the copy of %s.%s differs from it; nothing was changed",
				m->part->schema, m->part->name);
		err_detail(err, "partition: %s rows, checksum %s; copy: %s rows, checksum %s",
				   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
				   PQgetvalue(res, 0, 3));
		err_hint(err, "Was the guard trigger disabled meanwhile? Run the move again.");
	}
	PQclear(res);
	return ok;
}

static bool
copy_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Move *m = arg;
	TierCopy c = {m->copy_q,
				  m->part_q,
				  m->unlogged,
				  m->column,
				  m->part->lo_unbounded ? NULL : m->part->lo_text,
				  m->part->hi_text,
				  m->reloptions,
				  m->tablespace};
	char *mark;
	int i;
	bool ok;

	(void) stats;
	m->rows = 0;
	mark = pg_xasprintf("%s for %s.%s (tablespace %s); safe to drop", TIERMOVE_COPY_MARK,
						m->part->schema, m->part->name, m->tablespace);
	ok = tiermove_create_copy(pc, &c, err) && tiermove_comment(pc, m->copy_q, mark, err) &&
		 stmt_change_list(pc, &m->col_settings, err);
	free(mark);
	free(m->copy_xid);
	m->copy_xid = NULL;
	if (!ok ||
		!tiermove_copy_rows(pc, m->copy_q, m->part_q, m->columns, &m->rows, &m->copy_xid, err))
		return false;
	log_info("copied %ld rows of %s.%s; building %d indexes in %s", m->rows, m->part->schema,
			 m->part->name, m->idx.n, m->tablespace);
	test_pause("copy");
	for (i = 0; i < m->idx.n; i++)
	{
		if (!pgc_change(pc, m->idx.items[i].create_sql, 0, NULL, err))
			return false;
		if (m->idx.items[i].constraint_sql &&
			!pgc_change(pc, m->idx.items[i].constraint_sql, 0, NULL, err))
			return false;
	}
	if (!pc->dry_run && !compare(pc, m, err))
		return false;
	return tiermove_analyze(pc, m->copy_q, err);
}

/*
 * The foreign keys, after the copy committed: adding one locks the
 * referenced table against writes, so it gets a transaction of its own
 * under lock_timeout; validating it only reads.
 */
typedef struct FkCtx
{
	const NameList *stmts;
	int i; /* one statement per transaction; -1: all */
} FkCtx;

static bool
fk_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	FkCtx *c = arg;

	lock_txn_mark_locked(stats);
	if (c->i < 0)
		return stmt_change_list(pc, c->stmts, err);
	return pgc_change(pc, c->stmts->items[c->i], 0, NULL, err);
}

static bool
copy_foreign_keys(PgConn *pc, Move *m, TierMoveResult *res, PgpError *err)
{
	FkCtx c = {&m->fk_add, -1};
	LockStats st;
	int i;

	if (m->fk_add.n == 0)
		return true;
	if (!lock_run_txn(pc, &m->opt->lock, fk_body, &c, &st, err))
		return false;
	note_locks(res, &st);
	c.stmts = &m->fk_validate;
	for (i = 0; i < m->fk_validate.n; i++)
	{
		c.i = i;
		if (cancelled(m, err) || !lock_run_txn(pc, &m->opt->lock, fk_body, &c, &st, err))
			return false;
		res->lock_attempts += st.attempts;
	}
	return true;
}

/*
 * The copy's rows are new row versions, written by the copy's transaction: a
 * snapshot taken before it committed does not see them.  After the swap, a
 * REPEATABLE READ or SERIALIZABLE transaction holding such a snapshot would
 * find the partition empty, and its UPDATE or DELETE of those rows would
 * change nothing, without an error (a row it deleted would stay).  So, as
 * CREATE INDEX CONCURRENTLY does, wait before the swap until every
 * transaction whose snapshot may predate the copy (its xmin is not newer
 * than the copy's xid) has ended; snapshots taken later see the copy.  The
 * wait is bounded like a lock wait (lock_timeout times the attempts): a
 * longer one fails the move, which is then undone and can run again.
 * Autovacuum is left out, as CREATE INDEX CONCURRENTLY leaves it out (its
 * snapshot reads no user rows).
 */
static bool
wait_old_snapshots(PgConn *pc, Move *m, PgpError *err)
{
	char *waiting = NULL;
	double t0 = clock_ms();
	double limit = (double) m->opt->lock.lock_timeout_ms * m->opt->lock.max_attempts;
	bool logged = false;

	if (pc->dry_run || m->copy_xid == NULL)
		return true;
	if (!tiermove_old_snapshots(pc, m->copy_xid, &waiting, err))
		return false;
	if (waiting == NULL)
		return true;
	for (;;)
	{
		char *left = NULL;

		if (!tiermove_still_open(pc, waiting, &left, err))
			break;
		if (left == NULL)
		{
			free(waiting);
			return true;
		}
		if (cancelled(m, err))
		{
			free(left);
			break;
		}
		if (clock_ms() - t0 > limit)
		{
			err_set(err, EXIT_RUNTIME,
					"transactions older than the copy of %s.%s are still open after %.0f ms: %s",
					m->part->schema, m->part->name, clock_ms() - t0, left);
			err_detail(err, "Their snapshots cannot see the copy's rows; swapping it in now would "
							"hide the partition's rows from them.  Nothing was changed.");
			err_hint(err, "Run the move again when they have ended (pg_stat_activity shows them), "
						  "or with a larger --lock-timeout or --retries.");
			free(left);
			break;
		}
		if (!logged)
		{
			log_info("waiting for transactions older than the copy to end: %s", left);
			logged = true;
		}
		free(left);
		sleep_ms(50);
	}
	free(waiting);
	return false;
}

/* ---- 3. swap ---- */

static bool
swap_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Move *m = arg;
	const char *schema = m->part->schema;
	char *mark;
	int i;
	bool ok;

	/*
	 * In the order the application's queries lock: the table, then its
	 * partitions.  DETACH needs ACCESS EXCLUSIVE on the table: readers wait
	 * from here to COMMIT, so nothing below reads rows (the CHECK constraint
	 * spares ATTACH its scan; an empty default partition is checked at once).
	 * ONLY: LOCK on a partitioned table would lock every partition.
	 */
	if (!tiermove_lock_exclusive(pc, m->parent_q, true, err) ||
		!tiermove_lock_exclusive(pc, m->part_q, false, err) ||
		(m->default_q && !tiermove_lock_exclusive(pc, m->default_q, false, err)) ||
		!tiermove_lock_exclusive(pc, m->copy_q, false, err))
		return false;
	lock_txn_mark_locked(stats);
	if (!pc->dry_run)
	{
		char *now = NULL;
		int present = 0;
		bool intact = false;

		/* the copy is exact only if nothing could change the partition since it was taken */
		if (!table_fingerprint(pc, m->part->oid, &now, err) ||
			!tiermove_guard_state(pc, m->part->oid, &present, &intact, err))
		{
			free(now);
			return false;
		}
		if (now == NULL || strcmp(now, m->fingerprint) != 0 || !intact)
		{
			err_set(err, EXIT_RUNTIME,
					!intact ? "the write guard of %s.%s was removed or disabled during the move"
							: "the definition of %s.%s changed during the move",
					schema, m->part->name);
			err_detail(err, "The copy might not match; it was dropped and nothing was changed.");
			err_hint(err, "Run the move again.");
			free(now);
			return false;
		}
		free(now);
	}
	/* read under the locks: a GRANT or COMMENT made during the copy is not lost */
	namelist_free(&m->after);
	if (!tiermove_after_rename(pc, m->part->oid, m->part_regclass, &m->after, err))
		return false;
	if (!tiermove_exchange(pc, m->parent_q, m->part_q, m->copy_q, m->bound_sql, err) ||
		!tiermove_drop_guard(pc, m->part_q, err) ||
		!tiermove_rename(pc, false, schema, m->part->name, m->old_name, err) ||
		!tiermove_rename(pc, false, schema, m->copy_name, m->part->name, err))
		return false;
	/* names are unique per schema: first out of the way, then taken over */
	for (i = 0; i < m->idx.n; i++)
		if (!tiermove_rename(pc, true, schema, m->idx.items[i].name, m->idx.items[i].old_name,
							 err))
			return false;
	for (i = 0; i < m->idx.n; i++)
		if (!tiermove_rename(pc, true, schema, m->idx.items[i].tmp_name, m->idx.items[i].name,
							 err))
			return false;
	/* the partition constraint guarantees the same now */
	if (!partition_drop_check(pc, m->part_q, TIERMOVE_BOUNDS_CONSTRAINT, false, err) ||
		!stmt_change_list(pc, &m->after, err))
		return false;
	mark = pg_xasprintf("%s; it was %s.%s until the move to tablespace %s",
						m->opt->keep_old ? TIERMOVE_KEPT_MARK : TIERMOVE_OLD_MARK, schema,
						m->part->name, m->tablespace);
	ok = tiermove_comment(pc, m->old_q, mark, err);
	free(mark);
	return ok;
}

/* ---- the whole move ---- */

/* what the copy and the swap need, read while the guard is in place */
static bool
prepare(PgConn *pc, Move *m, PgpError *err)
{
	return tiermove_partition_bound(pc, m->part->oid, &m->bound_sql, err) &&
		   m->bound_sql != NULL && catalog_insertable_columns(pc, m->part->oid, &m->columns, err) &&
		   tiermove_reloptions(pc, m->part->oid, &m->reloptions, err) &&
		   tiermove_capture_indexes(pc, m->part->oid, m->copy_q, &m->idx, err) &&
		   tiermove_column_settings(pc, m->part->oid, m->copy_q, &m->col_settings, err) &&
		   tiermove_foreign_keys(pc, m->part->oid, m->copy_q, &m->fk_add, &m->fk_validate, err) &&
		   table_fingerprint(pc, m->part->oid, &m->fingerprint, err);
}

/* the health limits of the command line, keyed by the partition (pgpart.throttle_limit) */
static bool
wait_healthy(PgConn *pc, Move *m, TierMoveResult *res, PgpError *err)
{
	char *label = pg_xasprintf("move of %s.%s", m->part->schema, m->part->name);
	bool ok = health_wait(pc, m->part->oid, label, &m->opt->health, "the copy", &res->notes, err);

	free(label);
	return ok;
}

static bool
finish_result(PgConn *pc, Move *m, TierMoveResult *res, PgpError *err)
{
	res->rows = m->rows;
	return pc->dry_run || tiermove_total_size(pc, m->part_regclass, &res->bytes, err);
}

static bool
do_move(PgConn *pc, Move *m, TierMoveResult *res, PgpError *err)
{
	NameList blockers = {0};
	LockStats st;
	bool there = false;
	double t0;

	if (!check_tablespace(pc, m, err) || !check_closed(pc, m, err) ||
		!current_place(pc, m, &res->from_tablespace, &there, err))
		return false;
	res->to_tablespace = pg_xstrdup(m->tablespace);
	if (!there && !tiermove_blockers(pc, m->parent.oid, m->part->oid, &blockers, err))
		return false;
	if (blockers.n > 0)
	{
		char *list = namelist_join(&blockers, "; ");

		err_set(err, EXIT_USAGE, "partition %s.%s cannot be moved online", m->part->schema,
				m->part->name);
		err_detail(err, "%s.", list);
		free(list);
		namelist_free(&blockers);
		return false;
	}
	/* a former partition whose drop was interrupted: finish that first */
	if (!clear_leftover(pc, m, m->old_name, m->old_q, TIERMOVE_OLD_MARK, TIERMOVE_KEPT_MARK,
						!there, res, err))
		return false;
	if (there)
	{
		res->already_there = true;
		return remove_guard(pc, m, res, err);
	}
	/* a copy left by an interrupted attempt: start again from the rows */
	if (!clear_leftover(pc, m, m->copy_name, m->copy_q, TIERMOVE_COPY_MARK, NULL, true, res, err))
		return false;

	/*
	 * The copy is one statement that writes the whole partition to WAL, and
	 * writes to the partition are refused while it runs: the wait for the
	 * server's health comes before the guard, while writers still go on.
	 */
	if (!wait_healthy(pc, m, res, err))
		return false;
	/* 1. from here on, a failure must take the guard (and a copy) away again */
	if (!lock_run_txn(pc, &m->opt->lock, guard_body, m, &st, err))
		return false;
	note_locks(res, &st);
	log_info("writes to %s.%s are refused from now on; copying it to tablespace %s",
			 m->part->schema, m->part->name, m->tablespace);
	t0 = clock_ms();
	/* 2. */
	if (cancelled(m, err) || !prepare(pc, m, err) ||
		!lock_run_txn(pc, &m->opt->lock, copy_body, m, &st, err))
		goto undo;
	res->lock_attempts += st.attempts;
	if (!copy_foreign_keys(pc, m, res, err))
		goto undo;
	res->copy_ms = clock_ms() - t0;
	if (!wait_old_snapshots(pc, m, err))
		goto undo;
	test_pause("swap");
	/* 3. */
	log_info("copy of %s.%s verified (%ld rows, count and checksum); swapping it in",
			 m->part->schema, m->part->name, m->rows);
	if (cancelled(m, err) || !lock_run_txn(pc, &m->opt->lock, swap_body, m, &st, err))
		goto undo;
	note_locks(res, &st);
	res->swap_lock_held_ms = st.held_ms;
	/* 4. the former partition: nothing uses it any more */
	if (m->opt->keep_old)
		res->old_table = pg_xasprintf("%s.%s", m->part->schema, m->old_name);
	else
	{
		PgpError derr;

		err_init(&derr);
		if (!run_drop(pc, m, m->old_q, GUARD_KEEP, res, &derr))
		{
			char *note = pg_xasprintf("moved, but the former partition %s.%s could not be "
									  "dropped (%s); the next move of this partition drops it",
									  m->part->schema, m->old_name,
									  derr.message ? derr.message : "error");

			namelist_add(&res->notes, note);
			free(note);
			res->old_table = pg_xasprintf("%s.%s", m->part->schema, m->old_name);
		}
		err_clear(&derr);
	}
	return finish_result(pc, m, res, err);

undo:
	if (!pc->dry_run)
	{
		PgpError uerr;

		err_init(&uerr);
		if (!undo(pc, m, res, &uerr))
			err_hint(err, "The write guard on %s.%s could not be removed (%s): run \"pgpart move "
						  "%s %s --abort\" (or the move again) to let writers in.",
					 m->part->schema, m->part->name, uerr.message ? uerr.message : "error",
					 m->opt->table, m->opt->partition);
		err_clear(&uerr);
	}
	return false;
}

bool
ops_tier_move(PgConn *pc, const TierMoveOptions *opt, TierMoveResult *res, PgpError *err)
{
	Move m;
	WorkLock wl = {0};
	bool ok = false;
	double t0 = clock_ms();

	memset(res, 0, sizeof(*res));
	memset(&m, 0, sizeof(m));
	m.opt = opt;
	m.parts.default_index = -1;
	if (!schema_require(pc, err) || !resolve(pc, &m, err) ||
		!citus_refuse_move(pc, m.parent.oid, err))
		goto done;
	res->partition = pg_xasprintf("%s.%s", m.part->schema, m.part->name);
	wl.cancel = opt->cancel; /* its Ctrl-C handler would otherwise leave a --wait waiting */
	if (!worklock_take(pc, &wl, opt->abort ? "move --abort" : "move", &m.parent.oid, 1, err))
		goto done;
	if (opt->abort)
	{
		ok = undo(pc, &m, res, err);
		res->aborted = ok;
	}
	else
		ok = do_move(pc, &m, res, err);
done:
	worklock_release(pc, &wl);
	res->duration_ms = clock_ms() - t0;
	if (!ok && m.part && err->exit_code == EXIT_RUNTIME)
		err_prefix(err, "move of %s.%s", m.part->schema, m.part->name);
	move_free(&m);
	return ok;
}
