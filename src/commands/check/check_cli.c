/* pgpart check - are the application's queries served by the partitioning? */
#include "commands/check/check.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"

static const int default_top = 20;
static const int default_timeout_ms = 5000;

static const char help[] =
	"pgpart check reads pg_stat_statements for the costliest SELECT statements\n"
	"(by total execution time, among the 10 x N costliest, at least 200) whose\n"
	"plans hold partitions of managed tables (every managed table, or only\n"
	"TABLE), and says for each whether it prunes:\n"
	"\"prunes\" (the planner left partitions out), \"prunes at run time\" (every\n"
	"partition planned, some removed at executor start-up: \"Subplans Removed\")\n"
	"or \"does not prune\", with the reason (\"no condition on occurred_at\",\n"
	"\"occurred_at wrapped in date_trunc()\", \"no index on (org_id, occurred_at):\n"
	"each partition scanned by its heap\").  A statement is only EXPLAINed, never\n"
	"run: one SELECT or WITH ... SELECT (anything else is skipped), in a READ ONLY\n"
	"transaction under a statement timeout; a parameterized one ($1, as\n"
	"pg_stat_statements records constants) by its generic plan.  Then advice from\n"
	"the tables: partitions far from the median size, rows in the default\n"
	"partition, indexes no query scanned, a covering index the heap scans ask for.\n\n"
	"Needs pg_stat_statements in shared_preload_libraries and CREATE EXTENSION\n"
	"pg_stat_statements in the database (exit status 1 and how to do it when not).\n"
	"Exit status 3 when a statement does not prune.\n\n"
	"Usage:\n"
	"  pgpart check [TABLE] [OPTION]...\n\n"
	"Options:\n"
	"      --top=N              statements judged, costliest first (default 20)\n"
	"      --statement-timeout=DUR  longest EXPLAIN of one statement (default 5s)\n";

static json_t *
statement_json(const CheckStatement *s)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:b, s:s, s:s?, s:i, s:i, s:i, s:i, s:i}",
					 "queryid", s->queryid, "query", s->query, "table", s->table, "calls",
					 (json_int_t) s->calls, "total_ms", s->total_ms, "mean_ms", s->mean_ms,
					 "generic_plan", s->generic, "verdict", planverdict_name(s->j.verdict),
					 "reason", s->j.reason, "partitions", s->j.partitions,
					 "partitions_in_plan", s->j.in_plan, "partitions_scanned", s->j.scanned,
					 "subplans_removed", s->j.removed, "heap_scans", s->j.heap_scans);
}

static void
print_json(const CheckResult *r)
{
	json_t *stmts = json_array(), *tables = json_array(), *o;
	int i;

	for (i = 0; i < r->n; i++)
		json_array_append_new(stmts, statement_json(&r->stmts[i]));
	for (i = 0; i < r->ntables; i++)
		json_array_append_new(tables,
							  json_pack("{s:s, s:s, s:s, s:i, s:o}", "schema", r->tables[i].schema,
										"table", r->tables[i].name, "column",
										r->tables[i].column, "partitions",
										r->tables[i].partitions, "advice",
										cli_json_list(&r->tables[i].advice)));
	o = json_pack("{s:o, s:o, s:i, s:i, s:i, s:i, s:o}", "statements", stmts, "tables", tables,
				  "candidates", r->candidates, "refused", r->refused, "failed", r->failed,
				  "not_pruning", r->not_pruning, "notes", cli_json_list(&r->notes));
	cli_print_json(o);
}

static void
print_statement(int nr, const CheckStatement *s)
{
	const int shown = 300;
	int len = (int) strlen(s->query);

	printf("%d. %s on %s%s%s\n", nr, planverdict_name(s->j.verdict), s->table,
		   s->j.reason ? ": " : "", s->j.reason ? s->j.reason : "");
	printf("   partitions: %d of %d in the %splan, %d scanned", s->j.in_plan, s->j.partitions,
		   s->generic ? "generic " : "", s->j.scanned);
	if (s->j.removed)
		printf(" (%d removed at run time)", s->j.removed);
	printf("; calls %lld, total %.1f ms, mean %.3f ms; queryid %s\n", s->calls, s->total_ms,
		   s->mean_ms, s->queryid);
	printf("   %.*s%s\n", len > shown ? shown : len, s->query, len > shown ? " ..." : "");
}

static void
print_text(const CheckResult *r)
{
	int i;

	if (r->n == 0)
		printf("no statement in pg_stat_statements touches a managed table\n");
	for (i = 0; i < r->n; i++)
		print_statement(i + 1, &r->stmts[i]);
	for (i = 0; i < r->ntables; i++)
	{
		if (r->tables[i].advice.n == 0)
			continue;
		printf("\n%s.%s (%d partitions):\n", r->tables[i].schema, r->tables[i].name,
			   r->tables[i].partitions);
		cli_print_list("  advice: ", &r->tables[i].advice);
	}
	printf("\n%d statements judged, %d do not prune; %d SELECT statements read, %d not "
		   "explained (not a plain SELECT), %d failed to explain\n",
		   r->n, r->not_pruning, r->candidates, r->refused, r->failed);
	cli_print_list("note: ", &r->notes);
}

static int
check_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const CheckOptions *o = arg;
	CheckResult res;
	int rc;

	if (!ops_check(pc, o, &res, err))
		return CLI_FAILED;
	if (g->json)
		print_json(&res);
	else
		print_text(&res);
	rc = res.not_pruning > 0 ? EXIT_CHECK : EXIT_OK;
	checkresult_free(&res);
	return rc;
}

int
cmd_check(int argc, char **argv, GlobalOpts *g)
{
	CheckOptions o = {NULL, default_top, default_timeout_ms};
	const CliOption options[] = {
		CLI_INT("top", 0, &o.top, 1, 1000),
		CLI_DURATION("statement-timeout", 0, &o.timeout_ms, 10, 600000,
					 "10ms to 10min, e.g. 5s"),
		CLI_END};
	const CliSpec spec = {"check", help, options, NULL, false};
	int rc;

	if ((rc = cli_parse_table(&spec, argc, argv, g, &o.table)) != CLI_PARSED)
		return rc;
	return cli_run_connected(g, check_run, &o);
}
