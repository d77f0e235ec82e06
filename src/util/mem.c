/*
 * mem.c - allocation wrappers that exit on exhaustion (see mem.h for why).
 */
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
out_of_memory(void)
{
	fputs("pgpart: error: out of memory\n", stderr);
	exit(1);
}

void *
pg_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
pg_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
pg_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
pg_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
pg_xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *buf;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		out_of_memory();
	buf = pg_xmalloc((size_t) n + 1);
	vsnprintf(buf, (size_t) n + 1, fmt, ap);
	return buf;
}

char *
pg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = pg_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
mem_free_each(void *const *ptrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ptrs[i]);
}

bool
refuse_with(char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*why = pg_xvasprintf(fmt, ap);
	va_end(ap);
	return false;
}
