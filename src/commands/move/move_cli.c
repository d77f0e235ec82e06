/*
 * move_cli.c - "pgpart move TABLE PARTITION": its options, Ctrl-C (which
 * cancels the running statement and makes the move undo itself), and what it
 * prints.  The move is ops_tier_move in move.c.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "commands/move/move.h"

static const char help[] =
	"pgpart move copies a closed partition (its range entirely in the past) into\n"
	"another tablespace and swaps the copy in, for a warm tier on cheaper storage\n"
	"or back to pg_default.  Readers of the table are never blocked for the copy:\n"
	"they wait only for the swap (a DETACH and ATTACH of milliseconds, its locks\n"
	"requested under --lock-timeout and retried).  Writes to the partition's\n"
	"range are refused with an error (SQLSTATE 55006) while it is copied; other\n"
	"partitions are not affected.  If the move is interrupted, the rows stay in\n"
	"the attached partition: run it again, or with --abort to only undo it.\n\n"
	"Usage:\n"
	"  pgpart move TABLE PARTITION --tablespace=NAME [OPTION]...\n"
	"  pgpart move TABLE PARTITION --abort\n\n"
	"Options:\n"
	"  -t, --tablespace=NAME    the tablespace to move the partition and its indexes to\n"
	"      --keep-old           keep the former partition (detached, renamed\n"
	"                           PARTITION_pgpart_old) instead of dropping it\n"
	"      --abort              remove what an interrupted move left (its copy and\n"
	"                           the guard that refuses writes); move nothing\n"
	"Before the copy (which writes the whole partition to WAL), wait while the\n"
	"server is unwell; writers go on meanwhile:\n" CLI_HEALTH_HELP;

/*
 * Ctrl-C or SIGTERM: the running statement is cancelled (PQcancel is safe in
 * a signal handler) and the move stops at its next step, dropping its copy
 * and the write guard; a second signal ends pgpart at once.
 */
static volatile sig_atomic_t cancel_requested;
static PGcancel *volatile cancel_handle;

static void
on_signal(int sig)
{
	char buf[256];

	(void) sig;
	cancel_requested = 1;
	if (cancel_handle)
		PQcancel(cancel_handle, buf, sizeof(buf));
}

static void
print_json(const GlobalOpts *g, const TierMoveResult *r)
{
	json_t *o = json_pack("{s:s?, s:s?, s:s?, s:b, s:b, s:I, s:I, s:f, s:f, s:f, s:f, s:i, s:f, "
						  "s:s?, s:i, s:o, s:b}",
						  "partition", r->partition, "from_tablespace", r->from_tablespace,
						  "to_tablespace", r->to_tablespace, "already_there", r->already_there,
						  "aborted", r->aborted, "rows", (json_int_t) r->rows, "bytes",
						  (json_int_t) r->bytes, "copy_ms", r->copy_ms, "swap_lock_held_ms",
						  r->swap_lock_held_ms, "max_lock_held_ms", r->max_lock_held_ms,
						  "lock_held_ms", r->felt.held_ms, "lock_attempts", r->lock_attempts,
						  "duration_ms", r->duration_ms, "old_table", r->old_table,
						  "leftovers_dropped", r->leftovers_dropped, "notes",
						  cli_json_list(&r->notes), "dry_run", g->dry_run);

	lock_felt_json(o, &r->felt);
	cli_print_json(o);
}

static void
print_text(const TierMoveResult *r)
{
	if (r->aborted)
		printf("%s: what an interrupted move left was removed; writes are accepted again\n",
			   r->partition);
	else if (r->already_there)
		printf("%s: already in tablespace %s\n", r->partition, r->to_tablespace);
	else
	{
		char felt[LOCK_FELT_TEXT_SIZE];

		printf("%s: moved from %s to %s: %ld rows, %lld kB; copy %.0f ms (writes to its range "
			   "refused), swap held the table's lock %.1f ms; %d transactions; %s\n",
			   r->partition, r->from_tablespace, r->to_tablespace, r->rows, r->bytes / 1024,
			   r->copy_ms, r->swap_lock_held_ms, r->lock_attempts,
			   lock_felt_text(&r->felt, felt, sizeof(felt)));
	}
	if (r->old_table && !r->already_there)
		printf("  former partition kept as %s\n", r->old_table);
	cli_print_list("  ", &r->notes);
}

static int
move_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const TierMoveOptions *opt = arg;
	TierMoveResult res;
	struct sigaction sa, old_int, old_term;
	bool ok;

	cancel_handle = PQgetCancel(pc->conn);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	ok = ops_tier_move(pc, opt, &res, err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (cancel_handle)
	{
		PGcancel *handle = cancel_handle;

		cancel_handle = NULL;
		PQfreeCancel(handle);
	}
	if (ok && g->json)
		print_json(g, &res);
	else if (ok && !g->dry_run)
		print_text(&res);
	tiermoveresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

int
cmd_move(int argc, char **argv, GlobalOpts *g)
{
	TierMoveOptions opt;
	const CliOption options[] = {
		CLI_STRING("tablespace", 't', &opt.tablespace),
		CLI_TRUE("keep-old", 0, &opt.keep_old),
		CLI_TRUE("abort", 0, &opt.abort),
		CLI_HEALTH_OPTIONS(&opt.health),
		CLI_END,
	};
	const CliSpec spec = {"move", help, options, NULL, false};
	int first, rc;

	memset(&opt, 0, sizeof(opt));
	if ((rc = cli_parse_args(&spec, argc, argv, g, 2,
							 "give a table and one of its partitions, e.g. pgpart move "
							 "revenues revenues_2024_q4 --tablespace=warm",
							 &first)) != CLI_PARSED)
		return rc;
	if (!opt.abort && (opt.tablespace == NULL || opt.tablespace[0] == '\0'))
		return cli_usage_error("move", "--tablespace is required");
	if (opt.abort && (opt.tablespace || opt.keep_old))
		return cli_usage_error("move", "--abort takes neither --tablespace nor --keep-old");
	opt.table = argv[first];
	opt.partition = argv[first + 1];
	opt.lock = g->lock;
	opt.dry_run = g->dry_run;
	opt.cancel = &cancel_requested;
	return cli_run_connected(g, move_run, &opt);
}
