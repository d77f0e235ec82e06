/* pgpart index add - add an index to a partitioned table without blocking writes */
#include "commands/index/index.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "pg/lock.h"
#include "util/progress.h"

static const char help[] =
	"pgpart index add creates an index on a partitioned table the online way:\n"
	"CREATE INDEX ... ON ONLY the parent (invalid until complete), then CREATE INDEX\n"
	"CONCURRENTLY on each partition and ALTER INDEX ... ATTACH PARTITION.  Readers\n"
	"and writers are never blocked for longer than --lock-timeout.  If it is\n"
	"interrupted, run it again: it finds what is done, drops invalid leftovers of\n"
	"an interrupted build and goes on.\n\n"
	"Usage:\n"
	"  pgpart index add TABLE --name=NAME \"(COLUMN, ...)\" [OPTION]...\n\n"
	"Options:\n"
	"  -n, --name=NAME          name of the index on the parent table\n"
	"      --where=PREDICATE    partial index: an SQL condition, e.g. \"status = 'approved'\"\n"
	"      --using=METHOD       index method: btree (default), brin, hash, gist, gin\n"
	"      --unique             a unique index (must contain the partition column)\n";

enum
{
	OPT_WHERE = OPT_FIRST_COMMAND_OPTION,
	OPT_USING,
	OPT_UNIQUE
};

static void
show_progress(void *arg, int done, int total, const char *partition)
{
	Progress *p = arg;

	(void) total;
	progress_update(p, done, partition);
}

static int
index_add(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		{"name", required_argument, NULL, 'n'},
		{"where", required_argument, NULL, OPT_WHERE},
		{"using", required_argument, NULL, OPT_USING},
		{"unique", no_argument, NULL, OPT_UNIQUE},
		{NULL, 0, NULL, 0},
	};
	IndexOptions opt;
	IndexResult res;
	PgConn pc = {0};
	PgpError err;
	Progress prog;
	int c, rc = EXIT_OK;

	memset(&opt, 0, sizeof(opt));
	opt.method = "btree";
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
			case OPT_WHERE:
				opt.where = optarg;
				break;
			case OPT_USING:
				opt.method = optarg;
				break;
			case OPT_UNIQUE:
				opt.unique = true;
				break;
			default:
				return cli_usage_error("index add", "invalid option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("index add", "give a table and a column list, e.g. "
											"pgpart index add revenues --name=idx \"(org_id)\"");
	if (opt.name == NULL || opt.name[0] == '\0')
		return cli_usage_error("index add", "--name is required");
	opt.table = argv[optind];
	opt.columns = argv[optind + 1];
	opt.lock = g->lock;

	err_init(&err);
	memset(&res, 0, sizeof(res));
	progress_start(&prog, "partitions", 0, !g->json && !g->dry_run);
	if (!cli_connect(g, &pc, &err) || !ops_index_add(&pc, &opt, show_progress, &prog, &res, &err))
	{
		progress_finish(&prog);
		rc = cli_fail(&err);
	}
	else if (g->json)
	{
		json_t *o = json_object();

		json_object_set_new(o, "schema", json_string(res.schema));
		json_object_set_new(o, "table", json_string(res.table));
		json_object_set_new(o, "index", json_string(res.name));
		json_object_set_new(o, "parent_index_created", json_boolean(res.parent_created));
		json_object_set_new(o, "partitions", json_integer(res.partitions));
		json_object_set_new(o, "built", json_integer(res.built));
		json_object_set_new(o, "rebuilt_invalid", json_integer(res.rebuilt));
		json_object_set_new(o, "already_attached", json_integer(res.already));
		json_object_set_new(o, "valid", json_boolean(res.valid));
		json_object_set_new(o, "max_lock_held_ms", json_real(res.max_lock_held_ms));
		json_object_set_new(o, "dry_run", json_boolean(g->dry_run));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	else if (!g->dry_run)
	{
		progress_finish(&prog);
		printf("index %s.%s on %s.%s: %d partitions, %d built (%d replacing invalid "
			   "leftovers), %d already attached; %s; locks held at most %.1f ms\n",
			   res.schema, res.name, res.schema, res.table, res.partitions, res.built,
			   res.rebuilt, res.already, res.valid ? "valid" : "NOT valid", res.max_lock_held_ms);
	}
	indexresult_free(&res);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}

static const char group_help[] =
	"Usage:\n"
	"  pgpart index add TABLE --name=NAME \"(COLUMN, ...)\" [OPTION]...\n\n"
	"\"pgpart index add --help\" describes it.\n";

int
cmd_index(int argc, char **argv, GlobalOpts *g)
{
	if (argc < 2)
		return cli_usage_error("index", "missing subcommand (add)");
	if (strcmp(argv[1], "add") == 0)
		return index_add(argc - 1, argv + 1, g);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
	{
		printf("%s", group_help);
		return EXIT_OK;
	}
	return cli_usage_error("index", "unknown subcommand \"%s\" (use add)", argv[1]);
}
