/*
 * namelist.c - a growable list of owned strings: the notes, warnings,
 * statements and names every layer collects.  Pure (no libpq), so core's
 * parsers fill the same list the catalog queries do.
 */
#include "util/namelist.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/strbuf.h"

void
namelist_free(NameList *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void
namelist_free_each(NameList *const *lists, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		namelist_free(lists[i]);
}

void
namelist_add(NameList *l, const char *item)
{
	l->items = pg_xrealloc(l->items, sizeof(char *) * (size_t) (l->n + 1));
	l->items[l->n++] = pg_xstrdup(item);
}

void
namelist_vaddf(NameList *l, const char *fmt, va_list ap)
{
	char *item = pg_xvasprintf(fmt, ap);

	l->items = pg_xrealloc(l->items, sizeof(char *) * (size_t) (l->n + 1));
	l->items[l->n++] = item;
}

void
namelist_addf(NameList *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	namelist_vaddf(l, fmt, ap);
	va_end(ap);
}

void
namelist_add_fact(NameList *labels, NameList *values, const char *label, const char *fmt, ...)
{
	va_list ap;

	namelist_add(labels, label);
	va_start(ap, fmt);
	namelist_vaddf(values, fmt, ap);
	va_end(ap);
}

char *
namelist_join(const NameList *l, const char *sep)
{
	StrBuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < l->n; i++)
	{
		if (i > 0)
			sb_append(&sb, sep);
		sb_append(&sb, l->items[i]);
	}
	return sb_steal(&sb);
}
