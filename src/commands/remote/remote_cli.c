/*
 * remote_cli.c - "pgpart remote add|list|drop|send|fetch": options, Ctrl-C
 * (the running statement is cancelled and the job stops at its next step)
 * and what each prints.  The work is in remote_server.c and remote_job.c.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "commands/remote/remote.h"
#include "core/conninfo.h"
#include "util/mem.h"

static const char help[] =
	"pgpart remote keeps closed partitions on another PostgreSQL server, read in\n"
	"place through postgres_fdw (a foreign table in the partition's name).\n\n"
	"Usage:\n"
	"  pgpart remote add NAME --remote=CONNINFO   the foreign server pgpart_remote_NAME\n"
	"                                             and a user mapping of the current user\n"
	"  pgpart remote list\n"
	"  pgpart remote drop NAME\n"
	"  pgpart remote send TABLE PARTITION --to=NAME [--abort]\n"
	"  pgpart remote fetch TABLE PARTITION [--abort]\n\n"
	"add connects to the remote itself (the password from CONNINFO, PGPASSWORD or\n"
	"the password file) and keeps the user and password it used only in\n"
	"PostgreSQL's user mapping; pgpart never prints or stores them.  postgres_fdw\n"
	"must be installed, with USAGE granted to the role pgpart runs as.\n\n"
	"send refuses writes to the partition (SQLSTATE 55006) while its rows are\n"
	"streamed to the remote and verified (count and checksum on both sides), then\n"
	"replaces it by a foreign table in one short transaction.  fetch brings the rows\n"
	"back into a local partition; the remote table is dropped after that commit.\n"
	"Interrupted, either continues when run again; --abort undoes it (before the\n"
	"swap only).\n\n"
	"Options:\n"
	"      --remote=CONNINFO    add: how to reach the remote (a connection string or URI)\n"
	"      --to=NAME            send: the remote to send the partition to\n"
	"      --abort              send, fetch: undo an interrupted one\n"
	"Before the copy, wait while the server is unwell:\n" CLI_HEALTH_HELP;

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

typedef struct RemoteArgs
{
	const char *step;
	RemoteOptions opt;
} RemoteArgs;

static json_t *
value_or_null(PGresult *rows, int i, int col)
{
	return cli_json_string_or_null(PQgetisnull(rows, i, col) ? NULL : PQgetvalue(rows, i, col));
}

static void
print_list(const GlobalOpts *g, PGresult *rows)
{
	int i;

	if (g->json)
	{
		json_t *a = json_array();

		for (i = 0; i < PQntuples(rows); i++)
		{
			char *srv = pg_xasprintf("pgpart_remote_%s", PQgetvalue(rows, i, 0));

			json_array_append_new(
				a, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:I}", "name",
							 PQgetvalue(rows, i, 0), "server", srv, "host",
							 value_or_null(rows, i, 1), "port", value_or_null(rows, i, 2),
							 "dbname", value_or_null(rows, i, 3), "user",
							 value_or_null(rows, i, 4), "partitions",
							 (json_int_t) atoll(PQgetvalue(rows, i, 5)), "rows",
							 (json_int_t) atoll(PQgetvalue(rows, i, 6))));
			free(srv);
		}
		cli_print_json(json_pack("{s:o}", "remotes", a));
		return;
	}
	if (PQntuples(rows) == 0)
	{
		printf("no remotes (\"pgpart remote add NAME --remote=CONNINFO\" adds one)\n");
		return;
	}
	printf("%-16s %-30s %-12s %-12s %10s %12s\n", "name", "host:port/dbname", "user",
		   "server", "partitions", "rows");
	for (i = 0; i < PQntuples(rows); i++)
	{
		char *where = pg_xasprintf("%s:%s/%s", PQgetvalue(rows, i, 1), PQgetvalue(rows, i, 2),
								   PQgetvalue(rows, i, 3));
		char *srv = pg_xasprintf("pgpart_remote_%s", PQgetvalue(rows, i, 0));

		printf("%-16s %-30s %-12s %-12s %10s %12s\n", PQgetvalue(rows, i, 0), where,
			   PQgetisnull(rows, i, 4) ? "-" : PQgetvalue(rows, i, 4), srv,
			   PQgetvalue(rows, i, 5), PQgetvalue(rows, i, 6));
		FREE_ALL(where, srv);
	}
}

static void
print_result(const GlobalOpts *g, const char *step, const RemoteResult *r)
{
	if (g->json)
	{
		json_t *o = json_pack(
			"{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:b, s:b, s:b, s:i, s:f, "
			"s:f, s:f, s:o, s:b}",
			"command", step, "name", cli_json_string_or_null(r->name), "server",
			cli_json_string_or_null(r->server), "host", cli_json_string_or_null(r->host), "port",
			cli_json_string_or_null(r->port), "dbname", cli_json_string_or_null(r->dbname),
			"user", cli_json_string_or_null(r->user), "partition",
			cli_json_string_or_null(r->partition), "remote_table",
			cli_json_string_or_null(r->remote_table), "rows", (json_int_t) r->rows, "checksum",
			cli_json_string_or_null(r->checksum), "resumed", r->resumed, "aborted", r->aborted,
			"nothing_to_abort", r->nothing || r->already, "lock_attempts", r->lock_attempts, "copy_ms",
			r->copy_ms, "swap_lock_held_ms", r->swap_lock_held_ms, "duration_ms",
			r->duration_ms, "notes", cli_json_list(&r->notes), "dry_run", g->dry_run);

		lock_felt_json(o, &r->felt);
		cli_print_json(o);
		return;
	}
	if (g->dry_run)
		return;
	if (strcmp(step, "add") == 0)
		printf("remote %s added: foreign server %s (%s:%s, database %s), user mapping of the "
			   "current user as %s\n",
			   r->name, r->server, r->host ? r->host : "?", r->port ? r->port : "?",
			   r->dbname ? r->dbname : "?", r->user ? r->user : "?");
	else if (strcmp(step, "drop") == 0)
		printf("remote %s dropped (foreign server %s and the current user's mapping)\n", r->name,
			   r->server);
	else if (r->already)
		printf("%s: on remote %s already (%s)\n", r->partition, r->name, r->remote_table);
	else if (r->nothing)
		printf("%s: no unfinished remote %s to abort\n", r->partition, step);
	else if (r->aborted)
		printf("%s: the interrupted remote %s was undone; the rows are where they were\n",
			   r->partition, step);
	else
	{
		char felt[LOCK_FELT_TEXT_SIZE];

		printf("%s: %s remote %s (%s): %lld rows, checksum %s; swap held the table's lock "
			   "%.1f ms; %s%s\n",
			   r->partition, strcmp(step, "send") == 0 ? "sent to" : "fetched from", r->name,
			   r->remote_table, r->rows,
			   r->checksum ? r->checksum : "-", r->swap_lock_held_ms,
			   lock_felt_text(&r->felt, felt, sizeof(felt)), r->resumed ? " (resumed)" : "");
	}
	cli_print_list("  note: ", &r->notes);
}

static int
remote_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	RemoteArgs *a = arg;
	RemoteResult res;
	struct sigaction sa, old_int, old_term;
	bool ok;

	memset(&res, 0, sizeof(res));
	if (strcmp(a->step, "list") == 0)
	{
		PGresult *rows = NULL;

		if (!ops_remote_list(pc, &rows, err))
			return CLI_FAILED;
		print_list(g, rows);
		PQclear(rows);
		return EXIT_OK;
	}
	cancel_handle = PQgetCancel(pc->conn);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (strcmp(a->step, "add") == 0)
		ok = ops_remote_add(pc, &a->opt, &res, err);
	else if (strcmp(a->step, "drop") == 0)
		ok = ops_remote_drop(pc, &a->opt, &res, err);
	else if (strcmp(a->step, "send") == 0)
		ok = ops_remote_send(pc, &a->opt, &res, err);
	else
		ok = ops_remote_fetch(pc, &a->opt, &res, err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (cancel_handle)
	{
		PGcancel *handle = cancel_handle;

		cancel_handle = NULL;
		PQfreeCancel(handle);
	}
	if (ok)
		print_result(g, a->step, &res);
	remoteresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

/* owned for the whole run: --remote, with its password masked in argv */
static char *remote_copy;

