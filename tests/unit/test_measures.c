/* measures_parse: the aggregates a rollup may keep */
#include <stdlib.h>
#include <string.h>

#include "core/measures.h"
#include "tap.h"

static void
ok_parse(const char *text, const char *names)
{
	MeasureList l;
	char *why = NULL;
	char got[256] = "";
	int i;

	ok(measures_parse(text, &l, &why), "parses: %s", text);
	for (i = 0; i < l.n; i++)
	{
		if (i)
			strcat(got, " ");
		strcat(got, l.items[i].name);
	}
	is_str(got, names, "names of %s", text);
	measures_free(&l);
	free(why);
}

static void
bad(const char *text, const char *needle)
{
	MeasureList l;
	char *why = NULL;

	ok(!measures_parse(text, &l, &why), "refused: %s", text);
	ok(why && strstr(why, needle), "reason mentions \"%s\" (got: %s)", needle, why ? why : "");
	free(why);
}

int
main(void)
{
	ok_parse("sum(amount), count(*)", "sum_amount count");
	ok_parse("  SUM( Amount ) ,COUNT(*),max(\"Net Amount\")", "sum_amount count max_Net Amount");
	ok_parse("min(x), count(x)", "min_x count_x");
	bad("", "expected sum");
	bad("avg(amount)", "expected sum");
	bad("sum(*)", "only count(*)");
	bad("sum(a, b)", "one column per aggregate");
	bad("sum(amount) count(*)", "expected \",\"");
	bad("sum(amount), sum(amount)", "twice");
	bad("sum(amount); drop table x", "expected \",\"");
	bad("sum(\"unterminated)", "unterminated");
	return done_testing();
}
