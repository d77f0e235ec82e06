/*
 * test_collist - the column list of "pgpart index add": SQL's folding and
 * quoting rules, and refusal of anything that is not a plain column name.
 */
#include <stdlib.h>
#include <string.h>

#include "core/collist.h"
#include "tap.h"

/* want: the names joined by '|', or NULL when the text must be refused */
static void
check(const char *text, const char *want)
{
	NameList l;
	char *why = NULL;
	bool parsed = collist_parse(text, &l, &why);

	if (want == NULL)
	{
		ok(!parsed, "\"%s\" is refused", text);
		ok(!parsed && why != NULL && why[0] != '\0', "\"%s\": with a reason (%s)", text,
		   why ? why : "none");
	}
	else
	{
		char joined[256] = "";
		int i;

		for (i = 0; parsed && i < l.n; i++)
		{
			if (i > 0)
				strcat(joined, "|");
			strcat(joined, l.items[i]);
		}
		ok(parsed, "\"%s\" is accepted", text);
		is_str(parsed ? joined : NULL, want, "\"%s\": the names", text);
		namelist_free(&l);
	}
	free(why);
}

int
main(void)
{
	check("org_id", "org_id");
	check("(org_id, property_id, occurred_at)", "org_id|property_id|occurred_at");
	check("  ( org_id ,occurred_at )  ", "org_id|occurred_at");
	check("Org_ID, OCCURRED_AT", "org_id|occurred_at");
	check("\"Mixed Case\", org_id", "Mixed Case|org_id");
	check("\"a \"\"quoted\"\" name\"", "a \"quoted\" name");
	check("\"with,comma\"", "with,comma");
	check("col$1, _x", "col$1|_x");

	check("", NULL);
	check("()", NULL);
	check("org_id,", NULL);
	check("(org_id", NULL);
	check("org_id)", NULL);
	check("org_id desc", NULL);
	check("lower(name)", NULL);
	check("org_id; DROP TABLE x", NULL);
	check("\"unterminated", NULL);
	check("\"\"", NULL);
	check("1abc", NULL);
	check("a -- comment", NULL);

	/* one name at a time, as rollup's --group-by reads them */
	{
		const char *p = "\"Q\"\"x\" rest";
		char *why = NULL;
		char *name = collist_parse_name(&p, &why);

		is_str(name, "Q\"x", "collist_parse_name: one quoted name");
		is_str(p, " rest", "collist_parse_name: advanced past it");
		free(name);
		free(why);
	}
	return done_testing();
}
