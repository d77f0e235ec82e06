/*
 * metrics.c - collects pgpart's Prometheus metrics: the status of every
 * managed table (shared with "pgpart status"), and the outcomes pgpart keeps
 * in its own tables (run_log, migration, archive_job).  Shared by "pgpart
 * metrics" and the endpoint of "pgpart run", so both expose the same families;
 * it only reads, under a short lock_timeout, and prints nothing.
 */
#include "commands/metrics/metrics.h"
#include "commands/metrics/metrics_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/status/status.h"
#include "util/mem.h"

void
ops_metrics_down(PromSet *set)
{
	int f = prom_family(set, "pgpart_up", "gauge",
						"1 if pgpart could read its state from the database at this scrape.");

	prom_add(set, f, 0, 0);
}

static char *
table_label(const char *schema, const char *name)
{
	return pg_xasprintf("%s.%s", schema, name);
}

/* partitions, tiers, future partitions, default partition: from "pgpart status" */
static bool
collect_status(PgConn *pc, PromSet *s, PgpError *err)
{
	StatusResult sr;
	int f_parts = prom_family(s, "pgpart_partitions", "gauge",
							  "Partitions of a managed table (the default partition not counted), "
							  "by storage tier and tablespace.");
	int f_bytes = prom_family(s, "pgpart_tier_bytes", "gauge",
							  "Bytes (heap, TOAST and indexes) of a table's partitions, by tier and "
							  "tablespace.");
	int f_future = prom_family(s, "pgpart_future_partitions", "gauge",
							   "Partitions that start after the current period.");
	int f_premake = prom_family(s, "pgpart_premake", "gauge",
								"Future partitions pgpart is configured to keep.");
	int f_drows = prom_family(s, "pgpart_default_partition_rows", "gauge",
							  "Rows in the default partition (counted up to 1000000).");
	int f_dbytes = prom_family(s, "pgpart_default_partition_bytes", "gauge",
							   "Bytes of the default partition, heap and indexes.");
	int f_default = prom_family(s, "pgpart_default_partition_exists", "gauge",
								"1 if the table has a default partition.");
	int f_warn = prom_family(s, "pgpart_status_warnings", "gauge",
							 "Warnings \"pgpart status\" shows for the table.");
	int f_exists = prom_family(s, "pgpart_table_exists", "gauge",
							   "0 when a configured table was dropped.");
	int f_tables = prom_family(s, "pgpart_managed_tables", "gauge", "Tables managed by pgpart.");
	int i, k;

	if (!ops_status(pc, NULL, &sr, err))
		return false;
	prom_add(s, f_tables, sr.n, 0);
	for (i = 0; i < sr.n; i++)
	{
		const TableStatus *t = &sr.tables[i];
		char *table = table_label(t->schema, t->name);
		/* per tier and tablespace: partitions and bytes, in order of first appearance */
		const char **spc = pg_xcalloc((size_t) t->parts.n + 1, sizeof(char *));
		const char **tier = pg_xcalloc((size_t) t->parts.n + 1, sizeof(char *));
		long long *nparts = pg_xcalloc((size_t) t->parts.n + 1, sizeof(long long));
		long long *bytes = pg_xcalloc((size_t) t->parts.n + 1, sizeof(long long));
		int nspc = 0;
		bool has_default = false;

		prom_add(s, f_exists, t->exists ? 1 : 0, 1, "table", table);
		prom_add(s, f_warn, t->warnings.n, 1, "table", table);
		if (t->exists)
		{
			prom_add(s, f_future, t->future_partitions, 1, "table", table);
			prom_add(s, f_premake, t->premake, 1, "table", table);
		}
		for (k = 0; k < t->parts.n; k++)
		{
			const PartitionStats *p = &t->parts.items[k];
			const char *ts = p->tablespace ? p->tablespace : "pg_default";
			/* from the tier policy: hot, warm (its tablespace) or archived (file_fdw) */
			const char *tr = k < t->tiers.n ? t->tiers.items[k] : "hot";
			int j;

			if (p->is_default)
			{
				has_default = true;
				prom_add(s, f_drows, (double) t->default_rows, 1, "table", table);
				prom_add(s, f_dbytes, (double) (p->heap_bytes + p->index_bytes), 1, "table",
						 table);
			}
			for (j = 0; j < nspc && (strcmp(spc[j], ts) != 0 || strcmp(tier[j], tr) != 0); j++)
				;
			if (j == nspc)
			{
				spc[nspc] = ts;
				tier[nspc++] = tr;
			}
			nparts[j] += p->is_default ? 0 : 1;
			bytes[j] += p->heap_bytes + p->index_bytes;
		}
		if (t->exists)
			prom_add(s, f_default, has_default ? 1 : 0, 1, "table", table);
		for (k = 0; k < nspc; k++)
		{
			prom_add(s, f_parts, (double) nparts[k], 3, "table", table, "tier", tier[k],
					 "tablespace", spc[k]);
			prom_add(s, f_bytes, (double) bytes[k], 3, "table", table, "tier", tier[k],
					 "tablespace", spc[k]);
		}
		free(spc);
		free(tier);
		free(nparts);
		free(bytes);
		free(table);
	}
	statusresult_free(&sr);
	return true;
}

