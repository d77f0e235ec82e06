/*
 * scheduler_sql.h - the statements "pgpart run" sends on its lock
 * connection: the leader lock (an EXCLUSIVE lock on pgpart.scheduler_leader,
 * held in a transaction kept open while this instance leads), the session
 * set-up that keeps that transaction alive, and who else holds the lock.
 * Nothing else ever runs on that connection.
 */
#ifndef PGPART_COMMANDS_SCHEDULER_SQL_H
#define PGPART_COMMANDS_SCHEDULER_SQL_H

#include "pg/conn.h"

/* application_name of the lock session: how one pgpart instance tells another from a squatter */
bool leader_session_setup(PgConn *lc, PgpError *err);
/* BEGIN (READ COMMITTED: no snapshot is kept between statements) */
bool leader_begin(PgConn *lc, PgpError *err);
/* the leader lock, NOWAIT: err->sqlstate SQLSTATE_LOCK_NOT_AVAILABLE when another holds it */
bool leader_lock(PgConn *lc, PgpError *err);
/* ends the lock transaction, errors ignored (the connection may be gone) */
void leader_rollback(PgConn *lc);
/* a round trip on the lock session: false when the connection is gone */
bool leader_ping(PgConn *lc, PgpError *err);
/*
 * Who holds the lock when NOWAIT failed: *who NULL when every holder is a
 * pgpart instance (or none is left: it was just released), else one line
 * naming each other holder.
 */
bool leader_lock_holders(PgConn *lc, char **who, PgpError *err);

#endif
