/*
 * stmt.c - the statement helpers of stmt.h.  Archive, move, create and the
 * partition code each had their own copy of "format it, change it, free it";
 * move and status their own "one row: a name and what is true of it", and
 * several their own "a number (or a yes) from the first row, if any".
 */
#include "pg/stmt.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

bool
stmt_change_v(PgConn *pc, PgpError *err, const char *fmt, va_list ap)
{
	char *sql = pg_xvasprintf(fmt, ap);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	return ok;
}

bool
stmt_change_f(PgConn *pc, PgpError *err, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = stmt_change_v(pc, err, fmt, ap);
	va_end(ap);
	return ok;
}

bool
stmt_change_sb(PgConn *pc, StrBuf *sql, PgpError *err)
{
	bool ok = pgc_change(pc, sql->data, 0, NULL, err);

	sb_reset(sql);
	return ok;
}

bool
stmt_change_list(PgConn *pc, const NameList *stmts, PgpError *err)
{
	int i;

	for (i = 0; i < stmts->n; i++)
		if (!pgc_change(pc, stmts->items[i], 0, NULL, err))
			return false;
	return true;
}

bool
stmt_query_number(PgConn *pc, const char *sql, int nparams, const char *const *params,
				  long long *n, PgpError *err)
{
	char *v = NULL;
	bool ok = pgc_query_value(pc, sql, nparams, params, &v, err);

	*n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return ok;
}

bool
stmt_query_bool(PgConn *pc, const char *sql, int nparams, const char *const *params, bool *yes,
				PgpError *err)
{
	char *v = NULL;
	bool ok = pgc_query_value(pc, sql, nparams, params, &v, err);

	*yes = v && v[0] == 't';
	free(v);
	return ok;
}

bool
stmt_text_and_flags(PgConn *pc, const char *sql, int nparams, const char *const *params,
					char **text, int nflags, bool *flags, PgpError *err)
{
	PGresult *res;
	int i;

	*text = NULL;
	memset(flags, 0, (size_t) nflags * sizeof(bool));
	res = pgc_query(pc, sql, nparams, params, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
	{
		*text = pg_xstrdup(PQgetvalue(res, 0, 0));
		for (i = 0; i < nflags; i++)
			flags[i] = PQgetvalue(res, 0, i + 1)[0] == 't';
	}
	PQclear(res);
	return true;
}

bool
stmt_savepoint(PgConn *pc, SavepointStep step, const char *name, PgpError *err)
{
	static const char *const verb[] = {
		[SAVEPOINT_SET] = "SAVEPOINT",
		[SAVEPOINT_RELEASE] = "RELEASE SAVEPOINT",
		[SAVEPOINT_ROLLBACK] = "ROLLBACK TO SAVEPOINT",
	};
	char *sql = pg_xasprintf("%s %s", verb[step], name);
	bool ok = pgc_exec(pc, sql, 0, NULL, err);

	free(sql);
	return ok;
}

bool
stmt_begin(PgConn *pc, PgpError *err)
{
	return pgc_change(pc, "BEGIN", 0, NULL, err);
}

bool
stmt_commit(PgConn *pc, PgpError *err)
{
	return pgc_commit(pc, err);
}
