/*
 * archive_sql.c - every statement pgpart archive sends, and those restore
 * shares with it, in one place to audit: identifiers are quoted with
 * pgc_append_ident / pgc_quote_qualified, values are $n parameters, and the
 * few literals DDL needs (bounds, a program path) are escaped by libpq.
 * Statements that change something go through pgc_change, so --dry-run
 * prints them instead.
 */
#include "commands/archive/archive_sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/changelog.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

/* ---- pgpart.archive_job ------------------------------------------------ */

#define JOB_COLUMNS                                                                        \
	"id::text, phase, location, object_key, manifest_key, lo, hi, partition_schema, "      \
	"partition_name, part_column, sha256, rows, raw_bytes, compressed_bytes, manifest_sha256"

static char *
text_or_null(PGresult *res, int i, int col)
{
	return PQgetisnull(res, i, col) ? NULL : pg_xstrdup(PQgetvalue(res, i, col));
}

static long long
count_or_unknown(PGresult *res, int i, int col)
{
	return PQgetisnull(res, i, col) ? -1 : strtoll(PQgetvalue(res, i, col), NULL, 10);
}

static void
job_from_row(PGresult *res, int i, ArchJob *j)
{
	j->id = pg_xstrdup(PQgetvalue(res, i, 0));
	if (!archphase_parse(PQgetvalue(res, i, 1), &j->phase))
		j->phase = ARCH_STARTED; /* the queries ask only for phases pgpart knows */
	j->location = pg_xstrdup(PQgetvalue(res, i, 2));
	j->object_key = pg_xstrdup(PQgetvalue(res, i, 3));
	j->manifest_key = pg_xstrdup(PQgetvalue(res, i, 4));
	j->lo = pg_xstrdup(PQgetvalue(res, i, 5));
	j->hi = pg_xstrdup(PQgetvalue(res, i, 6));
	j->pschema = pg_xstrdup(PQgetvalue(res, i, 7));
	j->pname = pg_xstrdup(PQgetvalue(res, i, 8));
	j->column = pg_xstrdup(PQgetvalue(res, i, 9));
	j->sha256 = text_or_null(res, i, 10);
	j->rows = count_or_unknown(res, i, 11);
	j->raw_bytes = count_or_unknown(res, i, 12);
	j->compressed_bytes = count_or_unknown(res, i, 13);
	j->manifest_sha256 = text_or_null(res, i, 14);
}

bool
archive_sql_jobs_unfinished(PgConn *pc, const char *parent_schema, const char *parent_name,
							ArchJob **jobs, int *n, PgpError *err)
{
	const char *params[2] = {parent_schema, parent_name};
	PGresult *res;
	int i;

	*jobs = NULL;
	*n = 0;
	res = pgc_query(pc,
					"SELECT " JOB_COLUMNS " FROM pgpart.archive_job "
					"WHERE parent_schema = $1 AND parent_name = $2 "
					"AND phase IN ('started', 'detached', 'uploaded', 'verified') "
					"ORDER BY id",
					2, params, err);
	if (res == NULL)
		return false;
	*n = PQntuples(res);
	*jobs = pg_xcalloc((size_t) *n + 1, sizeof(ArchJob));
	for (i = 0; i < *n; i++)
		job_from_row(res, i, &(*jobs)[i]);
	PQclear(res);
	return true;
}

bool
archive_sql_job_insert(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p,
					   const char *location, ArchJob *job, PgpError *err)
{
	char oid[16];
	const char *params[11] = {oid,		   cfg->parent_schema, cfg->parent_name, p->schema,
							  p->name,	   cfg->column,		   p->lo_text,		 p->hi_text,
							  location,	   job->object_key,	   job->manifest_key};
	PGresult *res;

	snprintf(oid, sizeof(oid), "%u", cfg->parent);
	res = pgc_query(pc,
					"INSERT INTO pgpart.archive_job (parent_table, parent_schema, parent_name, "
					"partition_schema, partition_name, part_column, lo, hi, location, "
					"object_key, manifest_key, phase) VALUES ($1::pg_catalog.oid, $2, $3, $4, "
					"$5, $6, $7, $8, $9, $10, $11, 'started') RETURNING " JOB_COLUMNS,
					11, params, err);
	if (res == NULL)
		return false;
	archjob_free(job);
	job_from_row(res, 0, job);
	PQclear(res);
	return true;
}

