/*
 * sqlscreen.c - a single-pass scanner over the rollup --where text; it rejects
 * rather than repairs, because the only safe fix of hostile SQL is no SQL.
 */
#include "core/sqlscreen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

SqlQuoteEnd
sqlscreen_quoted(const char *p, const char **end)
{
	char quote = *p;

	for (p++;; p++)
	{
		*end = p;
		if (*p == '\0')
			return SQLSCREEN_QUOTE_OPEN;
		if (*p == '\\')
			return SQLSCREEN_QUOTE_BACKSLASH;
		if (*p == quote)
		{
			if (p[1] != quote)
				return SQLSCREEN_QUOTE_CLOSED;
			p++;
		}
	}
}

bool
sqlscreen_expression(const char *text, char **why)
{
	const char *p;
	int depth = 0;
	bool blank = true;

	*why = NULL;
	if (strlen(text) > SQLSCREEN_MAX_LENGTH)
		return refuse_with(why, "it is longer than %d bytes", SQLSCREEN_MAX_LENGTH);
	for (p = text; *p; p++)
	{
		if (*p == '\\')
			return refuse_with(why, "a backslash is not allowed");
		if (*p == '\'' || *p == '"')
		{
			char quote = *p;
			SqlQuoteEnd e = sqlscreen_quoted(p, &p);

			if (e == SQLSCREEN_QUOTE_OPEN)
				return refuse_with(why, "a %s is not closed",
								   quote == '\'' ? "string literal" : "quoted name");
			if (e == SQLSCREEN_QUOTE_BACKSLASH)
				return refuse_with(why, "a backslash is not allowed");
			blank = false;
			continue;
		}
		if (*p == ';')
			return refuse_with(why, "a semicolon is not allowed");
		if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*') ||
			(p[0] == '*' && p[1] == '/'))
			return refuse_with(why, "comments are not allowed");
		if (*p == '$')
			return refuse_with(why, "a dollar sign is not allowed");
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			return refuse_with(why, "a closing parenthesis has no opening one");
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			blank = false;
	}
	if (depth > 0)
		return refuse_with(why, "a parenthesis is not closed");
	if (blank)
		return refuse_with(why, "it is empty");
	return true;
}
