/*
 * restore.c - pgpart restore: an archived partition back into its table, and
 * pgpart archive list.
 *
 * A manifest is input from outside like any other: every field is
 * type-checked and bounded, and no text in it is ever run as SQL.  It is
 * authenticated by the archive job this database recorded (the SHA-256 of
 * the manifest as written); a manifest no job vouches for (archived in
 * another database) is restored only with --trust-manifest, and a manifest
 * that differs from the one its job recorded never.  What restore takes from
 * it is data: the order of the columns in the COPY stream (their names and
 * types must be the table's), the bounds (one period of the table: they give
 * the partition its name, always in the table's schema), and the object's
 * name, sizes, row count and SHA-256 to check the object against.  Indexes
 * and constraints come from the table's own: the new table is made LIKE it,
 * its partitioned indexes are built on it from the catalog, and ATTACH finds
 * them.  Everything else in the manifest is at most compared and reported.
 *
 * In one transaction restore creates the table (with a CHECK constraint of
 * the bounds), streams the object through zstd into COPY FROM STDIN while
 * hashing it -- stopping as soon as it is longer, or decompresses to more,
 * than the manifest says -- and refuses (rolls everything back) when the
 * checksum, the size or the zstd stream is wrong; then builds the indexes.  A
 * second short transaction under lock_timeout ATTACHes it (the CHECK
 * constraint spares the scan).  A crash between the two leaves a loaded,
 * unattached table marked with the archive's checksum: a re-run attaches it
 * without loading again.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "commands/archive/archive_int.h"
#include "pg/bounds.h"
#include "pg/partition.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/progress.h"

#define MANIFEST_MAX_BYTES (16u << 20)
/* an identifier, as PostgreSQL keeps it (NAMEDATALEN - 1) */
#define NAME_BYTES 63
/* sizes beyond any partition: 1 PiB */
#define ARCHIVE_MAX_BYTES (1LL << 50)
/*
 * zstd's densest block (RLE: a 3-byte header and one byte) stands for
 * 128 KiB, so no zstd stream holds more than 32768 times its size.
 */
#define ZSTD_MAX_RATIO 32768LL

void
restoreresult_free(RestoreResult *r)
{
	free(r->partition);
	free(r->lo);
	free(r->hi);
	namelist_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

static void
add_note(NameList *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add_note(NameList *notes, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = pg_xvasprintf(fmt, ap);
	va_end(ap);
	namelist_add(notes, s);
	free(s);
}

/* ---- the manifest: parsed and checked, never run --------------------- */

typedef struct Manifest
{
	json_t *root;
	char hash[65]; /* SHA-256 of its bytes */
	/* as the manifest says; compared and reported only */
	const char *tschema, *tname, *pschema, *pname;
	/* data: checked against the catalog and the object */
	const char *column, *lo, *hi, *sha256, *object;
	long long rows, raw_bytes, compressed_bytes;
	json_t *columns; /* [{name, type, generated}], the order of the COPY data */
	json_t *indexes; /* [{name, ...}]: reported only */
} Manifest;

typedef struct MCheck
{
	const char *what;
	PgpError *err;
	bool ok;
} MCheck;

static void
mbad(MCheck *mc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* the first problem found is the error */
static void
mbad(MCheck *mc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!mc->ok)
		return;
	va_start(ap, fmt);
	msg = pg_xvasprintf(fmt, ap);
	va_end(ap);
	err_set(mc->err, EXIT_CHECK, "manifest %s is malformed: %s", mc->what, msg);
	err_hint(mc->err, "It is damaged or was edited; nothing was changed.  Restore from an intact "
					  "copy of the archive.");
	free(msg);
	mc->ok = false;
}

/*
 * A string field: a JSON string of at most max bytes, not empty; oneline:
 * no control characters.  NULL when absent (an error unless optional).
 */
static const char *
mstr(MCheck *mc, json_t *obj, const char *key, const char *field, size_t max, bool optional,
	 bool oneline)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len, i;

	if (!mc->ok)
		return NULL;
	if (v == NULL || (optional && json_is_null(v)))
	{
		if (!optional)
			mbad(mc, "\"%s\" is missing", field);
		return NULL;
	}
	if (!json_is_string(v))
	{
		mbad(mc, "\"%s\" is not a string", field);
		return NULL;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 && !optional)
	{
		mbad(mc, "\"%s\" is empty", field);
		return NULL;
	}
	if (len > max)
	{
		mbad(mc, "\"%s\" is longer than %zu bytes", field, max);
		return NULL;
	}
	for (i = 0; oneline && i < len; i++)
		if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
		{
			mbad(mc, "\"%s\" contains a control character", field);
			return NULL;
		}
	return s;
}

/* a count: a JSON integer, 0 <= n <= max */
static long long
mcount(MCheck *mc, json_t *obj, const char *key, const char *field, long long max, bool optional)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (!mc->ok)
		return -1;
	if (v == NULL && optional)
		return -1;
	if (v == NULL)
	{
		mbad(mc, "\"%s\" is missing", field);
		return -1;
	}
	if (!json_is_integer(v))
	{
		mbad(mc, "\"%s\" is not an integer", field);
		return -1;
	}
	n = json_integer_value(v);
	if (n < 0)
	{
		mbad(mc, "\"%s\" is negative (%lld)", field, (long long) n);
		return -1;
	}
	if (n > max)
	{
		mbad(mc, "\"%s\" is %lld, more than %lld", field, (long long) n, max);
		return -1;
	}
	return (long long) n;
}

static bool
mbool(MCheck *mc, json_t *obj, const char *key, const char *field)
{
	json_t *v = json_object_get(obj, key);

	if (mc->ok && v && !json_is_boolean(v))
		mbad(mc, "\"%s\" is not true or false", field);
	return json_is_true(v);
}

static json_t *
mobj(MCheck *mc, json_t *obj, const char *key, const char *field)
{
	json_t *v = json_object_get(obj, key);

	if (mc->ok && !json_is_object(v))
		mbad(mc, v ? "\"%s\" is not an object" : "\"%s\" is missing", field);
	return mc->ok ? v : NULL;
}

static json_t *
marray(MCheck *mc, json_t *obj, const char *key, const char *field, size_t min, size_t max)
{
	json_t *v = json_object_get(obj, key);

	if (!mc->ok)
		return NULL;
	if (!json_is_array(v))
		mbad(mc, v ? "\"%s\" is not an array" : "\"%s\" is missing", field);
	else if (json_array_size(v) < min)
		mbad(mc, "\"%s\" has fewer than %zu entries", field, min);
	else if (json_array_size(v) > max)
		mbad(mc, "\"%s\" has more than %zu entries", field, max);
	return mc->ok ? v : NULL;
}

