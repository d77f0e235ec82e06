/*
 * repartition_sql.h - the statements of pgpart repartition: where a table's
 * partitions end, whether a month rollup forbids shorter partitions, and the
 * table's rows of pgpart.interval_history.
 */
#ifndef PGPART_COMMANDS_REPARTITION_SQL_H
#define PGPART_COMMANDS_REPARTITION_SQL_H

#include "core/calendar.h"
#include "pg/target.h"

/*
 * The civil date (in the table's time zone) on or after the upper bound of
 * the table's last partition; *found false when it has no bounded
 * partition, *unbounded true when the last one reaches MAXVALUE.
 */
bool repartition_sql_partitions_end(PgConn *pc, const Target *t, CivilDate *end, bool *found,
									bool *unbounded, PgpError *err);

/* the name of one month rollup of parent (NULL: none) */
bool repartition_sql_month_rollup(PgConn *pc, RelOid parent, char **name, PgpError *err);

/*
 * In one transaction: drops the planned changes from from on and, when add,
 * records the change to unit from from.  Locks only pgpart's rows.
 */
bool repartition_sql_record(PgConn *pc, RelOid parent, CivilDate from, CalUnit unit, bool add,
							PgpError *err);

#endif
