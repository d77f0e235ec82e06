/*
 * vacuum_sql.c - the statements of "pgpart vacuum|analyze|reindex": see
 * vacuum_sql.h.  The partition list is read from pg_inherits and pg_class
 * only, so that listing never waits behind a session holding a partition.
 */
#include "commands/vacuum/vacuum_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/catalog.h"
#include "pg/stmt.h"
#include "util/mem.h"

/*
 * The partitions under $1 (an OID), at any depth, read from pg_inherits:
 * pg_partition_tree() would lock each of them and wait behind a session that
 * holds one.
 */
#define LEAVES_SQL                                                                           \
	"(WITH RECURSIVE tree(relid) AS ("                                                       \
	"  SELECT h.inhrelid FROM pg_catalog.pg_inherits h WHERE h.inhparent = $1::pg_catalog.oid " \
	"  UNION ALL SELECT h.inhrelid FROM pg_catalog.pg_inherits h JOIN tree ON h.inhparent = tree.relid) " \
	" SELECT relid FROM tree)"

bool
vacuum_session_lock_timeout(PgConn *pc, int ms, PgpError *err)
{
	char timeout[32];
	const char *params[1] = {timeout};

	snprintf(timeout, sizeof(timeout), "%dms", ms);
	return pgc_exec(pc, "SELECT pg_catalog.set_config('lock_timeout', $1, false)", 1, params, err);
}

/* leaf partitions with their activity; only those overlapping [from, to) when given */
bool
vacuum_load_partitions(PgConn *pc, RelOid parent, const ParallelOptions *opt,
					   ParallelResult *res, PartitionActivity **acts, char ***qualified,
					   PgpError *err)
{
	char oid[16];
	const char *params[3] = {oid, opt->from, opt->to};
	PGresult *r;
	int i;

	snprintf(oid, sizeof(oid), "%u", parent);
	r = pgc_query(
		pc,
		/*
		 * Sizes from the catalog's page counts (kept by VACUUM, ANALYZE and
		 * autovacuum), not pg_total_relation_size(): that one opens each
		 * partition and would wait, without a timeout, behind a session that
		 * holds a lock on it.  This query takes no lock on any partition.
		 */
		"SELECT n.nspname, c.relname, "
		"  (c.relpages::pg_catalog.int8 + COALESCE((SELECT pg_catalog.sum(ic.relpages) "
		"     FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"     WHERE i.indrelid = c.oid), 0) + COALESCE((SELECT tc.relpages "
		"     FROM pg_catalog.pg_class tc WHERE tc.oid = c.reltoastrelid), 0)) "
		"   * pg_catalog.current_setting('block_size')::pg_catalog.int8, "
		"  COALESCE(s.n_live_tup, 0), COALESCE(s.n_dead_tup, 0), "
		"  COALESCE(s.n_mod_since_analyze, 0), COALESCE(s.n_tup_upd + s.n_tup_del, 0), "
		"  pg_catalog.age(c.relfrozenxid), "
		"  (s.last_vacuum IS NULL AND s.last_autovacuum IS NULL), "
		"  (s.last_analyze IS NULL AND s.last_autoanalyze IS NULL), c.oid "
		"FROM " LEAVES_SQL " t "
		"JOIN pg_catalog.pg_class c ON c.oid = t.relid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid "
		"WHERE c.relkind = 'r' AND ($2::text IS NULL OR EXISTS ("
		/* the partition's bounds, as FOR VALUES FROM (lo) TO (hi) prints them */
		"  SELECT FROM pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), "
		"    'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)') m "
		"  WHERE m[1]::pg_catalog.timestamptz < $3::pg_catalog.timestamptz "
		"    AND m[2]::pg_catalog.timestamptz > $2::pg_catalog.timestamptz)) "
		"ORDER BY 3 DESC, c.relname",
		3, params, err);
	if (r == NULL)
		return false;
	res->n = PQntuples(r);
	res->items = pg_xcalloc((size_t) res->n + 1, sizeof(PartitionOutcome));
	*acts = pg_xcalloc((size_t) res->n + 1, sizeof(PartitionActivity));
	*qualified = pg_xcalloc((size_t) res->n + 1, sizeof(char *));
	for (i = 0; i < res->n; i++)
	{
		PartitionActivity *a = &(*acts)[i];

		res->items[i].oid = (RelOid) strtoul(PQgetvalue(r, i, 10), NULL, 10);
		res->items[i].name = pg_xstrdup(PQgetvalue(r, i, 1));
		res->items[i].bytes = atoll(PQgetvalue(r, i, 2));
		(*qualified)[i] = pgc_quote_qualified(pc, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
		a->bytes = res->items[i].bytes;
		a->live_rows = atoll(PQgetvalue(r, i, 3));
		a->dead_rows = atoll(PQgetvalue(r, i, 4));
		a->modified_since_analyze = atoll(PQgetvalue(r, i, 5));
		a->updated_or_deleted = atoll(PQgetvalue(r, i, 6));
		a->frozen_xid_age = atoll(PQgetvalue(r, i, 7));
		a->never_vacuumed = PQgetvalue(r, i, 8)[0] == 't';
		a->never_analyzed = PQgetvalue(r, i, 9)[0] == 't';
	}
	PQclear(r);
	return true;
}

PGresult *
vacuum_reindex_leftovers(PgConn *pc, RelOid parent, PgpError *err)
{
	return catalog_oid_query(pc,
						"SELECT n.nspname, ic.relname FROM " LEAVES_SQL " t "
						"JOIN pg_catalog.pg_class c ON c.oid = t.relid "
						/* REINDEX TABLE also rebuilds the index of the partition's TOAST table */
						"JOIN pg_catalog.pg_index i ON i.indrelid IN (c.oid, c.reltoastrelid) "
						"JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
						"JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
						"WHERE NOT i.indisvalid AND ic.relname ~ '_cc(new|old)[0-9]*$' "
						"ORDER BY 1, 2",
						parent, err);
}

bool
vacuum_drop_index(PgConn *pc, const char *schema, const char *name, PgpError *err)
{
	char *q = pgc_quote_qualified(pc, schema, name);
	char *sql = pg_xasprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", q);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	free(q);
	return ok;
}

bool
vacuum_has_run_log(PgConn *pc, bool *yes, PgpError *err)
{
	return stmt_query_bool(pc, "SELECT pg_catalog.to_regclass('pgpart.run_log') IS NOT NULL", 0,
						   NULL, yes, err);
}

PGresult *
vacuum_reindex_baselines(PgConn *pc, RelOid parent, PgpError *err)
{
	return catalog_oid_query(pc,
						"SELECT b.key, b.value FROM (SELECT l.summary FROM pgpart.run_log l "
						"  WHERE l.parent_table = $1::pg_catalog.oid AND l.command = 'reindex' "
						"  AND l.summary ? 'change_baselines' ORDER BY l.finished_at DESC LIMIT 1) x, "
						"pg_catalog.jsonb_each_text(x.summary->'change_baselines') b",
						parent, err);
}

char *
vacuum_statement(MaintAction action, const char *qualified)
{
	/* CONCURRENTLY: writers and readers of the partition are not blocked while it rebuilds */
	return pg_xasprintf(action == MAINT_VACUUM	  ? "VACUUM %s"
						: action == MAINT_ANALYZE ? "ANALYZE %s"
												  : "REINDEX TABLE CONCURRENTLY %s",
						qualified);
}
