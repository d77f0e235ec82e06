/*
 * parity_sql.h - the parts of a table's definition that an online migration
 * carries from the plain table to its partitioned copy beyond columns, keys
 * and indexes (shadow.h): column privileges, row-level security, replica
 * identity USING INDEX, comments on indexes and constraints, and the owner
 * and per-partition settings of the partitions, all given to the copy at
 * start; user triggers and publication membership, which are handed over
 * inside the switch transaction and back at rollback; and the check, at
 * switch, that whatever start copied has not changed on the table since.
 *
 * User triggers never exist on the copy before switch: the copy is written
 * by pgpart (backfill, mirror trigger), and a user trigger there would run
 * the application's side effects a second time.  After switch the reverse
 * trigger writes every change into the old table, so its user triggers are
 * disabled in the same transaction, for the same reason.
 */
#ifndef PGPART_COMMANDS_MIGRATE_PARITY_SQL_H
#define PGPART_COMMANDS_MIGRATE_PARITY_SQL_H

#include "pg/catalog.h"

/*
 * Whether a blocker or warning of clone_capture() (clone.h, written for
 * "create", which copies none of these) is something migrate carries over.
 */
bool parity_carried_by_migrate(const char *clone_message);

/*
 * For the shadow (qualified, quoted) of source, after its keys and indexes
 * (shadow_statements): appends statements to stmts, reasons to refuse to
 * problems, and what will behave differently after switch to warnings.
 * part_column is unquoted; extend_keys as in shadow_statements.
 */
bool parity_start_statements(PgConn *pc, RelOid source, const char *shadow_q,
							 const char *part_column, bool extend_keys, NameList *stmts,
							 NameList *problems, NameList *warnings, PgpError *err);

/*
 * Once the shadow's partitions exist: their owner becomes the source's, and
 * they get its replica identity index (USING INDEX) and TOAST storage
 * parameters.  (Heap storage parameters, replica identity FULL or NOTHING
 * and statistics targets are set where partitions are made: partition.c.)
 */
bool parity_partition_settings(PgConn *pc, RelOid source, const char *shadow_q, PgpError *err);

/*
 * At switch, under the locks: what start copied from source to copy must be
 * unchanged on source, or switch would silently lose the change.  Fails with
 * the differences, naming both sides.
 */
bool parity_check_unchanged(PgConn *pc, RelOid source, RelOid copy, PgpError *err);

/*
 * from's user triggers are created on to (by name, where to lacks them) with
 * from's enabled state, then disabled on from (switch) or dropped from it
 * (rollback after switch, drop_from).
 */
bool parity_hand_over_triggers(PgConn *pc, RelOid from, RelOid to, bool drop_from,
							   PgpError *err);

/*
 * Every publication that lists from (with its column list and row filter)
 * lists to instead.  A publication that publishes partitions under their
 * own names is logged as a warning.
 */
bool parity_hand_over_publications(PgConn *pc, RelOid from, RelOid to, PgpError *err);

#endif
