/*
 * remote_job.c - a closed partition to another PostgreSQL server and back,
 * one pgpart.remote_job row per trip, its phase written before the next
 * step begins:
 *
 *   send   started --guard--> (remote table, rows, indexes committed there)
 *                  --verify--> copied --swap--> done
 *   fetch  started --copy + verify--> copied --swap--> swapped --drop remote--> done
 *   either, before the swap: --abort--> aborted
 *
 * send:  a transaction installs move's write guard on the partition and
 *        records the job ("started"); the table is made on the remote and
 *        the rows streamed into it (COPY TO STDOUT here, COPY FROM STDIN
 *        there) and committed there; then, in one remote snapshot that holds
 *        SHARE on the remote table (writers there wait, readers do not),
 *        count and checksum of both sides are compared ("copied"); one
 *        short local transaction under the lock rules checks the guard is
 *        untouched (its triggers' row versions, the relfilenode, the
 *        definition), detaches and drops the partition, creates the foreign
 *        table in its name and attaches it where companion_prepare says,
 *        and records "done".  Until that commit the rows are in the local
 *        partition (the remote copy is a leftover, marked by its COMMENT);
 *        from it on, on the remote, read through the foreign table.
 * fetch: the local copy (LIKE the table, the bounds' CHECK, the table's
 *        indexes) is filled from the remote in one transaction that also
 *        verifies it and records "copied"; the swap replaces the foreign
 *        table by it ("swapped"); only then is the remote table dropped
 *        ("done").
 *
 * kill -9 anywhere: the next run continues from the phase recorded (a copy
 * not recorded as verified is dropped and made again) or, with --abort,
 * undoes what a job not yet swapped did.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/move/move_sql.h"
#include "commands/remote/remote.h"
#include "commands/remote/remote_sql.h"
#include "commands/rollup/rollup.h"
#include "core/naming.h"
#include "pg/citus.h"
#include "pg/companion.h"
#include "pg/compare.h"
#include "pg/config.h"
#include "pg/health.h"
#include "pg/partition.h"
#include "pg/schema.h"
#include "pg/stmt.h"
#include "pg/worklock.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/testhook.h"

#ifdef PGPART_TEST_HOOKS
/* PGPART_TEST_REMOTE_KILL=POINT: the process dies with SIGKILL there */
static void
test_kill(const char *point)
{
	const char *env = getenv("PGPART_TEST_REMOTE_KILL");

	if (env && strcmp(env, point) == 0)
	{
		fflush(NULL);
		raise(SIGKILL);
	}
}
#define TEST_KILL(point) test_kill(point)
#define TEST_PAUSE(step) testhook_pause("PGPART_TEST_REMOTE_PAUSE", (step))
#else
#define TEST_KILL(point) ((void) 0)
#define TEST_PAUSE(step) ((void) 0)
#endif

typedef struct Trip
{
	const RemoteOptions *opt;
	RemoteResult *res;
	PgConn *pc;
	PgConn rpc;
	bool connected;	  /* rpc is open */
	bool remote_txn;  /* rpc has the verifying snapshot open (SHARE on the remote table) */
	PartConfig cfg;
	PartitionList parts;	/* of the table */
	PartitionList cparts;	/* of the companion, when the partition is there */
	const PartitionInfo *part;
	const PartitionInfo *def;
	ForeignHome found_in;	/* fetch: the companion the foreign partition is under, if so */
	KeyType key_type;
	char *parent_q, *part_q, *default_q, *home_q;
	char *part_regclass;
	char *srvname;
	char *copy_name, *copy_q; /* fetch */
	RemoteColumns cols;
	RemoteJob job;
	char *fingerprint, *stamp;
	char *encoding;
	char *mark;
	NameList carry;		/* owner and grants, for what takes the partition's name */
	NameList indexes;	/* fetch: the table's indexes on the copy */
} Trip;

static void
trip_free(Trip *t)
{
	if (t->connected)
	{
		if (t->remote_txn)
			remote_sql_rollback(&t->rpc);
		pgc_close(&t->rpc);
	}
	partconfig_free(&t->cfg);
	partitionlist_free(&t->parts);
	partitionlist_free(&t->cparts);
	foreign_home_free(&t->found_in);
	FREE_ALL(t->parent_q, t->part_q, t->default_q, t->home_q, t->part_regclass, t->srvname,
			 t->copy_name, t->copy_q, t->fingerprint, t->stamp, t->encoding, t->mark);
	remotecolumns_free(&t->cols);
	remotejob_free(&t->job);
	NAMELIST_FREE_ALL(&t->carry, &t->indexes);
}

static bool
cancelled(const Trip *t, PgpError *err)
{
	if (t->opt->cancel == NULL || !*t->opt->cancel)
		return false;
	err_set(err, EXIT_RUNTIME, "interrupted");
	return true;
}

static void
note_locks(Trip *t, const LockStats *st)
{
	t->res->lock_attempts += st->attempts;
	lock_felt_note(&t->res->felt, st);
}

/* ---- what the job is about ---------------------------------------------- */

