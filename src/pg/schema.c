/*
 * schema.c - installs and upgrades pgpart's schema from the version it finds,
 * all steps in one transaction under an advisory lock: a crash leaves the old
 * version intact, and two concurrent "init" runs never interleave.
 */
#include "pg/schema.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/mem.h"

/*
 * Upgrade steps: upgrade_steps[i] takes the schema from version i to i + 1.
 * Never edit a released step; append a new one and bump PGPART_SCHEMA_VERSION.
 * Each step is a list of single statements (the extended protocol runs one
 * statement per call).
 */
static const char *const step_1[] = {
	"CREATE SCHEMA pgpart",
	"COMMENT ON SCHEMA pgpart IS 'state of the pgpart partition manager; changed only by pgpart'",
	"CREATE TABLE pgpart.schema_version ("
	" singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
	" version integer NOT NULL,"
	" upgraded_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
	"INSERT INTO pgpart.schema_version (version) VALUES (0)",
	/* regclass follows renames, and pg_upgrade preserves table OIDs */
	"CREATE TABLE pgpart.part_config ("
	" parent_table regclass PRIMARY KEY,"
	" part_column name NOT NULL,"
	" part_interval text NOT NULL"
	"  CHECK (part_interval IN ('day', 'week', 'month', 'quarter', 'year')),"
	" start_date date NOT NULL,"
	" premake integer NOT NULL CHECK (premake BETWEEN 0 AND 1000),"
	" time_zone text NOT NULL DEFAULT 'UTC',"
	" created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" updated_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
	"CREATE TABLE pgpart.run_log ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" parent_table regclass,"
	" command text NOT NULL,"
	" started_at timestamptz NOT NULL,"
	" finished_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),"
	" ok boolean NOT NULL,"
	" summary jsonb NOT NULL DEFAULT '{}')",
	"CREATE INDEX ON pgpart.run_log (parent_table, command, finished_at)",
	NULL,
};

/* version 2: online migrations (pgpart migrate) */
static const char *const step_2[] = {
	"CREATE TABLE pgpart.migration ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	/* regclass follows the renames of switch and rollback */
	" source regclass,"
	" shadow regclass,"
	" table_schema name NOT NULL,"
	" table_name name NOT NULL,"
	" shadow_name name NOT NULL,"
	" old_name name NOT NULL,"
	" part_column name NOT NULL,"
	" part_interval text NOT NULL,"
	" start_date date NOT NULL,"
	" premake integer NOT NULL,"
	" time_zone text NOT NULL,"
	" key_columns name[] NOT NULL,"
	" key_types text[] NOT NULL,"
	" upper_key text[],"
	" last_key text[],"
	" rows_copied bigint NOT NULL DEFAULT 0,"
	" batches bigint NOT NULL DEFAULT 0,"
	" phase text NOT NULL CHECK (phase IN"
	"  ('backfilling', 'backfilled', 'switched', 'finished', 'rolled_back')),"
	" fingerprint text NOT NULL,"
	" verified_at timestamptz,"
	" verify_ok boolean,"
	" verify_summary jsonb,"
	" switch_lock_ms double precision,"
	" started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" backfill_started_at timestamptz,"
	" backfill_finished_at timestamptz,"
	" switched_at timestamptz,"
	" finished_at timestamptz,"
	" updated_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
	/* one migration in progress per table */
	"CREATE UNIQUE INDEX migration_active ON pgpart.migration (table_schema, table_name)"
	" WHERE phase NOT IN ('finished', 'rolled_back')",
	NULL,
};

/* rollups: per-bucket summaries of a table, what they cover, and what changed since */
static const char *const step_3[] = {
	"CREATE TABLE pgpart.rollup ("
	" id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	/* regclass follows renames */
	" source regclass NOT NULL,"
	" summary regclass NOT NULL UNIQUE,"
	" grain text NOT NULL CHECK (grain IN ('day', 'month')),"
	" group_by name[] NOT NULL,"
	" measures text NOT NULL,"
	" filter text,"
	" created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" refreshed_at timestamptz)",
	/* bucket ranges [lo, hi) summarised from a partition; kept when it is archived */
	"CREATE TABLE pgpart.rollup_coverage ("
	" rollup_id integer NOT NULL REFERENCES pgpart.rollup ON DELETE CASCADE,"
	" lo date NOT NULL,"
	" hi date NOT NULL,"
	" partition_name name NOT NULL,"
	" summary_rows bigint NOT NULL,"
	" built_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" PRIMARY KEY (rollup_id, lo))",
	/*
	 * Written by the application's statements (through pgpart's triggers):
	 * buckets changed since they were summarised; NULL: everything
	 * (TRUNCATE).  No foreign key, so that writers take no extra lock.
	 */
	"CREATE TABLE pgpart.rollup_dirty ("
	" rollup_id integer NOT NULL,"
	" bucket date,"
	" marked_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
	"CREATE INDEX rollup_dirty_bucket ON pgpart.rollup_dirty (rollup_id, bucket)",
	NULL,
};

