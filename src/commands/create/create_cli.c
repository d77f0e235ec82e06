/*
 * create_cli.c - "pgpart create TABLE --column=COL": its options and what it
 * prints.  The work (convert, create --like, or adopt) is ops_create in
 * create.c.
 */
#include "commands/create/create.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
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

static void
print_result(const GlobalOpts *g, const CreateOptions *opt, const CreateResult *res)
{
	static const char *const modes[] = {"created", "converted", "adopted"};
	char felt[LOCK_FELT_TEXT_SIZE];
	int i;

	if (g->json)
	{
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:f, s:b}", "schema",
							  res->schema, "table", res->name, "action", modes[res->mode],
							  "column", opt->part.column, "interval",
							  cal_unit_name(opt->part.unit), "partitions_created",
							  cli_json_list(&res->partitions_created), "warnings",
							  cli_json_list(&res->warnings), "lock_attempts",
							  res->locks.attempts, "lock_held_ms", res->locks.held_ms,
							  "dry_run", g->dry_run);

		lock_felt_json(o, &res->felt);
		cli_print_json(o);
		return;
	}
	for (i = 0; i < res->warnings.n; i++)
		log_warning("%s", res->warnings.items[i]);
	if (g->dry_run)
		return;
	printf("%s %s.%s: partitioned by %s on %s, %d partitions created\n", modes[res->mode],
		   res->schema, res->name, cal_unit_name(opt->part.unit), opt->part.column,
		   res->partitions_created.n);
	cli_print_list("  ", &res->partitions_created);
	printf("locks held %.1f ms (%d attempt%s); %s\n", res->locks.held_ms, res->locks.attempts,
		   res->locks.attempts == 1 ? "" : "s", lock_felt_text(&res->felt, felt, sizeof(felt)));
}

static int
create_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const CreateOptions *opt = arg;
	CreateResult res;
	int rc = EXIT_OK;

	if (ops_create(pc, opt, &res, err))
		print_result(g, opt, &res);
	else
		rc = CLI_FAILED;
	createresult_free(&res);
	return rc;
}

int
cmd_create(int argc, char **argv, GlobalOpts *g)
{
	CreateOptions opt;
	const CliOption options[] = {
		CLI_PARTITION_OPTIONS(&opt.part),
		CLI_STRING("like", 0, &opt.like),
		CLI_END,
	};
	const CliSpec spec = {"create", help, options, NULL, false};
	int first, rc;

	memset(&opt, 0, sizeof(opt));
	opt.part = (PartitionArgs) PARTITION_ARGS_DEFAULT;
	if ((rc = cli_parse_args(&spec, argc, argv, g, 1, "no table given", &first)) != CLI_PARSED)
		return rc;
	if (opt.part.column == NULL)
		return cli_usage_error("create", "--column is required");
	opt.table = argv[first];
	opt.lock = g->lock;
	return cli_run_connected(g, create_run, &opt);
}
