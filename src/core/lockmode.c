/*
 * lockmode.c - the lock mode names and the server's conflict table
 * (lockmode.h).
 */
#include "core/lockmode.h"

#include <stddef.h>

static const char *const names[LOCK_MODE_COUNT + 1] = {
	NULL,
	"AccessShareLock",
	"RowShareLock",
	"RowExclusiveLock",
	"ShareUpdateExclusiveLock",
	"ShareLock",
	"ShareRowExclusiveLock",
	"ExclusiveLock",
	"AccessExclusiveLock",
};

#define M(x) (1 << (x))
static const int conflicts[LOCK_MODE_COUNT + 1] = {
	0,
	/* ACCESS SHARE */
	M(LOCK_ACCESS_EXCLUSIVE),
	/* ROW SHARE */
	M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
	/* ROW EXCLUSIVE */
	M(LOCK_SHARE) | M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
	/* SHARE UPDATE EXCLUSIVE */
	M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE) | M(LOCK_SHARE_ROW_EXCLUSIVE) |
		M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
	/* SHARE */
	M(LOCK_ROW_EXCLUSIVE) | M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE_ROW_EXCLUSIVE) |
		M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
	/* SHARE ROW EXCLUSIVE */
	M(LOCK_ROW_EXCLUSIVE) | M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE) |
		M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
	/* EXCLUSIVE */
	M(LOCK_ROW_SHARE) | M(LOCK_ROW_EXCLUSIVE) | M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE) |
		M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
	/* ACCESS EXCLUSIVE */
	M(LOCK_ACCESS_SHARE) | M(LOCK_ROW_SHARE) | M(LOCK_ROW_EXCLUSIVE) |
		M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE) | M(LOCK_SHARE_ROW_EXCLUSIVE) |
		M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
};
#undef M

static bool
valid(LockMode m)
{
	return m >= LOCK_ACCESS_SHARE && m <= LOCK_ACCESS_EXCLUSIVE;
}

const char *
lockmode_name(LockMode mode)
{
	return valid(mode) ? names[mode] : NULL;
}

bool
lockmode_conflicts(LockMode a, LockMode b)
{
	return valid(a) && valid(b) && (conflicts[a] & (1 << b)) != 0;
}

int
lockmode_conflicting_names(LockMode mode, const char *out[LOCK_MODE_COUNT + 1])
{
	int m, n = 0;

	for (m = LOCK_ACCESS_SHARE; m <= LOCK_ACCESS_EXCLUSIVE; m++)
		if (lockmode_conflicts(mode, (LockMode) m))
			out[n++] = names[m];
	out[n] = NULL;
	return n;
}
