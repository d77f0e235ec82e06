/* pgpart create - partition a new or empty table by a time range */
#include "commands/create/create.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "pg/lock.h"
#include "util/log.h"

static const char help[] =
	"pgpart create partitions a table by RANGE on a date or timestamp column.\n\n"
	"Usage:\n"
	"  pgpart create TABLE --column=COL [OPTION]...\n\n"
	"TABLE is one of:\n"
	"  - an existing EMPTY plain table: it is replaced, in one short transaction, by a\n"
	"    partitioned table with the same columns, defaults, constraints, indexes,\n"
	"    comments, owner and grants (for a table with rows use \"pgpart migrate\");\n"
	"  - a new table, with --like TEMPLATE: its columns, defaults, constraints,\n"
	"    indexes and comments are those of TEMPLATE (no rows are copied);\n"
	"  - an existing table partitioned by RANGE (COL): pgpart takes it over and adds\n"
	"    the partitions it lacks.\n"
	"Partitions are created from --start to the current period plus --premake\n"
	"periods, and a default partition TABLE_default catches everything else.\n\n"
	"Options:\n"
	"  -c, --column=COL         partition key: a timestamptz, timestamp or date column\n"
	"  -i, --interval=UNIT      day, week, month, quarter or year (default quarter)\n"
	"      --start=YYYY-MM-DD   first partition covers this date (default today)\n"
	"      --premake=N          future periods to create ahead (default 4)\n"
	"      --time-zone=TZ       zone in which timestamptz boundaries fall at midnight\n"
	"                           (default UTC)\n"
	"      --like=TEMPLATE      create TABLE with the columns of TEMPLATE\n";

enum
{
	OPT_LIKE = OPT_FIRST_COMMAND_OPTION
};

static void
print_result(const GlobalOpts *g, const CreateOptions *opt, const CreateResult *res)
{
	static const char *const modes[] = {"created", "converted", "adopted"};
	int i;

	if (g->json)
	{
		json_t *o = json_object();
		json_t *parts = json_array();
		json_t *warnings = json_array();

		for (i = 0; i < res->partitions_created.n; i++)
			json_array_append_new(parts, json_string(res->partitions_created.items[i]));
		for (i = 0; i < res->warnings.n; i++)
			json_array_append_new(warnings, json_string(res->warnings.items[i]));
		json_object_set_new(o, "schema", json_string(res->schema));
		json_object_set_new(o, "table", json_string(res->name));
		json_object_set_new(o, "action", json_string(modes[res->mode]));
		json_object_set_new(o, "column", json_string(opt->column));
		json_object_set_new(o, "interval", json_string(cal_unit_name(opt->unit)));
		json_object_set_new(o, "partitions_created", parts);
		json_object_set_new(o, "warnings", warnings);
		json_object_set_new(o, "lock_attempts", json_integer(res->locks.attempts));
		json_object_set_new(o, "lock_held_ms", json_real(res->locks.held_ms));
		json_object_set_new(o, "dry_run", json_boolean(g->dry_run));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return;
	}
	for (i = 0; i < res->warnings.n; i++)
		log_warning("%s", res->warnings.items[i]);
	if (g->dry_run)
		return;
	printf("%s %s.%s: partitioned by %s on %s, %d partitions created\n", modes[res->mode],
		   res->schema, res->name, cal_unit_name(opt->unit), opt->column,
		   res->partitions_created.n);
	for (i = 0; i < res->partitions_created.n; i++)
		printf("  %s\n", res->partitions_created.items[i]);
	printf("locks held %.1f ms (%d attempt%s)\n", res->locks.held_ms, res->locks.attempts,
		   res->locks.attempts == 1 ? "" : "s");
}

int
cmd_create(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		CLI_PARTITION_LONG_OPTIONS,
		{"like", required_argument, NULL, OPT_LIKE},
		{NULL, 0, NULL, 0},
	};
	CreateOptions opt;
	CreateResult res;
	PgConn pc = {0};
	PgpError err;
	PartitionArgs pa = PARTITION_ARGS_DEFAULT;
	int c, rc = EXIT_OK;

	memset(&opt, 0, sizeof(opt));
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS CLI_PARTITION_SHORT_OPTIONS,
						   opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h == 0)
			h = cli_partition_option(c, optarg, "create", &pa);
		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf("%s%s", help, CLI_COMMON_HELP);
				return EXIT_OK;
			case OPT_LIKE:
				opt.like = optarg;
				break;
			default:
				return cli_usage_error("create", "invalid option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("create", "no table given");
	if (optind + 1 < argc)
		return cli_usage_error("create", "unexpected argument \"%s\"", argv[optind + 1]);
	if (pa.column == NULL)
		return cli_usage_error("create", "--column is required");
	opt.column = pa.column;
	opt.unit = pa.unit;
	opt.has_start = pa.has_start;
	opt.start = pa.start;
	opt.premake = pa.premake;
	opt.time_zone = pa.time_zone;
	opt.table = argv[optind];
	opt.lock = g->lock;

	err_init(&err);
	memset(&res, 0, sizeof(res));
	if (!cli_connect(g, &pc, &err) || !ops_create(&pc, &opt, &res, &err))
		rc = cli_fail(&err);
	else
		print_result(g, &opt, &res);
	createresult_free(&res);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}
