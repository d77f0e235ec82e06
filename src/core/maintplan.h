/*
 * maintplan.h - which partitions "pgpart vacuum|analyze|reindex --only-needed"
 * works on, and in which order: pure decisions from the statistics the server
 * keeps (pg_stat_user_tables, relfrozenxid age), so they can be tested
 * without a database.
 */
#ifndef PGPART_CORE_MAINTPLAN_H
#define PGPART_CORE_MAINTPLAN_H

#include <stdbool.h>
#include <stdint.h>

typedef enum MaintAction
{
	MAINT_VACUUM,
	MAINT_ANALYZE,
	MAINT_REINDEX,
} MaintAction;

typedef struct PartitionActivity
{
	int64_t bytes;			   /* heap + indexes */
	int64_t live_rows;
	int64_t dead_rows;
	int64_t modified_since_analyze;
	int64_t updated_or_deleted; /* since the last reindex (or the statistics reset) */
	int64_t frozen_xid_age;
	bool never_vacuumed;
	bool never_analyzed;
} PartitionActivity;

/* the age of relfrozenxid from which a vacuum is due whatever else (half of the default freeze max age) */
#define MAINT_FREEZE_AGE 100000000

/*
 * Whether the partition needs the action; *why is a static text saying why
 * (or why not).  Without only_needed, always true.
 */
bool maint_needed(MaintAction action, const PartitionActivity *a, bool only_needed,
				  const char **why);

/* fills order[0..n) with indexes into acts, biggest partition first (ties: earlier first) */
void maint_order(const PartitionActivity *acts, int n, int *order);

const char *maint_action_name(MaintAction action);

/*
 * Changes (n_tup_upd + n_tup_del, which only grow until the statistics are
 * reset) since a baseline recorded when the partition was last reindexed:
 * counter - baseline; the whole counter without a baseline, or when it is
 * below the baseline (the statistics were reset since).
 */
int64_t maint_changes_since(int64_t counter, bool has_baseline, int64_t baseline);

#endif
