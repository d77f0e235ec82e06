/*
 * archive.c - pgpart archive: one closed partition to an object and its
 * manifest, in recorded phases (see archive.h), and pgpart archive list.
 */
#include "commands/archive/archive.h"

#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "storage/digest.h"
#include "commands/archive/archive_int.h"
#include "pg/partition.h"
#include "pg/bounds.h"
#include "pg/config.h"
#include "pg/schema.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/progress.h"
#include "util/version.h"

/* ---- shared helpers (archive_int.h) ------------------------------- */

void
archjob_free(ArchJob *j)
{
	free(j->id);
	free(j->phase);
	free(j->location);
	free(j->object_key);
	free(j->manifest_key);
	free(j->lo);
	free(j->hi);
	free(j->pschema);
	free(j->pname);
	free(j->column);
	free(j->sha256);
	free(j->manifest_sha256);
	memset(j, 0, sizeof(*j));
}

#ifdef PGPART_TEST_HOOKS
/* PGPART_TEST_ARCHIVE_KILL=POINT: the process dies with SIGKILL at that point */
void
archive_test_kill(const char *point)
{
	const char *env = getenv("PGPART_TEST_ARCHIVE_KILL");

	if (env && strcmp(env, point) == 0)
	{
		fflush(NULL);
		raise(SIGKILL);
	}
}
#endif

bool
arch_exec_sb(PgConn *pc, StrBuf *sb, PgpError *err)
{
	bool ok = pgc_change(pc, sb->data, 0, NULL, err);

	sb_reset(sb);
	return ok;
}

void
arch_append_check(PgConn *pc, StrBuf *sb, const char *column, const char *lo, const char *hi)
{
	pgc_append_ident(pc, sb, column);
	sb_append(sb, " IS NOT NULL AND ");
	pgc_append_ident(pc, sb, column);
	sb_append(sb, " >= ");
	pgc_append_literal(pc, sb, lo);
	sb_append(sb, " AND ");
	pgc_append_ident(pc, sb, column);
	sb_append(sb, " < ");
	pgc_append_literal(pc, sb, hi);
}

void
arch_append_for_values(PgConn *pc, StrBuf *sb, const char *lo, const char *hi)
{
	sb_append(sb, " FOR VALUES FROM (");
	pgc_append_literal(pc, sb, lo);
	sb_append(sb, ") TO (");
	pgc_append_literal(pc, sb, hi);
	sb_append(sb, ")");
}

/* the error of a COPY result (the helpers in pg/conn.c cover ordinary statements) */
void
arch_result_error(PgConn *pc, PGresult *res, PgpError *err, const char *what)
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

/* ---- the job row ---------------------------------------------------- */

#define JOB_COLUMNS                                                                        \
	"id::text, phase, location, object_key, manifest_key, lo, hi, partition_schema, "      \
	"partition_name, part_column, sha256, rows, raw_bytes, compressed_bytes, manifest_sha256"

static void
job_from_row(PGresult *res, int i, ArchJob *j)
{
	j->id = pg_xstrdup(PQgetvalue(res, i, 0));
	j->phase = pg_xstrdup(PQgetvalue(res, i, 1));
	j->location = pg_xstrdup(PQgetvalue(res, i, 2));
	j->object_key = pg_xstrdup(PQgetvalue(res, i, 3));
	j->manifest_key = pg_xstrdup(PQgetvalue(res, i, 4));
	j->lo = pg_xstrdup(PQgetvalue(res, i, 5));
	j->hi = pg_xstrdup(PQgetvalue(res, i, 6));
	j->pschema = pg_xstrdup(PQgetvalue(res, i, 7));
	j->pname = pg_xstrdup(PQgetvalue(res, i, 8));
	j->column = pg_xstrdup(PQgetvalue(res, i, 9));
	j->sha256 = PQgetisnull(res, i, 10) ? NULL : pg_xstrdup(PQgetvalue(res, i, 10));
	j->rows = PQgetisnull(res, i, 11) ? -1 : strtoll(PQgetvalue(res, i, 11), NULL, 10);
	j->raw_bytes = PQgetisnull(res, i, 12) ? -1 : strtoll(PQgetvalue(res, i, 12), NULL, 10);
	j->compressed_bytes =
		PQgetisnull(res, i, 13) ? -1 : strtoll(PQgetvalue(res, i, 13), NULL, 10);
	j->manifest_sha256 = PQgetisnull(res, i, 14) ? NULL : pg_xstrdup(PQgetvalue(res, i, 14));
}

/* unfinished jobs of a parent (pschema NULL) or of one partition */
static bool
jobs_active(PgConn *pc, const char *parent_schema, const char *parent_name, const char *pschema,
			const char *pname, ArchJob **jobs, int *n, PgpError *err)
{
	const char *params[2];
	PGresult *res;
	int i;

	*jobs = NULL;
	*n = 0;
	if (pschema)
	{
		params[0] = pschema;
		params[1] = pname;
	}
	else
	{
		params[0] = parent_schema;
		params[1] = parent_name;
	}
	res = pgc_query(pc,
					pschema ? "SELECT " JOB_COLUMNS " FROM pgpart.archive_job "
							  "WHERE partition_schema = $1 AND partition_name = $2 "
							  "AND phase IN ('started', 'detached', 'uploaded', 'verified') "
							  "ORDER BY id"
							: "SELECT " JOB_COLUMNS " FROM pgpart.archive_job "
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

static bool
job_set_phase(PgConn *pc, ArchJob *j, const char *phase, PgpError *err)
{
	const char *params[2] = {j->id, phase};

	if (!pgc_change(pc,
					"UPDATE pgpart.archive_job SET phase = $2, updated_at = pg_catalog.now(), "
					"finished_at = CASE WHEN $2 IN ('archived', 'reattached') "
					"THEN pg_catalog.now() END "
					"WHERE id = $1::bigint",
					2, params, err))
		return false;
	free(j->phase);
	j->phase = pg_xstrdup(phase);
	return true;
}

/* ---- one partition --------------------------------------------------- */

typedef struct PartCtx
{
	const ArchiveOptions *opt;
	PgConn *pc;
	Storage *st;
	const char *parent_schema, *parent_name;
	RelOid parent;
	ArchJob *job;
	ArchivedPartition *out;
	char *qualified;	  /* "schema"."partition" */
	char *parent_q;		  /* "schema"."parent" */
	char *copy_columns;	  /* quoted, comma separated */
	json_t *columns;	  /* [{name, type, not_null}] */
	bool has_default;	  /* the parent has a default partition */
	int64_t est_rows;	  /* for the progress bar */
	bool fdw;			  /* leave a file_fdw foreign partition in place of the table */
	char *fdw_program;	  /* zstd -dc -- 'PATH' */
} PartCtx;

static bool
detach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	PartCtx *c = arg;
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "ALTER TABLE %s DETACH PARTITION %s", c->parent_q, c->qualified);
	ok = arch_exec_sb(pc, &sql, err);
	sb_free(&sql);
	lock_txn_mark_locked(stats);
	return ok && job_set_phase(pc, c->job, "detached", err);
}