static const PartitionInfo *
find_in(const PartitionList *l, RelOid oid, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (oid ? l->items[i].oid == oid : strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

static bool
resolve(Trip *t, bool fetch, PgpError *err)
{
	PgConn *pc = t->pc;
	const RemoteOptions *opt = t->opt;
	RelInfo rel;
	ColumnInfo col;
	bool found;

	if (!config_load_one_managed(pc, opt->table, &t->cfg, err))
		return false;
	if (!catalog_column(pc, t->cfg.parent, t->cfg.column, &col, &found, err))
		return false;
	t->key_type = col.key_type;
	columninfo_free(&col);
	if (!catalog_partitions(pc, t->cfg.parent, &t->parts, err))
		return false;
	if (t->parts.default_index >= 0)
		t->def = &t->parts.items[t->parts.default_index];
	if (!catalog_resolve_table(pc, opt->partition, &rel, &found, err))
		return false;
	t->part = find_in(&t->parts, found ? rel.oid : 0, opt->partition);
	if (t->part == NULL && fetch &&
		!companion_find(pc, t->cfg.parent_schema, t->cfg.parent_name, &t->found_in, err))
	{
		relinfo_free(&rel);
		return false;
	}
	if (t->part == NULL && t->found_in.name && t->found_in.oid &&
		catalog_partitions(pc, t->found_in.oid, &t->cparts, err))
		t->part = find_in(&t->cparts, found ? rel.oid : 0, opt->partition);
	if (t->part == NULL && err_is_set(err))
	{
		relinfo_free(&rel);
		return false;
	}
	relinfo_free(&rel);
	if (t->part == NULL)
	{
		err_set(err, EXIT_USAGE, "\"%s\" is not a partition of %s.%s", opt->partition,
				t->cfg.parent_schema, t->cfg.parent_name);
		err_hint(err, "\"pgpart status %s.%s\" lists its partitions.", t->cfg.parent_schema,
				 t->cfg.parent_name);
		return false;
	}
	if (t->part->is_default)
	{
		err_set(err, EXIT_USAGE, "%s.%s is the default partition, which is never closed",
				t->part->schema, t->part->name);
		return false;
	}
	if (!t->part->bounds_known || t->part->lo_unbounded || t->part->hi_unbounded ||
		t->part->lo_text == NULL || t->part->hi_text == NULL)
	{
		err_set(err, EXIT_USAGE, "the bounds of partition %s.%s are not a closed range FROM (...) "
								 "TO (...)",
				t->part->schema, t->part->name);
		return false;
	}
	t->parent_q = pgc_quote_qualified(pc, t->cfg.parent_schema, t->cfg.parent_name);
	t->part_q = pgc_quote_qualified(pc, t->part->schema, t->part->name);
	if (t->def)
		t->default_q = pgc_quote_qualified(pc, t->def->schema, t->def->name);
	t->res->partition = pg_xasprintf("%s.%s", t->part->schema, t->part->name);
	return catalog_regclass_text(pc, t->part->oid, &t->part_regclass, err) &&
		   remote_sql_columns(pc, t->part->oid, &t->cols, err);
}

static bool
check_closed(Trip *t, PgpError *err)
{
	bool closed = false;

	if (!tiermove_range_closed(t->pc, t->key_type, t->part->hi_text, t->cfg.time_zone, &closed,
							   err))
		return false;
	if (!closed)
	{
		err_set(err, EXIT_USAGE, "partition %s.%s is not closed: its range ends at %s, which is "
								 "not in the past (time zone %s)",
				t->part->schema, t->part->name, t->part->hi_text, t->cfg.time_zone);
		err_hint(err, "Only a partition whose range is entirely in the past goes to a remote.");
	}
	return closed;
}

static bool
connect_remote(Trip *t, PgpError *err)
{
	if (t->connected)
		return true;
	if (!remote_connect(t->pc, t->job.server, &t->rpc, err))
		return false;
	t->connected = true;
	return t->encoding != NULL ||
		   (remote_sql_encoding(t->pc, &t->encoding, err) &&
			remote_sql_same_output(t->pc, t->encoding, err) &&
			remote_sql_same_output(&t->rpc, t->encoding, err));
}

static void
make_mark(Trip *t)
{
	free(t->mark);
	t->mark = pg_xasprintf(REMOTE_TABLE_MARK ": job %s, partition %s.%s", t->job.id,
						   t->job.pschema, t->job.pname);
}

/* the job's table on the remote: *ours when it is there with the job's mark */
static bool
remote_table(Trip *t, bool *exists, bool *ours, PgpError *err)
{
	char *comment = NULL;
	RelOid oid = 0;

	*ours = false;
	/* the same catalog read on the remote connection as for move's leftovers here */
	if (!tiermove_find_table(&t->rpc, t->job.rschema, t->job.rname, &oid, &comment, err))
		return false;
	*exists = oid != 0;
	if (*exists && comment)
		*ours = strncmp(comment, REMOTE_TABLE_MARK, strlen(REMOTE_TABLE_MARK)) == 0;
	free(comment);
	return true;
}

/* ---- the unfinished job ---------------------------------------------------- */

static bool
load_job(Trip *t, const char *kind, bool *found, PgpError *err)
{
	if (!remote_sql_job_unfinished(t->pc, t->cfg.parent, &t->job, found, err))
		return false;
	if (!*found)
		return true;
	if (strcmp(t->job.kind, kind) != 0 || strcmp(t->job.pschema, t->part->schema) != 0 ||
		strcmp(t->job.pname, t->part->name) != 0)
	{
		err_set(err, EXIT_USAGE, "%s.%s has an unfinished remote %s of %s.%s (job %s, phase %s)",
				t->cfg.parent_schema, t->cfg.parent_name, t->job.kind, t->job.pschema,
				t->job.pname, t->job.id, t->job.phase);
		if (strcmp(t->job.kind, "drop") == 0)
			err_hint(err, "A retention drop was interrupted: \"pgpart maintain\" finishes it.");
		else
			err_hint(err, "Run \"pgpart remote %s\" of that partition again to finish it, or "
						  "with --abort.",
					 t->job.kind);
		return false;
	}
	t->res->resumed = true;
	return true;
}

/* ---- send: the guard --------------------------------------------------------- */

static bool
guard_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Trip *t = arg;
	char *what = pg_xasprintf("remote %s", t->job.server);
	bool ok;

	/* SHARE ROW EXCLUSIVE waits for the writers in progress and lets readers through */
	ok = tiermove_lock_writers_out(pc, t->part_q, err);
	if (ok)
	{
		lock_txn_mark_locked(stats);
		ok = tiermove_ensure_guard_function(pc, err) &&
			 tiermove_install_guard(pc, t->part->oid, t->part_q, what, err) &&
			 remote_sql_job_insert(pc, t->cfg.parent, &t->job, err);
	}
	free(what);
	return ok;
}

/* the companion check, in a transaction rolled back: can a foreign partition go there? */
static bool
check_home(Trip *t, PgpError *err)
{
	ForeignHome home;
	char *why = NULL;
	bool ok;

	if (t->pc->dry_run)
		return true;
	if (!remote_sql_begin_check(t->pc, err))
		return false;
	ok = companion_prepare(t->pc, t->cfg.parent_schema, t->cfg.parent_name, &home, &why, err);
	remote_sql_rollback(t->pc);
	foreign_home_free(&home);
	if (ok && why)
	{
		err_set(err, EXIT_USAGE, "%s.%s cannot hold a foreign partition: %s",
				t->cfg.parent_schema, t->cfg.parent_name, why);
		err_detail(err, "Nothing was changed.");
		ok = false;
	}
	free(why);
	return ok;
}

static bool
send_checks(Trip *t, PgpError *err)
{
	NameList blockers = {0};
	bool exists = false, ours = false;

	if (!check_closed(t, err))
		return false;
	if (t->cols.generated > 0)
	{
		err_set(err, EXIT_USAGE, "partition %s.%s has generated columns, which a foreign table "
								 "cannot compute from remote rows",
				t->part->schema, t->part->name);
		return false;
	}
	if (!tiermove_blockers(t->pc, t->cfg.parent, t->part->oid, &blockers, err))
		return false;
	if (blockers.n > 0)
	{
		char *list = namelist_join(&blockers, "; ");

		err_set(err, EXIT_USAGE, "partition %s.%s cannot be sent online", t->part->schema,
				t->part->name);
		err_detail(err, "%s.", list);
		free(list);
		namelist_free(&blockers);
		return false;
	}
	if (!check_home(t, err) || !connect_remote(t, err) || !remote_table(t, &exists, &ours, err))
		return false;
	if (exists)
	{
		err_set(err, EXIT_USAGE, "table %s.%s exists on remote \"%s\" already", t->job.rschema,
				t->job.rname, t->job.server);
		err_hint(err, "%s", ours ? "It is a copy pgpart made for an earlier job: drop it there "
								   "if no foreign table reads it."
								 : "pgpart never overwrites a table it did not make.");
		return false;
	}
	return true;
}

/* ---- send: the copy on the remote ------------------------------------------------ */

static bool
send_copy(Trip *t, PgpError *err)
{
	PgConn *r = &t->rpc;
	char *rq;
	bool exists = false, ours = false, ok;
	long long rows = 0;
	int i;
	TierIndexList idx;
	double t0 = clock_ms();

	if (!remote_table(t, &exists, &ours, err))
		return false;
	if (exists && !ours)
	{
		err_set(err, EXIT_RUNTIME, "table %s.%s on remote \"%s\" is not pgpart's", t->job.rschema,
				t->job.rname, t->job.server);
		return false;
	}
	/* a copy whose verification was not recorded: made again from the rows */
	if (exists && !remote_sql_drop_table(r, t->job.rschema, t->job.rname, err))
		return false;
	memset(&idx, 0, sizeof(idx));
	rq = pgc_quote_qualified(r, t->job.rschema, t->job.rname);
	ok = stmt_begin(r, err) &&
		 remote_sql_create_table(r, t->job.rschema, t->job.rname, &t->cols, t->mark, err) &&
		 remote_sql_stream(t->pc, t->part->schema, t->part->name, r, t->job.rschema,
						   t->job.rname, &t->cols, &rows, err);
	if (ok)
		log_info("streamed %lld rows of %s.%s to remote %s", rows, t->part->schema,
				 t->part->name, t->job.server);
	TEST_PAUSE("copy");
	TEST_KILL("mid_copy");
	/* the partition's indexes, written by the local server (as move repeats them) */
	ok = ok && tiermove_capture_indexes_as(t->pc, t->part->oid, t->part->name, rq,
										   t->job.rname, &idx, err);
	for (i = 0; ok && i < idx.n; i++)
	{
		PgpError ierr;

		err_init(&ierr);
		ok = stmt_savepoint(r, SAVEPOINT_SET, "pgpart_remote_index", err);
		if (ok && (!pgc_change(r, idx.items[i].create_sql, 0, NULL, &ierr) ||
				   (idx.items[i].constraint_sql &&
					!pgc_change(r, idx.items[i].constraint_sql, 0, NULL, &ierr))))
		{
			namelist_addf(&t->res->notes, "index %s was not made on the remote: %s",
						  idx.items[i].name, ierr.message ? ierr.message : "error");
			ok = stmt_savepoint(r, SAVEPOINT_ROLLBACK, "pgpart_remote_index", err);
		}
		ok = ok && stmt_savepoint(r, SAVEPOINT_RELEASE, "pgpart_remote_index", err);
		err_clear(&ierr);
	}
	ok = ok && remote_sql_analyze(r, t->job.rschema, t->job.rname, err) && stmt_commit(r, err);
	if (!ok && !r->dry_run)
		remote_sql_rollback(r);
	tierindexlist_free(&idx);
	free(rq);
	t->res->copy_ms = clock_ms() - t0;
	return ok;
}

/* count and checksum of both sides, equal or an error (EXIT_CHECK) */
static bool
compare_sides(Trip *t, const char *lschema, const char *lname, PgpError *err)
{
	char *lrows = NULL, *lsum = NULL, *rrows = NULL, *rsum = NULL;
	bool ok;

	if (t->pc->dry_run)
		return true;
	ok = remote_sql_checksum(t->pc, lschema, lname, &t->cols, &lrows, &lsum, err) &&
		 remote_sql_checksum(&t->rpc, t->job.rschema, t->job.rname, &t->cols, &rrows, &rsum, err);
	if (ok && (strcmp(lrows, rrows) != 0 || strcmp(lsum, rsum) != 0))
	{
		err_set(err, EXIT_CHECK, "the rows of %s.%s here and of %s.%s on remote \"%s\" differ",
				lschema, lname, t->job.rschema, t->job.rname, t->job.server);
		err_detail(err, "here: %s rows, checksum %s; remote: %s rows, checksum %s", lrows, lsum,
				   rrows, rsum);
		ok = false;
	}
	if (ok)
	{
		free(t->job.rows);
		free(t->job.checksum);
		t->job.rows = pg_xstrdup(lrows);
		t->job.checksum = pg_xstrdup(lsum);
		t->res->rows = atoll(lrows);
	}
	FREE_ALL(lrows, lsum, rrows, rsum);
	return ok;
}

/* the remote snapshot that verifies and then keeps writers of the remote table out */
static bool
remote_hold(Trip *t, PgpError *err)
{
	if (t->remote_txn)
		return true;
	if (!remote_sql_begin_snapshot(&t->rpc, err) ||
		!remote_sql_lock_share(&t->rpc, t->job.rschema, t->job.rname, err))
		return false;
	t->remote_txn = !t->rpc.dry_run;
	return true;
}

static bool
remote_release(Trip *t, PgpError *err)
{
	if (!t->remote_txn && !t->rpc.dry_run)
		return true;
	t->remote_txn = false;
	return stmt_commit(&t->rpc, err);
}

/* one phase of the job recorded, in a transaction of its own */
typedef struct PhaseCtx
{
	Trip *t;
	const char *phase;
} PhaseCtx;

static bool
phase_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	PhaseCtx *c = arg;

	lock_txn_mark_locked(stats);
	return remote_sql_job_phase(pc, &c->t->job, c->phase, NULL, err);
}

