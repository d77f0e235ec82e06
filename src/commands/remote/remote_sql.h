/*
 * remote_sql.h - the statements of the remote tier (commands/remote/): the
 * postgres_fdw server and user mapping pgpart makes, the table on the other
 * server, the COPY that streams rows from one connection into the other,
 * the count and checksum both sides compute the same way, the foreign
 * table that stands in for a partition, and pgpart.remote_job.
 *
 * Names in DDL are quoted with PQescapeIdentifier on the connection that
 * runs it; values are $n parameters, or, where PostgreSQL takes no
 * parameter (the OPTIONS of CREATE SERVER and USER MAPPING, COMMENT), literals
 * escaped with PQescapeLiteral.
 */
#ifndef PGPART_COMMANDS_REMOTE_REMOTE_SQL_H
#define PGPART_COMMANDS_REMOTE_REMOTE_SQL_H

#include "commands/move/move_sql.h"
#include "pg/catalog.h"
#include "pg/conn.h"

/* the foreign server of pgpart's remote NAME */
#define REMOTE_SERVER_PREFIX "pgpart_remote_"

/* the COMMENT on a table pgpart made on the remote server (a re-run recognises it) */
#define REMOTE_TABLE_MARK "pgpart remote tier"

/* ---- the foreign server ----------------------------------------------- */

/*
 * What the local server knows of a remote: the server's options and the user
 * mapping pgpart would use (the current user's, else PUBLIC's).  password is
 * wiped when freed; nothing prints it.
 */
typedef struct RemoteServer
{
	bool exists;
	bool owner;	  /* the current user owns it */
	bool mapping; /* a user mapping applies (umoptions visible) */
	char *host, *port, *dbname;
	char *user, *password;
} RemoteServer;

void remoteserver_free(RemoteServer *s);

/* whether the current user is a superuser (postgres_fdw asks others for a password) */
bool remote_sql_is_superuser(PgConn *pc, bool *super, PgpError *err);
/* postgres_fdw installed in this database, and USAGE on it for the current user */
bool remote_sql_fdw_state(PgConn *pc, bool *installed, bool *usage, PgpError *err);
bool remote_sql_server_load(PgConn *pc, const char *srvname, RemoteServer *s, PgpError *err);
/* CREATE SERVER ... FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host, port, dbname, async_capable) */
bool remote_sql_create_server(PgConn *pc, const char *srvname, const char *host,
							  const char *port, const char *dbname, PgpError *err);
/* CREATE USER MAPPING FOR CURRENT_USER ...: the password is shown as ******** everywhere */
bool remote_sql_create_mapping(PgConn *pc, const char *srvname, const char *user,
							   const char *password, PgpError *err);
/*
 * In the caller's transaction, undone before it returns: a foreign table of
 * srvname over the remote's pg_catalog.pg_database, read once, so that the
 * database server itself connects to the remote with the user mapping (its
 * address, its network, the password rule of postgres_fdw).  Not in --dry-run.
 */
bool remote_sql_probe(PgConn *pc, const char *srvname, PgpError *err);
/* DROP USER MAPPING IF EXISTS FOR CURRENT_USER, then DROP SERVER (no CASCADE) */
bool remote_sql_drop_server(PgConn *pc, const char *srvname, PgpError *err);
/*
 * Every pgpart remote: name (without the prefix), host, port, dbname, the
 * mapped user (no password), foreign partitions and their rows (remote_job)
 */
PGresult *remote_sql_list_servers(PgConn *pc, PgpError *err);

/* ---- session settings both sides share -------------------------------- */

/* the local server's encoding, which both connections then use as client_encoding */
bool remote_sql_encoding(PgConn *pc, char **encoding, PgpError *err);
/*
 * The settings a row's text depends on, the same on both connections, so
 * that COPY and the checksum read the same bytes on both: client_encoding,
 * DateStyle, IntervalStyle, extra_float_digits, bytea_output (the time zone
 * is UTC on every pgpart connection)
 */
bool remote_sql_same_output(PgConn *pc, const char *encoding, PgpError *err);

/* ---- columns ---------------------------------------------------------- */

typedef struct RemoteColumns
{
	NameList names;	  /* unquoted, in attnum order, no dropped ones */
	NameList types;	  /* format_type(), written by the server */
	NameList notnull; /* "t" or "f" */
	int generated;	  /* how many generated columns (refused) */
	char *list_q;	  /* the names quoted, comma separated (on the local connection) */
} RemoteColumns;

void remotecolumns_free(RemoteColumns *c);
bool remote_sql_columns(PgConn *pc, RelOid rel, RemoteColumns *c, PgpError *err);

/* ---- the table on the remote server ----------------------------------- */

/* CREATE SCHEMA IF NOT EXISTS, CREATE TABLE with the columns, COMMENT mark */
bool remote_sql_create_table(PgConn *pc, const char *schema, const char *name,
							 const RemoteColumns *c, const char *mark, PgpError *err);
