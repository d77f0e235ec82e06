/*
 * status_sql.h - the statements of "pgpart status" that read pgpart's own
 * tables (run_log; the rollups' lines come from rollup.h); the catalog reads
 * it shares with other commands are in src/pg.  Only reads, under ACCESS SHARE.
 */
#ifndef PGPART_COMMANDS_STATUS_SQL_H
#define PGPART_COMMANDS_STATUS_SQL_H

#include "pg/catalog.h"
#include "pg/conn.h"

/* the last "maintain" of parent in run_log: *at malloc'd, NULL when it never ran */
bool status_last_maintenance(PgConn *pc, RelOid parent, char **at, bool *ok, PgpError *err);
/*
 * The split or merge of parent in progress, as a sentence (*what malloc'd,
 * NULL when none, or when this role may not read pgpart.reshape_job: a
 * reporting role granted SELECT before the table existed)
 */
bool status_reshape_in_progress(PgConn *pc, RelOid parent, char **what, PgpError *err);

#endif
