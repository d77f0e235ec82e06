/*
 * target.c - loads a managed table with its partitions and gives it the
 * partitions it lacks; shared by create, maintain and run so all three refuse
 * the same conflicts (ranges someone partitioned differently, archived ranges).
 */
#include "pg/target.h"

#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "pg/bounds.h"
#include "pg/changelog.h"
#include "pg/partition.h"
#include "util/mem.h"

bool
target_load(PgConn *pc, RelOid parent, const char *column, CalUnit unit, const char *time_zone,
			Target *t, PgpError *err)
{
	bool found;
	ColumnInfo col;

	memset(t, 0, sizeof(*t));
	t->parts.default_index = -1;
	if (!catalog_table_by_oid(pc, parent, &t->parent, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_RUNTIME, "table with OID %u no longer exists", parent);
		return false;
	}
	/* run and maintain work on one managed table after another */
	changelog_work_on(pc, t->parent.schema, t->parent.name);
	if (!catalog_column(pc, parent, column, &col, &found, err))
		return false;
	if (!found || !col.key_type_ok)
	{
		err_set(err, EXIT_RUNTIME, "column \"%s\" of %s.%s is missing or not a date/time column",
				column, t->parent.schema, t->parent.name);
		columninfo_free(&col);
		return false;
	}
	t->key_type = col.key_type;
	columninfo_free(&col);
	t->column = pg_xstrdup(column);
	sched_init(&t->sched, unit);
	t->time_zone = pg_xstrdup(time_zone);
	if (!catalog_insertable_columns(pc, parent, &t->columns, err))
		return false;
	return target_refresh_partitions(pc, t, err);
}

bool
target_load_managed(PgConn *pc, const PartConfig *cfg, Target *t, PgpError *err)
{
	bool ok = target_load(pc, cfg->parent, cfg->column, cfg->unit, cfg->time_zone, t, err);

	sched_free(&t->sched);
	sched_copy(&t->sched, &cfg->sched);
	return ok;
}

void
target_free(Target *t)
{
	relinfo_free(&t->parent);
	sched_free(&t->sched);
	FREE_ALL(t->column, t->time_zone, t->columns);
	partitionlist_free(&t->parts);
}

bool
target_refresh_partitions(PgConn *pc, Target *t, PgpError *err)
{
	partitionlist_free(&t->parts);
	return catalog_partitions(pc, t->parent.oid, &t->parts, err);
}

void
ensurestats_free(EnsureStats *s)
{
	NAMELIST_FREE_ALL(&s->created, &s->conflicts);
}

static ExistingRange *
existing_ranges(const Target *t, int *n)
{
	ExistingRange *r = pg_xcalloc((size_t) t->parts.n, sizeof(ExistingRange));
	int i, k = 0;

	for (i = 0; i < t->parts.n; i++)
	{
		const PartitionInfo *p = &t->parts.items[i];

		if (p->is_default || !p->bounds_known)
			continue;
		r[k].lo_unbounded = p->lo_unbounded;
		r[k].hi_unbounded = p->hi_unbounded;
		r[k].lo = p->lo_us;
		r[k].hi = p->hi_us;
		k++;
	}
	*n = k;
	return r;
}

/* index into t->parts of the k-th bounded partition (existing_ranges order) */
static const PartitionInfo *
bounded_partition(const Target *t, int k)
{
	int i;

	for (i = 0; i < t->parts.n; i++)
	{
		const PartitionInfo *p = &t->parts.items[i];

		if (p->is_default || !p->bounds_known)
			continue;
		if (k-- == 0)
			return p;
	}
	return NULL;
}

/* bounds[i] is the start of period i, bounds[n] the end of the last */
static bool
resolve_periods(PgConn *pc, const Target *t, const Period *periods, int n, ResolvedBound **bounds,
				PgpError *err)
{
	CivilDate *dates = pg_xcalloc((size_t) n * 2, sizeof(CivilDate));
	int i;
	bool ok;

	/* ends are resolved separately: periods need not be contiguous */
	for (i = 0; i < n; i++)
	{
		dates[2 * i] = periods[i].start;
		dates[2 * i + 1] = periods[i].end;
	}
	*bounds = pg_xcalloc((size_t) n * 2, sizeof(ResolvedBound));
	ok = bounds_resolve(pc, t->key_type, t->time_zone, dates, n * 2, *bounds, err);
	free(dates);
	return ok;
}

