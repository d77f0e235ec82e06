/* unit tests of core/migration_phase.c: the steps each phase allows, and the stored names */
#include <stddef.h>
#include <string.h>

#include "core/migration_phase.h"
#include "tap.h"

/* phase after step from phase, or -1 when refused */
static int
after(MigrationPhase phase, MigrationStep step)
{
	MigrationPhase next = MIGRATION_FINISHED;

	return migration_step_allowed(phase, step, &next) ? (int) next : -1;
}

int
main(void)
{
	MigrationPhase p;
	int i, s, refused = 0;

	/* the path of a migration that goes through */
	is_int(after(MIGRATION_BACKFILLING, MIGRATION_STEP_BATCH), MIGRATION_BACKFILLING,
		   "a batch keeps it backfilling");
	is_int(after(MIGRATION_BACKFILLING, MIGRATION_STEP_COPIED), MIGRATION_BACKFILLED,
		   "no row left: backfilled");
	is_int(after(MIGRATION_BACKFILLED, MIGRATION_STEP_SWITCH), MIGRATION_SWITCHED,
		   "switch from backfilled");
	is_int(after(MIGRATION_SWITCHED, MIGRATION_STEP_FINISH), MIGRATION_FINISHED,
		   "finish from switched");

	/* the two rollbacks */
	is_int(after(MIGRATION_BACKFILLING, MIGRATION_STEP_ROLLBACK), MIGRATION_ROLLED_BACK,
		   "rollback during backfill drops the copy");
	is_int(after(MIGRATION_BACKFILLED, MIGRATION_STEP_ROLLBACK), MIGRATION_ROLLED_BACK,
		   "rollback before switch drops the copy");
	is_int(after(MIGRATION_SWITCHED, MIGRATION_STEP_ROLLBACK), MIGRATION_BACKFILLED,
		   "rollback after switch swaps back to backfilled");

	/* what is refused */
	is_int(after(MIGRATION_BACKFILLING, MIGRATION_STEP_SWITCH), -1, "no switch during backfill");
	is_int(after(MIGRATION_BACKFILLED, MIGRATION_STEP_FINISH), -1, "no finish before switch");
	is_int(after(MIGRATION_BACKFILLING, MIGRATION_STEP_FINISH), -1, "no finish during backfill");
	is_int(after(MIGRATION_SWITCHED, MIGRATION_STEP_SWITCH), -1, "no second switch");
	is_int(after(MIGRATION_SWITCHED, MIGRATION_STEP_REPAIR), -1,
		   "no repair after switch (it would overwrite the application's rows)");
	is_int(after(MIGRATION_SWITCHED, MIGRATION_STEP_BATCH), -1, "no batch after switch");
	is_int(after(MIGRATION_SWITCHED, MIGRATION_STEP_BATCH_SQL), -1, "no batch SQL after switch");
	is_int(after(MIGRATION_BACKFILLED, MIGRATION_STEP_BATCH), -1, "no batch once copied");
	for (s = 0; s < MIGRATION_NSTEPS; s++)
		refused += after(MIGRATION_FINISHED, (MigrationStep) s) == -1 &&
				   after(MIGRATION_ROLLED_BACK, (MigrationStep) s) == -1;
	is_int(refused, MIGRATION_NSTEPS, "no step runs in finished or rolled_back");

	/* the steps that stay */
	is_int(after(MIGRATION_BACKFILLING, MIGRATION_STEP_VERIFY), MIGRATION_BACKFILLING,
		   "verify during backfill stays");
	is_int(after(MIGRATION_BACKFILLED, MIGRATION_STEP_REPAIR), MIGRATION_BACKFILLED,
		   "repair before switch stays");
	is_int(after(MIGRATION_SWITCHED, MIGRATION_STEP_VERIFY), MIGRATION_SWITCHED,
		   "verify after switch stays");
	ok(migration_step_allowed(MIGRATION_BACKFILLED, MIGRATION_STEP_VERIFY, NULL),
	   "next may be NULL");
	ok(!migration_step_allowed((MigrationPhase) 99, MIGRATION_STEP_VERIFY, NULL),
	   "an out-of-range phase is refused");
	ok(!migration_step_allowed(MIGRATION_BACKFILLED, (MigrationStep) 99, NULL),
	   "an out-of-range step is refused");

	/* stored names: every phase's name parses back to it; anything else does not */
	for (i = 0; i < MIGRATION_NPHASES; i++)
		ok(migration_phase_parse(migration_phase_name((MigrationPhase) i), &p) && (int) p == i,
		   "\"%s\" round-trips", migration_phase_name((MigrationPhase) i));
	is_str(migration_phase_name(MIGRATION_ROLLED_BACK), "rolled_back",
		   "the stored names are the schema's");
	is_str(migration_phase_name(MIGRATION_BACKFILLED), "backfilled", "backfilled");
	p = MIGRATION_SWITCHED;
	ok(!migration_phase_parse("Switched", &p) && p == MIGRATION_SWITCHED,
	   "names are case-sensitive, and a failed parse leaves the phase alone");
	ok(!migration_phase_parse("", &p), "empty text is no phase");
	ok(!migration_phase_parse(NULL, &p), "NULL is no phase");
	ok(!migration_phase_parse("backfill", &p), "a prefix is no phase");

	/* the properties the operations use */
	ok(migration_phase_active(MIGRATION_SWITCHED) && !migration_phase_active(MIGRATION_FINISHED) &&
		   !migration_phase_active(MIGRATION_ROLLED_BACK),
	   "finished and rolled_back are the ends");
	ok(!migration_phase_copied(MIGRATION_BACKFILLING) &&
		   migration_phase_copied(MIGRATION_BACKFILLED) &&
		   migration_phase_copied(MIGRATION_SWITCHED),
	   "the copy is complete from backfilled on");
	is_str(migration_next_step(MIGRATION_BACKFILLING, false), "backfill", "next: backfill");
	is_str(migration_next_step(MIGRATION_BACKFILLED, true), "verify, then switch",
		   "next after backfill: verify, then switch");
	is_str(migration_next_step(MIGRATION_SWITCHED, false), "verify, then finish",
		   "next after switch without a verify");
	is_str(migration_next_step(MIGRATION_SWITCHED, true), "finish",
		   "next after switch and a passing verify");
	is_str(migration_next_step(MIGRATION_FINISHED, true), "none", "nothing after finished");
	is_str(migration_step_verb(MIGRATION_STEP_BATCH_SQL), "show the batch SQL of",
		   "verbs read in \"cannot VERB the migration\"");
	return done_testing();
}
