/*
 * changekind.c - the change log's choice of statements.  Rows pgpart writes
 * to its own schema (job state, run_log, marks) are its bookkeeping, already
 * a record of their own; only rows of a user's table are a change to report.
 */
#include "core/changekind.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool
starts_with_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	return strncmp(s, word, n) == 0 && (s[n] == '\0' || s[n] == ' ');
}

static const char *
skip_space(const char *s)
{
	while (*s && isspace((unsigned char) *s))
		s++;
	return s;
}

/* the statement's first word, and for INSERT and DELETE the word after it */
static const char *
skip_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(s, word, n) != 0 || !isspace((unsigned char) s[n]))
		return NULL;
	return skip_space(s + n);
}

/* INSERT INTO pgpart.x, UPDATE pgpart.x, DELETE FROM pgpart.x (also ONLY) */
static bool
targets_pgpart_schema(const char *sql)
{
	static const struct
	{
		const char *verb;
		const char *then; /* NULL: none */
	} heads[] = {{"INSERT", "INTO"}, {"UPDATE", NULL}, {"DELETE", "FROM"}};
	const char *s = skip_space(sql);
	size_t i;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
	{
		const char *p = skip_word(s, heads[i].verb);

		if (p && heads[i].then)
			p = skip_word(p, heads[i].then);
		if (p == NULL)
			continue;
		if (skip_word(p, "ONLY"))
			p = skip_word(p, "ONLY");
		return strncmp(p, "pgpart.", 7) == 0 || strncmp(p, "\"pgpart\".", 9) == 0;
	}
	return false;
}

ChangeKind
change_kind(const char *tag, const char *sql)
{
	static const char *const ddl[] = {"CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE",
									  "TRUNCATE", "REINDEX", "CLUSTER", "SECURITY", NULL};
	static const char *const rows[] = {"INSERT", "UPDATE", "DELETE", "COPY", "MERGE", NULL};
	int i;

	if (tag == NULL || sql == NULL)
		return CHANGE_NONE;
	for (i = 0; ddl[i]; i++)
		if (starts_with_word(tag, ddl[i]))
			return CHANGE_DDL;
	if (starts_with_word(tag, "LOCK"))
		return CHANGE_LOCK;
	for (i = 0; rows[i]; i++)
		if (starts_with_word(tag, rows[i]))
			return targets_pgpart_schema(sql) ? CHANGE_NONE : CHANGE_ROWS;
	return CHANGE_NONE;
}

const char *
change_kind_name(ChangeKind k)
{
	switch (k)
	{
		case CHANGE_DDL:
			return "ddl";
		case CHANGE_LOCK:
			return "lock";
		case CHANGE_ROWS:
			return "rows";
		case CHANGE_NONE:
			break;
	}
	return NULL;
}
