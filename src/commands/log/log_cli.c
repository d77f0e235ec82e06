/*
 * log_cli.c - the command line of pgpart log: its options, help and output.
 * The operation is log.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "commands/log/log.h"

static const char help[] =
	"pgpart log shows pgpart.change_log: every DDL statement pgpart ran, every\n"
	"table lock it took, and every statement of it that moved rows of a\n"
	"user's table (backfill batches, default-partition moves, tier copies,\n"
	"restores), with the command, table, role, host and pid of the pgpart process,\n"
	"start, duration (lock waits included), rows, and for a table lock how long\n"
	"it was held (to the commit).  Each entry was written in the transaction of\n"
	"its change: a change that rolled back left none.\n"
	"--dry-run records nothing.\n\n"
	"Usage:\n"
	"  pgpart log [TABLE] [OPTION]...\n\n"
	"Options:\n"
	"      --since=YYYY-MM-DD   entries from that day on (UTC)\n"
	"      --limit=N            the newest N entries (default 100)\n"
	"      --keep-days=N        first delete the entries older than N days (e.g. 400);\n"
	"                           the deletion is itself an entry\n";

static void
print_json(const LogResult *r)
{
	json_t *entries = json_array();
	int i;

	for (i = 0; i < r->n; i++)
	{
		const LogEntry *e = &r->entries[i];

		json_array_append_new(
			entries,
			json_pack("{s:s, s:f, s:o, s:s, s:s, s:i, s:s, s:o, s:s, s:s, s:o, s:s}",
					  "started_at", e->started_at, "duration_ms", e->duration_ms,
					  "lock_hold_ms",
					  e->lock_hold_ms < 0 ? json_null() : json_real(e->lock_hold_ms), "role",
					  e->role, "host", e->host, "pid", e->pid, "command", e->command, "table",
					  cli_json_string_or_null(e->table), "kind", e->kind, "statement",
					  e->statement, "rows", e->rows < 0 ? json_null() : json_integer(e->rows),
					  "outcome", e->outcome));
	}
	cli_print_json(json_pack("{s:o, s:o}", "entries", entries, "pruned",
							 r->pruned_run ? json_integer(r->pruned) : json_null()));
}

/* the statement's first line, at most 100 characters: --json has it whole */
static void
print_statement(const char *s)
{
	size_t n = strcspn(s, "\n");

	if (n > 100)
		printf("%.97s...\n", s);
	else
		printf("%.*s%s\n", (int) n, s, s[n] ? " ..." : "");
}

static void
print_text(const LogResult *r)
{
	int i;

	if (r->pruned_run)
		printf("deleted %lld entr%s older than --keep-days\n", r->pruned, r->pruned == 1 ? "y" : "ies");
	if (r->n == 0)
		printf("no entries\n");
	for (i = 0; i < r->n; i++)
	{
		const LogEntry *e = &r->entries[i];

		printf("%s  %s  %s  %s  %.1f ms", e->started_at, e->command, e->table ? e->table : "-",
			   e->kind, e->duration_ms);
		if (e->lock_hold_ms >= 0)
			printf(", held %.1f ms", e->lock_hold_ms);
		if (e->rows >= 0)
			printf("  %lld row%s", e->rows, e->rows == 1 ? "" : "s");
		printf("  %s@%s pid %d\n    ", e->role, e->host, e->pid);
		print_statement(e->statement);
	}
}

static int
log_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	LogResult res;
	bool ok = ops_log(pc, arg, &res, err);

	if (ok && g->json)
		print_json(&res);
	else if (ok)
		print_text(&res);
	logresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

int
cmd_log(int argc, char **argv, GlobalOpts *g)
{
	LogOptions opt;
	int keep_days = 0;
	CliOption options[] = {
		CLI_DATE("since", 0, &opt.since, &opt.has_since),
		CLI_INT("limit", 0, &opt.limit, 1, 1000000),
		CLI_INT("keep-days", 0, &keep_days, 1, 100000),
		CLI_END,
	};
	const CliSpec spec = {"log", help, options, NULL, false};
	int rc;

	memset(&opt, 0, sizeof(opt));
	opt.limit = 100;
	options[2].given = &opt.has_keep;
	if ((rc = cli_parse_table(&spec, argc, argv, g, &opt.table)) != CLI_PARSED)
		return rc;
	/* reading runs on a standby; deleting does not */
	opt.keep_ms = (int64_t) keep_days * 86400000;
	if (opt.has_keep)
		g->changes = "log --keep-days";
	return cli_run_connected(g, log_run, &opt);
}
