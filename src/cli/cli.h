/*
 * cli.h - what every pgpart command shares: the global options, the command
 * table's entry, the --json output, and turning an error into a message and
 * an exit code.
 */
#ifndef PGPART_CLI_CLI_H
#define PGPART_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "core/schedule.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/lock.h"

typedef struct GlobalOpts
{
	const char *conninfo; /* -d; NULL: libpq's environment and service defaults */
	bool password_in_argv; /* -d held a password (masked in argv since) */
	bool dry_run;
	bool json;
	LockPolicy lock;
	bool lock_timeout_given; /* --lock-timeout was given (vacuum keeps its own default otherwise) */
	int wait_ms; /* --wait: for another pgpart on the same table (PgConn.worklock_wait_ms) */
	/*
	 * The command as typed ("migrate start") when it changes something, from
	 * the command table (Command.reads): cli_run_connected refuses it on a
	 * standby.  NULL: it only reads, and runs on a standby too.
	 */
	const char *changes;
	const char *command; /* its name ("run"), for the change log when changes is NULL */
} GlobalOpts;

#define CLI_COMMON_HELP                                                        \
	"\nConnection and output options:\n"                                        \
	"  -d, --dbname=CONNINFO    database to connect to: a name, a connection string\n" \
	"                           or a URI (default: PG* environment variables)\n"  \
	"      --dry-run            print the SQL that would change something; change nothing\n" \
	"      --wait[=DUR]         when another pgpart works on the table: wait for it\n" \
	"                           (for at most DUR), instead of exiting with status 4\n" \
	"      --json               machine-readable output on stdout\n"              \
	"  -v, --verbose            more messages on stderr (-v -v: every statement)\n" \
	"      --lock-timeout=DUR   longest wait for one lock, e.g. 20ms, 2s (default 50ms)\n" \
	"      --retries=N          attempts at a lock (default 30; with the backoff of\n" \
	"                           0.1 s doubling to 2 s, about 25 to 55 s in all); an\n" \
	"                           attempt is skipped, not queued, while another session\n" \
	"                           holds a conflicting lock for long\n" \
	"      --help               show this help and exit\n"

typedef struct Command
{
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv, GlobalOpts *g);
	/*
	 * What of it only reads and so runs on a standby: NULL nothing (refused
	 * on a standby, also with --dry-run), CMD_READS_ALL the whole command,
	 * else its read-only subcommands, space-separated ("plan status").  A
	 * command whose options decide (policy TABLE shows, with options sets)
	 * clears GlobalOpts.changes itself when it only reads.
	 */
	const char *reads;
	/*
	 * Every subcommand, space-separated, or NULL when the word after the
	 * command is an argument ("archive revenues" archives the table).
	 */
	const char *subcommands;
} Command;

#define CMD_READS_ALL "*"

/* -d: keeps a copy of arg in g and masks a password in arg (argv) itself */
void cli_set_conninfo(GlobalOpts *g, char *arg);
/* "pgpart: error: ...", a pointer to --help, EXIT_USAGE */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* prints the error, returns its exit code */
int cli_fail(const PgpError *err);
/* --json: o on stdout, indented, with a newline after it; takes o's reference */
void cli_print_json(json_t *o);
/*
 * The notes, warnings and names an operation returns, printed the one way
 * every command prints them: as a JSON array of strings (a new reference),
 * or as text lines, each item after prefix ("  note: ").
 */
json_t *cli_json_list(const NameList *l);
void cli_print_list(const char *prefix, const NameList *l);
/* --json: s, or null where the result has none */
json_t *cli_json_string_or_null(const char *s);
/* a table's intervals: [{"from": null, "interval": "quarter"}, {"from": "2027-04-01", ...}] */
json_t *cli_json_schedule(const IntervalSchedule *s);

int cmd_init(int argc, char **argv, GlobalOpts *g);
int cmd_create(int argc, char **argv, GlobalOpts *g);
int cmd_maintain(int argc, char **argv, GlobalOpts *g);
int cmd_status(int argc, char **argv, GlobalOpts *g);
int cmd_check(int argc, char **argv, GlobalOpts *g);
int cmd_index(int argc, char **argv, GlobalOpts *g);
int cmd_migrate(int argc, char **argv, GlobalOpts *g);
int cmd_rollup(int argc, char **argv, GlobalOpts *g);
int cmd_report(int argc, char **argv, GlobalOpts *g);
int cmd_move(int argc, char **argv, GlobalOpts *g);
int cmd_archive(int argc, char **argv, GlobalOpts *g);
int cmd_restore(int argc, char **argv, GlobalOpts *g);
int cmd_policy(int argc, char **argv, GlobalOpts *g);
int cmd_repartition(int argc, char **argv, GlobalOpts *g);
int cmd_split(int argc, char **argv, GlobalOpts *g);
int cmd_merge(int argc, char **argv, GlobalOpts *g);
/* vacuum, analyze and reindex: argv[0] says which */
int cmd_parallel(int argc, char **argv, GlobalOpts *g);
int cmd_run(int argc, char **argv, GlobalOpts *g);
int cmd_metrics(int argc, char **argv, GlobalOpts *g);
int cmd_log(int argc, char **argv, GlobalOpts *g);
int cmd_remote(int argc, char **argv, GlobalOpts *g);

#endif
