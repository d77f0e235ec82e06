/*
 * create_sql.h - the statements of "pgpart create" (create.c) that only it
 * runs: the partitioned parent made LIKE a table, and the swap that replaces
 * an empty plain table with it.  All of them run inside create's one
 * transaction, the parent being invisible to others until it commits.
 */
#ifndef PGPART_COMMANDS_CREATE_SQL_H
#define PGPART_COMMANDS_CREATE_SQL_H

#include "pg/catalog.h"

/* LOCK TABLE schema.name IN ACCESS EXCLUSIVE MODE: the empty table to replace, under lock_timeout */
bool create_lock_table(PgConn *pc, const char *schema, const char *name, PgpError *err);

/* the parent to make: schema.name LIKE the source, PARTITION BY RANGE (column) */
typedef struct NewParent
{
	const char *schema;
	const char *name;
	const char *like_schema;
	const char *like_name;
	bool without_indexes; /* converting: the indexes come from the clone script */
	const char *column;
	const char *tablespace; /* NULL: the default */
} NewParent;

bool create_partitioned_parent(PgConn *pc, const NewParent *np, PgpError *err);

/* DROP TABLE schema.name (the replaced empty table; its lock is held already) */
bool create_drop_table(PgConn *pc, const char *schema, const char *name, PgpError *err);
/* ALTER TABLE schema.from RENAME TO to */
bool create_rename_table(PgConn *pc, const char *schema, const char *from, const char *to,
						 PgpError *err);
/* the OID of schema.name, made in this transaction (0 in --dry-run: it does not exist) */
bool create_table_oid(PgConn *pc, const char *schema, const char *name, RelOid *oid,
					  PgpError *err);

#endif
