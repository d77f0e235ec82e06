/*
 * cli.c - what every command's CLI shares outside the option table: how -d
 * is kept (its password masked in argv), the one way a usage error is
 * reported (an error line and a hint to the command's --help, exit 2), and the
 * one way a failed operation becomes messages and an exit code (cli_fail),
 * and how --json output and a result's lists of notes are written.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/conninfo.h"
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

void
cli_print_json(json_t *o)
{
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
}

json_t *
cli_json_list(const NameList *l)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->items[i]));
	return a;
}

void
cli_print_list(const char *prefix, const NameList *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		printf("%s%s\n", prefix, l->items[i]);
}

json_t *
cli_json_string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *
cli_json_schedule(const IntervalSchedule *s)
{
	json_t *a = json_array();
	int i;

	json_array_append_new(a, json_pack("{s:n, s:s}", "from", "interval", cal_unit_name(s->first)));
	for (i = 0; i < s->n; i++)
	{
		char from[16];

		cal_date_format(s->changes[i].from, from);
		json_array_append_new(a, json_pack("{s:s, s:s}", "from", from, "interval",
										   cal_unit_name(s->changes[i].unit)));
	}
	return a;
}
