/*
 * archurl.c - parsing of archive locations and policy ages.  Locations are checked
 * strictly (no ".." segments, no empty bucket) because they end up as file
 * system paths and object keys; a mistake here would write outside the place
 * the user named.
 */
#include "core/archurl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/strbuf.h"

void
archurl_free(ArchUrl *u)
{
	FREE_ALL(u->bucket, u->path);
	memset(u, 0, sizeof(*u));
}

static bool
fail(char **why, const char *msg)
{
	*why = pg_xstrdup(msg);
	return false;
}

/* strips trailing slashes in place (keeps a lone "/") */
static void
chop_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
}

bool
archurl_path_has_dot_segment(const char *path, bool empty_is_bad)
{
	const char *seg = path;

	for (;;)
	{
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t) (end - seg) : strlen(seg);

		if ((len == 0 && empty_is_bad) || (len == 1 && seg[0] == '.') ||
			(len == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		if (!end)
			return false;
		seg = end + 1;
	}
}

bool
archurl_parse(const char *text, ArchUrl *u, char **why)
{
	const char *p;

	memset(u, 0, sizeof(*u));
	*why = NULL;
	if (text == NULL || *text == '\0')
		return fail(why, "the location is empty");
	for (p = text; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			return fail(why, "the location contains a control character");
	if (strncmp(text, "file://", 7) == 0)
	{
		p = text + 7;
		if (strncmp(p, "localhost/", 10) == 0)
			p += 9;
		if (*p != '/')
			return fail(why, "a file:// location needs an absolute path (file:///dir), on this "
							 "machine");
		if (strchr(p, '?') || strchr(p, '#'))
			return fail(why, "a file:// location takes no query or fragment");
		if (archurl_path_has_dot_segment(p + 1, false))
			return fail(why, "a file:// location may not contain \".\" or \"..\" segments");
		u->scheme = ARCH_FILE;
		u->path = pg_xstrdup(p);
		chop_slashes(u->path);
		return true;
	}
	if (strncmp(text, "s3://", 5) == 0)
	{
		const char *slash;
		size_t blen;

		p = text + 5;
		slash = strchr(p, '/');
		blen = slash ? (size_t) (slash - p) : strlen(p);
		if (blen < 3 || blen > 63)
			return fail(why, "an S3 bucket name has 3 to 63 characters");
		for (size_t i = 0; i < blen; i++)
		{
			char c = p[i];

			if (!(islower((unsigned char) c) || isdigit((unsigned char) c) || c == '-' ||
				  c == '.'))
				return fail(why, "an S3 bucket name has only lowercase letters, digits, '-' "
								 "and '.'");
		}
		if (strchr(p, '?') || strchr(p, '#'))
			return fail(why, "an s3:// location takes no query or fragment");
		u->scheme = ARCH_S3;
		u->bucket = pg_xasprintf("%.*s", (int) blen, p);
		p = slash ? slash + 1 : "";
		while (*p == '/')
			p++;
		u->path = pg_xstrdup(p);
		if (u->path[0])
			chop_slashes(u->path);
		if (strcmp(u->path, "/") == 0)
			u->path[0] = '\0';
		if (u->path[0] && archurl_path_has_dot_segment(u->path, false))
		{
			archurl_free(u);
			return fail(why, "an s3:// prefix may not contain \".\" or \"..\" segments");
		}
		return true;
	}
	if (strstr(text, "://"))
		return fail(why, "unsupported scheme (use file:///DIR or s3://BUCKET/PREFIX)");
	return fail(why, "not a URL (use file:///DIR or s3://BUCKET/PREFIX)");
}

char *
archurl_format(const ArchUrl *u)
{
	if (u->scheme == ARCH_FILE)
		return pg_xasprintf("file://%s", u->path);
	return u->path[0] ? pg_xasprintf("s3://%s/%s", u->bucket, u->path)
					  : pg_xasprintf("s3://%s", u->bucket);
}

bool
archurl_split_last(const char *text, char **location, char **name, char **why)
{
	const char *scheme_end = strstr(text, "://");
	const char *last;
	size_t n = strlen(text);

	*location = *name = NULL;
	*why = NULL;
	if (!scheme_end)
		return fail(why, "not a URL (use file:///DIR/NAME or s3://BUCKET/PREFIX/NAME)");
	if (n > 0 && text[n - 1] == '/')
		return fail(why, "the URL names a directory, not an object");
	last = strrchr(text, '/');
	if (last == NULL || last < scheme_end + 3)
		return fail(why, "the URL names no object");
	*location = pg_xasprintf("%.*s", (int) (last - text), text);
	*name = pg_xstrdup(last + 1);
	return true;
}

S3EndpointCheck
s3_endpoint_check(const char *endpoint, bool allow_insecure, char **why)
{
	const char *host, *p;
	bool https = strncmp(endpoint, "https://", 8) == 0;
	size_t hlen;

	*why = NULL;
	if (!https && strncmp(endpoint, "http://", 7) != 0)
	{
		fail(why, "an S3 endpoint is an https:// URL (http:// only when allowed explicitly)");
		return S3_ENDPOINT_INVALID;
	}
	host = endpoint + (https ? 8 : 7);
	for (p = endpoint; *p; p++)
		if ((unsigned char) *p <= 0x20 || *p == 0x7f)
		{
			fail(why, "the endpoint contains a space or a control character");
			return S3_ENDPOINT_INVALID;
		}
	hlen = strcspn(host, "/");
	if (hlen == 0 || host[0] == ':')
	{
		fail(why, "the endpoint names no host");
		return S3_ENDPOINT_INVALID;
	}
	if (memchr(host, '@', hlen))
	{
		/* never echoed: it may hold a password */
		fail(why, "the endpoint contains a user name or password; S3 credentials come from "
				  "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN");
		return S3_ENDPOINT_INVALID;
	}
	if (strchr(host, '?') || strchr(host, '#'))
	{
		fail(why, "an S3 endpoint takes no query or fragment");
		return S3_ENDPOINT_INVALID;
	}
	if (!https && !allow_insecure)
	{
		fail(why, "a plain http:// endpoint sends the requests, the session token and the "
				  "archived rows unencrypted");
		return S3_ENDPOINT_INSECURE;
	}
	return S3_ENDPOINT_OK;
}

char *
archkey_escape(const char *name)
{
	StrBuf sb;
	const unsigned char *c;

	sb_init(&sb);
	for (c = (const unsigned char *) name; *c; c++)
	{
		if (isalnum(*c) && *c < 0x80)
			sb_append_char(&sb, (char) *c);
		else if (*c == '_' || *c == '-')
			sb_append_char(&sb, (char) *c);
		else
			sb_appendf(&sb, "~%02X", *c);
	}
	return sb_steal(&sb);
}

bool
age_parse(const char *text, Age *age)
{
	const char *p = text;
	char *end;
	long n;
	char unit[16];
	size_t ulen;

	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	n = strtol(p, &end, 10);
	if (n < 1 || n > 10000)
		return false;
	p = end;
	while (*p == ' ')
		p++;
	ulen = strlen(p);
	while (ulen > 0 && p[ulen - 1] == ' ')
		ulen--;
	if (ulen == 0 || ulen >= sizeof(unit))
		return false;
	memcpy(unit, p, ulen);
	unit[ulen] = '\0';
	if (ulen > 1 && unit[ulen - 1] == 's')
		unit[ulen - 1] = '\0';
	if (!cal_unit_parse(unit, &age->unit))
		return false;
	/* "1 years" or "2 quarter" read oddly but mean one thing; accept both */
	age->n = (int) n;
	return true;
}

char *
age_format(Age age)
{
	return pg_xasprintf("%d %s%s", age.n, cal_unit_name(age.unit), age.n == 1 ? "" : "s");
}

CivilDate
age_subtract(CivilDate d, Age age)
{
	int months = 0;

	switch (age.unit)
	{
		case CAL_DAY:
			return cal_days_to_date(cal_date_to_days(d) - age.n);
		case CAL_WEEK:
			return cal_days_to_date(cal_date_to_days(d) - 7 * (int64_t) age.n);
		case CAL_MONTH:
			months = age.n;
			break;
		case CAL_QUARTER:
			months = 3 * age.n;
			break;
		case CAL_YEAR:
			months = 12 * age.n;
			break;
	}
	{
		int total = d.year * 12 + (d.month - 1) - months;
		CivilDate r;
		int dim;

		r.year = total / 12;
		r.month = total % 12 + 1;
		dim = cal_days_in_month(r.year, r.month);
		r.day = d.day > dim ? dim : d.day;
		return r;
	}
}
