/* archive_int.h - what archive.c, restore.c and policy.c share (not a public interface) */
#ifndef PGPART_OPS_ARCHIVE_INT_H
#define PGPART_OPS_ARCHIVE_INT_H

#include <zstd.h>

#include "storage/digest.h"
#include "commands/archive/archive.h"
#include "pg/config.h"

typedef struct ArchJob
{
	char *id, *phase, *location, *object_key, *manifest_key, *lo, *hi;
	char *pschema, *pname, *column, *sha256;
	char *manifest_sha256; /* of the manifest's bytes as written; NULL before (or from pgpart < 5) */
	long long rows, raw_bytes, compressed_bytes;
} ArchJob;

void archjob_free(ArchJob *j);

#ifdef PGPART_TEST_HOOKS
void archive_test_kill(const char *point);
#endif

bool arch_exec_sb(PgConn *pc, StrBuf *sb, PgpError *err);
/* "col" IS NOT NULL AND "col" >= 'lo' AND "col" < 'hi' */
void arch_append_check(PgConn *pc, StrBuf *sb, const char *column, const char *lo, const char *hi);
void arch_append_for_values(PgConn *pc, StrBuf *sb, const char *lo, const char *hi);
void arch_result_error(PgConn *pc, PGresult *res, PgpError *err, const char *what);

bool archive_reattach(PgConn *pc, const LockPolicy *lock, const char *parent_q, ArchJob *job,
					  const char *why, PgpError *err);
bool archive_load_config(PgConn *pc, const char *table, PartConfig *cfg, KeyType *key_type,
						 PgpError *err);
bool archive_age_cutoff(PgConn *pc, const PartConfig *cfg, KeyType key_type, const Age *age,
						int64_t *cutoff_us, PgpError *err);
bool archive_now_us(PgConn *pc, int64_t *now_us, PgpError *err);
/* a file_fdw partition left in place of an archived table */
bool archive_is_foreign(PgConn *pc, RelOid rel, bool *foreign, PgpError *err);

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