static void
check_columns_shape(MCheck *mc, json_t *cols)
{
	size_t i, j;
	json_t *col;

	json_array_foreach(cols, i, col)
	{
		char *f = pg_xasprintf("columns[%zu]", i);
		char *fn = pg_xasprintf("columns[%zu].name", i);
		char *ft = pg_xasprintf("columns[%zu].type", i);
		char *fg = pg_xasprintf("columns[%zu].generated", i);
		char *fnn = pg_xasprintf("columns[%zu].not_null", i);
		const char *name;

		if (!json_is_object(col))
			mbad(mc, "\"%s\" is not an object", f);
		name = mstr(mc, col, "name", fn, NAME_BYTES, false, false);
		mstr(mc, col, "type", ft, 1024, false, true);
		mbool(mc, col, "generated", fg);
		mbool(mc, col, "not_null", fnn);
		for (j = 0; mc->ok && j < i; j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(cols, j), "name")),
					   name) == 0)
				mbad(mc, "column \"%s\" is listed twice", name);
		free(f);
		free(fn);
		free(ft);
		free(fg);
		free(fnn);
		if (!mc->ok)
			return;
	}
}

static void
check_indexes_shape(MCheck *mc, json_t *indexes)
{
	static const char *const texts[] = {"definition", "using", "constraint_definition"};
	size_t i, k;
	json_t *ix;

	json_array_foreach(indexes, i, ix)
	{
		char *f = pg_xasprintf("indexes[%zu]", i);
		char *fn = pg_xasprintf("indexes[%zu].name", i);
		char *fc = pg_xasprintf("indexes[%zu].constraint", i);
		char *fu = pg_xasprintf("indexes[%zu].unique", i);

		if (!json_is_object(ix))
			mbad(mc, "\"%s\" is not an object", f);
		mstr(mc, ix, "name", fn, NAME_BYTES, false, false);
		mstr(mc, ix, "constraint", fc, NAME_BYTES, true, false);
		mbool(mc, ix, "unique", fu);
		for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
		{
			/* kept for people reading the manifest; restore never runs them */
			char *ff = pg_xasprintf("indexes[%zu].%s", i, texts[k]);

			mstr(mc, ix, texts[k], ff, 1u << 20, true, false);
			free(ff);
		}
		free(f);
		free(fn);
		free(fc);
		free(fu);
		if (!mc->ok)
			return;
	}
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static bool
manifest_parse(const char *text, size_t len, const char *what, Manifest *m, PgpError *err)
{
	json_error_t jerr;
	MCheck mc = {what, err, true};
	json_t *part, *bounds, *table, *v;
	const char *fmt, *s;
	static const char suffix[] = ".copy.zst";

	memset(m, 0, sizeof(*m));
	sha256_hex(text, len, m->hash);
	/* a key given twice could be read one way here and another way elsewhere */
	m->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (m->root == NULL)
	{
		err_set(err, EXIT_CHECK, "manifest %s is not valid JSON: %s (line %d)", what, jerr.text,
				jerr.line);
		err_hint(err, "It is damaged or truncated; nothing was changed.");
		return false;
	}
	fmt = json_string_value(json_object_get(m->root, "format"));
	if (!json_is_object(m->root) || fmt == NULL || strcmp(fmt, "pgpart-archive") != 0)
	{
		err_set(err, EXIT_CHECK, "%s is not a pgpart archive manifest", what);
		goto fail;
	}
	v = json_object_get(m->root, "format_version");
	if (json_is_integer(v) && json_integer_value(v) > 1)
	{
		err_set(err, EXIT_CHECK, "manifest %s has format version %lld, newer than this pgpart "
								 "reads (1)",
				what, (long long) json_integer_value(v));
		err_hint(err, "Restore it with the pgpart release that archived it, or a newer one.");
		goto fail;
	}
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		mbad(&mc, "\"format_version\" is not 1");
	table = mobj(&mc, m->root, "table", "table");
	m->tschema = mstr(&mc, table, "schema", "table.schema", NAME_BYTES, false, false);
	m->tname = mstr(&mc, table, "name", "table.name", NAME_BYTES, false, false);
	part = mobj(&mc, m->root, "partition", "partition");
	m->pschema = mstr(&mc, part, "schema", "partition.schema", NAME_BYTES, false, false);
	m->pname = mstr(&mc, part, "name", "partition.name", NAME_BYTES, false, false);
	m->column = mstr(&mc, m->root, "partition_column", "partition_column", NAME_BYTES, false,
					 false);
	bounds = mobj(&mc, m->root, "bounds", "bounds");
	m->lo = mstr(&mc, bounds, "from", "bounds.from", 64, false, true);
	m->hi = mstr(&mc, bounds, "to", "bounds.to", 64, false, true);
	m->sha256 = mstr(&mc, m->root, "sha256", "sha256", 64, false, true);
	if (m->sha256 && !is_hex64(m->sha256))
		mbad(&mc, "\"sha256\" is not 64 lowercase hexadecimal digits");
	m->object = mstr(&mc, m->root, "object", "object", 255, false, true);
	if (m->object &&
		(strchr(m->object, '/') || strlen(m->object) <= sizeof(suffix) - 1 ||
		 strcmp(m->object + strlen(m->object) - (sizeof(suffix) - 1), suffix) != 0))
		mbad(&mc, "\"object\" is not the name of an object beside the manifest (NAME.copy.zst)");
	s = mstr(&mc, m->root, "compression", "compression", 64, false, true);
	if (s && strcmp(s, "zstd") != 0)
		mbad(&mc, "\"compression\" is \"%s\", not \"zstd\"", s);
	s = mstr(&mc, m->root, "copy_format", "copy_format", 64, false, true);
	if (s && strcmp(s, "text") != 0)
		mbad(&mc, "\"copy_format\" is \"%s\", not \"text\"", s);
	m->rows = mcount(&mc, m->root, "rows", "rows", ARCHIVE_MAX_BYTES, false);
	m->raw_bytes = mcount(&mc, m->root, "raw_bytes", "raw_bytes", ARCHIVE_MAX_BYTES, false);
	m->compressed_bytes = mcount(&mc, m->root, "compressed_bytes", "compressed_bytes",
								 ARCHIVE_MAX_BYTES, false);
	mcount(&mc, m->root, "table_bytes", "table_bytes", ARCHIVE_MAX_BYTES, true);
	if (mc.ok && m->raw_bytes > m->compressed_bytes * ZSTD_MAX_RATIO)
		mbad(&mc, "\"raw_bytes\" (%lld) is more than a zstd stream of %lld bytes can hold",
			 m->raw_bytes, m->compressed_bytes);
	if (mc.ok && (m->rows > m->raw_bytes || (m->rows == 0) != (m->raw_bytes == 0)))
		mbad(&mc, "%lld rows cannot take %lld bytes (every row ends with a newline)", m->rows,
			 m->raw_bytes);
	mstr(&mc, m->root, "archived_at", "archived_at", 256, true, true);
	mstr(&mc, m->root, "pgpart_version", "pgpart_version", 256, true, true);
	mstr(&mc, m->root, "server_version", "server_version", 256, true, true);
	mstr(&mc, m->root, "copy_columns", "copy_columns", 1u << 20, true, false);
	mstr(&mc, m->root, "table_ddl", "table_ddl", 1u << 20, true, false);
	m->columns = marray(&mc, m->root, "columns", "columns", 1, 1600);
	if (m->columns)
		check_columns_shape(&mc, m->columns);
	m->indexes = marray(&mc, m->root, "indexes", "indexes", 0, 10000);
	if (m->indexes)
		check_indexes_shape(&mc, m->indexes);
	if (mc.ok)
		return true;
fail:
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
	return false;
}

/* ---- what the manifest says, against the database -------------------- */

/*
 * The archive job that vouches for the manifest: the one that recorded its
 * SHA-256.  A job that knows this archive (by its object's checksum or by
 * where the manifest lies) but recorded another manifest refuses it; with no
 * job, or one from before manifest checksums, --trust-manifest decides.
 */
static bool
authenticate(PgConn *pc, const Manifest *m, const char *url, bool trust, char **job_id,
			 bool *authenticated, NameList *notes, PgpError *err)
{
	const char *p1[1] = {m->hash};
	const char *p2[2] = {m->sha256, url};
	PGresult *res;
	char rows[32], raw[32], comp[32];

	*job_id = NULL;
	*authenticated = false;
	snprintf(rows, sizeof(rows), "%lld", m->rows);
	snprintf(raw, sizeof(raw), "%lld", m->raw_bytes);
	snprintf(comp, sizeof(comp), "%lld", m->compressed_bytes);
	res = pgc_query(pc,
					"SELECT id::text, sha256, rows::text, raw_bytes::text, compressed_bytes::text, "
					"parent_schema, parent_name FROM pgpart.archive_job "
					"WHERE manifest_sha256 = $1 ORDER BY id DESC LIMIT 1",
					1, p1, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
	{
		if (strcmp(PQgetvalue(res, 0, 1), m->sha256) != 0 ||
			strcmp(PQgetvalue(res, 0, 2), rows) != 0 || strcmp(PQgetvalue(res, 0, 3), raw) != 0 ||
			strcmp(PQgetvalue(res, 0, 4), comp) != 0)
		{
			err_set(err, EXIT_CHECK, "archive job %s recorded this manifest but not its figures",
					PQgetvalue(res, 0, 0));
			err_detail(err, "The job's row in pgpart.archive_job was changed after the archive.");
			err_hint(err, "Nothing was changed.  Find out who changed pgpart.archive_job.");
			PQclear(res);
			return false;
		}
		*job_id = pg_xstrdup(PQgetvalue(res, 0, 0));
		*authenticated = true;
		PQclear(res);
		return true;
	}
	PQclear(res);
	res = pgc_query(pc,
					"SELECT id::text, manifest_sha256, location || '/' || manifest_key, sha256, "
					"rows::text, raw_bytes::text, compressed_bytes::text, lo, hi, part_column, "
					"partition_schema, partition_name FROM pgpart.archive_job "
					"WHERE sha256 = $1 OR location || '/' || manifest_key = $2 "
					"ORDER BY id DESC LIMIT 1",
					2, p2, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 1))
	{
		err_set(err, EXIT_CHECK, "manifest %s is not the one pgpart wrote: it differs from the "
								 "manifest archive job %s recorded",
				url, PQgetvalue(res, 0, 0));
		err_detail(err, "The job recorded a manifest with SHA-256 %s (%s); this one has %s.  It "
						"was changed or replaced after the archive.",
				   PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), m->hash);
		err_hint(err, "Nothing was changed.  Restore from the manifest the job names, or from an "
					  "intact copy; --trust-manifest does not override this.");
		PQclear(res);
		return false;
	}
	if (PQntuples(res) > 0)
	{
		/* archived before manifests were recorded: what the job has must agree */
		static const char *const fields[] = {"sha256", "rows",	 "raw_bytes", "compressed_bytes",
											 "bounds.from", "bounds.to", "partition_column",
											 "partition.schema", "partition.name"};
		const char *mine[] = {m->sha256, rows, raw, comp, m->lo, m->hi, m->column, m->pschema, m->pname};
		NameList diff;
		int k;

		memset(&diff, 0, sizeof(diff));
		for (k = 0; k < (int) (sizeof(fields) / sizeof(fields[0])); k++)
			if (PQgetisnull(res, 0, 3 + k) || strcmp(PQgetvalue(res, 0, 3 + k), mine[k]) != 0)
				namelist_add(&diff, fields[k]);
		if (diff.n > 0)
		{
			char *list = namelist_join(&diff, ", ");

			err_set(err, EXIT_CHECK, "manifest %s differs from archive job %s: %s", url,
					PQgetvalue(res, 0, 0), list);
			err_hint(err, "Nothing was changed.  Restore from an intact copy of the archive.");
			free(list);
			namelist_free(&diff);
			PQclear(res);
			return false;
		}
		if (!trust)
		{
			err_set(err, EXIT_USAGE, "manifest %s cannot be authenticated: archive job %s was "
									 "recorded by a pgpart that kept no manifest checksum",
					url, PQgetvalue(res, 0, 0));
			err_detail(err, "Its object checksum, sizes, row count, bounds and partition agree "
							"with the job; the order of its columns cannot be checked.");
			err_hint(err, "Run again with --trust-manifest if the archive's storage is trusted "
						  "(no SQL text from a manifest is run even then).");
			PQclear(res);
			return false;
		}
		*job_id = pg_xstrdup(PQgetvalue(res, 0, 0));
		add_note(notes, "manifest partly authenticated (--trust-manifest): archive job %s agrees "
						"on the object, sizes and bounds but kept no manifest checksum",
				 *job_id);
		PQclear(res);
		return true;
	}
	PQclear(res);
	if (!trust)
	{
		err_set(err, EXIT_USAGE, "manifest %s is not authenticated: no archive job of this "
								 "database recorded it",
				url);
		err_detail(err, "Unauthenticated, taken on the manifest's word: the order of the columns "
						"in the data, the bounds [%s, %s), %lld rows, %lld bytes and the object's "
						"SHA-256 %s.  The manifest's own SHA-256 is %s.",
				   m->lo, m->hi, m->rows, m->compressed_bytes, m->sha256, m->hash);
		err_hint(err, "If it was archived in another database and its storage is trusted, run "
					  "again with --trust-manifest; no SQL text from a manifest is run even then, "
					  "and its columns and bounds are still checked against the table.");
		return false;
	}
	add_note(notes, "manifest not authenticated (--trust-manifest): no archive job of this "
					"database recorded it (SHA-256 %s)",
			 m->hash);
	return true;
}

