/*
 * worklock.c - the per-table advisory lock every changing pgpart command
 * takes first (worklock.h), and the error that names who holds it.
 */
#include "pg/worklock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

/* how often a waiting pgpart asks again: short beside any backfill or archive */
#define WORKLOCK_POLL_MS 500
/* a holder gone between the refusal and the look at pg_locks: ask again this often */
#define WORKLOCK_VANISHED_RETRIES 5

static bool
try_one(PgConn *pc, RelOid table, bool *got, PgpError *err)
{
	/* two-key form: pgpart's key space cannot meet an application's bigint keys */
	return catalog_oid_bool(pc,
							"SELECT pg_catalog.pg_try_advisory_lock("
							"pg_catalog.hashtext('pgpart'), $1::pg_catalog.oid::integer)",
							table, got, err);
}

static void
release_one(PgConn *pc, RelOid table)
{
	char oid[16];
	const char *params[1] = {oid};

	snprintf(oid, sizeof(oid), "%u", table);
	pgc_exec_quiet(pc,
				   "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext('pgpart'), "
				   "$1::pg_catalog.oid::integer)",
				   1, params);
}

/*
 * The table's name, and who holds its lock (none: it has just been
 * released).  The two-key advisory lock shows in pg_locks as classid = key 1
 * and objid = key 2 (both as oid), objsubid 2.  pg_stat_activity shows every
 * role the pid and application_name; address and start only to the same
 * role or pg_read_all_stats, hence the "not visible" case.
 */
static bool
describe_holder(PgConn *pc, RelOid table, char **name, char **holder, PgpError *err)
{
	PGresult *res = catalog_oid_query(
		pc,
		"SELECT pg_catalog.format('%s', $1::pg_catalog.oid::pg_catalog.regclass), "
		"  (SELECT pg_catalog.format('%s, pid %s, %s, %s', "
		"     CASE WHEN a.application_name LIKE 'pgpart %' "
		"          THEN a.application_name "
		"          ELSE pg_catalog.format('application_name %L', "
		"                                 COALESCE(a.application_name, '')) END, "
		"     l.pid, "
		"     CASE WHEN a.backend_start IS NULL THEN 'host not visible to this role' "
		"          WHEN a.client_addr IS NULL THEN 'over the local socket' "
		"          ELSE 'from ' || COALESCE(a.client_hostname, pg_catalog.host(a.client_addr)) END, "
		"     CASE WHEN a.backend_start IS NULL THEN 'start not visible to this role' "
		"          ELSE 'connected since ' || pg_catalog.to_char(a.backend_start AT TIME ZONE 'UTC', "
		"               'YYYY-MM-DD HH24:MI:SS') || ' UTC (' || "
		"               pg_catalog.date_trunc('second', pg_catalog.now() - a.backend_start) || "
		"               ' ago)' END) "
		"   FROM pg_catalog.pg_locks l "
		"   LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
		"   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
		"     AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
		"                       WHERE d.datname = pg_catalog.current_database()) "
		"     AND l.classid = pg_catalog.hashtext('pgpart')::pg_catalog.oid "
		"     AND l.objid = $1::pg_catalog.oid "
		"     AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid() "
		"   ORDER BY l.pid LIMIT 1)",
		table, err);

	if (res == NULL)
		return false;
	*name = pg_xstrdup(PQgetvalue(res, 0, 0));
	*holder = PQgetisnull(res, 0, 1) ? NULL : pg_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return true;
}

static void
release_all(PgConn *pc, WorkLock *wl)
{
	while (wl->n > 0)
		release_one(pc, wl->tables[--wl->n]);
}

/* tries every table once; *busy: the first not granted (0: all held) */
static bool
try_all(PgConn *pc, WorkLock *wl, const RelOid *tables, int n, RelOid *busy, PgpError *err)
{
	int i, j;

	*busy = 0;
	for (i = 0; i < n; i++)
	{
		bool got = false, dup = false;

		for (j = 0; j < wl->n; j++)
			dup = dup || wl->tables[j] == tables[i];
		if (tables[i] == 0 || dup)
			continue;
		if (!try_one(pc, tables[i], &got, err))
		{
			release_all(pc, wl);
			return false;
		}
		if (!got)
		{
			/* all or none: nothing is held while waiting, so no two pgparts wait on each other */
			release_all(pc, wl);
			*busy = tables[i];
			return true;
		}
		wl->tables[wl->n++] = tables[i];
	}
	return true;
}

