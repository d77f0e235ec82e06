/*
 * switch_sql.h - the statements of the transactions that trade a table and
 * its partitioned copy: switch (the copy takes the name, the old table keeps
 * receiving every write through the reverse triggers), rollback after switch
 * (the same, backwards), rollback before switch (the copy dropped) and
 * finish (the triggers dropped, then the old table in its own transaction).
 * In one file so that what one switch transaction does can be read, and its
 * locks checked, in one place; migrate.c decides when each one runs.
 */
#ifndef PGPART_COMMANDS_MIGRATE_SWITCH_SQL_H
#define PGPART_COMMANDS_MIGRATE_SWITCH_SQL_H

#include "commands/migrate/migration_sql.h"

/*
 * LOCK TABLE first_q, second_q IN ACCESS EXCLUSIVE MODE (second_q NULL: only
 * first_q).  The order is the one writers reach them in (the table they
 * write, then the one their trigger writes), or the lock waits on a writer
 * that waits on it.
 */
bool switch_lock_both(PgConn *pc, const char *first_q, const char *second_q, PgpError *err);

/*
 * switch, under switch_lock_both: identity positions and owned sequences go
 * to the shadow, indexes and identity sequences trade names, the tables trade
 * names (source_q and shadow_q: their names before), forward triggers are
 * dropped and reverse ones created on the new table.
 */
bool switch_swap_forward(PgConn *pc, const Migration *m, const char *source_q,
						 const char *shadow_q, PgpError *err);
/* the same backwards (rollback after switch), and the table's part_config row removed */
bool switch_swap_back(PgConn *pc, const Migration *m, PgpError *err);
/* rollback before switch: the forward triggers, the copy and the trigger functions dropped */
bool switch_drop_copy(PgConn *pc, const Migration *m, const char *source_q, const char *shadow_q,
					  PgpError *err);
/* finish: the reverse triggers and the trigger functions dropped */
bool switch_finish(PgConn *pc, const Migration *m, PgpError *err);
/* after finish, alone in its transaction: DROP TABLE IF EXISTS the old table (ACCESS EXCLUSIVE) */
bool switch_drop_old(PgConn *pc, const char *old_q, PgpError *err);

/*
 * Who holds locks on the two tables now, for the error message: sessions
 * and, easy to forget because no session shows them, prepared transactions.
 * NULL when nobody does or it cannot be read.
 */
char *switch_lock_holders(PgConn *pc, RelOid source, RelOid shadow);

#endif
