/*
 * reshape_sql.h - the statements of split and merge (commands/reshape):
 * their record (pgpart.reshape_job), the routing table the new partitions
 * are built under, the triggers that keep them equal to the partitions they
 * replace, the copy of the rows and the swap.
 *
 * The new partitions are built beside the old ones as partitions of a
 * table of pgpart's, the "shadow", partitioned like the parent: a row
 * trigger on each old partition writes every change into the shadow in the
 * writer's own transaction (the mirror of an online migration,
 * commands/migrate/mirror_sql.h), and the shadow routes it to the right new
 * partition.  The rows already there are copied in key order, batch by
 * batch, each batch checked by count and checksum.  At the swap, under one
 * short ACCESS EXCLUSIVE lock of the parent, the old partitions are
 * detached and the new ones attached in their place; a CHECK constraint of
 * their bounds spares ATTACH its scan.
 */
#ifndef PGPART_COMMANDS_RESHAPE_SQL_H
#define PGPART_COMMANDS_RESHAPE_SQL_H

#include "core/calendar.h"
#include "pg/catalog.h"
#include "pg/compare.h"

/* COMMENT markers of pgpart's own tables, for people and for a re-run */
#define RESHAPE_BUILDING_MARK "pgpart split/merge: new partition being built"
#define RESHAPE_OLD_MARK "pgpart split/merge: former partition, to be dropped"
#define RESHAPE_KEPT_MARK "pgpart split/merge: former partition, kept (--keep-old)"

typedef struct ReshapeJob
{
	int id;
	char *kind; /* "split" or "merge" */
	char *part_schema;
	NameList sources; /* the partitions replaced, in range order */
	NameList targets; /* the new ones */
	NameList target_from; /* their bounds, as FOR VALUES literals */
	NameList target_to;
	char *interval; /* of the new partitions */
	char *shadow;
	char *phase; /* copying, copied, swapped, done, aborted */
	int copied_source; /* sources[0..copied_source) are copied whole */
	NameList last_key; /* of sources[copied_source]: highest key copied (empty: none) */
	long long rows_copied;
	bool keep_old;
} ReshapeJob;

void reshapejob_free(ReshapeJob *j);

/* the split or merge of parent not done or aborted; *found false when none */
bool reshape_job_load(PgConn *pc, RelOid parent, bool for_update, ReshapeJob *j, bool *found,
					  PgpError *err);
/* records j in phase copying; sets j->id (0 in --dry-run) */
bool reshape_job_insert(PgConn *pc, RelOid parent, ReshapeJob *j, PgpError *err);
/* a batch of source i copied: its highest key, rows added */
bool reshape_job_progress(PgConn *pc, const ReshapeJob *j, int source, const NameList *last_key,
						  long long rows, PgpError *err);
/* the new phase, with swap_lock_ms (< 0: unchanged) */
bool reshape_job_phase(PgConn *pc, const ReshapeJob *j, const char *phase, double swap_lock_ms,
					   PgpError *err);

/*
 * The civil dates of a partition's bounds in the table's time zone, and
 * whether they are midnights there (what a split or merge can work with)
 */
bool reshape_civil_bounds(PgConn *pc, KeyType key_type, const char *time_zone,
						  const char *lo_text, const char *hi_text, CivilDate *lo, CivilDate *hi,
						  PgpError *err);

/*
 * Reasons a partition cannot be split or merged beyond those of a tier
 * move (tiermove_blockers): triggers of its own other than pgpart's rollup
 * triggers, and a replica identity on an index (neither is carried over).
 */
bool reshape_blockers(PgConn *pc, RelOid part, NameList *blockers, PgpError *err);

/* the shadow: LIKE the first source (columns, defaults, generated), partitioned by column */
bool reshape_create_shadow(PgConn *pc, const char *shadow_q, const char *like_q, const char *column,
						   PgpError *err);

/*
 * The mirror of source into the shadow: a row function (the migration's,
 * through copy) and a TRUNCATE function that deletes the source's range
 * [lo, hi) from the shadow, revoked from PUBLIC; their triggers on the
 * source, ENABLE ALWAYS.  i numbers the source within job id.
 */
bool reshape_create_mirror(PgConn *pc, int id, int i, RelOid source, const char *source_q,
						   const TableCopy *copy, const char *column, const char *lo,
						   const char *hi, PgpError *err);
/* the triggers off the source (ACCESS EXCLUSIVE on it), and the job's functions */
bool reshape_drop_mirror_triggers(PgConn *pc, int id, int i, const char *source_q, PgpError *err);
bool reshape_drop_mirror_functions(PgConn *pc, int id, int nsources, PgpError *err);

/* ALTER TABLE parent_q ATTACH PARTITION table_q FOR VALUES FROM (lo) TO (hi) */
bool reshape_attach(PgConn *pc, const char *parent_q, const char *table_q, const char *lo,
					const char *hi, PgpError *err);
/* ALTER TABLE parent_q DETACH PARTITION table_q */
bool reshape_detach(PgConn *pc, const char *parent_q, const char *table_q, PgpError *err);

/* "(SELECT * FROM shadow WHERE column in [lo, hi))": the shadow's rows of one source */
char *reshape_shadow_range_sql(PgConn *pc, const char *shadow_q, const char *column,
							   const char *lo, const char *hi);


/*
 * The rollup coverage of the sources given to the new partitions: when
 * every source of rollup rollup_id was summarised, each new partition
 * [from[i], to[i]) (civil dates) is recorded summarised, with its summary's
 * rows counted; else the sources' records go and refresh summarises the new
 * partitions.
 */
bool reshape_move_coverage(PgConn *pc, int rollup_id, const char *summary_q,
						   const NameList *sources, const NameList *targets, const NameList *from,
						   const NameList *to, PgpError *err);

#endif
