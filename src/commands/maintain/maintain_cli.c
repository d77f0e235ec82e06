/*
 * maintain_cli.c - "pgpart maintain [TABLE]": its options and what it
 * prints, one line (or JSON object) per managed table.  The work is
 * ops_maintain in maintain.c.
 */
#include "commands/maintain/maintain.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"

static const char help[] =
	"pgpart maintain keeps managed tables partitioned: it creates the partitions\n"
	"of the current and the next --premake periods that are missing, and moves rows\n"
	"that landed in the default partition into partitions of their own.  New\n"
	"partitions are attached without blocking readers or writers of the table; every\n"
	"lock is taken under --lock-timeout and retried with backoff.  Running it again\n"
	"when nothing is missing does nothing.\n\n"
	"Usage:\n"
	"  pgpart maintain [TABLE] [OPTION]...\n\n"
	"Without TABLE, every table managed by pgpart is maintained; a failure on one\n"
	"table does not stop the others (exit status 1 then).  A table another pgpart\n"
	"is working on is skipped (exit status 4 when that is all that went wrong).\n\n"
	"Rows of a new partition's range that sit in the default partition are moved\n"
	"into it in the ATTACH transaction, every row visible at all times; writers of\n"
	"the table wait meanwhile (about 0.3 s per 100k rows on a small machine).\n"
	"--drain-batch-rows moves them first in batches, each its own short\n"
	"transaction; until the ATTACH commits, queries of the table do not see the\n"
	"rows already moved, and an UPDATE or DELETE of one finds nothing, so use it\n"
	"only when the application never changes rows of a range not yet created.\n"
	"An interrupted run loses nothing; running it again goes on.\n\n"
	"Options:\n"
	"      --drain-batch-rows=N move rows in batches of at most N first (default 0:\n"
	"                           all in the ATTACH transaction, writers waiting)\n"
	"      --drain-batch-time=DURATION\n"
	"                           time budget of one batch, batches are sized to it\n"
	"                           (default 50ms)\n"
	"      --drain-pause=DURATION\n"
	"                           sleep between two batches (default 0)\n"
	"      --drain-check        with --drain-batch-rows: before the ATTACH, add and\n"
	"                           validate a CHECK on the default partition that\n"
	"                           excludes the new range, so ATTACH does not read\n"
	"                           the default partition; while it is there, INSERTs\n"
	"                           of rows of that range fail\n"
	"With --drain-batch-rows, before each batch the drain waits while the server\n"
	"is unwell (the same limits as migrate backfill):\n" CLI_HEALTH_HELP;

static void
print_json(const GlobalOpts *g, const MaintainResult *res)
{
	json_t *tables = json_array();
	json_t *o;
	int i;

	for (i = 0; i < res->n; i++)
	{
		const TableMaintenance *t = &res->tables[i];

		o = json_pack("{s:s, s:s, s:b, s:b, s:s?, s:o, s:I, s:I, s:f, s:I, s:o, s:i, s:f, s:f, s:f}",
					  "schema", t->schema, "table", t->name, "ok", t->ok, "busy", t->busy,
					  "error", t->error, "partitions_created",
					  cli_json_list(&t->partitions_created), "rows_moved_from_default",
					  (json_int_t) t->rows_moved, "drain_batches", (json_int_t) t->drain_batches,
					  "drain_paused_ms", t->drain_paused_ms,
					  "rows_left_in_default", (json_int_t) t->rows_left_in_default, "notes",
					  cli_json_list(&t->notes), "lock_attempts", t->lock_attempts,
					  "max_lock_held_ms", t->max_lock_held_ms, "lock_held_ms", t->felt.held_ms,
					  "duration_ms", t->duration_ms);
		lock_felt_json(o, &t->felt);
		json_array_append_new(tables, o);
	}
	o = json_pack("{s:o, s:b}", "tables", tables, "dry_run", g->dry_run);
	cli_print_json(o);
}

static void
print_text(const MaintainResult *res)
{
	int i;

	if (res->n == 0)
		printf("no tables are managed by pgpart\n");
	for (i = 0; i < res->n; i++)
	{
		const TableMaintenance *t = &res->tables[i];

		if (t->busy)
			printf("%s.%s: SKIPPED: %s\n", t->schema, t->name, t->error);
		else if (!t->ok)
			printf("%s.%s: FAILED: %s\n", t->schema, t->name, t->error);
		else if (t->partitions_created.n == 0 && t->rows_moved == 0)
			printf("%s.%s: nothing to do\n", t->schema, t->name);
		else
		{
			char felt[LOCK_FELT_TEXT_SIZE];

			printf("%s.%s: %d partition%s created, %ld row%s moved out of the default "
				   "partition; locks held at most %.1f ms; %s\n",
				   t->schema, t->name, t->partitions_created.n,
				   t->partitions_created.n == 1 ? "" : "s", t->rows_moved,
				   t->rows_moved == 1 ? "" : "s", t->max_lock_held_ms,
				   lock_felt_text(&t->felt, felt, sizeof(felt)));
		}
		cli_print_list("  created ", &t->partitions_created);
		cli_print_list("  note: ", &t->notes);
	}
}

/* --dry-run: the SQL went to stdout already; the planned actions as comments */
static void
print_dry_run(const MaintainResult *res)
{
	int i, k;

	for (i = 0; i < res->n; i++)
		for (k = 0; k < res->tables[i].notes.n; k++)
			printf("-- %s.%s: %s\n", res->tables[i].schema, res->tables[i].name,
				   res->tables[i].notes.items[k]);
}

typedef struct MaintainArgs
{
	const char *table;
	DrainPolicy drain;
} MaintainArgs;

static int
maintain_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const MaintainArgs *a = arg;
	MaintainResult res;
	bool ok = ops_maintain_drained(pc, a->table, &g->lock, &a->drain, &res, err);

	/* a failure on one table still reports the others */
	if (res.tables != NULL || ok)
	{
		if (g->json)
			print_json(g, &res);
		else if (!g->dry_run)
			print_text(&res);
		else
			print_dry_run(&res);
	}
	maintainresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

int
cmd_maintain(int argc, char **argv, GlobalOpts *g)
{
	MaintainArgs a = {NULL, DRAIN_POLICY_DEFAULT};
	const CliOption options[] = {
		CLI_INT("drain-batch-rows", 0, &a.drain.batch_rows, 0, 1000000),
		CLI_DURATION("drain-batch-time", 0, &a.drain.batch_time_ms, 1, 3600000,
					 "1ms to 1h, e.g. 50ms"),
		CLI_DURATION("drain-pause", 0, &a.drain.pause_ms, 0, 3600000, "0 to 1h, e.g. 100ms"),
		CLI_TRUE("drain-check", 0, &a.drain.default_check),
		CLI_HEALTH_OPTIONS(&a.drain.health),
		CLI_END,
	};
	const CliSpec spec = {"maintain", help, options, NULL, false};
	int rc;

	if ((rc = cli_parse_table(&spec, argc, argv, g, &a.table)) != CLI_PARSED)
		return rc;
	if ((health_args_given(&a.drain.health) || a.drain.health.probe) && a.drain.batch_rows == 0)
		return cli_usage_error("maintain", "--max-lag, --max-wal-rate, --max-xact-age and "
										   "--probe need --drain-batch-rows: the drain waits "
										   "between its batches, and without them it is one "
										   "transaction");
	if (a.drain.default_check && a.drain.batch_rows == 0)
		return cli_usage_error("maintain", "--drain-check needs --drain-batch-rows: the CHECK "
										   "goes on after the batches have emptied the range");
	return cli_run_connected(g, maintain_run, &a);
}
