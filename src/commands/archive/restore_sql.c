/*
 * restore_sql.c - every statement pgpart restore sends but those it shares
 * with archive (archive_sql.c), in one place to audit.  A manifest's text
 * reaches them only as $n parameters (checksums, bounds, the manifest's
 * URL), quoted identifiers (its column names, checked against the table
 * first) or escaped literals (the bounds in DDL); index definitions come
 * from the catalog, never from a manifest.  Statements that change
 * something go through pgc_change, so --dry-run prints them instead.
 */
#include "commands/archive/restore_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive_sql.h"
#include "pg/changelog.h"
#include "pg/partition.h"
#include "pg/stmt.h"
#include "util/log.h"
#include "util/mem.h"

/* ---- pgpart.archive_job ------------------------------------------------ */

PGresult *
restore_sql_job_by_manifest(PgConn *pc, const char *manifest_sha256, PgpError *err)
{
	const char *params[1] = {manifest_sha256};

	return pgc_query(pc,
					 "SELECT id::text, sha256, rows::text, raw_bytes::text, compressed_bytes::text, "
					 "parent_schema, parent_name FROM pgpart.archive_job "
					 "WHERE manifest_sha256 = $1 ORDER BY id DESC LIMIT 1",
					 1, params, err);
}

PGresult *
restore_sql_job_by_object(PgConn *pc, const char *sha256, const char *manifest_url,
						  PgpError *err)
{
	const char *params[2] = {sha256, manifest_url};

	return pgc_query(pc,
					 "SELECT id::text, manifest_sha256, location || '/' || manifest_key, sha256, "
					 "rows::text, raw_bytes::text, compressed_bytes::text, lo, hi, part_column, "
					 "partition_schema, partition_name FROM pgpart.archive_job "
					 "WHERE sha256 = $1 OR location || '/' || manifest_key = $2 "
					 "ORDER BY id DESC LIMIT 1",
					 2, params, err);
}

bool
restore_sql_job_restored(PgConn *pc, const char *job_id, PgpError *err)
{
	const char *params[1] = {job_id};

	return pgc_change(pc,
					  "UPDATE pgpart.archive_job SET phase = 'restored', foreign_table = false, "
					  "updated_at = pg_catalog.now() "
					  "WHERE id = $1::bigint AND phase = 'archived'",
					  1, params, err);
}

/* ---- the catalog ------------------------------------------------------- */

PGresult *
restore_sql_columns(PgConn *pc, RelOid parent, PgpError *err)
{
	return catalog_oid_query(
		pc,
		"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
		"FROM pg_catalog.pg_attribute a "
		"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
		"AND a.attgenerated = '' ORDER BY a.attname COLLATE \"C\"",
		parent, err);
}

PGresult *
restore_sql_bounds(PgConn *pc, KeyType kt, const char *lo, const char *hi, const char *tz,
				   PgpError *err)
{
	const char *params[3] = {lo, hi, tz};
	char *sql;
	PGresult *res;

	/* civil dates in the table's time zone, and instants to compare */
	if (kt == KEY_TIMESTAMPTZ)
		sql = pg_xstrdup(
			"SELECT ($1::pg_catalog.timestamptz AT TIME ZONE $3)::pg_catalog.date::text, "
			"($2::pg_catalog.timestamptz AT TIME ZONE $3)::pg_catalog.date::text, "
			"($1::pg_catalog.timestamptz AT TIME ZONE $3)::pg_catalog.time = '00:00' AND "
			"($2::pg_catalog.timestamptz AT TIME ZONE $3)::pg_catalog.time = '00:00', "
			"(EXTRACT(epoch FROM $1::pg_catalog.timestamptz) * 1000000)::bigint, "
			"(EXTRACT(epoch FROM $2::pg_catalog.timestamptz) * 1000000)::bigint");
	else
	{
		/* as timestamps (a date is its midnight), instants in the session's time zone as bounds_resolve */
		const char *ts = kt == KEY_DATE ? "::pg_catalog.date::pg_catalog.timestamp"
										: "::pg_catalog.timestamp";

		sql = pg_xasprintf("SELECT $1%1$s::pg_catalog.date::text, $2%1$s::pg_catalog.date::text, "
						   "$1%1$s::pg_catalog.time = '00:00' AND $2%1$s::pg_catalog.time = '00:00', "
						   "(EXTRACT(epoch FROM $1%1$s::pg_catalog.timestamptz) * 1000000)::bigint, "
						   "(EXTRACT(epoch FROM $2%1$s::pg_catalog.timestamptz) * 1000000)::bigint",
						   ts);
	}
	res = pgc_query(pc, sql, kt == KEY_TIMESTAMPTZ ? 3 : 2, params, err);
	free(sql);
	return res;
}

