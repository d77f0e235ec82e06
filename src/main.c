/*
 * main.c - pgpart's command table and global options.
 *
 *   pgpart [GLOBAL OPTION]... COMMAND [ARGUMENT]... [OPTION]...
 *
 * Global options may also follow the command, as in PostgreSQL's own tools.
 */
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "util/log.h"

#include "util/version.h"

static const Command commands[] = {
	{"init", "create or upgrade pgpart's schema in the database", cmd_init},
	{"create", "partition a new or empty table by a time range", cmd_create},
	{"maintain", "premake partitions and empty the default partition", cmd_maintain},
	{"status", "partitions, sizes and warnings of managed tables", cmd_status},
	{"check", "do the application's queries prune partitions? (pg_stat_statements)", cmd_check},
	{"index", "add an index to a partitioned table without blocking writes", cmd_index},
	{"migrate", "move a live table's rows into a partitioned table, online", cmd_migrate},
	{"rollup", "per-day or per-month summaries of a table, kept current", cmd_rollup},
	{"vacuum", "VACUUM each partition, several at once, biggest first", cmd_parallel},
	{"analyze", "ANALYZE each partition, several at once, biggest first", cmd_parallel},
	{"reindex", "REINDEX each partition CONCURRENTLY, several at once", cmd_parallel},
	{"report", "daily, monthly, yearly and cross-org reports, from rollups when they cover", cmd_report},
	{"run", "maintain every managed table on a schedule; one active instance of several", cmd_run},
	{"metrics", "the state of managed tables for Prometheus (text exposition format)", cmd_metrics},
	{"move", "move a closed partition to another tablespace, online", cmd_move},
	{"repartition", "change the interval of a table's future partitions, from a date on",
	 cmd_repartition},
	{"policy", "when partitions go warm, to the archive, and away (maintain applies it)", cmd_policy},
	{"archive", "move closed partitions to file:// or s3:// storage; \"archive list\"", cmd_archive},
	{"restore", "bring an archived partition back into its table", cmd_restore},
};

static void
print_help(void)
{
	size_t i;

	printf("pgpart manages time-range partitioning of PostgreSQL tables.\n\n"
		   "Usage:\n"
		   "  pgpart [OPTION]... COMMAND [ARGUMENT]... [OPTION]...\n\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-12s %s\n", commands[i].name, commands[i].summary);
	printf("%s", CLI_COMMON_HELP);
	printf("      --version            show the version and exit\n\n"
		   "\"pgpart COMMAND --help\" describes a command.\n\n"
		   "Exit status: 0 success, 1 the operation failed, 2 invalid usage,\n"
		   "3 a check found a problem.\n");
}

int
main(int argc, char **argv)
{
	GlobalOpts g = {NULL, false, false, false, LOCK_POLICY_DEFAULT, false, 0};
	bool version = false;
	const CliOption options[] = {CLI_TRUE("version", 0, &version), CLI_END};
	const CliSpec spec = {NULL, NULL, options, print_help, true};
	const char *name;
	size_t i;
	int first, rc;

	/* pgpart's own options end at the command's name; the command parses the rest */
	if ((rc = cli_parse(&spec, argc, argv, &g, &first)) != CLI_PARSED)
		return rc;
	if (version)
	{
#ifdef PGPART_TEST_HOOKS
		printf("pgpart %s (test build with fault-injection hooks)\n", PGPART_VERSION);
#else
		printf("pgpart %s\n", PGPART_VERSION);
#endif
		return EXIT_OK;
	}
	if (first >= argc)
	{
		log_error("no command given");
		fprintf(stderr, "pgpart: hint: Try \"pgpart --help\" for more information.\n");
		return EXIT_USAGE;
	}
	name = argv[first];
	if (strcmp(name, "help") == 0)
	{
		print_help();
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].run(argc - first, argv + first, &g);
	log_error("unknown command \"%s\"", name);
	fprintf(stderr, "pgpart: hint: Try \"pgpart --help\" for the list of commands.\n");
	return EXIT_USAGE;
}
