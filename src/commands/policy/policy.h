/*
 * policy.h - pgpart policy: a managed table's tier policy (when partitions
 * move to a warm tablespace, go to an archive, are dropped), stored in
 * pgpart.tier_policy, and maintain's tier step that carries it out
 * (policy.c; policy_sql.c holds its statements).
 */
#ifndef PGPART_COMMANDS_POLICY_POLICY_H
#define PGPART_COMMANDS_POLICY_POLICY_H

#include "pg/lock.h"
#include "pg/catalog.h"

typedef struct PolicyOptions
{
	const char *table;
	const char *warm_after, *warm_tablespace;
	const char *archive_after, *archive_to;
	const char *drop_after;
	const char *remote_after, *remote_server;
	bool drop_unarchived;
	bool allow_insecure_endpoint; /* archives may go to a plain-http S3 endpoint */
	bool clear;					  /* remove the policy */
} PolicyOptions;

typedef struct TierPolicyRow
{
	char *warm_after, *warm_tablespace, *archive_after, *archive_to, *drop_after;
	char *remote_after, *remote_server;
	bool drop_unarchived;
	bool allow_insecure_endpoint; /* given explicitly to "pgpart policy" */
} TierPolicyRow;

void tierpolicyrow_free(TierPolicyRow *p);
/* set (or with no step options, show) the policy of a managed table */
bool ops_policy(PgConn *pc, const PolicyOptions *opt, TierPolicyRow *out, bool *has,
				PgpError *err);
/* the stored policy (*has false when none) */
bool policy_load(PgConn *pc, RelOid parent, TierPolicyRow *out, bool *has, PgpError *err);

/*
 * maintain's tier step for one table: warm moves, archives, retention drops
 * that are due.  Each action taken (or, in --dry-run, planned) adds a line to
 * notes; a failing action stops the step with err.
 */
bool ops_apply_policy(PgConn *pc, RelOid parent, const LockPolicy *lock, NameList *notes,
					  PgpError *err);

#endif
