/* promtext: Prometheus text exposition format (names, escaping, HELP/TYPE, values) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/promtext.h"
#include "tap.h"

static char *
value_text(double v)
{
	StrBuf sb;

	sb_init(&sb);
	prom_format_value(&sb, v);
	return sb_steal(&sb);
}

int
main(void)
{
	PromSet s;
	StrBuf sb;
	char *out, *v;
	int f, g;

	ok(prom_metric_name_valid("pgpart_up"), "metric name");
	ok(prom_metric_name_valid("pgpart:rule:rate5m"), "colons allowed in metric names");
	ok(!prom_metric_name_valid("9lives"), "no leading digit");
	ok(!prom_metric_name_valid("pgpart-up"), "no dash");
	ok(!prom_metric_name_valid(""), "not empty");
	ok(prom_label_name_valid("table"), "label name");
	ok(!prom_label_name_valid("a:b"), "no colon in label names");
	ok(!prom_label_name_valid("__name__"), "reserved label names refused");

	sb_init(&sb);
	prom_escape_label_value(&sb, "a\\b\"c\nd");
	is_str(sb.data, "a\\\\b\\\"c\\nd", "label value: backslash, quote and newline escaped");
	sb_reset(&sb);
	prom_escape_help(&sb, "line \"one\"\nback\\slash");
	is_str(sb.data, "line \"one\"\\nback\\\\slash", "HELP: newline and backslash escaped, quotes kept");
	sb_free(&sb);

	v = value_text(42);
	is_str(v, "42", "integral value without decimals");
	free(v);
	v = value_text(0.25);
	is_str(v, "0.25", "fraction");
	free(v);
	v = value_text(NAN);
	is_str(v, "NaN", "NaN");
	free(v);
	v = value_text(INFINITY);
	is_str(v, "+Inf", "+Inf");
	free(v);
	v = value_text(-INFINITY);
	is_str(v, "-Inf", "-Inf");
	free(v);
	v = value_text(1764619200.5);
	is_str(v, "1764619200.5", "timestamp with a fraction");
	free(v);

	promset_init(&s);
	f = prom_family(&s, "pgpart_partitions", "gauge", "Partitions per table and tier.");
	g = prom_family(&s, "pgpart_up", "gauge", "1 if the last collection worked.");
	ok(f == 0 && g == 1, "families numbered in order");
	is_int(prom_family(&s, "pgpart_partitions", "gauge", "again"), f, "same name: same family");
	is_int(prom_family(&s, "bad-name", "gauge", "x"), -1, "invalid name refused");
	is_int(prom_family(&s, "pgpart_x", "histogram", "x"), -1, "unsupported type refused");
	ok(prom_add(&s, g, 1, 0), "sample without labels");
	ok(prom_add(&s, f, 3, 2, "table", "public.revenues", "tier", "hot"), "sample with labels");
	/* added after a sample of another family: still rendered under its family */
	ok(prom_add(&s, f, 1, 2, "table", "\"Odd\".\"a\\b\"", "tier", NULL), "odd label value");
	ok(!prom_add(&s, f, 1, 1, "bad-label", "x"), "invalid label name refused");
	ok(!prom_add(&s, 7, 1, 0), "unknown family refused");
	{
		const char *const names[] = {"table", "tier"}, *const values[] = {"public.expenses", "warm"};
		const char *const bad[] = {"table", "__reserved"};

		ok(prom_add_labels(&s, f, 2, 1, names, values), "labels from arrays: the first one");
		ok(!prom_add_labels(&s, f, 2, 2, bad, values), "a reserved label name in an array refused");
	}
	out = prom_render(&s);
	is_str(out,
		   "# HELP pgpart_partitions Partitions per table and tier.\n"
		   "# TYPE pgpart_partitions gauge\n"
		   "pgpart_partitions{table=\"public.revenues\",tier=\"hot\"} 3\n"
		   "pgpart_partitions{table=\"\\\"Odd\\\".\\\"a\\\\b\\\"\",tier=\"\"} 1\n"
		   "pgpart_partitions{table=\"public.expenses\"} 2\n"
		   "# HELP pgpart_up 1 if the last collection worked.\n"
		   "# TYPE pgpart_up gauge\n"
		   "pgpart_up 1\n",
		   "rendered exposition: families grouped, HELP and TYPE first");
	free(out);
	promset_free(&s);
	ok(s.n == 0 && s.families == NULL, "freed");

	/* the listen address of --metrics-addr: test_listenaddr.c */
	return done_testing();
}
