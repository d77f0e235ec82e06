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

/* a family's name, type and help; and how many of a query's labels it takes */
typedef struct PromColumn
{
	const char *name;
	const char *type;
	const char *help;
	int nlabels;
} PromColumn;

/* partitions, tiers, future partitions, default partition: from "pgpart status" */
enum
{
	F_PARTS,
	F_BYTES,
	F_FUTURE,
	F_PREMAKE,
	F_DROWS,
	F_DBYTES,
	F_DEFAULT,
	F_WARN,
	F_EXISTS,
	F_TABLES,
	N_STATUS_FAMILIES
};

static const PromColumn status_families[N_STATUS_FAMILIES] = {
	[F_PARTS] = {"pgpart_partitions", "gauge",
				 "Partitions of a managed table (the default partition not counted), "
				 "by storage tier and tablespace.", 3},
	[F_BYTES] = {"pgpart_tier_bytes", "gauge",
				 "Bytes (heap, TOAST and indexes) of a table's partitions, by tier and "
				 "tablespace.", 3},
	[F_FUTURE] = {"pgpart_future_partitions", "gauge",
				  "Partitions that start after the current period.", 1},
	[F_PREMAKE] = {"pgpart_premake", "gauge", "Future partitions pgpart is configured to keep.", 1},
	[F_DROWS] = {"pgpart_default_partition_rows", "gauge",
				 "Rows in the default partition (counted up to 1000000).", 1},
	[F_DBYTES] = {"pgpart_default_partition_bytes", "gauge",
				  "Bytes of the default partition, heap and indexes.", 1},
	[F_DEFAULT] = {"pgpart_default_partition_exists", "gauge",
				   "1 if the table has a default partition.", 1},
	[F_WARN] = {"pgpart_status_warnings", "gauge", "Warnings \"pgpart status\" shows for the table.", 1},
	[F_EXISTS] = {"pgpart_table_exists", "gauge", "0 when a configured table was dropped.", 1},
	[F_TABLES] = {"pgpart_managed_tables", "gauge", "Tables managed by pgpart.", 0},
};

