/*
 * rollup_sql.h - the SQL of per-bucket summaries ("rollups") of a partitioned
 * table: pgpart.rollup and its records, the summary table, the triggers that
 * mark changed buckets, and the statements that summarise a partition or
 * re-summarise changed buckets.  Everything rollup.c and report.c send to
 * the server is built here, so that its quoting can be read in one place.
 *
 * The design that keeps reports exact without slowing writers much: the
 * application's statements only record WHICH buckets they changed (one small
 * insert per statement into pgpart.rollup_dirty, from statement-level
 * triggers with transition tables), never the sums themselves.  A refresh
 * deletes the marks it can see and recomputes those buckets from the detail
 * rows, in one transaction: every change whose mark it consumed is committed
 * and so inside its aggregate.  A report reads, in one snapshot, the summary
 * for clean buckets and the detail rows for buckets still marked: exact
 * whatever the time since the last refresh.  A partition that no longer
 * changes is summarised once.  On Citus the same holds per worker: the
 * triggers fire on the shards and mark in a distributed table colocated with
 * them (see Rollup.dist_column and docs/scale-out.md).
 */
#ifndef PGPART_COMMANDS_ROLLUP_SQL_H
#define PGPART_COMMANDS_ROLLUP_SQL_H

#include "core/measures.h"
#include "pg/catalog.h"
#include "util/strbuf.h"

typedef struct Rollup
{
	int id;
	RelOid source;
	char *source_schema;
	char *source_name;
	RelOid summary;
	char *summary_schema;
	char *summary_name;
	char *grain; /* "day" or "month" */
	NameList group_by;
	char *measures_text;
	MeasureList measures;
	/*
	 * NULL: every row.  PostgreSQL's own text of the --where expression, for
	 * people to read: never run.  The refresh calls the expression as the
	 * function pgpart."rollup_<id>_filter" (see rollup_filter_check), with
	 * the columns its parameters are named after.
	 */
	char *filter;
	bool filter_compiled; /* that function exists (false: a filter stored as text by schema version 4, not converted) */
	NameList filter_args; /* its parameter names, the source's columns */
	char *refreshed_at;
	/* from pgpart.part_config and the column */
	char *column;
	KeyType key_type;
	char *time_zone;
	/*
	 * NULL on plain PostgreSQL.  On a Citus coordinator, the source's
	 * distribution column: the triggers then fire on the shards on the
	 * workers and mark in pgpart."rollup_<id>_dirty", a distributed table
	 * colocated with the source (its first column is this one), beside the
	 * shard they fire on; TRUNCATE marks stay in pgpart.rollup_dirty (Citus
	 * fires TRUNCATE triggers on the coordinator only).
	 */
	char *dist_column;
	/*
	 * NULL, or the integer column whose distinct values the summary counts
	 * exactly (rollup add --distinct): each summary row is also keyed by
	 * distinct_chunk, the column's value >> ROLLUP_CHUNK_BITS, and holds in
	 * distinct_bits a bitmap of the values of that chunk present in its
	 * bucket and group.  Measures then add up over chunks as over buckets,
	 * and count(DISTINCT) of any set of buckets is the sum over chunks of
	 * bit_count(bit_or(distinct_bits)).
	 */
	char *distinct_column;
} Rollup;

/*
 * 2^14 values per bitmap, 2 kB, stored PLAIN (never compressed or moved out
 * of line, which every report would pay to undo).  Measured against 2^13:
 * a quarter's cross-org count read from 1M orgs' bitmaps took 0.8 of the
 * time (fewer rows to aggregate); 2^15 saved little more and doubles the
 * cost of values spread thinly (one bitmap per value).
 */
#define ROLLUP_CHUNK_BITS 14

void rollup_free(Rollup *r);
void rollup_list_free(Rollup *list, int n);

/* rollups of source (0: all), or the one whose summary table is summary (0: any) */
bool rollup_load(PgConn *pc, RelOid source, RelOid summary, Rollup **list, int *n, PgpError *err);

/* SQL: the bucket (a date) of alias's row */
char *rollup_bucket_sql(PgConn *pc, const Rollup *r, const char *alias);
/* SQL: the value of the partition column where the bucket given as SQL date begins */
char *rollup_bucket_start_sql(PgConn *pc, const Rollup *r, const char *date_sql);