bool
archive_sql_job_set_phase(PgConn *pc, ArchJob *job, ArchPhase phase, PgpError *err)
{
	const char *params[2] = {job->id, archphase_name(phase)};

	if (!pgc_change(pc,
					"UPDATE pgpart.archive_job SET phase = $2, updated_at = pg_catalog.now(), "
					"finished_at = CASE WHEN $2 IN ('archived', 'reattached') "
					"THEN pg_catalog.now() END "
					"WHERE id = $1::bigint",
					2, params, err))
		return false;
	job->phase = phase;
	return true;
}

void
archcopy_free(ArchCopy *copy)
{
	FREE_ALL(copy->sql, copy->tag, copy->rows);
	copy->sql = copy->tag = copy->rows = NULL;
}

bool
archive_sql_job_uploaded(PgConn *pc, ArchJob *job, const ArchCopy *copy, PgpError *err)
{
	char rows[32], raw[32], comp[32];
	const char *params[6] = {job->id, rows, raw, comp, job->sha256, job->manifest_sha256};
	bool ok;

	snprintf(rows, sizeof(rows), "%lld", job->rows);
	snprintf(raw, sizeof(raw), "%lld", job->raw_bytes);
	snprintf(comp, sizeof(comp), "%lld", job->compressed_bytes);
	ok = stmt_begin(pc, err) &&
		 pgc_change(pc,
					"UPDATE pgpart.archive_job SET phase = 'uploaded', rows = $2::bigint, "
					"raw_bytes = $3::bigint, compressed_bytes = $4::bigint, sha256 = $5, "
					"manifest_sha256 = $6, last_error = NULL, updated_at = pg_catalog.now() "
					"WHERE id = $1::bigint",
					6, params, err) &&
		 (copy->tag == NULL ||
		  changelog_record_ran(pc, copy->sql, copy->tag, copy->rows, copy->duration_ms, err)) &&
		 stmt_commit(pc, err);
	if (!ok)
	{
		if (!pc->dry_run)
			pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
		return false;
	}
	job->phase = ARCH_UPLOADED;
	return true;
}

bool
archive_sql_job_reattached(PgConn *pc, const char *id, const char *why, PgpError *err)
{
	const char *params[2] = {id, why};

	return pgc_change(pc,
					  "UPDATE pgpart.archive_job SET phase = 'reattached', last_error = $2, "
					  "updated_at = pg_catalog.now(), finished_at = pg_catalog.now() "
					  "WHERE id = $1::bigint",
					  2, params, err);
}

bool
archive_sql_job_foreign(PgConn *pc, const char *id, PgpError *err)
{
	const char *params[1] = {id};

	return pgc_change(pc, "UPDATE pgpart.archive_job SET foreign_table = true WHERE id = $1::bigint",
					  1, params, err);
}

bool
archive_status_lines(PgConn *pc, const char *schema, const char *name, NameList *lines,
					 PgpError *err)
{
	const char *params[2] = {schema, name};

	return namelist_add_query(pc,
							  "SELECT partition_name || ' [' || lo || ', ' || hi || '): ' || "
							  "CASE phase WHEN 'archived' THEN 'archived, ' || rows || ' rows, ' || "
							  "compressed_bytes || ' bytes in ' || location || '/' || manifest_key || "
							  "CASE WHEN foreign_table THEN ' (queryable in place' || COALESCE(("
							  "  SELECT ' through the view ' || v.oid::pg_catalog.regclass::text "
							  "  FROM pgpart.part_config c "
							  "  JOIN pg_catalog.pg_class v ON v.oid = c.foreign_view "
							  "  JOIN pg_catalog.pg_inherits h ON h.inhparent = c.foreign_parent "
							  "  JOIN pg_catalog.pg_class r ON r.oid = h.inhrelid "
							  "  JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace "
							  "  WHERE n.nspname = j.partition_schema AND r.relname = j.partition_name "
							  "  LIMIT 1), '') || ')' ELSE '' END "
							  "ELSE 'archive in progress (' || phase || ') to ' || location END "
							  "FROM pgpart.archive_job j WHERE parent_schema = $1 AND parent_name = $2 "
							  "AND phase IN ('started', 'detached', 'uploaded', 'verified', 'archived') "
							  "ORDER BY lo, id",
							  2, params, lines, err);
}

/* ---- the server and the catalog ---------------------------------------- */

