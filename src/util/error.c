/*
 * error.c - filling a PgpError as an error travels up: the function that failed
 * sets the message, callers put their context in front (err_prefix), so one
 * line says what was being done and why it failed.
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void
err_init(PgpError *e)
{
	memset(e, 0, sizeof(*e));
}

void
err_clear(PgpError *e)
{
	free(e->message);
	free(e->detail);
	free(e->hint);
	err_init(e);
}

bool
err_is_set(const PgpError *e)
{
	return e->message != NULL;
}

void
err_set(PgpError *e, int exit_code, const char *fmt, ...)
{
	va_list ap;

	err_clear(e);
	va_start(ap, fmt);
	e->message = pg_xvasprintf(fmt, ap);
	va_end(ap);
	e->exit_code = exit_code;
}

/* a later detail or hint replaces an earlier one: the last word is the one that explains */
static void replace_text(char **slot, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
replace_text(char **slot, const char *fmt, va_list ap)
{
	free(*slot);
	*slot = pg_xvasprintf(fmt, ap);
}

void
err_detail(PgpError *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	replace_text(&e->detail, fmt, ap);
	va_end(ap);
}

void
err_hint(PgpError *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	replace_text(&e->hint, fmt, ap);
	va_end(ap);
}

void
err_prefix(PgpError *e, const char *fmt, ...)
{
	va_list ap;
	char *prefix;
	char *joined;

	va_start(ap, fmt);
	prefix = pg_xvasprintf(fmt, ap);
	va_end(ap);
	joined = pg_xasprintf("%s: %s", prefix, e->message ? e->message : "unknown error");
	free(prefix);
	free(e->message);
	e->message = joined;
	if (e->exit_code == 0)
		e->exit_code = EXIT_RUNTIME;
}