typedef struct ColumnPair
{
	const char *name, *type;
} ColumnPair;

static int
cmp_pair(const void *a, const void *b)
{
	return strcmp(((const ColumnPair *) a)->name, ((const ColumnPair *) b)->name);
}

/* the parent's columns must be the archive's: names and types, generated ones aside */
static bool
check_columns(PgConn *pc, RelOid parent, const Manifest *m, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;
	ColumnPair *want;
	size_t i, n = 0;
	json_t *col;
	int k, ntable;
	bool ok;

	snprintf(oid, sizeof(oid), "%u", parent);
	res = pgc_query(pc,
					"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
					"FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
					"AND a.attgenerated = '' ORDER BY a.attname COLLATE \"C\"",
					1, params, err);
	if (res == NULL)
		return false;
	ntable = PQntuples(res);
	want = pg_xcalloc(json_array_size(m->columns) + 1, sizeof(ColumnPair));
	json_array_foreach(m->columns, i, col)
	{
		if (json_is_true(json_object_get(col, "generated")))
			continue;
		want[n].name = json_string_value(json_object_get(col, "name"));
		want[n].type = json_string_value(json_object_get(col, "type"));
		n++;
	}
	qsort(want, n, sizeof(ColumnPair), cmp_pair);
	ok = (int) n == ntable;
	for (k = 0; ok && k < ntable; k++)
		ok = strcmp(PQgetvalue(res, k, 0), want[k].name) == 0 &&
			 strcmp(PQgetvalue(res, k, 1), want[k].type) == 0;
	if (!ok)
	{
		StrBuf have, arch;

		sb_init(&have);
		sb_init(&arch);
		for (k = 0; k < ntable; k++)
			sb_appendf(&have, "%s%s %s", k ? ", " : "", PQgetvalue(res, k, 0), PQgetvalue(res, k, 1));
		for (i = 0; i < n; i++)
			sb_appendf(&arch, "%s%s %s", i ? ", " : "", want[i].name, want[i].type);
		err_set(err, EXIT_USAGE, "the table's columns differ from the archive's");
		err_detail(err, "Table: %s.  Archive: %s.", have.data, arch.data);
		err_hint(err, "Restore into a table with the columns the partition had.");
		sb_free(&have);
		sb_free(&arch);
	}
	PQclear(res);
	free(want);
	return ok;
}

