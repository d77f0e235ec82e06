/*
 * migration_phase.c - the phase machine of an online migration, as one table.
 *
 *                       start
 *                         |
 *                         v
 *                 +---------------+ --+ batch, verify, repair,
 *                 |  backfilling  |   | batch-sql (stay)
 *                 +---------------+ <-+
 *                   |           |
 *            copied |           +----------------+ rollback
 *                   v                            v
 *            +--- +---------------+ rollback +---------------+
 *   verify,  |    |  backfilled   |--------->|  rolled_back  |
 *   repair,  +--> +---------------+          +---------------+
 *   batch-sql       |         ^              (copy and triggers
 *   (stay)   switch |         | rollback      dropped)
 *                   v         | (swap back; the copy stays in sync)
 *                 +---------------+ --+ verify (stays; no repair:
 *                 |   switched    |   | the application writes the
 *                 +---------------+ <-+ partitioned table now)
 *                   |
 *            finish | (triggers dropped, then the old table)
 *                   v
 *                 +---------------+
 *                 |   finished    |
 *                 +---------------+
 *
 * start inserts the migration in backfilling (and, for an empty table, takes
 * the copied step in the same transaction).  finished and rolled_back are
 * ends: no step runs in them, a new migration of the table may start.
 * Whether a step also needs a passing verify (switch, finish) is the
 * operation's check, not the phase's.
 */
#include "core/migration_phase.h"

#include <stddef.h>
#include <string.h>

/* short names for the table only; NO: the step is refused in that phase */
#define NO (-1)
#define FILLING MIGRATION_BACKFILLING
#define FILLED MIGRATION_BACKFILLED
#define SWITCHED MIGRATION_SWITCHED
#define FINISHED MIGRATION_FINISHED
#define ROLLED MIGRATION_ROLLED_BACK

/* the phase a step leaves the migration in, by the phase it starts from */
static const int transitions[MIGRATION_NPHASES][MIGRATION_NSTEPS] = {
	/*             batch    copied  verify    repair   batch-sql switch    rollback finish */
	[FILLING]  = {FILLING, FILLED, FILLING,  FILLING, FILLING,  NO,       ROLLED,  NO},
	[FILLED]   = {NO,      NO,     FILLED,   FILLED,  FILLED,   SWITCHED, ROLLED,  NO},
	[SWITCHED] = {NO,      NO,     SWITCHED, NO,      NO,       NO,       FILLED,  FINISHED},
	[FINISHED] = {NO,      NO,     NO,       NO,      NO,       NO,       NO,      NO},
	[ROLLED]   = {NO,      NO,     NO,       NO,      NO,       NO,       NO,      NO},
};

_Static_assert(MIGRATION_STEP_FINISH == MIGRATION_NSTEPS - 1, "a column for every step");
_Static_assert(MIGRATION_ROLLED_BACK == MIGRATION_NPHASES - 1, "a row for every phase");

static const char *const phase_names[MIGRATION_NPHASES] = {
	[MIGRATION_BACKFILLING] = "backfilling", [MIGRATION_BACKFILLED] = "backfilled",
	[MIGRATION_SWITCHED] = "switched",		 [MIGRATION_FINISHED] = "finished",
	[MIGRATION_ROLLED_BACK] = "rolled_back",
};

static const char *const step_verbs[MIGRATION_NSTEPS] = {
	[MIGRATION_STEP_BATCH] = "backfill",
	[MIGRATION_STEP_COPIED] = "complete the backfill of",
	[MIGRATION_STEP_VERIFY] = "verify",
	[MIGRATION_STEP_REPAIR] = "repair",
	[MIGRATION_STEP_BATCH_SQL] = "show the batch SQL of",
	[MIGRATION_STEP_SWITCH] = "switch",
	[MIGRATION_STEP_ROLLBACK] = "roll back",
	[MIGRATION_STEP_FINISH] = "finish",
};

static bool
valid_phase(MigrationPhase phase)
{
	return (int) phase >= 0 && (int) phase < MIGRATION_NPHASES;
}

bool
migration_step_allowed(MigrationPhase phase, MigrationStep step, MigrationPhase *next)
{
	int to;

	if (!valid_phase(phase) || (int) step < 0 || (int) step >= MIGRATION_NSTEPS)
		return false;
	to = transitions[phase][step];
	if (to == NO)
		return false;
	if (next)
		*next = (MigrationPhase) to;
	return true;
}

const char *
migration_phase_name(MigrationPhase phase)
{
	return valid_phase(phase) ? phase_names[phase] : "unknown";
}

bool
migration_phase_parse(const char *text, MigrationPhase *phase)
{
	int i;

	for (i = 0; text && i < MIGRATION_NPHASES; i++)
		if (strcmp(text, phase_names[i]) == 0)
		{
			*phase = (MigrationPhase) i;
			return true;
		}
	return false;
}

const char *
migration_step_verb(MigrationStep step)
{
	return (int) step >= 0 && (int) step < MIGRATION_NSTEPS ? step_verbs[step] : "change";
}

bool
migration_phase_active(MigrationPhase phase)
{
	return phase != MIGRATION_FINISHED && phase != MIGRATION_ROLLED_BACK;
}

bool
migration_phase_copied(MigrationPhase phase)
{
	return phase == MIGRATION_BACKFILLED || phase == MIGRATION_SWITCHED ||
		   phase == MIGRATION_FINISHED;
}

const char *
migration_next_step(MigrationPhase phase, bool verified)
{
	switch (phase)
	{
		case MIGRATION_BACKFILLING:
			return "backfill";
		case MIGRATION_BACKFILLED:
			return "verify, then switch";
		case MIGRATION_SWITCHED:
			return verified ? "finish" : "verify, then finish";
		case MIGRATION_FINISHED:
		case MIGRATION_ROLLED_BACK:
			break;
	}
	return "none";
}
