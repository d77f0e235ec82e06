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

#include "pg/compare.h"

/*
 * CREATE OR REPLACE FUNCTION func() for the row trigger, and for TRUNCATE;
 * guard: PL/pgSQL run first (priv_append_trigger_guard), or "".
 */
char *mirror_row_function_sql(PgConn *pc, const TableCopy *m, const char *func,
							  const char *guard);
char *mirror_truncate_function_sql(PgConn *pc, const TableCopy *m, const char *func,
								   const char *guard);

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

#ifdef PGPART_TEST_HOOKS
/*
 * Test builds only: damages the copy in the range so that tests can prove
 * verify notices.  kind: drop (a row), dup (a row twice; the caller removes
 * the copy's unique constraints first), byte (one character of column's
 * longest value), swap (column's values of two rows).  NULL for an unknown kind.
 */
char *mirror_test_corrupt_sql(PgConn *pc, const TableCopy *m, const KeyRange *r,
							  const char *kind, const char *column);
#endif

#endif