bool remote_sql_drop_table(PgConn *pc, const char *schema, const char *name, PgpError *err);
/* BEGIN of a transaction that is always rolled back (a check), and ROLLBACK, errors dropped */
bool remote_sql_begin_check(PgConn *pc, PgpError *err);
void remote_sql_rollback(PgConn *pc);
/* BEGIN ISOLATION LEVEL REPEATABLE READ: the COPY and the checksum see one snapshot */
bool remote_sql_begin_snapshot(PgConn *pc, PgpError *err);
/* LOCK TABLE ... IN SHARE MODE: writers wait, readers (the foreign scans) go on */
bool remote_sql_lock_share(PgConn *pc, const char *schema, const char *name, PgpError *err);
/*
 * COPY (SELECT cols FROM ONLY from) TO STDOUT on from, each row as it comes
 * into COPY to (cols) FROM STDIN on to: no temporary file.  *rows: what the
 * receiving side counted.  The receiving COPY is recorded in to's change log.
 */
bool remote_sql_stream(PgConn *from, const char *from_schema, const char *from_name,
					   PgConn *to, const char *to_schema, const char *to_name,
					   const RemoteColumns *c, long long *rows, PgpError *err);
/*
 * count(*) and an order-independent checksum of the columns' text (the same
 * statement on both servers, under remote_sql_same_output), as text
 */
bool remote_sql_checksum(PgConn *pc, const char *schema, const char *name,
						 const RemoteColumns *c, char **rows, char **sum, PgpError *err);
bool remote_sql_analyze(PgConn *pc, const char *schema, const char *name, PgpError *err);

/* ---- the foreign table ------------------------------------------------- */

/*
 * CREATE FOREIGN TABLE schema.name (columns) SERVER srvname OPTIONS
 * (schema_name, table_name, updatable 'false')
 */
bool remote_sql_create_foreign(PgConn *pc, const char *schema, const char *name,
							   const RemoteColumns *c, const char *srvname,
							   const char *remote_schema, const char *remote_name,
							   PgpError *err);
/*
 * The foreign table rel's server and remote table (NULL srvname: rel is no
 * foreign table of a pgpart remote)
 */
bool remote_sql_foreign_facts(PgConn *pc, RelOid rel, char **srvname, char **remote_schema,
							  char **remote_name, PgpError *err);
/*
 * What proves that nothing wrote to the guarded partition since it was read:
 * the guard triggers' row versions (any ALTER, DISABLE or DROP of them makes
 * new ones) and the partition's relfilenode (a TRUNCATE makes a new one)
 */
bool remote_sql_guard_stamp(PgConn *pc, RelOid part, char **stamp, PgpError *err);
bool remote_sql_detach(PgConn *pc, const char *parent_q, const char *part_q, PgpError *err);
/* the copy of a fetch: LIKE the table, with the bounds' CHECK so that ATTACH skips its scan */
bool remote_sql_create_local_copy(PgConn *pc, const char *copy_q, const char *parent_q,
								  const char *column, const char *lo, const char *hi,
								  PgpError *err);
#define REMOTE_BOUNDS_CONSTRAINT "pgpart_remote_bounds"
/*
 * The table's (partitioned parent's) indexes as statements on copy_q, so that
 * ATTACH finds them (no build under its lock): unique and primary keys with
 * their constraint.  Index names after part_name as the parent's are after
 * parent_name.
 */
bool remote_sql_parent_indexes(PgConn *pc, RelOid parent, const char *parent_name,
							   const char *copy_q, const char *part_name, NameList *stmts,
							   PgpError *err);

/* the xmin of one row of table_q (the transaction that wrote it; NULL: empty) */
bool remote_sql_row_xmin(PgConn *pc, const char *table_q, char **xid, PgpError *err);

/*
 * The foreign partitions of parent and of its companion on pgpart's remotes:
 * partition (schema.name), NAME, server, remote schema.table, rows (from the
 * job that sent it; NULL if none)
 */
PGresult *remote_sql_partitions(PgConn *pc, RelOid parent, PgpError *err);

/* ---- pgpart.remote_job ------------------------------------------------- */

typedef struct RemoteJob
{
	char *id;
	char *kind; /* "send" or "fetch" */
	char *server; /* pgpart's NAME */
	char *pschema, *pname, *rschema, *rname, *column, *lo, *hi;
	char *phase;
	char *rows, *checksum;
} RemoteJob;

void remotejob_free(RemoteJob *j);
/* the unfinished job of the table, if any (*found) */
bool remote_sql_job_unfinished(PgConn *pc, RelOid parent, RemoteJob *j, bool *found,
							   PgpError *err);
/* a new job, "started"; j's fields in, j->id out */
bool remote_sql_job_insert(PgConn *pc, RelOid parent, RemoteJob *j, PgpError *err);
/* the phase, with rows and checksum when given (NULL: kept); note too */
bool remote_sql_job_phase(PgConn *pc, RemoteJob *j, const char *phase, const char *note,
						  PgpError *err);
/* the last "done" send of schema.name still in place (what fetch and retention undo) */
bool remote_sql_job_last_sent(PgConn *pc, RelOid parent, const char *schema, const char *name,
							  RemoteJob *j, bool *found, PgpError *err);
/* the jobs of remote NAME whose partitions are still there: how many */
bool remote_sql_server_in_use(PgConn *pc, const char *server, long long *n, PgpError *err);

#endif
