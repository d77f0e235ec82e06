/*
 * repartition_cli.c - the command line of pgpart repartition: its options,
 * help and output.  The operation is repartition.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "commands/repartition/repartition.h"

static const char help[] =
	"pgpart repartition changes the interval of a managed table's partitions from\n"
	"a date on: partitions made from then on (by maintain, premake included) are\n"
	"periods of the new interval; existing partitions keep theirs.  pgpart records\n"
	"each change, so status, metrics, archive, restore, the tier policy, retention\n"
	"and rollups work across it.  --from must not be inside an existing partition\n"
	"and must start a period of both the old and the new interval (a refusal lists\n"
	"the dates that would do).  premake counts periods of the interval in force.\n\n"
	"Usage:\n"
	"  pgpart repartition TABLE --interval=UNIT [--from=YYYY-MM-DD] [OPTION]...\n\n"
	"Options:\n"
	"  -i, --interval=UNIT      day, week, month, quarter or year\n"
	"      --from=YYYY-MM-DD    first day of the new interval (default: the first day\n"
	"                           from the end of the last partition on that starts a\n"
	"                           period of both intervals)\n";

static void
print_json(const GlobalOpts *g, const RepartitionResult *r)
{
	char from[16], end[16];
	json_t *o;

	cal_date_format(r->from, from);
	cal_date_format(r->partitions_end, end);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:o, s:o, s:b}", "schema", r->schema,
				  "table", r->name, "interval", cal_unit_name(r->unit), "previous_interval",
				  cal_unit_name(r->previous), "from", from, "partitions_end",
				  r->has_partitions_end ? json_string(end) : json_null(), "replaced_changes",
				  r->replaced, "first_partitions", cli_json_list(&r->first_periods),
				  "interval_history", cli_json_schedule(&r->sched), "dry_run", g->dry_run);
	cli_print_json(o);
}

static void
print_text(const GlobalOpts *g, const RepartitionResult *r)
{
	char from[16];

	cal_date_format(r->from, from);
	printf("%s.%s: %s partitions from %s on (%s before)%s\n", r->schema, r->name,
		   cal_unit_name(r->unit), from, cal_unit_name(r->previous),
		   g->dry_run ? "; dry run, nothing changed" : "");
	if (r->replaced > 0)
		printf("  replaces %d planned change%s from that date on\n", r->replaced,
			   r->replaced == 1 ? "" : "s");
	cli_print_list("  next: ", &r->first_periods);
	printf("  \"pgpart maintain\" makes them as premake (%s) reaches them\n",
		   cal_unit_name(r->unit));
}

static int
repartition_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const RepartitionOptions *opt = arg;
	RepartitionResult res;
	bool ok = ops_repartition(pc, opt, &res, err);

	if (ok && g->json)
		print_json(g, &res);
	else if (ok)
		print_text(g, &res);
	repartitionresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

int
cmd_repartition(int argc, char **argv, GlobalOpts *g)
{
	RepartitionOptions opt;
	bool has_unit = false;
	CliOption options[] = {
		CLI_UNIT("interval", 'i', &opt.unit),
		CLI_DATE("from", 0, &opt.from, &opt.has_from),
		CLI_END,
	};
	const CliSpec spec = {"repartition", help, options, NULL, false};
	int first, rc;

	memset(&opt, 0, sizeof(opt));
	options[0].given = &has_unit;
	if ((rc = cli_parse_args(&spec, argc, argv, g, 1,
							 "no table given, e.g. pgpart repartition revenues --interval month",
							 &first)) != CLI_PARSED)
		return rc;
	if (!has_unit)
		return cli_usage_error("repartition", "--interval is required");
	opt.table = argv[first];
	return cli_run_connected(g, repartition_run, &opt);
}
