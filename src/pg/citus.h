/*
 * citus.h - what pgpart needs to know about Citus (docs/scale-out.md): whether
 * the database is a Citus coordinator, and whether a table is distributed and
 * by which column.  On plain PostgreSQL every answer is "no" and costs one
 * catalog read.  The commands that cannot work on a distributed table (a
 * migration's mirror triggers, a move) refuse through here before they
 * change anything; rollups find here where their marks and summary go.
 */
#ifndef PGPART_PG_CITUS_H
#define PGPART_PG_CITUS_H

#include <stdbool.h>

#include "pg/catalog.h"
#include "pg/conn.h"

typedef enum CitusKind
{
	CITUS_NONE = 0,	   /* plain PostgreSQL, or a table Citus does not manage */
	CITUS_DISTRIBUTED, /* sharded over the workers by a column */
	CITUS_REFERENCE,   /* one copy on every node */
	CITUS_LOCAL		   /* a Citus local table (on the coordinator, in Citus's metadata) */
} CitusKind;

typedef struct CitusTable
{
	CitusKind kind;
	char *column; /* the distribution column; NULL unless CITUS_DISTRIBUTED */
	int shards;	  /* how many shards (0 unless CITUS_DISTRIBUTED) */
} CitusTable;

void citustable_free(CitusTable *t);

/* is extension citus installed in this database */
bool citus_installed(PgConn *pc, bool *yes, PgpError *err);

/* what Citus makes of table rel (a partitioned table, or a partition of one) */
bool citus_table(PgConn *pc, RelOid rel, CitusTable *t, PgpError *err);

/*
 * Is rel a table Citus manages (any CitusKind but CITUS_NONE): Citus
 * refuses DETACH PARTITION ... CONCURRENTLY on those.
 */
bool citus_is_managed(PgConn *pc, RelOid rel, bool *yes, PgpError *err);

/* "a distributed table", "a reference table", ...: for messages */
const char *citus_kind_name(CitusKind kind);

/*
 * Where a rollup of rel marks its changes (docs/scale-out.md, "Rollups"):
 * *column NULL for a table Citus does not manage, the distribution column
 * (the caller frees it) for a hash-distributed one; refuses (EXIT_USAGE,
 * with the reason and what to do instead) any other table Citus manages.
 */
bool citus_rollup_column(PgConn *pc, RelOid rel, char **column, PgpError *err);

/*
 * SQL condition for a trigger guard that runs on the workers: relation
 * (SQL, an oid) is a shard of table_q (quoted, qualified), as Citus names
 * its shards.  The caller frees it.
 */
char *citus_shard_check_sql(PgConn *pc, const char *table_q, const char *relation);

/*
 * For the rest of the transaction: statements on shards one connection
 * per worker (so that functions can still be propagated after new shards
 * were made), and triggers allowed on distributed tables.
 */
bool citus_begin_ddl(PgConn *pc, PgpError *err);

/*
 * For the rest of the transaction (REPEATABLE READ): one connection per
 * worker, so that every statement sees that worker's shards in one snapshot
 * (Citus starts each worker's transaction at the coordinator's isolation
 * level, and each connection takes its own snapshot).
 */
bool citus_one_snapshot_per_worker(PgConn *pc, PgpError *err);

/* create_distributed_table(table_q, column, colocate_with => with_q) */
bool citus_distribute_colocated(PgConn *pc, const char *table_q, const char *column,
								const char *with_q, PgpError *err);

/*
 * When parent is distributed, distributes table (quoted, qualified; a
 * plain table that is to become one of parent's partitions) colocated with
 * it, and removes the coordinator's copy of its rows: ATTACH then only
 * changes metadata, instead of Citus copying every row to the shards while
 * the parent's lock is held.  Nothing when parent is not distributed or
 * table already is (a re-run).
 */
bool citus_distribute_as_parent(PgConn *pc, const char *table_q, RelOid parent, PgpError *err);

/*
 * Refuses "pgpart create" of a plain table Citus manages: the new
 * partitioned table that replaces it would be a local table of the
 * coordinator, and the distribution lost.  The hint says the two ways that
 * work.
 */
bool citus_refuse_convert(PgConn *pc, RelOid rel, PgpError *err);

/*
 * Refuses "pgpart move" (and a policy's warm tier) of a partition of a
 * table Citus manages: its rows are on the workers.
 */
bool citus_refuse_move(PgConn *pc, RelOid rel, PgpError *err);
/* the same for "pgpart remote send" (and a policy's remote tier) */
bool citus_refuse_remote(PgConn *pc, RelOid rel, PgpError *err);

/*
 * Refuses "migrate plan" and "migrate start" of a table Citus manages
 * (table: as the user typed it; one that does not exist is left to the
 * command's own checks): the shadow table, its mirror triggers and the
 * switch are coordinator-local DDL that Citus cannot apply to the shards
 * online.  The hint names the manual path in docs/scale-out.md.
 */
bool citus_refuse_migrate(PgConn *pc, const char *table, PgpError *err);

#endif
