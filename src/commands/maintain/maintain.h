/*
 * maintain.h - "pgpart maintain": premake partitions, empty the default
 * partition, then the table's rollups and tier policy.  Prints nothing.
 */
#ifndef PGPART_COMMANDS_MAINTAIN_H
#define PGPART_COMMANDS_MAINTAIN_H

#include "pg/catalog.h"
#include "pg/lock.h"
#include "pg/partition.h"

typedef struct TableMaintenance
{
	char *schema;
	char *name;
	bool ok;
	bool busy;	 /* !ok because another pgpart was working on it (skipped, EXIT_BUSY) */
	char *error; /* when !ok */
	NameList partitions_created;
	long rows_moved;
	int drain_batches; /* batch transactions of the default partition's drain */
	int drain_pauses;  /* its waits for the server's health (--max-lag ...) */
	double drain_paused_ms;
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
/* the same, with the default partition drained as drain says */
bool ops_maintain_drained(PgConn *pc, const char *table, const LockPolicy *lock,
						  const DrainPolicy *drain, MaintainResult *res, PgpError *err);

#endif
