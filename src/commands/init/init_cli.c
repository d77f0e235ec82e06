/* pgpart init - create or upgrade pgpart's own schema */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
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

static json_t *
json_list(const NameList *l)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->items[i]));
	return a;
}

int
cmd_init(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {CLI_COMMON_LONG_OPTIONS, {NULL, 0, NULL, 0}};
	PgConn pc = {0};
	PgpError err;
	InitReport rep;
	int c, i, from, to;

	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS, opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		if (c == OPT_HELP)
		{
			printf("%s%s", help, CLI_COMMON_HELP);
			return EXIT_OK;
		}
		return cli_usage_error("init", "invalid option");
	}
	if (optind < argc)
		return cli_usage_error("init", "unexpected argument \"%s\"", argv[optind]);
	err_init(&err);
	memset(&rep, 0, sizeof(rep));
	if (!cli_connect(g, &pc, &err) || !ops_init(&pc, &rep, &err))
	{
		int rc = cli_fail(&err);

		err_clear(&err);
		initreport_free(&rep);
		pgc_close(&pc);
		return rc;
	}
	pgc_close(&pc);
	from = rep.from_version;
	to = rep.to_version;
	if (g->json)
	{
		json_t *o = json_pack("{s:i, s:i, s:b, s:o, s:o}", "from_version", from, "to_version",
							  to, "dry_run", g->dry_run, "done", json_list(&rep.done),
							  "problems", json_list(&rep.problems));

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	else
	{
		/* --dry-run printed the statements; what they would do is said only by a real run */
		if (g->dry_run)
			;
		else if (from == to)
			printf("pgpart schema is up to date (version %d)\n", to);
		else if (from == 0)
			printf("created pgpart schema (version %d)\n", to);
		else
			printf("upgraded pgpart schema from version %d to %d\n", from, to);
		for (i = 0; i < rep.done.n; i++)
			printf("  %s\n", rep.done.items[i]);
	}
	for (i = 0; i < rep.problems.n; i++)
		fprintf(stderr, "pgpart: warning: %s\n", rep.problems.items[i]);
	c = rep.problems.n > 0 ? EXIT_CHECK : EXIT_OK;
	initreport_free(&rep);
	return c;
}
