/* pgpart migrate - online migration of a plain table into a partitioned one */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/duration.h"
#include "commands/migrate/migrate.h"
#include "util/log.h"

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
	"      --batch-size=N       rows per batch transaction (default 5000)\n"
	"      --rate=ROWS_PER_S    throttle the copy (default: no limit)\n"
	"      --max-rows=N         stop after about N rows (a batch more at most);\n"
	"                           run backfill again to continue\n"
	"      --max-lag=DURATION   pause while a standby replays more than this behind\n"
	"Options of verify:\n"
	"      --full               compare every range (default)\n"
	"      --sample=FRACTION    compare only this fraction of the ranges (0..1)\n"
	"      --repair             copy mismatching ranges again\n"
	"Options of finish:\n"
	"      --keep-old           keep the old table (renamed TABLE_pgpart_old)\n";

enum
{
	OPT_EXTEND_KEYS = OPT_FIRST_COMMAND_OPTION,
	OPT_BATCH_SIZE,
	OPT_RATE,
	OPT_MAX_ROWS,
	OPT_MAX_LAG,
	OPT_FULL,
	OPT_SAMPLE,
	OPT_REPAIR,
	OPT_KEEP_OLD
};

typedef bool (*MigrateStep)(PgConn *, const MigrateOptions *, MigrateReport *, PgpError *);

static const struct
{
	const char *name;
	MigrateStep run;
	bool needs_column;
} steps[] = {
	{"plan", ops_migrate_plan, true},		  {"start", ops_migrate_start, true},
	{"backfill", ops_migrate_backfill, false}, {"verify", ops_migrate_verify, false},
	{"switch", ops_migrate_switch, false},	  {"rollback", ops_migrate_rollback, false},
	{"finish", ops_migrate_finish, false},	  {"status", ops_migrate_status, false},
	{"batch-sql", ops_migrate_batch_sql, false},
};

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
		arr = json_array();
		for (i = 0; i < r->blockers.n; i++)
			json_array_append_new(arr, json_string(r->blockers.items[i]));
		json_object_set_new(o, "blockers", arr);
		arr = json_array();
		for (i = 0; i < r->warnings.n; i++)
			json_array_append_new(arr, json_string(r->warnings.items[i]));
		json_object_set_new(o, "warnings", arr);
		json_object_set_new(o, "lock_held_ms", json_real(r->lock_held_ms));
		json_object_set_new(o, "lock_attempts", json_integer(r->lock_attempts));
		json_object_set_new(o, "rows", json_integer(r->rows));
		json_object_set_new(o, "mismatches", json_integer(r->mismatches));
		json_object_set_new(o, "repaired", json_integer(r->repaired));
		json_object_set_new(o, "dry_run", json_boolean(g->dry_run));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return;
	}
	for (i = 0; i < r->labels.n; i++)
		printf("%-18s %s\n", r->labels.items[i], r->values.items[i]);
	for (i = 0; i < r->blockers.n; i++)
		printf("%-18s %s\n", "BLOCKER", r->blockers.items[i]);
	for (i = 0; i < r->warnings.n; i++)
		printf("%-18s %s\n", "warning", r->warnings.items[i]);
}

