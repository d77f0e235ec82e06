/*
 * archive_list.h - pgpart archive list: the archives in a location, read from
 * their manifests (archive_list.c).  It reads storage only, no database.
 */
#ifndef PGPART_COMMANDS_ARCHIVE_ARCHIVE_LIST_H
#define PGPART_COMMANDS_ARCHIVE_ARCHIVE_LIST_H

#include "storage/storage.h"

typedef struct ArchiveEntry
{
	char *manifest_key; /* the manifest's URL */
	char *table;		/* schema.name */
	char *partition;	/* schema.name */
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

#endif
