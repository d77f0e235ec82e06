/*
 * rollup_cli.c - "pgpart rollup add|refresh|status|drop": the options of
 * per-bucket summaries of a partitioned table, and the facts each step
 * reports, as aligned lines or JSON.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "commands/rollup/rollup.h"

static const char help[] =
	"pgpart rollup keeps summaries (sums, counts, minima, maxima per day or month\n"
	"and group) of a partitioned table, for reports that read many rows.  The\n"
	"application's statements only mark the buckets they change; \"refresh\" (and\n"
	"\"maintain\") summarises new partitions and recomputes marked buckets.  A\n"
	"partition that no longer changes is summarised once, and its summary stays\n"
	"when the partition is archived or dropped.\n\n"
	"Usage:\n"
	"  pgpart rollup add TABLE --name=NAME --grain=day|month --group-by=COLS\n"
	"                  --measures='sum(COL), count(*), ...' [--distinct=COL]\n"
	"                  [--where=PREDICATE]\n"
	"  pgpart rollup refresh [TABLE | --name=NAME]\n"
	"  pgpart rollup status [TABLE | --name=NAME]\n"
	"  pgpart rollup drop --name=NAME\n\n"
	"Options:\n"
	"  -n, --name=NAME          the summary table (created beside TABLE unless qualified)\n"
	"      --grain=day|month    bucket size (month needs month, quarter or year partitions)\n"
	"      --group-by=COLS      columns to group by, e.g. 'org_id, status, category'\n"
	"      --measures=LIST      sum(COL), count(*), count(COL), min(COL), max(COL)\n"
	"      --where=PREDICATE    summarise only rows matching this condition on the table's\n"
	"                           columns (built-in immutable functions only; checked once\n"
	"                           by PostgreSQL and kept as a function, see docs/security.md)\n"
	"      --distinct=COL       also count the distinct values of COL exactly, across\n"
	"                           buckets and groups (an integer column, e.g. org_id; see\n"
	"                           \"Exact distinct counts\" in README.md)\n"
	"      --no-refresh         add: define only, summarise at the next refresh\n";

typedef bool (*RollupStep)(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);

typedef struct RollupArgs
{
	const char *step;
	RollupStep run;
	RollupOptions opt;
} RollupArgs;

static void
print_report(const GlobalOpts *g, const char *step, const RollupReport *r)
{
	int i, width = 0;

	if (g->json)
	{
		json_t *o = json_object(), *arr = json_array();

		json_object_set_new(o, "step", json_string(step));
		for (i = 0; i < r->labels.n; i++)
		{
			json_t *item = json_object();

			json_object_set_new(item, "label", json_string(r->labels.items[i]));
			json_object_set_new(item, "value", json_string(r->values.items[i]));
			json_array_append_new(arr, item);
		}
		json_object_set_new(o, "facts", arr);
		json_object_set_new(o, "dry_run", json_boolean(g->dry_run));
		cli_print_json(o);
		return;
	}
	for (i = 0; i < r->labels.n; i++)
		if ((int) strlen(r->labels.items[i]) > width)
			width = (int) strlen(r->labels.items[i]);
	for (i = 0; i < r->labels.n; i++)
	{
		if (i > 0 && strcmp(r->labels.items[i], "rollup") == 0)
			putchar('\n');
		printf("%-*s  %s\n", width, r->labels.items[i], r->values.items[i]);
	}
}

static int
rollup_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const RollupArgs *a = arg;
	RollupReport rep;
	int rc = EXIT_OK;

	memset(&rep, 0, sizeof(rep));
	if (!a->run(pc, &a->opt, &rep, err))
		rc = CLI_FAILED;
	else if (!g->dry_run || g->json)
		print_report(g, a->step, &rep);
	rollupreport_free(&rep);
	return rc;
}

int
cmd_rollup(int argc, char **argv, GlobalOpts *g)
{
	static const char *const names[] = {"add", "refresh", "status", "drop", NULL};
	static const RollupStep steps[] = {ops_rollup_add, ops_rollup_refresh, ops_rollup_status,
									   ops_rollup_drop};
	RollupArgs a;
	const CliOption options[] = {
		CLI_STRING("name", 'n', &a.opt.name),
		CLI_STRING("grain", 0, &a.opt.grain),
		CLI_STRING("group-by", 0, &a.opt.group_by),
		CLI_STRING("measures", 0, &a.opt.measures),
		CLI_STRING("where", 0, &a.opt.where),
		CLI_STRING("distinct", 0, &a.opt.distinct),
		CLI_TRUE("no-refresh", 0, &a.opt.no_refresh),
		CLI_END,
	};
	const CliSpec spec = {"rollup", help, options, NULL, false};
	int s, first, rc;
	bool add;

	s = cli_subcommand("rollup", argc, argv, names);
	if (s == -2)
	{
		printf("%s%s", help, CLI_COMMON_HELP);
		return EXIT_OK;
	}
	if (s < 0)
		return EXIT_USAGE;
	memset(&a, 0, sizeof(a));
	a.step = names[s];
	a.run = steps[s];
	add = a.run == ops_rollup_add;
	if ((rc = cli_parse(&spec, argc - 1, argv + 1, g, &first)) != CLI_PARSED)
		return rc;
	if (argc - 1 - first > 1)
		return cli_usage_error("rollup", "too many arguments: give at most one table");
	a.opt.table = argc - 1 - first == 1 ? argv[1 + first] : NULL;
	a.opt.lock = g->lock;
	if (add && a.opt.table == NULL)
		return cli_usage_error("rollup", "add needs the table to summarise");
	if (add && (a.opt.name == NULL || a.opt.grain == NULL || a.opt.group_by == NULL ||
				a.opt.measures == NULL))
		return cli_usage_error("rollup", "add needs --name, --grain, --group-by and --measures");
	if (!add && a.opt.distinct)
		return cli_usage_error("rollup", "--distinct is an option of rollup add");
	if (a.run == ops_rollup_drop && a.opt.name == NULL)
		return cli_usage_error("rollup", "drop needs --name (the summary table)");
	if (a.opt.name && a.opt.table && !add)
		return cli_usage_error("rollup", "give either TABLE or --name, not both");
	return cli_run_connected(g, rollup_run, &a);
}
