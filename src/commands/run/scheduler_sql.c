/*
 * scheduler_sql.c - the statements of the leader lock of "pgpart run", sent
 * with the simple protocol on the lock connection (no portal keeps a
 * snapshot), so that the lock transaction holds no xid and no snapshot for
 * the leader's whole life.
 */
#include "commands/run/scheduler_sql.h"

#include <stdio.h>

/*
 * The leader lock: LOCK TABLE pgpart.scheduler_leader (a view without rows,
 * see pg/schema.c) IN EXCLUSIVE MODE NOWAIT, in a transaction the lock
 * connection keeps open for as long as it leads.  Not an advisory lock: any
 * role that can connect may take an advisory lock with the same key, and did,
 * which silenced the scheduler.  EXCLUSIVE needs UPDATE, DELETE or TRUNCATE
 * on it (only pgpart's own role and superusers have them) and conflicts with
 * every mode but ACCESS SHARE, so a role that may only read it cannot hold it
 * off.  Not a row lock either (SELECT ... FOR UPDATE): that would give the
 * transaction an xid for the leader's whole life, holding back VACUUM's xmin
 * horizon in every table of the database; a transaction that only holds a
 * table lock has no xid, and in READ COMMITTED keeps no snapshot between
 * statements.  The session shows in pg_stat_activity as "idle in
 * transaction", with application_name LEADER_APP, which is also how a
 * follower tells another pgpart instance from anything else holding the lock.
 */
#define LEADER_APP "pgpart run"

/* a statement on the lock connection: simple protocol, so no portal keeps a snapshot */
static bool
leader_exec(PgConn *lc, const char *sql, PgpError *err)
{
	PGresult *res = PQexec(lc->conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;

	if (!ok)
	{
		const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		err_set(err, EXIT_RUNTIME, "%s", msg ? msg : PQerrorMessage(lc->conn));
		if (state)
			snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
	}
	PQclear(res);
	return ok;
}

bool
leader_session_setup(PgConn *lc, PgpError *err)
{
	const char *params[1] = {LEADER_APP};

	return pgc_exec(lc,
					"SELECT pg_catalog.set_config('application_name', $1, false), "
					"pg_catalog.set_config('idle_in_transaction_session_timeout', '0', false)",
					1, params, err) &&
		   (PQserverVersion(lc->conn) < 170000 ||
			pgc_exec(lc, "SELECT pg_catalog.set_config('transaction_timeout', '0', false)", 0, NULL,
					 err));
}

bool
leader_begin(PgConn *lc, PgpError *err)
{
	return leader_exec(lc, "BEGIN ISOLATION LEVEL READ COMMITTED", err);
}

/* EXCLUSIVE on the view: conflicts with every mode but ACCESS SHARE (see above) */
bool
leader_lock(PgConn *lc, PgpError *err)
{
	return leader_exec(lc, "LOCK TABLE pgpart.scheduler_leader IN EXCLUSIVE MODE NOWAIT", err);
}

void
leader_rollback(PgConn *lc)
{
	PgpError ignored;

	err_init(&ignored);
	leader_exec(lc, "ROLLBACK", &ignored);
	err_clear(&ignored);
}

bool
leader_ping(PgConn *lc, PgpError *err)
{
	return leader_exec(lc, "SELECT 1", err);
}

bool
leader_lock_holders(PgConn *lc, char **who, PgpError *err)
{
	const char *params[1] = {LEADER_APP};

	/* application_name and usename are shown to every role; a prepared transaction has no pid */
	return pgc_query_value(lc,
						 "SELECT pg_catalog.string_agg(pg_catalog.format('role %s, application_name "
						 "%L, pid %s (%s)', COALESCE(a.usename::text, '?'), "
						 "COALESCE(a.application_name, ''), COALESCE(l.pid::text, "
						 "'none: a prepared transaction'), l.mode), '; ' ORDER BY l.pid) "
						 "FROM pg_catalog.pg_locks l "
						 "LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
						 "WHERE l.locktype = 'relation' AND l.granted "
						 "  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
						 "    WHERE d.datname = pg_catalog.current_database()) "
						 "  AND l.relation = 'pgpart.scheduler_leader'::pg_catalog.regclass "
						 "  AND l.mode <> 'AccessShareLock' "
						 "  AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid() "
						 "  AND a.application_name IS DISTINCT FROM $1",
						 1, params, who, err);
}