/*
 * The partition the bounds stand for: they must be exactly one period of the
 * table (its interval, in its time zone), which gives the name pgpart uses
 * for it; b[0], b[1] are the bounds as pgpart itself writes them.
 */
static bool
destination(PgConn *pc, const PartConfig *cfg, KeyType kt, const Manifest *m, char **name,
			ResolvedBound b[2], PgpError *err)
{
	const char *type = kt == KEY_TIMESTAMPTZ ? "pg_catalog.timestamptz"
					   : kt == KEY_TIMESTAMP ? "pg_catalog.timestamp"
											 : "pg_catalog.date";
	const char *params[3] = {m->lo, m->hi, cfg->time_zone};
	char *sql;
	PGresult *res;
	CivilDate lo, hi;
	char suffix[CAL_SUFFIX_MAX];
	int64_t lo_us, hi_us;
	bool midnight;
	PgpError qerr;

	memset(b, 0, 2 * sizeof(ResolvedBound));
	*name = NULL;
	/* civil dates in the table's time zone, and instants to compare */
	if (kt == KEY_TIMESTAMPTZ)
		sql = pg_xasprintf(
			"SELECT ($1::%1$s AT TIME ZONE $3)::pg_catalog.date::text, "
			"($2::%1$s AT TIME ZONE $3)::pg_catalog.date::text, "
			"($1::%1$s AT TIME ZONE $3)::pg_catalog.time = '00:00' AND "
			"($2::%1$s AT TIME ZONE $3)::pg_catalog.time = '00:00', "
			"(EXTRACT(epoch FROM $1::%1$s) * 1000000)::bigint, "
			"(EXTRACT(epoch FROM $2::%1$s) * 1000000)::bigint",
			type);
	else
	{
		/* as timestamps (a date is its midnight), instants in the session's time zone as bounds_resolve */
		const char *ts = kt == KEY_DATE ? "::pg_catalog.date::pg_catalog.timestamp"
										: "::pg_catalog.timestamp";

		sql = pg_xasprintf("SELECT $1%1$s::pg_catalog.date::text, $2%1$s::pg_catalog.date::text, "
						   "$1%1$s::pg_catalog.time = '00:00' AND $2%1$s::pg_catalog.time = '00:00', "
						   "(EXTRACT(epoch FROM $1%1$s::pg_catalog.timestamptz) * 1000000)::bigint, "
						   "(EXTRACT(epoch FROM $2%1$s::pg_catalog.timestamptz) * 1000000)::bigint",
						   ts);
	}
	err_init(&qerr);
	res = pgc_query(pc, sql, kt == KEY_TIMESTAMPTZ ? 3 : 2, params, &qerr);
	free(sql);
	if (res == NULL)
	{
		err_set(err, EXIT_CHECK, "the archive's bounds [%s, %s) are not %s values", m->lo, m->hi,
				type + strlen("pg_catalog."));
		err_detail(err, "%s", qerr.message ? qerr.message : "?");
		err_hint(err, "The manifest is damaged or was edited; nothing was changed.");
		err_clear(&qerr);
		return false;
	}
	midnight = PQgetvalue(res, 0, 2)[0] == 't';
	if (!cal_date_parse(PQgetvalue(res, 0, 0), &lo) || !cal_date_parse(PQgetvalue(res, 0, 1), &hi) ||
		!midnight || cal_compare(cal_period_start(lo, cfg->unit), lo) != 0 ||
		cal_compare(cal_period_add(lo, cfg->unit, 1), hi) != 0)
	{
		err_set(err, EXIT_USAGE, "the archive's bounds [%s, %s) are not one %s of %s.%s (time zone "
								 "%s)",
				m->lo, m->hi, cal_unit_name(cfg->unit), cfg->parent_schema, cfg->parent_name,
				cfg->time_zone);
		err_detail(err, "Restore brings an archive back as the partition pgpart names for its "
						"bounds, and only a period of the table's interval has such a name.");
		err_hint(err, "Restore into a table partitioned by the interval the archive was made "
					  "with.");
		PQclear(res);
		return false;
	}
	lo_us = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	hi_us = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	PQclear(res);
	{
		CivilDate d[2] = {lo, hi};

		if (!bounds_resolve(pc, kt, cfg->time_zone, d, 2, b, err))
			return false;
	}
	if (b[0].literal == NULL || b[1].literal == NULL || b[0].us != lo_us || b[1].us != hi_us)
	{
		err_set(err, EXIT_CHECK, "the archive's bounds [%s, %s) are not where the table's %s "
								 "starting %04d-%02d-%02d lies",
				m->lo, m->hi, cal_unit_name(cfg->unit), lo.year, lo.month, lo.day);
		bounds_free(b, 2);
		memset(b, 0, 2 * sizeof(ResolvedBound));
		return false;
	}
	cal_period_suffix(lo, cfg->unit, suffix);
	*name = naming_derive(cfg->parent_name, suffix);
	if (*name == NULL)
	{
		err_set(err, EXIT_RUNTIME, "cannot derive a partition name for %s", cfg->parent_name);
		bounds_free(b, 2);
		memset(b, 0, 2 * sizeof(ResolvedBound));
		return false;
	}
	return true;
}