/* archives, restores, the tier policy and retention (pgpart policy/archive/restore) */
static const char *const step_4[] = {
	/* per table: when partitions go warm, to the archive, and away */
	"CREATE TABLE pgpart.tier_policy ("
	" parent_table regclass PRIMARY KEY,"
	" warm_after text,"
	" warm_tablespace name,"
	" archive_after text,"
	" archive_to text,"
	" drop_after text,"
	/* false: retention archives a partition before dropping it (needs archive_to) */
	" drop_unarchived boolean NOT NULL DEFAULT false,"
	" updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" CHECK ((warm_after IS NULL) = (warm_tablespace IS NULL)),"
	" CHECK ((archive_after IS NULL) OR (archive_to IS NOT NULL)))",
	/*
	 * One row per archive of one partition, and its progress: a re-run after a
	 * crash continues from the recorded phase.  Names, not regclass: the
	 * partition is dropped at the end, and the row is what remains of it.
	 */
	"CREATE TABLE pgpart.archive_job ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" parent_table regclass,"
	" parent_schema name NOT NULL,"
	" parent_name name NOT NULL,"
	" partition_schema name NOT NULL,"
	" partition_name name NOT NULL,"
	" part_column name NOT NULL,"
	" lo text NOT NULL,"
	" hi text NOT NULL,"
	" location text NOT NULL,"
	" object_key text NOT NULL,"
	" manifest_key text NOT NULL,"
	" phase text NOT NULL CHECK (phase IN"
	"  ('started', 'detached', 'uploaded', 'verified', 'archived', 'reattached', 'restored')),"
	" rows bigint,"
	" raw_bytes bigint,"
	" compressed_bytes bigint,"
	" sha256 text,"
	" foreign_table boolean NOT NULL DEFAULT false,"
	" last_error text,"
	" started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" finished_at timestamptz)",
	/* one unfinished archive per partition */
	"CREATE UNIQUE INDEX archive_job_active ON pgpart.archive_job"
	" (partition_schema, partition_name) WHERE phase IN ('started', 'detached', 'uploaded', 'verified')",
	"CREATE INDEX archive_job_parent ON pgpart.archive_job (parent_schema, parent_name, phase)",
	/* what retention dropped, and where its archive is (NULL: dropped unarchived) */
	"CREATE TABLE pgpart.retention_log ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" parent_schema name NOT NULL,"
	" parent_name name NOT NULL,"
	" partition_name name NOT NULL,"
	" lo text,"
	" hi text,"
	" rows bigint,"
	" archive_job bigint REFERENCES pgpart.archive_job,"
	" dropped_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
	NULL,
};

/* least privilege and statements that never run stored SQL text (issue 14) */
static const char *const step_5[] = {
	/*
	 * The scheduler's leader lock: "pgpart run" holds LOCK TABLE ... IN
	 * EXCLUSIVE MODE on it in a transaction kept open (see commands/run/scheduler.c).
	 * That mode needs UPDATE, DELETE or TRUNCATE on it, which only pgpart's
	 * own role has, and conflicts with every mode but ACCESS SHARE, so a role
	 * that may only read cannot take it away.  A view, not a table: VACUUM
	 * and ANALYZE never open a view, so a database-wide VACUUM does not wait
	 * for the leader, and a relation without storage has nothing to freeze
	 * that its held lock would keep autovacuum from freezing.
	 */
	"CREATE VIEW pgpart.scheduler_leader AS SELECT true AS leader WHERE false",
	"COMMENT ON VIEW pgpart.scheduler_leader IS 'locked IN EXCLUSIVE MODE by the leading "
	"\"pgpart run\" for as long as it leads; never has rows'",
	"COMMENT ON COLUMN pgpart.rollup.filter IS 'PostgreSQL''s text of the --where expression, "
	"for reading only; refreshes call the function pgpart.rollup_<id>_filter'",
	"COMMENT ON COLUMN pgpart.migration.key_types IS 'the key''s types at start, for reading "
	"only; statements take the types from the catalog'",
	/*
	 * Archives: the SHA-256 of the manifest as written, so that restore
	 * trusts a manifest only when it is the one this database recorded; and
	 * a tier policy's consent to a plain-http S3 endpoint, given explicitly
	 * to "pgpart policy --allow-insecure-endpoint".
	 */
	"ALTER TABLE pgpart.archive_job ADD COLUMN manifest_sha256 text"
	" CHECK (manifest_sha256 ~ '^[0-9a-f]{64}$')",
	"ALTER TABLE pgpart.tier_policy ADD COLUMN allow_insecure_endpoint boolean NOT NULL"
	" DEFAULT false",
	NULL,
};

