/* pgpart status - partitions, sizes and warnings of managed tables */
#include "commands/status/status.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "pg/lock.h"

static const char help[] =
	"pgpart status shows, for every managed table (or only TABLE), one line per\n"
	"partition: name, bounds (in the table's time zone), estimated rows, size of\n"
	"heap and indexes, tablespace and invalid indexes; then warnings: rows in the\n"
	"default partition, fewer future partitions than premake, missing or invalid\n"
	"indexes, failed maintenance.\n\n"
	"Usage:\n"
	"  pgpart status [TABLE] [OPTION]...\n\n"
	"Options:\n"
	"      --check              exit with status 3 when there is any warning\n";

typedef struct StatusArgs
{
	const char *table; /* NULL: every managed table */
	bool check;
} StatusArgs;

/* "quarter" or "quarter, month from 2027-04-01, quarter from 2028-01-01" */
static void
print_intervals(const IntervalSchedule *s)
{
	int i;

	printf("%s", cal_unit_name(s->first));
	for (i = 0; i < s->n; i++)
	{
		char from[16];

		cal_date_format(s->changes[i].from, from);
		printf(", %s from %s", cal_unit_name(s->changes[i].unit), from);
	}
}

static json_t *
table_json(const TableStatus *t)
{
	json_t *o = json_object(), *parts = json_array();
	int i;

	for (i = 0; i < t->parts.n; i++)
	{
		const PartitionStats *p = &t->parts.items[i];
		json_t *po = json_object();

		json_object_set_new(po, "name", json_string(p->name));
		json_object_set_new(po, "default", json_boolean(p->is_default));
		json_object_set_new(po, "from", cli_json_string_or_null(p->from));
		json_object_set_new(po, "to", cli_json_string_or_null(p->to));
		json_object_set_new(po, "estimated_rows",
							p->est_rows >= 0 ? json_integer(p->est_rows) : json_null());
		json_object_set_new(po, "heap_bytes", json_integer(p->heap_bytes));
		json_object_set_new(po, "index_bytes", json_integer(p->index_bytes));
		json_object_set_new(po, "tablespace", cli_json_string_or_null(p->tablespace));
		json_object_set_new(po, "invalid_indexes", cli_json_string_or_null(p->invalid_indexes));
		json_object_set_new(po, "missing_indexes", cli_json_string_or_null(p->missing_indexes));
		json_object_set_new(po, "tier", json_string(i < t->tiers.n ? t->tiers.items[i] : "hot"));
		json_object_set_new(po, "interval",
							i < t->intervals.n && t->intervals.items[i][0]
								? json_string(t->intervals.items[i])
								: json_null());
		json_array_append_new(parts, po);
	}
	json_object_set_new(o, "schema", json_string(t->schema));
	json_object_set_new(o, "table", json_string(t->name));
	json_object_set_new(o, "exists", json_boolean(t->exists));
	json_object_set_new(o, "column", json_string(t->column));
	/* the interval new partitions get; interval_history says since when */
	json_object_set_new(o, "interval", json_string(cal_unit_name(sched_latest(&t->sched))));
	json_object_set_new(o, "interval_history", cli_json_schedule(&t->sched));
	json_object_set_new(o, "premake", json_integer(t->premake));
	json_object_set_new(o, "time_zone", json_string(t->time_zone));
	json_object_set_new(o, "future_partitions", json_integer(t->future_partitions));
	json_object_set_new(o, "default_rows", json_integer(t->default_rows));
	json_object_set_new(o, "last_maintenance", cli_json_string_or_null(t->last_maintain_at));
	json_object_set_new(o, "last_maintenance_ok",
						t->last_maintain_at ? json_boolean(t->last_maintain_ok) : json_null());
	json_object_set_new(o, "partitions", parts);
	json_object_set_new(o, "warnings", cli_json_list(&t->warnings));
	json_object_set_new(o, "rollups", cli_json_list(&t->rollups));
	json_object_set_new(o, "archived", cli_json_list(&t->archived));
	json_object_set_new(o, "remote", cli_json_list(&t->remote));
	json_object_set_new(o, "tier_policy", cli_json_string_or_null(t->policy));
	return o;
}

static int
max_int(int a, int b)
{
	return a > b ? a : b;
}