/*
 * The partition gets the table's indexes; the manifest's list (the
 * partition's, at archive time) is only counted: more there means the
 * partition had indexes of its own, which are not made from a manifest.
 */
static bool
compare_indexes(PgConn *pc, RelOid parent, const Manifest *m, NameList *notes, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	char *n_parent = NULL;
	long long np;

	snprintf(oid, sizeof(oid), "%u", parent);
	if (!pgc_query_value(pc, "SELECT pg_catalog.count(*) FROM pg_catalog.pg_index "
							 "WHERE indrelid = $1::pg_catalog.oid",
						 1, params, &n_parent, err))
		return false;
	np = n_parent ? strtoll(n_parent, NULL, 10) : 0;
	free(n_parent);
	if ((long long) json_array_size(m->indexes) > np)
		add_note(notes, "the archive lists %zu indexes, the table has %lld: the table's are "
						"restored; those only the partition had are not (a manifest's definitions "
						"are not run; its \"indexes\" show them, to recreate by hand)",
				 json_array_size(m->indexes), np);
	return true;
}

/* ---- loading --------------------------------------------------------- */

typedef struct LoadCtx
{
	PgConn *pc;
	Storage *st;
	const Manifest *m;
	RelOid parent;
	const char *qualified;
	const char *parent_q;
	const char *object_key;
	const char *what;
	const char *lo, *hi; /* bounds as pgpart writes them */
	const char *column;
	double load_ms;
	bool show_progress;
	Progress prog;
	long long sent;
	const char *label;
} LoadCtx;

static bool
copy_sink(void *arg, const void *data, size_t n, PgpError *err)
{
	LoadCtx *l = arg;

	if (PQputCopyData(l->pc->conn, data, (int) n) != 1)
	{
		err_set(err, EXIT_RUNTIME, "COPY into the restored table failed: %s",
				PQerrorMessage(l->pc->conn));
		return false;
	}
	l->sent += (long long) n;
	progress_update(&l->prog, l->sent, l->label);
	return true;
}

/*
 * The table's own indexes and index-backed constraints on the new table,
 * from the catalog (pg_get_indexdef / pg_get_constraintdef of the parent's,
 * the table's owner's own definitions), so that ATTACH attaches them instead
 * of building them under its lock.  One whose text does not have the
 * expected shape is left to ATTACH.
 */
static bool
build_indexes(PgConn *pc, RelOid parent, const char *target_q, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;
	StrBuf sql;
	int i;
	bool ok = true;

	snprintf(oid, sizeof(oid), "%u", parent);
	res = pgc_query(pc,
					"SELECT pg_catalog.pg_get_indexdef(i.indexrelid), "
					"CASE WHEN i.indisunique THEN 'CREATE UNIQUE INDEX ' ELSE 'CREATE INDEX ' END "
					"  || pg_catalog.quote_ident(ic.relname) || ' ON ', "
					"pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.relname) "
					"  || ' USING ', "
					"con.oid IS NOT NULL, pg_catalog.pg_get_constraintdef(con.oid), "
					"i.indisunique "
					"FROM pg_catalog.pg_index i "
					"JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
					"JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
					"JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
					"LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid "
					"  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') "
					"WHERE i.indrelid = $1::pg_catalog.oid ORDER BY ic.relname",
					1, params, err);
	if (res == NULL)
		return false;
	sb_init(&sql);
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *def = PQgetvalue(res, i, 0), *head = PQgetvalue(res, i, 1);
		const char *table = PQgetvalue(res, i, 2);
		size_t hl = strlen(head), tl = strlen(table);

		if (PQgetvalue(res, i, 3)[0] == 't')
			sb_appendf(&sql, "ALTER TABLE %s ADD %s", target_q, PQgetvalue(res, i, 4));
		else if (strncmp(def, head, hl) == 0)
		{
			/* "CREATE INDEX name ON [ONLY ]schema.table USING ..." */
			const char *p = def + hl;

			if (strncmp(p, "ONLY ", 5) == 0)
				p += 5;
			if (strncmp(p, table, tl) != 0)
				continue;
			sb_appendf(&sql, "CREATE %sINDEX ON %s USING %s",
					   PQgetvalue(res, i, 5)[0] == 't' ? "UNIQUE " : "", target_q, p + tl);
		}
		else
			continue;
		ok = arch_exec_sb(pc, &sql, err);
	}
	PQclear(res);
	sb_free(&sql);
	return ok;
}

