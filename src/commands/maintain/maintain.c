/*
 * maintain.c - "pgpart maintain": for each managed table in turn, under the
 * table's advisory lock, the partitions of the coming periods (premake),
 * then the default partition drained into partitions of its own rows'
 * periods, then the table's rollups and its tier policy; the outcome of each
 * table goes to pgpart.run_log.  A table that fails does not stop the others.
 */
#include "commands/maintain/maintain.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive.h"
#include "commands/policy/policy.h"
#include "commands/rollup/rollup.h"
#include "pg/companion.h"
#include "pg/target.h"
#include "pg/config.h"
#include "commands/migrate/migration_sql.h"
#include "pg/schema.h"
#include "pg/worklock.h"
#include "util/clock.h"
#include "util/mem.h"

void
maintainresult_free(MaintainResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		TableMaintenance *t = &r->tables[i];

		FREE_ALL(t->schema, t->name, t->error);
		NAMELIST_FREE_ALL(&t->partitions_created, &t->notes);
	}
	free(r->tables);
	memset(r, 0, sizeof(*r));
}

static char *
summary_json(const TableMaintenance *tm)
{
	StrBuf sb;
	int i;

	sb_init(&sb);
	sb_appendf(&sb, "{\"partitions_created\": %d, \"rows_moved\": %ld, "
					"\"drain_batches\": %d, \"drain_paused_ms\": %.1f, "
					"\"rows_left_in_default\": %ld, \"lock_attempts\": %d, "
					"\"max_lock_held_ms\": %.1f, \"writers_wait_ms\": %.1f, "
					"\"lock_queued_ms\": %.1f, \"lock_held_ms\": %.1f, "
					"\"lock_after_ms\": %.1f, \"lock_waiters\": %d, "
					"\"skipped_attempts\": %d, \"duration_ms\": %.1f, \"created\": [",
			   tm->partitions_created.n, tm->rows_moved, tm->drain_batches, tm->drain_paused_ms,
			   tm->rows_left_in_default,
			   tm->lock_attempts, tm->max_lock_held_ms, tm->felt.writers_wait_ms,
			   tm->felt.queued_ms, tm->felt.held_ms, tm->felt.after_ms, tm->felt.after_waiters,
			   tm->felt.skipped_attempts,
			   tm->duration_ms);
	for (i = 0; i < tm->partitions_created.n; i++)
	{
		const char *c;

		sb_append(&sb, i ? ", \"" : "\"");
		for (c = tm->partitions_created.items[i]; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				sb_append_char(&sb, '\\');
			if ((unsigned char) *c < 0x20)
				continue;
			sb_append_char(&sb, *c);
		}
		sb_append_char(&sb, '"');
	}
	sb_append(&sb, "]}");
	return sb_steal(&sb);
}

/* the partitions of the current period and cfg->premake periods ahead, when missing */
static bool
premake(PgConn *pc, const PartConfig *cfg, const LockPolicy *lock, const DrainPolicy *drain,
		Target *t, EnsureStats *st, PgpError *err)
{
	Period *periods = NULL;
	int n = 0;
	bool ok = target_wanted_periods(pc, t, NULL, cfg->premake, &periods, &n, err) &&
			  target_ensure_periods_drained(pc, lock, drain, t, periods, n, st, err);

	free(periods);
	return ok;
}

/*
 * Empties the default partition as far as it can: makes the table one if it
 * has none, then, for each period its rows fall in, a partition of its own
 * (pg/target.c): the period's rows move out of the default partition in
 * batches of short transactions sized by drain (each row in one place at
 * every instant, so a kill -9 loses nothing and a rerun goes on), then the
 * few left are moved in the short ATTACH transaction (pg/partition.c, under
 * lock_timeout with retries, pg/lock.c).  Rows with a NULL key can live
 * nowhere else: they stay, and are counted.
 */