bool
archive_sql_utc_stamp(PgConn *pc, char **stamp, PgpError *err)
{
	return pgc_query_value(pc,
						   "SELECT pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', "
						   "'YYYYMMDD\"T\"HH24MISS.MS\"Z\"')",
						   0, NULL, stamp, err);
}

bool
archive_now_us(PgConn *pc, int64_t *now_us, PgpError *err)
{
	long long us;

	if (!stmt_query_number(pc, "SELECT (EXTRACT(epoch FROM pg_catalog.now()) * 1000000)::bigint",
						   0, NULL, &us, err))
		return false;
	*now_us = us;
	return true;
}

bool
archive_sql_server_facts(PgConn *pc, char **version, char **now, PgpError *err)
{
	*version = *now = NULL;
	return pgc_query_value(pc, "SELECT pg_catalog.current_setting('server_version')", 0, NULL,
						   version, err) &&
		   pgc_query_value(pc, "SELECT pg_catalog.now()::text", 0, NULL, now, err);
}

/* SELECT what (a number) of the relation schema.name (c): 0 when there is none */
static bool
rel_number(PgConn *pc, const char *what, const char *schema, const char *name, long long *n,
		   PgpError *err)
{
	const char *params[2] = {schema, name};
	char *sql = pg_xasprintf("SELECT %s FROM pg_catalog.pg_class c "
							 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							 "WHERE n.nspname = $1 AND c.relname = $2",
							 what);
	bool ok = stmt_query_number(pc, sql, 2, params, n, err);

	free(sql);
	return ok;
}

bool
archive_sql_rel_oid(PgConn *pc, const char *schema, const char *name, RelOid *oid, PgpError *err)
{
	long long n;

	if (!rel_number(pc, "c.oid", schema, name, &n, err))
		return false;
	*oid = (RelOid) n;
	return true;
}

bool
archive_is_foreign(PgConn *pc, RelOid rel, bool *foreign, PgpError *err)
{
	char *v = NULL;

	if (!catalog_oid_value(
		pc,
		"SELECT relkind = 'f' FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid",
		rel, &v, err))
		return false;
	*foreign = v && v[0] == 't';
	free(v);
	return true;
}

bool
archive_sql_attach_state(PgConn *pc, const char *schema, const char *name, bool *exists,
						 bool *attached, bool *pending, PgpError *err)
{
	const char *params[2] = {schema, name};
	PGresult *res;

	res = pgc_query(pc,
					"SELECT c.oid, h.inhdetachpending "
					"FROM pg_catalog.pg_class c "
					"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					"LEFT JOIN pg_catalog.pg_inherits h ON h.inhrelid = c.oid "
					"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'",
					2, params, err);
	if (res == NULL)
		return false;
	*exists = PQntuples(res) > 0;
	*attached = *exists && !PQgetisnull(res, 0, 1);
	*pending = *attached && PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	return true;
}

bool
archive_sql_table_bytes(PgConn *pc, const char *schema, const char *name, long long *bytes,
						PgpError *err)
{
	return rel_number(pc, "pg_catalog.pg_total_relation_size(c.oid)", schema, name, bytes, err);
}

