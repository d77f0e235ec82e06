/*
 * log_sql.c - pgpart.change_log, read and pruned.  The pruning is a row of
 * the log itself, so an auditor sees when entries were removed and by whom.
 */
#include "commands/log/log_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/changelog.h"
#include "pg/stmt.h"
#include "util/mem.h"

static char *
value_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_xstrdup(PQgetvalue(res, row, col));
}

bool
log_sql_read(PgConn *pc, const char *table, const char *since, int limit, LogResult *res,
			 PgpError *err)
{
	char limit_text[16];
	const char *params[3] = {table, since, limit_text};
	PGresult *r;
	int i;

	snprintf(limit_text, sizeof(limit_text), "%d", limit);
	r = pgc_query(pc,
				  "SELECT * FROM (SELECT id, pg_catalog.to_char(started_at, "
				  "'YYYY-MM-DD HH24:MI:SS.MS TZH'), duration_ms, role, client_host, client_pid, "
				  "command, table_name, kind, statement, rows, outcome, lock_hold_ms "
				  "FROM pgpart.change_log "
				  "WHERE ($1::text IS NULL OR table_name = $1) "
				  "AND ($2::date IS NULL OR started_at >= $2::date) "
				  "ORDER BY started_at DESC, id DESC LIMIT $3::integer) newest "
				  "ORDER BY 2, 1",
				  3, params, err);
	if (r == NULL)
		return false;
	res->n = PQntuples(r);
	res->entries = pg_xcalloc((size_t) res->n + 1, sizeof(LogEntry));
	for (i = 0; i < res->n; i++)
	{
		LogEntry *e = &res->entries[i];

		e->started_at = value_or_null(r, i, 1);
		e->duration_ms = strtod(PQgetvalue(r, i, 2), NULL);
		e->role = value_or_null(r, i, 3);
		e->host = value_or_null(r, i, 4);
		e->pid = atoi(PQgetvalue(r, i, 5));
		e->command = value_or_null(r, i, 6);
		e->table = value_or_null(r, i, 7);
		e->kind = value_or_null(r, i, 8);
		e->statement = value_or_null(r, i, 9);
		e->rows = PQgetisnull(r, i, 10) ? -1 : strtoll(PQgetvalue(r, i, 10), NULL, 10);
		e->outcome = value_or_null(r, i, 11);
		e->lock_hold_ms = PQgetisnull(r, i, 12) ? -1 : strtod(PQgetvalue(r, i, 12), NULL);
	}
	PQclear(r);
	return true;
}

bool
log_sql_stored_name(PgConn *pc, const char *schema, const char *name, char **stored,
					PgpError *err)
{
	const char *params[2] = {schema, name};

	return pgc_query_value(pc, "SELECT pg_catalog.format('%I.%I', $1::text, $2::text)", 2, params,
						   stored, err);
}

bool
log_sql_prune(PgConn *pc, int64_t keep_ms, long long *deleted, PgpError *err)
{
	static const char prune[] =
		"DELETE FROM pgpart.change_log WHERE started_at < pg_catalog.clock_timestamp() - "
		"pg_catalog.make_interval(secs => $1::float8 / 1000)";
	char keep[32];
	const char *params[1] = {keep};
	PGresult *r;
	bool ok;

	*deleted = 0;
	snprintf(keep, sizeof(keep), "%lld", (long long) keep_ms);
	if (pc->dry_run)
		return pgc_change(pc, prune, 1, params, err);
	if (!stmt_begin(pc, err))
		return false;
	r = pgc_query(pc, prune, 1, params, err);
	ok = r != NULL;
	if (ok)
	{
		*deleted = strtoll(PQcmdTuples(r), NULL, 10);
		ok = changelog_record_own(pc, prune, r, err);
	}
	PQclear(r);
	if (ok)
		return stmt_commit(pc, err);
	pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
	return false;
}
