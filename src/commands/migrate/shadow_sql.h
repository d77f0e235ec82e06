/*
 * shadow_sql.h - the partitioned copy ("shadow") of a table under online
 * migration: the statements that give it the source's keys, indexes, foreign
 * keys, comment, owner and grants (columns, defaults, NOT NULL, checks,
 * identity and generated columns come from CREATE TABLE ... LIKE), and the
 * renames that swap the two at switch and back at rollback.
 *
 * Index names are unique per schema, so the shadow's indexes are created as
 * NAME_pgpart_new and trade names with the source's at switch; derived names
 * go through naming_derive(), so they fit in 63 bytes and never collide.
 */
#ifndef PGPART_PG_SHADOW_H
#define PGPART_PG_SHADOW_H

#include "pg/catalog.h"

/*
 * stmts: what to run after CREATE TABLE shadow (LIKE source ...).
 * problems: why the source cannot be migrated as asked (then stmts is
 * incomplete).  changes: how keys are changed (--extend-keys), for the plan.
 */
bool shadow_statements(PgConn *pc, RelOid source, const char *schema, const char *shadow_name,
					   const char *part_column, bool extend_keys, NameList *stmts,
					   NameList *problems, NameList *changes, PgpError *err);

/*
 * Swaps index names between the table that holds the original names (from)
 * and the one whose indexes carry suffix_to (to): from's X becomes
 * X_<suffix_from>, to's X_<suffix_to> becomes X.
 */
bool shadow_swap_index_names(PgConn *pc, RelOid from, RelOid to, const char *suffix_from,
							 const char *suffix_to, PgpError *err);

/*
 * The identity sequences trade names like the indexes: from's X becomes
 * X_<suffix_from>, to's takes X (run after the tables were renamed or not:
 * it works by column).
 */
bool shadow_swap_identity_sequence_names(PgConn *pc, RelOid from, RelOid to,
										 const char *suffix_from, PgpError *err);

/* identity columns of to continue where from's sequences are */
bool shadow_copy_identity_positions(PgConn *pc, RelOid from, RelOid to, PgpError *err);

/* sequences owned by from's columns (serial) become owned by to's (or a DROP takes them) */
bool shadow_move_owned_sequences(PgConn *pc, RelOid from, RelOid to, PgpError *err);

#endif
