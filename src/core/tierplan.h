/*
 * tierplan.h - which tier each partition of a table belongs in under its
 * policy.  Pure: the caller turns the ages into cutoff instants (in the
 * table's time zone, on the server) and passes each partition's upper bound.
 *
 * A partition is due for a tier when its whole range ended at least that age
 * ago: hi <= cutoff, where cutoff = today - age.  So nothing whose range is
 * not entirely in the past ever moves.  The oldest applicable step wins: drop
 * over archive over remote over warm.
 */
#ifndef PGPART_CORE_TIERPLAN_H
#define PGPART_CORE_TIERPLAN_H

#include <stdbool.h>
#include <stdint.h>

typedef enum TierAction
{
	TIER_NONE,
	TIER_WARM,	  /* move to the warm tablespace */
	TIER_ARCHIVE, /* archive to the archive location, then drop */
	TIER_DROP,	  /* retention: drop (archived first unless the policy says not to) */
	TIER_REMOTE	  /* send to the remote server (pgpart remote send) */
} TierAction;

typedef struct TierCutoffs
{
	bool has_warm, has_archive, has_drop;
	int64_t warm_us, archive_us, drop_us; /* instants: ranges ending at or before are due */
	int64_t now_us;
	bool has_remote;
	int64_t remote_us;
} TierCutoffs;

typedef struct TierPartition
{
	bool is_default;
	bool bounds_known;
	bool hi_unbounded;
	int64_t hi_us;
	bool in_warm_tablespace; /* already there */
} TierPartition;

TierAction tierplan_action(const TierCutoffs *c, const TierPartition *p);
const char *tier_action_name(TierAction a);

#endif
