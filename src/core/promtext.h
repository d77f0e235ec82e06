/*
 * promtext.h - Prometheus' text exposition format (version 0.0.4), built in
 * memory and rendered in one go: metric families (one "# HELP" and one
 * "# TYPE" line each, then their samples, never interleaved), label values
 * escaped (\ " and newline), values as Prometheus parses them (NaN, +Inf).
 * Pure: no I/O, unit-tested.
 */
#ifndef PGPART_CORE_PROMTEXT_H
#define PGPART_CORE_PROMTEXT_H

#include <stdbool.h>

#include "util/strbuf.h"

typedef struct PromSample
{
	char *labels; /* rendered: {a="x",b="y"}, or "" */
	double value;
} PromSample;

typedef struct PromFamily
{
	char *name;
	char *type; /* gauge, counter, untyped */
	char *help;
	PromSample *samples;
	int n, cap;
} PromFamily;

typedef struct PromSet
{
	PromFamily *families;
	int n, cap;
} PromSet;

/* [a-zA-Z_:][a-zA-Z0-9_:]* ; label names: no ':' and no leading "__" */
bool prom_metric_name_valid(const char *name);
bool prom_label_name_valid(const char *name);

void promset_init(PromSet *s);
void promset_free(PromSet *s);
/*
 * The family of that name, added (in order of first use) if new.  Returns
 * its index; -1 when name or type is invalid (nothing added).
 */
int prom_family(PromSet *s, const char *name, const char *type, const char *help);
/*
 * A sample of family f with nlabels pairs of (name, value) strings after
 * value.  false (nothing added) when f or a label name is invalid; a NULL
 * label value is written as "".
 */
bool prom_add(PromSet *s, int f, double value, int nlabels, ...);
/* the same with the label names and values in two arrays of nlabels */
bool prom_add_labels(PromSet *s, int f, double value, int nlabels, const char *const *names,
					 const char *const *values);
/* the whole exposition, malloc'd */
char *prom_render(const PromSet *s);

/* helpers, exposed for the unit test */
void prom_escape_label_value(StrBuf *sb, const char *value);
void prom_escape_help(StrBuf *sb, const char *help);
void prom_format_value(StrBuf *sb, double value);

#endif
