/*
 * promtext.c - builds a whole Prometheus exposition in memory before it is sent,
 * so a scrape never sees a half-written family.
 */
#include "core/promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static bool
name_valid(const char *name, bool colon)
{
	const char *c;

	if (name == NULL || *name == '\0' || (*name >= '0' && *name <= '9'))
		return false;
	for (c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			  *c == '_' || (colon && *c == ':')))
			return false;
	return true;
}

bool
prom_metric_name_valid(const char *name)
{
	return name_valid(name, true);
}

bool
prom_label_name_valid(const char *name)
{
	/* names starting with "__" are reserved for Prometheus' own use */
	return name_valid(name, false) && strncmp(name, "__", 2) != 0;
}

/* label values escape backslash, quote and newline; HELP text backslash and newline */
static void
escape(StrBuf *sb, const char *text, bool quotes_too)
{
	const char *c;

	for (c = text ? text : ""; *c; c++)
	{
		if (*c == '\\')
			sb_append(sb, "\\\\");
		else if (*c == '"' && quotes_too)
			sb_append(sb, "\\\"");
		else if (*c == '\n')
			sb_append(sb, "\\n");
		else
			sb_append_char(sb, *c);
	}
}

void
prom_escape_label_value(StrBuf *sb, const char *value)
{
	escape(sb, value, true);
}

void
prom_escape_help(StrBuf *sb, const char *help)
{
	escape(sb, help, false);
}

void
prom_format_value(StrBuf *sb, double value)
{
	if (isnan(value))
		sb_append(sb, "NaN");
	else if (isinf(value))
		sb_append(sb, value > 0 ? "+Inf" : "-Inf");
	else if (value == floor(value) && fabs(value) < 1e15)
		sb_appendf(sb, "%.0f", value);
	else
		sb_appendf(sb, "%.17g", value);
}

void
promset_init(PromSet *s)
{
	memset(s, 0, sizeof(*s));
}

void
promset_free(PromSet *s)
{
	int i, k;

	for (i = 0; i < s->n; i++)
	{
		PromFamily *f = &s->families[i];

		for (k = 0; k < f->n; k++)
			free(f->samples[k].labels);
		FREE_ALL(f->samples, f->name, f->type, f->help);
	}
	free(s->families);
	memset(s, 0, sizeof(*s));
}

int
prom_family(PromSet *s, const char *name, const char *type, const char *help)
{
	PromFamily *f;
	int i;

	if (!prom_metric_name_valid(name) || type == NULL ||
		(strcmp(type, "gauge") != 0 && strcmp(type, "counter") != 0 &&
		 strcmp(type, "untyped") != 0))
		return -1;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->families[i].name, name) == 0)
			return i;
	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 16;
		s->families = pg_xrealloc(s->families, sizeof(PromFamily) * (size_t) s->cap);
	}
	f = &s->families[s->n];
	memset(f, 0, sizeof(*f));
	f->name = pg_xstrdup(name);
	f->type = pg_xstrdup(type);
	f->help = pg_xstrdup(help ? help : "");
	return s->n++;
}

bool
prom_add_labels(PromSet *s, int fi, double value, int nlabels, const char *const *names,
				const char *const *values)
{
	PromFamily *f;
	StrBuf sb;
	int i;

	if (fi < 0 || fi >= s->n)
		return false;
	for (i = 0; i < nlabels; i++)
		if (!prom_label_name_valid(names[i]))
			return false;
	f = &s->families[fi];
	sb_init(&sb);
	for (i = 0; i < nlabels; i++)
	{
		sb_append(&sb, i == 0 ? "{" : ",");
		sb_append(&sb, names[i]);
		sb_append(&sb, "=\"");
		prom_escape_label_value(&sb, values[i]);
		sb_append_char(&sb, '"');
	}
	if (nlabels > 0)
		sb_append_char(&sb, '}');
	if (f->n == f->cap)
	{
		f->cap = f->cap ? f->cap * 2 : 8;
		f->samples = pg_xrealloc(f->samples, sizeof(PromSample) * (size_t) f->cap);
	}
	f->samples[f->n].labels = sb_steal(&sb);
	f->samples[f->n].value = value;
	f->n++;
	return true;
}

bool
prom_add(PromSet *s, int fi, double value, int nlabels, ...)
{
	const char **names = NULL, **values = NULL;
	va_list ap;
	int i;
	bool ok;

	if (nlabels > 0)
	{
		names = pg_xcalloc((size_t) nlabels, sizeof(char *));
		values = pg_xcalloc((size_t) nlabels, sizeof(char *));
	}
	va_start(ap, nlabels);
	for (i = 0; i < nlabels; i++)
	{
		names[i] = va_arg(ap, const char *);
		values[i] = va_arg(ap, const char *);
	}
	va_end(ap);
	ok = prom_add_labels(s, fi, value, nlabels, names, values);
	free(names);
	free(values);
	return ok;
}

char *
prom_render(const PromSet *s)
{
	StrBuf sb;
	int i, k;

	sb_init(&sb);
	for (i = 0; i < s->n; i++)
	{
		const PromFamily *f = &s->families[i];

		sb_appendf(&sb, "# HELP %s ", f->name);
		prom_escape_help(&sb, f->help);
		sb_appendf(&sb, "\n# TYPE %s %s\n", f->name, f->type);
		for (k = 0; k < f->n; k++)
		{
			sb_append(&sb, f->name);
			sb_append(&sb, f->samples[k].labels);
			sb_append_char(&sb, ' ');
			prom_format_value(&sb, f->samples[k].value);
			sb_append_char(&sb, '\n');
		}
	}
	return sb_steal(&sb);
}
