/*
 * policy_cli.c - the command line of pgpart policy: when a table's partitions
 * go warm, to the archive, and away; its options, help and output.  The
 * operation is policy.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "commands/archive/archive.h"
#include "commands/policy/policy.h"

static const char help[] =
	"pgpart policy stores a table's storage tiers; \"pgpart maintain\" applies them to\n"
	"closed partitions (whose whole range is in the past): after --warm-after a\n"
	"partition moves to --warm-tablespace, after --remote-after to the remote\n"
	"server --remote-server, after --archive-after it is archived to\n"
	"--archive-to and dropped from the database, after --drop-after it is dropped\n"
	"(archived first unless --drop-unarchived).  \"maintain --dry-run\" shows what it\n"
	"would do.  Options replace the whole policy; with none, the policy is shown.\n\n"
	"Usage:\n"
	"  pgpart policy TABLE [--warm-after AGE --warm-tablespace NAME]\n"
	"                      [--remote-after AGE --remote-server NAME]\n"
	"                      [--archive-after AGE --archive-to URL]\n"
	"                      [--drop-after AGE [--drop-unarchived]] [OPTION]...\n"
	"  pgpart policy TABLE --clear\n\n"
	"Options:\n"
	"      --warm-after=AGE        e.g. \"1 quarter\"\n"
	"      --warm-tablespace=NAME  an existing tablespace on cheaper disks\n"
	"      --remote-after=AGE      e.g. \"2 quarters\": closed partitions go to a remote\n"
	"      --remote-server=NAME    the remote (\"pgpart remote add\"), read through\n"
	"                              postgres_fdw; only retention touches them there\n"
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

static void
print_policy(const char *table, const TierPolicyRow *p, bool has, bool json)
{
	if (json)
	{
		json_t *o = has ? json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:b, s:b}",
									"table",
									table, "warm_after", p->warm_after, "warm_tablespace",
									p->warm_tablespace, "archive_after", p->archive_after,
									"archive_to", p->archive_to, "remote_after", p->remote_after,
									"remote_server", p->remote_server, "drop_after", p->drop_after,
									"drop_unarchived", p->drop_unarchived,
									"allow_insecure_endpoint", p->allow_insecure_endpoint)
						: json_pack("{s:s, s:n}", "table", table, "policy");

		cli_print_json(o);
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
	if (p->remote_after)
		printf("  remote after %s: to remote %s\n", p->remote_after, p->remote_server);
	if (p->archive_after)
		printf("  archive after %s: to %s%s\n", p->archive_after, p->archive_to,
			   p->allow_insecure_endpoint ? " (a plain-http S3 endpoint allowed)" : "");
	if (p->drop_after)
		printf("  drop after %s%s\n", p->drop_after,
			   p->drop_unarchived ? " (without archiving)" : " (archived first)");
}

static int
policy_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const PolicyOptions *o = arg;
	TierPolicyRow row;
	bool has = false;
	int rc = EXIT_OK;

	if (!ops_policy(pc, o, &row, &has, err))
		rc = CLI_FAILED;
	else if (o->clear)
	{
		if (!g->dry_run)
			printf("%s: tier policy removed\n", o->table);
	}
	else if (!g->dry_run)
		print_policy(o->table, &row, has, g->json);
	tierpolicyrow_free(&row);
	return rc;
}

int
cmd_policy(int argc, char **argv, GlobalOpts *g)
{
	PolicyOptions o;
	const CliOption options[] = {
		CLI_STRING("warm-after", 0, &o.warm_after),
		CLI_STRING("warm-tablespace", 0, &o.warm_tablespace),
		CLI_STRING("archive-after", 0, &o.archive_after),
		CLI_STRING("archive-to", 0, &o.archive_to),
		CLI_STRING("drop-after", 0, &o.drop_after),
		CLI_STRING("remote-after", 0, &o.remote_after),
		CLI_STRING("remote-server", 0, &o.remote_server),
		CLI_TRUE("drop-unarchived", 0, &o.drop_unarchived),
		CLI_TRUE("allow-insecure-endpoint", 0, &o.allow_insecure_endpoint),
		CLI_TRUE("clear", 0, &o.clear),
		CLI_END};
	const CliSpec spec = {"policy", help, options, NULL, false};
	int first, rc;
	bool sets;

	memset(&o, 0, sizeof(o));
	if ((rc = cli_parse_args(&spec, argc, argv, g, 1, "no table given", &first)) != CLI_PARSED)
		return rc;
	o.table = argv[first];
	sets = o.warm_after || o.warm_tablespace || o.archive_after || o.archive_to || o.drop_after ||
		   o.drop_unarchived || o.allow_insecure_endpoint || o.remote_after || o.remote_server;
	if (o.clear && sets)
		return cli_usage_error("policy", "--clear takes no other policy option");
	if (!o.clear && !sets)
		g->changes = NULL; /* only shows the policy: also on a standby */
	return cli_run_connected(g, policy_run, &o);
}