bool
archive_sql_columns(PgConn *pc, RelOid rel, json_t **columns, char **copy_columns, PgpError *err)
{
	PGresult *res;
	StrBuf cols;
	int i;

	res = catalog_oid_query(
		pc,
		"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
		"a.attnotnull, a.attgenerated <> '' "
		"FROM pg_catalog.pg_attribute a "
		"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
		"ORDER BY a.attnum",
		rel, err);
	if (res == NULL)
		return false;
	sb_init(&cols);
	*columns = json_array();
	for (i = 0; i < PQntuples(res); i++)
	{
		bool generated = PQgetvalue(res, i, 3)[0] == 't';

		json_array_append_new(*columns,
							  json_pack("{s:s, s:s, s:b, s:b}", "name", PQgetvalue(res, i, 0),
										"type", PQgetvalue(res, i, 1), "not_null",
										PQgetvalue(res, i, 2)[0] == 't', "generated", generated));
		if (generated)
			continue; /* recomputed on restore */
		if (cols.len)
			sb_append(&cols, ", ");
		pgc_append_ident(pc, &cols, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	*copy_columns = sb_steal(&cols);
	return true;
}

bool
archive_sql_indexes(PgConn *pc, RelOid rel, json_t **indexes, PgpError *err)
{
	PGresult *res;
	int i;

	/*
	 * The definition names the table; restore may load into another name
	 * first, so keep also what follows "ON table ": "USING method (...)".
	 */
	res = catalog_oid_query(
		pc,
		"SELECT ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid), con.conname, "
		"pg_catalog.pg_get_constraintdef(con.oid), i.indisunique, "
		"CASE WHEN i.indisunique THEN 'CREATE UNIQUE INDEX ' ELSE 'CREATE INDEX ' END "
		"|| pg_catalog.quote_ident(ic.relname) || ' ON ' "
		"|| pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.relname) "
		"|| ' ' "
		"FROM pg_catalog.pg_index i "
		"JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
		"LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid "
		"AND con.conrelid = i.indrelid "
		"WHERE i.indrelid = $1::pg_catalog.oid ORDER BY ic.relname",
		rel, err);
	if (res == NULL)
		return false;
	*indexes = json_array();
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *def = PQgetvalue(res, i, 1), *prefix = PQgetvalue(res, i, 5);
		json_t *o = json_pack("{s:s, s:s, s:b}", "name", PQgetvalue(res, i, 0), "definition", def,
							  "unique", PQgetvalue(res, i, 4)[0] == 't');

		if (strncmp(def, prefix, strlen(prefix)) == 0)
			json_object_set_new(o, "using", json_string(def + strlen(prefix)));
		if (!PQgetisnull(res, i, 2))
		{
			json_object_set_new(o, "constraint", json_string(PQgetvalue(res, i, 2)));
			json_object_set_new(o, "constraint_definition", json_string(PQgetvalue(res, i, 3)));
		}
		json_array_append_new(*indexes, o);
	}
	PQclear(res);
	return true;
}

bool
archive_sql_foreign_blocker(PgConn *pc, RelOid parent, const char **why, PgpError *err)
{
	PGresult *res;

	*why = NULL;
	res = catalog_oid_query(
		pc,
		"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
		"  WHERE a.attrelid = $1::pg_catalog.oid AND a.attgenerated <> '' "
		"  AND NOT a.attisdropped), "
		"(SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, "
		"  'pg_execute_server_program', 'MEMBER') FROM pg_catalog.pg_roles r "
		"  WHERE r.rolname = CURRENT_USER), "
		"EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions "
		"  WHERE name = 'file_fdw')",
		parent, err);
	if (res == NULL)
		return false;
	/* unique indexes are no blocker: the foreign partition goes under a companion */
	if (PQgetvalue(res, 0, 0)[0] == 't')
		*why = "the table has generated columns";
	else if (PQgetvalue(res, 0, 1)[0] != 't')
		*why = "the server does not let this role run programs (it needs superuser or "
			   "pg_execute_server_program for file_fdw's program option)";
	else if (PQgetvalue(res, 0, 2)[0] != 't')
		*why = "the server has no file_fdw extension available";
	PQclear(res);
	return true;
}

/* ---- statements that change something ---------------------------------- */

bool
archive_sql_detach(PgConn *pc, const char *parent_q, const char *qualified, ArchDetach how,
				   PgpError *err)
{
	static const char *const suffix[] = {"", " CONCURRENTLY", " FINALIZE"};

	return stmt_change_f(pc, err, "ALTER TABLE %s DETACH PARTITION %s%s", parent_q, qualified,
					 suffix[how]);
}

bool
archive_sql_set_lock_timeout(PgConn *pc, int ms, PgpError *err)
{
	char *set = pg_xasprintf("SET lock_timeout = '%dms'", ms);
	bool ok = pgc_exec(pc, set, 0, NULL, err);

	free(set);
	return ok;
}

void
archive_sql_reset_lock_timeout(PgConn *pc)
{
	pgc_exec_quiet(pc, "RESET lock_timeout", 0, NULL);
}

bool
archive_sql_add_bounds_check(PgConn *pc, const char *qualified, const char *column,
							 const char *lo, const char *hi, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "ALTER TABLE %s ADD CONSTRAINT " ARCHIVE_BOUNDS_CONSTRAINT " CHECK (", qualified);
	partition_append_bounds(pc, &sql, column, lo, hi);
	sb_append(&sql, ")");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
archive_sql_lock_exclusive(PgConn *pc, const char *qualified, PgpError *err)
{
	return stmt_change_f(pc, err, "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", qualified);
}

bool
archive_sql_count_rows(PgConn *pc, const char *qualified, long long *rows, PgpError *err)
{
	char *sql = pg_xasprintf("SELECT pg_catalog.count(*) FROM %s", qualified);
	bool ok = stmt_query_number(pc, sql, 0, NULL, rows, err);

	free(sql);
	return ok;
}

bool
archive_sql_drop_table(PgConn *pc, const char *qualified, PgpError *err)
{
	return stmt_change_f(pc, err, "DROP TABLE %s", qualified);
}

bool
archive_sql_plan_note(PgConn *pc, const char *note, PgpError *err)
{
	(void) err;
	pgc_dry_run_note(pc, note);
	return true;
}

/* "name" type [NOT NULL], ... of a manifest's columns */
static void
append_column_defs(PgConn *pc, StrBuf *sb, json_t *columns)
{
	size_t i;
	json_t *col;

	json_array_foreach(columns, i, col)
	{
		if (i)
			sb_append(sb, ", ");
		pgc_append_ident(pc, sb, json_string_value(json_object_get(col, "name")));
		sb_appendf(sb, " %s%s", json_string_value(json_object_get(col, "type")),
				   json_is_true(json_object_get(col, "not_null")) ? " NOT NULL" : "");
	}
}

char *
archive_sql_table_ddl(PgConn *pc, const char *qualified, json_t *columns)
{
	StrBuf sb;

	sb_init(&sb);
	sb_appendf(&sb, "CREATE TABLE %s (", qualified);
	append_column_defs(pc, &sb, columns);
	sb_append(&sb, ")");
	return sb_steal(&sb);
}

bool
archive_sql_fdw_server(PgConn *pc, PgpError *err)
{
	return pgc_change(pc, "CREATE EXTENSION IF NOT EXISTS file_fdw SCHEMA pgpart", 0, NULL, err) &&
		   pgc_change(pc, "CREATE SERVER IF NOT EXISTS pgpart_archive FOREIGN DATA WRAPPER file_fdw",
					  0, NULL, err);
}

bool
archive_sql_create_foreign(PgConn *pc, const char *qualified, json_t *columns, const char *program,
						   PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "CREATE FOREIGN TABLE %s (", qualified);
	append_column_defs(pc, &sql, columns);
	sb_append(&sql, ") SERVER pgpart_archive OPTIONS (program ");
	pgc_append_literal(pc, &sql, program);
	sb_append(&sql, ", format 'text')");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
archive_sql_read_one_row(PgConn *pc, const char *qualified, PgpError *err)
{
	char *sql = pg_xasprintf("SELECT 1 FROM %s LIMIT 1", qualified);
	bool ok = pgc_exec(pc, sql, 0, NULL, err);

	free(sql);
	return ok;
}

/* ---- COPY -------------------------------------------------------------- */

void
archive_sql_copy_error(PgConn *pc, PGresult *res, PgpError *err, const char *what)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;

	err_set(err, EXIT_RUNTIME, "%s: %s", what, primary ? primary : PQerrorMessage(pc->conn));
	if (detail)
		err_detail(err, "%s", detail);
	if (state)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
}

