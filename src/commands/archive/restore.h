/*
 * restore.h - pgpart restore: an archived partition back into its table
 * (restore.c; restore_sql.c holds its statements).
 */
#ifndef PGPART_COMMANDS_ARCHIVE_RESTORE_H
#define PGPART_COMMANDS_ARCHIVE_RESTORE_H

#include "core/throttle.h"
#include "pg/lock.h"
#include "storage/storage.h"

typedef struct RestoreOptions
{
	const char *table;
	const char *from; /* URL of a manifest */
	StorageOptions storage;
	LockPolicy lock;
	bool show_progress;
	bool trust_manifest; /* no archive job of this database vouches for the manifest */
	HealthArgs health;	 /* before the load, wait while the server is unwell */
} RestoreOptions;

typedef struct RestoreResult
{
	char *partition;
	char *lo, *hi;
	long long rows;
	long long compressed_bytes;
	double load_ms;
	double total_ms;
	double max_lock_held_ms;
	LockFelt felt; /* the ATTACH transaction, for writers */
	bool authenticated; /* the manifest is the one an archive job of this database recorded */
	NameList notes;		/* what differed from the manifest, what was not restored */
} RestoreResult;

void restoreresult_free(RestoreResult *r);
bool ops_restore(PgConn *pc, const RestoreOptions *opt, RestoreResult *res, PgpError *err);

#endif
