/*
 * planverdict.c - reads EXPLAIN's JSON plan tree for the partitions of one
 * table, and screens statement text before it is EXPLAINed.  The filter
 * texts it reads are PostgreSQL's own deparsed expressions, so a small
 * tokenizer (names, quoted names, literals, parentheses) is enough: nothing
 * here parses SQL in general.
 */
#include "core/planverdict.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sqlscreen.h"
#include "util/mem.h"
#include "util/strbuf.h"

/* longest statement text screened, in bytes */
#define SCREEN_MAX_LENGTH 65536

void
planjudgement_free(PlanJudgement *j)
{
	free(j->reason);
	free(j->index_column);
	namelist_free(&j->include_columns);
	memset(j, 0, sizeof(*j));
}

const char *
planverdict_name(PlanVerdict v)
{
	switch (v)
	{
		case PLAN_PRUNES:
			return "prunes";
		case PLAN_PRUNES_AT_RUN_TIME:
			return "prunes at run time";
		case PLAN_NO_PRUNING:
			return "does not prune";
		case PLAN_NOT_TOUCHED:
			break;
	}
	return "not in the plan";
}

static bool
is_ident_start(char c)
{
	return isalpha((unsigned char) c) || c == '_' || (unsigned char) c >= 0x80;
}

static bool
is_ident_char(char c)
{
	return is_ident_start(c) || isdigit((unsigned char) c) || c == '$';
}

/*
 * One name at p: a plain or "quoted" identifier, with its qualifiers
 * ("t.col", "s"."t"."col").  Returns the end; the last component (unquoted)
 * goes to *last (malloc'd).  NULL when no name starts at p.
 */
static const char *
read_name(const char *p, char **last)
{
	*last = NULL;
	for (;;)
	{
		StrBuf part;

		sb_init(&part);
		if (*p == '"')
		{
			for (p++; *p; p++)
			{
				if (*p == '"')
				{
					if (p[1] != '"')
						break;
					p++;
				}
				sb_append_char(&part, *p);
			}
			if (*p == '"')
				p++;
		}
		else if (is_ident_start(*p))
		{
			while (is_ident_char(*p))
				sb_append_char(&part, *p++);
		}
		else
		{
			sb_free(&part);
			return *last ? p : NULL;
		}
		free(*last);
		*last = sb_steal(&part);
		if (*p != '.' || !(p[1] == '"' || is_ident_start(p[1])))
			return p;
		p++;
	}
}

/* past a '...' literal starting at p */
static const char *
skip_literal(const char *p)
{
	for (p++; *p; p++)
		if (*p == '\'')
		{
			if (p[1] != '\'')
				return p + 1;
			p++;
		}
	return p;
}

/* whether a name whose last component is column occurs in filter */
static bool
mentions_column(const char *filter, const char *column)
{
	const char *p = filter;

	while (*p)
	{
		char *name;
		const char *end;

		if (*p == '\'')
		{
			p = skip_literal(p);
			continue;
		}
		if ((end = read_name(p, &name)) != NULL)
		{
			bool hit = strcmp(name, column) == 0;

			free(name);
			if (hit)
				return true;
			p = end;
			continue;
		}
		p++;
	}
	return false;
}