/* pg_inherits: is it attached, and is a DETACH CONCURRENTLY half done? */
static bool
attach_state(PgConn *pc, PartCtx *c, bool *exists, bool *attached, bool *pending, PgpError *err)
{
	const char *params[2] = {c->job->pschema, c->job->pname};
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

/* DETACH ... CONCURRENTLY / FINALIZE: outside a transaction, retried on lock timeout */
static bool
detach_concurrently(PgConn *pc, PartCtx *c, bool finalize, PgpError *err)
{
	const LockPolicy *lp = &c->opt->lock;
	StrBuf sql;
	char *set = pg_xasprintf("SET lock_timeout = '%dms'", lp->lock_timeout_ms);
	int attempt;
	bool ok = false;

	sb_init(&sql);
	for (attempt = 1; attempt <= lp->max_attempts; attempt++)
	{
		if (!pgc_exec(pc, set, 0, NULL, err))
			break;
		sb_reset(&sql);
		sb_appendf(&sql, "ALTER TABLE %s DETACH PARTITION %s %s", c->parent_q, c->qualified,
				   finalize ? "FINALIZE" : "CONCURRENTLY");
		ok = pgc_change(pc, sql.data, 0, NULL, err);
		if (ok || !pgc_error_is_retryable_lock(err) || attempt == lp->max_attempts)
			break;
		log_info("lock not granted for DETACH (attempt %d of %d); retrying", attempt,
				 lp->max_attempts);
		err_clear(err);
		sleep_ms(lp->backoff_initial_ms * attempt);
	}
	{
		PgpError ignored;

		err_init(&ignored);
		pgc_exec(pc, "RESET lock_timeout", 0, NULL, &ignored);
		err_clear(&ignored);
	}
	free(set);
	sb_free(&sql);
	return ok;
}

static bool
step_detach(PartCtx *c, PgpError *err)
{
	bool exists, attached, pending;
	LockStats ls;

	if (!attach_state(c->pc, c, &exists, &attached, &pending, err))
		return false;
	if (!exists)
	{
		err_set(err, EXIT_RUNTIME, "partition %s.%s of an unfinished archive job no longer exists",
				c->job->pschema, c->job->pname);
		err_hint(err, "Look at pgpart.archive_job (id %s).", c->job->id);
		return false;
	}
	if (pending)
	{
		/* a DETACH CONCURRENTLY was interrupted */
		if (!detach_concurrently(c->pc, c, true, err))
			return false;
		return job_set_phase(c->pc, c->job, "detached", err);
	}
	if (!attached)
		return job_set_phase(c->pc, c->job, "detached", err);
	if (c->has_default)
	{
		/*
		 * PostgreSQL refuses DETACH ... CONCURRENTLY when the parent has a
		 * default partition: a plain DETACH, a catalog change under
		 * lock_timeout, retried with backoff; the phase is recorded in the
		 * same transaction.
		 */
		memset(&ls, 0, sizeof(ls));
		if (!lock_run_txn(c->pc, &c->opt->lock, detach_body, c, &ls, err))
			return false;
		if (ls.held_ms > c->out->max_lock_held_ms)
			c->out->max_lock_held_ms = ls.held_ms;
		return true;
	}
	if (!detach_concurrently(c->pc, c, false, err))
		return false;
	return job_set_phase(c->pc, c->job, "detached", err);
}

/* columns of the table for COPY and for the manifest */
static bool
load_columns(PartCtx *c, RelOid rel, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;
	StrBuf cols;
	int i;

	snprintf(oid, sizeof(oid), "%u", rel);
	res = pgc_query(c->pc,
					"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
					"a.attnotnull, a.attgenerated <> '' "
					"FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
					"ORDER BY a.attnum",
					1, params, err);
	if (res == NULL)
		return false;
	sb_init(&cols);
	c->columns = json_array();
	for (i = 0; i < PQntuples(res); i++)
	{
		bool generated = PQgetvalue(res, i, 3)[0] == 't';

		json_array_append_new(c->columns,
							  json_pack("{s:s, s:s, s:b, s:b}", "name", PQgetvalue(res, i, 0),
										"type", PQgetvalue(res, i, 1), "not_null",
										PQgetvalue(res, i, 2)[0] == 't', "generated", generated));
		if (generated)
			continue; /* recomputed on restore */
		if (cols.len)
			sb_append(&cols, ", ");
		pgc_append_ident(c->pc, &cols, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	c->copy_columns = sb_steal(&cols);
	return true;
}

typedef struct Upload
{
	ZSTD_CCtx *cctx;
	Sha256 *sha;
	StorageWriter *w;
	Storage *st;
	void *out;
	size_t out_cap;
	long long raw, comp, rows;
	bool first_written;
} Upload;

static bool
upload_flush(Upload *u, ZSTD_inBuffer *in, ZSTD_EndDirective mode, PgpError *err)
{
	for (;;)
	{
		ZSTD_outBuffer out = {u->out, u->out_cap, 0};
		size_t rem = ZSTD_compressStream2(u->cctx, &out, in, mode);

		if (ZSTD_isError(rem))
		{
			err_set(err, EXIT_RUNTIME, "zstd compression failed: %s", ZSTD_getErrorName(rem));
			return false;
		}
		if (out.pos > 0)
		{
			sha256_update(u->sha, u->out, out.pos);
			u->comp += (long long) out.pos;
			if (!u->st->ops->put_write(u->w, u->out, out.pos, err))
				return false;
#ifdef PGPART_TEST_HOOKS
			if (!u->first_written)
				archive_test_kill("mid_upload");
#endif
			u->first_written = true;
		}
		if (mode == ZSTD_e_end ? rem == 0 : in->pos == in->size)
			return true;
	}
}

/* stops a COPY OUT that we no longer want and drains the connection */
static void
abandon_copy(PgConn *pc)
{
	PGcancel *cancel = PQgetCancel(pc->conn);
	char errbuf[256];
	char *buf;
	PGresult *res;

	if (cancel)
	{
		PQcancel(cancel, errbuf, sizeof(errbuf));
		PQfreeCancel(cancel);
	}
	while (PQgetCopyData(pc->conn, &buf, 0) > 0)
		PQfreemem(buf);
	while ((res = PQgetResult(pc->conn)) != NULL)
		PQclear(res);
}

static bool
step_upload(PartCtx *c, PgpError *err)
{
	Upload u;
	StrBuf sql;
	PGresult *res;
	char sha[65];
	bool ok = false, copying = false;
	double t0 = clock_ms();
	int level = c->opt->level ? c->opt->level : 3;
	Progress prog;

	memset(&u, 0, sizeof(u));
	memset(&prog, 0, sizeof(prog));
	sb_init(&sql);
	u.st = c->st;
	u.cctx = ZSTD_createCCtx();
	u.out_cap = ZSTD_CStreamOutSize();
	u.out = pg_xmalloc(u.out_cap);
	ZSTD_CCtx_setParameter(u.cctx, ZSTD_c_compressionLevel, level);
	/* a content checksum in the frame: a damaged object fails decompression too */
	ZSTD_CCtx_setParameter(u.cctx, ZSTD_c_checksumFlag, 1);
	u.sha = sha256_new();
	if (!c->st->ops->put_open(c->st, c->job->object_key, &u.w, err))
		goto done;
	/* one statement, one snapshot: exactly the rows of the detached table */
	sb_appendf(&sql, "COPY %s (%s) TO STDOUT", c->qualified, c->copy_columns);
	log_debug("%s", sql.data);
	res = PQexecParams(c->pc->conn, sql.data, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
	{
		arch_result_error(c->pc, res, err, "COPY of the partition failed");
		PQclear(res);
		goto done;
	}
	PQclear(res);
	copying = true;
	progress_start(&prog, "rows", c->est_rows, c->opt->show_progress);
	for (;;)
	{
		char *buf;
		int n = PQgetCopyData(c->pc->conn, &buf, 0);
		ZSTD_inBuffer in;

		if (n == -1)
			break;
		if ((u.rows & 1023) == 0)
			progress_update(&prog, u.rows, c->job->pname);
		if (n < 0)
		{
			err_set(err, EXIT_RUNTIME, "COPY of the partition failed: %s",
					PQerrorMessage(c->pc->conn));
			goto done;
		}
		u.raw += n;
		u.rows++;
		in.src = buf;
		in.size = (size_t) n;
		in.pos = 0;
		ok = upload_flush(&u, &in, ZSTD_e_continue, err);
		PQfreemem(buf);
		if (!ok)
			goto done;
		ok = false;
	}
	copying = false;
	progress_update(&prog, u.rows, c->job->pname);
	res = PQgetResult(c->pc->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		arch_result_error(c->pc, res, err, "COPY of the partition failed");
		PQclear(res);
		while ((res = PQgetResult(c->pc->conn)) != NULL)
			PQclear(res);
		goto done;
	}
	PQclear(res);
	while ((res = PQgetResult(c->pc->conn)) != NULL)
		PQclear(res);
	{
		ZSTD_inBuffer in = {NULL, 0, 0};

		if (!upload_flush(&u, &in, ZSTD_e_end, err))
			goto done;
	}
	ok = c->st->ops->put_finish(u.w, true, err);
	u.w = NULL;
done:
	progress_finish(&prog);
	if (copying)
		abandon_copy(c->pc);
	if (u.w)
		c->st->ops->put_finish(u.w, false, NULL);
	sha256_finish(u.sha, sha);
	ZSTD_freeCCtx(u.cctx);
	free(u.out);
	sb_free(&sql);
	if (!ok)
		return false;
	c->out->copy_ms = clock_ms() - t0;
	c->job->rows = u.rows;
	c->job->raw_bytes = u.raw;
	c->job->compressed_bytes = u.comp;
	free(c->job->sha256);
	c->job->sha256 = pg_xstrdup(sha);
	return true;
}

/* index definitions of the partition, so restore builds them before ATTACH */
static bool
load_indexes(PartCtx *c, RelOid rel, json_t **out, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;
	int i;

	snprintf(oid, sizeof(oid), "%u", rel);
	/*
	 * The definition names the table; restore may load into another name
	 * first, so keep also what follows "ON table ": "USING method (...)".
	 */
	res = pgc_query(c->pc,
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
					1, params, err);
	if (res == NULL)
		return false;
	*out = json_array();
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
		json_array_append_new(*out, o);
	}
	PQclear(res);
	return true;
}

static char *
table_ddl(const PartCtx *c)
{
	StrBuf sb;
	size_t i;
	json_t *col;

	sb_init(&sb);
	sb_appendf(&sb, "CREATE TABLE %s (", c->qualified);
	json_array_foreach(c->columns, i, col)
	{
		char *q = pgc_quote_ident(c->pc, json_string_value(json_object_get(col, "name")));

		sb_appendf(&sb, "%s%s %s%s", i ? ", " : "", q,
				   json_string_value(json_object_get(col, "type")),
				   json_is_true(json_object_get(col, "not_null")) ? " NOT NULL" : "");
		free(q);
	}
	sb_append(&sb, ")");
	return sb_steal(&sb);
}

static bool
step_manifest(PartCtx *c, RelOid rel, PgpError *err)
{
	json_t *m = NULL, *indexes = NULL;
	char *server = NULL, *now = NULL, *text = NULL, *ddl;
	const char *slash = strrchr(c->job->object_key, '/');
	char table_bytes[32];
	bool ok = false;

	if (!load_indexes(c, rel, &indexes, err) ||
		!pgc_query_value(c->pc, "SELECT pg_catalog.current_setting('server_version')", 0, NULL,
						 &server, err) ||
		!pgc_query_value(c->pc, "SELECT pg_catalog.now()::text", 0, NULL, &now, err))
		goto done;
	snprintf(table_bytes, sizeof(table_bytes), "%lld", c->out->table_bytes);
	ddl = table_ddl(c);
	m = json_pack("{s:s, s:i, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:{s:s, s:s}, "
				  "s:o, s:s, s:o, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s}",
				  "format", "pgpart-archive", "format_version", 1, "pgpart_version",
				  PGPART_VERSION, "server_version", server ? server : "", "archived_at", now,
				  "table", "schema", c->parent_schema, "name", c->parent_name, "partition",
				  "schema", c->job->pschema, "name", c->job->pname, "partition_column",
				  c->job->column, "bounds", "from", c->job->lo, "to", c->job->hi, "columns",
				  json_incref(c->columns), "table_ddl", ddl, "indexes", indexes, "rows",
				  (json_int_t) c->job->rows, "raw_bytes", (json_int_t) c->job->raw_bytes,
				  "compressed_bytes", (json_int_t) c->job->compressed_bytes, "table_bytes",
				  (json_int_t) c->out->table_bytes, "sha256", c->job->sha256, "object",
				  slash ? slash + 1 : c->job->object_key, "compression", "zstd",
				  "copy_format", "text", "copy_columns", c->copy_columns);
	indexes = NULL;
	free(ddl);
	if (m == NULL)
	{
		err_set(err, EXIT_RUNTIME, "could not build the manifest");
		goto done;
	}
	text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!storage_put_all(c->st, c->job->manifest_key, text, strlen(text), err))
		goto done;
	{
		/* recorded with the job: restore trusts a manifest only when it is this one */
		char mhash[65];

		sha256_hex(text, strlen(text), mhash);
		free(c->job->manifest_sha256);
		c->job->manifest_sha256 = pg_xstrdup(mhash);
	}
	ok = true;
done:
	json_decref(indexes);
	json_decref(m);
	free(text);
	free(server);
	free(now);
	return ok;
}

static bool
record_uploaded(PartCtx *c, PgpError *err)
{
	char rows[32], raw[32], comp[32];
	const char *params[6] = {c->job->id, rows, raw, comp, c->job->sha256, c->job->manifest_sha256};

	snprintf(rows, sizeof(rows), "%lld", c->job->rows);
	snprintf(raw, sizeof(raw), "%lld", c->job->raw_bytes);
	snprintf(comp, sizeof(comp), "%lld", c->job->compressed_bytes);
	if (!pgc_change(c->pc,
					"UPDATE pgpart.archive_job SET phase = 'uploaded', rows = $2::bigint, "
					"raw_bytes = $3::bigint, compressed_bytes = $4::bigint, sha256 = $5, "
					"manifest_sha256 = $6, last_error = NULL, updated_at = pg_catalog.now() "
					"WHERE id = $1::bigint",
					6, params, err))
		return false;
	free(c->job->phase);
	c->job->phase = pg_xstrdup("uploaded");
	return true;
}

/* reads the object back: SHA-256, size, and a complete, valid zstd stream of raw_bytes */
static bool
step_verify(PartCtx *c, PgpError *err)
{
	ArchiveReader r;
	bool ok;
	char *text = NULL;
	size_t len;
	json_t *m = NULL;
	json_error_t jerr;

	archive_reader_init(&r, c->job->object_key, NULL, NULL, c->job->compressed_bytes,
						c->job->raw_bytes);
	ok = c->st->ops->get(c->st, c->job->object_key, archive_reader_chunk, &r, err) &&
		 archive_reader_finish(&r, c->job->sha256, c->job->compressed_bytes, c->job->raw_bytes,
							   err);
	archive_reader_free(&r);
	if (!ok)
		return false;
	if (!storage_get_all(c->st, c->job->manifest_key, 16u << 20, &text, &len, err))
		return false;
	{
		char mhash[65];

		sha256_hex(text, len, mhash);
		m = json_loadb(text, len, 0, &jerr);
		free(text);
		if (m == NULL || !json_is_string(json_object_get(m, "sha256")) ||
			strcmp(json_string_value(json_object_get(m, "sha256")), c->job->sha256) != 0 ||
			(c->job->manifest_sha256 && strcmp(mhash, c->job->manifest_sha256) != 0))
		{
			err_set(err, EXIT_RUNTIME,
					"the manifest read back from %s does not match the archive",
					c->job->manifest_key);
			json_decref(m);
			return false;
		}
	}
	json_decref(m);
	return job_set_phase(c->pc, c->job, "verified", err);
}

typedef struct DropCtx
{
	PartCtx *c;
	long long rows_now;
} DropCtx;

static void
set_note(PartCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_note(PartCtx *c, const char *fmt, ...)
{
	va_list ap;

	free(c->out->note);
	va_start(ap, fmt);
	c->out->note = pg_xvasprintf(fmt, ap);
	va_end(ap);
}

/*
 * A file:// archive can stay queryable where it lies: a file_fdw foreign
 * table reading "zstd -dc OBJECT", attached as the partition of the range.
 * PostgreSQL must allow it: no unique index on the parent (foreign
 * partitions cannot take part in one), no generated columns, file_fdw
 * installable, and COPY FROM PROGRAM allowed (superuser or
 * pg_execute_server_program).  Whatever stops it is said in the note; the
 * archive itself goes on.
 */
static bool
fdw_prepare(PartCtx *c, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;
	const char *why = NULL;
	PgpError ferr;

	c->fdw = false;
	if (strncmp(c->st->url, "file://", 7) != 0)
		return true;
	snprintf(oid, sizeof(oid), "%u", c->parent);
	res = pgc_query(c->pc,
					"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
					"  WHERE i.indrelid = $1::pg_catalog.oid AND i.indisunique), "
					"EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a "
					"  WHERE a.attrelid = $1::pg_catalog.oid AND a.attgenerated <> '' "
					"  AND NOT a.attisdropped), "
					"(SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, "
					"  'pg_execute_server_program', 'MEMBER') FROM pg_catalog.pg_roles r "
					"  WHERE r.rolname = CURRENT_USER), "
					"EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions "
					"  WHERE name = 'file_fdw')",
					1, params, err);
	if (res == NULL)
		return false;
	if (PQgetvalue(res, 0, 0)[0] == 't')
		why = "the table has unique indexes (a primary key), and PostgreSQL attaches no foreign "
			  "partition under those";
	else if (PQgetvalue(res, 0, 1)[0] == 't')
		why = "the table has generated columns";
	else if (PQgetvalue(res, 0, 2)[0] != 't')
		why = "the server does not let this role run programs (it needs superuser or "
			  "pg_execute_server_program for file_fdw's program option)";
	else if (PQgetvalue(res, 0, 3)[0] != 't')
		why = "the server has no file_fdw extension available";
	PQclear(res);
	if (why)
	{
		set_note(c, "not queryable in place: %s; \"pgpart restore\" brings it back", why);
		return true;
	}
	err_init(&ferr);
	if (!pgc_change(c->pc, "CREATE EXTENSION IF NOT EXISTS file_fdw SCHEMA pgpart", 0, NULL,
					&ferr) ||
		!pgc_change(c->pc,
					"CREATE SERVER IF NOT EXISTS pgpart_archive FOREIGN DATA WRAPPER file_fdw", 0,
					NULL, &ferr))
	{
		set_note(c, "not queryable in place: %s", ferr.message ? ferr.message : "file_fdw failed");
		err_clear(&ferr);
		return true;
	}
	err_clear(&ferr);
	{
		/* the server reads the object: it must see the same path (same machine) */
		StrBuf prog;
		const char *p;

		sb_init(&prog);
		sb_append(&prog, "zstd -dcq -- '");
		for (p = c->st->url + 7; *p; p++)
			*p == '\'' ? sb_append(&prog, "'\\''") : sb_append_char(&prog, *p);
		sb_append(&prog, "/");
		for (p = c->job->object_key; *p; p++)
			*p == '\'' ? sb_append(&prog, "'\\''") : sb_append_char(&prog, *p);
		sb_append(&prog, "'");
		c->fdw_program = sb_steal(&prog);
	}
	c->fdw = true;
	return true;
}

/* in the drop transaction, after the DROP: the foreign partition, or a note why not */
static bool
attach_foreign(PgConn *pc, PartCtx *c, PgpError *err)
{
	StrBuf sql;
	size_t i;
	json_t *col;
	PgpError ferr;
	bool ok = false;
	const char *params[1] = {c->job->id};

	if (pc->dry_run)
		return true;
	if (!pgc_exec(pc, "SAVEPOINT pgpart_fdw", 0, NULL, err))
		return false;
	err_init(&ferr);
	sb_init(&sql);
	sb_appendf(&sql, "CREATE FOREIGN TABLE %s (", c->qualified);
	json_array_foreach(c->columns, i, col)
	{
		char *q = pgc_quote_ident(pc, json_string_value(json_object_get(col, "name")));

		sb_appendf(&sql, "%s%s %s%s", i ? ", " : "", q,
				   json_string_value(json_object_get(col, "type")),
				   json_is_true(json_object_get(col, "not_null")) ? " NOT NULL" : "");
		free(q);
	}
	sb_append(&sql, ") SERVER pgpart_archive OPTIONS (program ");
	pgc_append_literal(pc, &sql, c->fdw_program);
	sb_append(&sql, ", format 'text')");
	if (!arch_exec_sb(pc, &sql, &ferr))
		goto failed;
	/*
	 * The server reads the object as its own OS user, and objects are 0600:
	 * one row read now (zstd stops early) says whether it can, before the
	 * range is handed to a partition no query could read.
	 */
	sb_appendf(&sql, "SELECT 1 FROM %s LIMIT 1", c->qualified);
	if (!pgc_exec(pc, sql.data, 0, NULL, &ferr))
	{
		char *why = pg_xasprintf("the server cannot read the object (%s); the database server's "
								 "OS user must be able to read the archive files",
								 ferr.message ? ferr.message : "?");

		err_set(&ferr, EXIT_RUNTIME, "%s", why);
		free(why);
		goto failed;
	}
	sb_reset(&sql);
	if (!partition_lock_for_attach(pc, c->parent_q, &ferr))
		goto failed;
	sb_appendf(&sql, "ALTER TABLE %s ATTACH PARTITION %s", c->parent_q, c->qualified);
	arch_append_for_values(pc, &sql, c->job->lo, c->job->hi);
	if (!arch_exec_sb(pc, &sql, &ferr) ||
		!pgc_change(pc, "UPDATE pgpart.archive_job SET foreign_table = true WHERE id = $1::bigint",
					1, params, &ferr) ||
		!pgc_exec(pc, "RELEASE SAVEPOINT pgpart_fdw", 0, NULL, &ferr))
		goto failed;
	set_note(c, "queryable in place: read-only file_fdw partition reading the archive");
	ok = true;
	goto done;
failed:
	if (pgc_error_is_retryable_lock(&ferr))
	{
		/* the whole transaction is tried again */
		err_set(err, EXIT_RUNTIME, "%s", ferr.message);
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", ferr.sqlstate);
		goto done;
	}
	set_note(c, "not queryable in place: %s", ferr.message ? ferr.message : "?");
	ok = pgc_exec(pc, "ROLLBACK TO SAVEPOINT pgpart_fdw", 0, NULL, err);
done:
	err_clear(&ferr);
	sb_free(&sql);
	return ok;
}

static bool
drop_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	DropCtx *d = arg;
	PartCtx *c = d->c;
	StrBuf sql;
	char *count = NULL;
	bool ok = false;

	sb_init(&sql);
	sb_appendf(&sql, "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", c->qualified);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	lock_txn_mark_locked(stats);
	/* a write straight into the detached table after the COPY would be lost */
	sb_appendf(&sql, "SELECT pg_catalog.count(*) FROM %s", c->qualified);
	if (!pgc_query_value(pc, sql.data, 0, NULL, &count, err))
		goto done;
	sb_reset(&sql);
	d->rows_now = count ? strtoll(count, NULL, 10) : -1;
	if (!pc->dry_run && d->rows_now != c->job->rows)
	{
		err_set(err, EXIT_CHECK,
				"%s.%s has %lld rows now but %lld were archived; not dropped",
				c->job->pschema, c->job->pname, d->rows_now, c->job->rows);
		err_detail(err, "Rows were written into the detached table after it was copied.");
		err_hint(err, "Run \"pgpart archive\" again: it archives it anew (job %s).", c->job->id);
		goto done;
	}
	sb_appendf(&sql, "DROP TABLE %s", c->qualified);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	if (c->fdw && !attach_foreign(pc, c, err))
		goto done;
	ok = job_set_phase(pc, c->job, "archived", err);
done:
	free(count);
	sb_free(&sql);
	return ok;
}

static bool
step_drop(PartCtx *c, PgpError *err)
{
	DropCtx d = {c, 0};
	LockStats ls;

	memset(&ls, 0, sizeof(ls));
	if (!c->opt->no_foreign_table && !fdw_prepare(c, err))
		return false;
	if (c->fdw && c->columns == NULL)
	{
		char *oid = NULL;
		const char *params[2] = {c->job->pschema, c->job->pname};

		if (!pgc_query_value(c->pc,
							 "SELECT c.oid FROM pg_catalog.pg_class c "
							 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							 "WHERE n.nspname = $1 AND c.relname = $2",
							 2, params, &oid, err))
			return false;
		if (oid && !load_columns(c, (RelOid) strtoul(oid, NULL, 10), err))
		{
			free(oid);
			return false;
		}
		free(oid);
	}
	if (!lock_run_txn(c->pc, &c->opt->lock, drop_body, &d, &ls, err))
	{
		if (err->exit_code == EXIT_CHECK)
		{
			/* start over next time: the archive is complete but no longer current */
			PgpError ignored;

			err_init(&ignored);
			archive_reattach(c->pc, &c->opt->lock, c->parent_q, c->job, err->message, &ignored);
			err_clear(&ignored);
		}
		return false;
	}
	if (ls.held_ms > c->out->max_lock_held_ms)
		c->out->max_lock_held_ms = ls.held_ms;
	return true;
}

/* ---- reattach after a failure -------------------------------------- */

typedef struct ReattachCtx
{
	const char *parent_q;
	const char *qualified;
	ArchJob *job;
	const char *why;
} ReattachCtx;

static bool
reattach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	ReattachCtx *r = arg;
	StrBuf sql;
	const char *params[2] = {r->job->id, r->why};
	bool ok = false;

	sb_init(&sql);
	if (!partition_lock_for_attach(pc, r->parent_q, err))
		goto done;
	sb_appendf(&sql, "ALTER TABLE %s ATTACH PARTITION %s", r->parent_q, r->qualified);
	arch_append_for_values(pc, &sql, r->job->lo, r->job->hi);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	lock_txn_mark_locked(stats);
	sb_appendf(&sql, "ALTER TABLE %s DROP CONSTRAINT IF EXISTS pgpart_archive_bounds",
			   r->qualified);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	ok = pgc_change(pc,
					"UPDATE pgpart.archive_job SET phase = 'reattached', last_error = $2, "
					"updated_at = pg_catalog.now(), finished_at = pg_catalog.now() "
					"WHERE id = $1::bigint",
					2, params, err);
done:
	sb_free(&sql);
	return ok;
}

bool
archive_reattach(PgConn *pc, const LockPolicy *lock, const char *parent_q, ArchJob *job,
				 const char *why, PgpError *err)
{
	char *qualified = pgc_quote_qualified(pc, job->pschema, job->pname);
	ReattachCtx r = {parent_q, qualified, job, why};
	StrBuf sql;
	bool ok;
	const char *params[2] = {job->pschema, job->pname};
	char *attached = NULL;

	/* already attached (the failure came before the detach)? */
	if (!pgc_query_value(pc,
						 "SELECT 1 FROM pg_catalog.pg_inherits h "
						 "JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid "
						 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						 "WHERE n.nspname = $1 AND c.relname = $2",
						 2, params, &attached, err))
	{
		free(qualified);
		return false;
	}
	sb_init(&sql);
	if (attached == NULL)
	{
		/* nobody uses the detached table: this scan blocks no one, and ATTACH then skips it */
		sb_appendf(&sql, "ALTER TABLE %s ADD CONSTRAINT pgpart_archive_bounds CHECK (",
				   qualified);
		arch_append_check(pc, &sql, job->column, job->lo, job->hi);
		sb_append(&sql, ")");
		if (!arch_exec_sb(pc, &sql, err))
		{
			/* the constraint may exist from an earlier attempt */
			if (strcmp(err->sqlstate, SQLSTATE_DUPLICATE_OBJECT) != 0)
			{
				sb_free(&sql);
				free(qualified);
				return false;
			}
			err_clear(err);
		}
		ok = lock_run_txn(pc, lock, reattach_body, &r, NULL, err);
	}
	else
	{
		const char *p2[2] = {job->id, why};

		ok = pgc_change(pc,
						"UPDATE pgpart.archive_job SET phase = 'reattached', last_error = $2, "
						"updated_at = pg_catalog.now(), finished_at = pg_catalog.now() "
						"WHERE id = $1::bigint",
						2, p2, err);
	}
	free(attached);
	sb_free(&sql);
	free(qualified);
	return ok;
}

/* ---- the driver ----------------------------------------------------- */

static bool
table_bytes(PgConn *pc, const char *pschema, const char *pname, long long *bytes, PgpError *err)
{
	const char *params[2] = {pschema, pname};
	char *v = NULL;

	if (!pgc_query_value(pc,
						 "SELECT pg_catalog.pg_total_relation_size(c.oid) FROM pg_catalog.pg_class c "
						 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						 "WHERE n.nspname = $1 AND c.relname = $2",
						 2, params, &v, err))
		return false;
	*bytes = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return true;
}

static char *
location_url(const Storage *st, const char *key)
{
	return pg_xasprintf("%s/%s", st->url, key);
}

static bool
run_job(PgConn *pc, const ArchiveOptions *opt, Storage *st, const PartConfig *cfg,
		bool has_default, ArchJob *job, ArchivedPartition *out, PgpError *err)
{
	PartCtx c;
	double t0 = clock_ms();
	bool ok = false;
	RelOid rel = 0;

	memset(&c, 0, sizeof(c));
	c.opt = opt;
	c.pc = pc;
	c.st = st;
	c.parent_schema = cfg->parent_schema;
	c.parent_name = cfg->parent_name;
	c.parent = cfg->parent;
	c.job = job;
	c.out = out;
	c.has_default = has_default;
	c.qualified = pgc_quote_qualified(pc, job->pschema, job->pname);
	c.parent_q = pgc_quote_qualified(pc, cfg->parent_schema, cfg->parent_name);
	out->partition = pg_xasprintf("%s.%s", job->pschema, job->pname);
	out->lo = pg_xstrdup(job->lo);
	out->hi = pg_xstrdup(job->hi);
	out->object_url = location_url(st, job->object_key);
	out->manifest_url = location_url(st, job->manifest_key);

	if (strcmp(job->phase, "started") == 0)
	{
		if (!step_detach(&c, err))
			goto done;
#ifdef PGPART_TEST_HOOKS
		archive_test_kill("after_detach");
#endif
	}
	if (strcmp(job->phase, "detached") == 0 || strcmp(job->phase, "uploaded") == 0)
	{
		char *oid = NULL;
		const char *params[2] = {job->pschema, job->pname};

		if (!pgc_query_value(pc,
							 "SELECT c.oid FROM pg_catalog.pg_class c "
							 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							 "WHERE n.nspname = $1 AND c.relname = $2",
							 2, params, &oid, err))
			goto done;
		if (oid == NULL)
		{
			err_set(err, EXIT_RUNTIME, "the detached table %s of archive job %s is missing",
					out->partition, job->id);
			goto done;
		}
		rel = (RelOid) strtoul(oid, NULL, 10);
		free(oid);
		if (!table_bytes(pc, job->pschema, job->pname, &out->table_bytes, err))
			goto done;
		{
			char *est = NULL;
			char oidt[16];
			const char *p1[1] = {oidt};

			snprintf(oidt, sizeof(oidt), "%u", rel);
			if (!pgc_query_value(pc,
								 "SELECT GREATEST(reltuples, 0)::bigint FROM pg_catalog.pg_class "
								 "WHERE oid = $1::pg_catalog.oid",
								 1, p1, &est, err))
				goto done;
			c.est_rows = est ? strtoll(est, NULL, 10) : 0;
			free(est);
		}
	}
	if (strcmp(job->phase, "detached") == 0)
	{
		if (!load_columns(&c, rel, err) || !step_upload(&c, err))
			goto storage_failed;
#ifdef PGPART_TEST_HOOKS
		archive_test_kill("after_object");
#endif
		if (!step_manifest(&c, rel, err))
			goto storage_failed;
		if (!record_uploaded(&c, err))
			goto done;
#ifdef PGPART_TEST_HOOKS
		archive_test_kill("after_upload");
#endif
	}
	if (strcmp(job->phase, "uploaded") == 0)
	{
		if (!step_verify(&c, err))
			goto storage_failed;
#ifdef PGPART_TEST_HOOKS
		archive_test_kill("after_verify");
#endif
	}
	if (strcmp(job->phase, "verified") == 0)
	{
		if (!step_drop(&c, err))
			goto done;
	}
	out->rows = job->rows;
	out->raw_bytes = job->raw_bytes;
	out->compressed_bytes = job->compressed_bytes;
	out->sha256 = job->sha256 ? pg_xstrdup(job->sha256) : NULL;
	ok = true;
	goto done;

storage_failed:
	{
		/* the data must stay queryable: attach the partition back */
		PgpError rerr;

		err_init(&rerr);
		if (archive_reattach(pc, &opt->lock, c.parent_q, job, err->message, &rerr))
			err_detail(err, "Nothing was dropped: %s is attached again and its data stays "
							"queryable.",
					   out->partition);
		else
			err_detail(err, "%s is detached but intact (%s); run \"pgpart archive\" again to "
							"finish or to attach it back.",
					   out->partition, rerr.message ? rerr.message : "re-attach failed");
		if (!err->hint)
			err_hint(err, "Fix the storage problem and run the same command again.");
		err_clear(&rerr);
	}
done:
	out->total_ms = clock_ms() - t0;
	json_decref(c.columns);
	free(c.copy_columns);
	free(c.fdw_program);
	free(c.qualified);
	free(c.parent_q);
	return ok;
}

void
archiveresult_free(ArchiveResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		ArchivedPartition *a = &r->items[i];

		free(a->partition);
		free(a->lo);
		free(a->hi);
		free(a->object_url);
		free(a->manifest_url);
		free(a->sha256);
		free(a->note);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static bool
new_job(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p, const Storage *st,
		ArchJob *job, PgpError *err)
{
	char *stamp = NULL;
	char *ps = archkey_escape(cfg->parent_schema), *pn = archkey_escape(cfg->parent_name);
	char *xn = archkey_escape(p->name), *xs = archkey_escape(p->schema);
	char *base;
	char oid[16];
	const char *params[10];
	PGresult *res = NULL;
	bool ok = false;

	if (!pgc_query_value(pc,
						 "SELECT pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', "
						 "'YYYYMMDD\"T\"HH24MISS.MS\"Z\"')",
						 0, NULL, &stamp, err))
		goto done;
	/* TABLE/PARTITION-STAMP: the partition's schema only when it differs from the table's */
	base = strcmp(p->schema, cfg->parent_schema) == 0
			   ? pg_xasprintf("%s.%s/%s-%s", ps, pn, xn, stamp)
			   : pg_xasprintf("%s.%s/%s.%s-%s", ps, pn, xs, xn, stamp);
	memset(job, 0, sizeof(*job));
	job->object_key = pg_xasprintf("%s.copy.zst", base);
	job->manifest_key = pg_xasprintf("%s.manifest.json", base);
	free(base);
	snprintf(oid, sizeof(oid), "%u", cfg->parent);
	params[0] = oid;
	params[1] = cfg->parent_schema;
	params[2] = cfg->parent_name;
	params[3] = p->schema;
	params[4] = p->name;
	params[5] = cfg->column;
	params[6] = p->lo_text;
	params[7] = p->hi_text;
	params[8] = st->url;
	params[9] = job->object_key;
	if (pc->dry_run)
	{
		job->id = pg_xstrdup("0");
		job->phase = pg_xstrdup("started");
		ok = true;
		goto done;
	}
	{
		const char *p11[11];

		memcpy(p11, params, sizeof(params));
		p11[10] = job->manifest_key;
		res = pgc_query(pc,
						"INSERT INTO pgpart.archive_job (parent_table, parent_schema, parent_name, "
						"partition_schema, partition_name, part_column, lo, hi, location, "
						"object_key, manifest_key, phase) VALUES ($1::pg_catalog.oid, $2, $3, $4, "
						"$5, $6, $7, $8, $9, $10, $11, 'started') RETURNING " JOB_COLUMNS,
						11, p11, err);
	}
	if (res == NULL)
		goto done;
	free(job->object_key);
	free(job->manifest_key);
	job_from_row(res, 0, job);
	PQclear(res);
	ok = true;
done:
	free(stamp);
	free(ps);
	free(pn);
	free(xn);
	free(xs);
	return ok;
}

bool
archive_is_foreign(PgConn *pc, RelOid rel, bool *foreign, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	char *v = NULL;

	snprintf(oid, sizeof(oid), "%u", rel);
	if (!pgc_query_value(pc, "SELECT relkind = 'f' FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid",
						 1, params, &v, err))
		return false;
	*foreign = v && v[0] == 't';
	free(v);
	return true;
}

/* --dry-run: the statements an archive of p would run (the data path as comments) */
static bool
print_plan(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p, bool has_default,
		   const char *object_url, PgpError *err)
{
	char *parent_q = pgc_quote_qualified(pc, cfg->parent_schema, cfg->parent_name);
	char *q = pgc_quote_qualified(pc, p->schema, p->name);
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "ALTER TABLE %s DETACH PARTITION %s%s", parent_q, q,
			   has_default ? "" : " CONCURRENTLY");
	ok = arch_exec_sb(pc, &sql, err);
	if (ok)
		printf("-- COPY %s TO STDOUT | zstd | sha256 -> %s (+ manifest; read back and verified)\n",
			   q, object_url);
	sb_appendf(&sql, "DROP TABLE %s", q);
	ok = ok && arch_exec_sb(pc, &sql, err);
	sb_free(&sql);
	free(q);
	free(parent_q);
	return ok;
}

/* today - age in the table's time zone, as an instant */
bool
archive_age_cutoff(PgConn *pc, const PartConfig *cfg, KeyType key_type, const Age *age,
				   int64_t *cutoff_us, PgpError *err)
{
	char *today_text = NULL;
	CivilDate today, cut;
	ResolvedBound b;

	if (!catalog_today(pc, cfg->time_zone, &today_text, err))
		return false;
	if (!cal_date_parse(today_text, &today))
	{
		free(today_text);
		err_set(err, EXIT_RUNTIME, "unexpected date from the server");
		return false;
	}
	free(today_text);
	cut = age_subtract(today, *age);
	if (!bounds_resolve(pc, key_type, cfg->time_zone, &cut, 1, &b, err))
		return false;
	*cutoff_us = b.us;
	bounds_free(&b, 1);
	return true;
}

bool
archive_now_us(PgConn *pc, int64_t *now_us, PgpError *err)
{
	char *v = NULL;

	if (!pgc_query_value(pc,
						 "SELECT (EXTRACT(epoch FROM pg_catalog.now()) * 1000000)::bigint", 0, NULL,
						 &v, err))
		return false;
	*now_us = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return true;
}

bool
archive_load_config(PgConn *pc, const char *table, PartConfig *cfg, KeyType *key_type,
					PgpError *err)
{
	RelInfo rel;
	bool found;
	PartConfig *list = NULL;
	int n = 0;
	ColumnInfo col;

	memset(cfg, 0, sizeof(*cfg));
	if (!schema_require(pc, err))
		return false;
	if (!catalog_resolve_table(pc, table, &rel, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", table);
		relinfo_free(&rel);
		return false;
	}
	if (!config_load(pc, rel.oid, &list, &n, err))
	{
		relinfo_free(&rel);
		return false;
	}
	relinfo_free(&rel);
	if (n == 0)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" is not managed by pgpart", table);
		err_hint(err, "Partition it first with \"pgpart create\".");
		partconfig_list_free(list, n);
		return false;
	}
	*cfg = list[0];
	memset(&list[0], 0, sizeof(list[0]));
	partconfig_list_free(list, n);
	if (!catalog_column(pc, cfg->parent, cfg->column, &col, &found, err))
	{
		partconfig_free(cfg);
		return false;
	}
	*key_type = col.key_type;
	columninfo_free(&col);
	return true;
}

