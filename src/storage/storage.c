/*
 * storage.c - picks the storage driver from the URL scheme and offers whole-
 * object helpers on top of the streaming interface, with a size cap so a
 * hostile object cannot make pgpart read without limit.
 */
#include "storage/storage.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

bool
storage_open(const char *url, const StorageOptions *opt, Storage **s, PgpError *err)
{
	ArchUrl u;
	char *why = NULL;
	bool ok;

	*s = NULL;
	if (!archurl_parse(url, &u, &why))
	{
		err_set(err, EXIT_USAGE, "invalid archive location \"%s\"", url);
		err_detail(err, "%s", why);
		err_hint(err, "Use file:///DIR or s3://BUCKET/PREFIX.");
		free(why);
		return false;
	}
	if (u.scheme == ARCH_FILE)
		ok = storage_file_open(&u, s, err);
	else
		ok = storage_s3_open(&u, opt, s, err);
	if (ok)
		(*s)->url = archurl_format(&u);
	archurl_free(&u);
	return ok;
}

void
storage_close(Storage *s)
{
	if (s == NULL)
		return;
	free(s->url);
	s->ops->close(s);
}

typedef struct Collect
{
	StrBuf sb;
	size_t max;
	const char *key;
} Collect;

static bool
collect_chunk(void *arg, const void *data, size_t n, PgpError *err)
{
	Collect *c = arg;

	if (c->sb.len + n > c->max)
	{
		err_set(err, EXIT_RUNTIME, "object \"%s\" is larger than %zu bytes", c->key, c->max);
		err_detail(err, "This is not a pgpart manifest.");
		return false;
	}
	sb_append_len(&c->sb, data, n);
	return true;
}

bool
storage_get_all(Storage *s, const char *key, size_t max, char **data, size_t *len,
				PgpError *err)
{
	Collect c;

	sb_init(&c.sb);
	c.max = max;
	c.key = key;
	if (!s->ops->get(s, key, collect_chunk, &c, err))
	{
		sb_free(&c.sb);
		return false;
	}
	*len = c.sb.len;
	*data = sb_steal(&c.sb);
	return true;
}

bool
storage_put_all(Storage *s, const char *key, const void *data, size_t len, PgpError *err)
{
	StorageWriter *w;

	if (!s->ops->put_open(s, key, &w, err))
		return false;
	if (!s->ops->put_write(w, data, len, err))
	{
		s->ops->put_finish(w, false, NULL);
		return false;
	}
	return s->ops->put_finish(w, true, err);
}
