/*
 * status.c - gathers what "pgpart status" and "pgpart metrics" show of a
 * managed table (partitions, sizes, tiers, rollups, the last maintenance,
 * warnings) into TableStatus, so both read one truth; prints nothing.
 */
#include "commands/status/status.h"
#include "commands/status/status_sql.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive.h"
#include "commands/policy/policy.h"
#include "commands/remote/remote.h"
#include "commands/rollup/rollup.h"
#include "pg/target.h"
#include "pg/bounds.h"
#include "pg/config.h"
#include "pg/schema.h"
#include "util/mem.h"

void
statusresult_free(StatusResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		TableStatus *t = &r->tables[i];

		FREE_ALL(t->schema, t->name, t->column, t->time_zone, t->last_maintain_at);
		partitionstatslist_free(&t->parts);
		NAMELIST_FREE_ALL(&t->warnings, &t->rollups, &t->tiers, &t->archived, &t->remote,
						 &t->intervals);
		sched_free(&t->sched);
		free(t->policy);
	}
	free(r->tables);
	memset(r, 0, sizeof(*r));
}

/* start of the period after the current one, as an instant */
static bool
next_period_start_us(PgConn *pc, const PartConfig *cfg, KeyType key_type, int64_t *us,
					 PgpError *err)
{
	CivilDate today, next;
	ResolvedBound b;

	if (!catalog_today_date(pc, cfg->time_zone, &today, err))
		return false;
	next = sched_next_start(&cfg->sched, sched_period_start(&cfg->sched, today));
	if (!bounds_resolve(pc, key_type, cfg->time_zone, &next, 1, &b, err))
		return false;
	*us = b.us;
	bounds_free(&b, 1);
	return true;
}

/*
 * The interval a partition is a period of: the one in force at its start,
 * when its bounds are exactly one such period (midnights in the table's time
 * zone), else any other it is exactly one period of (after a split or a
 * merge); "" for anything else (a range someone made by hand).
 */
static const char *
partition_interval(const IntervalSchedule *sched, const PartitionStats *p)
{
	CivilDate lo, hi;
	CalUnit unit;

	if (p->is_default || !cal_date_parse(p->from, &lo) || !cal_date_parse(p->to, &hi))
		return "";
	unit = sched_unit_at(sched, lo);
	if (cal_is_period_start(lo, unit) && cal_compare(cal_period_add(lo, unit, 1), hi) == 0)
		return cal_unit_name(unit);
	/* a split or merge made it a period of another interval */
	for (unit = CAL_DAY; unit <= CAL_YEAR; unit++)
		if (cal_is_period_start(lo, unit) && cal_compare(cal_period_add(lo, unit, 1), hi) == 0)
			return cal_unit_name(unit);
	return "";
}

static bool
status_one(PgConn *pc, const PartConfig *cfg, TableStatus *t, PgpError *err)
{
	ColumnInfo col;
	bool found;
	int64_t next_us;
	int i;
	const PartitionStats *def = NULL;

	t->schema = pg_xstrdup(cfg->parent_schema);
	t->name = pg_xstrdup(cfg->parent_name);
	t->column = pg_xstrdup(cfg->column);
	sched_copy(&t->sched, &cfg->sched);
	t->premake = cfg->premake;
	t->time_zone = pg_xstrdup(cfg->time_zone);
	t->exists = cfg->parent_exists;
	if (!t->exists)
	{
		namelist_addf(&t->warnings,
					  "the table (OID %s) no longer exists; remove it from pgpart.part_config",
					  cfg->parent_name);
		return true;
	}
	if (!catalog_column(pc, cfg->parent, cfg->column, &col, &found, err))
		return false;
	if (!found || !col.key_type_ok)
	{
		namelist_addf(&t->warnings,
					  "partition column \"%s\" is missing or no longer a date/time column",
					  cfg->column);
		columninfo_free(&col);
		return true;
	}
	if (!stats_partitions(pc, cfg->parent, col.key_type, cfg->time_zone, &t->parts, err) ||
		!next_period_start_us(pc, cfg, col.key_type, &next_us, err) ||
		!status_last_maintenance(pc, cfg->parent, &t->last_maintain_at, &t->last_maintain_ok,
								 err))
	{
		columninfo_free(&col);
		return false;
	}
	columninfo_free(&col);

	for (i = 0; i < t->parts.n; i++)
	{
		const PartitionStats *p = &t->parts.items[i];

		namelist_add(&t->intervals, partition_interval(&t->sched, p));
		if (p->is_default)
			def = p;
		else if (p->has_lo && p->lo_us >= next_us)
			t->future_partitions++;
		if (p->invalid_indexes)
		{
			namelist_addf(&t->warnings,
						  "partition %s has invalid indexes: %s (an interrupted CREATE INDEX "
						  "CONCURRENTLY; \"pgpart index add\" rebuilds them)",
						  p->name, p->invalid_indexes);
		}
		if (p->missing_indexes)
			namelist_addf(&t->warnings,
						  "partition %s lacks indexes of the parent: %s (run \"pgpart index add\" "
						  "for them)",
						  p->name, p->missing_indexes);
	}
	if (def == NULL)
		namelist_addf(&t->warnings,
					  "no default partition: rows outside every partition are refused");
	else
	{
		if (!stats_count_rows_capped(pc, t->schema, def->name, STATUS_DEFAULT_COUNT_CAP,
									 &t->default_rows, err))
			return false;
		if (t->default_rows > 0)
			namelist_addf(&t->warnings,
						  "%s%ld rows in the default partition %s; \"pgpart maintain\" moves them "
						  "into partitions of their own",
						  t->default_rows >= STATUS_DEFAULT_COUNT_CAP ? "at least " : "",
						  t->default_rows, def->name);
	}
	if (t->future_partitions < cfg->premake)
		namelist_addf(&t->warnings,
					  "only %d future partitions, fewer than premake %d; run \"pgpart maintain\"",
					  t->future_partitions, cfg->premake);
	if (t->last_maintain_at && !t->last_maintain_ok)
		namelist_addf(&t->warnings, "the last maintenance (%s) failed", t->last_maintain_at);
	{
		char *reshape = NULL;

		if (!status_reshape_in_progress(pc, cfg->parent, &reshape, err))
			return false;
		if (reshape)
			namelist_add(&t->warnings, reshape);
		free(reshape);
	}
	return true;
}