static bool
load_table(LoadCtx *l, PgpError *err)
{
	PgConn *pc = l->pc;
	const Manifest *m = l->m;
	StrBuf sql;
	PGresult *res;
	ArchiveReader r;
	bool ok = false, in_copy = false;
	double t0 = clock_ms();
	char *comment;

	sb_init(&sql);
	if (!pgc_change(pc, "BEGIN", 0, NULL, err))
		goto done;
	sb_appendf(&sql,
			   "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
			   "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION, "
			   "CONSTRAINT pgpart_archive_bounds CHECK (",
			   l->qualified, l->parent_q);
	arch_append_check(pc, &sql, l->column, l->lo, l->hi);
	sb_append(&sql, "))");
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	/* the mark a re-run looks for when the attach did not happen */
	sb_appendf(&sql, "COMMENT ON TABLE %s IS ", l->qualified);
	comment = pg_xasprintf("pgpart restore %s", m->sha256);
	pgc_append_literal(pc, &sql, comment);
	free(comment);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	{
		/* the order of the data's columns; names checked against the table, quoted here */
		size_t ci;
		json_t *col;
		bool first = true;

		sb_appendf(&sql, "COPY %s (", l->qualified);
		json_array_foreach(m->columns, ci, col)
		{
			if (json_is_true(json_object_get(col, "generated")))
				continue;
			if (!first)
				sb_append(&sql, ", ");
			pgc_append_ident(pc, &sql, json_string_value(json_object_get(col, "name")));
			first = false;
		}
		sb_append(&sql, ") FROM STDIN");
	}
	if (pc->dry_run)
	{
		printf("%s;\n-- (rows of %s)\n", sql.data, l->what);
		sb_reset(&sql);
	}
	else
	{
		log_debug("%s", sql.data);
		res = PQexecParams(pc->conn, sql.data, 0, NULL, NULL, NULL, NULL, 0);
		sb_reset(&sql);
		if (PQresultStatus(res) != PGRES_COPY_IN)
		{
			arch_result_error(pc, res, err, "COPY into the restored table failed");
			PQclear(res);
			goto done;
		}
		PQclear(res);
		in_copy = true;
		archive_reader_init(&r, l->what, copy_sink, l, m->compressed_bytes, m->raw_bytes);
		progress_start(&l->prog, "bytes", m->raw_bytes, l->show_progress);
		ok = l->st->ops->get(l->st, l->object_key, archive_reader_chunk, &r, err) &&
			 archive_reader_finish(&r, m->sha256, m->compressed_bytes, m->raw_bytes, err);
		archive_reader_free(&r);
		progress_finish(&l->prog);
		/* a bad object ends the COPY with an error: the server discards every row */
		PQputCopyEnd(pc->conn, ok ? NULL : "pgpart: archive object failed verification");
		in_copy = false;
		res = PQgetResult(pc->conn);
		if (ok && PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			arch_result_error(pc, res, err, "COPY into the restored table failed");
			ok = false;
		}
		else if (ok && strtoll(PQcmdTuples(res), NULL, 10) != m->rows)
		{
			err_set(err, EXIT_CHECK, "%s held %s rows, the manifest says %lld", l->what,
					PQcmdTuples(res), m->rows);
			ok = false;
		}
		PQclear(res);
		while ((res = PQgetResult(pc->conn)) != NULL)
			PQclear(res);
		if (!ok)
			goto done;
		ok = false;
	}
	l->load_ms = clock_ms() - t0;
	if (!build_indexes(pc, l->parent, l->qualified, err))
		goto done;
	ok = pgc_change(pc, "COMMIT", 0, NULL, err);
done:
	if (in_copy)
		PQputCopyEnd(pc->conn, "pgpart: aborted");
	if (!ok && !pc->dry_run)
	{
		PgpError ignored;

		err_init(&ignored);
		while ((res = PQgetResult(pc->conn)) != NULL)
			PQclear(res);
		pgc_exec(pc, "ROLLBACK", 0, NULL, &ignored);
		err_clear(&ignored);
	}
	sb_free(&sql);
	return ok;
}

/* ---- attaching ------------------------------------------------------- */

typedef struct AttachCtx
{
	const char *schema;	  /* the table's */
	const char *name;	  /* the partition's, as pgpart names it */
	const char *tmp_name; /* loaded under */
	const char *lo, *hi;
	const char *qualified, *parent_q, *tmp_q;
	const char *pname_q;  /* the partition's own name, quoted (for RENAME) */
	const char *job_id;	  /* the archive job to mark restored, or NULL */
	bool replace_foreign; /* a file_fdw partition of this archive holds the range */
} AttachCtx;

/* indexes made on the loaded table are named after it: rename them after the partition */
static bool
rename_indexes(PgConn *pc, const AttachCtx *a, PgpError *err)
{
	const char *params[2] = {a->schema, a->name};
	PGresult *res;
	size_t tl = strlen(a->tmp_name);
	StrBuf sql;
	int i;
	bool ok = true;

	if (pc->dry_run)
		return true;
	res = pgc_query(pc,
					"SELECT ic.relname, ic.relname IN (SELECT c2.relname FROM pg_catalog.pg_class c2 "
					"  WHERE c2.relnamespace = n.oid) "
					"FROM pg_catalog.pg_index i "
					"JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
					"JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
					"JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
					"WHERE n.nspname = $1 AND t.relname = $2",
					2, params, err);
	if (res == NULL)
		return false;
	sb_init(&sql);
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *old = PQgetvalue(res, i, 0);
		char *want;
		char *exists = NULL;
		const char *p2[2] = {a->schema, NULL};

		if (strncmp(old, a->tmp_name, tl) != 0 || old[tl] != '_')
			continue;
		want = naming_derive(a->name, old + tl + 1);
		if (want == NULL)
			continue;
		p2[1] = want;
		ok = pgc_query_value(pc,
							 "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
							 "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
							 2, p2, &exists, err);
		if (ok && exists == NULL)
		{
			char *oq = pgc_quote_qualified(pc, a->schema, old), *nq = pgc_quote_ident(pc, want);

			sb_appendf(&sql, "ALTER INDEX %s RENAME TO %s", oq, nq);
			ok = arch_exec_sb(pc, &sql, err);
			free(oq);
			free(nq);
		}
		free(exists);
		free(want);
	}
	PQclear(res);
	sb_free(&sql);
	return ok;
}