char *
planverdict_wrapping_function(const char *filter, const char *column)
{
	/* per open parenthesis: the function it calls, or NULL for a grouping one */
	char **stack = NULL;
	int depth = 0, cap = 0, i;
	char *result = NULL, *pending = NULL;
	const char *p = filter;

	while (*p && !result)
	{
		char *name;
		const char *end;

		if (*p == '\'')
		{
			p = skip_literal(p);
			continue;
		}
		if (*p == '(')
		{
			if (depth == cap)
			{
				cap = cap ? cap * 2 : 8;
				stack = pg_xrealloc(stack, (size_t) cap * sizeof(char *));
			}
			stack[depth++] = pending;
			pending = NULL;
			p++;
			continue;
		}
		free(pending);
		pending = NULL;
		if (*p == ')')
		{
			if (depth > 0)
				free(stack[--depth]);
			p++;
			continue;
		}
		if ((end = read_name(p, &name)) == NULL)
		{
			p++;
			continue;
		}
		if (strcmp(name, column) == 0)
		{
			for (i = depth - 1; i >= 0 && !result; i--)
				if (stack[i])
					result = pg_xasprintf("%s()", stack[i]);
			if (!result)
			{
				/* "(occurred_at)::date" or "occurred_at::date" */
				const char *q = end;

				while (*q == ')')
					q++;
				if (q[0] == ':' && q[1] == ':')
				{
					char *type;

					if (read_name(q + 2, &type))
					{
						result = pg_xasprintf("::%s", type);
						free(type);
					}
				}
			}
			free(name);
		}
		else if (*end == '(')
			pending = name; /* a call: the next '(' is its argument list */
		else
			free(name);
		p = end;
	}
	free(pending);
	for (i = 0; i < depth; i++)
		free(stack[i]);
	free(stack);
	return result;
}

/* the first "name = " in filter whose name is not column: a column an index could lead with */
static char *
equality_column(const char *filter, const char *column)
{
	const char *p = filter;

	while (*p)
	{
		char *name;
		const char *end, *q;

		if (*p == '\'')
		{
			p = skip_literal(p);
			continue;
		}
		if ((end = read_name(p, &name)) == NULL)
		{
			p++;
			continue;
		}
		for (q = end; *q == ' '; q++)
			;
		/* compared with a value (a parameter or a constant), not another column */
		if (q[0] == '=' && q[1] == ' ' && strcmp(name, column) != 0 &&
			(q[2] == '$' || q[2] == '\'' || isdigit((unsigned char) q[2]) || q[2] == '-'))
			return name;
		free(name);
		p = end;
	}
	return NULL;
}

typedef struct Walk
{
	const PlanTable *t;
	PlanJudgement *j;
	NameList filters;	   /* every condition on a partition scan */
	NameList heap_filters; /* those of Seq Scans */
	NameList outputs;	   /* what the Seq Scans output */
} Walk;

static bool
is_partition(const PlanTable *t, json_t *node)
{
	const char *rel = json_string_value(json_object_get(node, "Relation Name"));
	const char *schema = json_string_value(json_object_get(node, "Schema"));
	char *key;
	bool hit = false;
	int i;

	if (!rel || !schema)
		return false;
	key = pg_xasprintf("%s.%s", schema, rel);
	for (i = 0; i < t->partitions->n && !hit; i++)
		hit = strcmp(t->partitions->items[i], key) == 0;
	free(key);
	return hit;
}

/* whether node or a node below it scans a partition of t */
static bool
holds_partition(const PlanTable *t, json_t *node)
{
	json_t *child;
	size_t i;

	if (is_partition(t, node))
		return true;
	json_array_foreach(json_object_get(node, "Plans"), i, child)
	{
		if (holds_partition(t, child))
			return true;
	}
	return false;
}

static void
add_text_field(NameList *l, json_t *node, const char *field)
{
	const char *s = json_string_value(json_object_get(node, field));

	if (s)
		namelist_add(l, s);
}

static void
walk(Walk *w, json_t *node)
{
	const char *type = json_string_value(json_object_get(node, "Node Type"));
	json_t *child, *removed = json_object_get(node, "Subplans Removed");
	size_t i;

	if (is_partition(w->t, node))
	{
		w->j->scanned++;
		add_text_field(&w->filters, node, "Filter");
		add_text_field(&w->filters, node, "Index Cond");
		add_text_field(&w->filters, node, "Recheck Cond");
		if (type && strcmp(type, "Seq Scan") == 0)
		{
			json_t *out;

			w->j->heap_scans++;
			add_text_field(&w->heap_filters, node, "Filter");
			json_array_foreach(json_object_get(node, "Output"), i, out)
			{
				if (json_is_string(out))
					namelist_add(&w->outputs, json_string_value(out));
			}
		}
	}
	/* run-time pruning counts for this table when the Append holds its partitions */
	if (json_is_integer(removed) && json_integer_value(removed) > 0 && holds_partition(w->t, node))
		w->j->removed += (int) json_integer_value(removed);
	json_array_foreach(json_object_get(node, "Plans"), i, child)
	{
		walk(w, child);
	}
}

