/*
 * vacuum_cli.c - "pgpart vacuum|analyze|reindex TABLE": one CLI for the
 * three (argv[0] says which), its options, Ctrl-C (which cancels the running
 * statements on the server), a progress bar and the per-partition summary.
 * The work is ops_parallel in vacuum.c.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "core/calendar.h"
#include "commands/vacuum/vacuum.h"
#include "util/mem.h"
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
	"      --lock-timeout=DUR   each statement's lock_timeout (default 1s, not the\n"
	"                           100ms of the other commands: writers do not queue\n"
	"                           behind these statements)\n";

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
		json_object_set_new(o, "notes", cli_json_list(&r->notes));
		json_object_set_new(o, "done", json_integer(r->ran));
		json_object_set_new(o, "failed", json_integer(r->failed));
		json_object_set_new(o, "skipped", json_integer(r->skipped));
		json_object_set_new(o, "cancelled", json_boolean(r->cancelled));
		json_object_set_new(o, "ms", json_real(r->ms));
		cli_print_json(o);
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
	cli_print_list("  note: ", &r->notes);
	printf("%s of %s.%s: %d done, %d failed, %d skipped, %.0f ms\n", command, r->schema,
		   r->table, r->ran, r->failed, r->skipped, r->ms);
}

/* --partitions FROM..TO: two dates, FROM before TO, normalised to YYYY-MM-DD */
typedef struct DateRange
{
	char from[16];
	char to[16];
	bool given;
} DateRange;

static bool
parse_date_range(const char *value, void *target)
{
	DateRange *r = target;
	const char *dots = strstr(value, "..");
	CivilDate f, t;

	if (dots == NULL || dots - value != 10 || !cal_date_parse(dots + 2, &t))
		return false;
	snprintf(r->from, sizeof(r->from), "%.10s", value);
	if (!cal_date_parse(r->from, &f) || cal_compare(f, t) >= 0)
		return false;
	cal_date_format(f, r->from);
	cal_date_format(t, r->to);
	r->given = true;
	return true;
}

/* the help of vacuum, analyze or reindex: the same text, the action's words in it */
static char *
help_text(const char *command, MaintAction action)
{
	return pg_xasprintf(
		help_fmt, command,
		action == MAINT_VACUUM	  ? "VACUUM"
		: action == MAINT_ANALYZE ? "ANALYZE"
								  : "REINDEX TABLE CONCURRENTLY",
		action == MAINT_REINDEX
			? "Indexes are rebuilt CONCURRENTLY: readers and writers are not blocked.\n"
			  "Invalid leftovers of interrupted reindexes (..._ccnew, ..._ccold) are\n"
			  "dropped.\n"
			: "",
		command,
		action == MAINT_VACUUM
			? "dead rows above autovacuum's threshold, old transaction IDs, or\n"
			  "                           never vacuumed"
		: action == MAINT_ANALYZE ? "rows changed since the last analyse, or never analysed"
								  : "rows updated or deleted since pgpart last reindexed\n"
									"                           the partition)");
}

static int
parallel_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	ParallelOptions *opt = arg;
	const char *command = maint_action_name(opt->action);
	ParallelResult res;
	Progress prog;
	bool ok;

	progress_start(&prog, "partitions", 0, !g->json && !g->dry_run);
	opt->progress = show_progress;
	opt->progress_arg = &prog;
	ok = ops_parallel(pc, opt, &res, err);
	progress_finish(&prog);
	/* also after a failure: the summary lists which partitions failed and why */
	print_result(g, command, &res);
	parallelresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

int
cmd_parallel(int argc, char **argv, GlobalOpts *g)
{
	const char *command = argv[0];
	ParallelOptions opt;
	DateRange range = {"", "", false};
	const CliOption options[] = {
		CLI_INT("jobs", 'j', &opt.jobs, 1, 64),
		CLI_TRUE("only-needed", 0, &opt.only_needed),
		CLI_CALL("partitions", 0, &range, parse_date_range, "FROM..TO, dates, FROM before TO"),
		CLI_END,
	};
	CliSpec spec = {command, NULL, options, NULL, false};
	struct sigaction sa, old_int, old_term;
	char *help;
	int first, rc;

	memset(&opt, 0, sizeof(opt));
	opt.jobs = 2;
	opt.action = strcmp(command, "vacuum") == 0	   ? MAINT_VACUUM
				 : strcmp(command, "analyze") == 0 ? MAINT_ANALYZE
												   : MAINT_REINDEX;
	help = help_text(command, opt.action);
	spec.help = help;
	rc = cli_parse_args(&spec, argc, argv, g, 1, "give exactly one partitioned table", &first);
	free(help);
	if (rc != CLI_PARSED)
		return rc;
	opt.table = argv[first];
	if (range.given)
	{
		opt.from = range.from;
		opt.to = range.to;
	}
	opt.conninfo = g->conninfo;
	opt.lock = g->lock;
	if (!g->lock_timeout_given)
		opt.lock.lock_timeout_ms = LOCK_TIMEOUT_WEAK_MS;
	opt.cancel = &cancel_requested;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = cli_run_connected(g, parallel_run, &opt);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
