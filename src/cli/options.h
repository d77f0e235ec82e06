/*
 * options.h - a command's options as one table, parsed in one place.
 *
 * Each command lists its options once (name, letter, kind, where the value
 * goes, the range a value must be in, what a valid value looks like), as
 * PostgreSQL's option_parse_int and git's parse_options do.  The parser adds
 * the options every command takes (-d, --dry-run, --wait, --json, -v,
 * --lock-timeout, --retries, --help), so every command rejects a bad value with the same
 * message ("invalid --jobs "0" (1 to 64)"), an unknown option with exactly
 * one error line and the hint to --help, and prints its help the same way.
 */
#ifndef PGPART_CLI_OPTIONS_H
#define PGPART_CLI_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"

typedef enum CliOptKind
{
	CLI_OPT_TRUE,	  /* no value: *(bool *) target = true */
	CLI_OPT_FALSE,	  /* no value: *(bool *) target = false */
	CLI_OPT_COUNT,	  /* no value: ++*(int *) target */
	CLI_OPT_STRING,	  /* *(const char **) target = the value as given */
	CLI_OPT_INT,	  /* *(int *) target, from min to max */
	CLI_OPT_INT64,	  /* *(int64_t *) target, from min to max */
	CLI_OPT_NUMBER,	  /* *(double *) target, above min (exclusive) and at most max */
	CLI_OPT_DURATION, /* *(int *) target, in milliseconds ("500ms", "2s", "1h"), min..max */
	CLI_OPT_DURATION64, /* the same into *(int64_t *) target: up to duration_parse_ms's 30 days */
	CLI_OPT_DURATION_OPTIONAL, /* CLI_OPT_DURATION whose value may be left out: then -1 */
	CLI_OPT_DATE,	  /* *(CivilDate *) target, YYYY-MM-DD */
	CLI_OPT_UNIT,	  /* *(CalUnit *) target: day, week, month, quarter, year */
	CLI_OPT_CHOICE,	  /* *(int *) target = index of the value in choices, "a|b|c" */
	CLI_OPT_CALL	  /* parse(value, target) says whether it is valid */
} CliOptKind;

typedef struct CliOption
{
	const char *name; /* the long name, without "--"; NULL ends a table */
	char letter;	  /* the short option, 0: none */
	CliOptKind kind;
	void *target;
	double min, max;
	/* what a valid value looks like, for the message: "1 to 64"; NULL: made from min/max */
	const char *expect;
	const char *choices;					  /* CLI_OPT_CHOICE */
	bool (*parse)(const char *value, void *target); /* CLI_OPT_CALL */
	bool *given; /* when not NULL: set once the option is given */
} CliOption;

#define CLI_TRUE(name, letter, target) {(name), (letter), CLI_OPT_TRUE, (target), 0, 0, NULL, NULL, NULL, NULL}
#define CLI_FALSE(name, letter, target) {(name), (letter), CLI_OPT_FALSE, (target), 0, 0, NULL, NULL, NULL, NULL}
#define CLI_STRING(name, letter, target) {(name), (letter), CLI_OPT_STRING, (target), 0, 0, NULL, NULL, NULL, NULL}
#define CLI_INT(name, letter, target, lo, hi) {(name), (letter), CLI_OPT_INT, (target), (lo), (hi), NULL, NULL, NULL, NULL}
#define CLI_INT64(name, letter, target, lo, hi, expect) {(name), (letter), CLI_OPT_INT64, (target), (lo), (hi), (expect), NULL, NULL, NULL}
#define CLI_NUMBER(name, letter, target, above, hi, expect) {(name), (letter), CLI_OPT_NUMBER, (target), (above), (hi), (expect), NULL, NULL, NULL}
#define CLI_DURATION(name, letter, target, lo_ms, hi_ms, expect) {(name), (letter), CLI_OPT_DURATION, (target), (lo_ms), (hi_ms), (expect), NULL, NULL, NULL}
#define CLI_DURATION64(name, letter, target, lo_ms, hi_ms, expect) {(name), (letter), CLI_OPT_DURATION64, (target), (lo_ms), (hi_ms), (expect), NULL, NULL, NULL}
#define CLI_DATE(name, letter, target, given) {(name), (letter), CLI_OPT_DATE, (target), 0, 0, "YYYY-MM-DD", NULL, NULL, (given)}
#define CLI_UNIT(name, letter, target) {(name), (letter), CLI_OPT_UNIT, (target), 0, 0, "day, week, month, quarter or year", NULL, NULL, NULL}
#define CLI_CHOICE(name, letter, target, choices) {(name), (letter), CLI_OPT_CHOICE, (target), 0, 0, NULL, (choices), NULL, NULL}
#define CLI_CALL(name, letter, target, parse, expect) {(name), (letter), CLI_OPT_CALL, (target), 0, 0, (expect), NULL, (parse), NULL}
#define CLI_END {NULL, 0, CLI_OPT_TRUE, NULL, 0, 0, NULL, NULL, NULL, NULL}

