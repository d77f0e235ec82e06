/*
 * maintain.h - "pgpart maintain": premake partitions, empty the default
 * partition, then the table's rollups and tier policy.  Prints nothing.
 */
#ifndef PGPART_COMMANDS_MAINTAIN_H
#define PGPART_COMMANDS_MAINTAIN_H

#include "pg/catalog.h"
#include "pg/lock.h"

typedef struct TableMaintenance
{
	char *schema;
	char *name;
	bool ok;
	bool busy;	 /* !ok because another pgpart was working on it (skipped, EXIT_BUSY) */
	char *error; /* when !ok */
	NameList partitions_created;
	long rows_moved;
	long rows_left_in_default; /* NULL keys, or ranges pgpart cannot take */
	NameList notes;
	int lock_attempts;
	double max_lock_held_ms;
	LockFelt felt; /* its worst ATTACH (default drain included) for writers */
	double duration_ms;
} TableMaintenance;

typedef struct MaintainResult
{
	TableMaintenance *tables;
	int n;
} MaintainResult;

void maintainresult_free(MaintainResult *r);
/* table NULL: every configured table; a failing table does not stop the others */
bool ops_maintain(PgConn *pc, const char *table, const LockPolicy *lock, MaintainResult *res,
				  PgpError *err);

#endif