static bool
record_phase(Trip *t, const char *phase, PgpError *err)
{
	PhaseCtx c = {t, phase};

	return lock_run_txn(t->pc, &t->opt->lock, phase_body, &c, NULL, err);
}

static bool
send_verify(Trip *t, PgpError *err)
{
	int present = 0;
	bool intact = false;

	if (!remote_hold(t, err))
		return false;
	/* read before the rows: the swap finds them the same, or nothing could write meanwhile */
	FREE_ALL(t->stamp, t->fingerprint);
	t->stamp = t->fingerprint = NULL;
	if (!remote_sql_guard_stamp(t->pc, t->part->oid, &t->stamp, err) ||
		!table_fingerprint(t->pc, t->part->oid, &t->fingerprint, err) ||
		!tiermove_guard_state(t->pc, t->part->oid, &present, &intact, err))
		return false;
	if (!intact && !t->pc->dry_run)
	{
		err_set(err, EXIT_RUNTIME, "the write guard of %s.%s was removed or disabled",
				t->part->schema, t->part->name);
		return false;
	}
	return compare_sides(t, t->part->schema, t->part->name, err) &&
		   record_phase(t, "copied", err);
}

/* ---- send: the swap ----------------------------------------------------------------- */

static int
swap_targets(Trip *t, LockTarget *targets)
{
	int n = 0;

	/* LOCK TABLE ONLY the table; the partition is dropped; LOCK TABLE the default */
	targets[n++] = (LockTarget){t->cfg.parent, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_RELATION};
	targets[n++] = (LockTarget){t->part->oid, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_DROP};
	if (t->def)
		targets[n++] = (LockTarget){t->def->oid, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_TREE};
	return n;
}

