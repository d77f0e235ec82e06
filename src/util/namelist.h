/*
 * namelist.h - a growable list of owned strings (notes, warnings, statements,
 * column names).  The list owns every item; namelist_free frees them all.
 */
#ifndef PGPART_UTIL_NAMELIST_H
#define PGPART_UTIL_NAMELIST_H

#include <stdarg.h>
#include <stddef.h>

typedef struct NameList
{
	char **items;
	int n;
} NameList;

void namelist_free(NameList *l);
/* NAMELIST_FREE_ALL(&a, &b, ...): namelist_free of each, as FREE_ALL does for strings */
void namelist_free_each(NameList *const *lists, size_t n);
#define NAMELIST_FREE_ALL(...) \
	namelist_free_each((NameList *const[]){__VA_ARGS__}, \
					   sizeof((NameList *const[]){__VA_ARGS__}) / sizeof(NameList *))
void namelist_add(NameList *l, const char *item);
/* adds one formatted line: the notes, warnings and reports commands collect */
void namelist_addf(NameList *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void namelist_vaddf(NameList *l, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/*
 * One fact of a label -> value report (migrate's plan, rollup's lines): the
 * label and the formatted value, each to its own list, so the two stay in step.
 */
void namelist_add_fact(NameList *labels, NameList *values, const char *label, const char *fmt,
					   ...) __attribute__((format(printf, 4, 5)));
/* "a, b, c" (malloc'd) */
char *namelist_join(const NameList *l, const char *sep);

#endif
