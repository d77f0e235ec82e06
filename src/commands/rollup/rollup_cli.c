/* pgpart rollup add|refresh|status|drop - per-bucket summaries of a partitioned table */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
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
	"                  --measures='sum(COL), count(*), ...' [--where=PREDICATE]\n"
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
	"      --no-refresh         add: define only, summarise at the next refresh\n";

enum
{
	OPT_GRAIN = OPT_FIRST_COMMAND_OPTION,
	OPT_GROUP_BY,
	OPT_MEASURES,
	OPT_WHERE,
	OPT_NO_REFRESH
};

typedef bool (*RollupStep)(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err);

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
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
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

int
cmd_rollup(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		{"name", required_argument, NULL, 'n'},
		{"grain", required_argument, NULL, OPT_GRAIN},
		{"group-by", required_argument, NULL, OPT_GROUP_BY},
		{"measures", required_argument, NULL, OPT_MEASURES},
		{"where", required_argument, NULL, OPT_WHERE},
		{"no-refresh", no_argument, NULL, OPT_NO_REFRESH},
		{NULL, 0, NULL, 0},
	};
	static const struct
	{
		const char *name;
		RollupStep run;
	} steps[] = {
		{"add", ops_rollup_add},
		{"refresh", ops_rollup_refresh},
		{"status", ops_rollup_status},
		{"drop", ops_rollup_drop},
	};
	RollupOptions opt;
	RollupReport rep;
	PgConn pc = {0};
	PgpError err;
	size_t s;
	int c, rc = EXIT_OK;
	const char *sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
	{
		if (argc < 2)
			return cli_usage_error("rollup", "no subcommand given (add, refresh, status, drop)");
		printf("%s%s", help, CLI_COMMON_HELP);
		return EXIT_OK;
	}
	sub = argv[1];
	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
		if (strcmp(steps[s].name, sub) == 0)
			break;
	if (s == sizeof(steps) / sizeof(steps[0]))
		return cli_usage_error("rollup", "unknown subcommand \"%s\" (use add, refresh, status or drop)",
							   sub);
	argc--;
	argv++;
	memset(&opt, 0, sizeof(opt));
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS "n:", opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf("%s%s", help, CLI_COMMON_HELP);
				return EXIT_OK;
			case 'n':
				opt.name = optarg;
				break;
			case OPT_GRAIN:
				opt.grain = optarg;
				break;
			case OPT_GROUP_BY:
				opt.group_by = optarg;
				break;
			case OPT_MEASURES:
				opt.measures = optarg;
				break;
			case OPT_WHERE:
				opt.where = optarg;
				break;
			case OPT_NO_REFRESH:
				opt.no_refresh = true;
				break;
			default:
				return cli_usage_error("rollup", "invalid option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("rollup", "too many arguments: give at most one table");
	opt.table = argc - optind == 1 ? argv[optind] : NULL;
	opt.lock = g->lock;
	if (strcmp(sub, "add") == 0)
	{
		if (opt.table == NULL)
			return cli_usage_error("rollup", "add needs the table to summarise");
		if (opt.name == NULL || opt.grain == NULL || opt.group_by == NULL || opt.measures == NULL)
			return cli_usage_error("rollup", "add needs --name, --grain, --group-by and --measures");
	}
	if (strcmp(sub, "drop") == 0 && opt.name == NULL)
		return cli_usage_error("rollup", "drop needs --name (the summary table)");
	if (opt.name && opt.table && strcmp(sub, "add") != 0)
		return cli_usage_error("rollup", "give either TABLE or --name, not both");

	err_init(&err);
	memset(&rep, 0, sizeof(rep));
	if (!cli_connect(g, &pc, &err) || !steps[s].run(&pc, &opt, &rep, &err))
		rc = cli_fail(&err);
	else if (!g->dry_run || g->json)
		print_report(g, sub, &rep);
	rollupreport_free(&rep);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}
