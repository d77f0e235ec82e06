/*
 * mirror_sql.h - SQL that keeps a copy of a table's rows in another table during
 * an online migration: the row triggers that mirror every write, the batch
 * that copies existing rows, and the range checksum that proves both equal.
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
#ifndef PGPART_PG_MIRROR_H
#define PGPART_PG_MIRROR_H

#include "pg/catalog.h"

typedef struct MirrorSpec
{
	char *from;			/* qualified, quoted: the table written by the application */
	char *to;			/* qualified, quoted: the copy */
	NameList columns;	/* quoted names of the columns copied (not generated, not dropped) */
	NameList key;		/* quoted names of the unique key columns, in key order */
	NameList key_types; /* their types: format_type() of the source's columns, read at load */
	char *part_column;	/* quoted; compared too when not null, so lookups are pruned */
	bool part_not_null;
} MirrorSpec;

void mirrorspec_free(MirrorSpec *m);

/*
 * Loads the columns of from_oid; to is the copy's qualified, quoted name (it
 * may not exist yet); key is given (unquoted) by the caller, part_column too.
 * The key's types come from the catalog, never from a stored text: they are
 * pasted into statements as casts.
 */
bool mirrorspec_load(PgConn *pc, RelOid from_oid, const char *to, const NameList *key,
					 const char *part_column, MirrorSpec *m, PgpError *err);

/*
 * CREATE OR REPLACE FUNCTION func() for the row trigger, and for TRUNCATE;
 * guard: PL/pgSQL run first (priv_append_trigger_guard), or "".
 */
char *mirror_row_function_sql(PgConn *pc, const MirrorSpec *m, const char *func,
							  const char *guard);
char *mirror_truncate_function_sql(PgConn *pc, const MirrorSpec *m, const char *func,
								   const char *guard);

/*
 * A key range (lower, upper]: either bound may be absent (NULL list or n == 0).
 * The statements below take the lower bound's values as $1..$k and the upper
 * bound's as the next k parameters, in that order, then their own.
 */
typedef struct KeyRange
{
	const NameList *lower; /* exclusive */
	const NameList *upper; /* inclusive */
} KeyRange;

/* fills params (caller-provided, 2k + extra slots) and returns how many were used */
int keyrange_params(const KeyRange *r, const char **params);

/*
 * SELECT locking at most $next rows of the range FOR SHARE, returning the
 * highest key locked (as text, one column per key column) and the count.
 */
char *mirror_lock_batch_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r);
/* INSERT into the copy every row of the range that has no copy yet */
char *mirror_copy_missing_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r);
/* DELETE every row of the range from the copy (repair copies them again) */
char *mirror_delete_range_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r);
/*
 * SELECT count and order-independent checksum of the range, in one statement
 * (one snapshot) for both tables: columns src_count, src_sum, dst_count, dst_sum.
 */
char *mirror_compare_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r);
/* SELECT the key of the row n-th after the lower bound ($next = n), for chunking */
char *mirror_chunk_end_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r);

#ifdef PGPART_TEST_HOOKS
/*
 * Test builds only: damages the copy in the range so that tests can prove
 * verify notices.  kind: drop (a row), dup (a row twice; the caller removes
 * the copy's unique constraints first), byte (one character of column's
 * longest value), swap (column's values of two rows).  NULL for an unknown kind.
 */
char *mirror_test_corrupt_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r,
							  const char *kind, const char *column);
#endif

#endif
