/*
 * cli.h - what every pgpart command shares: the global options, connecting,
 * and turning an error into a message and an exit code.
 */
#ifndef PGPART_CMD_CLI_H
#define PGPART_CMD_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "core/calendar.h"
#include "core/partspec.h"
#include "pg/conn.h"
#include "pg/lock.h"

typedef struct GlobalOpts
{
	const char *conninfo; /* -d; NULL: libpq's environment and service defaults */
	bool password_in_argv; /* -d held a password (masked in argv since) */
	bool dry_run;
	bool json;
	LockPolicy lock;
} GlobalOpts;

enum
{
	OPT_DRY_RUN = 1000,
	OPT_JSON,
	OPT_HELP,
	OPT_LOCK_TIMEOUT,
	OPT_RETRIES,
	OPT_VERSION,
	OPT_START, /* the partitioning options shared by create and migrate */
	OPT_PREMAKE,
	OPT_TIME_ZONE,
	OPT_FIRST_COMMAND_OPTION /* commands number their own options from here */
};


#define CLI_PARTITION_LONG_OPTIONS                                             \
	{"column", required_argument, NULL, 'c'},                                  \
		{"interval", required_argument, NULL, 'i'},                            \
		{"start", required_argument, NULL, OPT_START},                         \
		{"premake", required_argument, NULL, OPT_PREMAKE},                     \
		{"time-zone", required_argument, NULL, OPT_TIME_ZONE}
#define CLI_PARTITION_SHORT_OPTIONS "c:i:"

/* 1: handled; 0: not a partitioning option; -1: invalid (reported, exit 2) */
int cli_partition_option(int c, const char *arg, const char *command, PartitionArgs *pa);

/* spread into each command's long option table */
#define CLI_COMMON_LONG_OPTIONS                                                \
	{"dbname", required_argument, NULL, 'd'},                                  \
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},                           \
		{"json", no_argument, NULL, OPT_JSON},                                 \
		{"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, OPT_HELP}, \
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},           \
		{"retries", required_argument, NULL, OPT_RETRIES}
#define CLI_COMMON_SHORT_OPTIONS "d:v"

#define CLI_COMMON_HELP                                                        \
	"\nConnection and output options:\n"                                        \
	"  -d, --dbname=CONNINFO    database to connect to: a name, a connection string\n" \
	"                           or a URI (default: PG* environment variables)\n"  \
	"      --dry-run            print the SQL that would change something; change nothing\n" \
	"      --json               machine-readable output on stdout\n"              \
	"  -v, --verbose            more messages on stderr (-v -v: every statement)\n" \
	"      --lock-timeout=DUR   longest wait for one lock, e.g. 500ms, 2s (default 1s)\n" \
	"      --retries=N          attempts when a lock is not granted (default 10)\n" \
	"      --help               show this help and exit\n"

typedef struct Command
{
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv, GlobalOpts *g);
} Command;

/*
 * Handles an option every command takes.  Returns 1 if it was one, 0 if not,
 * -1 if its value was invalid (a message was printed).
 */
int cli_common_option(int c, char *arg, GlobalOpts *g);
/* -d: keeps a copy of arg in g and masks a password in arg (argv) itself */
void cli_set_conninfo(GlobalOpts *g, char *arg);
/* "pgpart: error: ...", a pointer to --help, EXIT_USAGE */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* prints the error, returns its exit code */
int cli_fail(const PgpError *err);
bool cli_connect(const GlobalOpts *g, PgConn *pc, PgpError *err);
/* getopt_long over a command's argv; resets getopt state first */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
bool cli_parse_int(const char *text, int min, int max, int *value);

int cmd_init(int argc, char **argv, GlobalOpts *g);
int cmd_create(int argc, char **argv, GlobalOpts *g);
int cmd_maintain(int argc, char **argv, GlobalOpts *g);
int cmd_status(int argc, char **argv, GlobalOpts *g);
int cmd_index(int argc, char **argv, GlobalOpts *g);
int cmd_migrate(int argc, char **argv, GlobalOpts *g);
int cmd_rollup(int argc, char **argv, GlobalOpts *g);
int cmd_report(int argc, char **argv, GlobalOpts *g);
int cmd_move(int argc, char **argv, GlobalOpts *g);
int cmd_archive(int argc, char **argv, GlobalOpts *g);
int cmd_restore(int argc, char **argv, GlobalOpts *g);
int cmd_policy(int argc, char **argv, GlobalOpts *g);
/* vacuum, analyze and reindex: argv[0] says which */
int cmd_parallel(int argc, char **argv, GlobalOpts *g);
int cmd_run(int argc, char **argv, GlobalOpts *g);
int cmd_metrics(int argc, char **argv, GlobalOpts *g);

#endif
