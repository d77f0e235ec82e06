/*
 * move_sql.h - the statements of the warm-tier move (commands/move/move.c):
 * what a partition carries that a copy must get too, the write guard, and
 * pgpart's leftovers from an interrupted move.
 *
 * The move builds a copy of a closed partition in the target tablespace
 * while the original stays attached, then swaps the copy in with one short
 * DETACH + ATTACH.  While the copy is built, a guard trigger on the original
 * refuses every change with a clear error, so readers go on unhindered and
 * the copy stays exact.
 *
 * Statement generation follows pg/clone.c: the server writes the DDL
 * (pg_get_indexdef, pg_get_triggerdef, quote_ident) under pgpart's empty
 * search_path, so every name in it is fully qualified and correctly quoted.
 */
#ifndef PGPART_COMMANDS_MOVE_SQL_H
#define PGPART_COMMANDS_MOVE_SQL_H

#include "pg/catalog.h"

/* the guard: one row trigger (INSERT, UPDATE, DELETE) and one TRUNCATE trigger */
#define TIERMOVE_GUARD_ROW "pgpart_tier_move_guard"
#define TIERMOVE_GUARD_TRUNCATE "pgpart_tier_move_guard_truncate"
#define TIERMOVE_GUARD_FUNCTION "pgpart.tier_move_guard"

/* COMMENT markers by which a re-run recognises pgpart's own leftovers */
#define TIERMOVE_COPY_MARK "pgpart tier move: copy being built"
#define TIERMOVE_OLD_MARK "pgpart tier move: former partition, to be dropped"
#define TIERMOVE_KEPT_MARK "pgpart tier move: former partition, kept (--keep-old)"

/* one index of the partition and the copy's twin */
typedef struct TierIndex
{
	char *name;		/* the partition's index (unquoted), later the copy's */
	char *tmp_name; /* the copy's index until the swap */
	char *old_name; /* what the partition's index is renamed to at the swap */
	char *create_sql;	  /* CREATE INDEX tmp_name ON copy ... */
	char *constraint_sql; /* ALTER TABLE copy ADD CONSTRAINT ... USING INDEX, or NULL */
} TierIndex;

typedef struct TierIndexList
{
	TierIndex *items;
	int n;
	int skipped_invalid; /* invalid leftovers of failed builds: not copied */
} TierIndexList;

void tierindexlist_free(TierIndexList *l);

/*
 * The partition's valid indexes, each as a statement that builds the same
 * index on the copy (copy_q: its qualified, quoted name) under tmp names.
 * Built after the rows are in, with default_tablespace set to the target.
 */
bool tiermove_capture_indexes(PgConn *pc, RelOid part, const char *copy_q, TierIndexList *list,
							  PgpError *err);
/*
 * The same for a copy that keeps its own name (split and merge): each index
 * named after copy_name as the partition's is after part_name
 */
bool tiermove_capture_indexes_as(PgConn *pc, RelOid part, const char *part_name,
								 const char *copy_q, const char *copy_name, TierIndexList *list,
								 PgpError *err);

/*
 * Reasons the partition cannot be moved (human sentences; empty: none):
 * things a swap would break (views, rules, policies, publications, foreign
 * keys that reference the table or the partition), and parent indexes this partition has no index for (ATTACH would
 * build them while holding the parent's lock).
 */
bool tiermove_blockers(PgConn *pc, RelOid parent, RelOid part, NameList *blockers,
					   PgpError *err);

/*
 * Settings LIKE does not copy, as statements on the copy (copy_q): column
 * statistics targets and options (n_distinct, ...).
 */
bool tiermove_column_settings(PgConn *pc, RelOid part, const char *copy_q, NameList *stmts,
							  PgpError *err);

/*
 * The partition's foreign keys as statements on the copy: add lists ADD
 * CONSTRAINT ... NOT VALID (a short SHARE ROW EXCLUSIVE lock of the
 * referenced table), validate the VALIDATE CONSTRAINT of those that were
 * valid (a scan that blocks no writer).  With an equal key on the copy,
 * ATTACH adopts it instead of adding and checking a new one under its lock.
 */
bool tiermove_foreign_keys(PgConn *pc, RelOid part, const char *copy_q, NameList *add,
						   NameList *validate, PgpError *err);

/* storage parameters of the partition and of its TOAST table, "a=1, toast.b=2" or NULL */
bool tiermove_reloptions(PgConn *pc, RelOid part, char **options, PgpError *err);

/*
 * What belongs to the partition itself and is not inherited, as statements
 * that name the partition (part_regclass: its regclass text), to be run
 * after the copy has taken its name: comment (or none), owner, grants
 * (table and column), replica identity, row security flags, index comments,
 * and triggers of its own (with their enabled state), such as pgpart's
 * rollup triggers; not the guard.
 */
bool tiermove_after_rename(PgConn *pc, RelOid part, const char *part_regclass, NameList *stmts,
						   PgpError *err);
/*
 * Of those, what any table that takes the partition's place gets (a split's
 * or merge's new partitions too), naming it by table_regclass: owner,
 * grants on the table and its columns, row security flags
 */
bool tiermove_carry_over(PgConn *pc, RelOid part, const char *table_regclass, NameList *stmts,
						 PgpError *err);

/* creates the guard function when missing (it raises object_in_use, 55006) */
bool tiermove_ensure_guard_function(PgConn *pc, PgpError *err);
/* the guard triggers on table_q when missing, ENABLE ALWAYS; tablespace names the target */
bool tiermove_install_guard(PgConn *pc, RelOid part, const char *table_q, const char *tablespace,
							PgpError *err);
