/*
 * repartition_sql.c - the statements of pgpart repartition (see
 * repartition_sql.h).  Values are parameters; nothing here is DDL.
 */
#include "commands/repartition/repartition_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

/* the partition with the highest upper bound, or NULL */
static const PartitionInfo *
last_partition(const Target *t)
{
	const PartitionInfo *last = NULL;
	int i;

	for (i = 0; i < t->parts.n; i++)
	{
		const PartitionInfo *p = &t->parts.items[i];

		if (p->is_default || !p->bounds_known)
			continue;
		if (last == NULL || p->hi_unbounded ||
			(!last->hi_unbounded && p->hi_us > last->hi_us))
			last = p;
	}
	return last;
}

bool
repartition_sql_partitions_end(PgConn *pc, const Target *t, CivilDate *end, bool *found,
							   bool *unbounded, PgpError *err)
{
	const PartitionInfo *last = last_partition(t);
	const char *params[3];
	PGresult *res;
	bool ok;

	*found = last != NULL;
	*unbounded = last != NULL && last->hi_unbounded;
	if (last == NULL || last->hi_unbounded)
		return true;
	params[0] = last->hi_text;
	params[1] = t->key_type == KEY_TIMESTAMPTZ ? "true" : "false";
	params[2] = t->time_zone;
	/* the bound as a wall-clock time in the table's zone, where its periods are counted */
	res = pgc_query(pc,
					"SELECT pg_catalog.to_char(v, 'YYYY-MM-DD'), v::time = '00:00'::time "
					"FROM (SELECT CASE WHEN $2::boolean "
					"  THEN $1::timestamptz AT TIME ZONE $3 ELSE $1::timestamp END AS v) s",
					3, params, err);
	if (res == NULL)
		return false;
	ok = PQntuples(res) == 1 && cal_date_parse(PQgetvalue(res, 0, 0), end);
	/* a bound in the middle of a day (a partition made by hand): periods start after it */
	if (ok && PQgetvalue(res, 0, 1)[0] != 't')
		*end = cal_period_add(*end, CAL_DAY, 1);
	if (!ok)
		err_set(err, EXIT_RUNTIME, "cannot read the upper bound %s of partition %s.%s",
				last->hi_text, last->schema, last->name);
	PQclear(res);
	return ok;
}

bool
repartition_sql_month_rollup(PgConn *pc, RelOid parent, char **name, PgpError *err)
{
	PGresult *res = catalog_oid_query(pc,
									  "SELECT r.summary::text FROM pgpart.rollup r "
									  "WHERE r.source = $1::pg_catalog.oid AND r.grain = 'month' "
									  "ORDER BY r.id LIMIT 1",
									  parent, err);

	*name = NULL;
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
		*name = pg_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

static bool
record_statements(PgConn *pc, const char *const *params, bool add, PgpError *err)
{
	if (!pgc_change(pc,
					"DELETE FROM pgpart.interval_history "
					"WHERE parent_table = $1::pg_catalog.oid AND from_date >= $2::date",
					2, params, err))
		return false;
	if (add && !pgc_change(pc,
						   "INSERT INTO pgpart.interval_history (parent_table, from_date, "
						   "part_interval) "
						   "VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2::date, $3)",
						   3, params, err))
		return false;
	return pgc_change(pc,
					  "UPDATE pgpart.part_config SET updated_at = pg_catalog.now() "
					  "WHERE parent_table = $1::pg_catalog.oid",
					  1, params, err);
}

bool
repartition_sql_record(PgConn *pc, RelOid parent, CivilDate from, CalUnit unit, bool add,
					   PgpError *err)
{
	char oid[16], date[16];
	const char *params[3] = {oid, date, cal_unit_name(unit)};
	bool ok;

	snprintf(oid, sizeof(oid), "%u", parent);
	cal_date_format(from, date);
	ok = pgc_change(pc, "BEGIN", 0, NULL, err) && record_statements(pc, params, add, err) &&
		 pgc_commit(pc, err);
	if (!ok && !pc->dry_run)
		pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
	return ok;
}
