/*
 * partition.h - making partitions.
 *
 * Two ways, for two situations:
 *  - partition_create_of(): CREATE TABLE ... PARTITION OF, which takes an
 *    ACCESS EXCLUSIVE lock on the parent.  Only for a parent nobody can use
 *    yet (inside the transaction that creates it).
 *  - partition_attach_new(): for a live parent.  The new table is built
 *    standalone, with a CHECK constraint that matches its bounds so ATTACH
 *    need not scan it, then attached.  ATTACH PARTITION takes only SHARE
 *    UPDATE EXCLUSIVE on the parent (readers and writers go on), but ACCESS
 *    EXCLUSIVE on the default partition, so every lock is requested under
 *    lock_timeout and the transaction is retried with backoff.  Rows for the
 *    new range found in the default partition are moved into the new table:
 *    with a DrainPolicy, in short batch transactions before the ATTACH (and
 *    the few left over in the ATTACH transaction), otherwise all of them in
 *    the ATTACH transaction.  At every instant each row is in exactly one
 *    place: the default partition or the new table.
 */
#ifndef PGPART_PG_PARTITION_H
#define PGPART_PG_PARTITION_H

#include "core/calendar.h"
#include "core/throttle.h"
#include "pg/catalog.h"
#include "pg/lock.h"

/*
 * How rows of a new range leave the default partition before its ATTACH
 * (see drain_default_in_batches in partition.c for the trade-offs).
 */
typedef struct DrainPolicy
{
	int batch_rows;	   /* cap per batch transaction; 0: all in the ATTACH transaction */
	int batch_time_ms; /* the time budget of one batch; sizes are adapted to it */
	int pause_ms;	   /* sleep between batches (drain_throttle) */
	bool default_check; /* a validated CHECK on the default so ATTACH skips its scan */
	HealthArgs health;	/* before each batch, wait while the server is unwell */
} DrainPolicy;

#define DRAIN_POLICY_DEFAULT {0, 50, 0, false, {0, 0, 0, 0, NULL}}

typedef struct NewPartition
{
	const char *parent_schema;
	const char *parent_name;
	const char *default_schema; /* NULL when the parent has no default partition */
	const char *default_name;
	const char *column;
	const char *name;		 /* in the parent's schema */
	const char *lo_literal; /* bound values as text, unquoted; NULL: DEFAULT */
	const char *hi_literal;
	const char *tablespace; /* NULL: the parent's (or database) default */
	/* move rows of [lo, hi) out of the default partition (needs columns) */
	bool move_from_default;
	const char *columns; /* quoted, comma separated, no generated columns */
	/* when known (not 0): each attempt is skipped while a long conflicting holder is there */
	RelOid parent_oid;
	RelOid default_oid;
	const DrainPolicy *drain; /* NULL: move in the ATTACH transaction */
} NewPartition;

typedef struct AttachResult
{
	LockStats locks; /* the ATTACH transaction */
	long rows_moved; /* batches and ATTACH transaction together */
	int drain_batches;
	LockFelt drain_felt; /* the worst transaction before the ATTACH, for writers */
	int drain_pauses;	 /* waits for the server's health (DrainPolicy.health) */
	double drain_paused_ms;
} AttachResult;

bool partition_attach_new(PgConn *pc, const LockPolicy *policy, const NewPartition *np,
						  AttachResult *result, PgpError *err);

/*
 * Before an ATTACH of another range: when parent_q (quoted, qualified) has a
 * default partition, keep the parent's writers out until commit (SHARE ROW
 * EXCLUSIVE; readers go on), or an INSERT routed to the default partition
 * with the partition map of before the ATTACH fails its narrowed constraint.
 * Call first in the transaction, under lock_timeout.
 */
bool partition_lock_for_attach(PgConn *pc, const char *parent_q, PgpError *err);
/*
 * ALTER TABLE parent_q ATTACH PARTITION part_q FOR VALUES FROM (lo) TO (hi):
 * SHARE UPDATE EXCLUSIVE on the parent, ACCESS EXCLUSIVE on the table and on
 * a default partition, so callers take partition_lock_for_attach first
 */
bool partition_attach_range(PgConn *pc, const char *parent_q, const char *part_q, const char *lo,
							const char *hi, PgpError *err);
/*
 * ALTER TABLE table_q DROP CONSTRAINT [IF EXISTS] name: the CHECK of its
 * bounds that spared ATTACH its scan, once it is attached
 */
bool partition_drop_check(PgConn *pc, const char *table_q, const char *name, bool if_exists,
						  PgpError *err);
/* DROP FOREIGN TABLE part_q: an archive read in place or a remote partition, given way */
bool partition_drop_foreign(PgConn *pc, const char *part_q, PgpError *err);

/* CREATE TABLE name PARTITION OF parent FOR VALUES ... / DEFAULT (lo NULL) */
bool partition_create_of(PgConn *pc, const NewPartition *np, PgpError *err);

/*
 * "column IS NOT NULL AND column >= lo AND column < hi" appended to sb (lo
 * NULL: no lower bound), lo and hi as literals: the CHECK that matches a
 * range partition's bounds, so that its ATTACH skips the validation scan.
 */
void partition_append_bounds(PgConn *pc, StrBuf *sb, const char *column, const char *lo,
							 const char *hi);

/* " FOR VALUES FROM ('lo') TO ('hi')" appended to sb, or " DEFAULT" when lo is NULL */
void partition_append_bound_spec(PgConn *pc, StrBuf *sb, const char *lo, const char *hi);

/* how many rows of the default partition fall in [lo, hi) (bounded count) */
bool partition_count_default_rows(PgConn *pc, const char *default_schema,
								  const char *default_name, const char *column,
								  const char *lo_literal, const char *hi_literal, long *count,
								  PgpError *err);

/*
 * Distinct period starts (date_trunc(field, key) in time_zone) of the rows in
 * the default partition, and how many rows have a NULL key (those can live
 * nowhere else).  Reads the whole default partition, which pgpart keeps small.
 */
bool partition_default_period_starts(PgConn *pc, const char *default_schema,
									 const char *default_name, const char *column,
									 KeyType key_type, const char *trunc_field,
									 const char *time_zone, CivilDate **starts, int *n,
									 long *null_rows, PgpError *err);

#endif
