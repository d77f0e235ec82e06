/*
 * migrate_cli.c - "pgpart migrate SUBCOMMAND TABLE": the options of every
 * subcommand in one table, and the report each step returns printed as
 * aligned lines or as JSON.  The steps themselves are in migrate.c.
 */
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "commands/migrate/migrate.h"
#include "core/throttle.h"

typedef bool (*MigrateStep)(PgConn *, const MigrateOptions *, MigrateReport *, PgpError *);

static const char help[] =
	"pgpart migrate moves the rows of a live plain table into a partitioned table\n"
	"while the application keeps reading and writing it.\n\n"
	"Usage:\n"
	"  pgpart migrate SUBCOMMAND TABLE [OPTION]...\n\n"
	"Subcommands, in order:\n"
	"  plan      what would happen: size, keys, partitions, blockers; changes nothing\n"
	"  start     create the partitioned shadow table and the triggers that mirror\n"
	"            every INSERT, UPDATE, DELETE and TRUNCATE into it\n"
	"  backfill  copy the existing rows in small batches (resumable: run it again)\n"
	"  verify    compare table and copy, range by range (count and checksum)\n"
	"  switch    swap the tables in one short locked transaction; the old table\n"
	"            keeps receiving every write, so rollback loses nothing\n"
	"  finish    after a passing verify: drop the triggers and the old table\n"
	"  rollback  undo start (drop the copy) or switch (swap back)\n"
	"  status    phase, progress, rate, ETA, last verify\n"
	"  limits    show or change the limits of a running backfill (read between\n"
	"            its batches): --rate, --max-lag, --max-wal-rate, --max-xact-age,\n"
	"            --max-probe, --pause, --resume, --reset\n"
	"  batch-sql the statements one backfill batch runs, for review (and the\n"
	"            isolation tests): lock the rows, copy the missing ones, compare\n\n"
	"Options of plan and start:\n"
	"  -c, --column=COL         partition column (timestamptz, timestamp or date)\n"
	"  -i, --interval=UNIT      day, week, month, quarter (default) or year\n"
	"      --start=DATE         first partition (default: the oldest row's period)\n"
	"      --premake=N          future partitions (default 4)\n"
	"      --time-zone=TZ       time zone of the bounds of a timestamptz column (UTC)\n"
	"      --extend-keys        accept adding COL to primary key and unique constraints\n"
	"Options of backfill:\n"
	"      --batch-time=DURATION  how long one batch may hold its rows locked\n"
	"                           (default 50ms): batches are sized from the time\n"
	"                           the last ones took; 0: every batch --batch-size rows\n"
	"      --batch-size=N       the most rows one batch locks (default 5000)\n"
	"      --rate=ROWS_PER_S    throttle the copy (default: no limit)\n"
	"      --max-rows=N         stop after about N rows (a batch more at most);\n"
	"                           run backfill again to continue\n"
	CLI_HEALTH_HELP
	"Options of limits (also --rate, --max-lag, --max-wal-rate, --max-xact-age,\n"
	"--max-probe, which override the running backfill's):\n"
	"      --pause              pause the running backfill until --resume\n"
	"      --resume             let it run again\n"
	"      --reset              back to the limits its command line gave\n"
	"Options of verify:\n"
	"      --full               compare every range (default)\n"
	"      --sample=FRACTION    compare only this fraction of the ranges (0..1)\n"
	"      --repair             copy mismatching ranges again\n"
	"Options of finish:\n"
	"      --keep-old           keep the old table (renamed TABLE_pgpart_old)\n";

/* in the order of the help text, which is the order the usage error lists them */
static const char *const subcommands[] = {"plan",	  "start",	  "backfill", "verify",	  "switch",
										  "finish",	  "rollback", "status",	  "limits", "batch-sql", NULL};

static const struct
{
	MigrateStep run;
	bool needs_column;
} steps[] = {
	{ops_migrate_plan, true},	  {ops_migrate_start, true},	 {ops_migrate_backfill, false},
	{ops_migrate_verify, false},  {ops_migrate_switch, false},	 {ops_migrate_finish, false},
	{ops_migrate_rollback, false}, {ops_migrate_status, false},	 {ops_migrate_limits, false},
	{ops_migrate_batch_sql, false},
};

/*
 * --sample and --full: the later one wins, so --sample clears what --full
 * set and --full, applied after parsing, overrides an earlier --sample.
 */
typedef struct SampleArg
{
	double fraction;
	bool full;
} SampleArg;

static bool
parse_sample(const char *value, void *target)
{
	SampleArg *s = target;
	char *end;
	double v = strtod(value, &end);

	if (*value == '\0' || *end != '\0' || !(v > 0 && v <= 1))
		return false;
	s->fraction = v;
	s->full = false;
	return true;
}

typedef struct MigrateArgs
{
	int step; /* index in subcommands and steps */
	MigrateOptions opt;
} MigrateArgs;

