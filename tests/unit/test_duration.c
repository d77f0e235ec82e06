/* unit tests of core/duration.c and core/collist.c: parsing what users type */
#include <stdlib.h>

#include "core/collist.h"
#include "core/duration.h"
#include "tap.h"

static void
check_duration(const char *text, int valid, long long want)
{
	int64_t ms = -1;
	int got = duration_parse_ms(text, &ms);

	ok(got == valid, "duration \"%s\" %s", text, valid ? "accepted" : "rejected");
	if (valid && got)
		is_int(ms, want, "duration \"%s\" value", text);
}

static void
check_cols(const char *text, int valid, int n, const char *first, const char *last)
{
	NameList l;
	char *why = NULL;
	int got = collist_parse(text, &l, &why);

	ok(got == valid, "column list [%s] %s", text, valid ? "accepted" : "rejected");
	if (got && valid)
	{
		is_int(l.n, n, "column list [%s] count", text);
		is_str(l.items[0], first, "column list [%s] first", text);
		is_str(l.items[l.n - 1], last, "column list [%s] last", text);
	}
	if (!got)
		ok(why != NULL && why[0] != '\0', "rejection of [%s] says why", text);
	namelist_free(&l);
	free(why);
}

int
main(void)
{
	check_duration("250", 1, 250);
	check_duration("250ms", 1, 250);
	check_duration("2s", 1, 2000);
	check_duration("1.5s", 1, 1500);
	check_duration("10m", 1, 600000);
	check_duration("10min", 1, 600000);
	check_duration("1h", 1, 3600000);
	check_duration("2d", 1, 172800000);
	check_duration("", 0, 0);
	check_duration("-1s", 0, 0);
	check_duration("s", 0, 0);
	check_duration("5 s", 0, 0);
	check_duration("5sec", 0, 0);
	check_duration("31d", 0, 0);
	check_duration(NULL, 0, 0);

	check_cols("(org_id, property_id, occurred_at)", 1, 3, "org_id", "occurred_at");
	check_cols("status", 1, 1, "status", "status");
	check_cols("  ( Org_ID )  ", 1, 1, "org_id", "org_id");
	check_cols("\"Mixed Case\", \"a\"\"b\"", 1, 2, "Mixed Case", "a\"b");
	check_cols("(a, b", 0, 0, NULL, NULL);
	check_cols("a b", 0, 0, NULL, NULL);
	check_cols("lower(a)", 0, 0, NULL, NULL);
	check_cols("a; DROP TABLE x", 0, 0, NULL, NULL);
	check_cols("", 0, 0, NULL, NULL);
	check_cols("a,", 0, 0, NULL, NULL);
	check_cols("\"\"", 0, 0, NULL, NULL);
	check_cols("\"open", 0, 0, NULL, NULL);
	return done_testing();
}