/*
 * ", chunk AS distinct_chunk, bitmap AS distinct_bits" of column (an
 * aggregate: the caller groups by the chunk), for the summary and for
 * detail rows read beside it
 */
void append_distinct_bitmap(PgConn *pc, StrBuf *sb, const char *column, const char *alias);

/*
 * SELECT bucket, group columns..., measures [, distinct chunk and bitmap]
 * FROM relation s WHERE [filter]
 * AND (extra) GROUP BY ...; relation is qualified and quoted, extra may be NULL.
 */
char *rollup_aggregate_sql(PgConn *pc, const Rollup *r, const char *relation, const char *extra);

/*
 * A --where expression, as PostgreSQL checked it.  The check: the text (after
 * the lexical screen of core/sqlscreen.h) becomes the expression of a stored
 * generated boolean column of a temporary copy of the source's columns.
 * PostgreSQL then parses it once, over those columns only, and refuses
 * subqueries, aggregates, window and set-returning functions, system
 * columns, whole-row references and every function or operator that is not
 * immutable; pgpart also refuses any that is not built in (pg_depend lists
 * exactly those), as a function of someone else's, immutable or not, would
 * run with the rights of whoever refreshes.  What is kept is PostgreSQL's
 * deparse of the parsed expression, as the body of a SQL-standard function
 * (RETURN, parsed at creation and stored as a tree, so no text is parsed
 * again at refresh).  The refresh statement only names that function and
 * its columns: whatever the expression is, it cannot change the statement
 * around it.  The function is immutable and runs with its caller's rights
 * (no definer rights), so the planner inlines it as if the expression were
 * written there; like every function pgpart creates, EXECUTE on it is
 * revoked from PUBLIC when it is created.
 */
typedef struct RollupFilter
{
	char *canonical;  /* PostgreSQL's text of the expression */
	NameList columns; /* the source's columns it reads, in column order */
	NameList types;	  /* their types (format_type(), without type modifier) */
} RollupFilter;

void rollupfilter_free(RollupFilter *f);

/*
 * Checks expr as a --where of source.  Runs in a subtransaction of its own,
 * or a transaction when none is open, and leaves nothing behind (also in
 * --dry-run).  false (EXIT_USAGE when the expression is refused) with err.
 */
bool rollup_filter_check(PgConn *pc, RelOid source, const char *expr, RollupFilter *f,
						 PgpError *err);
/* pgpart."rollup_<id>_filter"(the columns) RETURNS boolean, owned and revoked as the others */
bool rollup_create_filter_function(PgConn *pc, const Rollup *r, const RollupFilter *f,
								   PgpError *err);

/*
 * The rollup's marks as a FROM item with rollup_id, bucket and marked_at:
 * pgpart.rollup_dirty, and on Citus the rollup's own marks table too.
 */
char *rollup_marks_sql(const Rollup *r);

/* the summary table (partitioned by bucket, with a default partition) and its unique index */
bool rollup_create_summary(PgConn *pc, const Rollup *r, PgpError *err);
/* the summary's partition for [lo, hi) when missing */
bool rollup_ensure_summary_partition(PgConn *pc, const Rollup *r, const char *lo, const char *hi,
									 PgpError *err);
/*
 * On Citus, after rollup_insert: the distributed table of the rollup's
 * marks, and the summary distributed beside the source when it is grouped
 * by the distribution column (else it stays on the coordinator: a few rows
 * per bucket that only the coordinator reads).
 */
bool rollup_place_on_citus(PgConn *pc, const Rollup *r, PgpError *err);
/*
 * The trigger functions (one per event), CREATE OR REPLACE: each refuses to
 * run for any table but the source and its partitions.
 */
bool rollup_create_functions(PgConn *pc, const Rollup *r, PgpError *err);
/* the marking triggers on one table (the parent or a partition), when missing */
bool rollup_ensure_triggers(PgConn *pc, const Rollup *r, const char *schema, const char *table,
							PgpError *err);
/* drops triggers (parent and partitions), functions, the summary and the records */
bool rollup_drop(PgConn *pc, const Rollup *r, PgpError *err);