static bool
send_swap_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Trip *t = arg;
	ForeignHome home;
	char *why = NULL, *home_q = NULL;
	bool ok;

	/* the table, then its partitions, as the application's queries lock */
	if (!tiermove_lock_exclusive(pc, t->parent_q, true, err) ||
		!tiermove_lock_exclusive(pc, t->part_q, false, err) ||
		(t->default_q && !tiermove_lock_exclusive(pc, t->default_q, false, err)))
		return false;
	lock_txn_mark_locked(stats);
	if (!pc->dry_run)
	{
		char *stamp = NULL, *fp = NULL;
		int present = 0;
		bool intact = false;

		ok = remote_sql_guard_stamp(pc, t->part->oid, &stamp, err) &&
			 table_fingerprint(pc, t->part->oid, &fp, err) &&
			 tiermove_guard_state(pc, t->part->oid, &present, &intact, err);
		if (ok && (!intact || stamp == NULL || fp == NULL || strcmp(stamp, t->stamp) != 0 ||
				   strcmp(fp, t->fingerprint) != 0))
		{
			err_set(err, EXIT_CHECK, "%s.%s or its write guard changed after it was verified",
					t->part->schema, t->part->name);
			err_detail(err, "The remote copy might not match; nothing was changed here.");
			err_hint(err, "Run the same command again: it verifies again.");
			ok = false;
		}
		FREE_ALL(stamp, fp);
		if (!ok)
			return false;
	}
	/* read under the locks: a GRANT made during the copy is not lost */
	namelist_free(&t->carry);
	if (!tiermove_carry_over(pc, t->part->oid, t->part_regclass, &t->carry, err))
		return false;
	if (!companion_prepare(pc, t->cfg.parent_schema, t->cfg.parent_name, &home, &why, err))
		return false;
	if (why)
	{
		err_set(err, EXIT_USAGE, "%s.%s cannot hold a foreign partition: %s",
				t->cfg.parent_schema, t->cfg.parent_name, why);
		free(why);
		foreign_home_free(&home);
		return false;
	}
	home_q = pgc_quote_qualified(pc, home.schema, home.name);
	ok = remote_sql_detach(pc, t->parent_q, t->part_q, err) &&
		 tiermove_drop_table(pc, t->part_q, err) &&
		 remote_sql_create_foreign(pc, t->part->schema, t->part->name, &t->cols, t->srvname,
								   t->job.rschema, t->job.rname, err) &&
		 partition_attach_range(pc, home_q, t->part_q, t->job.lo, t->job.hi, err) &&
		 stmt_change_list(pc, &t->carry, err) &&
		 remote_sql_job_phase(pc, &t->job, "done", NULL, err);
	free(home_q);
	foreign_home_free(&home);
	return ok;
}

static bool
send_swap(Trip *t, PgpError *err)
{
	LockTarget targets[3];
	LockStats st;
	int n = swap_targets(t, targets);

	memset(&st, 0, sizeof(st));
	if (!lock_run_txn_on(t->pc, &t->opt->lock, targets, n, send_swap_body, t, &st, err))
	{
		lock_felt_note(&t->res->felt, &st);
		return false;
	}
	note_locks(t, &st);
	t->res->swap_lock_held_ms = st.held_ms;
	return true;
}

/* ---- send: undo ---------------------------------------------------------------------- */

typedef struct UndoCtx
{
	Trip *t;
	bool drop; /* drop the guard (ACCESS EXCLUSIVE); else only disarm it */
} UndoCtx;

static bool
unguard_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	UndoCtx *u = arg;
	Trip *t = u->t;

	if (u->drop && !tiermove_lock_exclusive(pc, t->part_q, false, err))
		return false;
	lock_txn_mark_locked(stats);
	return (u->drop ? tiermove_drop_guard(pc, t->part_q, err)
					: tiermove_disarm_guard(pc, t->part->oid, t->part_q, err)) &&
		   remote_sql_job_phase(pc, &t->job, "aborted", NULL, err);
}

/* the remote copy first (the rows are here), then the guard and the job */
static bool
send_undo(Trip *t, PgpError *err)
{
	bool exists = false, ours = false;
	UndoCtx u = {t, true};
	PgpError derr;

	if (t->remote_txn)
	{
		remote_sql_rollback(&t->rpc);
		t->remote_txn = false;
	}
	if (!connect_remote(t, err) || !remote_table(t, &exists, &ours, err))
		return false;
	if (exists && ours && !remote_sql_drop_table(&t->rpc, t->job.rschema, t->job.rname, err))
		return false;
	err_init(&derr);
	if (lock_run_txn(t->pc, &t->opt->lock, unguard_body, &u, NULL, &derr))
	{
		err_clear(&derr);
		return true;
	}
	/* a long reader keeps DROP TRIGGER out: writers are let in all the same */
	namelist_addf(&t->res->notes, "the guard triggers on %s.%s are disabled, not dropped (%s)",
				  t->part->schema, t->part->name, derr.message ? derr.message : "error");
	err_clear(&derr);
	u.drop = false;
	return lock_run_txn(t->pc, &t->opt->lock, unguard_body, &u, NULL, err);
}

/* ---- send ------------------------------------------------------------------------------ */

