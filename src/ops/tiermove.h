/*
 * tiermove.h - move one closed partition to another tablespace (the warm
 * tier) without holding an ACCESS EXCLUSIVE lock on the parent for the
 * length of a rewrite.
 *
 * Used by "pgpart move" and by the tier policy that "maintain" applies.
 */
#ifndef PGPART_OPS_TIERMOVE_H
#define PGPART_OPS_TIERMOVE_H

#include "pg/conn.h"
#include "pg/lock.h"
#include "util/error.h"

typedef struct TierMoveOptions
{
	const char *table;		/* the partitioned parent, as typed (regclass text) */
	const char *partition;	/* the partition to move, as typed (regclass text) */
	const char *tablespace; /* target tablespace name */
	LockPolicy lock;
	bool dry_run;
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
	double max_lock_held_ms;
	double duration_ms;
} TierMoveResult;

void tiermoveresult_free(TierMoveResult *r);
bool ops_tier_move(PgConn *pc, const TierMoveOptions *opt, TierMoveResult *res, PgpError *err);

#endif
