/*
 * citus.h - what pgpart needs to know about Citus (docs/scale-out.md): whether
 * the database is a Citus coordinator, and whether a table is distributed and
 * by which column.  On plain PostgreSQL every answer is "no" and costs one
 * catalog read.  The commands that cannot work on a distributed table (a
 * rollup's triggers, a migration's mirror triggers) refuse through here
 * before they change anything.
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
 * Refuses (EXIT_USAGE, the reason and what to do instead) a rollup on a
 * table Citus manages: the rollup's triggers would fire on the shards on the
 * workers, where pgpart's schema does not exist.  True when rel is not such
 * a table.
 */
bool citus_refuse_rollup(PgConn *pc, RelOid rel, PgpError *err);

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

/*
 * Refuses "migrate plan" and "migrate start" of a table Citus manages
 * (table: as the user typed it; one that does not exist is left to the
 * command's own checks): the shadow table, its mirror triggers and the
 * switch are coordinator-local DDL that Citus cannot apply to the shards
 * online.  The hint names the manual path in docs/scale-out.md.
 */
bool citus_refuse_migrate(PgConn *pc, const char *table, PgpError *err);

#endif
