/*
 * rollup.h - the operations of "pgpart rollup add|refresh|status|drop":
 * summaries per bucket (day or month) of a partitioned table, kept current by
 * marking changed buckets (the design is in rollup_sql.h), and the refresh
 * and upgrade that "maintain" and "init" run.  They print nothing.
 */
#ifndef PGPART_COMMANDS_ROLLUP_H
#define PGPART_COMMANDS_ROLLUP_H

#include "pg/catalog.h"
#include "pg/lock.h"

typedef struct RollupOptions
{
	const char *table;	  /* add: the source; refresh/status: a source or NULL for all */
	const char *name;	  /* add: the summary table; drop/refresh: which rollup */
	const char *grain;	  /* "day" or "month" */
	const char *group_by; /* "org_id, status" */
	const char *measures; /* "sum(amount), count(*)" */
	const char *where;	  /* SQL predicate or NULL */
	const char *distinct; /* an integer column whose distinct values are counted, or NULL */
	bool no_refresh;	  /* add: define only; summarise later */
	LockPolicy lock;
} RollupOptions;

/* one line per rollup and what happened to it */
typedef struct RollupReport
{
	NameList labels;
	NameList values;
} RollupReport;

void rollupreport_free(RollupReport *r);

bool ops_rollup_add(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);
bool ops_rollup_refresh(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);
bool ops_rollup_status(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);
bool ops_rollup_drop(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);

/*
 * For status: one line per rollup of source, its coverage, changed buckets
 * (on Citus also those marked on the shards) and last refresh.
 */
bool ops_rollup_status_lines(PgConn *pc, RelOid source, NameList *lines, PgpError *err);

/* for maintain: refresh every rollup of one table; notes get one line per rollup */
bool ops_rollup_refresh_table(PgConn *pc, RelOid source, const LockPolicy *lock, NameList *notes,
							  PgpError *err);

/*
 * For "pgpart init", inside its transaction, one subtransaction per rollup:
 * a --where that an older version stored as text is checked and converted
 * into its function (or listed in problems when refused); with
 * rebuild_functions, trigger functions an earlier version made (without
 * the guard) are made again as this pgpart makes them (guarded, revoked, owned by the table's owner).
 */
bool ops_rollup_upgrade(PgConn *pc, bool rebuild_functions, NameList *done, NameList *problems,
						PgpError *err);

#endif
