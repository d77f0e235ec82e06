/*
 * manifest.c - the manifest of an archive: written by archive beside the
 * object, read back by archive's verification, restore and archive list.
 *
 * Reading trusts nothing: the JSON must be one object without duplicate keys
 * (a key given twice could be read one way here and another way elsewhere),
 * of format "pgpart-archive" version 1; every string pgpart uses is bounded
 * and, where it lands in a message, free of control characters; every count
 * is a non-negative integer within what a partition can hold, and the sizes
 * must be possible for a zstd stream of text rows.  The first problem found
 * is the error.
 */
#include "commands/archive/manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/digest.h"
#include "util/mem.h"
#include "util/version.h"

/* an identifier, as PostgreSQL keeps it (NAMEDATALEN - 1) */
#define NAME_BYTES 63
/* sizes beyond any partition: 1 PiB */
#define ARCHIVE_MAX_BYTES (1LL << 50)
/*
 * zstd's densest block (RLE: a 3-byte header and one byte) stands for
 * 128 KiB, so no zstd stream holds more than 32768 times its size.
 */
#define ZSTD_MAX_RATIO 32768LL

char *
manifest_write(const ManifestFacts *f, PgpError *err)
{
	json_t *m;
	char *text;

	m = json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:{s:s, s:s}, "
				  "s:O, s:s, s:O, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s}",
				  "format", "pgpart-archive", "format_version", 1, "pgpart_version",
				  PGPART_VERSION, "server_version", f->server_version, "archived_at",
				  f->archived_at, "table", "schema", f->table_schema, "name", f->table_name,
				  "partition", "schema", f->partition_schema, "name", f->partition_name,
				  "partition_column", f->column, "bounds", "from", f->lo, "to", f->hi, "columns",
				  f->columns, "table_ddl", f->table_ddl, "indexes", f->indexes, "rows",
				  (json_int_t) f->rows, "raw_bytes", (json_int_t) f->raw_bytes,
				  "compressed_bytes", (json_int_t) f->compressed_bytes, "table_bytes",
				  (json_int_t) f->table_bytes, "sha256", f->sha256, "object", f->object,
				  "compression", "zstd", "copy_format", "text", "copy_columns", f->copy_columns);
	if (m == NULL)
	{
		err_set(err, EXIT_RUNTIME, "could not build the manifest");
		return NULL;
	}
	text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	return text;
}

/* ---- reading: parsed and checked, never run ---------------------------- */

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

/* mstr and mbool of a member of an array's element i, named "array[i].key" in messages */
static const char *
estr(MCheck *mc, json_t *elem, const char *array, size_t i, const char *key, size_t max,
	 bool optional, bool oneline)
{
	char *field = pg_xasprintf("%s[%zu].%s", array, i, key);
	const char *s = mstr(mc, elem, key, field, max, optional, oneline);

	free(field);
	return s;
}

static void
ebool(MCheck *mc, json_t *elem, const char *array, size_t i, const char *key)
{
	char *field = pg_xasprintf("%s[%zu].%s", array, i, key);

	mbool(mc, elem, key, field);
	free(field);
}

static void
check_columns_shape(MCheck *mc, json_t *cols)
{
	size_t i, j;
	json_t *col;

	json_array_foreach(cols, i, col)
	{
		const char *name;

		if (!json_is_object(col))
			mbad(mc, "\"columns[%zu]\" is not an object", i);
		name = estr(mc, col, "columns", i, "name", NAME_BYTES, false, false);
		estr(mc, col, "columns", i, "type", 1024, false, true);
		ebool(mc, col, "columns", i, "generated");
		ebool(mc, col, "columns", i, "not_null");
		for (j = 0; mc->ok && j < i; j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(cols, j), "name")),
					   name) == 0)
				mbad(mc, "column \"%s\" is listed twice", name);
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
		if (!json_is_object(ix))
			mbad(mc, "\"indexes[%zu]\" is not an object", i);
		estr(mc, ix, "indexes", i, "name", NAME_BYTES, false, false);
		estr(mc, ix, "indexes", i, "constraint", NAME_BYTES, true, false);
		ebool(mc, ix, "indexes", i, "unique");
		/* kept for people reading the manifest; restore never runs them */
		for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
			estr(mc, ix, "indexes", i, texts[k], 1u << 20, true, false);
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

bool
manifest_parse(const char *text, size_t len, const char *what, Manifest *m, PgpError *err)
{
	json_error_t jerr;
	MCheck mc = {what, err, true};
	json_t *part, *bounds, *table, *v;
	const char *fmt, *s;
	static const char suffix[] = ".copy.zst";

	memset(m, 0, sizeof(*m));
	sha256_hex(text, len, m->hash);
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
	m->archived_at = mstr(&mc, m->root, "archived_at", "archived_at", 256, true, true);
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

void
manifest_free(Manifest *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}