bool
ops_archive(PgConn *pc, const ArchiveOptions *opt, ArchiveResult *res, PgpError *err)
{
	PartConfig cfg;
	KeyType key_type;
	PartitionList parts;
	Storage *st = NULL;
	ArchJob *jobs = NULL;
	int njobs = 0, i, cap;
	bool locked = false, ok = false;
	int64_t now_us = 0, cutoff_us = 0;
	NameList queued; /* "schema\nname" of partitions that have a job already */

	memset(res, 0, sizeof(*res));
	memset(&parts, 0, sizeof(parts));
	memset(&queued, 0, sizeof(queued));
	parts.default_index = -1;
	if (!archive_load_config(pc, opt->table, &cfg, &key_type, err))
		return false;
	if (opt->older_than)
	{
		Age age;

		if (!age_parse(opt->older_than, &age))
		{
			err_set(err, EXIT_USAGE, "invalid --older-than \"%s\"", opt->older_than);
			err_hint(err, "Give an age such as \"1 year\", \"2 quarters\" or \"90 days\".");
			goto done;
		}
		if (!archive_age_cutoff(pc, &cfg, key_type, &age, &cutoff_us, err))
			goto done;
	}
	if (!storage_open(opt->to, &opt->storage, &st, err))
		goto done;
	if (!archive_now_us(pc, &now_us, err) || !catalog_partitions(pc, cfg.parent, &parts, err))
		goto done;
	if (!lock_table_try(pc, cfg.parent, &locked, err))
		goto done;
	if (!locked)
	{
		err_set(err, EXIT_RUNTIME, "another pgpart is working on %s.%s", cfg.parent_schema,
				cfg.parent_name);
		err_hint(err, "Wait for it to finish; pgpart processes take turns per table.");
		goto done;
	}
	if (!jobs_active(pc, cfg.parent_schema, cfg.parent_name, NULL, NULL, &jobs, &njobs, err))
		goto done;
	cap = njobs + parts.n + 1;
	res->items = pg_xcalloc((size_t) cap, sizeof(ArchivedPartition));

	/* unfinished jobs first (the one asked for, or all with --older-than) */
	for (i = 0; i < njobs; i++)
	{
		char *key = pg_xasprintf("%s\n%s", jobs[i].pschema, jobs[i].pname);

		namelist_add(&queued, key);
		free(key);
	}
	if (opt->partition)
	{
		RelInfo rel;
		bool found;
		int k, which = -1;
		ArchJob job;

		memset(&job, 0, sizeof(job));
		if (!catalog_resolve_table(pc, opt->partition, &rel, &found, err))
			goto done;
		for (k = 0; found && k < parts.n; k++)
			if (parts.items[k].oid == rel.oid)
				which = k;
		for (k = 0; found && k < njobs; k++)
			if (strcmp(jobs[k].pschema, rel.schema) == 0 && strcmp(jobs[k].pname, rel.name) == 0)
			{
				which = -2 - k;
				break;
			}
		relinfo_free(&rel);
		if (!found)
		{
			err_set(err, EXIT_USAGE, "partition \"%s\" does not exist", opt->partition);
			goto done;
		}
		if (which == -1)
		{
			err_set(err, EXIT_USAGE, "\"%s\" is not a partition of %s.%s", opt->partition,
					cfg.parent_schema, cfg.parent_name);
			goto done;
		}
		if (which <= -2)
		{
			ArchJob *j = &jobs[-2 - which];

			if (strcmp(j->location, st->url) != 0)
			{
				err_set(err, EXIT_USAGE, "an unfinished archive of %s.%s goes to %s", j->pschema,
						j->pname, j->location);
				err_hint(err, "Run again with --to %s to finish it.", j->location);
				goto done;
			}
			res->items[0].resumed = true;
			res->n = 1;
			ok = run_job(pc, opt, st, &cfg, parts.default_index >= 0, j, &res->items[0], err);
			goto done;
		}
		{
			const PartitionInfo *p = &parts.items[which];
			bool foreign;

			if (!archive_is_foreign(pc, p->oid, &foreign, err))
				goto done;
			if (foreign)
			{
				err_set(err, EXIT_USAGE, "%s.%s is already archived (a foreign partition reading "
										 "its archive)",
						p->schema, p->name);
				goto done;
			}
			if (p->is_default || !p->bounds_known || p->lo_unbounded || p->hi_unbounded)
			{
				err_set(err, EXIT_USAGE, "%s.%s has no closed range; only partitions with "
										 "FROM (...) TO (...) bounds can be archived",
						p->schema, p->name);
				goto done;
			}
			if (p->hi_us > now_us)
			{
				err_set(err, EXIT_USAGE, "%s.%s is not closed: its range ends at %s, in the future",
						p->schema, p->name, p->hi_text);
				err_hint(err, "Only partitions whose whole range is in the past are archived.");
				goto done;
			}
			if (!new_job(pc, &cfg, p, st, &job, err))
				goto done;
			res->n = 1;
			res->items[0].dry_run = pc->dry_run;
			if (pc->dry_run)
			{
				res->items[0].partition = pg_xasprintf("%s.%s", p->schema, p->name);
				res->items[0].lo = pg_xstrdup(p->lo_text);
				res->items[0].hi = pg_xstrdup(p->hi_text);
				res->items[0].object_url = location_url(st, job.object_key);
				res->items[0].manifest_url = location_url(st, job.manifest_key);
				ok = print_plan(pc, &cfg, p, parts.default_index >= 0, res->items[0].object_url,
								err);
				archjob_free(&job);
				goto done;
			}
#ifdef PGPART_TEST_HOOKS
			archive_test_kill("after_job");
#endif
			ok = run_job(pc, opt, st, &cfg, parts.default_index >= 0, &job, &res->items[0], err);
			archjob_free(&job);
			goto done;
		}
	}

	/* --older-than: resume, then every due partition, oldest first */
	ok = true;
	for (i = 0; i < njobs && ok; i++)
	{
		if (strcmp(jobs[i].location, st->url) != 0)
			continue;
		res->items[res->n].resumed = true;
		ok = run_job(pc, opt, st, &cfg, parts.default_index >= 0, &jobs[i],
					 &res->items[res->n++], err);
	}
	for (i = 0; i < parts.n && ok; i++)
	{
		const PartitionInfo *p = &parts.items[i];
		ArchJob job;
		char *key;
		int k;
		bool dup = false;

		if (p->is_default || !p->bounds_known || p->lo_unbounded || p->hi_unbounded ||
			p->hi_us > now_us || p->hi_us > cutoff_us)
			continue;
		if (!archive_is_foreign(pc, p->oid, &dup, err))
		{
			ok = false;
			break;
		}
		if (dup)
			continue; /* archived already, read in place */
		key = pg_xasprintf("%s\n%s", p->schema, p->name);
		for (k = 0; k < queued.n; k++)
			if (strcmp(queued.items[k], key) == 0)
				dup = true;
		free(key);
		if (dup)
			continue;
		if (!new_job(pc, &cfg, p, st, &job, err))
		{
			ok = false;
			break;
		}
		res->items[res->n].dry_run = pc->dry_run;
		if (pc->dry_run)
		{
			ArchivedPartition *a = &res->items[res->n++];

			a->partition = pg_xasprintf("%s.%s", p->schema, p->name);
			a->lo = pg_xstrdup(p->lo_text);
			a->hi = pg_xstrdup(p->hi_text);
			a->object_url = location_url(st, job.object_key);
			a->manifest_url = location_url(st, job.manifest_key);
			ok = print_plan(pc, &cfg, p, parts.default_index >= 0, a->object_url, err);
		}
		else
			ok = run_job(pc, opt, st, &cfg, parts.default_index >= 0, &job,
						 &res->items[res->n++], err);
		archjob_free(&job);
	}
done:
	for (i = 0; i < njobs; i++)
		archjob_free(&jobs[i]);
	free(jobs);
	namelist_free(&queued);
	if (locked)
		lock_table_release(pc, cfg.parent);
	partitionlist_free(&parts);
	storage_close(st);
	partconfig_free(&cfg);
	return ok;
}
