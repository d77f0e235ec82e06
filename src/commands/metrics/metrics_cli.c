/* pgpart metrics - pgpart's state in Prometheus' text exposition format */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "commands/metrics/metrics.h"

static const char help[] =
	"pgpart metrics prints the state of every managed table in Prometheus' text\n"
	"exposition format (for node_exporter's textfile collector, or to look at):\n"
	"partitions per table, tier and tablespace, future partitions, rows and bytes in\n"
	"the default partition, bytes per tier, the last successful maintenance and its\n"
	"duration, failures, lock retries, online migration phase and progress, archive\n"
	"and restore outcomes.  \"pgpart run --metrics-addr\" serves the same over HTTP.\n\n"
	"Usage:\n"
	"  pgpart metrics [OPTION]...\n\n"
	"With --json, the same metric families as a JSON document.\n"
	"Exit status 1 when the database cannot be read (nothing is printed then).\n";

static void
print_json(const PromSet *set)
{
	json_t *arr = json_array(), *o;
	int i, k;

	for (i = 0; i < set->n; i++)
	{
		const PromFamily *f = &set->families[i];
		json_t *samples = json_array();

		for (k = 0; k < f->n; k++)
			json_array_append_new(samples, json_pack("{s:s, s:f}", "labels", f->samples[k].labels,
													 "value", f->samples[k].value));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "name", f->name, "type",
											 f->type, "help", f->help, "samples", samples));
	}
	o = json_pack("{s:o}", "metrics", arr);
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
}

static int
metrics_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	PromSet set;

	(void) arg;
	promset_init(&set);
	if (!ops_metrics_collect(pc, 0, &set, err))
	{
		promset_free(&set);
		return CLI_FAILED;
	}
	if (g->json)
		print_json(&set);
	else
	{
		char *text = prom_render(&set);

		fputs(text, stdout);
		free(text);
	}
	promset_free(&set);
	return EXIT_OK;
}

int
cmd_metrics(int argc, char **argv, GlobalOpts *g)
{
	const CliOption options[] = {CLI_END};
	const CliSpec spec = {"metrics", help, options, NULL, false};
	int first, rc;

	if ((rc = cli_parse_args(&spec, argc, argv, g, 0, "", &first)) != CLI_PARSED)
		return rc;
	return cli_run_connected(g, metrics_run, NULL);
}
