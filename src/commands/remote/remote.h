/*
 * remote.h - the remote tier: closed partitions on another PostgreSQL
 * server, read in place through postgres_fdw.
 *
 *   pgpart remote add NAME --remote CONNINFO   the foreign server
 *                                               pgpart_remote_NAME and the
 *                                               current user's mapping
 *   pgpart remote list | drop NAME
 *   pgpart remote send TABLE PARTITION --to NAME
 *   pgpart remote fetch TABLE PARTITION
 *
 * Credentials live only in PostgreSQL's own user mapping: pgpart reads
 * them from pg_user_mappings to connect to the remote itself, never prints
 * or stores them.
 */
#ifndef PGPART_COMMANDS_REMOTE_H
#define PGPART_COMMANDS_REMOTE_H

#include <signal.h>

#include "core/throttle.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "pg/lock.h"
#include "util/error.h"

typedef struct RemoteOptions
{
	const char *name;	  /* pgpart's NAME of the remote (add, drop, send --to) */
	const char *conninfo; /* add: how to reach it (a password in it is never printed) */
	const char *table;	  /* send, fetch: the partitioned table, as typed */
	const char *partition;
	LockPolicy lock;
	bool abort; /* send, fetch: undo an interrupted one */
	HealthArgs health;
	volatile sig_atomic_t *cancel;
} RemoteOptions;

typedef struct RemoteResult
{
	char *name;
	char *server; /* pgpart_remote_NAME */
	char *host, *port, *dbname, *user; /* add: what the server and mapping say (no password) */
	char *partition;	/* schema.name */
	char *remote_table; /* schema.name on the remote */
	char *job_id;
	long long rows;
	char *checksum;
	bool resumed;	/* an interrupted job was continued */
	bool aborted;	/* --abort: undone */
	bool nothing;	/* --abort without a job to undo */
	bool already;	/* send: the partition is on the remote already */
	int lock_attempts;
	double copy_ms;
	double swap_lock_held_ms;
	double duration_ms;
	LockFelt felt;
	NameList notes;
} RemoteResult;

void remoteresult_free(RemoteResult *r);

/* NAME is 1 to 49 lower-case letters, digits and underscores, starting with a letter */
bool remote_name_valid(const char *name);

bool ops_remote_add(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err);
/* refused while a foreign partition uses it */
bool ops_remote_drop(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err);
/* rows: name, host, port, dbname, user, foreign partitions, their rows (PQclear it) */
bool ops_remote_list(PgConn *pc, PGresult **rows, PgpError *err);

/*
 * Sends a closed partition to remote NAME: writes to it refused (move's
 * guard), the table made on the remote, its rows streamed by COPY, count and
 * checksum compared on both sides, then one short transaction under the lock
 * rules replaces the partition by a foreign table (attached to the table, or
 * to its companion: pg/companion.h).  Each phase in pgpart.remote_job; kill
 * -9 anywhere leaves the rows in one verified place, a re-run continues and
 * --abort undoes (only before the swap).
 */
bool ops_remote_send(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err);
/* brings a sent partition back: the remote table is dropped after the local commit */
bool ops_remote_fetch(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err);

/*
 * Retention of a partition the remote tier holds (maintain's tier step):
 * a "drop" job, then one transaction that drops the foreign table, runs
 * in_txn (the caller's record in pgpart.retention_log, with the rows the
 * send counted, NULL if unknown) and marks the job
 * "swapped", then the remote table is dropped and the job is "done".
 * *remote is false (and nothing done) when p is no partition on a remote.
 */
typedef bool (*RemoteInTxn)(PgConn *pc, void *arg, const char *rows, PgpError *err);
bool remote_retention_drop(PgConn *pc, RelOid parent, const char *column, const PartitionInfo *p,
						   const LockPolicy *lock, RemoteInTxn in_txn, void *arg, bool *remote,
						   PgpError *err);
/* finishes the drops of remote tables that a killed retention left (their foreign tables are gone) */
bool remote_retention_resume(PgConn *pc, RelOid parent, const LockPolicy *lock, NameList *notes,
							 PgpError *err);

/*
 * The partitions of the table (or of its companion) on a remote, one line
 * each: "PARTITION on remote NAME (server S, table SCHEMA.TABLE): N rows"
 */
bool remote_status_lines(PgConn *pc, RelOid parent, NameList *lines, PgpError *err);

/* the remote NAME the foreign partition schema.table reads (*name NULL: it is on none) */
bool remote_partition_server(PgConn *pc, const char *schema, const char *table, char **name,
							 PgpError *err);

/* a connection to remote NAME, from its server's options and the user mapping */
bool remote_connect(PgConn *pc, const char *name, PgConn *rpc, PgpError *err);

#endif
