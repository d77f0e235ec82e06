/*
 * policy_sql.h - the statements of pgpart policy and of maintain's tier step
 * (policy_sql.c): the policy row in pgpart.tier_policy, the retention drop
 * and its record in pgpart.retention_log.
 */
#ifndef PGPART_COMMANDS_POLICY_POLICY_SQL_H
#define PGPART_COMMANDS_POLICY_POLICY_SQL_H

#include "commands/policy/policy.h"
#include "pg/config.h"

/* removes the policy of parent (no row: nothing to do) */
bool policy_sql_clear(PgConn *pc, RelOid parent, PgpError *err);
/* replaces the policy of parent by row, whole */
bool policy_sql_store(PgConn *pc, RelOid parent, const TierPolicyRow *row, PgpError *err);
bool policy_sql_tablespace_exists(PgConn *pc, const char *name, bool *exists, PgpError *err);

/* DROP [FOREIGN] TABLE of a detached-or-not partition: ACCESS EXCLUSIVE on it and the parent */
bool policy_sql_drop_partition(PgConn *pc, const PartitionInfo *p, bool foreign, PgpError *err);
/*
 * The drop of p in pgpart.retention_log; the archive job of a foreign
 * partition (if any) says where its rows are.
 */
bool policy_sql_log_drop(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p,
						 PgpError *err);
/* the drop of a partition on a remote server (rows: as its send counted; NULL: unknown) */
bool policy_sql_log_remote_drop(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p,
								const char *rows, PgpError *err);
/* the drop of an archived partition (archive dropped it), from its archive job */
bool policy_sql_log_archived_drop(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p,
								  PgpError *err);

#endif
