/*
 * collist.c - a small scanner for index column lists with SQL's folding and
 * quoting rules, so the names reach PQescapeIdentifier exactly as PostgreSQL
 * would have read them.
 */
#include "core/collist.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/strbuf.h"

static const char *
skip_space(const char *p)
{
	while (*p && isspace((unsigned char) *p))
		p++;
	return p;
}

char *
collist_parse_name(const char **pp, char **why)
{
	const char *p = *pp;
	StrBuf sb;

	sb_init(&sb);
	if (*p == '"')
	{
		p++;
		for (;;)
		{
			if (*p == '\0')
			{
				*why = pg_xstrdup("unterminated quoted column name");
				sb_free(&sb);
				return NULL;
			}
			if (*p == '"')
			{
				if (p[1] == '"')
				{
					sb_append_char(&sb, '"');
					p += 2;
					continue;
				}
				p++;
				break;
			}
			sb_append_char(&sb, *p++);
		}
		if (sb.len == 0)
		{
			*why = pg_xstrdup("empty quoted column name");
			sb_free(&sb);
			return NULL;
		}
	}
	else
	{
		if (!(isalpha((unsigned char) *p) || *p == '_' || (unsigned char) *p >= 0x80))
		{
			*why = pg_xasprintf("expected a column name at \"%s\"", p);
			sb_free(&sb);
			return NULL;
		}
		while (isalnum((unsigned char) *p) || *p == '_' || *p == '$' ||
			   (unsigned char) *p >= 0x80)
		{
			/* unquoted identifiers fold to lower case, as in SQL (ASCII only, as PostgreSQL) */
			sb_append_char(&sb, (char) ((*p >= 'A' && *p <= 'Z') ? *p + ('a' - 'A') : *p));
			p++;
		}
	}
	*pp = p;
	return sb_steal(&sb);
}

bool
collist_parse(const char *text, NameList *out, char **why)
{
	const char *p;
	bool parens = false;

	out->items = NULL;
	out->n = 0;
	*why = NULL;
	p = skip_space(text ? text : "");
	if (*p == '(')
	{
		parens = true;
		p = skip_space(p + 1);
	}
	for (;;)
	{
		char *name = collist_parse_name(&p, why);

		if (name == NULL)
			goto fail;
		namelist_add(out, name);
		free(name);
		p = skip_space(p);
		if (*p == ',')
		{
			p = skip_space(p + 1);
			continue;
		}
		break;
	}
	if (parens)
	{
		if (*p != ')')
		{
			*why = pg_xstrdup("missing closing parenthesis");
			goto fail;
		}
		p = skip_space(p + 1);
	}
	if (*p != '\0')
	{
		*why = pg_xasprintf("unexpected \"%s\" (only column names, separated by commas)", p);
		goto fail;
	}
	return true;
fail:
	namelist_free(out);
	return false;
}