static void
fill_new_job(Trip *t, const char *kind, const char *server, const char *rschema,
			 const char *rname)
{
	t->job.kind = pg_xstrdup(kind);
	t->job.server = pg_xstrdup(server);
	t->job.pschema = pg_xstrdup(t->part->schema);
	t->job.pname = pg_xstrdup(t->part->name);
	t->job.rschema = pg_xstrdup(rschema);
	t->job.rname = pg_xstrdup(rname);
	t->job.column = pg_xstrdup(t->cfg.column);
	t->job.lo = pg_xstrdup(t->part->lo_text);
	t->job.hi = pg_xstrdup(t->part->hi_text);
}

static bool
do_send(Trip *t, PgpError *err)
{
	const RemoteOptions *opt = t->opt;
	bool found = false;
	LockStats st;

	if (!load_job(t, "send", &found, err))
		return false;
	if (found && opt->name && strcmp(opt->name, t->job.server) != 0)
	{
		err_set(err, EXIT_USAGE, "the unfinished send of %s.%s goes to remote \"%s\", not \"%s\"",
				t->part->schema, t->part->name, t->job.server, opt->name);
		return false;
	}
	if (!found && opt->abort)
	{
		t->res->nothing = true;
		return true;
	}
	if (!found && t->part->oid && !opt->abort)
	{
		char relkind = 0;
		RelInfo rel;
		bool ok;

		if (!catalog_table_by_oid(t->pc, t->part->oid, &rel, &ok, err))
			return false;
		relkind = rel.relkind;
		relinfo_free(&rel);
		if (relkind == 'f')
		{
			char *srv = NULL, *rs = NULL, *rn = NULL;

			if (!remote_sql_foreign_facts(t->pc, t->part->oid, &srv, &rs, &rn, err))
				return false;
			if (srv && strcmp(srv + strlen(REMOTE_SERVER_PREFIX), opt->name) == 0)
			{
				t->res->already = true;
				t->res->name = pg_xstrdup(opt->name);
				t->res->remote_table = pg_xasprintf("%s.%s", rs, rn);
			}
			FREE_ALL(srv, rs, rn);
			if (t->res->already)
				return true;
		}
		if (relkind != 'r')
		{
			err_set(err, EXIT_USAGE, "%s.%s is not a plain table (a foreign or partitioned "
									 "partition stays where it is)",
					t->part->schema, t->part->name);
			return false;
		}
	}
	if (!found)
		fill_new_job(t, "send", opt->name, t->part->schema, t->part->name);
	t->srvname = pg_xasprintf(REMOTE_SERVER_PREFIX "%s", t->job.server);
	t->res->name = pg_xstrdup(t->job.server);
	t->res->server = pg_xstrdup(t->srvname);
	t->res->remote_table = pg_xasprintf("%s.%s", t->job.rschema, t->job.rname);
	if (opt->abort)
	{
		if (strcmp(t->job.phase, "swapped") == 0 || strcmp(t->job.phase, "done") == 0)
		{
			err_set(err, EXIT_USAGE, "the send of %s.%s has swapped already: its rows are on "
									 "the remote",
					t->part->schema, t->part->name);
			err_hint(err, "\"pgpart remote fetch %s %s\" brings them back.", opt->table,
					 t->part->name);
			return false;
		}
		make_mark(t);
		t->res->aborted = send_undo(t, err);
		return t->res->aborted;
	}
	if (!found)
	{
		/* SHARE ROW EXCLUSIVE, what CREATE TRIGGER takes: the look skips long writers */
		LockTarget guard_target = {t->part->oid, LOCK_SHARE_ROW_EXCLUSIVE, LOCK_SCOPE_TREE};

		if (!send_checks(t, err))
			return false;
		if (!health_wait(t->pc, t->part->oid, t->res->partition, &opt->health, "the copy",
						 &t->res->notes, err))
			return false;
		memset(&st, 0, sizeof(st));
		if (!lock_run_txn_on(t->pc, &opt->lock, &guard_target, 1, guard_body, t, &st, err))
			return false;
		note_locks(t, &st);
		log_info("writes to %s.%s are refused from now on; sending it to remote %s",
				 t->part->schema, t->part->name, t->job.server);
		TEST_KILL("after_guard");
	}
	else if (!connect_remote(t, err))
		return false;
	make_mark(t);
	if (strcmp(t->job.phase, "started") == 0)
	{
		if (cancelled(t, err) || !send_copy(t, err))
			goto undo;
		TEST_KILL("after_remote_copy");
		if (cancelled(t, err) || !send_verify(t, err))
			goto undo;
		TEST_KILL("after_verify");
	}
	else if (strcmp(t->job.phase, "copied") == 0)
	{
		/* a new run: verified again in a snapshot of its own */
		if (!send_verify(t, err))
			goto undo;
	}
	TEST_PAUSE("swap");
	if (cancelled(t, err) || !send_swap(t, err))
		goto undo;
	TEST_KILL("after_swap");
	if (!remote_release(t, err))
	{
		/* the swap committed: its rows are there, only the SHARE lock ends with the session */
		err_clear(err);
	}
	t->res->job_id = pg_xstrdup(t->job.id);
	if (t->job.rows)
		t->res->rows = atoll(t->job.rows);
	t->res->checksum = t->job.checksum ? pg_xstrdup(t->job.checksum) : NULL;
	return true;

undo:
	/* as move does: any failure before the swap committed gives the rows back to the partition alone */
	if (!t->pc->dry_run)
	{
		PgpError uerr;

		err_init(&uerr);
		if (!send_undo(t, &uerr))
			err_hint(err, "Writes to %s.%s stay refused: undoing failed too (%s); run \"pgpart "
						  "remote send %s %s --abort\" (or the send again).",
					 t->part->schema, t->part->name, uerr.message ? uerr.message : "error",
					 opt->table, opt->partition);
		else
			err_detail(err, "Nothing was changed: the remote copy was dropped and writes to "
							"%s.%s are accepted again.",
					   t->part->schema, t->part->name);
		err_clear(&uerr);
	}
	return false;
}

/* ---- fetch ------------------------------------------------------------------------------ */

static bool
fetch_copy_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Trip *t = arg;
	long long rows = 0;

	(void) stats;
	if (!remote_sql_create_local_copy(pc, t->copy_q, t->parent_q, t->job.column, t->job.lo,
									  t->job.hi, err) ||
		!tiermove_comment(pc, t->copy_q, t->mark, err) ||
		!remote_sql_stream(&t->rpc, t->job.rschema, t->job.rname, pc, t->part->schema,
						   t->copy_name, &t->cols, &rows, err))
		return false;
	log_info("fetched %lld rows of %s.%s from remote %s", rows, t->job.rschema, t->job.rname,
			 t->job.server);
	TEST_PAUSE("fetch_copy");
	return stmt_change_list(pc, &t->indexes, err) &&
		   compare_sides(t, t->part->schema, t->copy_name, err) &&
		   tiermove_analyze(pc, t->copy_q, err) &&
		   remote_sql_job_phase(pc, &t->job, "copied", NULL, err);
}

