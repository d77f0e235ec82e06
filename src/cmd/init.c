/* pgpart init - create or upgrade pgpart's own schema */
#include <jansson.h>
#include <stdio.h>

#include "cmd/cli.h"
#include "pg/schema.h"

static const char help[] =
	"pgpart init creates pgpart's schema (\"pgpart\") in the database, or upgrades\n"
	"it to the version this pgpart uses.  It is safe to run again.\n\n"
	"Usage:\n"
	"  pgpart init [OPTION]...\n";

int
cmd_init(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {CLI_COMMON_LONG_OPTIONS, {NULL, 0, NULL, 0}};
	PgConn pc = {0};
	PgpError err;
	int from, to;
	int c;

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
	if (!cli_connect(g, &pc, &err) || !schema_install(&pc, &from, &to, &err))
	{
		int rc = cli_fail(&err);

		err_clear(&err);
		pgc_close(&pc);
		return rc;
	}
	pgc_close(&pc);
	if (g->json)
	{
		json_t *o = json_pack("{s:i, s:i, s:b}", "from_version", from, "to_version", to,
							  "dry_run", g->dry_run);

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	else if (!g->dry_run)
	{
		if (from == to)
			printf("pgpart schema is up to date (version %d)\n", to);
		else if (from == 0)
			printf("created pgpart schema (version %d)\n", to);
		else
			printf("upgraded pgpart schema from version %d to %d\n", from, to);
	}
	return EXIT_OK;
}
