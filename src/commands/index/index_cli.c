/*
 * index_cli.c - "pgpart index add": its options, a progress bar over the
 * partitions, and what it prints.  The build itself is ops_index_add in
 * index.c.
 */
#include "commands/index/index.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "util/progress.h"

/* the progress bar counts partitions */
static void
show_progress(void *arg, int done, int total, const char *partition)
{
	Progress *p = arg;

	(void) total;
	progress_update(p, done, partition);
}

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

static void
print_result(const GlobalOpts *g, const IndexResult *res)
{
	if (g->json)
	{
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:i, s:b, s:f, s:f, s:b}",
							  "schema", res->schema, "table", res->table, "index", res->name,
							  "parent_index_created", res->parent_created, "partitions",
							  res->partitions, "built", res->built, "rebuilt_invalid",
							  res->rebuilt, "already_attached", res->already, "valid",
							  res->valid, "max_lock_held_ms", res->max_lock_held_ms,
							  "lock_held_ms", res->felt.held_ms, "dry_run", g->dry_run);

		lock_felt_json(o, &res->felt);
		cli_print_json(o);
	}
	else if (!g->dry_run)
	{
		char felt[LOCK_FELT_TEXT_SIZE];

		printf("index %s.%s on %s.%s: %d partitions, %d built (%d replacing invalid "
			   "leftovers), %d already attached; %s; locks held at most %.1f ms; %s\n",
			   res->schema, res->name, res->schema, res->table, res->partitions, res->built,
			   res->rebuilt, res->already, res->valid ? "valid" : "NOT valid",
			   res->max_lock_held_ms, lock_felt_text(&res->felt, felt, sizeof(felt)));
	}
}

static int
index_add_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const IndexOptions *opt = arg;
	IndexResult res;
	Progress prog;
	bool ok;

	progress_start(&prog, "partitions", 0, !g->json && !g->dry_run);
	ok = ops_index_add(pc, opt, show_progress, &prog, &res, err);
	progress_finish(&prog);
	if (ok)
		print_result(g, &res);
	indexresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

static int
index_add(int argc, char **argv, GlobalOpts *g)
{
	IndexOptions opt;
	const CliOption options[] = {
		CLI_STRING("name", 'n', &opt.name),
		CLI_STRING("where", 0, &opt.where),
		CLI_STRING("using", 0, &opt.method),
		CLI_TRUE("unique", 0, &opt.unique),
		CLI_END,
	};
	/* the hint names the family's --help, as for migrate's subcommands */
	const CliSpec spec = {"index", help, options, NULL, false};
	int first, rc;

	memset(&opt, 0, sizeof(opt));
	opt.method = "btree";
	if ((rc = cli_parse_args(&spec, argc, argv, g, 2,
							 "give a table and a column list, e.g. pgpart index add revenues "
							 "--name=idx \"(org_id)\"",
							 &first)) != CLI_PARSED)
		return rc;
	if (opt.name == NULL || opt.name[0] == '\0')
		return cli_usage_error("index", "--name is required");
	opt.table = argv[first];
	opt.columns = argv[first + 1];
	opt.lock = g->lock;
	return cli_run_connected(g, index_add_run, &opt);
}

static const char group_help[] =
	"Usage:\n"
	"  pgpart index add TABLE --name=NAME \"(COLUMN, ...)\" [OPTION]...\n\n"
	"\"pgpart index add --help\" describes it.\n";

int
cmd_index(int argc, char **argv, GlobalOpts *g)
{
	static const char *const subcommands[] = {"add", NULL};

	switch (cli_subcommand("index", argc, argv, subcommands))
	{
		case 0:
			return index_add(argc - 1, argv + 1, g);
		case -2:
			printf("%s", group_help);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
	}
}
