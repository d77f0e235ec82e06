/*
 * index.h - "pgpart index add": an index on a partitioned table built the online
 * way (ON ONLY parent, CONCURRENTLY per partition, ATTACH).  Prints nothing.
 */
#ifndef PGPART_COMMANDS_INDEX_H
#define PGPART_COMMANDS_INDEX_H

#include "pg/catalog.h"
#include "pg/lock.h"

typedef struct IndexOptions
{
	const char *table;
	const char *name;
	const char *columns; /* "(a, b)" as typed */
	const char *where;
	const char *method;
	bool unique;
	LockPolicy lock;
} IndexOptions;

typedef struct IndexResult
{
	char *schema;
	char *table;
	char *name;
	int partitions;
	int built;	 /* CREATE INDEX CONCURRENTLY run */
	int rebuilt; /* of which replaced an invalid leftover */
	int already; /* partitions whose index was already attached */
	bool parent_created;
	bool valid; /* parent index valid at the end */
	double max_lock_held_ms;
	/*
	 * the worst ON ONLY / ATTACH transaction for writers; the CONCURRENTLY
	 * builds and drops take SHARE UPDATE EXCLUSIVE, which conflicts with no
	 * writer's ROW EXCLUSIVE, so they are not counted
	 */
	LockFelt felt;
} IndexResult;

void indexresult_free(IndexResult *r);
/* progress: called after each partition (may be NULL) */
typedef void (*IndexProgressFn)(void *arg, int done, int total, const char *partition);
bool ops_index_add(PgConn *pc, const IndexOptions *opt, IndexProgressFn progress, void *arg,
				   IndexResult *res, PgpError *err);

#endif