/*
 * The limits of a running backfill (archive copy, tier move), changed
 * while it runs by "pgpart migrate limits": re-read between two batches.  A
 * NULL limit is the one given on the running command's line.  Numbers only:
 * whoever may write this table may slow down, pause or speed up a copy, but
 * never make pgpart's role run something (the probe function is named on
 * the command line only).  state: what the running copy last said.
 */
static const char *const step_6[] = {
	"CREATE TABLE pgpart.throttle_limit ("
	" relation regclass PRIMARY KEY,"
	" rate double precision CHECK (rate > 0),"
	" max_lag_ms double precision CHECK (max_lag_ms > 0),"
	" max_wal_rate double precision CHECK (max_wal_rate > 0),"
	" max_xact_age_ms double precision CHECK (max_xact_age_ms > 0),"
	" max_probe_ms double precision CHECK (max_probe_ms > 0),"
	" paused boolean NOT NULL DEFAULT false,"
	" set_by name,"
	" set_at timestamptz,"
	" state text,"
	" state_at timestamptz)",
	"REVOKE ALL ON TABLE pgpart.throttle_limit FROM PUBLIC",
	"COMMENT ON TABLE pgpart.throttle_limit IS 'limits of a running backfill, set by "
	"\"pgpart migrate limits\", read between batches; NULL: the command line''s'",
	NULL,
};

/*
 * The history of a table's interval (pgpart repartition): from from_date on,
 * its partitions are periods of part_interval; before the first row, of
 * part_config.part_interval.  Each from_date starts a period of both the
 * interval before it and its own, so no period straddles a change.  Gone
 * with the table's configuration.
 */
static const char *const step_7[] = {
	"CREATE TABLE pgpart.interval_history ("
	" parent_table regclass NOT NULL REFERENCES pgpart.part_config ON DELETE CASCADE,"
	" from_date date NOT NULL,"
	" part_interval text NOT NULL"
	"  CHECK (part_interval IN ('day', 'week', 'month', 'quarter', 'year')),"
	" changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" PRIMARY KEY (parent_table, from_date))",
	"REVOKE ALL ON TABLE pgpart.interval_history FROM PUBLIC",
	"COMMENT ON TABLE pgpart.interval_history IS 'from from_date on, the table''s partitions "
	"are of part_interval (pgpart repartition); before its first row, of part_config''s'",
	NULL,
};

/*
 * version 8: the change log (pgpart log).  Each DDL statement pgpart runs, and
 * each statement that moves rows of a user's table, is a row written in the
 * transaction of the change (pg/changelog.c), so a change that rolled back
 * leaves no row.  Only pgpart's role writes it; auditors are granted SELECT.
 */
static const char *const step_8[] = {
	"CREATE TABLE pgpart.change_log ("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" started_at timestamptz NOT NULL,"
	" duration_ms double precision NOT NULL,"
	" role name NOT NULL DEFAULT CURRENT_USER,"
	" client_host text NOT NULL,"
	" client_pid integer NOT NULL,"
	" command text NOT NULL,"
	" table_name text,"
	" kind text NOT NULL CHECK (kind IN ('ddl', 'lock', 'rows')),"
	" statement text NOT NULL,"
	" rows bigint,"
	" outcome text NOT NULL)",
	"CREATE INDEX change_log_started_at ON pgpart.change_log (started_at)",
	"REVOKE ALL ON TABLE pgpart.change_log FROM PUBLIC",
	"COMMENT ON TABLE pgpart.change_log IS 'every DDL statement pgpart ran and every "
	"statement of it that moved rows of a user''s table, written in the transaction of the "
	"change (pgpart log)'",
	NULL,
};

/*
 * version 9: split and merge of partitions (pgpart.reshape_job); exact
 * distinct counts from rollups (rollup add --distinct: the
 * summary keeps, per bucket, group and chunk of 16384 values of the column, a
 * bitmap of the values present, so that bit_or() over buckets and
 * bit_count() give count(DISTINCT) exactly), and how long a change held the
 * locks it took (from the LOCK to the commit of its transaction).
 */
