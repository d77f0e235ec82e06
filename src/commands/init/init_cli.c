/*
 * init_cli.c - "pgpart init": its options and what it prints.  The work
 * (schema install or upgrade, the audit of pgpart's functions) is ops_init
 * in init.c; this file only reports it, and ends with exit code 3 when the
 * audit left problems that pgpart's role could not fix.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "commands/init/init.h"
#include "pg/schema.h"

static const char help[] =
	"pgpart init creates pgpart's schema (\"pgpart\") in the database, or upgrades\n"
	"it to the version this pgpart uses.  It is safe to run again.\n\n"
	"It also checks the functions pgpart made in that schema: none may be executable\n"
	"by PUBLIC, and none may belong to a superuser when the table it serves does not;\n"
	"it fixes what its role may fix and lists the rest (exit code 3).\n\n"
	"Usage:\n"
	"  pgpart init [OPTION]...\n";

static void
print_report(const GlobalOpts *g, const InitReport *rep)
{
	int from = rep->from_version, to = rep->to_version;

	if (g->json)
	{
		json_t *o = json_pack("{s:i, s:i, s:b, s:o, s:o}", "from_version", from, "to_version",
							  to, "dry_run", g->dry_run, "done", cli_json_list(&rep->done),
							  "problems", cli_json_list(&rep->problems));

		cli_print_json(o);
		return;
	}
	/* --dry-run printed the statements; what they would do is said only by a real run */
	if (g->dry_run)
		;
	else if (from == to)
		printf("pgpart schema is up to date (version %d)\n", to);
	else if (from == 0)
		printf("created pgpart schema (version %d)\n", to);
	else
		printf("upgraded pgpart schema from version %d to %d\n", from, to);
	cli_print_list("  ", &rep->done);
}

static int
init_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	InitReport rep;
	int i, rc;

	(void) arg;
	if (!ops_init(pc, &rep, err))
	{
		initreport_free(&rep);
		return CLI_FAILED;
	}
	print_report(g, &rep);
	for (i = 0; i < rep.problems.n; i++)
		fprintf(stderr, "pgpart: warning: %s\n", rep.problems.items[i]);
	rc = rep.problems.n > 0 ? EXIT_CHECK : EXIT_OK;
	initreport_free(&rep);
	return rc;
}

int
cmd_init(int argc, char **argv, GlobalOpts *g)
{
	const CliSpec spec = {"init", help, NULL, NULL, false};
	int first, rc;

	if ((rc = cli_parse_args(&spec, argc, argv, g, 0, "", &first)) != CLI_PARSED)
		return rc;
	return cli_run_connected(g, init_run, NULL);
}
