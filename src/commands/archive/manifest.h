/*
 * manifest.h - the JSON manifest written beside each archive object: written
 * by archive, read by restore and archive list (manifest.c).
 *
 * A manifest is input from outside like any other when it is read back:
 * manifest_parse type-checks and bounds every field and never lets its text
 * reach SQL; the caller decides what to believe of it.
 */
#ifndef PGPART_COMMANDS_ARCHIVE_MANIFEST_H
#define PGPART_COMMANDS_ARCHIVE_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>

#include "util/error.h"

/* no manifest pgpart writes comes near this; a larger object is not one */
#define MANIFEST_MAX_BYTES (16u << 20)

/* what archive knows when it writes the manifest of one partition */
typedef struct ManifestFacts
{
	const char *server_version, *archived_at;
	const char *table_schema, *table_name;
	const char *partition_schema, *partition_name, *column;
	const char *lo, *hi;
	json_t *columns;		  /* [{name, type, not_null, generated}] (borrowed) */
	json_t *indexes;		  /* [{name, definition, ...}] (borrowed) */
	const char *table_ddl;	  /* for people; restore never runs it */
	const char *copy_columns; /* the COPY column list, quoted */
	const char *object;		  /* the object's name beside the manifest */
	const char *sha256;		  /* of the object */
	long long rows, raw_bytes, compressed_bytes, table_bytes;
} ManifestFacts;

/* the manifest's text (malloc'd), or NULL with err */
char *manifest_write(const ManifestFacts *f, PgpError *err);

typedef struct Manifest
{
	json_t *root;
	char hash[65]; /* SHA-256 of its bytes */
	/* as the manifest says; compared and reported only */
	const char *tschema, *tname, *pschema, *pname, *archived_at;
	/* data: checked against the catalog and the object */
	const char *column, *lo, *hi, *sha256, *object;
	long long rows, raw_bytes, compressed_bytes;
	json_t *columns; /* [{name, type, generated}], the order of the COPY data */
	json_t *indexes; /* [{name, ...}]: reported only */
} Manifest;

/*
 * Parses and checks the manifest's bytes (what: its name, for messages).
 * Every field pgpart reads is type-checked and bounded; a manifest that
 * fails is refused whole (exit 3).  Free with manifest_free.
 */
bool manifest_parse(const char *text, size_t len, const char *what, Manifest *m, PgpError *err);
void manifest_free(Manifest *m);

#endif
