/* pgpart policy - when a table's partitions go warm, to the archive, and away */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "commands/archive/archive.h"

static const char help[] =
	"pgpart policy stores a table's storage tiers; \"pgpart maintain\" applies them to\n"
	"closed partitions (whose whole range is in the past): after --warm-after a\n"
	"partition moves to --warm-tablespace, after --archive-after it is archived to\n"
	"--archive-to and dropped from the database, after --drop-after it is dropped\n"
	"(archived first unless --drop-unarchived).  \"maintain --dry-run\" shows what it\n"
	"would do.  Options replace the whole policy; with none, the policy is shown.\n\n"
	"Usage:\n"
	"  pgpart policy TABLE [--warm-after AGE --warm-tablespace NAME]\n"
	"                      [--archive-after AGE --archive-to URL]\n"
	"                      [--drop-after AGE [--drop-unarchived]] [OPTION]...\n"
	"  pgpart policy TABLE --clear\n\n"
	"Options:\n"
	"      --warm-after=AGE        e.g. \"1 quarter\"\n"
	"      --warm-tablespace=NAME  an existing tablespace on cheaper disks\n"
	"      --archive-after=AGE     e.g. \"1 year\"\n"
	"      --archive-to=URL        file:///DIR or s3://BUCKET/PREFIX\n"
	"      --drop-after=AGE        e.g. \"7 years\"\n"
	"      --drop-unarchived       retention drops without archiving first\n"
	"      --allow-insecure-endpoint\n"
	"                              the s3:// archive may use a plain http:// endpoint\n"
	"                              (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL when\n"
	"                              maintain runs): requests and rows unencrypted,\n"
	"                              for a trusted network only\n"
	"      --clear                 remove the policy\n";

enum
{
	OPT_WARM_AFTER = OPT_FIRST_COMMAND_OPTION,
	OPT_WARM_TS,
	OPT_ARCHIVE_AFTER,
	OPT_ARCHIVE_TO,
	OPT_DROP_AFTER,
	OPT_DROP_UNARCHIVED,
	OPT_ALLOW_INSECURE,
	OPT_CLEAR
};

static void
print_policy(const char *table, const TierPolicyRow *p, bool has, bool json)
{
	if (json)
	{
		json_t *o = has ? json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:b}", "table",
									table, "warm_after", p->warm_after, "warm_tablespace",
									p->warm_tablespace, "archive_after", p->archive_after,
									"archive_to", p->archive_to, "drop_after", p->drop_after,
									"drop_unarchived", p->drop_unarchived,
									"allow_insecure_endpoint", p->allow_insecure_endpoint)
						: json_pack("{s:s, s:n}", "table", table, "policy");

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return;
	}
	if (!has)
	{
		printf("%s: no tier policy (every partition stays hot)\n", table);
		return;
	}
	printf("%s: tier policy\n", table);
	if (p->warm_after)
		printf("  warm after %s: tablespace %s\n", p->warm_after, p->warm_tablespace);
	if (p->archive_after)
		printf("  archive after %s: to %s%s\n", p->archive_after, p->archive_to,
			   p->allow_insecure_endpoint ? " (a plain-http S3 endpoint allowed)" : "");
	if (p->drop_after)
		printf("  drop after %s%s\n", p->drop_after,
			   p->drop_unarchived ? " (without archiving)" : " (archived first)");
}

int
cmd_policy(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		{"warm-after", required_argument, NULL, OPT_WARM_AFTER},
		{"warm-tablespace", required_argument, NULL, OPT_WARM_TS},
		{"archive-after", required_argument, NULL, OPT_ARCHIVE_AFTER},
		{"archive-to", required_argument, NULL, OPT_ARCHIVE_TO},
		{"drop-after", required_argument, NULL, OPT_DROP_AFTER},
		{"drop-unarchived", no_argument, NULL, OPT_DROP_UNARCHIVED},
		{"allow-insecure-endpoint", no_argument, NULL, OPT_ALLOW_INSECURE},
		{"clear", no_argument, NULL, OPT_CLEAR},
		{NULL, 0, NULL, 0},
	};
	PolicyOptions o;
	TierPolicyRow row;
	bool has = false;
	PgConn pc = {0};
	PgpError err;
	int c, rc = EXIT_OK;

	memset(&o, 0, sizeof(o));
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS, opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf("%s%s", help, CLI_COMMON_HELP);
				return EXIT_OK;
			case OPT_WARM_AFTER:
				o.warm_after = optarg;
				break;
			case OPT_WARM_TS:
				o.warm_tablespace = optarg;
				break;
			case OPT_ARCHIVE_AFTER:
				o.archive_after = optarg;
				break;
			case OPT_ARCHIVE_TO:
				o.archive_to = optarg;
				break;
			case OPT_DROP_AFTER:
				o.drop_after = optarg;
				break;
			case OPT_DROP_UNARCHIVED:
				o.drop_unarchived = true;
				break;
			case OPT_ALLOW_INSECURE:
				o.allow_insecure_endpoint = true;
				break;
			case OPT_CLEAR:
				o.clear = true;
				break;
			default:
				return cli_usage_error("policy", "invalid option");
		}
	}
	if (optind < argc)
		o.table = argv[optind++];
	if (optind < argc)
		return cli_usage_error("policy", "unexpected argument \"%s\"", argv[optind]);
	if (o.table == NULL)
		return cli_usage_error("policy", "no table given");
	if (o.clear && (o.warm_after || o.warm_tablespace || o.archive_after || o.archive_to ||
					o.drop_after || o.drop_unarchived || o.allow_insecure_endpoint))
		return cli_usage_error("policy", "--clear takes no other policy option");
	err_init(&err);
	if (!cli_connect(g, &pc, &err))
	{
		rc = cli_fail(&err);
		err_clear(&err);
		return rc;
	}
	if (!ops_policy(&pc, &o, &row, &has, &err))
		rc = cli_fail(&err);
	else if (o.clear)
	{
		if (!g->dry_run)
			printf("%s: tier policy removed\n", o.table);
	}
	else if (!g->dry_run)
		print_policy(o.table, &row, has, g->json);
	tierpolicyrow_free(&row);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}
