/*
 * lockmode.h - PostgreSQL's table lock modes and which of them conflict, so
 * that pgpart can tell, from pg_locks, whether a session would make its lock
 * request wait (pg/lock.c).  The table is the server's (LockConflicts in
 * src/backend/storage/lmgr/lock.c), which the documentation's "Conflicting
 * Lock Modes" table shows.
 */
#ifndef PGPART_CORE_LOCKMODE_H
#define PGPART_CORE_LOCKMODE_H

#include <stdbool.h>

/* weakest first, in the server's order (lockdefs.h) */
typedef enum LockMode
{
	LOCK_ACCESS_SHARE = 1,
	LOCK_ROW_SHARE,
	LOCK_ROW_EXCLUSIVE,
	LOCK_SHARE_UPDATE_EXCLUSIVE,
	LOCK_SHARE,
	LOCK_SHARE_ROW_EXCLUSIVE,
	LOCK_EXCLUSIVE,
	LOCK_ACCESS_EXCLUSIVE
} LockMode;

#define LOCK_MODE_COUNT 8

/* as pg_locks.mode names it ("AccessShareLock"); NULL for a value out of range */
const char *lockmode_name(LockMode mode);
/* whether a lock in mode a held by one session makes a request for b by another wait */
bool lockmode_conflicts(LockMode a, LockMode b);
/* the names of the modes that conflict with mode, NULL-terminated, into out; their count */
int lockmode_conflicting_names(LockMode mode, const char *out[LOCK_MODE_COUNT + 1]);

#endif
