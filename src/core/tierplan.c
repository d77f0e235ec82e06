/*
 * tierplan.c - the per-partition decision of the tier policy, kept apart from the
 * SQL that gathers the cutoffs so the rule (hi <= cutoff, the oldest step
 * wins) is tested on its own.
 */
#include "core/tierplan.h"

TierAction
tierplan_action(const TierCutoffs *c, const TierPartition *p)
{
	/* the default partition and open-ended ranges are never closed */
	if (p->is_default || !p->bounds_known || p->hi_unbounded)
		return TIER_NONE;
	if (p->hi_us > c->now_us)
		return TIER_NONE;
	if (c->has_drop && p->hi_us <= c->drop_us)
		return TIER_DROP;
	if (c->has_archive && p->hi_us <= c->archive_us)
		return TIER_ARCHIVE;
	if (c->has_remote && p->hi_us <= c->remote_us)
		return TIER_REMOTE;
	if (c->has_warm && p->hi_us <= c->warm_us && !p->in_warm_tablespace)
		return TIER_WARM;
	return TIER_NONE;
}

const char *
tier_action_name(TierAction a)
{
	switch (a)
	{
		case TIER_WARM:
			return "warm";
		case TIER_ARCHIVE:
			return "archive";
		case TIER_DROP:
			return "drop";
		case TIER_REMOTE:
			return "remote";
		case TIER_NONE:
			break;
	}
	return "none";
}
