/*
 * restore_sql.h - the statements of pgpart restore (restore_sql.c): what it
 * asks pgpart.archive_job and the catalog about a manifest, and the DDL that
 * loads and attaches the partition.  Those it shares with archive (ATTACH
 * with bounds, DETACH, the bounds constraint) are in archive_sql.h.  No text
 * of a manifest reaches them but as a $n parameter, a quoted identifier or
 * an escaped literal.
 */
#ifndef PGPART_COMMANDS_ARCHIVE_RESTORE_SQL_H
#define PGPART_COMMANDS_ARCHIVE_RESTORE_SQL_H

#include <jansson.h>

#include "pg/catalog.h"

/* ---- what vouches for a manifest (pgpart.archive_job) ------------------ */

/*
 * The newest job that recorded a manifest of this SHA-256: id, sha256,
 * rows, raw_bytes, compressed_bytes, parent_schema, parent_name (as text).
 */
PGresult *restore_sql_job_by_manifest(PgConn *pc, const char *manifest_sha256, PgpError *err);
/*
 * The newest job that knows the archive by its object's SHA-256 or by where
 * its manifest lies: id, manifest_sha256, manifest URL, then (from column 3)
 * sha256, rows, raw_bytes, compressed_bytes, lo, hi, part_column,
 * partition_schema, partition_name.
 */
PGresult *restore_sql_job_by_object(PgConn *pc, const char *sha256, const char *manifest_url,
									PgpError *err);
/* the job's archive is back in the table (its foreign partition, if any, is gone) */
bool restore_sql_job_restored(PgConn *pc, const char *job_id, PgpError *err);

/* ---- the catalog (ACCESS SHARE at most) -------------------------------- */

/* the parent's columns but generated ones: name, format_type, sorted by name (C) */
PGresult *restore_sql_columns(PgConn *pc, RelOid parent, PgpError *err);
/*
 * lo and hi as key values of type kt in time zone tz: their civil dates
 * (text), whether both are midnight, their instants in microseconds.  NULL
 * with err when they are no values of that type.
 */
PGresult *restore_sql_bounds(PgConn *pc, KeyType kt, const char *lo, const char *hi,
							 const char *tz, PgpError *err);
/* how many indexes the parent has */
bool restore_sql_count_indexes(PgConn *pc, RelOid parent, long long *n, PgpError *err);
/*
 * schema.name: whether it exists, and when it is a file_fdw partition
 * reading an archive (server pgpart_archive) of parent or of its companion,
 * *holder_q (malloc'd): the one it is attached to, as regclass text
 */
bool restore_sql_foreign_state(PgConn *pc, const char *schema, const char *name, RelOid parent,
							   bool *exists, char **holder_q, PgpError *err);
/*
 * A table schema.name left by an earlier run: whether it exists, its comment
 * (malloc'd, NULL when none), and whether it is an unattached plain table
 * of the parent's owner.
 */
bool restore_sql_leftover(PgConn *pc, const char *schema, const char *name, RelOid parent,
						  bool *exists, char **comment, bool *owners, PgpError *err);
/* the indexes of schema.name: name, and whether another relation of the schema has it */
PGresult *restore_sql_indexes_of(PgConn *pc, const char *schema, const char *name, PgpError *err);

/* ---- loading (one transaction, on a table nobody else sees yet) -------- */

/* rolls back, the COPY's results drained first; errors ignored */
void restore_sql_rollback(PgConn *pc);
/* CREATE TABLE qualified (LIKE parent_q ...) with CHECK pgpart_archive_bounds on the bounds */
bool restore_sql_create_like(PgConn *pc, const char *qualified, const char *parent_q,
							 const char *column, const char *lo, const char *hi, PgpError *err);
/* COMMENT ON TABLE: the mark a re-run looks for ("pgpart restore SHA"), or NULL to clear it */
bool restore_sql_mark(PgConn *pc, const char *qualified, const char *mark, PgpError *err);
/*
 * COPY qualified (the manifest's columns but generated ones, quoted) FROM
 * STDIN; in --dry-run the statement is printed with "-- (rows of what)".
 */
bool restore_sql_copy_in_begin(PgConn *pc, const char *qualified, json_t *columns,
							   const char *what, PgpError *err);
/*
 * Ends the COPY (with an error when ok is false: the server discards every
 * row) and gives the rows it loaded; false with err when the server failed it.
 */
bool restore_sql_copy_in_end(PgConn *pc, bool ok, long long *rows, PgpError *err);
/*
 * The parent's own indexes and index-backed constraints on target_q, from
 * the catalog (pg_get_indexdef / pg_get_constraintdef), so that ATTACH
 * attaches them instead of building them under its lock.  One whose text
 * does not have the expected shape is left to ATTACH.
 */
bool restore_sql_build_indexes(PgConn *pc, RelOid parent, const char *target_q, PgpError *err);

/* ---- attaching (under lock_timeout, in lock_run_txn) ------------------- */

/* ALTER TABLE from_q RENAME TO to_ident (ACCESS EXCLUSIVE on the loaded table) */
bool restore_sql_rename_table(PgConn *pc, const char *from_q, const char *to_ident, PgpError *err);
bool restore_sql_rename_index(PgConn *pc, const char *schema, const char *old, const char *want,
							  PgpError *err);

#endif