static bool
has_index_lead(const PlanTable *t, const char *col, const char *key)
{
	char *want = pg_xasprintf("%s,%s", col, key);
	bool hit = false;
	int i;

	for (i = 0; t->index_leads && i < t->index_leads->n && !hit; i++)
		hit = strcmp(t->index_leads->items[i], want) == 0;
	free(want);
	return hit;
}

static char *
no_pruning_reason(const Walk *w)
{
	const char *col = w->t->column;
	bool mentioned = false;
	int i;

	for (i = 0; i < w->filters.n; i++)
	{
		char *fn = planverdict_wrapping_function(w->filters.items[i], col);

		if (fn)
		{
			char *r = fn[0] == ':' ? pg_xasprintf("%s cast to %s", col, fn + 2)
								   : pg_xasprintf("%s wrapped in %s", col, fn);

			free(fn);
			return r;
		}
		mentioned = mentioned || mentions_column(w->filters.items[i], col);
	}
	if (!mentioned)
		return pg_xasprintf("no condition on %s", col);
	return pg_xasprintf("the condition on %s cannot prune: it is ORed with other conditions, or "
						"compares %s with a column or a volatile function",
						col, col);
}

/* "Seq Scan filtering on org_id": the (org_id, key) index and what it could INCLUDE */
static void
judge_heap_scans(Walk *w)
{
	const char *key = w->t->column;
	int i;

	for (i = 0; i < w->heap_filters.n && !w->j->index_column; i++)
		w->j->index_column = equality_column(w->heap_filters.items[i], key);
	if (!w->j->index_column)
		return;
	for (i = 0; i < w->outputs.n; i++)
	{
		char *name;
		const char *end = read_name(w->outputs.items[i], &name);
		int k;
		bool dup = false;

		if (!end || *end != '\0')
		{
			free(name);
			continue;
		}
		for (k = 0; k < w->j->include_columns.n && !dup; k++)
			dup = strcmp(w->j->include_columns.items[k], name) == 0;
		if (!dup && strcmp(name, key) != 0 && strcmp(name, w->j->index_column) != 0)
			namelist_add(&w->j->include_columns, name);
		free(name);
	}
}

static void
append_reason(PlanJudgement *j, char *more)
{
	if (j->reason)
	{
		char *both = pg_xasprintf("%s; %s", j->reason, more);

		free(j->reason);
		free(more);
		j->reason = both;
	}
	else
		j->reason = more;
}

bool
planverdict_judge(const char *plan_json, const PlanTable *t, PlanJudgement *j, char **why)
{
	json_error_t jerr;
	json_t *doc = json_loads(plan_json, 0, &jerr), *plan;
	Walk w;

	memset(j, 0, sizeof(*j));
	*why = NULL;
	plan = json_object_get(json_array_get(doc, 0), "Plan");
	if (!json_is_object(plan))
	{
		*why = doc ? pg_xstrdup("the plan has no \"Plan\" object")
				   : pg_xasprintf("the plan is not JSON: %s", jerr.text);
		json_decref(doc);
		return false;
	}
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.j = j;
	j->partitions = t->partitions->n;
	walk(&w, plan);
	j->in_plan = j->scanned + j->removed;
	if (j->in_plan == 0)
		j->verdict = PLAN_NOT_TOUCHED;
	else if (j->in_plan < j->partitions)
		j->verdict = PLAN_PRUNES;
	else if (j->removed > 0)
		j->verdict = PLAN_PRUNES_AT_RUN_TIME;
	else
	{
		j->verdict = PLAN_NO_PRUNING;
		j->reason = no_pruning_reason(&w);
	}
	if (j->verdict != PLAN_NOT_TOUCHED)
	{
		judge_heap_scans(&w);
		if (j->index_column)
			j->index_missing = !has_index_lead(t, j->index_column, t->column);
		if (j->index_column)
			append_reason(j, !j->index_missing
								 ? pg_xasprintf("each partition scanned by its heap although an "
												"index on (%s, %s) exists (small partitions, or "
												"statistics out of date)",
												j->index_column, t->column)
								 : pg_xasprintf("no index on (%s, %s): each partition scanned by "
												"its heap",
												j->index_column, t->column));
	}
	NAMELIST_FREE_ALL(&w.filters, &w.heap_filters, &w.outputs);
	json_decref(doc);
	return true;
}

