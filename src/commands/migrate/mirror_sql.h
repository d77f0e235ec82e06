/*
 * mirror_sql.h - SQL that keeps a copy of a table's rows in another table during
 * an online migration: the row triggers that mirror every write, the batch
 * that copies existing rows, the repair of a range and the chunks verify
 * compares (the comparison itself, shared with "move", is pg/compare.h).
 *
 * The invariant everything here relies on: once the mirror trigger exists,
 * every committed row of the copy equals the committed row of the source with
 * the same key (the trigger writes the copy in the writer's own transaction;
 * an UPDATE deletes and re-inserts, so it also creates a copy that did not
 * exist yet).  A backfill batch locks its source rows FOR SHARE first and only
 * then, in a new statement and snapshot, inserts the rows that have no copy:
 * every writer that touched those rows has committed by then, so no stale
 * version can be written and no deleted row can come back.
 */
#ifndef PGPART_COMMANDS_MIGRATE_MIRROR_SQL_H
#define PGPART_COMMANDS_MIGRATE_MIRROR_SQL_H

#include "commands/migrate/migration_sql.h"
#include "pg/compare.h"
#include "pg/privilege.h"

/*
 * The two trigger functions that keep m->to a copy of m->from, in the
 * caller's transaction: row_func (every row change) and truncate_func (the
 * copy truncated, or with range_column only the source's range [lo, hi)
 * deleted: a copy several sources share).  Both SECURITY DEFINER with an
 * empty search_path, guard (priv_append_trigger_guard) run first, and each
 * REVOKEd from PUBLIC and given to table's owner as it is created
 * (priv_secure_function, with needs).
 */
bool mirror_create_copy_functions(PgConn *pc, const TableCopy *m, const char *row_func,
								  const char *truncate_func, const char *guard,
								  const char *range_column, const char *lo, const char *hi,
								  RelOid table, const PrivNeed *needs, int nneeds, PgpError *err);

/*
 * The row and TRUNCATE triggers of migration m on table_q (dir "forward":
 * source -> shadow, "reverse": new -> old after switch), enabled ALWAYS so
 * that writers with session_replication_role = replica are mirrored too;
 * and their removal (IF EXISTS).  Each takes SHARE ROW EXCLUSIVE on table_q.
 */
bool mirror_create_triggers(PgConn *pc, const Migration *m, const char *table_q, const char *dir,
							PgpError *err);
bool mirror_drop_triggers(PgConn *pc, const Migration *m, const char *table_q, const char *dir,
						  PgpError *err);

/*
 * The four trigger functions of m: forward (source -> shadow, by the
 * shadow's name before switch) from fwd, reverse (new -> old) with the names
 * valid after switch.  CREATE OR REPLACE, then revoked from PUBLIC and given
 * to the table's owner, in the caller's transaction; each runs only for its
 * own table (the guard).
 */
bool mirror_create_functions(PgConn *pc, const Migration *m, const TableCopy *fwd, PgpError *err);
bool mirror_drop_functions(PgConn *pc, const Migration *m, PgpError *err);

/* LOCK TABLE table_q IN mode MODE: writers of the table wait until the caller commits */
bool mirror_lock_writers(PgConn *pc, const char *table_q, const char *mode, PgpError *err);

/*
 * The triggers prefix and prefix_truncate on table that are not enabled
 * ALWAYS, as "name (disabled), ..." in *bad; NULL when both are.
 */
bool mirror_inactive_triggers(PgConn *pc, RelOid table, const char *prefix, char **bad,
							  PgpError *err);

/* the highest key of m->from (as text, one per key column); none when it is empty */
bool mirror_highest_key(PgConn *pc, const TableCopy *m, NameList *key, PgpError *err);


/* the statements over a range take its bounds as keyrange_params() orders them */

/*
 * SELECT locking at most $next rows of the range FOR SHARE, returning the
 * highest key locked (as text, one column per key column) and the count.
 */
char *mirror_lock_batch_sql(PgConn *pc, const TableCopy *m, const KeyRange *r);
/* INSERT into the copy every row of the range that has no copy yet */
char *mirror_copy_missing_sql(PgConn *pc, const TableCopy *m, const KeyRange *r);
/* DELETE every row of the range from the copy (repair copies them again) */
char *mirror_delete_range_sql(PgConn *pc, const TableCopy *m, const KeyRange *r);
/* SELECT the key of the row n-th after the lower bound ($next = n), for chunking */
char *mirror_chunk_end_sql(PgConn *pc, const TableCopy *m, const KeyRange *r);
/* runs it: the key of the row n-th after r's lower bound into end; *found false when none */
bool mirror_chunk_end(PgConn *pc, const TableCopy *m, const KeyRange *r, int n, NameList *end,
					  bool *found, PgpError *err);
/*
 * Runs mirror_lock_batch_sql with n rows at most: the highest key locked into
 * highest and how many rows were locked into *locked; *found false when
 * the range has no row left.  Takes ROW SHARE on the source and FOR SHARE
 * row locks: writers of those rows wait.
 */
bool mirror_lock_batch(PgConn *pc, const TableCopy *m, const KeyRange *r, int n, NameList *highest,
					   int *locked, bool *found, PgpError *err);
/* runs mirror_copy_missing_sql: *rows (may be NULL) copied */
bool mirror_copy_missing(PgConn *pc, const TableCopy *m, const KeyRange *r, long long *rows,
						 PgpError *err);
/* runs mirror_delete_range_sql */
bool mirror_delete_range(PgConn *pc, const TableCopy *m, const KeyRange *r, PgpError *err);

/*
 * The batch's check: count and checksum of the range in table and copy, in
 * the columns of tablecopy_compare_sql.  The checksum is a sum of 64-bit
 * hashes of each row (hash_record_extended), of the values of the types
 * whose equal values print alike and of the text of the others (so a change
 * between equal-looking values, 1.0 to 1.00, is seen, as verify's md5 of
 * each row's text sees it).  Printing every value took most of the check's
 * time: md5 first, then the text itself; a batch needs no cryptographic
 * digest, and verify keeps its md5.
 */
char *mirror_batch_compare_sql(const TableCopy *m, const KeyRange *r);
/*
 * VACUUM (ANALYZE, SKIP_LOCKED) of the copy (to, quoted): its statistics,
 * the partitioned parent's too, which autovacuum never gathers; and its
 * first vacuum after the bulk copy, so that autovacuum has no pass to make
 * over every new partition during switch (where the look before each attempt
 * would skip behind it)
 */
bool mirror_vacuum_analyze(PgConn *pc, const TableCopy *m, PgpError *err);
/* synchronous_commit off for the rest of the session (a batch's own WAL flush) */
bool mirror_session_async_commit(PgConn *pc, PgpError *err);
/* runs it (ACCESS SHARE on both tables) */
bool mirror_batch_compare(PgConn *pc, const TableCopy *m, const KeyRange *r, TableComparison *c,
						  PgpError *err);

#ifdef PGPART_TEST_HOOKS
/*
 * Test builds only: damages the copy in the range so that tests can prove
 * verify notices.  kind: drop (a row), dup (a row twice; the caller removes
 * the copy's unique constraints first), byte (one character of column's
 * longest value), swap (column's values of two rows).  NULL for an unknown kind.
 */
char *mirror_test_corrupt_sql(PgConn *pc, const TableCopy *m, const KeyRange *r,
							  const char *kind, const char *column);
/* test builds only: drops the primary key and unique constraints of copy (for "dup") */
bool mirror_test_drop_unique(PgConn *pc, RelOid copy, PgpError *err);
#endif

#endif
