/*
 * archive.h - pgpart archive: closed partitions of a table out of the
 * database into file:// or s3:// storage (archive.c chooses them,
 * archive_job.c takes each through its phases), and what the tier policy
 * and status use of it.
 *
 * Archive of one partition, each phase recorded in pgpart.archive_job before
 * the next begins (a re-run after a crash continues from there):
 *
 *   started   job recorded (location, object names, bounds)
 *   detached  DETACH PARTITION (CONCURRENTLY when the parent has no default
 *             partition; otherwise a plain DETACH under lock_timeout)
 *   uploaded  COPY ... TO STDOUT -> zstd -> SHA-256 -> object; manifest
 *   verified  object and manifest read back: checksum, sizes, zstd frame
 *   archived  rows still as archived (count under lock), table dropped
 *
 * The data is never in fewer than one verified place.  When storage fails
 * before "verified", the detached table is attached back (a CHECK constraint
 * matching the bounds first, so ATTACH scans nothing) and the job is marked
 * "reattached": the data stays queryable, a re-run starts a new job.
 */
#ifndef PGPART_COMMANDS_ARCHIVE_ARCHIVE_H
#define PGPART_COMMANDS_ARCHIVE_ARCHIVE_H

#include "core/archurl.h"
#include "pg/config.h"
#include "pg/lock.h"
#include "storage/storage.h"

typedef struct ArchiveOptions
{
	const char *table;
	const char *partition;	/* one partition, or NULL with older_than */
	const char *older_than; /* an age: every closed partition whose range ended before */
	const char *to;			/* location URL */
	StorageOptions storage;
	LockPolicy lock;
	int level;			/* zstd level, 0: 3 */
	bool show_progress;	   /* a progress bar on a terminal */
	bool no_foreign_table; /* file://: no file_fdw partition in place of the table */
} ArchiveOptions;

typedef struct ArchivedPartition
{
	char *partition; /* schema.name */
	char *lo, *hi;
	char *object_url;
	char *manifest_url;
	long long rows;
	long long raw_bytes;
	long long compressed_bytes;
	long long table_bytes; /* heap + indexes + toast before the drop */
	char *sha256;
	bool resumed; /* continued an unfinished job */
	bool dry_run; /* only planned: its DETACH and DROP were printed */
	char *note;	  /* foreign table outcome, etc. */
	double copy_ms;
	double total_ms;
	double max_lock_held_ms;
	LockFelt felt; /* its worst DETACH or DROP for writers */
} ArchivedPartition;

typedef struct ArchiveResult
{
	ArchivedPartition *items;
	int n;
} ArchiveResult;

void archiveresult_free(ArchiveResult *r);
/* res holds what was archived (or planned) even when it fails part way */
bool ops_archive(PgConn *pc, const ArchiveOptions *opt, ArchiveResult *res, PgpError *err);

/* archived ranges of a table, for status: "name [lo, hi): archived, N rows, ... in URL" */
bool archive_status_lines(PgConn *pc, const char *schema, const char *name, NameList *lines,
						  PgpError *err);

/* ---- what the tier policy shares with archive ------------------------- */

/* the managed table (its config) and the type of its partition key; usage errors exit 2 */
bool archive_load_config(PgConn *pc, const char *table, PartConfig *cfg, KeyType *key_type,
						 PgpError *err);
/* today - age, in the table's time zone, as the instant a partition must end before */
bool archive_age_cutoff(PgConn *pc, const PartConfig *cfg, KeyType key_type, const Age *age,
						int64_t *cutoff_us, PgpError *err);
/* the server's now(), in microseconds since 1970 */
bool archive_now_us(PgConn *pc, int64_t *now_us, PgpError *err);
/* a file_fdw partition left in place of an archived table */
bool archive_is_foreign(PgConn *pc, RelOid rel, bool *foreign, PgpError *err);

#endif
