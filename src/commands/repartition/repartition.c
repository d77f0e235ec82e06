/*
 * repartition.c - "pgpart repartition": checks that the change may start on
 * the date asked for (never inside an existing partition, always where a
 * period of the old and of the new interval starts), then records it in one
 * transaction under the table's work lock, so no maintain creates a
 * partition of the old interval meanwhile.  Nothing but pgpart's config
 * changes: the next maintain makes the partitions of the new interval.
 */
#include "commands/repartition/repartition.h"

#include <stdlib.h>
#include <string.h>

#include "commands/repartition/repartition_sql.h"
#include "core/naming.h"
#include "pg/config.h"
#include "pg/target.h"
#include "pg/worklock.h"
#include "util/mem.h"

/* how many periods of the new interval the output shows, and allowed dates a refusal lists */
#define SHOWN_PERIODS 3

void
repartitionresult_free(RepartitionResult *r)
{
	FREE_ALL(r->schema, r->name);
	sched_free(&r->sched);
	namelist_free(&r->first_periods);
	memset(r, 0, sizeof(*r));
}

/* "2027-04-01, 2027-07-01, 2027-10-01": where the change may start instead */
static char *
allowed_dates(const IntervalSchedule *s, CivilDate not_before, CalUnit unit)
{
	CivilDate dates[SHOWN_PERIODS];
	int n = sched_change_dates(s, not_before, unit, SHOWN_PERIODS, dates);
	StrBuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < n; i++)
	{
		char text[16];

		cal_date_format(dates[i], text);
		sb_appendf(&sb, "%s%s", i ? ", " : "", text);
	}
	return sb_steal(&sb);
}

/* the error of a refused change: what is wrong, and the dates that would do */
static void
refuse_change(ChangeVerdict v, const PartConfig *cfg, const RepartitionOptions *opt,
			  CivilDate end, PgpError *err)
{
	char from[16], end_text[16];
	char *allowed = allowed_dates(&cfg->sched, end, opt->unit);
	CalUnit before = sched_unit_before(&cfg->sched, opt->from);

	cal_date_format(opt->from, from);
	cal_date_format(end, end_text);
	switch (v)
	{
		case CHANGE_INSIDE:
			err_set(err, EXIT_USAGE,
					"--from %s is inside the existing partitions of %s.%s, which end at %s", from,
					cfg->parent_schema, cfg->parent_name, end_text);
			err_detail(err, "repartition changes the interval of partitions not made yet; "
							"existing partitions keep theirs.");
			break;
		case CHANGE_NOT_BOUNDARY:
			err_set(err, EXIT_USAGE, "--from %s does not start both a %s of %s.%s and a %s", from,
					cal_unit_name(before), cfg->parent_schema, cfg->parent_name,
					cal_unit_name(opt->unit));
			err_detail(err, "A period of the new interval must begin where one of the old "
							"interval ends, or one partition would straddle the change.");
			break;
		case CHANGE_SAME_UNIT:
			err_set(err, EXIT_USAGE, "%s.%s already has %s partitions from %s on", cfg->parent_schema,
					cfg->parent_name, cal_unit_name(opt->unit), from);
			break;
		case CHANGE_NO_BOUNDARY:
		case CHANGE_OK:
			err_set(err, EXIT_USAGE,
					"no date within %d periods after %s starts both a period of %s.%s and a %s",
					PLAN_MAX_PERIODS, end_text, cfg->parent_schema, cfg->parent_name,
					cal_unit_name(opt->unit));
			break;
	}
	if (allowed[0])
		err_hint(err, "Allowed --from dates: %s (and later ones that start a %s where a period of "
					  "the table starts); nothing was changed.",
				 allowed, cal_unit_name(opt->unit));
	else
		err_hint(err, "Nothing was changed.");
	free(allowed);
}

