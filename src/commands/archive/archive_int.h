/*
 * archive_int.h - what the files of pgpart archive, archive list and restore
 * share inside this folder (not an interface for other commands): the
 * archive job as pgpart.archive_job records it, the driver of one job, the
 * reader that checks an object as it streams in, and the test build's kill
 * points.
 */
#ifndef PGPART_COMMANDS_ARCHIVE_ARCHIVE_INT_H
#define PGPART_COMMANDS_ARCHIVE_ARCHIVE_INT_H

#include <zstd.h>

#include "commands/archive/archive.h"
#include "pg/config.h"
#include "storage/digest.h"

/* pgpart.archive_job.phase; archive.h draws the order */
typedef enum ArchPhase
{
	ARCH_STARTED,
	ARCH_DETACHED,
	ARCH_UPLOADED,
	ARCH_VERIFIED,
	ARCH_ARCHIVED,
	ARCH_REATTACHED, /* storage failed: attached back, the job is over */
	ARCH_RESTORED
} ArchPhase;

/* the phase's name as stored */
const char *archphase_name(ArchPhase phase);
/* false for a name that is not a phase */
bool archphase_parse(const char *name, ArchPhase *phase);

typedef struct ArchJob
{
	char *id;
	ArchPhase phase;
	char *location, *object_key, *manifest_key, *lo, *hi;
	char *pschema, *pname, *column, *sha256;
	char *manifest_sha256; /* of the manifest's bytes as written; NULL before (or from pgpart < 5) */
	long long rows, raw_bytes, compressed_bytes;
} ArchJob;

void archjob_free(ArchJob *j);

/*
 * Takes one job from its recorded phase to "archived" (archive_job.c): the
 * detach, the upload, the read-back, the drop.  When storage fails first the
 * partition is attached back.  out gets the figures either way.
 */
bool archive_job_run(PgConn *pc, const ArchiveOptions *opt, Storage *st, const PartConfig *cfg,
					 bool plain_detach, ArchJob *job, ArchivedPartition *out, PgpError *err);

/* LOCATION/KEY, as messages and results show an object */
char *archive_location_url(const Storage *st, const char *key);

#ifdef PGPART_TEST_HOOKS
/* PGPART_TEST_ARCHIVE_KILL=POINT: the process dies with SIGKILL at that point */
void archive_test_kill(const char *point);
#define ARCHIVE_TEST_KILL(point) archive_test_kill(point)
#else
#define ARCHIVE_TEST_KILL(point) ((void) 0)
#endif

/*
 * Reads an archive object as it streams in: SHA-256 and size of the
 * compressed bytes, zstd decompression (frame checksum included), and the
 * decompressed bytes to sink (NULL: counted only).  It stops with an error
 * as soon as the object is longer than comp_limit or decompresses to more
 * than raw_limit (the manifest's figures; -1: no limit), so an object that
 * lies about its size can neither run long nor fill the disk.
 */
typedef bool (*ArchiveSinkFn)(void *arg, const void *data, size_t n, PgpError *err);

typedef struct ArchiveReader
{
	ZSTD_DCtx *dctx;
	Sha256 *sha;
	void *out;
	size_t out_cap;
	size_t last_ret; /* 0 once a frame ended exactly */
	long long comp, raw;
	long long comp_limit, raw_limit;
	const char *what;
	ArchiveSinkFn sink;
	void *sink_arg;
	bool failed;
} ArchiveReader;

void archive_reader_init(ArchiveReader *r, const char *what, ArchiveSinkFn sink, void *sink_arg,
						 long long comp_limit, long long raw_limit);
bool archive_reader_chunk(void *arg, const void *data, size_t n, PgpError *err);
/* checks what was read against the manifest's figures (raw_bytes < 0: not checked) */
bool archive_reader_finish(ArchiveReader *r, const char *sha256, long long compressed_bytes,
						   long long raw_bytes, PgpError *err);
void archive_reader_free(ArchiveReader *r);

#endif