bool
restore_sql_count_indexes(PgConn *pc, RelOid parent, long long *n, PgpError *err)
{
	char *v = NULL;

	if (!catalog_oid_value(pc, "SELECT pg_catalog.count(*) FROM pg_catalog.pg_index "
								   "WHERE indrelid = $1::pg_catalog.oid",
							   parent, &v, err))
		return false;
	*n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return true;
}

/*
 * The row sql (its $1 parent's OID, $2 and $3 schema and name) reads of the
 * relation schema.name, which exists when there is one.
 */
static PGresult *
query_named(PgConn *pc, const char *sql, const char *schema, const char *name, RelOid parent,
			bool *exists, PgpError *err)
{
	const char *args[2] = {schema, name};
	PGresult *r = catalog_oid_query_args(pc, sql, parent, 2, args, err);

	*exists = r && PQntuples(r) > 0;
	return r;
}

bool
restore_sql_foreign_state(PgConn *pc, const char *schema, const char *name, RelOid parent,
						  bool *exists, char **holder_q, PgpError *err)
{
	PGresult *r = query_named(pc,
							  "SELECT CASE WHEN c.relkind = 'f' AND EXISTS ("
							  "  SELECT 1 FROM pg_catalog.pg_foreign_table ft "
							  "  JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver "
							  "  WHERE ft.ftrelid = c.oid AND s.srvname = 'pgpart_archive') "
							  "THEN (SELECT h.inhparent::pg_catalog.regclass::text "
							  "  FROM pg_catalog.pg_inherits h WHERE h.inhrelid = c.oid "
							  "  AND (h.inhparent = $1::pg_catalog.oid OR h.inhparent = "
							  "    (SELECT p.foreign_parent FROM pgpart.part_config p "
							  "     WHERE p.parent_table = $1::pg_catalog.oid))) END "
							  "FROM pg_catalog.pg_class c "
							  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							  "WHERE n.nspname = $2 AND c.relname = $3",
							  schema, name, parent, exists, err);

	*holder_q = NULL;
	if (r == NULL)
		return false;
	if (*exists && !PQgetisnull(r, 0, 0))
		*holder_q = pg_xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return true;
}

bool
restore_sql_leftover(PgConn *pc, const char *schema, const char *name, RelOid parent,
					 bool *exists, char **comment, bool *owners, PgpError *err)
{
	PGresult *r = query_named(pc,
							  "SELECT pg_catalog.obj_description(c.oid, 'pg_class'), "
							  "c.relowner = p.relowner AND c.relkind = 'r' AND NOT c.relispartition "
							  "FROM pg_catalog.pg_class c "
							  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, "
							  "pg_catalog.pg_class p "
							  "WHERE n.nspname = $2 AND c.relname = $3 AND p.oid = $1::pg_catalog.oid",
							  schema, name, parent, exists, err);

	*comment = NULL;
	if (r == NULL)
		return false;
	if (*exists && !PQgetisnull(r, 0, 0))
		*comment = pg_xstrdup(PQgetvalue(r, 0, 0));
	*owners = *exists && PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	return true;
}

PGresult *
restore_sql_indexes_of(PgConn *pc, const char *schema, const char *name, PgpError *err)
{
	const char *params[2] = {schema, name};

	return pgc_query(pc,
					 "SELECT ic.relname, ic.relname IN (SELECT c2.relname FROM pg_catalog.pg_class c2 "
					 "  WHERE c2.relnamespace = n.oid) "
					 "FROM pg_catalog.pg_index i "
					 "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
					 "JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
					 "JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
					 "WHERE n.nspname = $1 AND t.relname = $2",
					 2, params, err);
}

/* ---- loading ----------------------------------------------------------- */

void
restore_sql_rollback(PgConn *pc)
{
	PGresult *res;

	while ((res = PQgetResult(pc->conn)) != NULL)
		PQclear(res);
	pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
}

bool
restore_sql_create_like(PgConn *pc, const char *qualified, const char *parent_q,
						const char *column, const char *lo, const char *hi, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql,
			   "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
			   "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION, "
			   "CONSTRAINT " ARCHIVE_BOUNDS_CONSTRAINT " CHECK (",
			   qualified, parent_q);
	partition_append_bounds(pc, &sql, column, lo, hi);
	sb_append(&sql, "))");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
restore_sql_mark(PgConn *pc, const char *qualified, const char *mark, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "COMMENT ON TABLE %s IS ", qualified);
	if (mark)
		pgc_append_literal(pc, &sql, mark);
	else
		sb_append(&sql, "NULL");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