static bool
fetch_swap_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Trip *t = arg;

	if (!tiermove_lock_exclusive(pc, t->parent_q, true, err) ||
		(t->home_q && !tiermove_lock_exclusive(pc, t->home_q, true, err)) ||
		(t->default_q && !tiermove_lock_exclusive(pc, t->default_q, false, err)) ||
		!tiermove_lock_exclusive(pc, t->copy_q, false, err))
		return false;
	/*
	 * The foreign table itself takes no LOCK TABLE (PostgreSQL 15 refuses
	 * it): no query reaches it through the table while the table is locked,
	 * and the DETACH below locks it.
	 */
	lock_txn_mark_locked(stats);
	namelist_free(&t->carry);
	return tiermove_carry_over(pc, t->part->oid, t->part_regclass, &t->carry, err) &&
		   remote_sql_detach(pc, t->home_q ? t->home_q : t->parent_q, t->part_q, err) &&
		   partition_drop_foreign(pc, t->part_q, err) &&
		   tiermove_rename(pc, false, t->part->schema, t->copy_name, t->part->name, err) &&
		   partition_attach_range(pc, t->parent_q, t->part_q, t->job.lo, t->job.hi, err) &&
		   partition_drop_check(pc, t->part_q, REMOTE_BOUNDS_CONSTRAINT, true, err) &&
		   tiermove_comment(pc, t->part_q, NULL, err) && stmt_change_list(pc, &t->carry, err) &&
		   remote_sql_job_phase(pc, &t->job, "swapped", NULL, err);
}

/*
 * The swap through lock_run_txn_on: the look before each attempt covers the
 * table, the foreign partition, the default partition and the copy.
 */
static bool
fetch_swap(Trip *t, LockStats *st, PgpError *err)
{
	LockTarget targets[5];
	int n = 0;
	RelOid copy = 0;
	char *comment = NULL;

	if (!tiermove_find_table(t->pc, t->part->schema, t->copy_name, &copy, &comment, err))
		return false;
	free(comment);
	/* LOCK TABLE ONLY the table and the companion; the foreign table is dropped */
	targets[n++] = (LockTarget){t->cfg.parent, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_RELATION};
	if (t->found_in.oid)
		targets[n++] = (LockTarget){t->found_in.oid, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_RELATION};
	targets[n++] = (LockTarget){t->part->oid, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_DROP};
	if (t->def)
		targets[n++] = (LockTarget){t->def->oid, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_TREE};
	if (copy)
		targets[n++] = (LockTarget){copy, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_TREE};
	return lock_run_txn_on(t->pc, &t->opt->lock, targets, n, fetch_swap_body, t, st, err);
}

/*
 * The copy's rows are new row versions, written by the copy's transaction: a
 * REPEATABLE READ or SERIALIZABLE snapshot taken before it committed does not
 * see them, and would find the range empty once the copy is swapped in (it
 * read the foreign table until then).  So, as move does, wait before the swap
 * until every transaction whose snapshot may predate the copy has ended.
 */
static bool
wait_old_snapshots(Trip *t, PgpError *err)
{
	char *xid = NULL, *waiting = NULL;
	char *sql_table = t->copy_q;
	double t0 = clock_ms();
	double limit = (double) t->opt->lock.lock_timeout_ms * t->opt->lock.max_attempts;
	bool ok = false;

	if (t->pc->dry_run)
		return true;
	if (!remote_sql_row_xmin(t->pc, sql_table, &xid, err))
		return false;
	if (xid == NULL)
		return true;
	if (!tiermove_old_snapshots(t->pc, xid, &waiting, err))
		goto done;
	while (waiting)
	{
		char *left = NULL;

		if (!tiermove_still_open(t->pc, waiting, &left, err))
			goto done;
		if (left == NULL)
			break;
		if (cancelled(t, err) || clock_ms() - t0 > limit)
		{
			if (!err_is_set(err))
			{
				err_set(err, EXIT_RUNTIME, "transactions older than the fetched copy are still "
										   "open: %s",
						left);
				err_hint(err, "Run the fetch again when they have ended.");
			}
			free(left);
			goto done;
		}
		free(left);
		sleep_ms(50);
	}
	ok = true;
done:
	FREE_ALL(xid, waiting);
	return ok;
}

static bool
insert_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Trip *t = arg;

	lock_txn_mark_locked(stats);
	return remote_sql_job_insert(pc, t->cfg.parent, &t->job, err);
}

static bool
drop_copy_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Trip *t = arg;

	lock_txn_mark_locked(stats);
	return tiermove_drop_table(pc, t->copy_q, err);
}

static bool
fetch_undo_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Trip *t = arg;

	lock_txn_mark_locked(stats);
	return tiermove_drop_table(pc, t->copy_q, err) &&
		   remote_sql_job_phase(pc, &t->job, "aborted", NULL, err);
}

static bool
fetch_drop_remote(Trip *t, PgpError *err)
{
	bool exists = false, ours = false;

	if (!connect_remote(t, err) || !remote_table(t, &exists, &ours, err))
		return false;
	if (exists && !ours)
		namelist_addf(&t->res->notes, "%s.%s on remote %s was kept: it is not marked as pgpart's",
					  t->job.rschema, t->job.rname, t->job.server);
	else if (exists && !remote_sql_drop_table(&t->rpc, t->job.rschema, t->job.rname, err))
		return false;
	TEST_KILL("after_remote_drop");
	return record_phase(t, "done", err);
}

/*
 * A range under the companion is a gap in the table: the application's late
 * rows of it land in the default partition, and ATTACH would refuse the range
 * back.  Said before anything is copied.
 */
static bool
default_has_rows(Trip *t, PgpError *err)
{
	long n = 0;

	if (t->def == NULL || t->pc->dry_run)
		return true;
	if (!partition_count_default_rows(t->pc, t->def->schema, t->def->name, t->job.column,
									  t->job.lo, t->job.hi, &n, err))
		return false;
	if (n == 0)
		return true;
	err_set(err, EXIT_USAGE, "%ld rows of the range of %s.%s wait in the default partition %s.%s",
			n, t->part->schema, t->part->name, t->def->schema, t->def->name);
	err_detail(err, "ATTACH would refuse the range back while they are there; nothing was "
					"changed.");
	err_hint(err, "Copy them aside and delete them there, fetch, then insert them again: they "
				  "land in the fetched partition.");
	return false;
}

