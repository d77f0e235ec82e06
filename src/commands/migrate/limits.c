/*
 * limits.c - "pgpart migrate limits TABLE": shows or changes the limits of
 * a running backfill (pgpart.throttle_limit, read between its batches), so
 * that an operator can slow it, pause it or let it go faster without
 * stopping it.  Values only: the probe function is not changeable here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/migrate/migrate.h"
#include "core/throttle.h"
#include "pg/catalog.h"
#include "pg/health.h"
#include "pg/schema.h"
#include "util/mem.h"

#define report_fact(r, label, ...) namelist_add_fact(&(r)->labels, &(r)->values, (label), __VA_ARGS__)

/* one limit: its value, or what the running command was given */
static void
limit_fact(MigrateReport *r, const char *label, const PGresult *res, int col, char *(*fmt)(double),
		   const char *unit)
{
	char *v;

	if (PQntuples(res) == 0 || PQgetisnull(res, 0, col))
	{
		report_fact(r, label, "as given to the running command");
		return;
	}
	v = fmt ? fmt(atof(PQgetvalue(res, 0, col))) : pg_xstrdup(PQgetvalue(res, 0, col));
	report_fact(r, label, "%s%s", v, unit);
	free(v);
}

static bool
limits_show(PgConn *pc, const RelInfo *rel, const char *relid, MigrateReport *r, PgpError *err)
{
	PGresult *res = throttle_limit_read(pc, relid, err);

	if (res == NULL)
		return false;
	report_fact(r, "table", "%s.%s", rel->schema, rel->name);
	limit_fact(r, "rate", res, 0, NULL, " rows/s");
	limit_fact(r, "max lag", res, 1, throttle_format_ms, "");
	limit_fact(r, "max WAL rate", res, 2, throttle_format_rate, "");
	limit_fact(r, "max xact age", res, 3, throttle_format_ms, "");
	limit_fact(r, "max probe", res, 4, throttle_format_ms, "");
	report_fact(r, "paused", "%s",
				PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 5), "true") == 0 ? "yes" : "no");
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 6))
		report_fact(r, "set by", "%s at %s", PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7));
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 8))
		report_fact(r, "state", "%s (at %s)", PQgetvalue(res, 0, 8), PQgetvalue(res, 0, 9));
	else
		report_fact(r, "state", "no copy running");
	PQclear(res);
	return true;
}

bool
ops_migrate_limits(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	RelInfo rel;
	bool found, ok = false;
	char relid[16];

	memset(r, 0, sizeof(*r));
	memset(&rel, 0, sizeof(rel));
	if (opt->pause && opt->resume)
	{
		err_set(err, EXIT_USAGE, "--pause and --resume contradict each other");
		return false;
	}
	if (opt->health.probe)
	{
		err_set(err, EXIT_USAGE, "migrate limits cannot change the probe function");
		err_hint(err, "Change --max-probe here; the function is named on the backfill's command line.");
		return false;
	}
	if (!schema_require(pc, err))
		return false;
	if (!catalog_resolve_table(pc, opt->table, &rel, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		return false;
	}
	snprintf(relid, sizeof(relid), "%u", rel.oid);
	if (opt->rate > 0 || health_args_given(&opt->health) || opt->pause || opt->resume ||
		opt->reset)
	{
		ThrottleLimits set = health_args_limits(&opt->health, opt->rate);

		if (!(opt->reset ? throttle_limit_reset(pc, relid, err)
						 : throttle_limit_set(pc, relid, &set, opt->pause ? 1 : opt->resume ? 0 : -1,
											  err)))
			goto out;
	}
	ok = limits_show(pc, &rel, relid, r, err);
out:
	relinfo_free(&rel);
	return ok;
}