int
cmd_migrate(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		CLI_PARTITION_LONG_OPTIONS,
		{"extend-keys", no_argument, NULL, OPT_EXTEND_KEYS},
		{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
		{"rate", required_argument, NULL, OPT_RATE},
		{"max-rows", required_argument, NULL, OPT_MAX_ROWS},
		{"max-lag", required_argument, NULL, OPT_MAX_LAG},
		{"full", no_argument, NULL, OPT_FULL},
		{"sample", required_argument, NULL, OPT_SAMPLE},
		{"repair", no_argument, NULL, OPT_REPAIR},
		{"keep-old", no_argument, NULL, OPT_KEEP_OLD},
		{NULL, 0, NULL, 0},
	};
	MigrateOptions opt;
	MigrateReport r;
	PgConn pc = {0};
	PgpError err;
	PartitionArgs pa = PARTITION_ARGS_DEFAULT;
	int c, rc = EXIT_OK;
	size_t s;
	const char *sub;
	char *end;
	int64_t lag;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
	{
		if (argc < 2)
			return cli_usage_error("migrate", "no subcommand given");
		printf("%s%s", help, CLI_COMMON_HELP);
		return EXIT_OK;
	}
	sub = argv[1];
	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
		if (strcmp(steps[s].name, sub) == 0)
			break;
	if (s == sizeof(steps) / sizeof(steps[0]))
		return cli_usage_error("migrate",
							   "unknown subcommand \"%s\" (use plan, start, backfill, verify, "
							   "switch, finish, rollback, status or batch-sql)",
							   sub);
	argc--;
	argv++;

	memset(&opt, 0, sizeof(opt));
	opt.batch_size = 5000;
	opt.sample = 1.0;
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS CLI_PARTITION_SHORT_OPTIONS,
						   opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h == 0)
			h = cli_partition_option(c, optarg, "migrate", &pa);
		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf("%s%s", help, CLI_COMMON_HELP);
				return EXIT_OK;
			case OPT_EXTEND_KEYS:
				opt.extend_keys = true;
				break;
			case OPT_BATCH_SIZE:
				if (!cli_parse_int(optarg, 1, 1000000, &opt.batch_size))
					return cli_usage_error("migrate", "invalid --batch-size \"%s\" (1 to 1000000)",
										   optarg);
				break;
			case OPT_RATE:
				opt.rate = strtod(optarg, &end);
				if (*optarg == '\0' || *end != '\0' || opt.rate <= 0)
					return cli_usage_error("migrate", "invalid --rate \"%s\" (rows per second, > 0)",
										   optarg);
				break;
			case OPT_MAX_ROWS:
				opt.max_rows = strtoll(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' || opt.max_rows <= 0)
					return cli_usage_error("migrate", "invalid --max-rows \"%s\" (a number > 0)",
										   optarg);
				break;
			case OPT_MAX_LAG:
				if (!duration_parse_ms(optarg, &lag) || lag <= 0)
					return cli_usage_error("migrate", "invalid --max-lag \"%s\" (e.g. 5s, 500ms)",
										   optarg);
				opt.max_lag_ms = (int) lag;
				break;
			case OPT_FULL:
				opt.sample = 1.0;
				break;
			case OPT_SAMPLE:
				opt.sample = strtod(optarg, &end);
				if (*optarg == '\0' || *end != '\0' || opt.sample <= 0 || opt.sample > 1)
					return cli_usage_error("migrate", "invalid --sample \"%s\" (a fraction, 0 < F <= 1)",
										   optarg);
				break;
			case OPT_REPAIR:
				opt.repair = true;
				break;
			case OPT_KEEP_OLD:
				opt.keep_old = true;
				break;
			default:
				return cli_usage_error("migrate", "invalid option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("migrate", "no table given");
	if (optind + 1 < argc)
		return cli_usage_error("migrate", "unexpected argument \"%s\"", argv[optind + 1]);
	if (steps[s].needs_column && pa.column == NULL)
		return cli_usage_error("migrate", "--column is required for %s", sub);
	opt.column = pa.column;
	opt.unit = pa.unit;
	opt.has_start = pa.has_start;
	opt.start = pa.start;
	opt.premake = pa.premake;
	opt.time_zone = pa.time_zone;
	opt.table = argv[optind];
	opt.lock = g->lock;
	opt.show_progress = !g->json;

	err_init(&err);
	memset(&r, 0, sizeof(r));
	if (!cli_connect(g, &pc, &err) || !steps[s].run(&pc, &opt, &r, &err))
	{
		/* what was found or done before the failure (plan's blockers, verify's ranges) */
		if (r.labels.n > 0)
			print_report(g, sub, &r);
		rc = cli_fail(&err);
	}
	else
		print_report(g, sub, &r);
	migratereport_free(&r);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}
