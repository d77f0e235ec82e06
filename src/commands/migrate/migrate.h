/*
 * migrate.h - online migration of a plain table into a partitioned one:
 * plan, start (shadow + mirror triggers), backfill, verify, switch,
 * rollback, finish, status.  Every step records its progress in
 * pgpart.migration in the same transaction as its work.
 */
#ifndef PGPART_COMMANDS_MIGRATE_MIGRATE_H
#define PGPART_COMMANDS_MIGRATE_MIGRATE_H

#include "core/partspec.h"
#include "core/calendar.h"
#include "core/throttle.h"
#include "pg/catalog.h"
#include "pg/lock.h"
#include "commands/migrate/migration_sql.h"

typedef struct MigrateOptions
{
	const char *table;
	PartitionArgs part; /* --column, --interval, --start, --premake, --time-zone */
	bool extend_keys;
	LockPolicy lock;
	/* backfill */
	int batch_size;	   /* the most rows one batch locks */
	int batch_time_ms; /* each batch's transaction about this long; 0: batch_size rows each */
	double rate; /* rows per second; 0: unthrottled */
	int64_t max_rows; /* backfill stops after this many rows in one run; 0: no limit */
	HealthArgs health; /* pause while the server is unwell */
	/* limits */
	bool pause, resume, reset;
	bool show_progress;
	/* verify */
	double sample; /* 1.0: every range */
	bool repair;
	/* finish */
	bool keep_old;
} MigrateOptions;

/* facts for the plan (also what start decided); label -> value, in order */
typedef struct MigrateReport
{
	NameList labels;
	NameList values;
	NameList blockers; /* non-empty: cannot migrate */
	NameList warnings;
	double lock_held_ms;
	LockFelt felt; /* switch, rollback, finish: what writers could have waited */
	int lock_attempts;
	long long rows;	 /* backfill: rows copied; verify: rows compared */
	long long mismatches;
	long long repaired;
	bool done; /* backfill: complete */
	/* backfill: the batches of this run, to show the time budget held */
	int batches;
	int batches_over_budget;
	bool batches_starved; /* the budget is about a batch's fixed cost */
	int batch_rows_min, batch_rows_max;
	double batch_ms_mean, batch_ms_max;
	/* writers that waited for a batch's row locks, and the longest A of one */
	long long batch_waiters;
	double batch_after_ms_max;
} MigrateReport;

void migratereport_free(MigrateReport *r);

bool ops_migrate_plan(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
bool ops_migrate_start(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
bool ops_migrate_backfill(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
bool ops_migrate_verify(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
bool ops_migrate_switch(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
bool ops_migrate_rollback(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
bool ops_migrate_finish(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
bool ops_migrate_status(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);
/* limits.c: shows or changes the limits of a running backfill */
bool ops_migrate_limits(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);

/*
 * For "pgpart init", inside its transaction: the trigger functions an
 * earlier version made (without the guard) for a migration in progress made
 * again as this pgpart makes them (guarded,
 * revoked, owned by the table's owner).  What it did goes to done, what it
 * could not (one subtransaction per migration) to problems.
 */
bool ops_migrate_rebuild_functions(PgConn *pc, NameList *done, NameList *problems,
								   PgpError *err);

/*
 * The SQL of one backfill batch over keys (lower, upper], as prepared
 * statements would take it: $1..$k the lower key, $k+1..$2k the upper key,
 * and for "lock" $2k+1 the batch size.  Lets a reviewer (and the isolation
 * specs) run exactly what backfill runs.
 */
bool ops_migrate_batch_sql(PgConn *pc, const MigrateOptions *opt, MigrateReport *r,
						   PgpError *err);

#endif
