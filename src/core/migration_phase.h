/*
 * migration_phase.h - the phases of an online migration and the steps that
 * move it from one to the next, as one transition table (drawn in
 * migration_phase.c), so that what each "pgpart migrate" subcommand may do in
 * which phase is decided in one place instead of by comparing phase names.
 *
 * The phase is stored as text in pgpart.migration.phase (the schema does not
 * change); these are the only names it takes.
 */
#ifndef PGPART_CORE_MIGRATION_PHASE_H
#define PGPART_CORE_MIGRATION_PHASE_H

#include <stdbool.h>

typedef enum MigrationPhase
{
	MIGRATION_BACKFILLING, /* shadow and forward triggers exist; rows are being copied */
	MIGRATION_BACKFILLED,  /* every row is in the copy; the triggers keep it equal */
	MIGRATION_SWITCHED,	   /* the tables traded names; reverse triggers feed the old one */
	MIGRATION_FINISHED,	   /* triggers gone, the partitioned table is managed by pgpart */
	MIGRATION_ROLLED_BACK  /* copy and triggers gone, the table as it was */
} MigrationPhase;

#define MIGRATION_NPHASES 5

/* what an operation does to a migration; each is allowed in some phases only */
typedef enum MigrationStep
{
	MIGRATION_STEP_BATCH,	  /* backfill copies one batch of rows */
	MIGRATION_STEP_COPIED,	  /* no row is left to copy (last batch, or start of an empty table) */
	MIGRATION_STEP_VERIFY,	  /* compare table and copy */
	MIGRATION_STEP_REPAIR,	  /* verify --repair: copy mismatching ranges again */
	MIGRATION_STEP_BATCH_SQL, /* show the statements of one batch */
	MIGRATION_STEP_SWITCH,
	MIGRATION_STEP_ROLLBACK,
	MIGRATION_STEP_FINISH
} MigrationStep;

#define MIGRATION_NSTEPS 8

/*
 * Whether step may run in phase; if so, *next (may be NULL) is the phase it
 * leaves the migration in (phase itself when the step does not change it).
 */
bool migration_step_allowed(MigrationPhase phase, MigrationStep step, MigrationPhase *next);

/* the stored text: "backfilling", "backfilled", "switched", "finished", "rolled_back" */
const char *migration_phase_name(MigrationPhase phase);
/* the stored text back; false for anything else */
bool migration_phase_parse(const char *text, MigrationPhase *phase);

/* the verb for "cannot VERB the migration of ...": "backfill", "switch", ... */
const char *migration_step_verb(MigrationStep step);

/* not finished or rolled back: the triggers exist and the copy is kept in sync */
bool migration_phase_active(MigrationPhase phase);
/* every row of the table is in the copy (backfill has nothing left to do) */
bool migration_phase_copied(MigrationPhase phase);

/*
 * The next subcommand(s) a person runs, for hints and "migrate status";
 * verified: a passing verify since the switch (only matters when switched).
 */
const char *migration_next_step(MigrationPhase phase, bool verified);

#endif
