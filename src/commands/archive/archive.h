/*
 * archive.h - archiving closed partitions to file:// or s3:// storage and
 * restoring them, the tier policy, and retention.
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
#ifndef PGPART_OPS_ARCHIVE_H
#define PGPART_OPS_ARCHIVE_H

#include "storage/storage.h"
#include "pg/lock.h"

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
	bool resumed;		/* continued an unfinished job */
	bool dry_run;
	char *note; /* foreign table outcome, etc. */
	double copy_ms;
	double total_ms;
	double max_lock_held_ms;
} ArchivedPartition;

typedef struct ArchiveResult
{
	ArchivedPartition *items;
	int n;
} ArchiveResult;

void archiveresult_free(ArchiveResult *r);
bool ops_archive(PgConn *pc, const ArchiveOptions *opt, ArchiveResult *res, PgpError *err);

typedef struct RestoreOptions
{
	const char *table;
	const char *from; /* URL of a manifest */
	StorageOptions storage;
	LockPolicy lock;
	bool show_progress;
	bool trust_manifest; /* no archive job of this database vouches for the manifest */
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
	bool authenticated; /* the manifest is the one an archive job of this database recorded */
	NameList notes;		/* what differed from the manifest, what was not restored */
} RestoreResult;

void restoreresult_free(RestoreResult *r);
bool ops_restore(PgConn *pc, const RestoreOptions *opt, RestoreResult *res, PgpError *err);

typedef struct ArchiveEntry
{
	char *manifest_key;
	char *table;	 /* schema.name */
	char *partition; /* schema.name */
	char *lo, *hi;
	long long rows;
	long long raw_bytes;
	long long compressed_bytes;
	char *archived_at;
	char *problem; /* NULL, or why the manifest could not be read */
} ArchiveEntry;

typedef struct ArchiveListResult
{
	ArchiveEntry *items;
	int n;
} ArchiveListResult;

void archivelistresult_free(ArchiveListResult *r);
bool ops_archive_list(const char *url, const StorageOptions *so, ArchiveListResult *res,
					  PgpError *err);

/* ---- tier policy --------------------------------------------------- */

typedef struct PolicyOptions
{
	const char *table;
	const char *warm_after, *warm_tablespace;
	const char *archive_after, *archive_to;
	const char *drop_after;
	bool drop_unarchived;
	bool allow_insecure_endpoint; /* archives may go to a plain-http S3 endpoint */
	bool clear;					  /* remove the policy */
} PolicyOptions;

typedef struct TierPolicyRow
{
	char *warm_after, *warm_tablespace, *archive_after, *archive_to, *drop_after;
	bool drop_unarchived;
	bool allow_insecure_endpoint; /* given explicitly to "pgpart policy" */
} TierPolicyRow;

void tierpolicyrow_free(TierPolicyRow *p);
/* set (or with no step options, show) the policy of a managed table */
bool ops_policy(PgConn *pc, const PolicyOptions *opt, TierPolicyRow *out, bool *has,
				PgpError *err);
/* the stored policy (*has false when none) */
bool policy_load(PgConn *pc, RelOid parent, TierPolicyRow *out, bool *has, PgpError *err);

/*
 * maintain's tier step for one table: warm moves, archives, retention drops
 * that are due.  Each action taken (or, in --dry-run, planned) adds a line to
 * notes; a failing action stops the step with err.
 */
bool ops_apply_policy(PgConn *pc, RelOid parent, const LockPolicy *lock, NameList *notes,
					  PgpError *err);

/* archived ranges of a table, for status: "name [lo, hi) rows -> url" */
bool archive_status_lines(PgConn *pc, const char *schema, const char *name, NameList *lines,
						  PgpError *err);

#endif
