/*
 * naming.c - derived identifiers that never exceed 63 bytes or collide.
 */
#include "core/naming.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

#define HASH_LEN 8

/* FNV-1a: tiny, stable across platforms, and plenty to separate names. */
static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= 16777619u;
	}
	return h;
}

/* largest length <= max that does not split a UTF-8 sequence */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	size_t cut;

	if (len <= max)
		return len;
	cut = max;
	while (cut > 0 && ((unsigned char) s[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}

char *
naming_derive(const char *base, const char *suffix)
{
	size_t blen = strlen(base);
	size_t slen = strlen(suffix);
	size_t room;
	size_t cut;

	if (blen + 1 + slen <= PG_IDENT_MAX)
		return pg_xasprintf("%s_%s", base, suffix);

	/* base cut + "_" + hash + "_" + suffix */
	if (slen + 2 + HASH_LEN > PG_IDENT_MAX)
		return NULL;
	room = PG_IDENT_MAX - slen - 2 - HASH_LEN;
	cut = utf8_cut(base, blen, room);
	return pg_xasprintf("%.*s_%08x_%s", (int) cut, base, (unsigned) fnv1a(base), suffix);
}
