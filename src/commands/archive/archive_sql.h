/*
 * archive_sql.h - the statements of pgpart archive (archive_sql.c): the
 * archive_job rows, what archive reads from the catalog, and its DDL.  Those
 * that restore shares (ATTACH with bounds, the bounds constraint, a COPY's
 * error) are here too, once.
 */
#ifndef PGPART_COMMANDS_ARCHIVE_ARCHIVE_SQL_H
#define PGPART_COMMANDS_ARCHIVE_ARCHIVE_SQL_H

#include <jansson.h>

#include "commands/archive/archive_int.h"
#include "pg/partition.h"
#include "pg/stmt.h"

/* ---- pgpart.archive_job ------------------------------------------------ */

/* the jobs of a table that have not reached "archived" (nor ended otherwise), oldest first */
bool archive_sql_jobs_unfinished(PgConn *pc, const char *parent_schema, const char *parent_name,
								 ArchJob **jobs, int *n, PgpError *err);
/*
 * Records a new job of partition p ("started"); job->object_key and
 * job->manifest_key name its objects, the rest is filled from the row.
 */
bool archive_sql_job_insert(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p,
							const char *location, ArchJob *job, PgpError *err);
bool archive_sql_job_set_phase(PgConn *pc, ArchJob *job, ArchPhase phase, PgpError *err);
/*
 * The COPY of a partition's rows, as it ran: it changes nothing and runs
 * outside a transaction, so it is recorded in the change log with the step
 * that makes it count, "uploaded"; a COPY whose upload failed is run again.
 */
typedef struct ArchCopy
{
	char *sql;			/* the statement (owned) */
	char *tag;			/* its command tag, "COPY n" (owned; NULL until it ended) */
	char *rows;			/* the n, as the server counted (owned) */
	double started;		/* clock_ms() when it was sent */
	double duration_ms; /* to its end */
} ArchCopy;
void archcopy_free(ArchCopy *copy);
/*
 * "uploaded", with the object's figures and the manifest's checksum, and
 * the COPY's entry in the change log, in one transaction
 */
bool archive_sql_job_uploaded(PgConn *pc, ArchJob *job, const ArchCopy *copy, PgpError *err);
/* "reattached": the job is over, why says what failed */
bool archive_sql_job_reattached(PgConn *pc, const char *id, const char *why, PgpError *err);
/* a file_fdw partition reads the archive in place of the table */
bool archive_sql_job_foreign(PgConn *pc, const char *id, PgpError *err);

/* ---- the server and the catalog (nothing stronger than ACCESS SHARE) ---- */

/* now() in UTC as YYYYMMDDTHHMMSS.mmmZ, for object names */
bool archive_sql_utc_stamp(PgConn *pc, char **stamp, PgpError *err);
/* server_version and now(), for the manifest */
bool archive_sql_server_facts(PgConn *pc, char **version, char **now, PgpError *err);
/* the OID of schema.name, 0 when there is none */
bool archive_sql_rel_oid(PgConn *pc, const char *schema, const char *name, RelOid *oid,
						 PgpError *err);
/* whether the table exists, is attached, and has a DETACH CONCURRENTLY half done */
bool archive_sql_attach_state(PgConn *pc, const char *schema, const char *name, bool *exists,
							  bool *attached, bool *pending, PgpError *err);
/* heap, indexes and TOAST of schema.name */
bool archive_sql_table_bytes(PgConn *pc, const char *schema, const char *name, long long *bytes,
							 PgpError *err);
/*
 * The columns of rel for the manifest ([{name, type, not_null, generated}])
 * and for COPY (quoted, comma separated, without generated columns).
 */
bool archive_sql_columns(PgConn *pc, RelOid rel, json_t **columns, char **copy_columns,
						 PgpError *err);