static char *
conflict_sentence(const Target *t, const Period *p, const PartitionInfo *other)
{
	char from[16], to[16];

	cal_date_format(p->start, from);
	cal_date_format(p->end, to);
	return pg_xasprintf("range %s .. %s of %s.%s overlaps partition %s.%s (%s .. %s) whose "
						"bounds differ; pgpart leaves that range alone",
						from, to, t->parent.schema, t->parent.name, other->schema, other->name,
						other->lo_text ? other->lo_text : "MINVALUE",
						other->hi_text ? other->hi_text : "MAXVALUE");
}

bool
target_find_conflicts(PgConn *pc, Target *t, const Period *periods, int n, NameList *conflicts,
					  PgpError *err)
{
	ResolvedBound *b = NULL;
	ExistingRange *ranges;
	int nranges, i;

	if (!resolve_periods(pc, t, periods, n, &b, err))
	{
		free(b);
		return false;
	}
	ranges = existing_ranges(t, &nranges);
	for (i = 0; i < n; i++)
	{
		int which;

		if (plan_classify(b[2 * i].us, b[2 * i + 1].us, ranges, nranges, &which) ==
			SLOT_CONFLICT)
		{
			char *s = conflict_sentence(t, &periods[i], bounded_partition(t, which));

			namelist_add(conflicts, s);
			free(s);
		}
	}
	free(ranges);
	bounds_free(b, n * 2);
	free(b);
	return true;
}

static const PartitionInfo *
default_partition(const Target *t)
{
	return t->parts.default_index >= 0 ? &t->parts.items[t->parts.default_index] : NULL;
}

/*
 * Ranges whose partition is archived, or detached by an archive that has not
 * ended: a partition made anew for such a range (for rows that arrived later
 * in the default partition) would collide with the restore or the resumed
 * archive, and its summary would replace the archived one in the rollups.
 */
static PGresult *
archived_ranges(PgConn *pc, const Target *t, PgpError *err)
{
	const char *params[2] = {t->parent.schema, t->parent.name};

	return pgc_query(pc,
					 "SELECT (EXTRACT(epoch FROM j.lo::timestamptz) * 1000000)::bigint::text, "
					 "  (EXTRACT(epoch FROM j.hi::timestamptz) * 1000000)::bigint::text, "
					 "  j.partition_name, j.phase "
					 "FROM pgpart.archive_job j WHERE j.parent_schema = $1 AND j.parent_name = $2 "
					 "AND j.phase NOT IN ('reattached', 'restored')",
					 2, params, err);
}

/* the archived range (row of archived_ranges) that [lo, hi) overlaps, or -1 */
static int
overlapping_archive(PGresult *archived, int64_t lo, int64_t hi)
{
	int i;

	for (i = 0; i < PQntuples(archived); i++)
		if (strtoll(PQgetvalue(archived, i, 0), NULL, 10) < hi &&
			strtoll(PQgetvalue(archived, i, 1), NULL, 10) > lo)
			return i;
	return -1;
}

/* keeps the drain's worst transaction in st->felt when it beats the ATTACH's */
static void
note_drain_felt(EnsureStats *st, const AttachResult *ar)
{
	if (ar->drain_felt.writers_wait_ms > st->felt.writers_wait_ms)
		st->felt = ar->drain_felt;
}

bool
target_ensure_periods(PgConn *pc, const LockPolicy *lock, Target *t, const Period *periods, int n,
					  EnsureStats *st, PgpError *err)
{
	static const DrainPolicy drain = DRAIN_POLICY_DEFAULT;

	return target_ensure_periods_drained(pc, lock, &drain, t, periods, n, st, err);
}