/* a word that makes a statement more than a read, or not one statement's plan */
static bool
is_refused_word(const char *w, size_t n)
{
	static const char *const words[] = {"insert", "update", "delete", "merge", "into", NULL};
	int i;

	for (i = 0; words[i]; i++)
		if (strlen(words[i]) == n && strncasecmp(w, words[i], n) == 0)
			return true;
	return false;
}

/* past a word (case-insensitive) and the blanks after it, or NULL when p does not start with it */
static const char *
skip_word(const char *p, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(p, word, n) != 0 || is_ident_char(p[n]))
		return NULL;
	for (p += n; isspace((unsigned char) *p); p++)
		;
	return p;
}

const char *
planverdict_prepared_body(const char *text)
{
	const char *p = text;
	char *name;

	while (isspace((unsigned char) *p))
		p++;
	if ((p = skip_word(p, "prepare")) == NULL || (p = read_name(p, &name)) == NULL)
		return NULL;
	free(name);
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '(')
	{
		/* the parameter types: names, commas, parentheses (numeric(14,2)), brackets */
		int depth = 0;

		for (; *p; p++)
		{
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				break;
			else if (*p == '\'' || *p == ';')
				return NULL;
		}
		if (*p != ')')
			return NULL;
		for (p++; isspace((unsigned char) *p); p++)
			;
	}
	return skip_word(p, "as");
}

bool
planverdict_screen_statement(const char *text, bool *has_params, char **why)
{
	const char *p = text, *first;
	size_t n;

	*why = NULL;
	*has_params = false;
	if (strlen(text) > SCREEN_MAX_LENGTH)
		return refuse_with(why, "it is longer than %d bytes", SCREEN_MAX_LENGTH);
	while (isspace((unsigned char) *p))
		p++;
	first = p;
	while (isalpha((unsigned char) *p))
		p++;
	n = (size_t) (p - first);
	if (!((n == 6 && strncasecmp(first, "select", 6) == 0) ||
		  (n == 4 && strncasecmp(first, "with", 4) == 0)))
		return refuse_with(why, "it is not a query (select, or with ... select)");
	/* anywhere, even in a literal: one statement beyond doubt */
	if (strchr(text, ';'))
		return refuse_with(why, "it holds a semicolon");
	for (p = first; *p; p++)
	{
		if (*p == '\\')
			return refuse_with(why, "it holds a backslash");
		if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*'))
			return refuse_with(why, "it holds a comment");
		if (*p == '\'' || *p == '"')
		{
			SqlQuoteEnd e = sqlscreen_quoted(p, &p);

			if (e == SQLSCREEN_QUOTE_OPEN)
				return refuse_with(why, "a quote is not closed");
			if (e == SQLSCREEN_QUOTE_BACKSLASH)
				return refuse_with(why, "it holds a backslash");
			continue;
		}
		if (*p == '$')
		{
			if (!isdigit((unsigned char) p[1]))
				return refuse_with(why, "it holds dollar quoting");
			*has_params = true;
			while (isdigit((unsigned char) p[1]))
				p++;
			continue;
		}
		if (is_ident_start(*p) && (p == first || !is_ident_char(p[-1])))
		{
			const char *w = p;

			while (is_ident_char(p[1]))
				p++;
			if (is_refused_word(w, (size_t) (p - w + 1)))
				return refuse_with(why, "it holds \"%.*s\": only a plain read is EXPLAINed",
							  (int) (p - w + 1), w);
		}
	}
	return true;
}
