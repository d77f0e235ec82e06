/*
 * storage.h - where archives go: one small interface, two drivers.
 *
 *   file://DIR     storage_file.c: writes to a temporary name, fsyncs, renames
 *                  into place (and fsyncs the directory), so an object either
 *                  exists complete or not at all
 *   s3://BUCKET/P  storage_s3.c: libcurl with its own SigV4 signing; objects up
 *                  to one part are sent with one PUT, bigger ones as a multipart
 *                  upload, so memory stays at about one part whatever the size
 *
 * Keys are relative to the location ("public.revenues/x.copy.zst").  Writes
 * are streams: open, write any number of times, then finish (commit) or abort
 * (nothing is left behind).  Reads are streams too: the driver calls back with
 * each chunk as it arrives.
 */
#ifndef PGPART_STORAGE_STORAGE_H
#define PGPART_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/archurl.h"
#include "pg/catalog.h"
#include "util/error.h"

typedef struct Storage Storage;
typedef struct StorageWriter StorageWriter;

/* return false (with err set) to stop the read */
typedef bool (*StorageChunkFn)(void *arg, const void *data, size_t n, PgpError *err);

typedef struct StorageOps
{
	bool (*put_open)(Storage *s, const char *key, StorageWriter **w, PgpError *err);
	bool (*put_write)(StorageWriter *w, const void *data, size_t n, PgpError *err);
	/* commit: make the object visible; !commit: abort and clean up (never fails) */
	bool (*put_finish)(StorageWriter *w, bool commit, PgpError *err);
	bool (*get)(Storage *s, const char *key, StorageChunkFn fn, void *arg, PgpError *err);
	/* every key under prefix ("" = all), recursively, sorted */
	bool (*list)(Storage *s, const char *prefix, NameList *keys, PgpError *err);
	bool (*head)(Storage *s, const char *key, bool *exists, long long *size, PgpError *err);
	bool (*del)(Storage *s, const char *key, PgpError *err);
	void (*close)(Storage *s);
} StorageOps;

struct Storage
{
	const StorageOps *ops;
	char *url; /* normalised location, for messages */
	void *impl;
};

typedef struct StorageOptions
{
	const char *s3_endpoint; /* NULL: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS itself */
	size_t part_size;		 /* 0: PGPART_S3_PART_SIZE or 8 MiB */
	int max_attempts;		 /* 0: 5 */
	bool allow_insecure_endpoint; /* an http:// endpoint given consent explicitly */
} StorageOptions;

/* opens the location (checks that it exists and is usable); usage errors exit 2 */
bool storage_open(const char *url, const StorageOptions *opt, Storage **s, PgpError *err);
void storage_close(Storage *s);

/* a whole small object (a manifest) into memory, at most max bytes */
bool storage_get_all(Storage *s, const char *key, size_t max, char **data, size_t *len,
					 PgpError *err);
bool storage_put_all(Storage *s, const char *key, const void *data, size_t len, PgpError *err);

/* drivers */
bool storage_file_open(const ArchUrl *u, Storage **s, PgpError *err);
bool storage_s3_open(const ArchUrl *u, const StorageOptions *opt, Storage **s, PgpError *err);

#endif
