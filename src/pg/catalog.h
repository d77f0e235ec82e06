/*
 * catalog.h - what pgpart needs to know about a user's table, read from the
 * system catalogs.  Read-only: nothing here takes more than ACCESS SHARE.
 */
#ifndef PGPART_PG_CATALOG_H
#define PGPART_PG_CATALOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/calendar.h"
#include "pg/conn.h"
#include "util/namelist.h"

typedef unsigned int RelOid;

typedef struct RelInfo
{
	RelOid oid;
	char *schema;
	char *name;
	char relkind;		/* 'r' plain table, 'p' partitioned, ... */
	bool is_partition;	/* it is itself a partition of another table */
	char relpersistence; /* 'p' permanent, 'u' unlogged, 't' temp */
	char *tablespace;	/* NULL: the database default */
} RelInfo;

void relinfo_free(RelInfo *r);

/*
 * Resolves a table name as the user typed it (psql's rules: the user's
 * search_path, "Quoted" names, schema.table).  *found is false when no such
 * relation exists; a malformed name is an error.
 */
bool catalog_resolve_table(PgConn *pc, const char *user_name, RelInfo *rel, bool *found,
						   PgpError *err);
bool catalog_table_by_oid(PgConn *pc, RelOid oid, RelInfo *rel, bool *found, PgpError *err);

/* splits a (possibly qualified, possibly quoted) name; unqualified -> current schema */
bool catalog_split_name(PgConn *pc, const char *user_name, char **schema, char **name,
						PgpError *err);

typedef enum KeyType
{
	KEY_TIMESTAMPTZ,
	KEY_TIMESTAMP,
	KEY_DATE
} KeyType;

typedef struct ColumnInfo
{
	char *name;
	char *type_name; /* format_type() text */
	bool key_type_ok;
	KeyType key_type;
	bool not_null;
	bool generated;
} ColumnInfo;

void columninfo_free(ColumnInfo *c);
bool catalog_column(PgConn *pc, RelOid table, const char *column, ColumnInfo *col, bool *found,
					PgpError *err);

/*
 * pgc_query_value for a statement whose one parameter, $1, is an OID (the
 * many "what does the catalog say of this table" questions).
 */
bool catalog_oid_value(PgConn *pc, const char *sql, RelOid oid, char **value, PgpError *err);
/* and pgc_query for one: the result (caller PQclear()s it) or NULL with err set */
PGresult *catalog_oid_query(PgConn *pc, const char *sql, RelOid oid, PgpError *err);
/* the yes or no that sql asks of oid (no row: no) */
bool catalog_oid_bool(PgConn *pc, const char *sql, RelOid oid, bool *yes, PgpError *err);
/* the same with more parameters after the OID: args are $2 .. $(nargs + 1) */
#define CATALOG_OID_ARGS_MAX 3
PGresult *catalog_oid_query_args(PgConn *pc, const char *sql, RelOid oid, int nargs,
								 const char *const *args, PgpError *err);
bool catalog_oid_value_args(PgConn *pc, const char *sql, RelOid oid, int nargs,
							const char *const *args, char **value, PgpError *err);
/*
 * The relation's name as regclass prints it: quoted where needed and, with
 * pgpart's empty search_path, always schema-qualified: ready for DDL text.
 */
bool catalog_regclass_text(PgConn *pc, RelOid oid, char **text, PgpError *err);

/* columns that an INSERT may write, quoted and comma separated (no generated ones) */
bool catalog_insertable_columns(PgConn *pc, RelOid table, char **list, PgpError *err);

/*
 * Runs a query and appends the first column of each row, NULLs left out:
 * the lists of statements or reasons the catalog writes for us.
 */
bool namelist_add_query(PgConn *pc, const char *sql, int nparams, const char *const *params,
						NameList *into, PgpError *err);

/* unique or exclusion constraints / unique indexes that do not contain column */
bool catalog_unique_keys_without(PgConn *pc, RelOid table, const char *column, NameList *keys,
								 PgpError *err);

/*
 * Rows of a table, estimated: pg_class.reltuples, or for a table never
 * vacuumed nor analysed (reltuples -1) the planner's guess from its size.
 * Reads no rows.
 */
bool catalog_estimate_rows(PgConn *pc, RelOid table, double *rows, PgpError *err);

/* is there at least one row? (reads one row; takes ACCESS SHARE) */
bool catalog_table_has_rows(PgConn *pc, RelOid table, bool *has_rows, PgpError *err);

typedef struct PartitionInfo
{
	RelOid oid;
	char *schema;
	char *name;
	bool is_default;
	bool bounds_known; /* a single-column FROM (...) TO (...) we understand */
	bool lo_unbounded; /* MINVALUE */
	bool hi_unbounded; /* MAXVALUE */
	int64_t lo_us;	   /* microseconds since 1970-01-01 UTC */
	int64_t hi_us;
	char *lo_text; /* bound as the server prints it (UTC) */
	char *hi_text;
	char *tablespace; /* NULL: the database default */
} PartitionInfo;

typedef struct PartitionList
{
	PartitionInfo *items;
	int n;
	int default_index; /* -1 when there is no default partition */
} PartitionList;

void partitionlist_free(PartitionList *l);
/* direct partitions of parent, ordered by lower bound, default last */
bool catalog_partitions(PgConn *pc, RelOid parent, PartitionList *list, PgpError *err);

/* single-column RANGE key of a partitioned table; *column NULL if not such a table */
bool catalog_range_key_column(PgConn *pc, RelOid parent, char **column, PgpError *err);

/* the civil date of "now" in time_zone; also validates the zone name */
bool catalog_today(PgConn *pc, const char *time_zone, char **date, PgpError *err);
/* the same as a CivilDate */
bool catalog_today_date(PgConn *pc, const char *time_zone, CivilDate *today, PgpError *err);

#endif
