/*
 * config.c - pgpart.part_config and pgpart.run_log: which tables pgpart
 * manages and how, and the record of each run that status and metrics report.
 */
#include "pg/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/schema.h"
#include "util/mem.h"

void
partconfig_free(PartConfig *c)
{
	FREE_ALL(c->parent_schema, c->parent_name, c->column, c->time_zone);
	sched_free(&c->sched);
	memset(c, 0, sizeof(*c));
}

void
partconfig_list_free(PartConfig *list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		partconfig_free(&list[i]);
	free(list);
}

/* the changes of each listed table's interval, into its sched */
static bool
load_interval_history(PgConn *pc, RelOid parent, PartConfig *list, int n, PgpError *err)
{
	PGresult *res = catalog_oid_query(pc,
									  "SELECT h.parent_table::pg_catalog.oid, h.from_date::text, "
									  "       h.part_interval "
									  "FROM pgpart.interval_history h "
									  "WHERE $1::pg_catalog.oid = 0 "
									  "   OR h.parent_table = $1::pg_catalog.oid "
									  "ORDER BY h.parent_table, h.from_date",
									  parent, err);
	int i, k;

	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		RelOid oid = (RelOid) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		CivilDate from;
		CalUnit unit;

		if (!cal_date_parse(PQgetvalue(res, i, 1), &from) ||
			!cal_unit_parse(PQgetvalue(res, i, 2), &unit))
			continue;
		for (k = 0; k < n; k++)
			if (list[k].parent == oid)
				sched_add(&list[k].sched, from, unit);
	}
	PQclear(res);
	return true;
}

bool
config_load(PgConn *pc, RelOid parent, PartConfig **list, int *n, PgpError *err)
{
	PGresult *res;
	int i;

	*list = NULL;
	*n = 0;
	res = catalog_oid_query(pc,
							"SELECT pc.parent_table::pg_catalog.oid, n.nspname, c.relname, "
							"       c.oid IS NOT NULL, pc.part_column, pc.part_interval, "
							"       pc.start_date::text, pc.premake, pc.time_zone, "
							"       pc.parent_table::pg_catalog.oid::text "
							"FROM pgpart.part_config pc "
							"LEFT JOIN pg_catalog.pg_class c ON c.oid = pc.parent_table "
							"LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							"WHERE $1::pg_catalog.oid = 0 OR pc.parent_table = $1::pg_catalog.oid "
							"ORDER BY n.nspname, c.relname",
							parent, err);
	if (res == NULL)
		return false;
	*n = PQntuples(res);
	*list = pg_xcalloc((size_t) *n, sizeof(PartConfig));
	for (i = 0; i < *n; i++)
	{
		PartConfig *c = &(*list)[i];

		c->parent = (RelOid) strtoul(PQgetvalue(res, i, 0), NULL, 10);
		c->parent_exists = PQgetvalue(res, i, 3)[0] == 't';
		/* a dropped table has no name any more: show its OID */
		c->parent_schema = pg_xstrdup(c->parent_exists ? PQgetvalue(res, i, 1) : "?");
		c->parent_name = pg_xstrdup(c->parent_exists ? PQgetvalue(res, i, 2)
													 : PQgetvalue(res, i, 9));
		c->column = pg_xstrdup(PQgetvalue(res, i, 4));
		if (!cal_unit_parse(PQgetvalue(res, i, 5), &c->unit))
			c->unit = CAL_QUARTER;
		if (!cal_date_parse(PQgetvalue(res, i, 6), &c->start))
			c->start = (CivilDate){1970, 1, 1};
		c->premake = atoi(PQgetvalue(res, i, 7));
		c->time_zone = pg_xstrdup(PQgetvalue(res, i, 8));
		sched_init(&c->sched, c->unit);
	}
	PQclear(res);
	if (!load_interval_history(pc, parent, *list, *n, err))
	{
		partconfig_list_free(*list, *n);
		*list = NULL;
		*n = 0;
		return false;
	}
	return true;
}

bool
config_insert(PgConn *pc, const PartConfig *c, PgpError *err)
{
	char oid[16], start[16], premake[16];
	const char *params[6];

	snprintf(oid, sizeof(oid), "%u", c->parent);
	cal_date_format(c->start, start);
	snprintf(premake, sizeof(premake), "%d", c->premake);
	params[0] = oid;
	params[1] = c->column;
	params[2] = cal_unit_name(c->unit);
	params[3] = start;
	params[4] = premake;
	params[5] = c->time_zone;
	return pgc_change(pc,
					  "INSERT INTO pgpart.part_config "
					  "(parent_table, part_column, part_interval, start_date, premake, time_zone) "
					  "VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3, $4::date, "
					  "$5::integer, $6)",
					  6, params, err);
}

bool
config_log_run(PgConn *pc, RelOid parent, const char *command, const char *started_at, bool ok,
			   const char *summary_json, PgpError *err)
{
	char oid[16];
	const char *params[5];

	snprintf(oid, sizeof(oid), "%u", parent);
	params[0] = parent ? oid : NULL;
	params[1] = command;
	params[2] = started_at;
	params[3] = ok ? "true" : "false";
	params[4] = summary_json ? summary_json : "{}";
	return pgc_change(pc,
					  "INSERT INTO pgpart.run_log (parent_table, command, started_at, ok, summary) "
					  "VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3::timestamptz, "
					  "$4::boolean, $5::jsonb)",
					  5, params, err);
}

bool
config_run_started(PgConn *pc, char **started_at, PgpError *err)
{
	return pgc_query_value(pc, "SELECT pg_catalog.clock_timestamp()::text", 0, NULL, started_at,
						   err);
}

bool
config_load_managed(PgConn *pc, const char *table, PartConfig **list, int *n, PgpError *err)
{
	RelOid only = 0;

	*list = NULL;
	*n = 0;
	if (!schema_require(pc, err))
		return false;
	if (table)
	{
		RelInfo rel;
		bool found;

		if (!catalog_resolve_table(pc, table, &rel, &found, err))
			return false;
		only = rel.oid;
		relinfo_free(&rel);
		if (!found)
		{
			err_set(err, EXIT_USAGE, "table \"%s\" does not exist", table);
			err_hint(err, "Check the name; \"pgpart status\" lists the tables pgpart manages.");
			return false;
		}
	}
	if (!config_load(pc, only, list, n, err))
		return false;
	if (table && *n == 0)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" is not managed by pgpart", table);
		err_hint(err, "Partition it first with \"pgpart create\" or \"pgpart migrate\".");
		partconfig_list_free(*list, *n);
		*list = NULL;
		return false;
	}
	return true;
}

bool
config_load_one_managed(PgConn *pc, const char *table, PartConfig *cfg, PgpError *err)
{
	PartConfig *list = NULL;
	int n = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!config_load_managed(pc, table, &list, &n, err))
		return false;
	*cfg = list[0];
	memset(&list[0], 0, sizeof(list[0]));
	partconfig_list_free(list, n);
	return true;
}
