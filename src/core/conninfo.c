/*
 * conninfo.c - finds the password in a libpq keyword/value string or a
 * postgresql:// URI by the same lexical rules libpq uses, so that the copy in
 * argv can be overwritten in place without changing what libpq later reads.
 */
#include "core/conninfo.h"

#include <stdbool.h>
#include <string.h>

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* the key=value form, parsed as libpq's conninfo_parse does */
static size_t
mask_keyword_form(char *s)
{
	size_t masked = 0;
	char *p = s;

	while (*p)
	{
		const char *key;
		size_t keylen;
		bool is_password;

		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p && *p != '=' && !is_space(*p))
			p++;
		keylen = (size_t) (p - key);
		while (is_space(*p))
			p++;
		if (*p != '=')
			break; /* not a conninfo libpq accepts: nothing to find */
		p++;
		while (is_space(*p))
			p++;
		is_password = keylen == strlen("password") && strncmp(key, "password", keylen) == 0;
		if (*p == '\'')
		{
			p++;
			while (*p && *p != '\'')
			{
				if (*p == '\\' && p[1])
				{
					if (is_password)
						*p = '*', masked++;
					p++;
				}
				if (is_password)
					*p = '*', masked++;
				p++;
			}
			if (*p == '\'')
				p++;
		}
		else
		{
			while (*p && !is_space(*p))
			{
				if (*p == '\\' && p[1])
				{
					if (is_password)
						*p = '*', masked++;
					p++;
				}
				if (is_password)
					*p = '*', masked++;
				p++;
			}
		}
	}
	return masked;
}

static size_t
mask_span(char *from, const char *to)
{
	size_t n = 0;

	for (; from < to; from++, n++)
		*from = '*';
	return n;
}

static size_t
mask_uri(char *s, size_t prefix)
{
	char *auth = s + prefix, *p = auth, *q;
	size_t masked = 0;

	/* as libpq: the user information ends at the first '@' before any '/' */
	while (*p && *p != '@' && *p != '/')
		p++;
	if (*p == '@')
	{
		char *colon = memchr(auth, ':', (size_t) (p - auth));

		if (colon)
			masked += mask_span(colon + 1, p);
	}
	q = strchr(auth, '?');
	while (q && *q)
	{
		char *param = q + 1, *end = param, *eq;

		while (*end && *end != '&')
			end++;
		eq = memchr(param, '=', (size_t) (end - param));
		if (eq && (size_t) (eq - param) == strlen("password") &&
			strncmp(param, "password", strlen("password")) == 0)
			masked += mask_span(eq + 1, end);
		q = *end ? end : NULL;
	}
	return masked;
}

size_t
conninfo_mask_password(char *s)
{
	static const char *const prefixes[] = {"postgresql://", "postgres://"};
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return mask_uri(s, strlen(prefixes[i]));
	if (strchr(s, '=') == NULL)
		return 0; /* a plain database name */
	return mask_keyword_form(s);
}