/* last maintenance, failures and lock retries: from pgpart.run_log */
static bool
collect_runs(PgConn *pc, PromSet *s, PgpError *err)
{
	int f_ts = prom_family(s, "pgpart_last_maintenance_success_timestamp_seconds", "gauge",
						   "When the last successful \"maintain\" of the table finished (Unix time).");
	int f_dur = prom_family(s, "pgpart_last_maintenance_duration_seconds", "gauge",
							"How long the last successful \"maintain\" of the table took.");
	int f_ok = prom_family(s, "pgpart_last_maintenance_ok", "gauge",
						   "1 if the table's last \"maintain\" succeeded, 0 if it failed.");
	int f_fail = prom_family(s, "pgpart_maintenance_failures_total", "counter",
							 "Failed \"maintain\" runs of the table recorded in pgpart.run_log.");
	int f_runs = prom_family(s, "pgpart_maintenance_runs_total", "counter",
							 "\"maintain\" runs of the table recorded in pgpart.run_log.");
	int f_retry = prom_family(s, "pgpart_lock_retries_total", "counter",
							  "Lock attempts beyond the first per partition created by \"maintain\" "
							  "(lock_timeout expired, retried with backoff).");
	PGresult *r;
	int i;

	/* one row per table; the summary is the JSON maintain writes (commands/maintain/maintain.c) */
	r = metrics_sql_runs(pc, err);
	if (r == NULL)
		return false;
	for (i = 0; i < PQntuples(r); i++)
	{
		const char *table = PQgetvalue(r, i, 0);

		if (!PQgetisnull(r, i, 1))
			prom_add(s, f_ts, atof(PQgetvalue(r, i, 1)), 1, "table", table);
		if (!PQgetisnull(r, i, 2))
			prom_add(s, f_dur, atof(PQgetvalue(r, i, 2)), 1, "table", table);
		prom_add(s, f_ok, PQgetvalue(r, i, 3)[0] == 't' ? 1 : 0, 1, "table", table);
		prom_add(s, f_fail, atof(PQgetvalue(r, i, 4)), 1, "table", table);
		prom_add(s, f_runs, atof(PQgetvalue(r, i, 5)), 1, "table", table);
		prom_add(s, f_retry, atof(PQgetvalue(r, i, 6)), 1, "table", table);
	}
	PQclear(r);
	return true;
}

/*
 * What writers could have waited behind pgpart's locks (request sent -> end
 * of the worst transaction), as maintain and migrate switch, rollback and
 * finish recorded it in pgpart.run_log: the last run and the worst one.
 */
static bool
collect_writers_wait(PgConn *pc, PromSet *s, PgpError *err)
{
	int f_last = prom_family(s, "pgpart_writers_wait_seconds", "gauge",
							 "How long writers of the table could have waited behind the locks of "
							 "the command's last run (queued + held).");
	int f_max = prom_family(s, "pgpart_writers_wait_max_seconds", "gauge",
							"The longest writers of the table could have waited behind the "
							"command's locks, over the runs pgpart.run_log keeps.");
	PGresult *r = metrics_sql_writers_wait(pc, err);
	int i;

	if (r == NULL)
		return false;
	for (i = 0; i < PQntuples(r); i++)
	{
		const char *table = PQgetvalue(r, i, 0), *command = PQgetvalue(r, i, 1);

		if (!PQgetisnull(r, i, 2))
			prom_add(s, f_last, atof(PQgetvalue(r, i, 2)), 2, "table", table, "command", command);
		if (!PQgetisnull(r, i, 3))
			prom_add(s, f_max, atof(PQgetvalue(r, i, 3)), 2, "table", table, "command", command);
	}
	PQclear(r);
	return true;
}