static void
busy_error(PgConn *pc, const char *name, const char *holder, double waited_ms, PgpError *err)
{
	if (holder)
		err_set(err, EXIT_BUSY, "another pgpart is working on %s: %s", name, holder);
	else
		err_set(err, EXIT_BUSY, "another pgpart is working on %s", name);
	err->kind = ERR_KIND_BUSY;
	if (waited_ms > 0)
		err_detail(err, "Waited %.0f s for it (--wait); pgpart works on a table one command at "
						"a time.  Nothing was changed.",
				   waited_ms / 1000);
	else
		err_detail(err, "pgpart works on a table one command at a time (migrate start, backfill, "
						"verify --repair, switch, rollback, finish; maintain, archive, restore, "
						"move).  Nothing was changed.");
	if (pc->worklock_wait_ms == WORKLOCK_WAIT_FOREVER)
		err_hint(err, "Wait for it to finish, then run this again.");
	else
		err_hint(err, "Wait for it to finish, or pass --wait (or --wait=DURATION) to wait for "
					  "it; its pid is in pg_stat_activity.");
}

/*
 * application_name says the command while the lock is held; a name the user
 * gave (PGAPPNAME, application_name=) stays, in brackets after it, and the
 * whole one comes back at release.
 */
static void
name_command(PgConn *pc, WorkLock *wl, const char *command)
{
	char *app = pg_xasprintf("pgpart %s", command);
	const char *params[1] = {app};
	PgpError e;
	PGresult *res;

	err_init(&e);
	res = pgc_query(pc,
					"SELECT a.name, pg_catalog.set_config('application_name', "
					"  CASE WHEN a.name IN ('', 'pgpart') OR a.name LIKE 'pgpart %' THEN $1 "
					"  ELSE $1 || ' (' || a.name || ')' END, false) "
					"FROM (SELECT pg_catalog.current_setting('application_name') AS name) a",
					1, params, &e);
	/* only a label for the next pgpart's message: failing to set it changes nothing */
	if (res)
		wl->saved_app = pg_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	err_clear(&e);
	free(app);
}

static void
restore_name(PgConn *pc, WorkLock *wl)
{
	if (wl->saved_app)
	{
		const char *params[1] = {wl->saved_app};

		pgc_exec_quiet(pc, "SELECT pg_catalog.set_config('application_name', $1, false)", 1,
					   params);
	}
	free(wl->saved_app);
	wl->saved_app = NULL;
}

bool
worklock_take(PgConn *pc, WorkLock *wl, const char *command, const RelOid *tables, int n,
			  PgpError *err)
{
	double t0 = clock_ms();
	bool told = false;
	int vanished = 0;

	if (n > WORKLOCK_MAX_TABLES)
		n = WORKLOCK_MAX_TABLES;
	/*
	 * Named before the lock is tried: whoever sees the lock held in pg_locks
	 * then also sees the command in pg_stat_activity, never a lock without it.
	 */
	name_command(pc, wl, command);
	for (;;)
	{
		RelOid busy;
		char *name = NULL, *holder = NULL;
		double waited;
		bool give_up;

		if (!try_all(pc, wl, tables, n, &busy, err))
		{
			restore_name(pc, wl);
			return false;
		}
		if (busy == 0)
			break;
		if (!describe_holder(pc, busy, &name, &holder, err))
		{
			restore_name(pc, wl);
			return false;
		}
		waited = clock_ms() - t0;
		if (holder == NULL && vanished++ < WORKLOCK_VANISHED_RETRIES)
		{
			/* released between our try and our look: try again at once */
			FREE_ALL(name, holder);
			continue;
		}
		give_up = pc->worklock_wait_ms == 0 ||
				  (pc->worklock_wait_ms > 0 && waited >= pc->worklock_wait_ms);
		if (give_up)
		{
			busy_error(pc, name, holder, pc->worklock_wait_ms != 0 ? waited : 0, err);
			FREE_ALL(name, holder);
			restore_name(pc, wl);
			return false;
		}
		if (wl->cancel && *wl->cancel)
		{
			err_set(err, EXIT_RUNTIME, "cancelled while waiting for another pgpart working on %s",
					name);
			err_detail(err, "Nothing was changed.");
			FREE_ALL(name, holder);
			restore_name(pc, wl);
			return false;
		}
		if (!told)
		{
			log_info("another pgpart is working on %s (%s): waiting for it", name,
					 holder ? holder : "just finished");
			told = true;
		}
		FREE_ALL(name, holder);
		vanished = 0;
		{
			double left = pc->worklock_wait_ms > 0 ? pc->worklock_wait_ms - waited
												   : WORKLOCK_POLL_MS;

			sleep_ms(left < WORKLOCK_POLL_MS ? (int64_t) left + 1 : WORKLOCK_POLL_MS);
		}
	}
	if (told)
		log_info("took the work lock after waiting %.1f s", (clock_ms() - t0) / 1000);
	return true;
}

void
worklock_release(PgConn *pc, WorkLock *wl)
{
	release_all(pc, wl);
	restore_name(pc, wl);
}
