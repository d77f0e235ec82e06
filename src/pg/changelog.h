/*
 * changelog.h - the record of every change pgpart makes (pgpart.change_log,
 * schema version 8): each DDL statement, lock and statement that moves rows
 * of a user's table that goes through pgc_change, written in the transaction
 * of the change, so a change that rolled back leaves no record, and one that
 * ran outside a transaction (CREATE INDEX CONCURRENTLY) is recorded right
 * after it succeeded.  --dry-run runs nothing and records nothing.
 *
 * A LOCK row's lock_hold_ms (schema version 9), the time from the lock
 * granted to the commit, is filled in by pgc_commit, in the transaction:
 * one UPDATE just before the COMMIT, and only in a transaction that took a
 * LOCK.  A role that may insert but not update the log leaves it NULL.
 */
#ifndef PGPART_PG_CHANGELOG_H
#define PGPART_PG_CHANGELOG_H

#include "pg/conn.h"

/* pc->changelog values */
#define CHANGELOG_OFF 0			 /* no pgpart.change_log (before init, or an older schema) */
#define CHANGELOG_ON 1			 /* recording */
#define CHANGELOG_NO_RIGHT 2	 /* the table is there, this role may not insert: warn once */
#define CHANGELOG_WARNED 3

/*
 * the connection's first query reads these two columns (conn.c): whether
 * this role may insert into the log (NULL: no log), and whether it may fill
 * in lock_hold_ms (false without the column)
 */
extern const char changelog_probe_sql[];
void changelog_set_state(PgConn *pc, const char *insert_value, const char *hold_value);
/* after sql succeeded with res (pgc_change); the insert's failure is the change's */
bool changelog_record(PgConn *pc, const char *sql, const PGresult *res, double duration_ms,
					  PgpError *err);
/*
 * The same for a statement that ended earlier, outside any transaction,
 * whose success only counts once the step after it commits (the archive's
 * COPY of a partition counts with the job's "uploaded"): recorded in that
 * step's transaction.  tag is its command tag, rows what it reported (NULL:
 * none).
 */
bool changelog_record_ran(PgConn *pc, const char *sql, const char *tag, const char *rows,
						  double duration_ms, PgpError *err);
/* before the COMMIT (pgc_commit): lock_hold_ms of the transaction's LOCK rows */
bool changelog_record_holds(PgConn *pc, PgpError *err);
/* the transaction ended without it: its LOCK rows are gone with it */
void changelog_forget_holds(PgConn *pc);
/* a change of pgpart's own rows that is itself worth a record (pruning this log) */
bool changelog_record_own(PgConn *pc, const char *sql, const PGresult *res, PgpError *err);
/* the table the command works on: the first one it resolved (pg/catalog.c) */
void changelog_subject(PgConn *pc, const char *schema, const char *name);
/* from now on the table is this one (a managed table loaded for maintain or run) */
void changelog_work_on(PgConn *pc, const char *schema, const char *name);

#endif
