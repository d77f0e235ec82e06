/*
 * ops.h - pgpart's operations: each combines the pure planning of src/core
 * with the statements of src/pg.  They report through result structs and
 * PgpError and never print (only --dry-run SQL is printed, by src/pg), so the
 * CLI decides between a human table and JSON.
 */
#ifndef PGPART_OPS_OPS_H
#define PGPART_OPS_OPS_H

#include "core/calendar.h"
#include "pg/catalog.h"
#include "pg/lock.h"

/* ---- create ---------------------------------------------------------- */

typedef struct CreateOptions
{
	const char *table;
	const char *like; /* NULL: convert or adopt the existing TABLE */
	const char *column;
	CalUnit unit;
	bool has_start;
	CivilDate start;
	int premake;
	const char *time_zone;
	LockPolicy lock;
} CreateOptions;

typedef enum CreateMode
{
	CREATE_FROM_LIKE,	/* new table with the columns of --like */
	CREATE_CONVERT,		/* existing empty plain table replaced */
	CREATE_ADOPT		/* existing partitioned table taken under management */
} CreateMode;

typedef struct CreateResult
{
	CreateMode mode;
	char *schema;
	char *name;
	NameList partitions_created;
	NameList warnings;
	LockStats locks;
} CreateResult;

void createresult_free(CreateResult *r);
bool ops_create(PgConn *pc, const CreateOptions *opt, CreateResult *res, PgpError *err);

/* ---- maintain -------------------------------------------------------- */

typedef struct TableMaintenance
{
	char *schema;
	char *name;
	bool ok;
	char *error; /* when !ok */
	NameList partitions_created;
	long rows_moved;
	long rows_left_in_default; /* NULL keys, or ranges pgpart cannot take */
	NameList notes;
	int lock_attempts;
	double max_lock_held_ms;
	double duration_ms;
} TableMaintenance;

typedef struct MaintainResult
{
	TableMaintenance *tables;
	int n;
} MaintainResult;

void maintainresult_free(MaintainResult *r);
/* table NULL: every configured table; a failing table does not stop the others */
bool ops_maintain(PgConn *pc, const char *table, const LockPolicy *lock, MaintainResult *res,
				  PgpError *err);

/* ---- status ---------------------------------------------------------- */

#include "pg/stats.h"

#define STATUS_DEFAULT_COUNT_CAP 1000000L

typedef struct TableStatus
{
	char *schema;
	char *name;
	bool exists;
	char *column;
	CalUnit unit;
	int premake;
	char *time_zone;
	PartitionStatsList parts;
	long default_rows; /* counted up to STATUS_DEFAULT_COUNT_CAP */
	int future_partitions;
	char *last_maintain_at; /* NULL: never */
	bool last_maintain_ok;
	NameList rollups; /* one line per rollup: coverage and freshness */
	NameList tiers;	  /* per partition (same order as parts): "hot" or "warm" */
	char *policy;	  /* the tier policy in words; NULL: none */
	NameList archived; /* archived (or being archived) partitions, one line each */
	NameList warnings;
} TableStatus;

typedef struct StatusResult
{
	TableStatus *tables;
	int n;
	int warnings; /* over all tables */
} StatusResult;

void statusresult_free(StatusResult *r);
bool ops_status(PgConn *pc, const char *table, StatusResult *res, PgpError *err);

/* ---- index add -------------------------------------------------------- */

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
} IndexResult;

void indexresult_free(IndexResult *r);
/* progress: called after each partition (may be NULL) */
typedef void (*IndexProgressFn)(void *arg, int done, int total, const char *partition);
bool ops_index_add(PgConn *pc, const IndexOptions *opt, IndexProgressFn progress, void *arg,
				   IndexResult *res, PgpError *err);

/* ---- shared helpers -------------------------------------------------- */

/*
 * Session-level advisory lock on one managed table, so that two pgpart runs
 * (two hosts, a cron job and a person) never work on the same table at once.
 */
bool ops_try_table_lock(PgConn *pc, RelOid table, bool *got, PgpError *err);
void ops_release_table_lock(PgConn *pc, RelOid table);

#endif
