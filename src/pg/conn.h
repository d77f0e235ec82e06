/*
 * conn.h - the one place pgpart talks to the server.
 *
 * Every statement goes through the extended query protocol (PQexecParams),
 * even DDL with no parameters: the server then accepts exactly one statement
 * per call, so a user-supplied predicate can never smuggle in a second one.
 * Values are always $n parameters; identifiers and DDL literals are escaped
 * with libpq's own functions on this connection.
 */
#ifndef PGPART_PG_CONN_H
#define PGPART_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "util/error.h"
#include "util/strbuf.h"

/* a LOCK row of the open transaction and when its lock was granted (clock_ms) */
typedef struct HeldLock
{
	long long id;
	double granted_at;
} HeldLock;

typedef struct PgConn
{
	PGconn *conn;
	/* --dry-run: changes are printed instead of run; reads still run */
	bool dry_run;
	/*
	 * The user's search_path, used only to resolve the table names they type
	 * (as psql would); pgpart's own statements run with an empty search_path
	 * so catalog functions print fully qualified names and no user object can
	 * shadow a built-in one.
	 */
	char *user_search_path;
	/*
	 * How long a command waits for another pgpart working on the same table
	 * (pg/worklock.h): 0 not at all (the default: it says who and stops), -1
	 * as long as it takes (--wait), else milliseconds (--wait=DURATION).
	 */
	int worklock_wait_ms;
	/*
	 * The change log (pg/changelog.h): whether this session records its
	 * changes, the command as typed (borrowed from GlobalOpts) and the table
	 * it works on (the first one resolved, owned).
	 */
	int changelog;
	const char *command;
	char *subject_schema;
	char *subject_name;
	/*
	 * lock_hold_ms is only known at the commit, after the LOCK's row was
	 * written: the open transaction's LOCK rows wait here (owned) for it.
	 * changelog_hold: this role may fill it in (UPDATE on the column).
	 */
	bool changelog_hold;
	HeldLock *held_locks;
	int nheld_locks;
	int held_locks_size;
} PgConn;

/*
 * Connects with a libpq connection string or URI (NULL: PG* environment,
 * service file and .pgpass as libpq resolves them).  Sets up the session the
 * way pgpart relies on: UTC time zone (boundaries print the same whoever runs
 * it), application_name, no statement timeout.
 */
bool pgc_connect(PgConn *pc, const char *conninfo, bool dry_run, PgpError *err);
/*
 * The same with a connect_timeout (seconds) unless the conninfo sets its own:
 * for work done on behalf of someone waiting, such as a metrics scrape.
 */
bool pgc_connect_bounded(PgConn *pc, const char *conninfo, int connect_timeout_s, PgpError *err);
void pgc_close(PgConn *pc);

/*
 * Runs a statement that reads (or that must run even in --dry-run).  Returns
 * the result on success (caller PQclear()s it) or NULL with err filled from
 * the server's message, detail, hint and SQLSTATE.
 */
PGresult *pgc_query(PgConn *pc, const char *sql, int nparams, const char *const *params,
					PgpError *err);
/*
 * pgc_query for a change whose result the caller needs (rows moved): recorded
 * in the change log like pgc_change; the caller handles --dry-run itself.
 */
PGresult *pgc_query_change(PgConn *pc, const char *sql, int nparams, const char *const *params,
						   PgpError *err);
/* like pgc_query for statements whose result is not needed */
bool pgc_exec(PgConn *pc, const char *sql, int nparams, const char *const *params,
			  PgpError *err);
/*
 * A statement that changes something: in --dry-run mode it is printed to
 * stdout (with its parameters substituted as literals) instead of run.
 */
/*
 * Ends a COPY ... TO STDOUT whose rows are no longer wanted: the statement
 * is cancelled and the connection drained, ready for the next one.
 */
void pgc_copy_abandon(PgConn *pc);
/* --dry-run: a comment among the printed statements, for a step that is not SQL */
void pgc_dry_run_note(PgConn *pc, const char *note);
bool pgc_change(PgConn *pc, const char *sql, int nparams, const char *const *params,
				PgpError *err);
/*
 * pgc_change of a statement that carries a secret (a user mapping's
 * password): sql runs, shown stands for it everywhere pgpart writes a
 * statement (--dry-run, -v -v, the change log), and an error of the server
 * is reported without the statement's text.
 */
bool pgc_change_secret(PgConn *pc, const char *sql, const char *shown, PgpError *err);
/*
 * COMMIT of a transaction that may have taken a LOCK (pgc_change): the only
 * way pgpart commits, so that each LOCK row gets its lock_hold_ms in the
 * transaction, just before the COMMIT is sent.
 */
bool pgc_commit(PgConn *pc, PgpError *err);

/*
 * For clean-up whose failure changes nothing for the caller (a ROLLBACK after
 * an error, releasing a lock the session end releases anyway): runs the
 * statement and drops its error, so that the error the caller reports stays
 * the first one.
 */
void pgc_exec_quiet(PgConn *pc, const char *sql, int nparams, const char *const *params);
/*
 * For DDL the catalog writes for us: runs the query (a read, so also in
 * --dry-run), then each row's first column, in row order, as a change
 * (pgc_change); stops at the first that fails.
 */
bool pgc_change_each(PgConn *pc, const char *sql, int nparams, const char *const *params,
					 PgpError *err);

/* first column of the first row as a malloc'd string (NULL if SQL NULL/no row) */
bool pgc_query_value(PgConn *pc, const char *sql, int nparams, const char *const *params,
					 char **value, PgpError *err);

/* quoted identifier / literal appended to sb, escaped for this connection */
void pgc_append_ident(PgConn *pc, StrBuf *sb, const char *ident);
void pgc_append_literal(PgConn *pc, StrBuf *sb, const char *value);
/* "schema"."name" */
void pgc_append_qualified(PgConn *pc, StrBuf *sb, const char *schema, const char *name);
/* the same as malloc'd strings (caller frees) */
char *pgc_quote_ident(PgConn *pc, const char *ident);
char *pgc_quote_qualified(PgConn *pc, const char *schema, const char *name);

/* SQLSTATEs pgpart reacts to */
#define SQLSTATE_LOCK_NOT_AVAILABLE "55P03"
#define SQLSTATE_DEADLOCK_DETECTED "40P01"
#define SQLSTATE_SERIALIZATION_FAILURE "40001"
#define SQLSTATE_QUERY_CANCELED "57014"
#define SQLSTATE_INVALID_PARAMETER_VALUE "22023"
#define SQLSTATE_CHECK_VIOLATION "23514"
#define SQLSTATE_DUPLICATE_OBJECT "42710"

bool pgc_error_is_retryable_lock(const PgpError *err);

#endif