/* ---- records ---- */

/*
 * Records a new rollup (its summary table made in this transaction): sets
 * r->id and r->summary.
 */
bool rollup_insert(PgConn *pc, Rollup *r, PgpError *err);
/* the --where kept as PostgreSQL's text of it (the function is made apart) */
bool rollup_store_filter(PgConn *pc, const Rollup *r, const char *canonical, PgpError *err);

/*
 * A subtransaction of the caller's, so that one rollup that cannot be
 * upgraded leaves the others upgraded
 */
#define ROLLUP_UPGRADE_SAVEPOINT "pgpart_rollup_upgrade"

/* ---- summarising ---- */

/* a bounded partition of the source, with the local dates [lo, hi) of its buckets */
typedef struct RollupPiece
{
	char *qualified; /* the source partition, quoted */
	char *name;
	char *lo;
	char *hi;
	bool aligned; /* its bounds are on bucket boundaries */
	bool covered; /* the rollup summarises it */
} RollupPiece;

void rollup_pieces_free(RollupPiece *p, int n);
/* the source's bounded partitions (not the default) with their buckets and coverage */
bool rollup_load_pieces(PgConn *pc, const Rollup *r, RollupPiece **out, int *n, PgpError *err);

/*
 * One summarising or refresh of a rollup at a time, on any host: a
 * transaction-scoped advisory lock on the rollup's id (writers never take it).
 */
bool rollup_lock(PgConn *pc, const Rollup *r, PgpError *err);

/*
 * Summarises one partition, in the caller's transaction: consumes the marks
 * of its range (the aggregate that follows sees their changes), replaces the
 * summary's rows of the range and records the coverage.  *groups: the
 * summary rows written (0 in --dry-run).  Locks: the summary's partition
 * (ROW EXCLUSIVE), the source partition is only read.
 */
bool rollup_summarise_piece(PgConn *pc, const Rollup *r, const RollupPiece *piece,
							long long *groups, PgpError *err);

/*
 * Runs a query whose one column is marked buckets of pgpart.rollup_dirty:
 * the dates go to buckets, a NULL (a TRUNCATE mark) sets everything.  For
 * refresh, which consumes the marks, and report, which reads them.
 */
bool rollup_read_marks(PgConn *pc, const char *sql, int nparams, const char *const *params,
					   NameList *buckets, bool *everything, PgpError *err);
/*
 * Consumes every mark of the rollup: the marked buckets (ISO dates, in
 * buckets) and whether a TRUNCATE mark (no bucket: everything) was among
 * them.  Only committed marks are visible, and each committed with its change.
 */
bool rollup_take_marks(PgConn *pc, const Rollup *r, NameList *buckets, bool *everything,
					   PgpError *err);
/* the buckets of piece, "d1,d2,..." (NULL: none) */
bool rollup_piece_buckets(PgConn *pc, const Rollup *r, const RollupPiece *piece, char **list,
						  PgpError *err);
/* recomputes the buckets of one partition named in buckets_literal, "{d1,d2,...}" */
bool rollup_recompute(PgConn *pc, const Rollup *r, const RollupPiece *piece,
					  const char *buckets_literal, PgpError *err);
bool rollup_mark_refreshed(PgConn *pc, const Rollup *r, PgpError *err);

/* what "pgpart rollup status" says of one rollup, as text */
typedef struct RollupFacts
{
	char *partitions;	/* partitions summarised */
	char *range;		/* "lo .. hi" of its coverage; NULL: nothing yet */
	char *changed;		/* buckets marked since the last refresh */
	bool truncated;		/* and a TRUNCATE was marked */
	char *oldest_mark;	/* seconds since the oldest mark; NULL: none */
	char *refreshed_at; /* or "never" */
	char *size;			/* of the summary and its partitions, pretty */
	char *bitmaps;		/* with --distinct: the summary's bitmaps (rows), */
	char *bits_set;		/* and the mean share of their bits set, in % */
} RollupFacts;

void rollupfacts_free(RollupFacts *f);
bool rollup_facts(PgConn *pc, const Rollup *r, RollupFacts *f, PgpError *err);

#endif