static void
print_report(const GlobalOpts *g, const char *step, const MigrateReport *r)
{
	int i;

	if (g->json)
	{
		json_t *o = json_object(), *facts = json_object(), *arr;

		json_object_set_new(o, "step", json_string(step));
		for (i = 0; i < r->labels.n; i++)
		{
			json_t *prev = json_object_get(facts, r->labels.items[i]);

			if (prev == NULL)
				json_object_set_new(facts, r->labels.items[i], json_string(r->values.items[i]));
			else if (json_is_array(prev))
				json_array_append_new(prev, json_string(r->values.items[i]));
			else
			{
				arr = json_array();
				json_array_append(arr, prev);
				json_array_append_new(arr, json_string(r->values.items[i]));
				json_object_set_new(facts, r->labels.items[i], arr);
			}
		}
		json_object_set_new(o, "facts", facts);
		json_object_set_new(o, "blockers", cli_json_list(&r->blockers));
		json_object_set_new(o, "warnings", cli_json_list(&r->warnings));
		lock_felt_json(o, &r->felt);
		json_object_update_new(o, json_pack("{s:f, s:i, s:I, s:I, s:I, s:b}", "lock_held_ms",
											r->lock_held_ms, "lock_attempts", r->lock_attempts,
											"rows", (json_int_t) r->rows, "mismatches",
											(json_int_t) r->mismatches, "repaired",
											(json_int_t) r->repaired, "dry_run", g->dry_run));
		if (r->batches > 0)
			json_object_set_new(o, "batches",
								json_pack("{s:i, s:i, s:b, s:i, s:i, s:f, s:f, s:I, s:f}",
										  "count", r->batches, "over_budget",
										  r->batches_over_budget, "budget_below_batch_cost",
										  r->batches_starved, "rows_min", r->batch_rows_min,
										  "rows_max", r->batch_rows_max, "ms_mean",
										  r->batch_ms_mean, "ms_max", r->batch_ms_max,
										  "writers_waited", (json_int_t) r->batch_waiters,
										  "lock_after_ms_max", r->batch_after_ms_max));
		cli_print_json(o);
		return;
	}
	for (i = 0; i < r->labels.n; i++)
		printf("%-18s %s\n", r->labels.items[i], r->values.items[i]);
	for (i = 0; i < r->blockers.n; i++)
		printf("%-18s %s\n", "BLOCKER", r->blockers.items[i]);
	for (i = 0; i < r->warnings.n; i++)
		printf("%-18s %s\n", "warning", r->warnings.items[i]);
}

static int
migrate_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const MigrateArgs *a = arg;
	MigrateReport r;
	bool ok;

	memset(&r, 0, sizeof(r));
	ok = steps[a->step].run(pc, &a->opt, &r, err);
	/* on failure too: what was found or done before it (plan's blockers, verify's ranges) */
	if (ok || r.labels.n > 0)
		print_report(g, subcommands[a->step], &r);
	migratereport_free(&r);
	return ok ? EXIT_OK : CLI_FAILED;
}

int
cmd_migrate(int argc, char **argv, GlobalOpts *g)
{
	MigrateArgs a;
	MigrateOptions *opt = &a.opt;
	SampleArg sample = {1.0, false};
	int64_t max_rows = 0;
	const CliOption options[] = {
		CLI_PARTITION_OPTIONS(&opt->part),
		CLI_TRUE("extend-keys", 0, &opt->extend_keys),
		CLI_INT("batch-size", 0, &opt->batch_size, 1, 1000000),
		CLI_DURATION("batch-time", 0, &opt->batch_time_ms, 0, 600000, "e.g. 50ms, 1s; 0: off"),
		CLI_NUMBER("rate", 0, &opt->rate, 0, DBL_MAX, "rows per second, > 0"),
		CLI_INT64("max-rows", 0, &max_rows, 1, (double) INT64_MAX, "a number > 0"),
		CLI_HEALTH_OPTIONS(&opt->health),
		CLI_TRUE("pause", 0, &opt->pause),
		CLI_TRUE("resume", 0, &opt->resume),
		CLI_TRUE("reset", 0, &opt->reset),
		CLI_TRUE("full", 0, &sample.full),
		CLI_CALL("sample", 0, &sample, parse_sample, "a fraction, 0 < F <= 1"),
		CLI_TRUE("repair", 0, &opt->repair),
		CLI_TRUE("keep-old", 0, &opt->keep_old),
		CLI_END,
	};
	const CliSpec spec = {"migrate", help, options, NULL, false};
	int first, rc;

	memset(&a, 0, sizeof(a));
	opt->part = (PartitionArgs) PARTITION_ARGS_DEFAULT;
	a.step = cli_subcommand("migrate", argc, argv, subcommands);
	if (a.step == -2)
	{
		printf("%s%s", help, CLI_COMMON_HELP);
		return EXIT_OK;
	}
	if (a.step < 0)
		return EXIT_USAGE;
	opt->batch_size = 5000;
	opt->batch_time_ms = 50;
	if ((rc = cli_parse_args(&spec, argc - 1, argv + 1, g, 1, "no table given", &first)) !=
		CLI_PARSED)
		return rc;
	if (steps[a.step].needs_column && opt->part.column == NULL)
		return cli_usage_error("migrate", "--column is required for %s", subcommands[a.step]);
	opt->table = argv[1 + first];
	opt->max_rows = max_rows;
	opt->sample = sample.full ? 1.0 : sample.fraction;
	opt->lock = g->lock;
	opt->show_progress = !g->json;
	return cli_run_connected(g, migrate_run, &a);
}
