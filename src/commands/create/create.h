/*
 * create.h - "pgpart create": partitions a new or empty table, or takes over one
 * partitioned by hand.  Reports through CreateResult and PgpError; prints
 * nothing (only --dry-run SQL, printed by src/pg).
 */
#ifndef PGPART_COMMANDS_CREATE_H
#define PGPART_COMMANDS_CREATE_H

#include "core/partspec.h"
#include "core/calendar.h"
#include "pg/catalog.h"
#include "pg/lock.h"

typedef struct CreateOptions
{
	const char *table;
	const char *like; /* NULL: convert or adopt the existing TABLE */
	PartitionArgs part; /* --column, --interval, --start, --premake, --time-zone */
	LockPolicy lock;
} CreateOptions;

typedef enum CreateMode
{
	CREATE_FROM_LIKE,	/* new table with the columns of --like */
	CREATE_CONVERT,		/* existing empty plain table replaced */
	CREATE_ADOPT		/* existing partitioned table taken under management */
} CreateMode;

typedef struct CreateResult
{
	CreateMode mode;
	char *schema;
	char *name;
	NameList partitions_created;
	NameList warnings;
	LockStats locks;
	LockFelt felt; /* what writers of the table could have waited (adopt: its worst ATTACH) */
} CreateResult;

void createresult_free(CreateResult *r);
bool ops_create(PgConn *pc, const CreateOptions *opt, CreateResult *res, PgpError *err);

#endif
