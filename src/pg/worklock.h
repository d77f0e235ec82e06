/*
 * worklock.h - one pgpart at a time per table.
 *
 * Every command that changes a managed table or a migration (migrate start,
 * backfill, verify --repair, switch, rollback, finish; maintain, archive,
 * restore, move) first takes a session-level advisory lock on each table it works
 * on, keyed (hashtext('pgpart'), table OID).  All of them share this one
 * per-table lock: a backfill and a switch of the same table, or two archives
 * of two of its partitions, must not run together either, and one key per
 * table is a rule a DBA can check in pg_locks.  The lock is per session, so
 * a command that calls another (maintain's tier policy runs archive and
 * move) takes it again without waiting for itself.
 *
 * When another session holds it, the caller gets EXIT_BUSY (ERR_KIND_BUSY)
 * with an error that names the holder: its command (the application_name
 * pgpart sets while it holds the lock, "pgpart migrate backfill"), pid, host
 * and since when; or, with a wait allowed (pc->worklock_wait_ms, --wait),
 * the lock is polled with pg_try_advisory_lock until it is free or the wait
 * is over, never requested blocking, so nothing queues on the server and
 * Ctrl-C ends the wait at once.
 */
#ifndef PGPART_PG_WORKLOCK_H
#define PGPART_PG_WORKLOCK_H

#include <signal.h>
#include <stdbool.h>

#include "pg/catalog.h"
#include "pg/conn.h"

#define WORKLOCK_MAX_TABLES 2

typedef struct WorkLock
{
	RelOid tables[WORKLOCK_MAX_TABLES]; /* held, in the order taken */
	int n;
	char *saved_app; /* application_name before this lock named the command */
	/* set by a caller that catches SIGINT itself: a wait ends when it turns non-zero */
	const volatile sig_atomic_t *cancel;
} WorkLock;

/* pc->worklock_wait_ms for "wait as long as it takes" */
#define WORKLOCK_WAIT_FOREVER (-1)

/*
 * Takes the work lock of each of tables[0..n) (0 entries are skipped) for
 * command ("migrate backfill"), all or none.  On false nothing is held; a
 * busy table gives err->kind ERR_KIND_BUSY and exit code EXIT_BUSY.
 * *wl must be zeroed before the first call (worklock_release is then safe).
 */
bool worklock_take(PgConn *pc, WorkLock *wl, const char *command, const RelOid *tables, int n,
				   PgpError *err);
/* releases what worklock_take took and gives back the application_name */
void worklock_release(PgConn *pc, WorkLock *wl);

#endif