int
cmd_remote(int argc, char **argv, GlobalOpts *g)
{
	static const char *const names[] = {"add", "list", "drop", "send", "fetch", NULL};
	static const int nargs[] = {1, 0, 1, 2, 2};
	RemoteArgs a;
	const char *remote = NULL;
	const CliOption options[] = {
		CLI_STRING("remote", 0, &remote),
		CLI_STRING("to", 0, &a.opt.name),
		CLI_TRUE("abort", 0, &a.opt.abort),
		CLI_HEALTH_OPTIONS(&a.opt.health),
		CLI_END,
	};
	const CliSpec spec = {"remote", help, options, NULL, false};
	int s, first, rc, n;
	const char *to;

	s = cli_subcommand("remote", argc, argv, names);
	if (s == -2)
	{
		printf("%s%s", help, CLI_COMMON_HELP);
		return EXIT_OK;
	}
	if (s < 0)
		return EXIT_USAGE;
	memset(&a, 0, sizeof(a));
	a.step = names[s];
	if ((rc = cli_parse(&spec, argc - 1, argv + 1, g, &first)) != CLI_PARSED)
		return rc;
	/*
	 * "ps" shows argv to every local user: keep a copy of --remote and mask
	 * its password where the parser found it (in argv itself, as -d's is)
	 */
	if (remote)
	{
		remote_copy = pg_xstrdup(remote);
		conninfo_mask_password((char *) remote);
		remote = remote_copy;
	}
	n = argc - 1 - first;
	if (n < nargs[s])
		return cli_usage_error("remote", "remote %s needs %s", a.step,
							   nargs[s] == 1	 ? "the remote's NAME"
							   : nargs[s] == 2 ? "a TABLE and one of its partitions"
											   : "nothing");
	if (n > nargs[s])
		return cli_usage_error("remote", "unexpected argument \"%s\"", argv[1 + first + nargs[s]]);
	to = a.opt.name;
	if (s == 0 && (remote == NULL || remote[0] == '\0'))
		return cli_usage_error("remote", "remote add needs --remote=CONNINFO");
	if (s != 0 && remote)
		return cli_usage_error("remote", "--remote is an option of remote add");
	if (to && s != 3)
		return cli_usage_error("remote", "--to is an option of remote send");
	if (s == 3 && !a.opt.abort && (to == NULL || to[0] == '\0'))
		return cli_usage_error("remote", "remote send needs --to=NAME");
	if (a.opt.abort && s != 3 && s != 4)
		return cli_usage_error("remote", "--abort is an option of remote send and fetch");
	if (nargs[s] == 1)
		a.opt.name = argv[1 + first];
	if (nargs[s] == 2)
	{
		a.opt.table = argv[1 + first];
		a.opt.partition = argv[2 + first];
	}
	a.opt.conninfo = remote;
	a.opt.lock = g->lock;
	a.opt.cancel = &cancel_requested;
	return cli_run_connected(g, remote_run, &a);
}