/* the newest migration of each table: phase (one series per phase, 1 for the current), progress */
static bool
collect_migrations(PgConn *pc, PromSet *s, PgpError *err)
{
	static const char *const phases[] = {"backfilling", "backfilled", "switched", "finished",
										 "rolled_back"};
	int f_phase = prom_family(s, "pgpart_migration_phase", "gauge",
							  "1 for the phase the table's newest online migration is in.");
	int f_rows = prom_family(s, "pgpart_migration_rows_copied", "gauge",
							 "Rows the newest online migration of the table has copied.");
	int f_prog = prom_family(s, "pgpart_migration_last_progress_timestamp_seconds", "gauge",
							 "When the newest migration of the table last moved on (Unix time).");
	int f_active = prom_family(s, "pgpart_migration_active", "gauge",
							   "1 while an online migration of the table is not finished or rolled back.");
	PGresult *r;
	int i;
	size_t k;

	r = metrics_sql_migrations(pc, err);
	if (r == NULL)
		return false;
	for (i = 0; i < PQntuples(r); i++)
	{
		const char *table = PQgetvalue(r, i, 0), *phase = PQgetvalue(r, i, 1);

		for (k = 0; k < sizeof(phases) / sizeof(phases[0]); k++)
			prom_add(s, f_phase, strcmp(phase, phases[k]) == 0 ? 1 : 0, 2, "table", table,
					 "phase", phases[k]);
		prom_add(s, f_rows, atof(PQgetvalue(r, i, 2)), 1, "table", table);
		prom_add(s, f_prog, atof(PQgetvalue(r, i, 3)), 1, "table", table);
		prom_add(s, f_active,
				 strcmp(phase, "finished") != 0 && strcmp(phase, "rolled_back") != 0 ? 1 : 0, 1,
				 "table", table);
	}
	PQclear(r);
	return true;
}

/*
 * Archive and restore outcomes, from pgpart.archive_job: one row per archive
 * of a partition, whose phase says how it ended.  "reattached" is an archive
 * that failed (the storage did not take it) and put the partition back;
 * "restored" was archived, then restored.  Jobs still in a middle phase are
 * in progress, or were interrupted and wait for a re-run: the age of the
 * oldest one shows a stuck archive.
 */
static bool
collect_archive(PgConn *pc, PromSet *s, PgpError *err)
{
	int f_n = prom_family(s, "pgpart_archive_operations_total", "counter",
						  "Archive and restore operations recorded, by table, operation and result "
						  "(ok, failed, in_progress).");
	int f_ts = prom_family(s, "pgpart_archive_last_timestamp_seconds", "gauge",
						   "When the last archive or restore operation of the table ended (Unix time).");
	int f_bytes = prom_family(s, "pgpart_archive_bytes", "gauge",
							  "Compressed bytes of the table's partitions held in archives.");
	int f_stuck = prom_family(s, "pgpart_archive_oldest_unfinished_seconds", "gauge",
							  "Age of the oldest archive job of the table that has not ended.");
	PGresult *r;
	int i;

	r = metrics_sql_archive(pc, err);
	if (r == NULL)
		return false;
	for (i = 0; i < PQntuples(r); i++)
	{
		const char *table = PQgetvalue(r, i, 0), *op = PQgetvalue(r, i, 1),
				   *result = PQgetvalue(r, i, 2);

		prom_add(s, f_n, atof(PQgetvalue(r, i, 3)), 3, "table", table, "operation", op, "result",
				 result);
		if (!PQgetisnull(r, i, 4) && strcmp(result, "in_progress") != 0)
			prom_add(s, f_ts, atof(PQgetvalue(r, i, 4)), 3, "table", table, "operation", op,
					 "result", result);
		if (!PQgetisnull(r, i, 5) && strcmp(op, "archive") == 0)
			prom_add(s, f_bytes, atof(PQgetvalue(r, i, 5)), 1, "table", table);
		if (!PQgetisnull(r, i, 6))
			prom_add(s, f_stuck, atof(PQgetvalue(r, i, 6)), 1, "table", table);
	}
	PQclear(r);
	return true;
}

bool
ops_metrics_collect(PgConn *pc, int timeout_ms, PromSet *set, PgpError *err)
{
	int f_up = prom_family(set, "pgpart_up", "gauge",
						   "1 if pgpart could read its state from the database at this scrape.");
	char lock_ms[16], stmt_ms[16];

	/*
	 * Sizes open each partition: never queue behind a lock for long.  With a
	 * budget, no statement may take longer than the whole scrape may.
	 */
	snprintf(lock_ms, sizeof(lock_ms), "%d",
			 timeout_ms > 0 && timeout_ms / 2 < 2000 ? (timeout_ms / 2 > 0 ? timeout_ms / 2 : 1)
													 : 2000);
	snprintf(stmt_ms, sizeof(stmt_ms), "%d", timeout_ms > 0 ? timeout_ms : 0);
	if (!metrics_sql_set_timeouts(pc, lock_ms, stmt_ms, err) ||
		!collect_status(pc, set, err) || !collect_runs(pc, set, err) ||
		!collect_writers_wait(pc, set, err) ||
		!collect_migrations(pc, set, err) || !collect_archive(pc, set, err))
		return false;
	prom_add(set, f_up, 1, 0);
	return true;
}
