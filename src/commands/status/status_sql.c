/*
 * status_sql.c - the statements of "pgpart status" that read pgpart's own
 * tables: when the table was last maintained, and how current its rollups
 * are.  Values are $n parameters; nothing here takes more than ACCESS SHARE.
 */
#include "commands/status/status_sql.h"

#include <stdio.h>

#include "pg/stmt.h"

bool
status_last_maintenance(PgConn *pc, RelOid parent, char **at, bool *ok, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};

	snprintf(oid, sizeof(oid), "%u", parent);
	return stmt_text_and_flags(pc,
							   "SELECT finished_at::text, ok FROM pgpart.run_log "
							   "WHERE parent_table = $1::pg_catalog.oid AND command = 'maintain' "
							   "ORDER BY finished_at DESC LIMIT 1",
							   1, params, at, 1, ok, err);
}

bool
status_reshape_in_progress(PgConn *pc, RelOid parent, char **what, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	bool may = false, none = false;

	*what = NULL;
	snprintf(oid, sizeof(oid), "%u", parent);
	if (!stmt_query_bool(pc, "SELECT pg_catalog.has_table_privilege('pgpart.reshape_job', 'SELECT')",
						 0, NULL, &may, err))
		return false;
	return !may ||
		   stmt_text_and_flags(
			   pc,
			   "SELECT 'a ' || kind || ' of ' || pg_catalog.array_to_string(sources, ', ') "
			   "|| ' into ' || target_interval || 's is in progress (phase ' || phase || ', since ' "
			   "|| started_at::text || '): run \"pgpart ' || kind || '\" with the same partitions "
			   "again to finish it' || CASE WHEN phase <> 'swapped' THEN ', or with --abort to undo it' "
			   "ELSE '' END FROM pgpart.reshape_job WHERE parent_table = $1::pg_catalog.oid "
			   "AND phase IN ('copying', 'copied', 'swapped')",
			   1, params, what, 0, &none, err);
}
