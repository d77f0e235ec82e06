/*
 * measures.c - parses the aggregates of a rollup; only those that merge across
 * buckets are accepted, so a report that adds buckets together is exact.
 */
#include "core/measures.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/collist.h"
#include "util/mem.h"

static const char *const agg_names[] = {"sum", "count", "min", "max"};

const char *
agg_name(AggKind k)
{
	return agg_names[k];
}

const char *
agg_merge(AggKind k)
{
	return k == AGG_COUNT ? "sum" : agg_names[k];
}

void
measures_free(MeasureList *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		FREE_ALL(l->items[i].column, l->items[i].name);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static const char *
skip_space(const char *p)
{
	while (*p && isspace((unsigned char) *p))
		p++;
	return p;
}

static bool
parse_one(const char **pp, Measure *m, char **why)
{
	const char *p = skip_space(*pp);
	size_t len = 0;
	int k, found = -1;

	while (isalpha((unsigned char) p[len]))
		len++;
	for (k = 0; k < 4; k++)
		if (len == strlen(agg_names[k]) && strncasecmp(p, agg_names[k], len) == 0)
			found = k;
	if (found < 0)
	{
		*why = pg_xasprintf("expected sum(...), count(...), min(...) or max(...) at \"%s\"", p);
		return false;
	}
	m->kind = (AggKind) found;
	p = skip_space(p + len);
	if (*p != '(')
	{
		*why = pg_xasprintf("expected \"(\" after %s", agg_names[found]);
		return false;
	}
	p = skip_space(p + 1);
	if (*p == '*')
	{
		if (m->kind != AGG_COUNT)
		{
			*why = pg_xasprintf("%s(*) is not an aggregate; only count(*) is", agg_names[found]);
			return false;
		}
		p++;
	}
	else if ((m->column = collist_parse_name(&p, why)) == NULL)
		return false;
	p = skip_space(p);
	if (*p != ')')
	{
		*why = pg_xasprintf("expected \")\" at \"%s\" (one column per aggregate)", p);
		return false;
	}
	*pp = p + 1;
	m->name = m->column ? pg_xasprintf("%s_%s", agg_names[found], m->column)
						: pg_xstrdup(agg_names[found]);
	return true;
}

bool
measures_parse(const char *text, MeasureList *out, char **why)
{
	const char *p = text ? text : "";
	int i;

	out->items = NULL;
	out->n = 0;
	*why = NULL;
	for (;;)
	{
		Measure m = {AGG_SUM, NULL, NULL};

		if (!parse_one(&p, &m, why))
		{
			free(m.column);
			measures_free(out);
			return false;
		}
		for (i = 0; i < out->n; i++)
			if (strcmp(out->items[i].name, m.name) == 0)
			{
				*why = pg_xasprintf("measure %s is listed twice", m.name);
				free(m.column);
				free(m.name);
				measures_free(out);
				return false;
			}
		out->items = pg_xrealloc(out->items, sizeof(Measure) * (size_t) (out->n + 1));
		out->items[out->n++] = m;
		p = skip_space(p);
		if (*p == '\0')
			return true;
		if (*p != ',')
		{
			*why = pg_xasprintf("expected \",\" between measures at \"%s\"", p);
			measures_free(out);
			return false;
		}
		p++;
	}
}
