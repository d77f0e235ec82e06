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
