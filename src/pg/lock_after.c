/*
 * lock_after.c - A, the writers' time after a locking transaction's COMMIT
 * (lock_after.h says what is measured and why).
 */
#include "pg/lock_after.h"

#include <stdlib.h>

#include "util/clock.h"
#include "util/mem.h"

/* a text[]/oid[] literal of column col, NULL when SQL NULL (no rows) */
static char *
array_or_null(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : pg_xstrdup(PQgetvalue(res, 0, col));
}

bool
lock_after_note(PgConn *pc, LockAfter *a, PgpError *err)
{
	PGresult *res = pgc_query(
		pc,
		"WITH RECURSIVE l AS MATERIALIZED ("
		"  SELECT locktype, relation, virtualtransaction, pid, mode, granted "
		"  FROM pg_catalog.pg_locks), "
		/* a writer that waits: a table's ROW EXCLUSIVE, or a row (another's
		 * transaction id, or the row's tuple lock a first waiter holds) */
		" w AS MATERIALIZED (SELECT DISTINCT pid, virtualtransaction FROM l "
		"   WHERE NOT granted AND pid <> pg_catalog.pg_backend_pid() "
		"     AND (mode = 'RowExclusiveLock' OR locktype IN ('transactionid', 'tuple'))), "
		/* pg_blocking_pids briefly takes the whole lock manager: once per waiter */
		" b AS MATERIALIZED (SELECT pid, virtualtransaction, "
		"   pg_catalog.pg_blocking_pids(pid) AS by FROM w), "
		/* waiting for pgpart, or for a writer that waits for it (a second
		 * UPDATE of a row waits for the first one's tuple lock) */
		" chain (pid, vxid) AS (SELECT pid, virtualtransaction FROM b "
		"   WHERE pg_catalog.pg_backend_pid() = ANY (by) "
		"   UNION SELECT b.pid, b.virtualtransaction FROM b JOIN chain c ON c.pid = ANY (b.by)) "
		"SELECT "
		"  (SELECT pg_catalog.array_agg(DISTINCT vxid) FROM chain)::pg_catalog.text, "
		"  (SELECT pg_catalog.array_agg(DISTINCT h.relation) FROM l h "
		"   WHERE h.pid = pg_catalog.pg_backend_pid() AND h.granted AND h.locktype = 'relation' "
		"     AND h.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
		"       'AccessExclusiveLock'))::pg_catalog.text",
		0, NULL, err);

	lock_after_free(a);
	if (res == NULL)
	{
		err_prefix(err, "could not look for the writers waiting for pgpart's locks");
		return false;
	}
	a->waiters = array_or_null(res, 0);
	a->relations = array_or_null(res, 1);
	PQclear(res);
	return true;
}

/*
 * One poll: how many of waiters are still open, and (with relations) the
 * open ones together with the writers now on those relations.
 */
static bool
poll_open(PgConn *pc, const char *waiters, const char *relations, long *open, char **open_all)
{
	const char *params[2] = {waiters ? waiters : "{}", relations ? relations : "{}"};
	PgpError ignored;
	PGresult *res;

	err_init(&ignored);
	res = pgc_query(pc,
					"WITH l AS MATERIALIZED ("
					"  SELECT locktype, relation, virtualxid, virtualtransaction, pid, mode, "
					"    granted FROM pg_catalog.pg_locks) "
					"SELECT (SELECT count(*) FROM l WHERE locktype = 'virtualxid' "
					"    AND virtualxid = ANY ($1::pg_catalog.text[])), "
					"  (SELECT pg_catalog.array_agg(DISTINCT v) FROM ("
					"    SELECT virtualxid FROM l WHERE locktype = 'virtualxid' "
					"      AND virtualxid = ANY ($1::pg_catalog.text[]) "
					"    UNION SELECT virtualtransaction FROM l WHERE locktype = 'relation' "
					"      AND mode = 'RowExclusiveLock' AND granted "
					"      AND relation = ANY ($2::pg_catalog.oid[]) "
					"      AND pid <> pg_catalog.pg_backend_pid()) x(v))::pg_catalog.text",
					2, params, &ignored);
	err_clear(&ignored);
	if (res == NULL)
		return false;
	*open = atol(PQgetvalue(res, 0, 0));
	*open_all = array_or_null(res, 1);
	PQclear(res);
	return true;
}

bool
lock_after_follow(PgConn *pc, LockAfter *a, double committed)
{
	char *following = a->waiters ? pg_xstrdup(a->waiters) : NULL;
	const char *relations = a->relations;
	bool followed = false;

	if (a->waiters == NULL && a->relations == NULL)
		return false;
	if (a->waiters)
	{
		const char *p;

		/* "{3/17,4/9}": elements are never quoted (digits and a slash) */
		a->waiters_n = 1;
		for (p = a->waiters; *p; p++)
			a->waiters_n += *p == ',';
	}
	for (;;)
	{
		long open;
		char *open_all;

		if (!poll_open(pc, following, relations, &open, &open_all))
			break;
		a->after_ms = clock_ms() - committed;
		if (open == 0 && relations == NULL)
		{
			free(open_all);
			break;
		}
		if (open == 0)
		{
			/* the waiters are done: now the writers that came after them */
			free(following);
			following = open_all;
			relations = NULL;
			if (following == NULL)
				break;
			followed = true;
			continue;
		}
		followed = true;
		free(open_all);
		if (a->after_ms >= LOCK_AFTER_MAX_MS)
		{
			/* the header's promise: then exactly the cap, whatever one poll took */
			a->after_ms = LOCK_AFTER_MAX_MS;
			a->capped = true;
			break;
		}
		sleep_ms(1);
	}
	free(following);
	if (!followed && a->waiters_n == 0)
		a->after_ms = 0;
	return followed || a->waiters_n > 0;
}

void
lock_after_free(LockAfter *a)
{
	FREE_ALL(a->waiters, a->relations);
	a->waiters = a->relations = NULL;
}