/* day and week partitions would cut a month bucket in two */
static bool
refuse_month_rollup(PgConn *pc, const PartConfig *cfg, CalUnit unit, PgpError *err)
{
	char *rollup = NULL;

	if (unit != CAL_DAY && unit != CAL_WEEK)
		return true;
	if (!repartition_sql_month_rollup(pc, cfg->parent, &rollup, err))
		return false;
	if (rollup == NULL)
		return true;
	err_set(err, EXIT_USAGE, "%s.%s has the month rollup %s: its partitions must be a month or "
							 "longer, not a %s",
			cfg->parent_schema, cfg->parent_name, rollup, cal_unit_name(unit));
	err_hint(err, "Drop the rollup first (pgpart rollup drop) or choose month, quarter or year; "
				  "nothing was changed.");
	free(rollup);
	return false;
}

/* where the table's existing periods end: the date the change may start on at the earliest */
static bool
partitions_end(PgConn *pc, const PartConfig *cfg, const Target *t, RepartitionResult *res,
			   CivilDate *end, PgpError *err)
{
	bool found, unbounded;

	if (!repartition_sql_partitions_end(pc, t, end, &found, &unbounded, err))
		return false;
	if (unbounded)
	{
		err_set(err, EXIT_USAGE, "the last partition of %s.%s reaches MAXVALUE: no later period "
								 "can have a partition",
				cfg->parent_schema, cfg->parent_name);
		err_hint(err, "Nothing was changed.");
		return false;
	}
	res->has_partitions_end = found;
	res->partitions_end = *end;
	if (!found)
	{
		/* no partition yet: the change may start with the current period */
		CivilDate today;

		if (!catalog_today_date(pc, cfg->time_zone, &today, err))
			return false;
		*end = sched_period_start(&cfg->sched, today);
	}
	return true;
}

static void
describe_first_periods(RepartitionResult *res, const char *base)
{
	CivilDate start = res->from;
	int i;

	for (i = 0; i < SHOWN_PERIODS; i++)
	{
		Period p = sched_period(&res->sched, start);
		char *name = naming_derive(base, p.suffix);
		char from[16], to[16];

		cal_date_format(p.start, from);
		cal_date_format(p.end, to);
		namelist_addf(&res->first_periods, "%s [%s, %s)", name ? name : p.suffix, from, to);
		free(name);
		start = p.end;
	}
}

bool
ops_repartition(PgConn *pc, const RepartitionOptions *opt, RepartitionResult *res,
				PgpError *err)
{
	PartConfig cfg;
	Target t;
	WorkLock wl = {0};
	CivilDate end;
	ChangeVerdict v;
	bool ok = false;

	memset(res, 0, sizeof(*res));
	memset(&t, 0, sizeof(t));
	t.parts.default_index = -1;
	if (!config_load_one_managed(pc, opt->table, &cfg, err))
		return false;
	if (!cfg.parent_exists)
	{
		err_set(err, EXIT_RUNTIME, "configured table (OID %s) no longer exists", cfg.parent_name);
		goto done;
	}
	/* under the lock no maintain makes a partition that would end after the checked date */
	if (!worklock_take(pc, &wl, "repartition", &cfg.parent, 1, err) ||
		!target_load_managed(pc, &cfg, &t, err) ||
		!partitions_end(pc, &cfg, &t, res, &end, err))
		goto done;
	res->from = opt->from;
	v = sched_check_change(&cfg.sched, end, opt->unit, opt->has_from, &res->from);
	if (v != CHANGE_OK)
	{
		RepartitionOptions asked = *opt;

		asked.from = res->from;
		refuse_change(v, &cfg, &asked, end, err);
		goto done;
	}
	if (!refuse_month_rollup(pc, &cfg, opt->unit, err))
		goto done;
	res->schema = pg_xstrdup(cfg.parent_schema);
	res->name = pg_xstrdup(cfg.parent_name);
	res->unit = opt->unit;
	res->previous = sched_unit_before(&cfg.sched, res->from);
	res->replaced = sched_changes_from(&cfg.sched, res->from);
	sched_copy(&res->sched, &cfg.sched);
	sched_add(&res->sched, res->from, opt->unit);
	describe_first_periods(res, cfg.parent_name);
	/* a change back to the interval before only cancels planned ones (sched_add) */
	ok = repartition_sql_record(pc, cfg.parent, res->from, res->unit, res->previous != res->unit,
								err);
done:
	target_free(&t);
	worklock_release(pc, &wl);
	partconfig_free(&cfg);
	return ok;
}
