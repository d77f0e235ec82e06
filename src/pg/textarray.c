/*
 * textarray.c - text[] literals both ways (textarray.h): written with every
 * element in double quotes so no value needs a rule of its own, read as the
 * server prints them (quotes only where needed).
 */
#include "pg/textarray.h"

#include <string.h>

#include "util/strbuf.h"

char *
text_array_literal(const NameList *values)
{
	StrBuf sb;
	int i;
	const char *p;

	sb_init(&sb);
	sb_append_char(&sb, '{');
	for (i = 0; i < values->n; i++)
	{
		if (i > 0)
			sb_append_char(&sb, ',');
		sb_append_char(&sb, '"');
		for (p = values->items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				sb_append_char(&sb, '\\');
			sb_append_char(&sb, *p);
		}
		sb_append_char(&sb, '"');
	}
	sb_append_char(&sb, '}');
	return sb_steal(&sb);
}

bool
text_array_parse(const char *lit, NameList *out)
{
	const char *p = lit;
	StrBuf item;

	memset(out, 0, sizeof(*out));
	if (lit == NULL)
		return true;
	if (*p++ != '{')
		return false;
	sb_init(&item);
	if (*p == '}')
	{
		sb_free(&item);
		return true;
	}
	for (;;)
	{
		sb_reset(&item);
		if (*p == '"')
		{
			p++;
			while (*p && *p != '"')
			{
				if (*p == '\\' && p[1])
					p++;
				sb_append_char(&item, *p++);
			}
			if (*p++ != '"')
				break;
		}
		else
			while (*p && *p != ',' && *p != '}')
				sb_append_char(&item, *p++);
		namelist_add(out, item.data);
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == '}')
		{
			sb_free(&item);
			return true;
		}
		break;
	}
	sb_free(&item);
	namelist_free(out);
	return false;
}
