/*
 * options.c - parses a command's option table (options.h) with getopt_long,
 * with opterr = 0 so that getopt's own message (which names the command as if
 * it were the program) never appears: each mistake is one "pgpart: error:"
 * line and one hint, generated from the table.
 */
#include "cli/options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/duration.h"
#include "core/throttle.h"
#include "pg/standby.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strbuf.h"

/* getopt_long's val of the k-th entry of the combined table */
#define LONG_VAL_BASE 1000

static bool help_requested;

/* the options every command takes, pointing into g */
static int
common_options(GlobalOpts *g, CliOption *out)
{
	CliOption common[] = {
		CLI_STRING("dbname", 'd', &g->conninfo),
		CLI_TRUE("dry-run", 0, &g->dry_run),
		{"wait", 0, CLI_OPT_DURATION_OPTIONAL, &g->wait_ms, 1, INT_MAX, "use e.g. 10min, or no value: as long as it takes", NULL, NULL, NULL},
		CLI_TRUE("json", 0, &g->json),
		{"verbose", 'v', CLI_OPT_COUNT, &log_verbosity, 0, 0, NULL, NULL, NULL, NULL},
		{"lock-timeout", 0, CLI_OPT_DURATION, &g->lock.lock_timeout_ms, 1, INT_MAX,
		 "use e.g. 500ms or 2s", NULL, NULL, &g->lock_timeout_given},
		CLI_INT("retries", 0, &g->lock.max_attempts, 1, 1000),
		CLI_TRUE("help", 0, &help_requested),
	};
	int n = (int) (sizeof(common) / sizeof(common[0]));

	memcpy(out, common, sizeof(common));
	return n;
}

static void
describe_choices(StrBuf *sb, const char *choices)
{
	const char *p = choices;

	while (*p)
	{
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t) (bar - p) : strlen(p);

		if (p != choices)
			sb_append(sb, bar ? ", " : " or ");
		sb_appendf(sb, "%.*s", (int) n, p);
		p += n;
		if (*p == '|')
			p++;
	}
}

static int
invalid_value(const CliSpec *spec, const CliOption *o, const char *value)
{
	StrBuf expect;
	int rc;

	sb_init(&expect);
	if (o->expect)
		sb_append(&expect, o->expect);
	else if (o->kind == CLI_OPT_CHOICE)
		describe_choices(&expect, o->choices);
	else
		sb_appendf(&expect, "%.15g to %.15g", o->min, o->max);
	rc = cli_usage_error(spec->command, "invalid --%s \"%s\" (%s)", o->name, value, expect.data);
	sb_free(&expect);
	return rc;
}

static bool
choice_index(const char *choices, const char *value, int *index)
{
	const char *p = choices;
	int k = 0;

	while (*p)
	{
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t) (bar - p) : strlen(p);

		if (strlen(value) == n && strncmp(p, value, n) == 0)
		{
			*index = k;
			return true;
		}
		p += n;
		if (*p == '|')
			p++;
		k++;
	}
	return false;
}

static bool
parse_int(const char *text, int min, int max, int *value)
{
	char *end;
	long v;

	if (*text == '\0')
		return false;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*value = (int) v;
	return true;
}

/* stores value into o's target; false when it is not a valid value */
static bool
store(const CliOption *o, char *value)
{
	char *end;

	switch (o->kind)
	{
		case CLI_OPT_TRUE:
			*(bool *) o->target = true;
			return true;
		case CLI_OPT_FALSE:
			*(bool *) o->target = false;
			return true;
		case CLI_OPT_COUNT:
			++*(int *) o->target;
			return true;
		case CLI_OPT_STRING:
			*(const char **) o->target = value;
			return true;
		case CLI_OPT_INT:
			return parse_int(value, (int) o->min, (int) o->max, (int *) o->target);
		case CLI_OPT_INT64:
		{
			long long v;

			errno = 0;
			v = strtoll(value, &end, 10);
			if (*value == '\0' || *end != '\0' || errno != 0 || (double) v < o->min ||
				(double) v > o->max)
				return false;
			*(int64_t *) o->target = v;
			return true;
		}
		case CLI_OPT_NUMBER:
		{
			double v = strtod(value, &end);

			if (*value == '\0' || *end != '\0' || !isfinite(v) || v <= o->min || v > o->max)
				return false;
			*(double *) o->target = v;
			return true;
		}
		case CLI_OPT_DURATION_OPTIONAL:
			if (value == NULL)
			{
				*(int *) o->target = -1;
				return true;
			}
			/* fall through */
		case CLI_OPT_DURATION:
		case CLI_OPT_DURATION64:
		{
			int64_t ms;

			if (!duration_parse_ms(value, &ms) || (double) ms < o->min || (double) ms > o->max)
				return false;
			if (o->kind == CLI_OPT_DURATION64)
				*(int64_t *) o->target = ms;
			else
				*(int *) o->target = (int) ms;
			return true;
		}
		case CLI_OPT_DATE:
			return cal_date_parse(value, (CivilDate *) o->target);
		case CLI_OPT_UNIT:
			return cal_unit_parse(value, (CalUnit *) o->target);
		case CLI_OPT_CHOICE:
			return choice_index(o->choices, value, (int *) o->target);
		case CLI_OPT_CALL:
			return o->parse(value, o->target);
	}
	return false;
}

static bool
takes_value(const CliOption *o)
{
	return o->kind != CLI_OPT_TRUE && o->kind != CLI_OPT_FALSE && o->kind != CLI_OPT_COUNT;
}