bool
target_ensure_periods_drained(PgConn *pc, const LockPolicy *lock, const DrainPolicy *drain,
							  Target *t, const Period *periods, int n, EnsureStats *st,
							  PgpError *err)
{
	ResolvedBound *b = NULL;
	ExistingRange *ranges = NULL;
	PGresult *archived = NULL;
	int nranges, i;
	bool ok = false;

	if (n == 0)
		return true;
	if (!resolve_periods(pc, t, periods, n, &b, err) ||
		(archived = archived_ranges(pc, t, err)) == NULL)
		goto done;
	ranges = existing_ranges(t, &nranges);
	for (i = 0; i < n; i++)
	{
		const PartitionInfo *def = default_partition(t);
		int which, arch;
		SlotState state = plan_classify(b[2 * i].us, b[2 * i + 1].us, ranges, nranges, &which);
		NewPartition np;
		AttachResult ar;
		char *name;

		if (state == SLOT_PRESENT)
			continue;
		if ((arch = overlapping_archive(archived, b[2 * i].us, b[2 * i + 1].us)) >= 0)
		{
			char *s = pg_xasprintf(
				"no partition made for %s..%s: that range is archived (%s, %s); rows for it stay "
				"in the default partition until the archive is restored (pgpart restore)",
				b[2 * i].literal, b[2 * i + 1].literal, PQgetvalue(archived, arch, 2),
				PQgetvalue(archived, arch, 3));

			namelist_add(&st->conflicts, s);
			free(s);
			continue;
		}
		if (state == SLOT_CONFLICT)
		{
			char *s = conflict_sentence(t, &periods[i], bounded_partition(t, which));

			namelist_add(&st->conflicts, s);
			free(s);
			continue;
		}
		name = naming_derive(t->parent.name, periods[i].suffix);
		if (name == NULL)
		{
			err_set(err, EXIT_RUNTIME, "cannot derive a partition name for %s", t->parent.name);
			goto done;
		}
		memset(&np, 0, sizeof(np));
		np.parent_schema = t->parent.schema;
		np.parent_name = t->parent.name;
		np.default_schema = def ? def->schema : NULL;
		np.default_name = def ? def->name : NULL;
		np.column = t->column;
		np.name = name;
		np.lo_literal = b[2 * i].literal;
		np.hi_literal = b[2 * i + 1].literal;
		np.tablespace = t->parent.tablespace;
		np.move_from_default = def != NULL;
		np.columns = t->columns;
		np.parent_oid = t->parent.oid;
		np.default_oid = def ? def->oid : 0;
		np.drain = drain;
		ok = partition_attach_new(pc, lock, &np, &ar, err);
		lock_felt_note(&st->felt, &ar.locks);
		note_drain_felt(st, &ar);
		st->drain_batches += ar.drain_batches;
		st->drain_pauses += ar.drain_pauses;
		st->drain_paused_ms += ar.drain_paused_ms;
		if (!ok)
		{
			free(name);
			goto done;
		}
		namelist_add(&st->created, name);
		free(name);
		st->rows_moved += ar.rows_moved;
		st->lock_attempts += ar.locks.attempts;
		if (ar.locks.held_ms > st->max_lock_held_ms)
			st->max_lock_held_ms = ar.locks.held_ms;
		/* later periods must see the new partition (dry-run: pretend it exists) */
		ranges = pg_xrealloc(ranges, sizeof(ExistingRange) * (size_t) (nranges + 1));
		ranges[nranges].lo_unbounded = ranges[nranges].hi_unbounded = false;
		ranges[nranges].lo = b[2 * i].us;
		ranges[nranges].hi = b[2 * i + 1].us;
		nranges++;
	}
	ok = true;
	if (!pc->dry_run)
		ok = target_refresh_partitions(pc, t, err);
done:
	PQclear(archived);
	free(ranges);
	if (b)
		bounds_free(b, n * 2);
	free(b);
	return ok;
}