static bool
drain_default(PgConn *pc, const PartConfig *cfg, const LockPolicy *lock, const DrainPolicy *drain,
			  Target *t, EnsureStats *st, TableMaintenance *tm, PgpError *err)
{
	Period *periods = NULL;
	int n = 0;
	long null_rows = 0;
	bool ok;

	if (!target_ensure_default(pc, lock, t, st, err))
		return false;
	ok = target_default_periods(pc, t, &periods, &n, &null_rows, err) &&
		 target_ensure_periods_drained(pc, lock, drain, t, periods, n, st, err);
	free(periods);
	if (!ok)
		return false;
	tm->rows_left_in_default = null_rows;
	if (null_rows > 0)
	{
		char *note = pg_xasprintf("%ld rows with NULL %s stay in the default partition",
								  null_rows, cfg->column);

		namelist_add(&tm->notes, note);
		free(note);
	}
	return true;
}

static bool
maintain_one(PgConn *pc, const PartConfig *cfg, const LockPolicy *lock, const DrainPolicy *drain,
			 TableMaintenance *tm, PgpError *err)
{
	Target t;
	EnsureStats st;
	int i;
	WorkLock wl = {0};
	bool ok = false;

	memset(&st, 0, sizeof(st));
	memset(&t, 0, sizeof(t));
	t.parts.default_index = -1;
	if (!cfg->parent_exists)
	{
		err_set(err, EXIT_RUNTIME, "configured table (OID %s) no longer exists", cfg->parent_name);
		err_hint(err, "It was dropped; remove it from pgpart.part_config.");
		return false;
	}
	if (!worklock_take(pc, &wl, "maintain", &cfg->parent, 1, err))
		return false;
	{
		/*
		 * Between switch and finish the old table mirrors this one through row
		 * triggers; moving rows out of the default partition writes the new
		 * partition before it is attached, which no trigger sees.
		 */
		bool migrating;

		if (!migration_between_switch_and_finish(pc, cfg->parent, &migrating, err))
			goto done;
		if (migrating)
		{
			namelist_add(&tm->notes, "skipped: an online migration of this table is between "
									 "switch and finish (run \"pgpart migrate finish\" first)");
			ok = true;
			goto done;
		}
	}
	if (!target_load_managed(pc, cfg, &t, err))
		goto done;
	if (t.parent.relkind != 'p')
	{
		err_set(err, EXIT_RUNTIME, "%s.%s is no longer a partitioned table", t.parent.schema,
				t.parent.name);
		goto done;
	}

	/* 1. the future: premake */
	if (!premake(pc, cfg, lock, drain, &t, &st, err))
		goto done;

	/* 2. the default partition: rows that arrived before their partition did */
	if (!drain_default(pc, cfg, lock, drain, &t, &st, tm, err))
		goto done;
	for (i = 0; i < st.conflicts.n; i++)
		namelist_add(&tm->notes, st.conflicts.items[i]);
	ok = true;
done:
	for (i = 0; i < st.created.n; i++)
		namelist_add(&tm->partitions_created, st.created.items[i]);
	tm->rows_moved = st.rows_moved;
	tm->drain_batches = st.drain_batches;
	tm->drain_pauses = st.drain_pauses;
	tm->drain_paused_ms = st.drain_paused_ms;
	if (st.drain_pauses > 0)
		namelist_addf(&tm->notes, "the drain paused %d time%s for the server's health, %.1f s "
								  "in all", st.drain_pauses, st.drain_pauses == 1 ? "" : "s",
					  st.drain_paused_ms / 1000.0);
	tm->lock_attempts = st.lock_attempts;
	tm->max_lock_held_ms = st.max_lock_held_ms;
	tm->felt = st.felt;
	ensurestats_free(&st);
	target_free(&t);
	worklock_release(pc, &wl);
	return ok;
}

bool
ops_maintain(PgConn *pc, const char *table, const LockPolicy *lock, MaintainResult *res,
			 PgpError *err)
{
	static const DrainPolicy drain = DRAIN_POLICY_DEFAULT;

	return ops_maintain_drained(pc, table, lock, &drain, res, err);
}

