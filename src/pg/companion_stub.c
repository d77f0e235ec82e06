/*
 * companion_stub.c - a stand-in for pg/companion.c until the lead's module
 * lands on main (then this file goes): a table without unique indexes takes
 * its foreign partitions itself; one with a unique index cannot yet.
 */
#include "pg/companion.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void
foreign_home_free(ForeignHome *home)
{
	FREE_ALL(home->schema, home->name, home->view_name);
	memset(home, 0, sizeof(*home));
}

static bool
has_unique(PgConn *pc, const char *schema, const char *table, bool *yes, PgpError *err)
{
	const char *params[2] = {schema, table};
	char *v = NULL;

	if (!pgc_query_value(pc,
						 "SELECT EXISTS (SELECT FROM pg_catalog.pg_index i "
						 "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
						 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						 "WHERE n.nspname = $1 AND c.relname = $2 AND i.indisunique)",
						 2, params, &v, err))
		return false;
	*yes = v && v[0] == 't';
	free(v);
	return true;
}

bool
companion_prepare(PgConn *pc, const char *schema, const char *table, ForeignHome *home,
				  char **why, PgpError *err)
{
	bool unique = false;

	memset(home, 0, sizeof(*home));
	*why = NULL;
	if (!has_unique(pc, schema, table, &unique, err))
		return false;
	if (unique)
	{
		*why = pg_xstrdup("the table has a unique index, and its companion is not available");
		return true;
	}
	home->schema = pg_xstrdup(schema);
	home->name = pg_xstrdup(table);
	return true;
}

bool
companion_find(PgConn *pc, const char *schema, const char *table, ForeignHome *home,
			   PgpError *err)
{
	(void) pc;
	(void) schema;
	(void) table;
	(void) err;
	memset(home, 0, sizeof(*home));
	return true;
}
