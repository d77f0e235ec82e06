/*
 * companion.h - where the foreign partitions of a table go.
 *
 * Archives read in place (file_fdw) and remote tiers (postgres_fdw) replace
 * a partition by a foreign table.  PostgreSQL refuses a foreign partition
 * under a unique index, so for a table with a primary key (the seed's
 * revenues and expenses) they go under a companion instead: TABLE_pgpart_foreign,
 * partitioned by the same key, with the table's columns and no indexes, and
 * the view TABLE_pgpart_all reads both (UNION ALL, security_invoker, so each
 * branch keeps its own grants; the planner prunes the partitions of both
 * from one WHERE on the key).  The application's writes keep going to the
 * table and its keys; old rows are read through the view.  A table without
 * unique indexes takes its foreign partitions itself, as before.
 */
#ifndef PGPART_PG_COMPANION_H
#define PGPART_PG_COMPANION_H

#include <stdbool.h>

#include "pg/catalog.h"

typedef struct ForeignHome
{
	char *schema;	   /* the partitioned table a foreign partition is attached to */
	char *name;		   /* NULL from companion_find: the table has no companion */
	RelOid oid;		   /* companion_find only */
	bool companion;	   /* name is the companion, not the table itself */
	char *view_name;   /* companion only: the view over both, in schema */
} ForeignHome;

/*
 * Where a foreign partition of schema.table goes: the table itself when it
 * can hold one, else its companion, made with its view when missing, in the
 * caller's transaction (with the table's owner and its SELECT grants, and
 * recorded in pgpart.part_config).  When neither can (row security on the
 * table: its policies would not guard the companion), true with *why set:
 * the caller notes it and goes on without a foreign partition.
 */
bool companion_prepare(PgConn *pc, const char *schema, const char *table, ForeignHome *home,
					   char **why, PgpError *err);

/* the companion of schema.table, if it has one (home->name NULL if not); never makes one */
bool companion_find(PgConn *pc, const char *schema, const char *table, ForeignHome *home,
					PgpError *err);

/*
 * The companion's and its view's rights brought in line with the table's
 * (SELECT for whoever may read the table, nothing else for anyone) and the
 * companion's row security with the table's (enabled without policies: only
 * its owner reads it); "maintain" runs it, so a REVOKE on the table reaches
 * them by the next run.  Nothing to do without a companion.
 */
bool companion_sync(PgConn *pc, const char *schema, const char *table, PgpError *err);

void foreign_home_free(ForeignHome *home);

#endif
