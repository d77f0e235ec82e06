/*
 * main.c - pgpart's command table and global options.
 *
 *   pgpart [GLOBAL OPTION]... COMMAND [ARGUMENT]... [OPTION]...
 *
 * Global options may also follow the command, as in PostgreSQL's own tools.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "util/log.h"
#include "util/mem.h"

#include "util/version.h"

/* the last column: what only reads, and so runs on a standby too (cli.h, Command.reads) */
static const Command commands[] = {
	{"init", "create or upgrade pgpart's schema in the database", cmd_init, NULL, NULL},
	{"create", "partition a new or empty table by a time range", cmd_create, NULL, NULL},
	{"maintain", "premake partitions and empty the default partition", cmd_maintain, NULL, NULL},
	{"status", "partitions, sizes and warnings of managed tables", cmd_status, CMD_READS_ALL, NULL},
	{"check", "do the application's queries prune partitions? (pg_stat_statements)", cmd_check,
	 CMD_READS_ALL, NULL},
	{"index", "add an index to a partitioned table without blocking writes", cmd_index, NULL, NULL},
	{"migrate", "move a live table's rows into a partitioned table, online", cmd_migrate,
	 "plan status batch-sql", "plan start backfill verify switch finish rollback status limits batch-sql"},
	{"rollup", "per-day or per-month summaries of a table, kept current", cmd_rollup, "status",
	 "add refresh status drop"},
	{"vacuum", "VACUUM each partition, several at once, biggest first", cmd_parallel, NULL, NULL},
	{"analyze", "ANALYZE each partition, several at once, biggest first", cmd_parallel, NULL, NULL},
	{"reindex", "REINDEX each partition CONCURRENTLY, several at once", cmd_parallel, NULL, NULL},
	{"report", "daily, monthly, yearly and cross-org reports, from rollups when they cover",
	 cmd_report, CMD_READS_ALL, NULL},
	/* on a standby it idles until a promotion (commands/run/scheduler.c) */
	{"run", "maintain every managed table on a schedule; one active instance of several", cmd_run,
	 CMD_READS_ALL, NULL},
	{"metrics", "the state of managed tables for Prometheus (text exposition format)", cmd_metrics,
	 CMD_READS_ALL, NULL},
	{"move", "move a closed partition to another tablespace, online", cmd_move, NULL, NULL},
	{"repartition", "change the interval of a table's future partitions, from a date on",
	 cmd_repartition, NULL, NULL},
	{"split", "replace a partition by partitions of a shorter interval, online", cmd_split, NULL,
	 NULL},
	{"merge", "replace adjacent partitions by the one period they make up, online", cmd_merge,
	 NULL, NULL},
	{"policy", "when partitions go warm, to the archive, and away (maintain applies it)",
	 cmd_policy, NULL, NULL},
	{"archive", "move closed partitions to file:// or s3:// storage; \"archive list\"",
	 cmd_archive, "list", "list"},
	{"restore", "bring an archived partition back into its table", cmd_restore, NULL, NULL},
	{"remote", "closed partitions on another PostgreSQL server, read through postgres_fdw",
	 cmd_remote, "list", "add list drop send fetch"},
	{"log", "every change pgpart made: DDL, locks and rows moved (pgpart.change_log)", cmd_log,
	 CMD_READS_ALL, NULL},
};

/* owned here for the whole run: GlobalOpts.changes points into it */
static char *changes_text;

/* whether word is one of list's space-separated words */
static bool
word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (n > 0 && (p = strstr(p, word)) != NULL)
	{
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/*
 * GlobalOpts.changes for the command at argv[0]: NULL when what it runs only
 * reads; else its name as typed, with the word after it when some of its
 * subcommands read ("migrate start"; "archive", whose next word is a table).
 */
static const char *
command_changes(const Command *c, int argc, char **argv)
{
	/* a subcommand only where some of them read: "index add" is just "index" */
	const char *sub =
		c->reads && c->subcommands && argc > 1 && word_in(c->subcommands, argv[1]) ? argv[1] : NULL;

	if (c->reads && (strcmp(c->reads, CMD_READS_ALL) == 0 || (sub && word_in(c->reads, sub))))
		return NULL;
	changes_text = sub ? pg_xasprintf("%s %s", c->name, sub) : pg_xstrdup(c->name);
	return changes_text;
}

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
		   "3 a check found a problem, 4 another pgpart is working on the table,\n"
		   "5 the server is a standby and the command changes things.\n");
}

int
main(int argc, char **argv)
{
	GlobalOpts g = {NULL, false, false, false, LOCK_POLICY_DEFAULT, false, 0, NULL, NULL};
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
		{
			g.command = commands[i].name;
			g.changes = command_changes(&commands[i], argc - first, argv + first);
			rc = commands[i].run(argc - first, argv + first, &g);
			free(changes_text);
			return rc;
		}
	log_error("unknown command \"%s\"", name);
	fprintf(stderr, "pgpart: hint: Try \"pgpart --help\" for the list of commands.\n");
	return EXIT_USAGE;
}
