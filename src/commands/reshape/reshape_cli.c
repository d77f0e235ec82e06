/*
 * reshape_cli.c - "pgpart split" and "pgpart merge": their options, help
 * and output.  The operation is ops_reshape in reshape.c.
 */
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "commands/reshape/reshape.h"

#define COMMON_HELP                                                                            \
	"The new partitions are built beside the old ones while the application reads\n"         \
	"and writes them: every write to the old partitions is mirrored into the new\n"           \
	"ones in the writer's transaction, the rows already there are copied in batches\n"        \
	"(each checked by count and checksum), everything is compared once more, and\n"           \
	"one short transaction under --lock-timeout (retried with backoff) swaps them:\n"         \
	"the old partitions are detached, the new ones attached.  Only then are the old\n"        \
	"ones dropped.  Indexes, storage settings, tablespace, owner and grants of the old\n"     \
	"partition are carried over, and rollups keep their summaries.  Interrupted, the\n"      \
	"rows stay in the old partitions: run the same command again to continue, or\n"          \
	"with --abort to undo (before the swap).\n\n"

#define COMMON_OPTIONS                                                                         \
	"      --batch-time=DURATION  how long one copy batch may hold its rows locked\n"        \
	"                           (default 50ms): batches are sized from the time the\n"       \
	"                           last ones took; 0: every batch --batch-rows rows\n"          \
	"      --batch-rows=N       the most rows one copy batch locks (default 5000)\n"         \
	"      --keep-old           keep the old partitions, detached and renamed\n"               \
	"                           NAME_pgpart_old, instead of dropping them\n"                   \
	"      --abort              undo the split or merge in progress (before its swap)\n"      \
	"      --rate=ROWS_PER_S    throttle the copy (default: no limit)\n"                      \
	"Between copy batches, pause while the server is unwell; writers go on meanwhile:\n"     \
	CLI_HEALTH_HELP

static const char split_help[] =
	"pgpart split replaces one partition of a managed table by partitions of a\n"
	"shorter interval that divide its range, e.g. a quarter by its three months.\n" COMMON_HELP
	"Usage:\n"
	"  pgpart split TABLE PARTITION --interval=UNIT [OPTION]...\n"
	"  pgpart split TABLE PARTITION --abort\n\n"
	"Options:\n"
	"  -i, --interval=UNIT      day, week, month or quarter (periods that divide the\n"
	"                           partition's range)\n" COMMON_OPTIONS;

static const char merge_help[] =
	"pgpart merge replaces adjacent partitions of a managed table by one partition\n"
	"of the period they make up, e.g. twelve months by their year.\n" COMMON_HELP
	"Usage:\n"
	"  pgpart merge TABLE PARTITION PARTITION... [OPTION]...\n"
	"  pgpart merge TABLE PARTITION PARTITION... --abort\n\n"
	"Options:\n"
	"  -i, --interval=UNIT      the period they must make up (default: the one they\n"
	"                           do make up: week, month, quarter or year)\n" COMMON_OPTIONS;

static void
print_json(const GlobalOpts *g, const ReshapeResult *r)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:b, s:I, s:I, s:f, s:I, s:f, "
						  "s:o, s:b}",
						  "schema", r->schema, "table", r->name, "kind", r->kind ? r->kind : "",
						  "sources", cli_json_list(&r->sources), "targets",
						  cli_json_list(&r->targets), "interval", r->interval ? r->interval : "",
						  "phase", r->phase, "resumed", r->resumed, "rows_copied",
						  (json_int_t) r->rows_copied, "batches", (json_int_t) r->batches,
						  "copy_ms", r->copy_ms, "rows_verified", (json_int_t) r->rows_verified,
						  "swap_lock_held_ms", r->swap_held_ms, "notes", cli_json_list(&r->notes),
						  "dry_run", g->dry_run);

	json_object_set_new(o, "batch_smallest_rows", json_integer(r->batch_smallest));
	json_object_set_new(o, "batch_largest_rows", json_integer(r->batch_largest));
	json_object_set_new(o, "batches_over_budget", json_integer(r->batches_over_budget));
	json_object_set_new(o, "throttle", r->throttle ? json_string(r->throttle) : json_null());
	lock_felt_json(o, &r->felt);
	cli_print_json(o);
}

