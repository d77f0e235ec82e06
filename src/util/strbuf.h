/*
 * strbuf.h - growing string buffer, used for every SQL statement and message
 * pgpart builds, so no identifier or statement is ever cut at a fixed size.
 */
#ifndef PGPART_UTIL_STRBUF_H
#define PGPART_UTIL_STRBUF_H

#include <stddef.h>

typedef struct StrBuf
{
	char *data; /* always NUL-terminated once initialised */
	size_t len;
	size_t cap;
} StrBuf;

void sb_init(StrBuf *sb);
void sb_reset(StrBuf *sb);
void sb_free(StrBuf *sb);
/* hands the string to the caller (who frees it) and leaves sb empty */
char *sb_steal(StrBuf *sb);
void sb_append(StrBuf *sb, const char *s);
void sb_append_len(StrBuf *sb, const char *s, size_t n);
void sb_append_char(StrBuf *sb, char c);
void sb_appendf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
