/*
 * test_tierplan - which tier a partition is due for: only ranges that ended
 * at or before a cutoff move, the oldest applicable step wins (drop over
 * archive over remote over warm), and the default partition or open ranges never move.
 */
#include "core/tierplan.h"
#include "tap.h"

#define DAY (86400LL * 1000000LL)

static TierPartition
part(int64_t hi_us)
{
	TierPartition p = {false, true, false, hi_us, false};

	return p;
}

int
main(void)
{
	/* now = day 1000; warm after 100 days, archive after 400, drop after 2000 */
	TierCutoffs c = {true, true, true, 900 * DAY, 600 * DAY, -1000 * DAY, 1000 * DAY, false, 0};
	TierCutoffs only_warm = {true, false, false, 900 * DAY, 0, 0, 1000 * DAY, false, 0};
	TierPartition p;

	is_int(tierplan_action(&c, &(TierPartition){false, true, false, 950 * DAY, false}), TIER_NONE,
		   "ended 50 days ago: stays hot");
	p = part(900 * DAY);
	is_int(tierplan_action(&c, &p), TIER_WARM, "ended exactly at the warm cutoff: warm (hi <= cutoff)");
	p = part(900 * DAY + 1);
	is_int(tierplan_action(&c, &p), TIER_NONE, "one microsecond after the cutoff: not yet");
	p = part(700 * DAY);
	p.in_warm_tablespace = true;
	is_int(tierplan_action(&c, &p), TIER_NONE, "already in the warm tablespace: nothing to do");
	p = part(600 * DAY);
	is_int(tierplan_action(&c, &p), TIER_ARCHIVE, "past the archive cutoff: archive, not warm");
	p.in_warm_tablespace = true;
	is_int(tierplan_action(&c, &p), TIER_ARCHIVE, "a warm partition past the archive cutoff: archive");
	p = part(-1000 * DAY);
	is_int(tierplan_action(&c, &p), TIER_DROP, "past the drop cutoff: drop wins over archive");
	p = part(100 * DAY);
	is_int(tierplan_action(&only_warm, &p), TIER_WARM, "no archive or drop step: the oldest goes warm");

	p = part(100 * DAY);
	p.is_default = true;
	is_int(tierplan_action(&c, &p), TIER_NONE, "the default partition never moves");
	p = part(100 * DAY);
	p.hi_unbounded = true;
	is_int(tierplan_action(&c, &p), TIER_NONE, "a range open to MAXVALUE never moves");
	p = part(100 * DAY);
	p.bounds_known = false;
	is_int(tierplan_action(&c, &p), TIER_NONE, "bounds that could not be read: nothing moves");
	p = part(1100 * DAY);
	is_int(tierplan_action(&c, &p), TIER_NONE, "a range ending in the future never moves");

	{
		/* a remote step after 200 days: between warm and archive */
		TierCutoffs r = c;

		r.has_remote = true;
		r.remote_us = 800 * DAY;
		p = part(850 * DAY);
		is_int(tierplan_action(&r, &p), TIER_WARM, "past warm, not remote: warm");
		p = part(800 * DAY);
		is_int(tierplan_action(&r, &p), TIER_REMOTE, "past the remote cutoff: remote wins over warm");
		p = part(600 * DAY);
		is_int(tierplan_action(&r, &p), TIER_ARCHIVE, "past the archive cutoff: archive wins over remote");
		is_str(tier_action_name(TIER_REMOTE), "remote", "names: remote");
	}
	is_str(tier_action_name(TIER_WARM), "warm", "names: warm");
	is_str(tier_action_name(TIER_ARCHIVE), "archive", "names: archive");
	is_str(tier_action_name(TIER_DROP), "drop", "names: drop");
	is_str(tier_action_name(TIER_NONE), "none", "names: none");
	return done_testing();
}
