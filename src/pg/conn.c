/*
 * conn.c - the libpq connection: every statement through PQexecParams (one
 * statement per call), errors turned into PgpError with the server's SQLSTATE
 * and detail, and --dry-run, which prints changes instead of running them.
 */
#include "pg/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/changelog.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

static void
fill_error_from_result(PgConn *pc, const PGresult *res, PgpError *err)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (primary == NULL)
	{
		/* connection-level failure: libpq's own message, one line */
		char *msg = pg_xstrdup(PQerrorMessage(pc->conn));
		size_t n = strlen(msg);

		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		err_set(err, EXIT_RUNTIME, "%s", n ? msg : "lost connection to the server");
		free(msg);
	}
	else
		err_set(err, EXIT_RUNTIME, "%s", primary);
	if (detail)
		err_detail(err, "%s", detail);
	if (hint)
		err_hint(err, "%s", hint);
	if (state)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
}

/*
 * connect_timeout, when given, comes before dbname: libpq keeps the last value
 * of a repeated keyword, so one in the user's conninfo still wins.
 */
static bool
connect_with(PgConn *pc, const char *conninfo, bool dry_run, const char *connect_timeout,
			 PgpError *err)
{
	/* expand_dbname lets -d take a full connection string or URI */
	const char *keys[] = {"connect_timeout", "dbname", "application_name",
						  "fallback_application_name", NULL};
	const char *vals[] = {connect_timeout, conninfo, NULL, "pgpart", NULL};
	int first = connect_timeout ? 0 : 1;
	PGresult *res;
	char *probe;

	pc->dry_run = dry_run;
	pc->user_search_path = NULL;
	pc->held_locks = NULL;
	pc->nheld_locks = pc->held_locks_size = 0;
	pc->conn = PQconnectdbParams(keys + first, vals + first, 1);
	if (pc->conn == NULL)
	{
		err_set(err, EXIT_RUNTIME, "out of memory while connecting");
		return false;
	}
	if (PQstatus(pc->conn) != CONNECTION_OK)
	{
		fill_error_from_result(pc, NULL, err);
		err_prefix(err, "could not connect to the server");
		err_hint(err, "Check -d (a connection string or URI) or the PGHOST, PGPORT, "
					  "PGUSER and PGDATABASE environment variables.");
		PQfinish(pc->conn);
		pc->conn = NULL;
		return false;
	}
	probe = pg_xasprintf("SELECT pg_catalog.current_setting('search_path'), "
						 "pg_catalog.set_config('timezone', 'UTC', false), "
						 "pg_catalog.set_config('statement_timeout', '0', false), "
						 /* many short statements: compiling each costs more than it saves */
						 "pg_catalog.set_config('jit', 'off', false), "
						 "pg_catalog.set_config('search_path', '', false), %s",
						 changelog_probe_sql);
	res = pgc_query(pc, probe, 0, NULL, err);
	free(probe);
	if (res == NULL)
	{
		pgc_close(pc);
		return false;
	}
	pc->user_search_path = pg_xstrdup(PQgetvalue(res, 0, 0));
	changelog_set_state(pc, PQgetisnull(res, 0, 5) ? NULL : PQgetvalue(res, 0, 5),
						PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6));
	PQclear(res);
	return true;
}

bool
pgc_connect(PgConn *pc, const char *conninfo, bool dry_run, PgpError *err)
{
	return connect_with(pc, conninfo, dry_run, NULL, err);
}

bool
pgc_connect_bounded(PgConn *pc, const char *conninfo, int connect_timeout_s, PgpError *err)
{
	char timeout[16];

	snprintf(timeout, sizeof(timeout), "%d", connect_timeout_s < 1 ? 1 : connect_timeout_s);
	return connect_with(pc, conninfo, false, timeout, err);
}

void
pgc_close(PgConn *pc)
{
	if (pc->conn)
		PQfinish(pc->conn);
	pc->conn = NULL;
	free(pc->user_search_path);
	pc->user_search_path = NULL;
	FREE_ALL(pc->subject_schema, pc->subject_name);
	pc->subject_schema = pc->subject_name = NULL;
	free(pc->held_locks);
	pc->held_locks = NULL;
	pc->nheld_locks = pc->held_locks_size = 0;
}

