/*
 * cli.c - the global options every command takes, the one way a usage error
 * is reported (an error line and a hint to the command's --help, exit 2), and
 * the one way a failed operation becomes messages and an exit code (cli_fail).
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/conninfo.h"
#include "core/duration.h"
#include "util/log.h"
#include "util/mem.h"

/* the -d in force; static so that it lives as long as the process */
static char *conninfo_copy;

void
cli_set_conninfo(GlobalOpts *g, char *arg)
{
	/*
	 * pgpart keeps a copy and masks the password in argv itself, which "ps"
	 * shows every local user for as long as "pgpart run" lives.
	 */
	free(conninfo_copy);
	conninfo_copy = pg_xstrdup(arg);
	g->conninfo = conninfo_copy;
	if (conninfo_mask_password(arg) > 0)
		g->password_in_argv = true;
}

int
cli_common_option(int c, char *arg, GlobalOpts *g)
{
	int64_t ms;

	switch (c)
	{
		case 'd':
			cli_set_conninfo(g, arg);
			return 1;
		case 'v':
			log_verbosity++;
			return 1;
		case OPT_DRY_RUN:
			g->dry_run = true;
			return 1;
		case OPT_JSON:
			g->json = true;
			return 1;
		case OPT_LOCK_TIMEOUT:
			if (!duration_parse_ms(arg, &ms) || ms < 1 || ms > INT_MAX)
			{
				cli_usage_error(NULL, "invalid --lock-timeout \"%s\" (use e.g. 500ms or 2s)", arg);
				return -1;
			}
			g->lock.lock_timeout_ms = (int) ms;
			return 1;
		case OPT_RETRIES:
			if (!cli_parse_int(arg, 1, 1000, &g->lock.max_attempts))
			{
				cli_usage_error(NULL, "invalid --retries \"%s\" (a number from 1 to 1000)", arg);
				return -1;
			}
			return 1;
		default:
			return 0;
	}
}

int
cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("pgpart: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (command)
		fprintf(stderr, "pgpart: hint: Try \"pgpart %s --help\" for more information.\n",
				command);
	else
		fprintf(stderr, "pgpart: hint: Try \"pgpart --help\" for more information.\n");
	return EXIT_USAGE;
}

int
cli_fail(const PgpError *err)
{
	log_report(err);
	return err->exit_code ? err->exit_code : EXIT_RUNTIME;
}

bool
cli_connect(const GlobalOpts *g, PgConn *pc, PgpError *err)
{
	return pgc_connect(pc, g->conninfo, g->dry_run, err);
}

int
cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}

bool
cli_parse_int(const char *text, int min, int max, int *value)
{
	char *end;
	long v;

	if (text == NULL || *text == '\0')
		return false;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*value = (int) v;
	return true;
}

int
cli_partition_option(int c, const char *arg, const char *command, PartitionArgs *pa)
{
	switch (c)
	{
		case 'c':
			pa->column = arg;
			return 1;
		case 'i':
			if (!cal_unit_parse(arg, &pa->unit))
			{
				cli_usage_error(command,
								"invalid interval \"%s\" (use day, week, month, quarter or year)",
								arg);
				return -1;
			}
			return 1;
		case OPT_START:
			if (!cal_date_parse(arg, &pa->start))
			{
				cli_usage_error(command, "invalid --start date \"%s\" (use YYYY-MM-DD)", arg);
				return -1;
			}
			pa->has_start = true;
			return 1;
		case OPT_PREMAKE:
			if (!cli_parse_int(arg, 0, 1000, &pa->premake))
			{
				cli_usage_error(command, "invalid --premake \"%s\" (0 to 1000)", arg);
				return -1;
			}
			return 1;
		case OPT_TIME_ZONE:
			pa->time_zone = arg;
			return 1;
		default:
			return 0;
	}
}