static bool
collect_status(PgConn *pc, PromSet *s, PgpError *err)
{
	StatusResult sr;
	int f[N_STATUS_FAMILIES];
	int i, k;

	for (k = 0; k < N_STATUS_FAMILIES; k++)
		f[k] = prom_family(s, status_families[k].name, status_families[k].type,
						   status_families[k].help);
	if (!ops_status(pc, NULL, &sr, err))
		return false;
	prom_add(s, f[F_TABLES], sr.n, 0);
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

		prom_add(s, f[F_EXISTS], t->exists ? 1 : 0, 1, "table", table);
		prom_add(s, f[F_WARN], t->warnings.n, 1, "table", table);
		if (t->exists)
		{
			prom_add(s, f[F_FUTURE], t->future_partitions, 1, "table", table);
			prom_add(s, f[F_PREMAKE], t->premake, 1, "table", table);
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
				prom_add(s, f[F_DROWS], (double) t->default_rows, 1, "table", table);
				prom_add(s, f[F_DBYTES], (double) (p->heap_bytes + p->index_bytes), 1, "table",
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
			prom_add(s, f[F_DEFAULT], has_default ? 1 : 0, 1, "table", table);
		for (k = 0; k < nspc; k++)
		{
			prom_add(s, f[F_PARTS], (double) nparts[k], 3, "table", table, "tier", tier[k],
					 "tablespace", spc[k]);
			prom_add(s, f[F_BYTES], (double) bytes[k], 3, "table", table, "tier", tier[k],
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

/* one series per phase a migration can be in, 1 for the newest migration's */
static void
collect_migration_phases(PromSet *s, const PGresult *r)
{
	static const char *const phases[] = {"backfilling", "backfilled", "switched", "finished",
										 "rolled_back"};
	int f = prom_family(s, "pgpart_migration_phase", "gauge",
						"1 for the phase the table's newest online migration is in.");
	int i;
	size_t k;

	for (i = 0; i < PQntuples(r); i++)
		for (k = 0; k < sizeof(phases) / sizeof(phases[0]); k++)
			prom_add(s, f, strcmp(PQgetvalue(r, i, 1), phases[k]) == 0 ? 1 : 0, 2, "table",
					 PQgetvalue(r, i, 0), "phase", phases[k]);
}

/*
 * The families read from pgpart's own tables, one per value column of a
 * query's rows.  A query's first columns are label values (names in its
 * labels[]); a family takes the first nlabels of them, and a NULL value adds
 * no sample.  A label column can have families of its own (a migration's
 * phase: one series per phase).
 */
typedef struct PromQuery
{
	MetricsRead read;
	void (*label_families)(PromSet *s, const PGresult *r); /* families of a label column */
	const char *labels[3];
	int nlabels;
	PromColumn cols[6];
} PromQuery;

static const PromQuery queries[] = {
	/* last maintenance, failures and lock retries: from pgpart.run_log */
	{METRICS_RUNS, NULL, {"table"}, 1, {
		{"pgpart_last_maintenance_success_timestamp_seconds", "gauge",
		 "When the last successful \"maintain\" of the table finished (Unix time).", 1},
		{"pgpart_last_maintenance_duration_seconds", "gauge",
		 "How long the last successful \"maintain\" of the table took.", 1},
		{"pgpart_last_maintenance_ok", "gauge",
		 "1 if the table's last \"maintain\" succeeded, 0 if it failed.", 1},
		{"pgpart_maintenance_failures_total", "counter",
		 "Failed \"maintain\" runs of the table recorded in pgpart.run_log.", 1},
		{"pgpart_maintenance_runs_total", "counter",
		 "\"maintain\" runs of the table recorded in pgpart.run_log.", 1},
		{"pgpart_lock_retries_total", "counter",
		 "Lock attempts beyond the first per partition created by \"maintain\" "
		 "(lock_timeout expired, retried with backoff).", 1}}},
	/*
	 * What writers could have waited behind pgpart's locks (request sent ->
	 * end of the worst transaction), as maintain and migrate switch, rollback
	 * and finish recorded it in pgpart.run_log: the last run and the worst.
	 */
	{METRICS_WRITERS_WAIT, NULL, {"table", "command"}, 2, {
		{"pgpart_writers_wait_seconds", "gauge",
		 "How long writers of the table could have waited behind the locks of "
		 "the command's last run (queued + held).", 2},
		{"pgpart_writers_wait_max_seconds", "gauge",
		 "The longest writers of the table could have waited behind the "
		 "command's locks, over the runs pgpart.run_log keeps.", 2}}},
	/* the newest migration of each table: after its phase, its progress */
	{METRICS_MIGRATIONS, collect_migration_phases, {"table", "phase"}, 2, {
		{"pgpart_migration_rows_copied", "gauge",
		 "Rows the newest online migration of the table has copied.", 1},
		{"pgpart_migration_last_progress_timestamp_seconds", "gauge",
		 "When the newest migration of the table last moved on (Unix time).", 1},
		{"pgpart_migration_active", "gauge",
		 "1 while an online migration of the table is not finished or rolled back.", 1}}},
	/*
	 * Archive and restore outcomes, from pgpart.archive_job: one row per
	 * archive of a partition, whose phase says how it ended.  "reattached" is
	 * an archive that failed (the storage did not take it) and put the
	 * partition back; "restored" was archived, then restored.  Jobs still in a
	 * middle phase are in progress, or were interrupted and wait for a re-run:
	 * the age of the oldest one shows a stuck archive.
	 */
	{METRICS_ARCHIVE, NULL, {"table", "operation", "result"}, 3, {
		{"pgpart_archive_operations_total", "counter",
		 "Archive and restore operations recorded, by table, operation and result "
		 "(ok, failed, in_progress).", 3},
		{"pgpart_archive_last_timestamp_seconds", "gauge",
		 "When the last archive or restore operation of the table ended (Unix time).", 3},
		{"pgpart_archive_bytes", "gauge",
		 "Compressed bytes of the table's partitions held in archives.", 1},
		{"pgpart_archive_oldest_unfinished_seconds", "gauge",
		 "Age of the oldest archive job of the table that has not ended.", 1}}},
	/* the remote tier: where the table's closed ranges live (pgpart remote) */
	{METRICS_REMOTE, NULL, {"table", "remote"}, 2, {
		{"pgpart_remote_partitions", "gauge",
		 "Partitions of the table on a remote server, read through postgres_fdw.", 2},
		{"pgpart_remote_rows", "gauge",
		 "Rows of the table on a remote server (counted when each partition was sent).", 2},
		{"pgpart_remote_job_unfinished_seconds", "gauge",
		 "Age of the table's remote send, fetch or drop that has not ended.", 1}}},
};

static bool
collect_query(PgConn *pc, PromSet *s, const PromQuery *q, PgpError *err)
{
	int family[sizeof(q->cols) / sizeof(q->cols[0])];
	int ncols, i, k;
	PGresult *r = metrics_sql_read(pc, q->read, err);

	if (r == NULL)
		return false;
	if (q->label_families)
		q->label_families(s, r);
	for (ncols = 0; ncols < (int) (sizeof(q->cols) / sizeof(q->cols[0])) && q->cols[ncols].name;
		 ncols++)
		family[ncols] = prom_family(s, q->cols[ncols].name, q->cols[ncols].type,
									q->cols[ncols].help);
	for (i = 0; i < PQntuples(r); i++)
	{
		const char *values[sizeof(q->labels) / sizeof(q->labels[0])];

		for (k = 0; k < q->nlabels; k++)
			values[k] = PQgetvalue(r, i, k);
		for (k = 0; k < ncols; k++)
			if (!PQgetisnull(r, i, q->nlabels + k))
				prom_add_labels(s, family[k], atof(PQgetvalue(r, i, q->nlabels + k)),
								q->cols[k].nlabels, q->labels, values);
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
	size_t i;

	/*
	 * Sizes open each partition: never queue behind a lock for long.  With a
	 * budget, no statement may take longer than the whole scrape may.
	 */
	snprintf(lock_ms, sizeof(lock_ms), "%d",
			 timeout_ms > 0 && timeout_ms / 2 < 2000 ? (timeout_ms / 2 > 0 ? timeout_ms / 2 : 1)
													 : 2000);
	snprintf(stmt_ms, sizeof(stmt_ms), "%d", timeout_ms > 0 ? timeout_ms : 0);
	if (!metrics_sql_set_timeouts(pc, lock_ms, stmt_ms, err) ||
		!collect_status(pc, set, err))
		return false;
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (!collect_query(pc, set, &queries[i], err))
			return false;
	prom_add(set, f_up, 1, 0);
	return true;
}