/* the index definitions of rel, for the manifest's readers */
bool archive_sql_indexes(PgConn *pc, RelOid rel, json_t **indexes, PgpError *err);
/* why a file_fdw partition cannot stand in for a partition of parent (NULL: it can) */
bool archive_sql_foreign_blocker(PgConn *pc, RelOid parent, const char **why, PgpError *err);

/* ---- statements that change something (printed in --dry-run) ----------- */

typedef enum ArchDetach
{
	ARCH_DETACH_PLAIN,		  /* ACCESS EXCLUSIVE on the parent and the partition */
	ARCH_DETACH_CONCURRENTLY, /* SHARE UPDATE EXCLUSIVE on the parent; no transaction */
	ARCH_DETACH_FINALIZE	  /* completes an interrupted CONCURRENTLY */
} ArchDetach;

bool archive_sql_detach(PgConn *pc, const char *parent_q, const char *qualified, ArchDetach how,
						PgpError *err);
/* a session-wide lock_timeout for the statements that cannot run in a transaction */
bool archive_sql_set_lock_timeout(PgConn *pc, int ms, PgpError *err);
void archive_sql_reset_lock_timeout(PgConn *pc);
/*
 * The CHECK constraint pgpart_archive_bounds that matches the bounds, so
 * that ATTACH need not scan the table: adding it takes ACCESS EXCLUSIVE on
 * the table and scans it, so only on a detached table nobody uses.
 */
bool archive_sql_add_bounds_check(PgConn *pc, const char *qualified, const char *column,
								  const char *lo, const char *hi, PgpError *err);
/* LOCK TABLE ... IN ACCESS EXCLUSIVE MODE: on the detached table, before its last count */
bool archive_sql_lock_exclusive(PgConn *pc, const char *qualified, PgpError *err);
bool archive_sql_count_rows(PgConn *pc, const char *qualified, long long *rows, PgpError *err);
/* DROP TABLE (ACCESS EXCLUSIVE, on a detached table) */
bool archive_sql_drop_table(PgConn *pc, const char *qualified, PgpError *err);

/*
 * --dry-run only: a line "-- NOTE" among the printed statements, for a step
 * that is no statement (a COPY's data path); pg/conn.c's dry-run print adds
 * its ";".
 */
bool archive_sql_plan_note(PgConn *pc, const char *note, PgpError *err);

/* the CREATE TABLE the manifest shows people (never run) */
char *archive_sql_table_ddl(PgConn *pc, const char *qualified, json_t *columns);

/* file_fdw: the extension (in schema pgpart) and the server pgpart_archive */
bool archive_sql_fdw_server(PgConn *pc, PgpError *err);
/* a foreign table reading the output of program (zstd -dc ...), with columns' types */
bool archive_sql_create_foreign(PgConn *pc, const char *qualified, json_t *columns,
								const char *program, PgpError *err);
/* reads one row of qualified (the server can read the archive) */
bool archive_sql_read_one_row(PgConn *pc, const char *qualified, PgpError *err);

/* the savepoint around the foreign partition, which may fail without failing the archive */
#define ARCHIVE_FDW_SAVEPOINT "pgpart_fdw"

/* ---- COPY -------------------------------------------------------------- */

/* COPY qualified (columns) TO STDOUT: one statement, one snapshot; copy says what ran */
bool archive_sql_copy_out_begin(PgConn *pc, const char *qualified, const char *copy_columns,
								ArchCopy *copy, PgpError *err);
/* after the last row: the COPY's own result, its tag and duration into copy */
bool archive_sql_copy_out_end(PgConn *pc, ArchCopy *copy, PgpError *err);
/* the error of a COPY result (the helpers in pg/conn.c cover ordinary statements) */
void archive_sql_copy_error(PgConn *pc, PGresult *res, PgpError *err, const char *what);

/* the CHECK of its bounds a table loaded for ATTACH carries (restore, a reattached archive) */
#define ARCHIVE_BOUNDS_CONSTRAINT "pgpart_archive_bounds"

#endif
