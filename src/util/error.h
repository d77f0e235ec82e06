/*
 * error.h - the error a library function hands back to its caller.
 *
 * Functions below the CLI never print or exit: they return false and fill a
 * caller-owned PgpError with what failed (message), the facts behind it
 * (detail), what to do about it (hint), the server's SQLSTATE when the server
 * said no, and the exit code the CLI should end with.
 */
#ifndef PGPART_UTIL_ERROR_H
#define PGPART_UTIL_ERROR_H

#include <stdbool.h>

/* Exit codes, documented in README.md ("Exit codes"). */
#define EXIT_OK 0
#define EXIT_RUNTIME 1 /* the operation failed: server error, lock not granted, I/O */
#define EXIT_USAGE 2   /* bad command line or input that cannot work */
#define EXIT_CHECK 3   /* a check or verification found a problem */
#define EXIT_BUSY 4    /* another pgpart is working on the table (pg/worklock.c); nothing done */
#define EXIT_STANDBY 5 /* the server is a standby and the command changes things (pg/standby.c); nothing done */

/*
 * What kind of failure it was, for the callers that act on it: decisions are
 * made on this (or the SQLSTATE), never on the wording, which is for people.
 */
typedef enum ErrKind
{
	ERR_KIND_OTHER = 0,
	ERR_KIND_LOCKS_NOT_GRANTED, /* lock_timeout hit on every attempt (pg/lock.c) */
	ERR_KIND_BUSY /* another pgpart holds the table's work lock (pg/worklock.c) */
} ErrKind;

typedef struct PgpError
{
	char *message;
	char *detail;
	char *hint;
	char sqlstate[6];
	ErrKind kind;
	int exit_code;
} PgpError;

void err_init(PgpError *e);
void err_clear(PgpError *e);
bool err_is_set(const PgpError *e);
/* sets the message (replacing any earlier error) and the exit code */
void err_set(PgpError *e, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void err_detail(PgpError *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_hint(PgpError *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* puts "context: " in front of the message, keeping detail and hint */
void err_prefix(PgpError *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
