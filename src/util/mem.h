/*
 * mem.h - allocation that cannot return NULL.
 *
 * pgpart is a short-lived client: when memory runs out there is nothing
 * sensible left to do, so these report and exit instead of making every caller
 * check for NULL (the same choice as PostgreSQL's pg_malloc in frontend code).
 */
#ifndef PGPART_UTIL_MEM_H
#define PGPART_UTIL_MEM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *pg_xmalloc(size_t size);
void *pg_xcalloc(size_t n, size_t size);
void *pg_xrealloc(void *ptr, size_t size);
char *pg_xstrdup(const char *s);
char *pg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *pg_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* *why = the formatted reason (malloc'd, the caller frees it); returns false, for "return refuse_with(...)" */
bool refuse_with(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * FREE_ALL(a, b, ...) frees every pointer named (NULL is fine).  A struct's
 * _free function lists the fields it owns in one call, so the ownership of a
 * struct reads as one list rather than a column of free() lines.
 */
void mem_free_each(void *const *ptrs, size_t n);
#define FREE_ALL(...) \
	mem_free_each((void *const[]){__VA_ARGS__}, \
				  sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))

#endif
