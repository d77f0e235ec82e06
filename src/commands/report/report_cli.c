/* pgpart report daily|monthly|yearly|cross-org - the seed plan's reports */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
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
	"                           daily and cross-org, status for monthly and yearly)\n"
	"      --org-column=COL     the organisation column (default org_id)\n"
	"      --amount-column=COL  the summed column (default amount)\n"
	"      --format=FMT         table (default), csv or json (--json is the same)\n"
	"      --source=SRC         auto (default), rollup (fail if none fits) or detail\n"
	"      --no-orgs            cross-org: leave out the count of distinct orgs, so a\n"
	"                           rollup that is not grouped by org can answer (a few\n"
	"                           rows per bucket, however many orgs there are)\n";

enum
{
	OPT_ORG = OPT_FIRST_COMMAND_OPTION,
	OPT_DATE,
	OPT_MONTH,
	OPT_YEAR,
	OPT_FROM,
	OPT_TO,
	OPT_BY,
	OPT_ORG_COLUMN,
	OPT_AMOUNT_COLUMN,
	OPT_FORMAT,
	OPT_SOURCE,
	OPT_NO_ORGS
};

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

int
cmd_report(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		{"org", required_argument, NULL, OPT_ORG},
		{"date", required_argument, NULL, OPT_DATE},
		{"month", required_argument, NULL, OPT_MONTH},
		{"year", required_argument, NULL, OPT_YEAR},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"by", required_argument, NULL, OPT_BY},
		{"org-column", required_argument, NULL, OPT_ORG_COLUMN},
		{"amount-column", required_argument, NULL, OPT_AMOUNT_COLUMN},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"source", required_argument, NULL, OPT_SOURCE},
		{"no-orgs", no_argument, NULL, OPT_NO_ORGS},
		{NULL, 0, NULL, 0},
	};
	ReportOptions opt;
	ReportResult res;
	PgConn pc = {0};
	PgpError err;
	const char *kind, *date = NULL, *month = NULL, *year = NULL, *format = "table";
	char from[16], to[16];
	int c, rc = EXIT_OK;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
	{
		if (argc < 2)
			return cli_usage_error("report", "no report given (daily, monthly, yearly, cross-org)");
		printf("%s%s", help, CLI_COMMON_HELP);
		return EXIT_OK;
	}
	kind = argv[1];
	memset(&opt, 0, sizeof(opt));
	if (strcmp(kind, "daily") == 0)
		opt.kind = REPORT_DAILY;
	else if (strcmp(kind, "monthly") == 0)
		opt.kind = REPORT_MONTHLY;
	else if (strcmp(kind, "yearly") == 0)
		opt.kind = REPORT_YEARLY;
	else if (strcmp(kind, "cross-org") == 0)
		opt.kind = REPORT_CROSS_ORG;
	else
		return cli_usage_error("report", "unknown report \"%s\" (daily, monthly, yearly, cross-org)",
							   kind);
	argc--;
	argv++;
	opt.org_column = "org_id";
	opt.amount_column = "amount";
	opt.count_orgs = true;
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS, opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf("%s%s", help, CLI_COMMON_HELP);
				return EXIT_OK;
			case OPT_ORG:
				opt.org = optarg;
				break;
			case OPT_DATE:
				date = optarg;
				break;
			case OPT_MONTH:
				month = optarg;
				break;
			case OPT_YEAR:
				year = optarg;
				break;
			case OPT_FROM:
				opt.from = optarg;
				break;
			case OPT_TO:
				opt.to = optarg;
				break;
			case OPT_BY:
				opt.by = optarg;
				break;
			case OPT_ORG_COLUMN:
				opt.org_column = optarg;
				break;
			case OPT_AMOUNT_COLUMN:
				opt.amount_column = optarg;
				break;
			case OPT_FORMAT:
				format = optarg;
				if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
					return cli_usage_error("report", "invalid --format \"%s\" (table, csv or json)",
										   format);
				break;
			case OPT_SOURCE:
				if (strcmp(optarg, "auto") == 0)
					opt.source = SOURCE_AUTO;
				else if (strcmp(optarg, "rollup") == 0)
					opt.source = SOURCE_ROLLUP;
				else if (strcmp(optarg, "detail") == 0)
					opt.source = SOURCE_DETAIL;
				else
					return cli_usage_error("report", "invalid --source \"%s\" (auto, rollup or detail)",
										   optarg);
				break;
			case OPT_NO_ORGS:
				opt.count_orgs = false;
				break;
			default:
				return cli_usage_error("report", "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("report", "give exactly one table");
	opt.table = argv[optind];
	if (g->json)
		format = "json";
	if (opt.kind != REPORT_CROSS_ORG && opt.org == NULL)
		return cli_usage_error("report", "the %s report is for one organisation: give --org", kind);
	if (opt.kind == REPORT_CROSS_ORG && opt.org)
		return cli_usage_error("report", "cross-org covers every organisation: drop --org");
	if (opt.kind != REPORT_CROSS_ORG && !opt.count_orgs)
		return cli_usage_error("report", "--no-orgs is for the cross-org report");
	/* each report's period, as [from, to) */
	if (opt.kind == REPORT_DAILY || opt.kind == REPORT_MONTHLY || opt.kind == REPORT_YEARLY)
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
		const char *text = opt.kind == REPORT_DAILY	  ? date
						   : opt.kind == REPORT_MONTHLY ? month
														: year;
		CivilDate f, t;

		if (!cal_period_parse(text, periods[opt.kind].unit, &f, &t))
			return cli_usage_error("report", "%s (a period that ends by 9999-12-31)",
								   periods[opt.kind].usage);
		cal_date_format(f, from);
		cal_date_format(t, to);
	}
	else
	{
		CivilDate f, t;

		if (opt.from == NULL || opt.to == NULL || !cal_date_parse(opt.from, &f) ||
			!cal_date_parse(opt.to, &t))
			return cli_usage_error("report", "cross-org needs --from=YYYY-MM-DD and --to=YYYY-MM-DD");
		if (cal_compare(f, t) >= 0)
			return cli_usage_error("report", "--from must be before --to (the range is [from, to))");
		cal_date_format(f, from);
		cal_date_format(t, to);
	}
	opt.from = from;
	opt.to = to;
	if (opt.by == NULL)
		opt.by = opt.kind == REPORT_DAILY || opt.kind == REPORT_CROSS_ORG ? "status, category"
																		  : "status";

	err_init(&err);
	memset(&res, 0, sizeof(res));
	if (!cli_connect(g, &pc, &err) || !ops_report(&pc, &opt, &res, &err))
		rc = cli_fail(&err);
	else
		print_result(&res, format);
	reportresult_free(&res);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}