static const char *const step_9[] = {
	"ALTER TABLE pgpart.rollup ADD COLUMN distinct_column name",
	"COMMENT ON COLUMN pgpart.rollup.distinct_column IS 'the integer column whose distinct "
	"values the summary counts exactly, as a bitmap per chunk of 16384 values (NULL: none)'",
	/*
	 * split and merge (pgpart split|merge): one row per reshaping of a
	 * table's partitions, its phase written in the transaction of each
	 * step, so a crash leaves a state the next run continues from or undoes
	 */
	"CREATE TABLE pgpart.reshape_job ("
	" id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" parent_table regclass NOT NULL REFERENCES pgpart.part_config ON DELETE CASCADE,"
	" kind text NOT NULL CHECK (kind IN ('split', 'merge')),"
	" part_schema name NOT NULL,"
	" sources name[] NOT NULL,"
	" targets name[] NOT NULL,"
	" target_from text[] NOT NULL,"
	" target_to text[] NOT NULL,"
	" target_interval text NOT NULL,"
	" shadow name NOT NULL,"
	" phase text NOT NULL CHECK (phase IN ('copying', 'copied', 'swapped', 'done', 'aborted')),"
	" copied_source integer NOT NULL DEFAULT 0,"
	" last_key text[],"
	" rows_copied bigint NOT NULL DEFAULT 0,"
	" keep_old boolean NOT NULL DEFAULT false,"
	" swap_lock_ms double precision,"
	" started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" swapped_at timestamptz,"
	" ended_at timestamptz)",
	"CREATE UNIQUE INDEX reshape_job_one_at_a_time ON pgpart.reshape_job (parent_table) "
	"WHERE phase IN ('copying', 'copied', 'swapped')",
	"REVOKE ALL ON TABLE pgpart.reshape_job FROM PUBLIC",
	"COMMENT ON TABLE pgpart.reshape_job IS 'splits and merges of partitions (pgpart split, "
	"pgpart merge): sources, new partitions and phase'",
	"ALTER TABLE pgpart.change_log ADD COLUMN lock_hold_ms double precision",
	"COMMENT ON COLUMN pgpart.change_log.lock_hold_ms IS 'for a LOCK: from the lock granted "
	"to the commit of its transaction (duration_ms is the wait for it)'",
	NULL,
};

/*
 * version 10: foreign partitions (file_fdw archives, postgres_fdw remote
 * tiers) of a table with a unique index cannot sit under the table itself, so
 * they sit under a companion partitioned table without unique indexes, read
 * together with the table through a view (src/pg/companion.c).  regclass
 * follows renames; both are NULL until the first foreign partition needs them.
 */
static const char *const step_10[] = {
	"ALTER TABLE pgpart.part_config ADD COLUMN foreign_parent regclass, "
	"ADD COLUMN foreign_view regclass",
	"COMMENT ON COLUMN pgpart.part_config.foreign_parent IS 'the partitioned table without "
	"unique indexes that holds this table''s archived and remote partitions (NULL: none)'",
	"COMMENT ON COLUMN pgpart.part_config.foreign_view IS 'the view reading the table and "
	"foreign_parent together (UNION ALL)'",
	NULL,
};

/*
 * version 11: the remote tier (pgpart remote send|fetch): one row per move of
 * a closed partition to another PostgreSQL server through postgres_fdw, or
 * back, its phase written in the transaction of each step, so a crash
 * leaves a state the next run continues from or undoes.  The server is
 * named by pgpart's NAME only (the foreign server pgpart_remote_NAME): its
 * address is in pg_foreign_server and the credentials only in PostgreSQL's
 * own user mapping, never here.
 */
static const char *const step_11[] = {
	"CREATE TABLE pgpart.remote_job ("
	" id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" parent_table regclass NOT NULL REFERENCES pgpart.part_config ON DELETE CASCADE,"
	" kind text NOT NULL CHECK (kind IN ('send', 'fetch', 'drop')),"
	" server name NOT NULL,"
	" part_schema name NOT NULL,"
	" part_name name NOT NULL,"
	" remote_schema name NOT NULL,"
	" remote_name name NOT NULL,"
	" part_column name NOT NULL,"
	" lo text,"
	" hi text NOT NULL,"
	" phase text NOT NULL CHECK (phase IN ('started', 'copied', 'swapped', 'done', 'aborted')),"
	" rows bigint,"
	" checksum text,"
	" note text,"
	" started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
	" swapped_at timestamptz,"
	" ended_at timestamptz)",
	"CREATE UNIQUE INDEX remote_job_one_at_a_time ON pgpart.remote_job (parent_table) "
	"WHERE phase IN ('started', 'copied', 'swapped')",
	"REVOKE ALL ON TABLE pgpart.remote_job FROM PUBLIC",
	"COMMENT ON TABLE pgpart.remote_job IS 'partitions sent to another PostgreSQL server and "
	"read through postgres_fdw (pgpart remote send), fetched back, or dropped there by "
	"retention: phase and figures, never credentials'",
	/* the remote tier of the policy: after remote_after, closed partitions go to remote_server */
	"ALTER TABLE pgpart.tier_policy ADD COLUMN remote_after text, ADD COLUMN remote_server name, "
	"ADD CHECK ((remote_after IS NULL) = (remote_server IS NULL))",
	"COMMENT ON COLUMN pgpart.tier_policy.remote_server IS 'pgpart''s NAME of the remote "
	"(foreign server pgpart_remote_NAME) closed partitions go to after remote_after'",
	NULL,
};