/* the tier of each partition under the table's policy, and the archived ones */
static bool
tier_lines(PgConn *pc, const PartConfig *cfg, TableStatus *t, PgpError *err)
{
	TierPolicyRow pol;
	bool has;
	int i;

	if (!policy_load(pc, cfg->parent, &pol, &has, err))
		return false;
	if (has)
	{
		StrBuf sb;

		sb_init(&sb);
		if (pol.warm_after)
			sb_appendf(&sb, "warm after %s (tablespace %s)", pol.warm_after, pol.warm_tablespace);
		if (pol.remote_after)
			sb_appendf(&sb, "%sremote after %s to %s", sb.len ? ", " : "", pol.remote_after,
					   pol.remote_server);
		if (pol.archive_after)
			sb_appendf(&sb, "%sarchive after %s to %s", sb.len ? ", " : "", pol.archive_after,
					   pol.archive_to);
		if (pol.drop_after)
			sb_appendf(&sb, "%sdrop after %s%s", sb.len ? ", " : "", pol.drop_after,
					   pol.drop_unarchived ? " (unarchived)" : "");
		t->policy = sb_steal(&sb);
	}
	for (i = 0; i < t->parts.n; i++)
	{
		const char *ts = t->parts.items[i].tablespace;
		char *remote = NULL;

		/* a foreign partition is on a remote server, or an archive read in place */
		if (t->parts.items[i].is_foreign &&
			!remote_partition_server(pc, t->schema, t->parts.items[i].name, &remote, err))
		{
			tierpolicyrow_free(&pol);
			return false;
		}
		if (remote)
		{
			namelist_addf(&t->tiers, "remote:%s", remote);
			free(remote);
			continue;
		}
		namelist_add(&t->tiers, t->parts.items[i].is_foreign ? "archived"
								: has && pol.warm_tablespace && ts &&
										strcmp(ts, pol.warm_tablespace) == 0
									? "warm"
									: "hot");
	}
	tierpolicyrow_free(&pol);
	return archive_status_lines(pc, t->schema, t->name, &t->archived, err) &&
		   remote_status_lines(pc, cfg->parent, &t->remote, err);
}

bool
ops_status(PgConn *pc, const char *table, StatusResult *res, PgpError *err)
{
	PartConfig *cfgs = NULL;
	int n = 0, i;
	bool ok = true;

	memset(res, 0, sizeof(*res));
	if (!config_load_managed(pc, table, &cfgs, &n, err))
		return false;
	res->tables = pg_xcalloc((size_t) n + 1, sizeof(TableStatus));
	res->n = n;
	for (i = 0; i < n && ok; i++)
	{
		ok = status_one(pc, &cfgs[i], &res->tables[i], err) &&
			 ops_rollup_status_lines(pc, cfgs[i].parent, &res->tables[i].rollups, err) &&
			 (!cfgs[i].parent_exists || tier_lines(pc, &cfgs[i], &res->tables[i], err));
		res->warnings += res->tables[i].warnings.n;
	}
	partconfig_list_free(cfgs, n);
	/* a failed status returns nothing: callers free a result only on success */
	if (!ok)
		statusresult_free(res);
	return ok;
}
