/*
 * migration_sql.h - the state of online migrations (pgpart.migration): one row
 * per migration, updated in the same transaction as the work it records, so
 * that a crash at any point leaves a state the next run can continue from.
 */
#ifndef PGPART_COMMANDS_MIGRATE_MIGRATION_SQL_H
#define PGPART_COMMANDS_MIGRATE_MIGRATION_SQL_H

#include "core/calendar.h"
#include "core/migration_phase.h"
#include "pg/catalog.h"

typedef struct Migration
{
	char *id;
	RelOid source; /* the original table (renamed at switch) */
	RelOid shadow; /* the partitioned table (takes the name at switch) */
	char *schema;
	char *name; /* the table's name, before and after */
	char *shadow_name;
	char *old_name;
	char *column;
	CalUnit unit;
	CivilDate start;
	int premake;
	char *time_zone;
	NameList key;		/* unquoted key column names */
	NameList key_types; /* format_type() of each, at start: written for the record, never read back */
	NameList upper_key; /* highest key when backfill began; empty: the table was empty */
	NameList last_key;	/* highest key copied so far; empty: nothing yet */
	long long rows_copied;
	long long batches;
	MigrationPhase phase; /* stored as its name (core/migration_phase.h) */
	char *fingerprint;
	bool verified;
	bool verify_ok;
	bool verified_since_switch;
	char *verify_summary;
	double switch_lock_ms;
	double backfill_seconds; /* since backfill began, to the last batch */
	double est_rows;		 /* the source's row estimate */
} Migration;

void migration_free(Migration *m);

/* the migration of schema.name not yet finished or rolled back; *found false if none */
bool migration_load_active(PgConn *pc, const char *schema, const char *name, bool for_update,
						   Migration *m, bool *found, PgpError *err);
/* the most recent migration of schema.name, whatever its phase */
bool migration_load_latest(PgConn *pc, const char *schema, const char *name, Migration *m,
						   bool *found, PgpError *err);

/* whether table is the new side of a migration that is switched but not finished */
bool migration_between_switch_and_finish(PgConn *pc, RelOid table, bool *yes, PgpError *err);

/* INSERT in phase backfilling; sets m->id (in --dry-run "0") and m->phase */
bool migration_insert(PgConn *pc, Migration *m, PgpError *err);
/*
 * The phase that step leads to from m->phase (migration_step_allowed), with
 * the time of the change in the step's own column (backfill_finished_at,
 * switched_at, finished_at); nothing to write when the phase stays.  A step
 * the table refuses is an error: the operations check before they work.
 */
bool migration_advance(PgConn *pc, const Migration *m, MigrationStep step, PgpError *err);
bool migration_record_batch(PgConn *pc, const Migration *m, const NameList *last_key,
							long long rows, PgpError *err);
bool migration_record_verify(PgConn *pc, const Migration *m, bool ok, const char *summary_json,
							 PgpError *err);
bool migration_record_switch_ms(PgConn *pc, const Migration *m, double ms, PgpError *err);

/* schema and name of every migration not finished or rolled back, oldest first */
PGresult *migration_active_tables(PgConn *pc, PgpError *err);

/* one subtransaction per migration when "init" rebuilds their trigger functions */
#define MIGRATION_SAVEPOINT "pgpart_rebuild"

#endif
