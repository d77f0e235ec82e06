/*
 * move.h - move one closed partition to another tablespace (the warm
 * tier) without holding an ACCESS EXCLUSIVE lock on the parent for the
 * length of a rewrite.
 *
 * Used by "pgpart move" and by the tier policy that "maintain" applies.
 */
#ifndef PGPART_COMMANDS_MOVE_H
#define PGPART_COMMANDS_MOVE_H

#include <signal.h>

#include "core/throttle.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/lock.h"
#include "util/error.h"

typedef struct TierMoveOptions
{
	const char *table;		/* the partitioned parent, as typed (regclass text) */
	const char *partition;	/* the partition to move, as typed (regclass text) */
	const char *tablespace; /* target tablespace name (not needed with abort) */
	LockPolicy lock;
	bool dry_run;
	bool keep_old; /* keep the former partition (renamed, detached) instead of dropping it */
	bool abort;	   /* only undo an interrupted move: drop its copy and write guard */
	HealthArgs health; /* before the copy, wait while the server is unwell */
	/* set (by a signal handler) to stop at the next step and undo; may be NULL */
	volatile sig_atomic_t *cancel;
} TierMoveOptions;

typedef struct TierMoveResult
{
	char *partition;	   /* qualified name of the partition after the move */
	char *from_tablespace;
	char *to_tablespace;
	bool already_there;	   /* nothing to do */
	long rows;
	long long bytes;	   /* heap + indexes after the move */
	int lock_attempts;
	double max_lock_held_ms; /* the longest any of its short transactions held locks */
	double swap_lock_held_ms; /* the DETACH + ATTACH transaction (readers of the table wait) */
	double copy_ms;			  /* building the copy (writers to the range are refused) */
	/*
	 * the worst of the guard, swap, drop and foreign-key transactions for
	 * writers; the copy reads the partition under ACCESS SHARE, which no
	 * writer waits for (they are refused by the guard instead)
	 */
	LockFelt felt;
	double duration_ms;
	char *old_table;  /* --keep-old: qualified name of the former partition */
	bool aborted;	  /* abort: what an interrupted move left was removed */
	int leftovers_dropped; /* copies / former partitions of interrupted moves dropped */
	NameList notes;
} TierMoveResult;

void tiermoveresult_free(TierMoveResult *r);

/*
 * Moves opt->partition of opt->table to opt->tablespace (or back to
 * pg_default), or with opt->abort removes what an interrupted move left.
 * Refuses (EXIT_USAGE, nothing changed) unless the partition's range ends
 * in the past, the tablespace exists and the user may create in it.
 *
 * Steps, each its own transaction: a guard trigger on the partition refuses
 * writes; the copy is built in the tablespace (rows, then indexes, a CHECK
 * of the bounds, statistics) and compared (count and checksum); one short
 * transaction under lock_timeout detaches the partition, attaches the copy
 * with the same bounds and gives it the partition's name, indexes, triggers,
 * grants, owner and comment; the former partition is dropped.  A crash at
 * any step leaves the rows in the attached partition; the next run drops
 * the leftovers and starts again (or finishes the drop).
 *
 * Takes pgpart's advisory lock of the table (re-entrant for a caller that
 * already holds it on the same connection).
 */
bool ops_tier_move(PgConn *pc, const TierMoveOptions *opt, TierMoveResult *res, PgpError *err);

#endif
