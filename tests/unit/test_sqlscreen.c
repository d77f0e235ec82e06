/* sqlscreen_expression: what a --where expression may look like before PostgreSQL parses it */
#include <stdlib.h>
#include <string.h>

#include "core/sqlscreen.h"
#include "tap.h"

static void
good(const char *text)
{
	char *why = NULL;

	ok(sqlscreen_expression(text, &why), "accepted: %s%s%s", text, why ? " -- " : "",
	   why ? why : "");
	free(why);
}

static void
bad(const char *text, const char *needle)
{
	char *why = NULL;

	ok(!sqlscreen_expression(text, &why), "refused: %s", text);
	ok(why && strstr(why, needle), "reason mentions \"%s\" (got: %s)", needle, why ? why : "");
	free(why);
}

int
main(void)
{
	char *long_text;

	good("status = 'paid'");
	good("amount > 0 AND (status IN ('a', 'b') OR \"Odd Name\" IS NULL)");
	good("note <> 'it''s; -- not a comment /* nor this */ $1 ('");
	good("\"we\"\"ird;--\" = 1");
	good("lower(status) LIKE 'p%'");
	good("(((true)))");

	/* the attack of issue 14: close the filter's parenthesis and comment out the rest */
	bad("status = 'paid') OR true --", "closing parenthesis");
	bad("true) OR (true", "closing parenthesis");
	bad("status = 'paid' --", "comments");
	bad("status = 'paid' /* x */", "comments");
	bad("status = 'paid' */", "comments");
	bad("true; DROP TABLE x", "semicolon");
	bad("status = $$paid$$", "dollar");
	bad("amount > $1", "dollar");
	bad("status = E'\\' OR true --'", "backslash");
	bad("status = 'a\\'", "backslash");
	bad("\"a\\b\" = 1", "backslash");
	bad("status = 'paid", "string literal is not closed");
	bad("\"status = 1", "quoted name is not closed");
	bad("(status = 'paid'", "parenthesis is not closed");
	bad("", "empty");
	bad("  \n\t", "empty");
	long_text = malloc(SQLSCREEN_MAX_LENGTH + 2);
	memset(long_text, 'a', SQLSCREEN_MAX_LENGTH + 1);
	long_text[SQLSCREEN_MAX_LENGTH + 1] = '\0';
	bad(long_text, "longer than");
	free(long_text);
	return done_testing();
}
