/* unit tests of core/lockmode.c: the conflict table is the server's */
#include <string.h>

#include "core/lockmode.h"
#include "tap.h"

int
main(void)
{
	const char *names[LOCK_MODE_COUNT + 1];
	int a, b, asym = 0;

	/* the server's table is symmetric: a typo in one row shows as a mismatch */
	for (a = LOCK_ACCESS_SHARE; a <= LOCK_ACCESS_EXCLUSIVE; a++)
		for (b = LOCK_ACCESS_SHARE; b <= LOCK_ACCESS_EXCLUSIVE; b++)
			if (lockmode_conflicts((LockMode) a, (LockMode) b) !=
				lockmode_conflicts((LockMode) b, (LockMode) a))
				asym++;
	is_int(asym, 0, "conflicts are symmetric");

	is_int(lockmode_conflicting_names(LOCK_ACCESS_EXCLUSIVE, names), 8,
		   "ACCESS EXCLUSIVE conflicts with every mode, itself included");
	is_str(names[0], "AccessShareLock", "a long reader's ACCESS SHARE among them");
	ok(names[8] == NULL, "the list ends with NULL");
	is_int(lockmode_conflicting_names(LOCK_ACCESS_SHARE, names), 1,
		   "ACCESS SHARE conflicts only with ACCESS EXCLUSIVE");
	is_str(names[0], "AccessExclusiveLock", "named as pg_locks names it");
	ok(lockmode_conflicts(LOCK_SHARE_UPDATE_EXCLUSIVE, LOCK_SHARE_UPDATE_EXCLUSIVE),
	   "SHARE UPDATE EXCLUSIVE (autovacuum, ATTACH) conflicts with itself");
	ok(!lockmode_conflicts(LOCK_SHARE_UPDATE_EXCLUSIVE, LOCK_ROW_EXCLUSIVE),
	   "but not with writers' ROW EXCLUSIVE");
	ok(lockmode_conflicts(LOCK_SHARE_ROW_EXCLUSIVE, LOCK_ROW_EXCLUSIVE),
	   "SHARE ROW EXCLUSIVE (ATTACH with a default partition) waits for writers");
	ok(!lockmode_conflicts(LOCK_ROW_EXCLUSIVE, LOCK_ROW_EXCLUSIVE), "writers do not block writers");
	ok(!lockmode_conflicts(LOCK_ROW_SHARE, LOCK_SHARE), "ROW SHARE and SHARE coexist");
	ok(lockmode_conflicts(LOCK_ROW_SHARE, LOCK_EXCLUSIVE), "ROW SHARE waits for EXCLUSIVE");
	is_int(lockmode_conflicting_names((LockMode) 0, names), 0, "an invalid mode conflicts with nothing");
	ok(lockmode_name((LockMode) 9) == NULL, "and has no name");
	is_str(lockmode_name(LOCK_SHARE_UPDATE_EXCLUSIVE), "ShareUpdateExclusiveLock", "names");
	return done_testing();
}