/* the option as the user wrote it, for the unknown-option message */
static const char *
offending(int argc, char **argv, int c)
{
	static char letter[3];

	if (c > 0 && c < 256)
	{
		letter[0] = '-';
		letter[1] = (char) c;
		letter[2] = '\0';
		return letter;
	}
	if (optind > 0 && optind <= argc)
		return argv[optind - 1];
	return "?";
}

int
cli_parse(const CliSpec *spec, int argc, char **argv, GlobalOpts *g, int *first)
{
	CliOption *all;
	struct option *longs;
	StrBuf shorts;
	int n = 0, k, c, rc = CLI_PARSED;
	const CliOption *o;

	for (o = spec->options; o && o->name; o++)
		n++;
	all = pg_xcalloc((size_t) n + 16, sizeof(CliOption));
	k = common_options(g, all);
	if (n)
		memcpy(all + k, spec->options, (size_t) n * sizeof(CliOption));
	n += k;
	longs = pg_xcalloc((size_t) n + 1, sizeof(struct option));
	sb_init(&shorts);
	/* "+": stop at the first argument; ":": a missing value is told apart */
	sb_append(&shorts, spec->stop_at_argument ? "+:" : ":");
	for (k = 0; k < n; k++)
	{
		longs[k].name = all[k].name;
		longs[k].has_arg = all[k].kind == CLI_OPT_DURATION_OPTIONAL ? optional_argument
						   : takes_value(&all[k])					 ? required_argument
																	 : no_argument;
		longs[k].val = LONG_VAL_BASE + k;
		if (all[k].letter)
			sb_appendf(&shorts, "%c%s", all[k].letter, takes_value(&all[k]) ? ":" : "");
	}
	help_requested = false;
	opterr = 0;
	optind = 0;
	while (rc == CLI_PARSED && (c = getopt_long(argc, argv, shorts.data, longs, NULL)) != -1)
	{
		const CliOption *hit = NULL;

		if (c == '?')
		{
			rc = cli_usage_error(spec->command, "unrecognized option \"%s\"",
								 offending(argc, argv, optopt));
			break;
		}
		if (c == ':')
		{
			rc = cli_usage_error(spec->command, "option \"%s\" needs a value",
								 offending(argc, argv, optopt));
			break;
		}
		if (c >= LONG_VAL_BASE && c < LONG_VAL_BASE + n)
			hit = &all[c - LONG_VAL_BASE];
		else
			for (k = 0; k < n && hit == NULL; k++)
				if (all[k].letter == c)
					hit = &all[k];
		if (hit == NULL)
		{
			rc = cli_usage_error(spec->command, "unrecognized option \"%s\"",
								 offending(argc, argv, c));
			break;
		}
		if (hit->target == &g->conninfo)
			cli_set_conninfo(g, optarg);
		else if (!store(hit, optarg))
			rc = invalid_value(spec, hit, optarg);
		else if (hit->given)
			*hit->given = true;
		if (rc == CLI_PARSED && help_requested)
		{
			if (spec->help)
				printf("%s%s", spec->help, CLI_COMMON_HELP);
			else if (spec->print_help)
				spec->print_help();
			rc = EXIT_OK;
		}
	}
	*first = optind;
	sb_free(&shorts);
	free(longs);
	free(all);
	return rc;
}

int
cli_parse_args(const CliSpec *spec, int argc, char **argv, GlobalOpts *g, int n,
			   const char *what, int *first)
{
	int rc = cli_parse(spec, argc, argv, g, first);

	if (rc != CLI_PARSED)
		return rc;
	if (argc - *first < n)
		return cli_usage_error(spec->command, "%s", what);
	if (argc - *first > n)
		return cli_usage_error(spec->command, "unexpected argument \"%s\"", argv[*first + n]);
	return CLI_PARSED;
}

int
cli_parse_table(const CliSpec *spec, int argc, char **argv, GlobalOpts *g, const char **table)
{
	int first, rc = cli_parse(spec, argc, argv, g, &first);

	if (rc != CLI_PARSED)
		return rc;
	*table = first < argc ? argv[first++] : NULL;
	if (first < argc)
		return cli_usage_error(spec->command, "unexpected argument \"%s\"", argv[first]);
	return CLI_PARSED;
}

int
cli_run_connected(const GlobalOpts *g, CliBody body, void *arg)
{
	PgConn pc = {0};
	PgpError err;
	int rc;

	err_init(&err);
	pc.worklock_wait_ms = g->wait_ms;
	pc.command = g->changes ? g->changes : g->command;
	if (!pgc_connect(&pc, g->conninfo, g->dry_run, &err) ||
		(g->changes && !standby_refuse(&pc, g->changes, &err)))
		rc = cli_fail(&err);
	else
	{
		rc = body(&pc, g, arg, &err);
		if (rc == CLI_FAILED)
			rc = cli_fail(&err);
	}
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}

int
cli_subcommand(const char *command, int argc, char **argv, const char *const *names)
{
	StrBuf list;
	int i;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return -2;
	for (i = 0; argc >= 2 && names[i]; i++)
		if (strcmp(names[i], argv[1]) == 0)
			return i;
	sb_init(&list);
	for (i = 0; names[i]; i++)
	{
		if (i > 0)
			sb_append(&list, names[i + 1] ? ", " : " or ");
		sb_append(&list, names[i]);
	}
	if (argc < 2)
		cli_usage_error(command, "no subcommand given (%s)", list.data);
	else
		cli_usage_error(command, "unknown subcommand \"%s\" (use %s)", argv[1], list.data);
	sb_free(&list);
	return -1;
}

bool
cli_parse_byterate(const char *value, void *target)
{
	return byterate_parse(value, (double *) target);
}