/*
 * The guard off without dropping it: DISABLE TRIGGER takes SHARE ROW
 * EXCLUSIVE, which readers do not conflict with, where DROP TRIGGER needs
 * ACCESS EXCLUSIVE.  So a failed move lets writers in again even while a
 * long reader holds the partition; the disabled triggers are dropped later.
 */
bool tiermove_disarm_guard(PgConn *pc, RelOid part, const char *table_q, PgpError *err);
/* DROP TRIGGER IF EXISTS, both (ACCESS EXCLUSIVE on the table) */
bool tiermove_drop_guard(PgConn *pc, const char *table_q, PgpError *err);
/* how many guard triggers exist (0-2), and whether both are enabled ALWAYS */
bool tiermove_guard_state(PgConn *pc, RelOid part, int *present, bool *intact, PgpError *err);

/*
 * The relation schema.name: *oid 0 if none; *comment its table comment (NULL
 * if none, and for a partition, which is never a leftover)
 */
bool tiermove_find_table(PgConn *pc, const char *schema, const char *name, RelOid *oid,
						 char **comment, PgpError *err);

/* ---- the steps of the move (commands/move/move.c) ---- */

/* the CHECK constraint of the copy's bounds, so that ATTACH need not scan it */
#define TIERMOVE_BOUNDS_CONSTRAINT "pgpart_partition_bounds"

/* whether a range ending at hi_text (exclusive) is entirely past, now, in time_zone */
bool tiermove_range_closed(PgConn *pc, KeyType key_type, const char *hi_text,
						   const char *time_zone, bool *closed, PgpError *err);

/*
 * The tablespace called name, as the catalog spells it (*spcname NULL: none),
 * and whether pgpart's role may create in it.
 */
bool tiermove_tablespace(PgConn *pc, const char *name, char **spcname, bool *may_create,
						 PgpError *err);

/*
 * The partition's tablespace now (*from NULL: the partition is gone); *there:
 * the heap and every index are in target already; *unlogged: an UNLOGGED table.
 */
bool tiermove_current_place(PgConn *pc, RelOid part, const char *target, char **from,
							bool *there, bool *unlogged, PgpError *err);

/* LOCK TABLE [ONLY] table_q IN ACCESS EXCLUSIVE MODE: readers wait too; call under lock_timeout */
bool tiermove_lock_exclusive(PgConn *pc, const char *table_q, bool only, PgpError *err);
/* LOCK TABLE table_q IN SHARE ROW EXCLUSIVE MODE: waits for writers, lets readers through */
bool tiermove_lock_writers_out(PgConn *pc, const char *table_q, PgpError *err);
/* DROP TABLE IF EXISTS (ACCESS EXCLUSIVE on it) */
bool tiermove_drop_table(PgConn *pc, const char *table_q, PgpError *err);
/* COMMENT ON TABLE table_q IS comment (the markers above; NULL: none) */
bool tiermove_comment(PgConn *pc, const char *table_q, const char *comment, PgpError *err);

/* the copy to build: LIKE the partition, in the target tablespace */
typedef struct TierCopy
{
	const char *copy_q;
	const char *part_q;
	bool unlogged;
	const char *column;	 /* the partition key */
	const char *lo_text; /* the partition's bounds; lo NULL: unbounded (MINVALUE) */
	const char *hi_text;
	const char *reloptions; /* "a=1, toast.b=2" or NULL */
	const char *tablespace; /* NULL: the database's default */
} TierCopy;

/*
 * Sets default_tablespace for the transaction (the indexes built later land
 * there too) and creates the copy, empty, with the bounds' CHECK constraint.
 */
bool tiermove_create_copy(PgConn *pc, const TierCopy *c, PgpError *err);
/* INSERT ... SELECT the partition's rows into the copy; *xid: the copying transaction's */
bool tiermove_copy_rows(PgConn *pc, const char *copy_q, const char *part_q, const char *columns,
						long *rows, char **xid, PgpError *err);
bool tiermove_analyze(PgConn *pc, const char *table_q, PgpError *err);

/*
 * The transactions (virtual xids, comma separated; NULL: none) whose snapshot
 * may predate the transaction xid, autovacuum left out; and of those, the
 * ones still open ("vxid (pid N), ..."; NULL: none left).
 */
bool tiermove_old_snapshots(PgConn *pc, const char *xid, char **vxids, PgpError *err);
bool tiermove_still_open(PgConn *pc, const char *vxids, char **left, PgpError *err);

/*
 * DETACH the partition and ATTACH the copy with bound_sql (FOR VALUES ...):
 * ACCESS EXCLUSIVE on the parent, which the swap has taken already.
 */
bool tiermove_exchange(PgConn *pc, const char *parent_q, const char *part_q, const char *copy_q,
					   const char *bound_sql, PgpError *err);
/* ALTER TABLE|INDEX schema.from RENAME TO to */
bool tiermove_rename(PgConn *pc, bool index, const char *schema, const char *from,
					 const char *to, PgpError *err);

/* the partition's bound, "FOR VALUES FROM (...) TO (...)" */
bool tiermove_partition_bound(PgConn *pc, RelOid part, char **bound_sql, PgpError *err);
/* heap, indexes and TOAST of regclass, in bytes */
bool tiermove_total_size(PgConn *pc, const char *regclass, long long *bytes, PgpError *err);

#endif
