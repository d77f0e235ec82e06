/* pgpart report daily|monthly|yearly|cross-org - the seed plan's reports */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/calendar.h"
#include "commands/report/report.h"

static const char help[] =
	"pgpart report answers the seed plan's reports from a rollup when one covers\n"
	"the request (exactly: buckets changed since the last refresh are read from\n"
	"the detail rows) and from the detail rows otherwise, and says which it used.\n\n"
	"Usage:\n"
	"  pgpart report daily     TABLE --org=ID --date=YYYY-MM-DD   one org, one day\n"
	"  pgpart report monthly   TABLE --org=ID --month=YYYY-MM     one org, per day\n"
	"  pgpart report yearly    TABLE --org=ID --year=YYYY         one org, per month\n"
	"  pgpart report cross-org TABLE --from=DATE --to=DATE        all orgs, [from, to)\n\n"
	"Options:\n"
	"      --by=COLS            group by these columns (default: status, category for\n"
	"                           daily and cross-org, status for monthly and yearly;\n"
	"                           --by='' for totals only)\n"
	"      --org-column=COL     the organisation column (default org_id)\n"
	"      --amount-column=COL  the summed column (default amount)\n"
	"      --format=FMT         table (default), csv or json (--json is the same)\n"
	"      --source=SRC         auto (default), rollup (fail if none fits) or detail\n"
	"      --no-orgs            cross-org: leave out the count of distinct orgs, so a\n"
	"                           rollup that is not grouped by org can answer (a few\n"
	"                           rows per bucket, however many orgs there are); a\n"
	"                           rollup with --distinct of the org column counts them\n"
	"                           exactly without being grouped by org\n";