static bool
do_fetch(Trip *t, PgpError *err)
{
	const RemoteOptions *opt = t->opt;
	bool found = false, exists = false;
	char *srv = NULL, *rschema = NULL, *rname = NULL, *comment = NULL;
	RelOid copy_oid = 0;
	LockStats st;
	bool ok = false;

	if (!load_job(t, "fetch", &found, err))
		return false;
	if (!found && opt->abort)
	{
		t->res->nothing = true;
		return true;
	}
	if (!remote_sql_foreign_facts(t->pc, t->part->oid, &srv, &rschema, &rname, err))
		return false;
	if (!found && srv == NULL)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not on a remote: it is no foreign table of a pgpart "
								 "remote server",
				t->part->schema, t->part->name);
		goto done;
	}
	if (!found)
		fill_new_job(t, "fetch", srv + strlen(REMOTE_SERVER_PREFIX), rschema, rname);
	t->srvname = pg_xasprintf(REMOTE_SERVER_PREFIX "%s", t->job.server);
	t->res->name = pg_xstrdup(t->job.server);
	t->res->server = pg_xstrdup(t->srvname);
	t->res->remote_table = pg_xasprintf("%s.%s", t->job.rschema, t->job.rname);
	t->copy_name = naming_derive(t->part->name, "pgpart_fetch");
	if (t->copy_name == NULL)
	{
		err_set(err, EXIT_RUNTIME, "cannot derive a name for the copy of %s", t->part->name);
		goto done;
	}
	t->copy_q = pgc_quote_qualified(t->pc, t->part->schema, t->copy_name);
	if (t->found_in.name)
		t->home_q = pgc_quote_qualified(t->pc, t->found_in.schema, t->found_in.name);
	if (opt->abort)
	{
		if (strcmp(t->job.phase, "swapped") == 0)
		{
			err_set(err, EXIT_USAGE, "the fetch of %s.%s has swapped already: its rows are here",
					t->part->schema, t->part->name);
			err_hint(err, "Run \"pgpart remote fetch %s %s\" again: it drops the remote copy.",
					 opt->table, t->part->name);
			goto done;
		}
		ok = t->res->aborted = lock_run_txn(t->pc, &opt->lock, fetch_undo_body, t, NULL, err);
		goto done;
	}
	if (!found)
	{
		if (!lock_run_txn(t->pc, &opt->lock, insert_body, t, NULL, err))
			goto done;
	}
	make_mark(t);
	if (strcmp(t->job.phase, "started") == 0)
	{
		if (!tiermove_find_table(t->pc, t->part->schema, t->copy_name, &copy_oid, &comment, err))
			goto done;
		exists = copy_oid != 0;
		if (exists && (comment == NULL ||
					   strncmp(comment, REMOTE_TABLE_MARK, strlen(REMOTE_TABLE_MARK)) != 0))
		{
			err_set(err, EXIT_USAGE, "%s.%s exists and is not pgpart's", t->part->schema,
					t->copy_name);
			goto done;
		}
		if (exists && !lock_run_txn(t->pc, &opt->lock, drop_copy_body, t, NULL, err))
			goto done;
		if (!default_has_rows(t, err))
			goto done;
		if (!connect_remote(t, err) || !remote_hold(t, err) ||
			!remote_sql_parent_indexes(t->pc, t->cfg.parent, t->cfg.parent_name, t->copy_q,
									   t->part->name, &t->indexes, err) ||
			!health_wait(t->pc, t->part->oid, t->res->partition, &opt->health, "the copy",
						 &t->res->notes, err))
			goto done;
		if (!lock_run_txn(t->pc, &opt->lock, fetch_copy_body, t, NULL, err))
			goto done;
		TEST_KILL("after_fetch_copy");
	}
	if (strcmp(t->job.phase, "copied") == 0)
	{
		if (!t->remote_txn)
		{
			/* a new run: the copy verified again, with the remote's writers kept out */
			if (!connect_remote(t, err) || !remote_hold(t, err) ||
				!compare_sides(t, t->part->schema, t->copy_name, err))
				goto done;
		}
		/* before the swap: a snapshot older than the copy would find the range empty after it */
		if (!wait_old_snapshots(t, err))
			goto done;
		memset(&st, 0, sizeof(st));
		if (cancelled(t, err) || !fetch_swap(t, &st, err))
		{
			lock_felt_note(&t->res->felt, &st);
			goto done;
		}
		note_locks(t, &st);
		t->res->swap_lock_held_ms = st.held_ms;
		TEST_KILL("after_fetch_swap");
		if (!remote_release(t, err))
			err_clear(err);
	}
	if (strcmp(t->job.phase, "swapped") == 0 && !fetch_drop_remote(t, err))
	{
		err_prefix(err, "fetched, but the remote table was not dropped");
		err_hint(err, "Run \"pgpart remote fetch %s %s\" again to drop it.", opt->table,
				 t->part->name);
		goto done;
	}
	if (!t->pc->dry_run)
	{
		/*
		 * The table's rollups mark the buckets of every write: the fetched
		 * partition gets their triggers now, as maintain would give them
		 */
		PgpError rerr;

		err_init(&rerr);
		if (!ops_rollup_refresh_table(t->pc, t->cfg.parent, &opt->lock, &t->res->notes, &rerr))
			namelist_addf(&t->res->notes, "the rollups of %s.%s were not refreshed (%s): the "
										  "next maintain gives the fetched partition their "
										  "triggers",
						  t->cfg.parent_schema, t->cfg.parent_name,
						  rerr.message ? rerr.message : "error");
		err_clear(&rerr);
	}
	t->res->job_id = pg_xstrdup(t->job.id);
	if (t->job.rows)
		t->res->rows = atoll(t->job.rows);
	t->res->checksum = t->job.checksum ? pg_xstrdup(t->job.checksum) : NULL;
	ok = true;
done:
	FREE_ALL(srv, rschema, rname, comment);
	return ok;
}

/* ---- the commands ------------------------------------------------------------------------ */

