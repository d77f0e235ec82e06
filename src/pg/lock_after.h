/*
 * lock_after.h - how long the writers that waited for a locking transaction
 * took to finish after its COMMIT (A, the last part of W = Q + H + A).
 *
 * Releasing a lock does not end the writers' wait: a DDL change makes every
 * backend that touches the table next rebuild its cached catalog entries and
 * plans, several at once on a busy server, and the requests that arrived
 * meanwhile are worked off behind them.  bench/migrate measured the writers
 * that waited for a switch ending 15-25 ms after its COMMIT.
 *
 * Measured from pg_locks alone, which shows every role's sessions (no
 * privilege needed):
 * - just before the COMMIT (lock_after_note): the transactions waiting in a
 *   writer's lock mode for one of this transaction's locks, or for one of
 *   those waiters (a second UPDATE of a row a batch holds waits for the
 *   first UPDATE's tuple lock, not for pgpart), and the
 *   relations it holds in a mode that excludes writers (while it holds them,
 *   no other transaction can hold ROW EXCLUSIVE there);
 * - after the COMMIT (lock_after_follow), every millisecond: until those
 *   waiters have ended, also every transaction that now holds ROW EXCLUSIVE
 *   on one of those relations (it got it after the COMMIT: a waiter that
 *   queued after the look, or the backlog being worked off); then until the
 *   ones still open at that moment have ended too.
 * A transaction has ended before the first poll that no longer sees it, so
 * A can only overstate.  What the server cannot see is not in it: requests
 * an application holds in its own queue while its connections wait.
 */
#ifndef PGPART_PG_LOCK_AFTER_H
#define PGPART_PG_LOCK_AFTER_H

#include <stdbool.h>

#include "pg/conn.h"

/*
 * The longest A is followed: a writer's transaction that waited and then
 * runs long on its own, or sits idle in transaction, no longer waits for
 * pgpart; A is then this much, and capped says so.
 */
#define LOCK_AFTER_MAX_MS 250

typedef struct LockAfter
{
	char *waiters;	 /* text[] literal of virtual transaction ids; NULL: none noted */
	char *relations; /* oid[] literal of the relations held against writers */
	double after_ms; /* A */
	int waiters_n;	 /* how many waited at the COMMIT */
	bool capped;
} LockAfter;

#define LOCK_AFTER_INIT {NULL, NULL, 0, 0, false}

/* inside the transaction, right before its COMMIT */
bool lock_after_note(PgConn *pc, LockAfter *a, PgpError *err);
/*
 * right after the COMMIT returned at committed (clock_ms): false when there
 * was nothing to follow; an error only ends the following (the locks are
 * released already)
 */
bool lock_after_follow(PgConn *pc, LockAfter *a, double committed);
void lock_after_free(LockAfter *a);

#endif