PGresult *
pgc_query(PgConn *pc, const char *sql, int nparams, const char *const *params, PgpError *err)
{
	PGresult *res;
	ExecStatusType st;

	log_debug("SQL: %s", sql);
	res = PQexecParams(pc->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	/*
	 * Whatever ended the transaction (a ROLLBACK on any path, a failed
	 * COMMIT, a lost connection), its LOCK rows ended with it.
	 */
	if (pc->nheld_locks > 0 && PQtransactionStatus(pc->conn) != PQTRANS_INTRANS &&
		PQtransactionStatus(pc->conn) != PQTRANS_INERROR)
		changelog_forget_holds(pc);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	fill_error_from_result(pc, res, err);
	PQclear(res);
	return NULL;
}

PGresult *
pgc_query_change(PgConn *pc, const char *sql, int nparams, const char *const *params,
				 PgpError *err)
{
	double started = clock_ms();
	PGresult *res = pgc_query(pc, sql, nparams, params, err);

	if (res && !changelog_record(pc, sql, res, clock_ms() - started, err))
	{
		PQclear(res);
		return NULL;
	}
	return res;
}

bool
pgc_exec(PgConn *pc, const char *sql, int nparams, const char *const *params, PgpError *err)
{
	PGresult *res = pgc_query(pc, sql, nparams, params, err);

	PQclear(res);
	return res != NULL;
}

/* SQL with $n replaced by quoted literals, for --dry-run output only */
static char *
inline_params(PgConn *pc, const char *sql, int nparams, const char *const *params)
{
	StrBuf sb;
	const char *p = sql;

	sb_init(&sb);
	while (*p)
	{
		if (*p == '$' && p[1] >= '1' && p[1] <= '9')
		{
			char *end;
			long n = strtol(p + 1, &end, 10);

			if (n >= 1 && n <= nparams)
			{
				if (params[n - 1] == NULL)
					sb_append(&sb, "NULL");
				else
					pgc_append_literal(pc, &sb, params[n - 1]);
				p = end;
				continue;
			}
		}
		sb_append_char(&sb, *p++);
	}
	return sb_steal(&sb);
}

bool
pgc_change(PgConn *pc, const char *sql, int nparams, const char *const *params, PgpError *err)
{
	PGresult *res;
	double started;
	bool ok;

	if (pc->dry_run)
	{
		char *text = inline_params(pc, sql, nparams, params);

		printf("%s;\n", text);
		free(text);
		return true;
	}
	started = clock_ms();
	res = pgc_query(pc, sql, nparams, params, err);
	if (res == NULL)
		return false;
	ok = changelog_record(pc, sql, res, clock_ms() - started, err);
	PQclear(res);
	return ok;
}

bool
pgc_change_secret(PgConn *pc, const char *sql, const char *shown, PgpError *err)
{
	PGresult *res;
	double started;
	bool ok;

	if (pc->dry_run)
		return pgc_change(pc, shown, 0, NULL, err);
	log_debug("SQL: %s", shown);
	started = clock_ms();
	res = PQexecParams(pc->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		/* the server's words only: a position or context could quote the statement */
		const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

		err_set(err, EXIT_RUNTIME, "%s", primary ? primary : "lost connection to the server");
		if (state)
			snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
		PQclear(res);
		return false;
	}
	ok = changelog_record(pc, shown, res, clock_ms() - started, err);
	PQclear(res);
	return ok;
}

bool
pgc_commit(PgConn *pc, PgpError *err)
{
	return changelog_record_holds(pc, err) && pgc_change(pc, "COMMIT", 0, NULL, err);
}

void
pgc_exec_quiet(PgConn *pc, const char *sql, int nparams, const char *const *params)
{
	PgpError ignored;

	err_init(&ignored);
	pgc_exec(pc, sql, nparams, params, &ignored);
	err_clear(&ignored);
}

bool
pgc_change_each(PgConn *pc, const char *sql, int nparams, const char *const *params,
				PgpError *err)
{
	PGresult *res = pgc_query(pc, sql, nparams, params, err);
	bool ok = res != NULL;
	int i;

	for (i = 0; ok && i < PQntuples(res); i++)
		ok = pgc_change(pc, PQgetvalue(res, i, 0), 0, NULL, err);
	PQclear(res);
	return ok;
}

void
pgc_copy_abandon(PgConn *pc)
{
	PGcancel *cancel = PQgetCancel(pc->conn);
	char errbuf[256];
	char *buf;
	PGresult *res;

	if (cancel)
	{
		PQcancel(cancel, errbuf, sizeof(errbuf));
		PQfreeCancel(cancel);
	}
	while (PQgetCopyData(pc->conn, &buf, 0) > 0)
		PQfreemem(buf);
	while ((res = PQgetResult(pc->conn)) != NULL)
		PQclear(res);
}

void
pgc_dry_run_note(PgConn *pc, const char *note)
{
	if (pc->dry_run)
		printf("-- %s\n", note);
}

bool
pgc_query_value(PgConn *pc, const char *sql, int nparams, const char *const *params,
				char **value, PgpError *err)
{
	PGresult *res = pgc_query(pc, sql, nparams, params, err);

	*value = NULL;
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
		*value = pg_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/*
 * libpq's escaping only fails on invalid encoding or out of memory; the text
 * is then never emitted unquoted: there is nothing safe left to do but stop.
 */
static void
append_escaped(PgConn *pc, StrBuf *sb, const char *text, bool as_literal)
{
	char *q = as_literal ? PQescapeLiteral(pc->conn, text, strlen(text))
						 : PQescapeIdentifier(pc->conn, text, strlen(text));

	if (q == NULL)
	{
		log_error("could not quote %s: %s", as_literal ? "literal" : "identifier",
				  PQerrorMessage(pc->conn));
		exit(EXIT_RUNTIME);
	}
	sb_append(sb, q);
	PQfreemem(q);
}

void
pgc_append_ident(PgConn *pc, StrBuf *sb, const char *ident)
{
	append_escaped(pc, sb, ident, false);
}

void
pgc_append_literal(PgConn *pc, StrBuf *sb, const char *value)
{
	append_escaped(pc, sb, value, true);
}

void
pgc_append_qualified(PgConn *pc, StrBuf *sb, const char *schema, const char *name)
{
	pgc_append_ident(pc, sb, schema);
	sb_append_char(sb, '.');
	pgc_append_ident(pc, sb, name);
}

bool
pgc_error_is_retryable_lock(const PgpError *err)
{
	return strcmp(err->sqlstate, SQLSTATE_LOCK_NOT_AVAILABLE) == 0 ||
		   strcmp(err->sqlstate, SQLSTATE_DEADLOCK_DETECTED) == 0 ||
		   strcmp(err->sqlstate, SQLSTATE_SERIALIZATION_FAILURE) == 0;
}

char *
pgc_quote_ident(PgConn *pc, const char *ident)
{
	StrBuf sb;

	sb_init(&sb);
	pgc_append_ident(pc, &sb, ident);
	return sb_steal(&sb);
}

char *
pgc_quote_qualified(PgConn *pc, const char *schema, const char *name)
{
	StrBuf sb;

	sb_init(&sb);
	pgc_append_qualified(pc, &sb, schema, name);
	return sb_steal(&sb);
}
