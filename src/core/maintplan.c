/*
 * maintplan.c - the decisions of --only-needed: which partitions have changed enough
 * since the last run to be worth the I/O, and the order (biggest first, so the
 * longest job starts while the other workers take the small ones).
 */
#include "core/maintplan.h"

#include <stdlib.h>

const char *
maint_action_name(MaintAction action)
{
	return action == MAINT_VACUUM ? "vacuum" : action == MAINT_ANALYZE ? "analyze" : "reindex";
}

bool
maint_needed(MaintAction action, const PartitionActivity *a, bool only_needed, const char **why)
{
	if (!only_needed)
	{
		*why = "asked for";
		return true;
	}
	switch (action)
	{
		case MAINT_VACUUM:
			if (a->frozen_xid_age >= MAINT_FREEZE_AGE)
				return (*why = "transaction IDs are old enough to need freezing"), true;
			/* the same threshold autovacuum uses by default: 50 rows + 20 % */
			if (a->dead_rows > 50 + a->live_rows / 5)
				return (*why = "dead rows above autovacuum's threshold"), true;
			if (a->never_vacuumed && a->live_rows > 0)
				return (*why = "never vacuumed (no visibility map yet)"), true;
			*why = a->dead_rows > 0 ? "few dead rows, young transaction IDs"
									: "no dead rows, young transaction IDs";
			return false;
		case MAINT_ANALYZE:
			if (a->never_analyzed && a->live_rows > 0)
				return (*why = "never analysed"), true;
			if (a->modified_since_analyze > 0)
				return (*why = "rows changed since the last analyse"), true;
			*why = "unchanged since the last analyse";
			return false;
		case MAINT_REINDEX:
			/* indexes of a partition that only ever got INSERTs do not bloat */
			if (a->updated_or_deleted > 0)
				return (*why = "rows updated or deleted since the last reindex"), true;
			*why = "no update or delete since the last reindex";
			return false;
	}
	*why = "unknown action";
	return false;
}

int64_t
maint_changes_since(int64_t counter, bool has_baseline, int64_t baseline)
{
	if (!has_baseline || counter < baseline)
		return counter;
	return counter - baseline;
}

static const PartitionActivity *sort_acts;

static int
by_size_desc(const void *pa, const void *pb)
{
	int a = *(const int *) pa, b = *(const int *) pb;

	if (sort_acts[a].bytes != sort_acts[b].bytes)
		return sort_acts[a].bytes > sort_acts[b].bytes ? -1 : 1;
	return a - b;
}

void
maint_order(const PartitionActivity *acts, int n, int *order)
{
	int i;

	for (i = 0; i < n; i++)
		order[i] = i;
	/* the longest jobs first, so that N workers finish close together */
	sort_acts = acts;
	qsort(order, (size_t) n, sizeof(int), by_size_desc);
	sort_acts = NULL;
}
