/*
 * archive_list.c - pgpart archive list: every manifest in a location, each
 * read and checked as restore would (manifest.c), so that what the list
 * shows is what a restore would find.  A manifest that cannot be read is
 * listed with its problem instead of ending the list.
 */
#include "commands/archive/archive_list.h"

#include <stdlib.h>
#include <string.h>

#include "commands/archive/manifest.h"
#include "util/mem.h"

void
archivelistresult_free(ArchiveListResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		FREE_ALL(r->items[i].manifest_key, r->items[i].table, r->items[i].partition,
				 r->items[i].lo, r->items[i].hi, r->items[i].archived_at, r->items[i].problem);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static bool
is_manifest_key(const char *key)
{
	static const char suffix[] = ".manifest.json";
	size_t kl = strlen(key);

	return kl > sizeof(suffix) - 1 && strcmp(key + kl - (sizeof(suffix) - 1), suffix) == 0;
}

/* one manifest into e: its figures, or the problem */
static void
read_entry(Storage *st, const char *key, ArchiveEntry *e)
{
	char *text = NULL;
	size_t len;
	PgpError merr;
	Manifest m;

	e->manifest_key = pg_xasprintf("%s/%s", st->url, key);
	err_init(&merr);
	if (!storage_get_all(st, key, MANIFEST_MAX_BYTES, &text, &len, &merr) ||
		!manifest_parse(text, len, key, &m, &merr))
	{
		e->problem = pg_xstrdup(merr.message ? merr.message : "unreadable");
		err_clear(&merr);
		free(text);
		return;
	}
	e->table = pg_xasprintf("%s.%s", m.tschema, m.tname);
	e->partition = pg_xasprintf("%s.%s", m.pschema, m.pname);
	e->lo = pg_xstrdup(m.lo);
	e->hi = pg_xstrdup(m.hi);
	e->rows = m.rows;
	e->raw_bytes = m.raw_bytes;
	e->compressed_bytes = m.compressed_bytes;
	e->archived_at = m.archived_at ? pg_xstrdup(m.archived_at) : NULL;
	manifest_free(&m);
	free(text);
}

bool
ops_archive_list(const char *url, const StorageOptions *so, ArchiveListResult *res,
				 PgpError *err)
{
	Storage *st = NULL;
	NameList keys;
	int i;

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
		if (is_manifest_key(keys.items[i]))
			read_entry(st, keys.items[i], &res->items[res->n++]);
	namelist_free(&keys);
	storage_close(st);
	return true;
}
