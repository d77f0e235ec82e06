/*
 * strbuf.c - a growing NUL-terminated buffer (doubling capacity), so SQL and
 * identifiers are never truncated at a fixed size.
 */
#include "util/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "util/mem.h"

static void
sb_reserve(StrBuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	while (sb->cap < need)
		sb->cap = sb->cap ? sb->cap * 2 : 64;
	sb->data = pg_xrealloc(sb->data, sb->cap);
}

void
sb_init(StrBuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb_reserve(sb, 0);
	sb->data[0] = '\0';
}

void
sb_reset(StrBuf *sb)
{
	if (sb->data == NULL)
	{
		sb_init(sb);
		return;
	}
	sb->len = 0;
	sb->data[0] = '\0';
}

void
sb_free(StrBuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

char *
sb_steal(StrBuf *sb)
{
	char *s = sb->data;

	/* the buffer is left empty and unallocated: appending or sb_reset re-arms it */
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
sb_append_len(StrBuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
sb_append(StrBuf *sb, const char *s)
{
	sb_append_len(sb, s, strlen(s));
}

void
sb_append_char(StrBuf *sb, char c)
{
	sb_append_len(sb, &c, 1);
}

void
sb_appendf(StrBuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	sb_reserve(sb, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t) n;
}
