/*
 * sqlscreen.h - the lexical check a user's SQL expression (rollup add
 * --where) passes before PostgreSQL ever parses it.
 *
 * PostgreSQL itself decides what the expression means (see rollup.h); this
 * only makes sure that the text, placed between the parentheses pgpart puts
 * around it, stays there: no semicolon, no comment, no dollar sign (dollar
 * quotes, parameters), no backslash (escape-string syntax would let a quote
 * hide from a simple scanner), parentheses balanced and never closed below
 * the level they started at.  Inside '...' literals and "..." identifiers
 * any character but a backslash is data.
 */
#ifndef PGPART_CORE_SQLSCREEN_H
#define PGPART_CORE_SQLSCREEN_H

#include <stdbool.h>

/* longest expression accepted, in bytes */
#define SQLSCREEN_MAX_LENGTH 4000

/* false with a malloc'd *why (caller frees) when text must not be used */
bool sqlscreen_expression(const char *text, char **why);

/*
 * How a '...' literal or "..." name that opens at *p ends: *end is its
 * closing quote when CLOSED (a doubled quote is the character itself), or
 * where the scan stopped.  Shared with the plan check, which screens whole
 * queries the same way.
 */
typedef enum SqlQuoteEnd
{
	SQLSCREEN_QUOTE_CLOSED,
	SQLSCREEN_QUOTE_OPEN,	  /* the text ended inside it */
	SQLSCREEN_QUOTE_BACKSLASH /* escape-string syntax could hide a quote */
} SqlQuoteEnd;
SqlQuoteEnd sqlscreen_quoted(const char *p, const char **end);

#endif
