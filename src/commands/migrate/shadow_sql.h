/*
 * shadow_sql.h - the partitioned copy ("shadow") of a table under online
 * migration: the statements that give it the source's keys, indexes, foreign
 * keys, comment, owner and grants (columns, defaults, NOT NULL, checks,
 * identity and generated columns come from CREATE TABLE ... LIKE), and what
 * plan and start read from the table first.  The renames that swap the two
 * at switch and back at rollback are in switch_sql.h.
 *
 * Index names are unique per schema, so the shadow's indexes are created as
 * NAME_pgpart_new and trade names with the source's at switch; derived names
 * go through naming_derive(), so they fit in 63 bytes and never collide.
 */
#ifndef PGPART_COMMANDS_MIGRATE_SHADOW_SQL_H
#define PGPART_COMMANDS_MIGRATE_SHADOW_SQL_H

#include "pg/catalog.h"

/*
 * stmts: what to run after CREATE TABLE shadow (LIKE source ...).
 * problems: why the source cannot be migrated as asked (then stmts is
 * incomplete).  changes: how keys are changed (--extend-keys), for the plan.
 */
bool shadow_statements(PgConn *pc, RelOid source, const char *schema, const char *shadow_name,
					   const char *part_column, bool extend_keys, NameList *stmts,
					   NameList *problems, NameList *changes, PgpError *err);

/* the primary key, else the first unique constraint whose columns are all NOT NULL; none: n == 0 */
bool shadow_find_key(PgConn *pc, RelOid table, NameList *key, NameList *types, PgpError *err);

/*
 * The oldest and newest date of column in source_q (NULL: no rows), in
 * time_zone when the column is a timestamptz (zoned).
 */
bool shadow_data_range(PgConn *pc, const char *source_q, const char *column, bool zoned,
					   const char *time_zone, char **min_text, char **max_text, PgpError *err);

/*
 * One row for the plan: column 1 the total size, 2 the identity, generated
 * and serial columns (what happens to each; NULL: none), 3 the foreign keys
 * (NULL: none).  Column 0 is unused.
 */
PGresult *shadow_plan_facts(PgConn *pc, RelOid source, PgpError *err);

/*
 * CREATE TABLE shadow (LIKE source INCLUDING ALL EXCLUDING INDEXES)
 * PARTITION BY RANGE (column), in the source's tablespace (NULL: default).
 * ACCESS SHARE on the source only.
 */
bool shadow_create_table(PgConn *pc, const char *shadow_q, const char *source_q,
						 const char *column, const char *tablespace, PgpError *err);
/* a partitioned table takes no storage parameters: the source's go to each partition */
bool shadow_partition_storage(PgConn *pc, RelOid source, const char *shadow_q, PgpError *err);
/* the OID of shadow_q (0 when it does not exist) */
bool shadow_oid(PgConn *pc, const char *shadow_q, RelOid *oid, PgpError *err);
/* the qualified, quoted name the table shadow has now */
bool shadow_name_of(PgConn *pc, RelOid shadow, char **shadow_q, PgpError *err);

#endif
