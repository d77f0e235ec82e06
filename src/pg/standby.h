/*
 * standby.h - is the server a hot standby?  pgpart's read-only commands run
 * on one as they do on the primary; everything that changes something is
 * refused there, once, before it changes anything (cli_run_connected), and
 * "pgpart run" idles on one until it is promoted (scheduler.c).
 */
#ifndef PGPART_PG_STANDBY_H
#define PGPART_PG_STANDBY_H

#include <stdbool.h>

#include "pg/conn.h"

/* *yes: the server is in recovery (pg_is_in_recovery()), a standby */
bool standby_in_recovery(PgConn *pc, bool *yes, PgpError *err);

/*
 * Fails with EXIT_STANDBY, saying that command ("migrate start") changes
 * things and must run against the primary, when the server is a standby.
 */
bool standby_refuse(PgConn *pc, const char *command, PgpError *err);

#endif