restore_sql_copy_in_begin(PgConn *pc, const char *qualified, json_t *columns, const char *what,
						  PgpError *err)
{
	StrBuf sql;
	size_t ci;
	json_t *col;
	bool first = true, ok;

	/* the order of the data's columns; names checked against the table, quoted here */
	sb_init(&sql);
	sb_appendf(&sql, "COPY %s (", qualified);
	json_array_foreach(columns, ci, col)
	{
		if (json_is_true(json_object_get(col, "generated")))
			continue;
		if (!first)
			sb_append(&sql, ", ");
		pgc_append_ident(pc, &sql, json_string_value(json_object_get(col, "name")));
		first = false;
	}
	sb_append(&sql, ") FROM STDIN");
	if (pc->dry_run)
	{
		char *note = pg_xasprintf("(rows of %s)", what);

		ok = pgc_change(pc, sql.data, 0, NULL, err) && archive_sql_plan_note(pc, note, err);
		free(note);
	}
	else
	{
		PGresult *res;

		log_debug("%s", sql.data);
		res = PQexecParams(pc->conn, sql.data, 0, NULL, NULL, NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_COPY_IN;
		if (!ok)
			archive_sql_copy_error(pc, res, err, "COPY into the restored table failed");
		PQclear(res);
	}
	sb_free(&sql);
	return ok;
}

bool
restore_sql_copy_in_end(PgConn *pc, bool ok, long long *rows, PgpError *err)
{
	PGresult *res;
	bool done_ok;

	*rows = -1;
	PQputCopyEnd(pc->conn, ok ? NULL : "pgpart: archive object failed verification");
	res = PQgetResult(pc->conn);
	done_ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (ok && !done_ok)
		archive_sql_copy_error(pc, res, err, "COPY into the restored table failed");
	else if (done_ok)
		*rows = strtoll(PQcmdTuples(res), NULL, 10);
	/* the rows of the archive, with the statement of the COPY this ends */
	if (done_ok && !changelog_record(pc, "COPY FROM STDIN (restore of an archived partition)", res,
									 0, err))
		done_ok = false;
	PQclear(res);
	while ((res = PQgetResult(pc->conn)) != NULL)
		PQclear(res);
	return done_ok;
}

bool
restore_sql_build_indexes(PgConn *pc, RelOid parent, const char *target_q, PgpError *err)
{
	PGresult *res;
	StrBuf sql;
	int i;
	bool ok = true;

	res = catalog_oid_query(
		pc,
		"SELECT pg_catalog.pg_get_indexdef(i.indexrelid), "
		"CASE WHEN i.indisunique THEN 'CREATE UNIQUE INDEX ' ELSE 'CREATE INDEX ' END "
		"  || pg_catalog.quote_ident(ic.relname) || ' ON ', "
		"pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.relname) "
		"  || ' USING ', "
		"con.oid IS NOT NULL, pg_catalog.pg_get_constraintdef(con.oid), "
		"i.indisunique "
		"FROM pg_catalog.pg_index i "
		"JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
		"LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid "
		"  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') "
		"WHERE i.indrelid = $1::pg_catalog.oid ORDER BY ic.relname",
		parent, err);
	if (res == NULL)
		return false;
	sb_init(&sql);
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *def = PQgetvalue(res, i, 0), *head = PQgetvalue(res, i, 1);
		const char *table = PQgetvalue(res, i, 2);
		size_t hl = strlen(head), tl = strlen(table);

		if (PQgetvalue(res, i, 3)[0] == 't')
			sb_appendf(&sql, "ALTER TABLE %s ADD %s", target_q, PQgetvalue(res, i, 4));
		else if (strncmp(def, head, hl) == 0)
		{
			/* "CREATE INDEX name ON [ONLY ]schema.table USING ..." */
			const char *p = def + hl;

			if (strncmp(p, "ONLY ", 5) == 0)
				p += 5;
			if (strncmp(p, table, tl) != 0)
				continue;
			sb_appendf(&sql, "CREATE %sINDEX ON %s USING %s",
					   PQgetvalue(res, i, 5)[0] == 't' ? "UNIQUE " : "", target_q, p + tl);
		}
		else
			continue;
		ok = stmt_change_sb(pc, &sql, err);
	}
	PQclear(res);
	sb_free(&sql);
	return ok;
}

/* ---- attaching --------------------------------------------------------- */

bool
restore_sql_rename_table(PgConn *pc, const char *from_q, const char *to_ident, PgpError *err)
{
	return stmt_change_f(pc, err, "ALTER TABLE %s RENAME TO %s", from_q, to_ident);
}

bool
restore_sql_rename_index(PgConn *pc, const char *schema, const char *old, const char *want,
						 PgpError *err)
{
	char *oq = pgc_quote_qualified(pc, schema, old), *nq = pgc_quote_ident(pc, want);
	bool ok = stmt_change_f(pc, err, "ALTER INDEX %s RENAME TO %s", oq, nq);

	free(oq);
	free(nq);
	return ok;
}