bool
ops_maintain_drained(PgConn *pc, const char *table, const LockPolicy *lock,
					 const DrainPolicy *drain, MaintainResult *res, PgpError *err)
{
	PartConfig *cfgs = NULL;
	int n = 0, i, failed = 0, busy = 0;
	bool all_ok = true;
	PgpError busy_err;

	memset(res, 0, sizeof(*res));
	err_init(&busy_err);
	if (!config_load_managed(pc, table, &cfgs, &n, err))
		return false;
	res->tables = pg_xcalloc((size_t) n + 1, sizeof(TableMaintenance));
	res->n = n;
	for (i = 0; i < n; i++)
	{
		TableMaintenance *tm = &res->tables[i];
		PgpError terr;
		char *started = NULL;
		double t0 = clock_ms();
		char *summary;

		err_init(&terr);
		tm->schema = pg_xstrdup(cfgs[i].parent_schema);
		tm->name = pg_xstrdup(cfgs[i].parent_name);
		if (!config_run_started(pc, &started, err))
		{
			all_ok = false;
			break;
		}
		tm->ok = maintain_one(pc, &cfgs[i], lock, drain, tm, &terr);
		/* new partitions and changed buckets: the table's rollups follow */
		if (tm->ok && cfgs[i].parent_exists && !pc->dry_run)
			tm->ok = ops_rollup_refresh_table(pc, cfgs[i].parent, lock, &tm->notes, &terr);
		/* the tier policy last: partitions are summarised before they are archived */
		if (tm->ok && cfgs[i].parent_exists)
			tm->ok = ops_apply_policy(pc, cfgs[i].parent, lock, &tm->notes, &terr);
		/* a REVOKE on the table, or row security turned on, reaches its archived rows too */
		if (tm->ok && cfgs[i].parent_exists && !pc->dry_run)
		{
			PgpError cerr;

			err_init(&cerr);
			if (!companion_sync(pc, cfgs[i].parent_schema, cfgs[i].parent_name, &cerr))
				namelist_addf(&tm->notes, "the rights on the companion of the archived partitions "
										  "could not follow the table's: %s",
							  cerr.message ? cerr.message : "?");
			err_clear(&cerr);
		}
		tm->duration_ms = clock_ms() - t0;
		if (!tm->ok)
		{
			all_ok = false;
			failed++;
			tm->error = pg_xstrdup(terr.message ? terr.message : "failed");
			tm->busy = terr.kind == ERR_KIND_BUSY;
			if (tm->busy && busy++ == 0)
			{
				/* the first busy table's whole error: for "maintain TABLE" the one to show */
				err_set(&busy_err, EXIT_BUSY, "%s", tm->error);
				if (terr.detail)
					err_detail(&busy_err, "%s", terr.detail);
				if (terr.hint)
					err_hint(&busy_err, "%s", terr.hint);
			}
		}
		summary = summary_json(tm);
		if (cfgs[i].parent_exists)
		{
			PgpError lerr;

			err_init(&lerr);
			/* the history is for metrics; failing to write it must not hide the outcome */
			config_log_run(pc, cfgs[i].parent, "maintain", started, tm->ok, summary, &lerr);
			err_clear(&lerr);
		}
		free(summary);
		free(started);
		err_clear(&terr);
	}
	partconfig_list_free(cfgs, n);
	if (!all_ok && !err_is_set(err) && failed > 0 && busy == failed)
	{
		/* nothing failed: busy tables were skipped, and the next run does them */
		if (busy == 1)
			*err = busy_err;
		else
		{
			err_set(err, EXIT_BUSY, "%d tables were skipped: another pgpart is working on them",
					busy);
			err_hint(err, "Wait for it to finish, or pass --wait to wait for it.");
			err_clear(&busy_err);
		}
		err->kind = ERR_KIND_BUSY;
	}
	else
		err_clear(&busy_err);
	if (!all_ok && !err_is_set(err))
		err_set(err, EXIT_RUNTIME, "maintenance failed for some tables");
	return all_ok;
}