static const char *const *const upgrade_steps[PGPART_SCHEMA_VERSION] = {
	step_1, step_2, step_3, step_4, step_5, step_6, step_7, step_8, step_9, step_10, step_11};

static bool
read_version(PgConn *pc, int *version, PgpError *err)
{
	char *v;

	if (!pgc_query_value(pc,
						 "SELECT CASE WHEN pg_catalog.to_regclass('pgpart.schema_version') IS NULL "
						 "THEN NULL ELSE 1 END",
						 0, NULL, &v, err))
		return false;
	if (v == NULL)
	{
		*version = 0;
		return true;
	}
	free(v);
	if (!pgc_query_value(pc, "SELECT version FROM pgpart.schema_version", 0, NULL, &v, err))
		return false;
	*version = v ? atoi(v) : 0;
	free(v);
	return true;
}

bool
schema_install(PgConn *pc, SchemaHook hook, void *hook_arg, int *from_version, int *to_version,
			   PgpError *err)
{
	int version;
	int step;
	bool ok = false;
	char vbuf[16];
	const char *params[1];

	if (!pgc_change(pc, "BEGIN", 0, NULL, err))
		return false;
	/* two concurrent "pgpart init" runs must not both create the schema */
	if (!pgc_exec(pc, "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pgpart init'))",
				  0, NULL, err))
		goto done;
	if (!read_version(pc, &version, err))
		goto done;
	*from_version = version;
	*to_version = PGPART_SCHEMA_VERSION;
	if (version > PGPART_SCHEMA_VERSION)
	{
		err_set(err, EXIT_RUNTIME,
				"pgpart schema version %d is newer than this pgpart understands (%d)", version,
				PGPART_SCHEMA_VERSION);
		err_hint(err, "Use the pgpart release that installed it, or a newer one.");
		goto done;
	}
	for (step = version; step < PGPART_SCHEMA_VERSION; step++)
	{
		const char *const *stmt;

		for (stmt = upgrade_steps[step]; *stmt; stmt++)
			if (!pgc_change(pc, *stmt, 0, NULL, err))
				goto done;
	}
	if (version < PGPART_SCHEMA_VERSION)
	{
		snprintf(vbuf, sizeof(vbuf), "%d", PGPART_SCHEMA_VERSION);
		params[0] = vbuf;
		if (!pgc_change(pc,
						"UPDATE pgpart.schema_version SET version = $1::integer, "
						"upgraded_at = pg_catalog.now()",
						1, params, err))
			goto done;
	}
	if (hook && !hook(pc, version, hook_arg, err))
		goto done;
	ok = pgc_change(pc, "COMMIT", 0, NULL, err);
done:
	if (!ok && !pc->dry_run)
		pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
	return ok;
}

bool
schema_require(PgConn *pc, PgpError *err)
{
	int version;

	if (!read_version(pc, &version, err))
		return false;
	if (version == PGPART_SCHEMA_VERSION)
		return true;
	if (version == 0)
	{
		err_set(err, EXIT_RUNTIME, "pgpart is not initialised in this database");
		err_hint(err, "Run \"pgpart init\" first; it creates the schema \"pgpart\".");
	}
	else if (version < PGPART_SCHEMA_VERSION)
	{
		err_set(err, EXIT_RUNTIME, "pgpart schema version %d is older than this pgpart (%d)",
				version, PGPART_SCHEMA_VERSION);
		err_hint(err, "Run \"pgpart init\" to upgrade it.");
	}
	else
	{
		err_set(err, EXIT_RUNTIME, "pgpart schema version %d is newer than this pgpart (%d)",
				version, PGPART_SCHEMA_VERSION);
		err_hint(err, "Use a newer pgpart.");
	}
	return false;
}
