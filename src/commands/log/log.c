/*
 * log.c - pgpart log: prunes first (when --keep is given), then reads, so
 * the output shows the pruning's own entry.
 */
#include "commands/log/log.h"

#include <stdlib.h>

#include "commands/log/log_sql.h"
#include "pg/catalog.h"
#include "pg/schema.h"
#include "util/mem.h"

void
logresult_free(LogResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		LogEntry *e = &r->entries[i];

		FREE_ALL(e->started_at, e->role, e->host, e->command, e->table, e->kind, e->statement,
				 e->outcome);
	}
	free(r->entries);
	r->entries = NULL;
	r->n = 0;
}

/* the name as the log stores it; a table since dropped is found by that name */
static bool
stored_name(PgConn *pc, const char *user_name, char **name, PgpError *err)
{
	RelInfo rel;
	bool found, ok;

	if (!catalog_resolve_table(pc, user_name, &rel, &found, err))
		return false;
	if (!found)
	{
		*name = pg_xstrdup(user_name);
		return true;
	}
	ok = log_sql_stored_name(pc, rel.schema, rel.name, name, err);
	relinfo_free(&rel);
	return ok;
}

bool
ops_log(PgConn *pc, const LogOptions *opt, LogResult *res, PgpError *err)
{
	char *table = NULL;
	char since[16];
	bool ok;

	res->entries = NULL;
	res->n = 0;
	res->pruned_run = false;
	res->pruned = 0;
	if (!schema_require(pc, err))
		return false;
	if (opt->table && !stored_name(pc, opt->table, &table, err))
		return false;
	if (opt->has_since)
		cal_date_format(opt->since, since);
	ok = true;
	if (opt->has_keep)
	{
		ok = log_sql_prune(pc, opt->keep_ms, &res->pruned, err);
		res->pruned_run = ok;
	}
	ok = ok && log_sql_read(pc, table, opt->has_since ? since : NULL, opt->limit, res, err);
	free(table);
	return ok;
}
