/*
 * vacuum_sql.h - the statements of "pgpart vacuum|analyze|reindex"
 * (vacuum.c): which partitions there are and how busy each is, the
 * leftovers of interrupted reindexes, reindex's change baselines in
 * pgpart.run_log, and the maintenance statement itself.  None of them locks
 * a partition except the statement itself and DROP INDEX CONCURRENTLY.
 */
#ifndef PGPART_COMMANDS_VACUUM_SQL_H
#define PGPART_COMMANDS_VACUUM_SQL_H

#include "commands/vacuum/vacuum.h"

/* SET lock_timeout for the session: every later statement of the connection waits at most ms */
bool vacuum_session_lock_timeout(PgConn *pc, int ms, PgpError *err);

/*
 * The leaf partitions of parent (only those overlapping [opt->from,
 * opt->to) when given) into res->items, their activity into *acts and their
 * quoted names into *qualified, biggest first.  Takes no lock on any
 * partition: sizes come from the catalog's page counts.
 */
bool vacuum_load_partitions(PgConn *pc, RelOid parent, const ParallelOptions *opt,
							ParallelResult *res, PartitionActivity **acts, char ***qualified,
							PgpError *err);

/* invalid indexes named ..._ccnew / ..._ccold under parent: (schema, name) rows */
PGresult *vacuum_reindex_leftovers(PgConn *pc, RelOid parent, PgpError *err);
/* DROP INDEX CONCURRENTLY IF EXISTS, under the session's lock_timeout */
bool vacuum_drop_index(PgConn *pc, const char *schema, const char *name, PgpError *err);

/* whether pgpart.run_log exists (these commands also work without pgpart's schema) */
bool vacuum_has_run_log(PgConn *pc, bool *yes, PgpError *err);
/* the change_baselines of parent's last reindex in run_log: (partition oid, counter) rows */
PGresult *vacuum_reindex_baselines(PgConn *pc, RelOid parent, PgpError *err);

/* VACUUM, ANALYZE or REINDEX TABLE CONCURRENTLY of one partition (quoted) */
char *vacuum_statement(MaintAction action, const char *qualified);

#endif