static void
print_table(const TableStatus *t)
{
	int wname = 9, wfrom = 4, wto = 2, wts = 10, i;
	/* the interval of each partition, when they differ (repartitioned, split or merged) */
	bool mixed = sched_is_mixed(&t->sched);

	for (i = 0; !mixed && i < t->intervals.n; i++)
		mixed = t->intervals.items[i][0] && t->intervals.items[0][0] &&
				strcmp(t->intervals.items[i], t->intervals.items[0]) != 0;

	printf("%s.%s: RANGE (%s), ", t->schema, t->name, t->column);
	print_intervals(&t->sched);
	printf(" partitions, premake %d, time zone %s\n", t->premake, t->time_zone);
	for (i = 0; i < t->parts.n; i++)
	{
		const PartitionStats *p = &t->parts.items[i];

		wname = max_int(wname, (int) strlen(p->name));
		wfrom = max_int(wfrom, p->from ? (int) strlen(p->from) : 7);
		wto = max_int(wto, p->to ? (int) strlen(p->to) : 0);
		wts = max_int(wts, p->tablespace ? (int) strlen(p->tablespace) : 0);
	}
	if (t->parts.n > 0)
		printf("  %-*s  %-*s  %-*s  %s%12s  %10s  %10s  %-*s  %-4s  %s\n", wname, "partition",
			   wfrom, "from", wto, "to", mixed ? "interval  " : "", "rows (est)", "heap", "indexes",
			   wts, "tablespace", "tier", "invalid indexes");
	for (i = 0; i < t->parts.n; i++)
	{
		const PartitionStats *p = &t->parts.items[i];
		char rows[32];

		if (p->est_rows >= 0)
			snprintf(rows, sizeof(rows), "%lld", p->est_rows);
		else
			snprintf(rows, sizeof(rows), "?");
		char interval[16] = "";

		if (mixed)
			snprintf(interval, sizeof(interval), "%-8s  ",
					 i < t->intervals.n ? t->intervals.items[i] : "");
		printf("  %-*s  %-*s  %-*s  %s%12s  %10s  %10s  %-*s  %-4s  %s\n", wname, p->name, wfrom,
			   p->is_default ? "DEFAULT" : (p->from ? p->from : "MINVALUE"), wto,
			   p->is_default ? "" : (p->to ? p->to : "MAXVALUE"), interval, rows, p->heap_pretty,
			   p->index_pretty, wts, p->tablespace ? p->tablespace : "",
			   i < t->tiers.n ? t->tiers.items[i] : "hot",
			   p->invalid_indexes ? p->invalid_indexes : "");
	}
	printf("  %d future partitions; last maintenance: %s\n", t->future_partitions,
		   t->last_maintain_at ? t->last_maintain_at : "never");
	cli_print_list("  rollup ", &t->rollups);
	if (t->policy)
		printf("  tier policy: %s\n", t->policy);
	cli_print_list("  archived ", &t->archived);
	cli_print_list("  remote ", &t->remote);
	cli_print_list("  WARNING: ", &t->warnings);
}

static int
status_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const StatusArgs *a = arg;
	StatusResult res;
	int i, rc = EXIT_OK;

	memset(&res, 0, sizeof(res));
	if (!ops_status(pc, a->table, &res, err))
		return CLI_FAILED;
	if (g->json)
	{
		json_t *tables = json_array(), *o;

		for (i = 0; i < res.n; i++)
			json_array_append_new(tables, table_json(&res.tables[i]));
		o = json_pack("{s:o, s:i}", "tables", tables, "warnings", res.warnings);
		cli_print_json(o);
	}
	else
	{
		if (res.n == 0)
			printf("no tables are managed by pgpart\n");
		for (i = 0; i < res.n; i++)
		{
			if (i > 0)
				putchar('\n');
			print_table(&res.tables[i]);
		}
	}
	if (a->check && res.warnings > 0)
		rc = EXIT_CHECK;
	statusresult_free(&res);
	return rc;
}

int
cmd_status(int argc, char **argv, GlobalOpts *g)
{
	StatusArgs a = {NULL, false};
	const CliOption options[] = {CLI_TRUE("check", 0, &a.check), CLI_END};
	const CliSpec spec = {"status", help, options, NULL, false};
	int rc;

	if ((rc = cli_parse_table(&spec, argc, argv, g, &a.table)) != CLI_PARSED)
		return rc;
	return cli_run_connected(g, status_run, &a);
}
