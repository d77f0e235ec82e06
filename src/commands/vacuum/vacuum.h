/*
 * vacuum.h - "pgpart vacuum|analyze|reindex TABLE -j N": the operation on
 * each partition, over N connections at once, biggest partition first.  A
 * failure on one partition does not stop the others; Ctrl-C cancels the
 * running statements on the server.
 */
#ifndef PGPART_COMMANDS_VACUUM_H
#define PGPART_COMMANDS_VACUUM_H

#include <signal.h>

#include "core/maintplan.h"
#include "pg/catalog.h"
#include "pg/lock.h"

typedef struct ParallelOptions
{
	const char *table;
	MaintAction action;
	int jobs;
	bool only_needed;
	const char *from; /* partitions overlapping [from, to) only; NULL: all */
	const char *to;
	const char *conninfo; /* for the worker connections */
	LockPolicy lock;	  /* its lock_timeout applies to each statement */
	volatile sig_atomic_t *cancel; /* set by a signal handler: cancel and stop */
	void (*progress)(void *arg, int done, int total, const char *partition);
	void *progress_arg;
} ParallelOptions;

typedef struct PartitionOutcome
{
	RelOid oid;
	char *name;
	long long bytes;
	bool ran;
	bool ok;
	char *detail; /* why skipped, or the error */
	double ms;
} PartitionOutcome;

typedef struct ParallelResult
{
	char *schema;
	char *table;
	PartitionOutcome *items;
	int n;
	int ran, failed, skipped;
	bool cancelled;
	double ms;
	NameList notes; /* leftovers of interrupted reindexes dropped (or not) */
	bool logged;	/* recorded in pgpart.run_log (when pgpart's schema exists) */
} ParallelResult;

void parallelresult_free(ParallelResult *r);
bool ops_parallel(PgConn *pc, const ParallelOptions *opt, ParallelResult *res, PgpError *err);

#endif