static void
print_text(const GlobalOpts *g, const ReshapeResult *r)
{
	char felt[LOCK_FELT_TEXT_SIZE];
	char *src = namelist_join(&r->sources, ", ");

	if (strcmp(r->phase, "aborted") == 0)
		printf("%s.%s: the %s of %s was undone; the old partitions are as they were\n",
			   r->schema, r->name, r->kind, src);
	else if (g->dry_run)
		printf("%s.%s: would %s %s into %d %s partition%s; dry run, nothing changed\n",
			   r->schema, r->name, r->kind, src, r->targets.n, r->interval,
			   r->targets.n == 1 ? "" : "s");
	else
	{
		printf("%s.%s: %s %s into %d %s partition%s%s\n", r->schema, r->name,
			   strcmp(r->kind, "split") == 0 ? "split" : "merged", src, r->targets.n, r->interval,
			   r->targets.n == 1 ? "" : "s", r->resumed ? " (continued)" : "");
		printf("  copied %lld rows in %lld batches of %d to %d rows (%.0f ms, %d over the time "
			   "budget), verified %lld rows; the swap held the table's lock %.1f ms; %s\n",
			   r->rows_copied, r->batches, r->batch_smallest, r->batch_largest, r->copy_ms,
			   r->batches_over_budget, r->rows_verified, r->swap_held_ms,
			   lock_felt_text(&r->felt, felt, sizeof(felt)));
	}
	if (r->throttle)
		printf("  throttled: %s\n", r->throttle);
	cli_print_list("  new: ", &r->targets);
	cli_print_list("  ", &r->notes);
	free(src);
}

static int
reshape_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const ReshapeOptions *opt = arg;
	ReshapeResult res;
	bool ok = ops_reshape(pc, opt, &res, err);

	if (ok && g->json)
		print_json(g, &res);
	else if (ok)
		print_text(g, &res);
	reshaperesult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

static int
reshape_command(int argc, char **argv, GlobalOpts *g, bool merge)
{
	const char *name = merge ? "merge" : "split";
	ReshapeOptions opt;
	bool has_unit = false;
	CliOption options[] = {
		CLI_UNIT("interval", 'i', &opt.unit),
		CLI_INT("batch-rows", 0, &opt.batch_rows, 1, 10000000),
		CLI_DURATION("batch-time", 0, &opt.batch_time_ms, 0, 600000, "e.g. 50ms, 1s; 0: off"),
		CLI_TRUE("keep-old", 0, &opt.keep_old),
		CLI_TRUE("abort", 0, &opt.abort),
		CLI_NUMBER("rate", 0, &opt.rate, 0, DBL_MAX, "rows per second, > 0"),
		CLI_HEALTH_OPTIONS(&opt.health),
		CLI_END,
	};
	const CliSpec spec = {name, merge ? merge_help : split_help, options, NULL, false};
	int first, rc, i;

	memset(&opt, 0, sizeof(opt));
	options[0].given = &has_unit;
	opt.batch_rows = 5000;
	opt.batch_time_ms = 50;
	if ((rc = cli_parse(&spec, argc, argv, g, &first)) != CLI_PARSED)
		return rc;
	if (argc - first < (merge ? 3 : 2))
		return cli_usage_error(name, merge ? "give a table and the partitions to merge, e.g. "
											 "pgpart merge revenues revenues_2025_01 "
											 "revenues_2025_02 revenues_2025_03"
										   : "give a table and the partition to split, e.g. "
											 "pgpart split revenues revenues_2025_q1 --interval "
											 "month");
	if (!merge && argc - first > 2)
		return cli_usage_error(name, "split takes one partition; to join several, use merge");
	if (!merge && !has_unit && !opt.abort)
		return cli_usage_error(name, "--interval is required");
	opt.merge = merge;
	opt.has_unit = has_unit;
	opt.table = argv[first];
	for (i = first + 1; i < argc; i++)
		namelist_add(&opt.partitions, argv[i]);
	opt.lock = g->lock;
	opt.show_progress = !g->json;
	rc = cli_run_connected(g, reshape_run, &opt);
	namelist_free(&opt.partitions);
	return rc;
}

int
cmd_split(int argc, char **argv, GlobalOpts *g)
{
	return reshape_command(argc, argv, g, false);
}

int
cmd_merge(int argc, char **argv, GlobalOpts *g)
{
	return reshape_command(argc, argv, g, true);
}
