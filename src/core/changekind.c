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

/* "INSERT INTO pgpart.x", "UPDATE pgpart.x", "DELETE FROM pgpart.x" */
static bool
targets_pgpart_schema(const char *sql)
{
	static const char *const heads[] = {"INSERT INTO ", "UPDATE ", "DELETE FROM ", NULL};
	const char *s = skip_space(sql);
	int i;

	for (i = 0; heads[i]; i++)
		if (strncmp(s, heads[i], strlen(heads[i])) == 0)
		{
			s = skip_space(s + strlen(heads[i]));
			if (strncmp(s, "ONLY ", 5) == 0)
				s = skip_space(s + 5);
			return strncmp(s, "pgpart.", 7) == 0 || strncmp(s, "\"pgpart\".", 9) == 0;
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
