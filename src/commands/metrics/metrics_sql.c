/*
 * metrics_sql.c - the statements "pgpart metrics" (and the endpoint of
 * "pgpart run") send beyond what status reads: outcomes from pgpart's own
 * tables, and the session's time limits.  Only reads; no parameters come
 * from a user.
 */
#include "commands/metrics/metrics_sql.h"

/* run_log's rows with their table's qualified name (n.nspname, c.relname) */
#define RUN_LOG_BY_TABLE                                                                        \
	"FROM pgpart.run_log l "                                                                    \
	"JOIN pg_catalog.pg_class c ON c.oid = l.parent_table "                                     \
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "

static const char *const reads[] = {
	/* one row per table: the summary is the JSON maintain writes (commands/maintain/maintain.c) */
	[METRICS_RUNS] =
		"SELECT n.nspname || '.' || c.relname, "
		"  EXTRACT(epoch FROM pg_catalog.max(l.finished_at) FILTER (WHERE l.ok)), "
		"  (pg_catalog.array_agg((l.summary->>'duration_ms')::float8 / 1000 "
		"     ORDER BY l.finished_at DESC) FILTER (WHERE l.ok))[1], "
		"  (pg_catalog.array_agg(l.ok ORDER BY l.finished_at DESC))[1]::int, "
		"  pg_catalog.count(*) FILTER (WHERE NOT l.ok), pg_catalog.count(*), "
		"  COALESCE(pg_catalog.sum(GREATEST(COALESCE((l.summary->>'lock_attempts')::int, 0) "
		"    - COALESCE((l.summary->>'partitions_created')::int, 0), 0)), 0) "
		RUN_LOG_BY_TABLE
		"WHERE l.command = 'maintain' GROUP BY 1 ORDER BY 1",

	/* per table and command: the writers' wait maintain and migrate recorded (W, in seconds) */
	[METRICS_WRITERS_WAIT] =
		"SELECT n.nspname || '.' || c.relname, l.command, "
		"  (pg_catalog.array_agg((l.summary->>'writers_wait_ms')::float8 / 1000 "
		"     ORDER BY l.finished_at DESC))[1], "
		"  pg_catalog.max((l.summary->>'writers_wait_ms')::float8) / 1000 "
		RUN_LOG_BY_TABLE
		"WHERE l.summary->>'writers_wait_ms' IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",

	/* the newest migration of each table: its phase, rows copied, last progress, 1 if not ended */
	[METRICS_MIGRATIONS] =
		"SELECT DISTINCT ON (table_schema, table_name) table_schema || '.' || table_name, "
		"  phase, rows_copied, EXTRACT(epoch FROM updated_at), "
		"  (phase NOT IN ('finished', 'rolled_back'))::int "
		"FROM pgpart.migration ORDER BY table_schema, table_name, id DESC",

	/*
	 * archive and restore outcomes per table, operation and result
	 * (pgpart.archive_job): count, when the last one ended (not for those in
	 * progress), bytes archived (on the archive rows) and the oldest unfinished
	 */
	[METRICS_ARCHIVE] =
		"SELECT j.parent_schema || '.' || j.parent_name, v.op, v.result, "
		"  pg_catalog.count(*)::text, "
		"  CASE WHEN v.result <> 'in_progress' THEN "
		"    EXTRACT(epoch FROM pg_catalog.max(COALESCE(j.finished_at, j.updated_at))) END, "
		"  CASE WHEN v.op = 'archive' THEN "
		"    pg_catalog.sum(CASE WHEN j.phase = 'archived' THEN j.compressed_bytes END) END, "
		"  EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.min(j.started_at) "
		"    FILTER (WHERE v.result = 'in_progress'))::text "
		"FROM pgpart.archive_job j CROSS JOIN LATERAL (VALUES "
		"  ('archive', CASE WHEN j.phase IN ('archived', 'restored') THEN 'ok' "
		"    WHEN j.phase = 'reattached' THEN 'failed' ELSE 'in_progress' END), "
		"  ('restore', CASE WHEN j.phase = 'restored' THEN 'ok' END)) v(op, result) "
		"WHERE v.result IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",

	/*
	 * per managed table and remote: the foreign partitions (of the table or
	 * of its companion) on pgpart's remote servers, their rows (from the send
	 * that put each there), and the age of the table's remote job that has
	 * not ended (one at most per table)
	 */
	[METRICS_REMOTE] =
		"SELECT x.tbl, x.remote, x.parts, x.nrows, "
		"  CASE WHEN pg_catalog.row_number() OVER (PARTITION BY x.tbl ORDER BY x.remote) = 1 "
		"  THEN (SELECT EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.min(j.started_at))::text "
		"    FROM pgpart.remote_job j WHERE j.parent_table = x.parent_table "
		"    AND j.phase IN ('started', 'copied', 'swapped')) END "
		"FROM (SELECT pn.nspname || '.' || pcl.relname AS tbl, pc.parent_table, "
		"  pg_catalog.substr(s.srvname, pg_catalog.length('pgpart_remote_') + 1) AS remote, "
		"  pg_catalog.count(*)::text AS parts, "
		"  pg_catalog.sum((SELECT j.rows FROM pgpart.remote_job j WHERE j.kind = 'send' "
		"    AND j.phase = 'done' AND j.part_schema = n.nspname AND j.part_name = c.relname "
		"    ORDER BY j.id DESC LIMIT 1))::text AS nrows "
		"FROM pgpart.part_config pc "
		"JOIN pg_catalog.pg_class pcl ON pcl.oid = pc.parent_table "
		"JOIN pg_catalog.pg_namespace pn ON pn.oid = pcl.relnamespace "
		"JOIN pg_catalog.pg_inherits h ON h.inhparent IN (pc.parent_table, pc.foreign_parent) "
		"JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid "
		"JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver "
		"WHERE pg_catalog.starts_with(s.srvname, 'pgpart_remote_') "
		"GROUP BY 1, 2, 3) x ORDER BY 1, 3",
};

PGresult *
metrics_sql_read(PgConn *pc, MetricsRead which, PgpError *err)
{
	return pgc_query(pc, reads[which], 0, NULL, err);
}

/* the collection's session limits (values in ms, as text) */
bool
metrics_sql_set_timeouts(PgConn *pc, const char *lock_ms, const char *stmt_ms, PgpError *err)
{
	const char *params[2] = {lock_ms, stmt_ms};

	return pgc_exec(pc,
					"SELECT pg_catalog.set_config('lock_timeout', $1, false), "
					"pg_catalog.set_config('statement_timeout', $2, false)",
					2, params, err);
}
