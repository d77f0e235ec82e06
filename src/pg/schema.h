/*
 * schema.h - pgpart's own schema in the user's database: configuration and
 * run history, with a version number so a newer pgpart can upgrade it.
 */
#ifndef PGPART_PG_SCHEMA_H
#define PGPART_PG_SCHEMA_H

#include "pg/conn.h"

#define PGPART_SCHEMA_VERSION 11

/*
 * Work of an upgrade that needs more than statements (what earlier versions
 * made), run in the transaction of the upgrade after its steps, on every
 * run; from_version is the version found (0: none).  In --dry-run the steps
 * were only printed.
 */
typedef bool (*SchemaHook)(PgConn *pc, int from_version, void *arg, PgpError *err);

/*
 * Creates the schema or upgrades it to PGPART_SCHEMA_VERSION, and runs hook
 * (may be NULL), in one transaction.  *from_version is 0 when it was not
 * installed.
 */
bool schema_install(PgConn *pc, SchemaHook hook, void *hook_arg, int *from_version,
					int *to_version, PgpError *err);

/* fails with a hint to run "pgpart init" unless the schema is current */
bool schema_require(PgConn *pc, PgpError *err);

#endif
