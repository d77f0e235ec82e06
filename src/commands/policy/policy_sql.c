/*
 * policy_sql.c - every statement of pgpart policy and of maintain's tier
 * step, in one place to audit.  The policy's ages and URL are values ($n);
 * the partition a retention drop removes is a quoted identifier from the
 * catalog.  Statements that change something go through pgc_change, so
 * --dry-run prints them instead.
 */
#include "commands/policy/policy_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static char *
dup_or_null(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : pg_xstrdup(PQgetvalue(res, 0, col));
}

/* policy.h declares it: the stored policy is one query and its row */
bool
policy_load(PgConn *pc, RelOid parent, TierPolicyRow *out, bool *has, PgpError *err)
{
	PGresult *res;

	memset(out, 0, sizeof(*out));
	res = catalog_oid_query(pc,
							"SELECT warm_after, warm_tablespace, archive_after, archive_to, drop_after, "
							"drop_unarchived, allow_insecure_endpoint, remote_after, remote_server "
							"FROM pgpart.tier_policy "
							"WHERE parent_table = $1::pg_catalog.oid",
							parent, err);
	if (res == NULL)
		return false;
	*has = PQntuples(res) > 0;
	if (*has)
	{
		out->warm_after = dup_or_null(res, 0);
		out->warm_tablespace = dup_or_null(res, 1);
		out->archive_after = dup_or_null(res, 2);
		out->archive_to = dup_or_null(res, 3);
		out->drop_after = dup_or_null(res, 4);
		out->drop_unarchived = PQgetvalue(res, 0, 5)[0] == 't';
		out->allow_insecure_endpoint = PQgetvalue(res, 0, 6)[0] == 't';
		out->remote_after = dup_or_null(res, 7);
		out->remote_server = dup_or_null(res, 8);
	}
	PQclear(res);
	return true;
}

bool
policy_sql_clear(PgConn *pc, RelOid parent, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};

	snprintf(oid, sizeof(oid), "%u", parent);
	return pgc_change(pc, "DELETE FROM pgpart.tier_policy WHERE parent_table = $1::pg_catalog.oid",
					  1, params, err);
}

bool
policy_sql_store(PgConn *pc, RelOid parent, const TierPolicyRow *row, PgpError *err)
{
	char oid[16];
	const char *params[10] = {oid,
							 row->warm_after,
							 row->warm_tablespace,
							 row->archive_after,
							 row->archive_to,
							 row->drop_after,
							 row->drop_unarchived ? "true" : "false",
							 row->allow_insecure_endpoint ? "true" : "false",
							 row->remote_after,
							 row->remote_server};

	snprintf(oid, sizeof(oid), "%u", parent);
	return pgc_change(pc,
					  "INSERT INTO pgpart.tier_policy (parent_table, warm_after, warm_tablespace, "
					  "archive_after, archive_to, drop_after, drop_unarchived, "
					  "allow_insecure_endpoint, remote_after, remote_server) "
					  "VALUES ($1::pg_catalog.oid, $2, $3, $4, $5, $6, $7::boolean, $8::boolean, "
					  "$9, $10) "
					  "ON CONFLICT (parent_table) DO UPDATE SET warm_after = EXCLUDED.warm_after, "
					  "warm_tablespace = EXCLUDED.warm_tablespace, "
					  "archive_after = EXCLUDED.archive_after, archive_to = EXCLUDED.archive_to, "
					  "drop_after = EXCLUDED.drop_after, "
					  "drop_unarchived = EXCLUDED.drop_unarchived, "
					  "allow_insecure_endpoint = EXCLUDED.allow_insecure_endpoint, "
					  "remote_after = EXCLUDED.remote_after, remote_server = EXCLUDED.remote_server, "
					  "updated_at = pg_catalog.now()",
					  10, params, err);
}

bool
policy_sql_tablespace_exists(PgConn *pc, const char *name, bool *exists, PgpError *err)
{
	const char *params[1] = {name};
	char *v = NULL;

	if (!pgc_query_value(pc, "SELECT spcname FROM pg_catalog.pg_tablespace WHERE spcname = $1", 1,
						 params, &v, err))
		return false;
	*exists = v != NULL;
	free(v);
	return true;
}

bool
policy_sql_drop_partition(PgConn *pc, const PartitionInfo *p, bool foreign, PgpError *err)
{
	char *q = pgc_quote_qualified(pc, p->schema, p->name);
	char *sql = pg_xasprintf("DROP %sTABLE %s", foreign ? "FOREIGN " : "", q);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	free(q);
	return ok;
}

bool
policy_sql_log_drop(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p, PgpError *err)
{
	const char *params[6] = {cfg->parent_schema, cfg->parent_name, p->name,
							 p->lo_text, p->hi_text, p->schema};

	return pgc_change(pc,
					  "INSERT INTO pgpart.retention_log (parent_schema, parent_name, "
					  "partition_name, lo, hi, rows, archive_job) "
					  "SELECT $1, $2, $3, $4, $5, j.rows, j.id FROM (SELECT 1) one "
					  "LEFT JOIN LATERAL (SELECT id, rows FROM pgpart.archive_job "
					  "  WHERE partition_schema = $6 AND partition_name = $3 "
					  "  AND phase = 'archived' AND foreign_table ORDER BY id DESC LIMIT 1) j "
					  "ON true",
					  6, params, err);
}

bool
policy_sql_log_remote_drop(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p,
						   const char *rows, PgpError *err)
{
	const char *params[6] = {cfg->parent_schema, cfg->parent_name, p->name,
							 p->lo_text, p->hi_text, rows};

	return pgc_change(pc,
					  "INSERT INTO pgpart.retention_log (parent_schema, parent_name, "
					  "partition_name, lo, hi, rows) VALUES ($1, $2, $3, $4, $5, $6::bigint)",
					  6, params, err);
}

bool
policy_sql_log_archived_drop(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p,
							 PgpError *err)
{
	const char *params[4] = {cfg->parent_schema, cfg->parent_name, p->schema, p->name};

	return pgc_change(pc,
					  "INSERT INTO pgpart.retention_log (parent_schema, parent_name, partition_name, "
					  "lo, hi, rows, archive_job) "
					  "SELECT $1, $2, j.partition_name, j.lo, j.hi, j.rows, j.id "
					  "FROM pgpart.archive_job j WHERE j.partition_schema = $3 "
					  "AND j.partition_name = $4 AND j.phase = 'archived' "
					  "ORDER BY j.id DESC LIMIT 1",
					  4, params, err);
}