static bool
attach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	AttachCtx *a = arg;
	StrBuf sql;
	bool ok = false;

	sb_init(&sql);
	if (!partition_lock_for_attach(pc, a->parent_q, err))
		goto done;
	if (a->replace_foreign)
	{
		/* the archive read in place gives way to the real rows, in one transaction */
		sb_appendf(&sql, "ALTER TABLE %s DETACH PARTITION %s", a->parent_q, a->qualified);
		if (!arch_exec_sb(pc, &sql, err))
			goto done;
		lock_txn_mark_locked(stats);
		sb_appendf(&sql, "DROP FOREIGN TABLE %s", a->qualified);
		if (!arch_exec_sb(pc, &sql, err))
			goto done;
	}
	sb_appendf(&sql, "ALTER TABLE %s RENAME TO %s", a->tmp_q, a->pname_q);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	sb_appendf(&sql, "ALTER TABLE %s ATTACH PARTITION %s", a->parent_q, a->qualified);
	arch_append_for_values(pc, &sql, a->lo, a->hi);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	lock_txn_mark_locked(stats);
	sb_appendf(&sql, "ALTER TABLE %s DROP CONSTRAINT pgpart_archive_bounds", a->qualified);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	sb_appendf(&sql, "COMMENT ON TABLE %s IS NULL", a->qualified);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	if (!rename_indexes(pc, a, err))
		goto done;
	if (a->job_id)
	{
		const char *params[1] = {a->job_id};

		ok = pgc_change(pc,
						"UPDATE pgpart.archive_job SET phase = 'restored', foreign_table = false, "
						"updated_at = pg_catalog.now() "
						"WHERE id = $1::bigint AND phase = 'archived'",
						1, params, err);
	}
	else
		ok = true;
done:
	sb_free(&sql);
	return ok;
}

bool
ops_restore(PgConn *pc, const RestoreOptions *opt, RestoreResult *res, PgpError *err)
{
	PartConfig cfg;
	KeyType key_type;
	char *location = NULL, *mkey = NULL, *why = NULL, *text = NULL, *objkey = NULL;
	char *qualified = NULL, *parent_q = NULL, *mark = NULL, *url = NULL;
	char *tmp_name = NULL, *tmp_q = NULL, *pname_q = NULL, *dest = NULL, *job_id = NULL;
	ResolvedBound b[2];
	bool have_bounds = false;
	bool replace_foreign = false;
	size_t len = 0;
	Storage *st = NULL;
	Manifest m;
	bool ok = false, locked = false, cfg_loaded = false;
	double t0 = clock_ms();
	LockStats ls;

	memset(res, 0, sizeof(*res));
	memset(&m, 0, sizeof(m));
	memset(&ls, 0, sizeof(ls));
	memset(b, 0, sizeof(b));
	if (!archurl_split_last(opt->from, &location, &mkey, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --from \"%s\"", opt->from);
		err_detail(err, "%s", why);
		err_hint(err, "Give the URL of a manifest, as \"pgpart archive list\" shows it.");
		goto done;
	}
	if (!archive_load_config(pc, opt->table, &cfg, &key_type, err))
		goto done;
	cfg_loaded = true;
	if (!storage_open(location, &opt->storage, &st, err))
		goto done;
	if (!storage_get_all(st, mkey, MANIFEST_MAX_BYTES, &text, &len, err))
		goto done;
	if (!manifest_parse(text, len, opt->from, &m, err))
		goto done;
	/* the object lives beside its manifest */
	{
		const char *slash = strrchr(mkey, '/');

		objkey = slash ? pg_xasprintf("%.*s/%s", (int) (slash - mkey), mkey, m.object)
					   : pg_xstrdup(m.object);
	}
	url = pg_xasprintf("%s/%s", st->url, mkey);
	if (strcmp(m.column, cfg.column) != 0)
	{
		err_set(err, EXIT_USAGE, "the archive was partitioned by \"%s\", the table by \"%s\"",
				m.column, cfg.column);
		goto done;
	}
	if (!authenticate(pc, &m, url, opt->trust_manifest, &job_id, &res->authenticated,
					  &res->notes, err))
		goto done;
	if (!check_columns(pc, cfg.parent, &m, err))
		goto done;
	if (!destination(pc, &cfg, key_type, &m, &dest, b, err))
		goto done;
	have_bounds = true;
	res->partition = pg_xasprintf("%s.%s", cfg.parent_schema, dest);
	res->lo = pg_xstrdup(b[0].literal);
	res->hi = pg_xstrdup(b[1].literal);
	res->rows = m.rows;
	res->compressed_bytes = m.compressed_bytes;
	if (strcmp(m.pschema, cfg.parent_schema) != 0 || strcmp(m.pname, dest) != 0)
		add_note(&res->notes, "restored as %s; the archive calls the partition %s.%s",
				 res->partition, m.pschema, m.pname);
	if (strcmp(m.tschema, cfg.parent_schema) != 0 || strcmp(m.tname, cfg.parent_name) != 0)
		add_note(&res->notes, "the archive was made of table %s.%s", m.tschema, m.tname);
	if (!compare_indexes(pc, cfg.parent, &m, &res->notes, err))
		goto done;
	if (!lock_table_try(pc, cfg.parent, &locked, err))
		goto done;
	if (!locked)
	{
		err_set(err, EXIT_RUNTIME, "another pgpart is working on %s.%s", cfg.parent_schema,
				cfg.parent_name);
		err_hint(err, "Wait for it to finish; pgpart processes take turns per table.");
		goto done;
	}
	qualified = pgc_quote_qualified(pc, cfg.parent_schema, dest);
	parent_q = pgc_quote_qualified(pc, cfg.parent_schema, cfg.parent_name);
	/* loaded under a name of its own, renamed when attached */
	tmp_name = pg_xasprintf("pgpart_restore_%.16s", m.sha256);
	tmp_q = pgc_quote_qualified(pc, cfg.parent_schema, tmp_name);
	pname_q = pgc_quote_ident(pc, dest);
	{
		char poid[16];
		const char *params[3] = {cfg.parent_schema, dest, poid};
		PGresult *r;

		snprintf(poid, sizeof(poid), "%u", cfg.parent);
		r = pgc_query(pc,
					  "SELECT c.relkind = 'f' AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h "
					  "  WHERE h.inhrelid = c.oid AND h.inhparent = $3::pg_catalog.oid) "
					  "AND EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_table ft "
					  "  JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver "
					  "  WHERE ft.ftrelid = c.oid AND s.srvname = 'pgpart_archive') "
					  "FROM pg_catalog.pg_class c "
					  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					  "WHERE n.nspname = $1 AND c.relname = $2",
					  3, params, err);
		if (r == NULL)
			goto done;
		if (PQntuples(r) > 0 && PQgetvalue(r, 0, 0)[0] == 't')
			replace_foreign = true;
		else if (PQntuples(r) > 0)
		{
			err_set(err, EXIT_USAGE, "%s.%s already exists", cfg.parent_schema, dest);
			err_hint(err, "The partition is there (or another table has its name); drop or "
						  "rename it first to restore the archive.");
			PQclear(r);
			goto done;
		}
		PQclear(r);
		params[1] = tmp_name;
		/* a table left by an earlier run counts only if it is the table owner's, unattached */
		r = pgc_query(pc,
					  "SELECT pg_catalog.obj_description(c.oid, 'pg_class'), "
					  "c.relowner = p.relowner AND c.relkind = 'r' AND NOT c.relispartition "
					  "FROM pg_catalog.pg_class c "
					  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, "
					  "pg_catalog.pg_class p "
					  "WHERE n.nspname = $1 AND c.relname = $2 AND p.oid = $3::pg_catalog.oid",
					  3, params, err);
		if (r == NULL)
			goto done;
		if (PQntuples(r) > 0)
		{
			char *want = pg_xasprintf("pgpart restore %s", m.sha256);

			if (!PQgetisnull(r, 0, 0) && strcmp(PQgetvalue(r, 0, 0), want) == 0 &&
				PQgetvalue(r, 0, 1)[0] == 't')
				mark = want; /* loaded by an earlier run that stopped before ATTACH */
			else
			{
				free(want);
				err_set(err, EXIT_USAGE, "%s.%s already exists", cfg.parent_schema, tmp_name);
				err_hint(err, "pgpart loads restores under that name; drop it if it is not "
							  "yours (a table left by an earlier restore counts only when the "
							  "table's owner owns it).");
				PQclear(r);
				goto done;
			}
		}
		PQclear(r);
	}
	if (mark == NULL)
	{
		LoadCtx l;

		memset(&l, 0, sizeof(l));
		l.pc = pc;
		l.st = st;
		l.m = &m;
		l.parent = cfg.parent;
		l.qualified = tmp_q;
		l.parent_q = parent_q;
		l.object_key = objkey;
		l.what = opt->from;
		l.lo = b[0].literal;
		l.hi = b[1].literal;
		l.column = cfg.column;
		l.show_progress = opt->show_progress;
		l.label = dest;

		if (!load_table(&l, err))
			goto done;
		res->load_ms = l.load_ms;
#ifdef PGPART_TEST_HOOKS
		archive_test_kill("restore_loaded");
#endif
	}
	{
		AttachCtx a = {cfg.parent_schema, dest,	   tmp_name, b[0].literal,	 b[1].literal,
					   qualified,		  parent_q, tmp_q,	  pname_q,		job_id,
					   replace_foreign};

		if (!lock_run_txn(pc, &opt->lock, attach_body, &a, &ls, err))
		{
			if (strcmp(err->sqlstate, SQLSTATE_CHECK_VIOLATION) == 0)
				err_hint(err, "Rows for this range arrived in the default partition after it was "
							  "archived; move them out (\"pgpart maintain\" gives them a partition "
							  "of their own) and restore into that partition's place.");
			err_prefix(err, "could not attach the restored %s.%s", cfg.parent_schema, dest);
			if (!pc->dry_run)
				err_detail(err, "The rows are loaded into %s.%s, which is not attached; running "
								"the same restore again attaches it.",
						   cfg.parent_schema, tmp_name);
			goto done;
		}
	}
	res->max_lock_held_ms = ls.held_ms;
	ok = true;
done:
	res->total_ms = clock_ms() - t0;
	if (locked)
		lock_table_release(pc, cfg.parent);
	json_decref(m.root);
	storage_close(st);
	if (cfg_loaded)
		partconfig_free(&cfg);
	if (have_bounds)
		bounds_free(b, 2);
	free(location);
	free(mkey);
	free(why);
	free(text);
	free(objkey);
	free(url);
	free(qualified);
	free(parent_q);
	free(mark);
	free(tmp_name);
	free(tmp_q);
	free(pname_q);
	free(dest);
	free(job_id);
	return ok;
}

