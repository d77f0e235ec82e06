/* maint_needed and maint_order: what --only-needed skips, biggest first */
#include <string.h>

#include "core/maintplan.h"
#include "tap.h"

int
main(void)
{
	PartitionActivity closed = {1000, 5000, 0, 0, 0, 1000, false, false};
	PartitionActivity busy = {5000, 5000, 2000, 300, 700, 1000, false, false};
	PartitionActivity fresh = {10, 100, 0, 100, 0, 10, true, true};
	PartitionActivity old = closed;
	PartitionActivity acts[4];
	int order[4];
	const char *why;

	old.frozen_xid_age = MAINT_FREEZE_AGE;
	ok(maint_needed(MAINT_VACUUM, &closed, false, &why), "without --only-needed: always");
	ok(!maint_needed(MAINT_VACUUM, &closed, true, &why), "closed partition: no vacuum");
	is_str(why, "no dead rows, young transaction IDs", "and says why");
	ok(maint_needed(MAINT_VACUUM, &busy, true, &why), "dead rows above the threshold: vacuum");
	ok(maint_needed(MAINT_VACUUM, &old, true, &why), "old transaction IDs: vacuum (freeze)");
	ok(strstr(why, "freezing") != NULL, "says freezing");
	ok(maint_needed(MAINT_VACUUM, &fresh, true, &why), "never vacuumed: vacuum");
	ok(!maint_needed(MAINT_ANALYZE, &closed, true, &why), "closed partition: no analyze");
	ok(maint_needed(MAINT_ANALYZE, &busy, true, &why), "changed rows: analyze");
	ok(maint_needed(MAINT_ANALYZE, &fresh, true, &why), "never analysed: analyze");
	ok(!maint_needed(MAINT_REINDEX, &closed, true, &why), "insert-only partition: no reindex");
	ok(maint_needed(MAINT_REINDEX, &busy, true, &why), "updated partition: reindex");

	acts[0] = closed;
	acts[1] = busy;
	acts[2] = fresh;
	acts[3] = busy;
	maint_order(acts, 4, order);
	ok(order[0] == 1 && order[1] == 3 && order[2] == 0 && order[3] == 2,
	   "biggest first, ties in their order: %d %d %d %d", order[0], order[1], order[2], order[3]);
	is_str(maint_action_name(MAINT_REINDEX), "reindex", "action names");
	is_int(maint_changes_since(700, false, 0), 700, "no baseline: every change counts");
	is_int(maint_changes_since(700, true, 650), 50, "changes since the last reindex");
	is_int(maint_changes_since(700, true, 700), 0, "none since the last reindex");
	is_int(maint_changes_since(20, true, 700), 20, "statistics reset since: the counter as it is");
	return done_testing();
}