/* how create and migrate partition a table: --column, --interval, --start, --premake, --time-zone */
#define CLI_PARTITION_OPTIONS(pa)                                              \
	CLI_STRING("column", 'c', &(pa)->column), CLI_UNIT("interval", 'i', &(pa)->unit), \
		CLI_DATE("start", 0, &(pa)->start, &(pa)->has_start),                  \
		CLI_INT("premake", 0, &(pa)->premake, 0, 1000),                        \
		CLI_STRING("time-zone", 0, &(pa)->time_zone)

#define CLI_PARTITION_HELP                                                     \
	"  -c, --column=COL         the partition key: a timestamptz, timestamp or date column\n" \
	"  -i, --interval=UNIT      day, week, month, quarter (default) or year\n" \
	"      --start=YYYY-MM-DD   first partition's period (default: today)\n"  \
	"      --premake=N          periods made ahead of the current one (default 4)\n" \
	"      --time-zone=TZ       zone of the boundaries of a timestamptz key (default UTC)\n"

/*
 * The health limits of a long copy (core/throttle.h HealthArgs): pause while
 * a standby lags, the server writes WAL fast, a transaction is open long, or
 * the operator's probe says writers suffer
 */
bool cli_parse_byterate(const char *value, void *target);
#define CLI_HEALTH_OPTIONS(h)                                                  \
	CLI_DURATION("max-lag", 0, &(h)->max_lag_ms, 1, INT_MAX, "e.g. 5s, 500ms"), \
		CLI_CALL("max-wal-rate", 0, &(h)->max_wal_rate, cli_parse_byterate,   \
				 "e.g. 50MB/s, 512kB/s"),                                      \
		CLI_DURATION64("max-xact-age", 0, &(h)->max_xact_age_ms, 1, (double) INT64_MAX, \
					   "e.g. 10min, 30s"),                                     \
		CLI_STRING("probe", 0, &(h)->probe),                                   \
		CLI_DURATION64("max-probe", 0, &(h)->max_probe_ms, 1, (double) INT64_MAX, "e.g. 20ms")

#define CLI_HEALTH_HELP                                                        \
	"      --max-lag=DURATION   pause while a standby replays more than this behind\n" \
	"      --max-wal-rate=RATE  pause while the server writes more WAL than this\n" \
	"                           (e.g. 50MB/s)\n"                               \
	"      --max-xact-age=DURATION  pause while a transaction is open longer than this\n" \
	"      --probe=SCHEMA.FUNCTION  a function of yours without arguments that returns\n" \
	"                           milliseconds (e.g. a write's latency); with --max-probe\n" \
	"      --max-probe=DURATION pause while the probe returns more than this\n"

/* what cli_parse returns when the command should go on */
#define CLI_PARSED (-1)

typedef struct CliSpec
{
	const char *command; /* as in "pgpart COMMAND --help", e.g. "migrate"; NULL: pgpart's own */
	const char *help;	 /* printed by --help, before the common options */
	const CliOption *options;
	void (*print_help)(void); /* instead of help, when help is NULL */
	bool stop_at_argument;	  /* pgpart's own options end at the command's name */
} CliSpec;

/*
 * Parses argv (argv[0] is the command or subcommand) with spec's options and
 * the common ones into their targets and g.  Returns CLI_PARSED with the
 * first positional argument at argv[*first]; otherwise the exit code to end
 * with: EXIT_OK after --help, EXIT_USAGE after one error line and the hint.
 */
int cli_parse(const CliSpec *spec, int argc, char **argv, GlobalOpts *g, int *first);

/*
 * cli_parse for a command that takes exactly n arguments: fewer give the
 * usage error "what", more "unexpected argument" (exit 2).
 */
int cli_parse_args(const CliSpec *spec, int argc, char **argv, GlobalOpts *g, int n,
				   const char *what, int *first);

/*
 * cli_parse for a command that takes at most one argument, a table (*table
 * NULL without it: every managed table); more give "unexpected argument".
 */
int cli_parse_table(const CliSpec *spec, int argc, char **argv, GlobalOpts *g, const char **table);

/*
 * The part of a command that needs the database: connects (-d, or libpq's
 * environment), refuses a command that changes things (g->changes) on a
 * standby before anything runs, runs body, turns a failure into its message
 * and exit code, disconnects.  Written once here so that no command has its own copy.
 * body returns the exit code, or CLI_FAILED when err says what went wrong
 * (it is printed, and its exit code returned).
 */
#define CLI_FAILED (-1)
typedef int (*CliBody)(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err);
int cli_run_connected(const GlobalOpts *g, CliBody body, void *arg);

/*
 * A command of subcommands ("migrate start"): the index in names (a
 * NULL-terminated list) of argv[1], or -1 after the usage error (none given,
 * or an unknown one, listing them).  "--help" as argv[1] gives -2.
 */
int cli_subcommand(const char *command, int argc, char **argv, const char *const *names);

#endif