/* ---- archive list ---------------------------------------------------- */

void
archivelistresult_free(ArchiveListResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		ArchiveEntry *e = &r->items[i];

		free(e->manifest_key);
		free(e->table);
		free(e->partition);
		free(e->lo);
		free(e->hi);
		free(e->archived_at);
		free(e->problem);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static char *
dup_json(json_t *o, const char *k1, const char *k2)
{
	json_t *v = k2 ? json_object_get(json_object_get(o, k1), k2) : json_object_get(o, k1);

	return json_is_string(v) ? pg_xstrdup(json_string_value(v)) : NULL;
}

bool
ops_archive_list(const char *url, const StorageOptions *so, ArchiveListResult *res,
				 PgpError *err)
{
	Storage *st = NULL;
	NameList keys;
	int i, n = 0;
	static const char suffix[] = ".manifest.json";

	memset(res, 0, sizeof(*res));
	memset(&keys, 0, sizeof(keys));
	if (!storage_open(url, so, &st, err))
		return false;
	if (!st->ops->list(st, "", &keys, err))
	{
		storage_close(st);
		return false;
	}
	res->items = pg_xcalloc((size_t) keys.n + 1, sizeof(ArchiveEntry));
	for (i = 0; i < keys.n; i++)
	{
		size_t kl = strlen(keys.items[i]);
		ArchiveEntry *e;
		char *text = NULL;
		size_t len;
		PgpError merr;
		Manifest m;

		if (kl <= sizeof(suffix) - 1 || strcmp(keys.items[i] + kl - (sizeof(suffix) - 1), suffix) != 0)
			continue;
		e = &res->items[n++];
		e->manifest_key = pg_xasprintf("%s/%s", st->url, keys.items[i]);
		err_init(&merr);
		if (!storage_get_all(st, keys.items[i], MANIFEST_MAX_BYTES, &text, &len, &merr) ||
			!manifest_parse(text, len, keys.items[i], &m, &merr))
		{
			e->problem = pg_xstrdup(merr.message ? merr.message : "unreadable");
			err_clear(&merr);
			free(text);
			continue;
		}
		{
			char *ts = dup_json(m.root, "table", "schema"), *tn = dup_json(m.root, "table", "name");

			e->table = pg_xasprintf("%s.%s", ts ? ts : "?", tn ? tn : "?");
			free(ts);
			free(tn);
		}
		e->partition = pg_xasprintf("%s.%s", m.pschema, m.pname);
		e->lo = pg_xstrdup(m.lo);
		e->hi = pg_xstrdup(m.hi);
		e->rows = m.rows;
		e->raw_bytes = m.raw_bytes;
		e->compressed_bytes = m.compressed_bytes;
		e->archived_at = dup_json(m.root, "archived_at", NULL);
		json_decref(m.root);
		free(text);
	}
	res->n = n;
	namelist_free(&keys);
	storage_close(st);
	return true;
}
