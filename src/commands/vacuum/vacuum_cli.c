/* pgpart vacuum|analyze|reindex - per-partition maintenance over several connections */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/calendar.h"
#include "commands/vacuum/vacuum.h"
#include "util/progress.h"

static const char help_fmt[] =
	"pgpart %s runs %s on each partition\n"
	"of a partitioned table, over N connections at once, biggest partition first.\n"
	"%sA failure on one partition does not stop the others (exit status 1 then,\n"
	"with the errors in the summary).\n"
	"Ctrl-C cancels the running statements on the server and exits.\n\n"
	"Usage:\n"
	"  pgpart %s TABLE [OPTION]...\n\n"
	"Options:\n"
	"  -j, --jobs=N             partitions at once (default 2, at most 64)\n"
	"      --only-needed        skip partitions that do not need it, and say why\n"
	"                           (%s)\n"
	"      --partitions=FROM..TO  only partitions overlapping [FROM, TO), dates\n"
	"      --lock-timeout=DUR   each statement's lock_timeout (default 1s)\n";

enum
{
	OPT_ONLY_NEEDED = OPT_FIRST_COMMAND_OPTION,
	OPT_PARTITIONS
};

static volatile sig_atomic_t cancel_requested;

static void
on_signal(int sig)
{
	(void) sig;
	cancel_requested = 1;
}

static void
show_progress(void *arg, int done, int total, const char *partition)
{
	Progress *p = arg;

	if (p->total == 0 && total > 0)
		p->total = total;
	progress_update(p, done, partition);
}

static void
print_result(const GlobalOpts *g, const char *command, const ParallelResult *r)
{
	int i;

	if (g->json)
	{
		json_t *o = json_object(), *arr = json_array();

		json_object_set_new(o, "command", json_string(command));
		json_object_set_new(o, "schema", json_string(r->schema ? r->schema : ""));
		json_object_set_new(o, "table", json_string(r->table ? r->table : ""));
		for (i = 0; i < r->n; i++)
		{
			const PartitionOutcome *p = &r->items[i];
			json_t *item = json_object();

			json_object_set_new(item, "partition", json_string(p->name));
			json_object_set_new(item, "bytes", json_integer(p->bytes));
			json_object_set_new(item, "result",
								json_string(p->ran ? (p->ok ? "done" : "failed") : "skipped"));
			json_object_set_new(item, "detail", json_string(p->detail ? p->detail : ""));
			json_object_set_new(item, "ms", json_real(p->ms));
			json_array_append_new(arr, item);
		}
		json_object_set_new(o, "partitions", arr);
		arr = json_array();
		for (i = 0; i < r->notes.n; i++)
			json_array_append_new(arr, json_string(r->notes.items[i]));
		json_object_set_new(o, "notes", arr);
		json_object_set_new(o, "done", json_integer(r->ran));
		json_object_set_new(o, "failed", json_integer(r->failed));
		json_object_set_new(o, "skipped", json_integer(r->skipped));
		json_object_set_new(o, "cancelled", json_boolean(r->cancelled));
		json_object_set_new(o, "ms", json_real(r->ms));
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return;
	}
	if (g->dry_run)
		return;
	for (i = 0; i < r->n; i++)
	{
		const PartitionOutcome *p = &r->items[i];

		printf("  %-40s  %-7s  %9.0f ms  %s\n", p->name,
			   p->ran ? (p->ok ? "done" : "FAILED") : "skipped", p->ms, p->detail ? p->detail : "");
	}
	for (i = 0; i < r->notes.n; i++)
		printf("  note: %s\n", r->notes.items[i]);
	printf("%s of %s.%s: %d done, %d failed, %d skipped, %.0f ms\n", command, r->schema,
		   r->table, r->ran, r->failed, r->skipped, r->ms);
}

int
cmd_parallel(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		{"jobs", required_argument, NULL, 'j'},
		{"only-needed", no_argument, NULL, OPT_ONLY_NEEDED},
		{"partitions", required_argument, NULL, OPT_PARTITIONS},
		{NULL, 0, NULL, 0},
	};
	const char *command = argv[0];
	ParallelOptions opt;
	ParallelResult res;
	PgConn pc = {0};
	PgpError err;
	Progress prog;
	char from[16], to[16];
	int c, rc = EXIT_OK;
	struct sigaction sa, old_int, old_term;

	memset(&opt, 0, sizeof(opt));
	opt.jobs = 2;
	opt.action = strcmp(command, "vacuum") == 0	   ? MAINT_VACUUM
				 : strcmp(command, "analyze") == 0 ? MAINT_ANALYZE
												   : MAINT_REINDEX;
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS "j:", opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf(help_fmt, command,
					   opt.action == MAINT_VACUUM	 ? "VACUUM"
					   : opt.action == MAINT_ANALYZE ? "ANALYZE"
													 : "REINDEX TABLE CONCURRENTLY",
					   opt.action == MAINT_REINDEX
						   ? "Indexes are rebuilt CONCURRENTLY: readers and writers are not blocked.\n"
							 "Invalid leftovers of interrupted reindexes (..._ccnew, ..._ccold) are\n"
							 "dropped.\n"
						   : "",
					   command,
					   opt.action == MAINT_VACUUM
						   ? "dead rows above autovacuum's threshold, old transaction IDs, or\n"
							 "                           never vacuumed"
					   : opt.action == MAINT_ANALYZE ? "rows changed since the last analyse, or never analysed"
													 : "rows updated or deleted since pgpart last reindexed\n"
															   "                           the partition)");
				printf("%s", CLI_COMMON_HELP);
				return EXIT_OK;
			case 'j':
				if (!cli_parse_int(optarg, 1, 64, &opt.jobs))
					return cli_usage_error(command, "invalid --jobs \"%s\" (1 to 64)", optarg);
				break;
			case OPT_ONLY_NEEDED:
				opt.only_needed = true;
				break;
			case OPT_PARTITIONS:
			{
				const char *dots = strstr(optarg, "..");
				CivilDate f, t;

				if (dots == NULL || dots - optarg != 10 || !cal_date_parse(dots + 2, &t))
					return cli_usage_error(command, "invalid --partitions \"%s\" (FROM..TO, dates)",
										   optarg);
				snprintf(from, sizeof(from), "%.10s", optarg);
				if (!cal_date_parse(from, &f) || cal_compare(f, t) >= 0)
					return cli_usage_error(command, "invalid --partitions \"%s\" (FROM..TO, FROM "
													"before TO)",
										   optarg);
				cal_date_format(f, from);
				cal_date_format(t, to);
				opt.from = from;
				opt.to = to;
				break;
			}
			default:
				return cli_usage_error(command, "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(command, "give exactly one partitioned table");
	opt.table = argv[optind];
	opt.conninfo = g->conninfo;
	opt.lock = g->lock;
	opt.cancel = &cancel_requested;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	err_init(&err);
	progress_start(&prog, "partitions", 0, !g->json && !g->dry_run);
	opt.progress = show_progress;
	opt.progress_arg = &prog;
	if (!cli_connect(g, &pc, &err))
		rc = cli_fail(&err);
	else
	{
		bool ok = ops_parallel(&pc, &opt, &res, &err);

		progress_finish(&prog);
		print_result(g, command, &res);
		if (!ok)
			rc = cli_fail(&err);
		parallelresult_free(&res);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}
