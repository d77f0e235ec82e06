/*
 * compare.h - a table and a copy of its rows in another table with the same
 * columns, and what proves the copy right before pgpart trusts it: the same
 * rows (count and an order-independent checksum, of both tables in one
 * statement, so in one snapshot), over all rows or over a range of the key;
 * and the source's definition unchanged since the copy began (its
 * fingerprint).  Online migration (the partitioned shadow of a table) and
 * tier move (a partition's copy in another tablespace) rely on both.
 */
#ifndef PGPART_PG_COMPARE_H
#define PGPART_PG_COMPARE_H

#include "pg/catalog.h"

typedef struct TableCopy
{
	char *from;			/* qualified, quoted: the table written by the application */
	char *to;			/* qualified, quoted: the copy */
	NameList columns;	/* quoted names of the columns copied (not generated, not dropped) */
	/*
	 * per column: the batch check hashes its text, not its value, because
	 * values its type calls equal can print differently (numeric 1.0 and
	 * 1.00, intervals, floats' -0, non-deterministic collations)
	 */
	bool *digest_as_text;
	NameList key;		/* quoted names of the unique key columns, in key order (may be none) */
	NameList key_types; /* their types: format_type() of the source's columns, read at load */
	char *part_column;	/* quoted; compared too when not null, so lookups are pruned */
	bool part_not_null;
} TableCopy;

void tablecopy_free(TableCopy *t);

/*
 * Loads the columns of from_oid; to is the copy's qualified, quoted name (it
 * may not exist yet); key is given (unquoted) by the caller, part_column too.
 * The key's types come from the catalog, never from a stored text: they are
 * pasted into statements as casts.
 */
bool tablecopy_load(PgConn *pc, RelOid from_oid, const char *to, const NameList *key,
					const char *part_column, TableCopy *t, PgpError *err);

/*
 * A key range (lower, upper]: either bound may be absent (NULL list or n == 0).
 * Statements over a range take the lower bound's values as $1..$k and the
 * upper bound's as the next k parameters, in that order, then their own.
 */
typedef struct KeyRange
{
	const NameList *lower; /* exclusive */
	const NameList *upper; /* inclusive */
} KeyRange;

/* fills params (caller-provided, 2k + extra slots) and returns how many were used */
int keyrange_params(const KeyRange *r, const char **params);

/* pieces of the statements over a table and its copy (the mirror and batch statements) */
/* "a.c1, a.c2" (alias NULL: "c1, c2") */
void tablecopy_append_columns(StrBuf *sb, const NameList *cols, const char *alias);
/* "a.k1 = b.k1 AND ..." plus the partition column when it cannot be null */
void tablecopy_append_key_match(StrBuf *sb, const TableCopy *t, const char *a, const char *b);
/* "true AND (a.k1, a.k2) > ($1::t1, $2::t2) AND ... <= (...)"; returns the next $n */
int tablecopy_append_range(StrBuf *sb, const TableCopy *t, const KeyRange *r, const char *alias);
/* "a.k1 DIR, a.k2 DIR" */
void tablecopy_append_key_order(StrBuf *sb, const TableCopy *t, const char *alias,
								const char *dir);

/*
 * SELECT count and checksum of the range of both tables, in one statement:
 * columns src_count, src_sum, dst_count, dst_sum.
 */
char *tablecopy_compare_sql(const TableCopy *t, const KeyRange *r);

typedef struct TableComparison
{
	char *from_rows, *from_sum; /* as the server prints them */
	char *to_rows, *to_sum;
	long long rows; /* from_rows as a number */
	bool equal;		/* same count and same checksum */
} TableComparison;

void tablecomparison_free(TableComparison *c);
/* runs tablecopy_compare_sql (takes ACCESS SHARE on both tables) */
bool tablecopy_compare(PgConn *pc, const TableCopy *t, const KeyRange *r, TableComparison *c,
					   PgpError *err);
/*
 * Runs sql, a comparison of range r with tablecopy_compare's result columns
 * (rows and sum of each side, as text) and r's bounds as its parameters,
 * into *c; takes sql (malloc'd by its builder) and frees it.
 */
bool tablecomparison_run(PgConn *pc, char *sql, const KeyRange *r, TableComparison *c,
						 PgpError *err);

/*
 * A digest of what a copy depends on in a table: columns (name, type,
 * nullability, generation), indexes (without their names, which a migration
 * swaps) and triggers other than a migration's own.  DDL on the table after
 * the copy began changes it.
 */
bool table_fingerprint(PgConn *pc, RelOid table, char **fingerprint, PgpError *err);

#endif
