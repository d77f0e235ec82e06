/*
 * index_sql.h - building an index on a big partitioned table without blocking
 * writers: an invalid parent index ON ONLY the parent (catalog only, a
 * moment's lock), then CREATE INDEX CONCURRENTLY on each partition (which
 * blocks neither reads nor writes) and ALTER INDEX ... ATTACH PARTITION; the
 * parent index becomes valid when the last partition's index is attached.
 */
#ifndef PGPART_COMMANDS_INDEX_SQL_H
#define PGPART_COMMANDS_INDEX_SQL_H

#include "core/collist.h"
#include "pg/catalog.h"
#include "pg/lock.h"

typedef struct IndexSpec
{
	const char *schema; /* of the table and its indexes */
	const char *name;
	const NameList *columns;
	const char *method; /* btree, brin, hash, ... */
	const char *where;	/* SQL predicate or NULL */
	bool unique;
} IndexSpec;

typedef struct IndexLookup
{
	bool exists;
	RelOid oid;
	RelOid table;  /* indrelid */
	char relkind;  /* 'i' index, 'I' partitioned index; other: not an index */
	bool valid;
} IndexLookup;

bool indexes_lookup(PgConn *pc, const char *schema, const char *name, IndexLookup *out,
					PgpError *err);
/* the index attached under parent_index for this partition, if any */
bool indexes_child_for(PgConn *pc, RelOid parent_index, RelOid partition, bool *has,
					   PgpError *err);

bool indexes_create_on_only(PgConn *pc, const LockPolicy *lock, const IndexSpec *spec,
							const char *table, LockStats *stats, PgpError *err);
/* the index goes into the partition's schema (it may differ from the parent's) */
bool indexes_create_concurrently(PgConn *pc, const IndexSpec *spec, const char *partition_schema,
								 const char *partition, const char *index_name, PgpError *err);
bool indexes_drop_concurrently(PgConn *pc, const char *schema, const char *index_name,
							   PgpError *err);
bool indexes_attach(PgConn *pc, const LockPolicy *lock, const char *parent_schema,
					const char *parent_index, const char *child_schema, const char *child_index,
					LockStats *stats, PgpError *err);

#endif