bool
target_ensure_default(PgConn *pc, const LockPolicy *lock, Target *t, EnsureStats *st,
					  PgpError *err)
{
	NewPartition np;
	AttachResult ar;
	char *name;
	bool ok;

	if (default_partition(t))
		return true;
	name = naming_derive(t->parent.name, "default");
	memset(&np, 0, sizeof(np));
	np.parent_schema = t->parent.schema;
	np.parent_name = t->parent.name;
	np.column = t->column;
	np.name = name;
	np.tablespace = t->parent.tablespace;
	np.parent_oid = t->parent.oid;
	ok = partition_attach_new(pc, lock, &np, &ar, err);
	lock_felt_note(&st->felt, &ar.locks);
	if (ok)
	{
		namelist_add(&st->created, name);
		st->lock_attempts += ar.locks.attempts;
		if (ar.locks.held_ms > st->max_lock_held_ms)
			st->max_lock_held_ms = ar.locks.held_ms;
		if (!pc->dry_run)
			ok = target_refresh_partitions(pc, t, err);
	}
	free(name);
	return ok;
}

/*
 * One query per interval of the schedule (date_trunc by that interval), of
 * whose starts only those where that interval is in force are periods.
 */
bool
target_default_periods(PgConn *pc, Target *t, Period **periods, int *n, long *null_rows,
					   PgpError *err)
{
	static const CalUnit units[] = {CAL_DAY, CAL_WEEK, CAL_MONTH, CAL_QUARTER, CAL_YEAR};
	const PartitionInfo *def = default_partition(t);
	size_t u;

	*periods = NULL;
	*n = 0;
	*null_rows = 0;
	if (def == NULL)
		return true;
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
	{
		CivilDate *starts = NULL;
		int nstarts = 0;

		if (!sched_uses(&t->sched, units[u]))
			continue;
		if (!partition_default_period_starts(pc, def->schema, def->name, t->column, t->key_type,
											 cal_unit_date_trunc_field(units[u]), t->time_zone,
											 &starts, &nstarts, null_rows, err))
		{
			free(*periods);
			*periods = NULL;
			*n = 0;
			return false;
		}
		*periods = pg_xrealloc(*periods, sizeof(Period) * (size_t) (*n + nstarts + 1));
		*n += sched_keep_periods_of(&t->sched, units[u], starts, nstarts, *periods + *n);
		free(starts);
	}
	/* oldest first, as with one interval, whatever interval each period has */
	sched_sort_periods(*periods, *n);
	return true;
}

bool
target_plan_periods(PgConn *pc, const char *time_zone, CalUnit unit, const CivilDate *start,
					int premake, Period **periods, int *n, PgpError *err)
{
	IntervalSchedule one;

	sched_init(&one, unit);
	return target_plan_schedule(pc, time_zone, &one, start, premake, periods, n, err);
}

bool
target_plan_schedule(PgConn *pc, const char *time_zone, const IntervalSchedule *sched,
					 const CivilDate *start, int premake, Period **periods, int *n, PgpError *err)
{
	CivilDate today, last, first;

	if (!catalog_today_date(pc, time_zone, &today, err))
		return false;
	last = sched_advance(sched, today, premake);
	first = start ? *start : today;
	if (cal_compare(first, last) > 0)
		last = first;
	*n = sched_periods(sched, first, last, periods);
	if (*n < 0)
	{
		err_set(err, EXIT_USAGE, "that would be more than %d partitions", PLAN_MAX_PERIODS);
		err_hint(err, "Choose a later --start or a longer --interval.");
		return false;
	}
	return true;
}

bool
target_wanted_periods(PgConn *pc, Target *t, const CivilDate *start, int premake,
					  Period **periods, int *n, PgpError *err)
{
	return target_plan_schedule(pc, t->time_zone, &t->sched, start, premake, periods, n, err);
}

bool
target_resolve_bounds(PgConn *pc, KeyType key_type, const char *time_zone, const Period *periods,
					  int n, ResolvedBound **bounds, PgpError *err)
{
	CivilDate *dates = pg_xcalloc((size_t) n * 2 + 1, sizeof(CivilDate));
	int i;
	bool ok;

	for (i = 0; i < n; i++)
	{
		dates[2 * i] = periods[i].start;
		dates[2 * i + 1] = periods[i].end;
	}
	*bounds = pg_xcalloc((size_t) n * 2 + 1, sizeof(ResolvedBound));
	ok = bounds_resolve(pc, key_type, time_zone, dates, n * 2, *bounds, err);
	free(dates);
	return ok;
}
