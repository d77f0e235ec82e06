/*
 * log.c - writes pgpart's messages to stderr in the format of PostgreSQL's
 * client programs, with a verbosity switch for --verbose and --quiet.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

int log_verbosity = 0;

static void
log_line(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "pgpart: %s: ", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define LOG_FN(name, level, min_verbosity)                                     \
	void name(const char *fmt, ...)                                            \
	{                                                                          \
		va_list ap;                                                            \
		if (log_verbosity < (min_verbosity))                                   \
			return;                                                            \
		va_start(ap, fmt);                                                     \
		log_line(level, fmt, ap);                                              \
		va_end(ap);                                                            \
	}

LOG_FN(log_error, "error", 0)
LOG_FN(log_warning, "warning", 0)
LOG_FN(log_hint, "hint", 0)
LOG_FN(log_info, "info", 1)
LOG_FN(log_debug, "debug", 2)

void
log_report(const PgpError *e)
{
	fprintf(stderr, "pgpart: error: %s\n", e->message ? e->message : "unknown error");
	if (e->detail)
		fprintf(stderr, "pgpart: detail: %s\n", e->detail);
	if (e->hint)
		fprintf(stderr, "pgpart: hint: %s\n", e->hint);
}
