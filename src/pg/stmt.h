/*
 * stmt.h - small statement helpers the commands' SQL layers share: a change
 * whose text is formatted or built in a StrBuf, and a one-row read of a
 * number, or of a name and its yes/no facts.  Changes go through pgc_change
 * (so --dry-run prints them); the text must already carry its identifiers
 * quoted.
 */
#ifndef PGPART_PG_STMT_H
#define PGPART_PG_STMT_H

#include <stdarg.h>
#include <stdbool.h>

#include "pg/catalog.h"
#include "pg/conn.h"

/* pgc_change of printf-formatted text */
bool stmt_change_f(PgConn *pc, PgpError *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool stmt_change_v(PgConn *pc, PgpError *err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* pgc_change of sql->data; sql is emptied, ready for the next statement */
bool stmt_change_sb(PgConn *pc, StrBuf *sql, PgpError *err);
/* pgc_change of each statement of the list, in order; stops at the first that fails */
bool stmt_change_list(PgConn *pc, const NameList *stmts, PgpError *err);

/* the first column of the first row as a number: 0 when it is NULL or there is no row */
bool stmt_query_number(PgConn *pc, const char *sql, int nparams, const char *const *params,
					   long long *n, PgpError *err);

/* the same for a yes/no answer: false when it is NULL or there is no row */
bool stmt_query_bool(PgConn *pc, const char *sql, int nparams, const char *const *params,
					 bool *yes, PgpError *err);

/*
 * The first row of a query: column 0 as a malloc'd string into *text, and
 * columns 1..nflags as booleans into flags[0..nflags-1].  No row: *text is
 * NULL and every flag false.
 */
bool stmt_text_and_flags(PgConn *pc, const char *sql, int nparams, const char *const *params,
						 char **text, int nflags, bool *flags, PgpError *err);

/*
 * A savepoint of the caller's transaction, for one step that may fail
 * without failing the rest.  name is one of pgpart's own constants, never
 * text from outside.
 */
typedef enum SavepointStep
{
	SAVEPOINT_SET,
	SAVEPOINT_RELEASE,
	SAVEPOINT_ROLLBACK /* to the savepoint, which stays set */
} SavepointStep;
bool stmt_savepoint(PgConn *pc, SavepointStep step, const char *name, PgpError *err);

/* BEGIN and COMMIT of a transaction that changes things (printed under --dry-run) */
bool stmt_begin(PgConn *pc, PgpError *err);
bool stmt_commit(PgConn *pc, PgpError *err);

#endif