static bool
run_trip(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, bool fetch, PgpError *err)
{
	Trip t;
	WorkLock wl = {0};
	bool ok = false;
	double t0 = clock_ms();

	memset(res, 0, sizeof(*res));
	memset(&t, 0, sizeof(t));
	t.opt = opt;
	t.res = res;
	t.pc = pc;
	t.parts.default_index = t.cparts.default_index = -1;
	if (!fetch && !opt->abort && (opt->name == NULL || !remote_name_valid(opt->name)))
	{
		err_set(err, EXIT_USAGE, "invalid remote name \"%s\"", opt->name ? opt->name : "");
		return false;
	}
	if (!schema_require(pc, err) || !resolve(&t, fetch, err) ||
		(!fetch && !citus_refuse_remote(pc, t.cfg.parent, err)))
		goto done;
	wl.cancel = opt->cancel;
	if (!worklock_take(pc, &wl, fetch ? "remote fetch" : "remote send", &t.cfg.parent, 1, err))
		goto done;
	ok = fetch ? do_fetch(&t, err) : do_send(&t, err);
	if (!ok && fetch && t.job.id && !opt->abort && !t.pc->dry_run &&
		(strcmp(t.job.phase, "started") == 0 || strcmp(t.job.phase, "copied") == 0) && !err->hint)
		err_hint(err, "The rows are on the remote and read from there: run the fetch again to "
					  "go on, or with --abort to drop what it made here.");
done:
	worklock_release(pc, &wl);
	res->duration_ms = clock_ms() - t0;
	if (!ok && t.part && err->exit_code == EXIT_RUNTIME)
		err_prefix(err, "remote %s of %s.%s", fetch ? "fetch" : "send", t.part->schema,
				   t.part->name);
	trip_free(&t);
	return ok;
}

bool
ops_remote_send(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err)
{
	return run_trip(pc, opt, res, false, err);
}

bool
ops_remote_fetch(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err)
{
	return run_trip(pc, opt, res, true, err);
}

/* ---- retention -------------------------------------------------------------------------- */

/* a trip of maintain's tier step: no command line, the table's work lock already held */
static void
bare_trip(Trip *t, RemoteOptions *opt, RemoteResult *res, PgConn *pc, const LockPolicy *lock,
		  RelOid parent)
{
	memset(opt, 0, sizeof(*opt));
	memset(res, 0, sizeof(*res));
	memset(t, 0, sizeof(*t));
	opt->lock = *lock;
	t->opt = opt;
	t->res = res;
	t->pc = pc;
	t->cfg.parent = parent;
	t->parts.default_index = t->cparts.default_index = -1;
}

typedef struct RetentionCtx
{
	Trip *t;
	const PartitionInfo *p;
	RemoteInTxn in_txn;
	void *arg;
} RetentionCtx;

static bool
retention_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	RetentionCtx *r = arg;
	char *q = pgc_quote_qualified(pc, r->p->schema, r->p->name);
	bool ok = partition_drop_foreign(pc, q, err);

	lock_txn_mark_locked(stats);
	free(q);
	return ok && (r->in_txn == NULL || r->in_txn(pc, r->arg, r->t->job.rows, err)) &&
		   remote_sql_job_phase(pc, &r->t->job, "swapped", NULL, err);
}

/* the remote table of a job whose foreign table is gone, then "done" */
static bool
retention_finish(Trip *t, PgpError *err)
{
	bool exists = false, ours = false;

	if (!connect_remote(t, err) || !remote_table(t, &exists, &ours, err))
		return false;
	if (exists && ours && !remote_sql_drop_table(&t->rpc, t->job.rschema, t->job.rname, err))
		return false;
	return record_phase(t, "done", err);
}

bool
remote_retention_drop(PgConn *pc, RelOid parent, const char *column, const PartitionInfo *p,
					  const LockPolicy *lock, RemoteInTxn in_txn, void *arg, bool *remote,
					  PgpError *err)
{
	RemoteOptions opt;
	RemoteResult res;
	Trip t;
	RetentionCtx r;
	char *srv = NULL, *rschema = NULL, *rname = NULL;
	bool found = false, ok = false;

	*remote = false;
	if (!remote_sql_foreign_facts(pc, p->oid, &srv, &rschema, &rname, err))
		return false;
	if (srv == NULL)
		return true;
	*remote = true;
	bare_trip(&t, &opt, &res, pc, lock, parent);
	t.part = p;
	if (!remote_sql_job_unfinished(pc, parent, &t.job, &found, err))
		goto done;
	if (found && (strcmp(t.job.kind, "drop") != 0 || strcmp(t.job.pschema, p->schema) != 0 ||
				  strcmp(t.job.pname, p->name) != 0))
	{
		err_set(err, EXIT_BUSY, "an unfinished remote %s of %s.%s (job %s) comes first",
				t.job.kind, t.job.pschema, t.job.pname, t.job.id);
		goto done;
	}
	if (!found)
	{
		t.job.kind = pg_xstrdup("drop");
		t.job.server = pg_xstrdup(srv + strlen(REMOTE_SERVER_PREFIX));
		t.job.pschema = pg_xstrdup(p->schema);
		t.job.pname = pg_xstrdup(p->name);
		t.job.rschema = pg_xstrdup(rschema);
		t.job.rname = pg_xstrdup(rname);
		t.job.column = pg_xstrdup(column);
		t.job.lo = p->lo_text ? pg_xstrdup(p->lo_text) : NULL;
		t.job.hi = pg_xstrdup(p->hi_text ? p->hi_text : "");
		if (!lock_run_txn(pc, lock, insert_body, &t, NULL, err))
			goto done;
	}
	{
		/* the rows the send counted, for the retention log */
		RemoteJob sent;
		bool was = false;

		if (!remote_sql_job_last_sent(pc, parent, p->schema, p->name, &sent, &was, err))
			goto done;
		if (was && sent.rows && t.job.rows == NULL)
			t.job.rows = pg_xstrdup(sent.rows);
		remotejob_free(&sent);
	}
	r.t = &t;
	r.p = p;
	r.in_txn = in_txn;
	r.arg = arg;
	if (!lock_run_txn(pc, lock, retention_body, &r, NULL, err))
		goto done;
	TEST_KILL("after_retention_local");
	ok = pc->dry_run || retention_finish(&t, err);
done:
	t.part = NULL;
	trip_free(&t);
	remoteresult_free(&res);
	FREE_ALL(srv, rschema, rname);
	return ok;
}

bool
remote_retention_resume(PgConn *pc, RelOid parent, const LockPolicy *lock, NameList *notes,
						PgpError *err)
{
	RemoteOptions opt;
	RemoteResult res;
	Trip t;
	bool found = false, ok = true;

	bare_trip(&t, &opt, &res, pc, lock, parent);
	if (!remote_sql_job_unfinished(pc, parent, &t.job, &found, err))
		ok = false;
	else if (found && strcmp(t.job.kind, "drop") == 0 && strcmp(t.job.phase, "swapped") == 0)
	{
		make_mark(&t);
		ok = pc->dry_run || retention_finish(&t, err);
		if (ok)
			namelist_addf(notes, "dropped %s.%s on remote %s (a retention drop interrupted earlier)",
						  t.job.rschema, t.job.rname, t.job.server);
	}
	trip_free(&t);
	remoteresult_free(&res);
	return ok;
}