static void
csv_field(const char *v)
{
	const char *p;

	if (v == NULL)
		return;
	if (strpbrk(v, ",\"\n\r") == NULL)
	{
		fputs(v, stdout);
		return;
	}
	putchar('"');
	for (p = v; *p; p++)
	{
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

static void
print_result(const ReportResult *r, const char *format)
{
	int i, j;

	if (strcmp(format, "json") == 0)
	{
		json_t *o = json_object(), *rows = json_array(), *cols = json_array();

		for (j = 0; j < r->ncolumns; j++)
			json_array_append_new(cols, json_string(r->columns[j]));
		for (i = 0; i < r->nrows; i++)
		{
			json_t *row = json_object();

			for (j = 0; j < r->ncolumns; j++)
				json_object_set_new(row, r->columns[j],
									r->rows[i][j] ? json_string(r->rows[i][j]) : json_null());
			json_array_append_new(rows, row);
		}
		json_object_set_new(o, "source", json_string(r->source));
		json_object_set_new(o, "why", json_string(r->why ? r->why : ""));
		json_object_set_new(o, "buckets_from_detail", json_integer(r->dirty_buckets));
		json_object_set_new(o, "query_ms", json_real(r->query_ms));
		json_object_set_new(o, "columns", cols);
		json_object_set_new(o, "rows", rows);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	else if (strcmp(format, "csv") == 0)
	{
		for (j = 0; j < r->ncolumns; j++)
		{
			if (j)
				putchar(',');
			csv_field(r->columns[j]);
		}
		putchar('\n');
		for (i = 0; i < r->nrows; i++)
		{
			for (j = 0; j < r->ncolumns; j++)
			{
				if (j)
					putchar(',');
				csv_field(r->rows[i][j]);
			}
			putchar('\n');
		}
		/* stdout stays pure CSV; what answered goes to stderr */
		fprintf(stderr, "pgpart: source: %s (%s)\n", r->source, r->why ? r->why : "");
	}
	else
	{
		int *w = calloc((size_t) r->ncolumns, sizeof(int));

		for (j = 0; j < r->ncolumns; j++)
		{
			w[j] = (int) strlen(r->columns[j]);
			for (i = 0; i < r->nrows; i++)
				if (r->rows[i][j] && (int) strlen(r->rows[i][j]) > w[j])
					w[j] = (int) strlen(r->rows[i][j]);
		}
		for (j = 0; j < r->ncolumns; j++)
			printf("%s%-*s", j ? "  " : "", w[j], r->columns[j]);
		putchar('\n');
		for (j = 0; j < r->ncolumns; j++)
		{
			printf("%s", j ? "  " : "");
			for (i = 0; i < w[j]; i++)
				putchar('-');
		}
		putchar('\n');
		for (i = 0; i < r->nrows; i++)
		{
			for (j = 0; j < r->ncolumns; j++)
				printf("%s%*s", j ? "  " : "", j == r->ncolumns - 1 ? 0 : -w[j],
					   r->rows[i][j] ? r->rows[i][j] : "");
			putchar('\n');
		}
		printf("(%d row%s; source: %s: %s)\n", r->nrows, r->nrows == 1 ? "" : "s", r->source,
			   r->why ? r->why : "");
		free(w);
	}
}

typedef struct ReportArgs
{
	ReportOptions opt;
	const char *format; /* table, csv or json */
} ReportArgs;

static int
report_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const ReportArgs *a = arg;
	ReportResult res;
	int rc = EXIT_OK;

	(void) g;
	memset(&res, 0, sizeof(res));
	if (!ops_report(pc, &a->opt, &res, err))
		rc = CLI_FAILED;
	else
		print_result(&res, a->format);
	reportresult_free(&res);
	return rc;
}

int
cmd_report(int argc, char **argv, GlobalOpts *g)
{
	static const char *const formats[] = {"table", "csv", "json"};
	static const ReportSource sources[] = {SOURCE_AUTO, SOURCE_ROLLUP, SOURCE_DETAIL};
	ReportArgs a;
	const char *kind, *date = NULL, *month = NULL, *year = NULL;
	int format = 0, source = 0;
	char from[16], to[16];
	int first, rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
	{
		if (argc < 2)
			return cli_usage_error("report", "no report given (daily, monthly, yearly, cross-org)");
		printf("%s%s", help, CLI_COMMON_HELP);
		return EXIT_OK;
	}
	kind = argv[1];
	memset(&a, 0, sizeof(a));
	if (strcmp(kind, "daily") == 0)
		a.opt.kind = REPORT_DAILY;
	else if (strcmp(kind, "monthly") == 0)
		a.opt.kind = REPORT_MONTHLY;
	else if (strcmp(kind, "yearly") == 0)
		a.opt.kind = REPORT_YEARLY;
	else if (strcmp(kind, "cross-org") == 0)
		a.opt.kind = REPORT_CROSS_ORG;
	else
		return cli_usage_error("report", "unknown report \"%s\" (daily, monthly, yearly, cross-org)",
							   kind);
	argc--;
	argv++;
	a.opt.org_column = "org_id";
	a.opt.amount_column = "amount";
	a.opt.count_orgs = true;
	{
		const CliOption options[] = {
			CLI_STRING("org", 0, &a.opt.org),
			CLI_STRING("date", 0, &date),
			CLI_STRING("month", 0, &month),
			CLI_STRING("year", 0, &year),
			CLI_STRING("from", 0, &a.opt.from),
			CLI_STRING("to", 0, &a.opt.to),
			CLI_STRING("by", 0, &a.opt.by),
			CLI_STRING("org-column", 0, &a.opt.org_column),
			CLI_STRING("amount-column", 0, &a.opt.amount_column),
			CLI_CHOICE("format", 0, &format, "table|csv|json"),
			CLI_CHOICE("source", 0, &source, "auto|rollup|detail"),
			CLI_FALSE("no-orgs", 0, &a.opt.count_orgs),
			CLI_END,
		};
		const CliSpec spec = {"report", help, options, NULL, false};

		if ((rc = cli_parse(&spec, argc, argv, g, &first)) != CLI_PARSED)
			return rc;
	}
	if (argc - first != 1)
		return cli_usage_error("report", "give exactly one table");
	a.opt.table = argv[first];
	a.opt.source = sources[source];
	a.format = formats[g->json ? 2 : format];
	if (a.opt.kind != REPORT_CROSS_ORG && a.opt.org == NULL)
		return cli_usage_error("report", "the %s report is for one organisation: give --org", kind);
	if (a.opt.kind == REPORT_CROSS_ORG && a.opt.org)
		return cli_usage_error("report", "cross-org covers every organisation: drop --org");
	if (a.opt.kind != REPORT_CROSS_ORG && !a.opt.count_orgs)
		return cli_usage_error("report", "--no-orgs is for the cross-org report");
	/* each report's period, as [from, to) */
	if (a.opt.kind == REPORT_DAILY || a.opt.kind == REPORT_MONTHLY || a.opt.kind == REPORT_YEARLY)
	{
		static const struct
		{
			CalUnit unit;
			const char *usage;
		} periods[] = {
			[REPORT_DAILY] = {CAL_DAY, "daily needs --date=YYYY-MM-DD"},
			[REPORT_MONTHLY] = {CAL_MONTH, "monthly needs --month=YYYY-MM"},
			[REPORT_YEARLY] = {CAL_YEAR, "yearly needs --year=YYYY"},
		};
		const char *text = a.opt.kind == REPORT_DAILY	  ? date
						   : a.opt.kind == REPORT_MONTHLY ? month
														: year;
		CivilDate f, t;

		if (!cal_period_parse(text, periods[a.opt.kind].unit, &f, &t))
			return cli_usage_error("report", "%s (a period that ends by 9999-12-31)",
								   periods[a.opt.kind].usage);
		cal_date_format(f, from);
		cal_date_format(t, to);
	}
	else
	{
		CivilDate f, t;

		if (a.opt.from == NULL || a.opt.to == NULL || !cal_date_parse(a.opt.from, &f) ||
			!cal_date_parse(a.opt.to, &t))
			return cli_usage_error("report", "cross-org needs --from=YYYY-MM-DD and --to=YYYY-MM-DD");
		if (cal_compare(f, t) >= 0)
			return cli_usage_error("report", "--from must be before --to (the range is [from, to))");
		cal_date_format(f, from);
		cal_date_format(t, to);
	}
	a.opt.from = from;
	a.opt.to = to;
	if (a.opt.by == NULL)
		a.opt.by = a.opt.kind == REPORT_DAILY || a.opt.kind == REPORT_CROSS_ORG ? "status, category"
																		  : "status";

	return cli_run_connected(g, report_run, &a);
}