bool
archive_sql_copy_out_begin(PgConn *pc, const char *qualified, const char *copy_columns,
						   ArchCopy *copy, PgpError *err)
{
	PGresult *res;
	bool ok;

	archcopy_free(copy);
	copy->sql = pg_xasprintf("COPY %s (%s) TO STDOUT", qualified, copy_columns);
	log_debug("%s", copy->sql);
	copy->started = clock_ms();
	res = PQexecParams(pc->conn, copy->sql, 0, NULL, NULL, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_COPY_OUT;
	if (!ok)
		archive_sql_copy_error(pc, res, err, "COPY of the partition failed");
	PQclear(res);
	return ok;
}

bool
archive_sql_copy_out_end(PgConn *pc, ArchCopy *copy, PgpError *err)
{
	PGresult *res = PQgetResult(pc->conn);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (ok)
	{
		copy->duration_ms = clock_ms() - copy->started;
		FREE_ALL(copy->tag, copy->rows);
		copy->tag = pg_xstrdup(PQcmdStatus(res));
		copy->rows = pg_xstrdup(PQcmdTuples(res));
	}
	else
		archive_sql_copy_error(pc, res, err, "COPY of the partition failed");
	PQclear(res);
	while ((res = PQgetResult(pc->conn)) != NULL)
		PQclear(res);
	return ok;
}
