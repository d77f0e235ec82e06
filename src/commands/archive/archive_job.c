/*
 * archive_job.c - one archive job through its phases (archive.h draws them):
 * detach, upload (COPY -> zstd -> SHA-256 -> object, then the manifest),
 * read back and verify, and the drop, with the file_fdw partition a file://
 * archive can leave in the table's place.  Each phase is recorded in
 * pgpart.archive_job before the next begins, so a run killed anywhere is
 * continued by the next from the phase it reached; a storage failure before
 * "verified" attaches the partition back.  The statements are in
 * archive_sql.c.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive_sql.h"
#include "commands/archive/manifest.h"
#include "pg/companion.h"
#include "pg/partition.h"
#include "pg/stmt.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/progress.h"

static const char *const phase_names[] = {"started",  "detached",	"uploaded", "verified",
										  "archived", "reattached", "restored"};

const char *
archphase_name(ArchPhase phase)
{
	return phase_names[phase];
}

bool
archphase_parse(const char *name, ArchPhase *phase)
{
	size_t i;

	for (i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
		if (strcmp(phase_names[i], name) == 0)
		{
			*phase = (ArchPhase) i;
			return true;
		}
	return false;
}

void
archjob_free(ArchJob *j)
{
	FREE_ALL(j->id, j->location, j->object_key, j->manifest_key, j->lo, j->hi, j->pschema,
			 j->pname, j->column, j->sha256, j->manifest_sha256);
	memset(j, 0, sizeof(*j));
}

#ifdef PGPART_TEST_HOOKS
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

typedef struct PartCtx
{
	const ArchiveOptions *opt;
	PgConn *pc;
	Storage *st;
	const char *parent_schema, *parent_name;
	RelOid parent;
	ArchJob *job;
	ArchivedPartition *out;
	RelOid rel;			/* the detached table */
	char *qualified;	/* "schema"."partition" */
	char *parent_q;		/* "schema"."parent" */
	char *copy_columns; /* quoted, comma separated */
	json_t *columns;	/* [{name, type, not_null, generated}] */
	bool plain_detach;	/* a default partition, or Citus: DETACH CONCURRENTLY is refused */
	int64_t est_rows;	/* for the progress bar */
	bool fdw;			/* leave a file_fdw foreign partition in place of the table */
	char *fdw_program;	/* zstd -dc -- 'PATH' */
	ArchCopy copy;		/* the rows' COPY, recorded with "uploaded" */
} PartCtx;

static void
keep_max_lock(PartCtx *c, const LockStats *ls)
{
	if (ls->held_ms > c->out->max_lock_held_ms)
		c->out->max_lock_held_ms = ls->held_ms;
	lock_felt_note(&c->out->felt, ls);
}

/* ---- detached ---------------------------------------------------------- */

static bool
detach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	PartCtx *c = arg;

	if (!archive_sql_detach(pc, c->parent_q, c->qualified, ARCH_DETACH_PLAIN, err))
		return false;
	lock_txn_mark_locked(stats);
	return archive_sql_job_set_phase(pc, c->job, ARCH_DETACHED, err);
}

/*
 * What a plain DETACH locks in ACCESS EXCLUSIVE mode: the parent, the
 * partition and the default partition (whose constraint widens); t[3], *n set
 */
static bool
detach_targets(PartCtx *c, LockTarget *t, int *n, PgpError *err)
{
	PartitionList parts;
	int i;

	*n = 0;
	if (!catalog_partitions(c->pc, c->parent, &parts, err))
		return false;
	t[(*n)++] = (LockTarget){c->parent, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_RELATION};
	for (i = 0; i < parts.n; i++)
		if (i == parts.default_index || (strcmp(parts.items[i].schema, c->job->pschema) == 0 &&
										 strcmp(parts.items[i].name, c->job->pname) == 0))
			t[(*n)++] = (LockTarget){parts.items[i].oid, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_TREE};
	partitionlist_free(&parts);
	return true;
}

/* an attempt not sent because of h: counted with the writers' figures */
static void
note_skipped(PartCtx *c, const LockHolder *h, int attempt, int max_attempts)
{
	char who[LOCK_HOLDER_TEXT_SIZE];

	c->out->felt.skipped_attempts++;
	c->out->felt.holder = *h;
	log_info("DETACH attempt %d of %d skipped: %s; retrying", attempt, max_attempts,
			 lock_holder_text(h, who, sizeof(who)));
}

/*
 * DETACH ... CONCURRENTLY / FINALIZE: outside a transaction, retried on lock
 * timeout, each attempt skipped while a long holder of a conflicting lock is
 * there (pg/lock.h).  A timeout in its second transaction leaves the detach
 * pending: the next attempt finalizes it.
 */
static bool
detach_concurrently(PartCtx *c, bool finalize, PgpError *err)
{
	const LockPolicy *lp = &c->opt->lock;
	LockTarget targets[3];
	int ntargets, attempt, skipped = 0;
	double felt = 0; /* every statement sent, added up as lock_run_txn adds attempts */
	bool ok = false;

	if (!detach_targets(c, targets, &ntargets, err))
		return false;
	/* CONCURRENTLY: SHARE UPDATE EXCLUSIVE on the parent (PostgreSQL refuses it with a default) */
	targets[0].mode = LOCK_SHARE_UPDATE_EXCLUSIVE;
	for (attempt = 1; attempt <= lp->max_attempts; attempt++)
	{
		LockHolder h;
		bool exists = false, attached = false, pending = false;
		double sent;

		if (attempt > 1)
			sleep_ms(lock_backoff_ms(lp, attempt - 1));
		if (!lock_find_long_holder(c->pc, lp, targets, ntargets, &h, err))
			break;
		if (h.seen)
		{
			skipped++;
			if (attempt == lp->max_attempts)
			{
				c->out->felt.skipped_attempts++;
				c->out->felt.holder = h;
				lock_error_not_granted(err, lp, attempt, skipped, &h);
				break;
			}
			note_skipped(c, &h, attempt, lp->max_attempts);
			continue;
		}
		if (!archive_sql_set_lock_timeout(c->pc, lp->lock_timeout_ms, err))
			break;
		/*
		 * Its second transaction takes ACCESS EXCLUSIVE on the partition (the
		 * parent only SHARE UPDATE EXCLUSIVE, which writers' ROW EXCLUSIVE does
		 * not conflict with): a writer of the partition itself could wait
		 * behind it, so the whole statement, request sent -> done, is counted
		 * (its wait for older transactions too, which overstates).
		 */
		sent = clock_ms();
		ok = archive_sql_detach(c->pc, c->parent_q, c->qualified,
								finalize ? ARCH_DETACH_FINALIZE : ARCH_DETACH_CONCURRENTLY, err);
		felt += clock_ms() - sent;
		if (ok || !pgc_error_is_retryable_lock(err) || attempt == lp->max_attempts)
			break;
		log_info("lock not granted for DETACH (attempt %d of %d); retrying", attempt,
				 lp->max_attempts);
		err_clear(err);
		if (!finalize && !archive_sql_attach_state(c->pc, c->job->pschema, c->job->pname, &exists,
												   &attached, &pending, err))
			break;
		finalize = finalize || pending;
	}
	if (felt > 0)
		lock_felt_note_statement(&c->out->felt, 0, 0, felt);
	archive_sql_reset_lock_timeout(c->pc);
	return ok;
}

static bool
step_detach(PartCtx *c, PgpError *err)
{
	bool exists, attached, pending;
	LockStats ls;
	LockTarget targets[3];
	int ntargets;

	if (!archive_sql_attach_state(c->pc, c->job->pschema, c->job->pname, &exists, &attached,
								  &pending, err))
		return false;
	if (!exists)
	{
		err_set(err, EXIT_RUNTIME, "partition %s.%s of an unfinished archive job no longer exists",
				c->job->pschema, c->job->pname);
		err_hint(err, "Look at pgpart.archive_job (id %s).", c->job->id);
		return false;
	}
	if (attached && !pending && c->plain_detach)
	{
		/*
		 * PostgreSQL refuses DETACH ... CONCURRENTLY when the parent has a
		 * default partition, and Citus 13.2 on a distributed table: a plain DETACH, a catalog change under
		 * lock_timeout, retried with backoff; the phase is recorded in the
		 * same transaction.
		 */
		memset(&ls, 0, sizeof(ls));
		if (!detach_targets(c, targets, &ntargets, err))
			return false;
		if (!lock_run_txn_on(c->pc, &c->opt->lock, targets, ntargets, detach_body, c, &ls, err))
		{
			lock_felt_note(&c->out->felt, &ls);
			return false;
		}
		keep_max_lock(c, &ls);
		return true;
	}
	/* pending: a DETACH CONCURRENTLY was interrupted */
	if (attached && !detach_concurrently(c, pending, err))
		return false;
	return archive_sql_job_set_phase(c->pc, c->job, ARCH_DETACHED, err);
}

/* the detached table's OID, size and row estimate: for the upload, and what is reported */
static bool
find_detached(PartCtx *c, PgpError *err)
{
	double est = 0;

	if (!archive_sql_rel_oid(c->pc, c->job->pschema, c->job->pname, &c->rel, err))
		return false;
	if (c->rel == 0)
	{
		err_set(err, EXIT_RUNTIME, "the detached table %s of archive job %s is missing",
				c->out->partition, c->job->id);
		return false;
	}
	if (!archive_sql_table_bytes(c->pc, c->job->pschema, c->job->pname, &c->out->table_bytes,
								 err) ||
		!catalog_estimate_rows(c->pc, c->rel, &est, err))
		return false;
	c->est_rows = est > 0 ? (int64_t) est : 0;
	return true;
}

/* ---- uploaded ---------------------------------------------------------- */

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
			if (!u->first_written)
				ARCHIVE_TEST_KILL("mid_upload");
			u->first_written = true;
		}
		if (mode == ZSTD_e_end ? rem == 0 : in->pos == in->size)
			return true;
	}
}

/* the rows of the COPY into u, until the COPY ends */
static bool
upload_rows(PartCtx *c, Upload *u, Progress *prog, PgpError *err)
{
	for (;;)
	{
		char *buf;
		int n = PQgetCopyData(c->pc->conn, &buf, 0);
		ZSTD_inBuffer in;
		bool ok;

		if (n == -1)
			return true;
		if ((u->rows & 1023) == 0)
			progress_update(prog, u->rows, c->job->pname);
		if (n < 0)
		{
			err_set(err, EXIT_RUNTIME, "COPY of the partition failed: %s",
					PQerrorMessage(c->pc->conn));
			return false;
		}
		u->raw += n;
		u->rows++;
		in.src = buf;
		in.size = (size_t) n;
		in.pos = 0;
		ok = upload_flush(u, &in, ZSTD_e_continue, err);
		PQfreemem(buf);
		if (!ok)
			return false;
	}
}

static bool
step_upload(PartCtx *c, PgpError *err)
{
	Upload u;
	char sha[65];
	bool ok = false, copying = false;
	double t0 = clock_ms();
	int level = c->opt->level ? c->opt->level : 3;
	Progress prog;

	memset(&u, 0, sizeof(u));
	memset(&prog, 0, sizeof(prog));
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
	if (!archive_sql_copy_out_begin(c->pc, c->qualified, c->copy_columns, &c->copy, err))
		goto done;
	copying = true;
	progress_start(&prog, "rows", c->est_rows, c->opt->show_progress);
	if (!upload_rows(c, &u, &prog, err))
		goto done;
	copying = false;
	progress_update(&prog, u.rows, c->job->pname);
	if (!archive_sql_copy_out_end(c->pc, &c->copy, err))
		goto done;
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
		pgc_copy_abandon(c->pc);
	if (u.w)
		c->st->ops->put_finish(u.w, false, NULL);
	sha256_finish(u.sha, sha);
	ZSTD_freeCCtx(u.cctx);
	free(u.out);
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

static bool
step_manifest(PartCtx *c, PgpError *err)
{
	json_t *indexes = NULL;
	char *server = NULL, *now = NULL, *text = NULL, *ddl = NULL;
	const char *slash = strrchr(c->job->object_key, '/');
	bool ok = false;

	if (!archive_sql_indexes(c->pc, c->rel, &indexes, err) ||
		!archive_sql_server_facts(c->pc, &server, &now, err))
		goto done;
	ddl = archive_sql_table_ddl(c->pc, c->qualified, c->columns);
	{
		ManifestFacts f = {server ? server : "",
						   now ? now : "",
						   c->parent_schema,
						   c->parent_name,
						   c->job->pschema,
						   c->job->pname,
						   c->job->column,
						   c->job->lo,
						   c->job->hi,
						   c->columns,
						   indexes,
						   ddl,
						   c->copy_columns,
						   slash ? slash + 1 : c->job->object_key,
						   c->job->sha256,
						   c->job->rows,
						   c->job->raw_bytes,
						   c->job->compressed_bytes,
						   c->out->table_bytes};

		if ((text = manifest_write(&f, err)) == NULL)
			goto done;
	}
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
	free(ddl);
	free(text);
	free(server);
	free(now);
	return ok;
}

/* ---- verified ---------------------------------------------------------- */

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
	char mhash[65];

	archive_reader_init(&r, c->job->object_key, NULL, NULL, c->job->compressed_bytes,
						c->job->raw_bytes);
	ok = c->st->ops->get(c->st, c->job->object_key, archive_reader_chunk, &r, err) &&
		 archive_reader_finish(&r, c->job->sha256, c->job->compressed_bytes, c->job->raw_bytes,
							   err);
	archive_reader_free(&r);
	if (!ok)
		return false;
	if (!storage_get_all(c->st, c->job->manifest_key, MANIFEST_MAX_BYTES, &text, &len, err))
		return false;
	sha256_hex(text, len, mhash);
	m = json_loadb(text, len, 0, &jerr);
	free(text);
	if (m == NULL || !json_is_string(json_object_get(m, "sha256")) ||
		strcmp(json_string_value(json_object_get(m, "sha256")), c->job->sha256) != 0 ||
		(c->job->manifest_sha256 && strcmp(mhash, c->job->manifest_sha256) != 0))
	{
		err_set(err, EXIT_RUNTIME, "the manifest read back from %s does not match the archive",
				c->job->manifest_key);
		json_decref(m);
		return false;
	}
	json_decref(m);
	return archive_sql_job_set_phase(c->pc, c->job, ARCH_VERIFIED, err);
}

/* ---- archived: the foreign partition ----------------------------------- */

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

/* zstd -dcq -- 'LOCATION/KEY', quoted for the shell file_fdw runs it with */
static char *
fdw_program(const char *root, const char *key)
{
	StrBuf prog;
	const char *parts[2] = {root, key};
	const char *p;
	int k;

	sb_init(&prog);
	sb_append(&prog, "zstd -dcq -- '");
	for (k = 0; k < 2; k++)
	{
		if (k)
			sb_append(&prog, "/");
		for (p = parts[k]; *p; p++)
			*p == '\'' ? sb_append(&prog, "'\\''") : sb_append_char(&prog, *p);
	}
	sb_append(&prog, "'");
	return sb_steal(&prog);
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
	const char *why = NULL;
	PgpError ferr;

	c->fdw = false;
	if (strncmp(c->st->url, "file://", 7) != 0)
		return true;
	if (!archive_sql_foreign_blocker(c->pc, c->parent, &why, err))
		return false;
	if (why)
	{
		set_note(c, "not queryable in place: %s; \"pgpart restore\" brings it back", why);
		return true;
	}
	err_init(&ferr);
	if (!archive_sql_fdw_server(c->pc, &ferr))
	{
		set_note(c, "not queryable in place: %s", ferr.message ? ferr.message : "file_fdw failed");
		err_clear(&ferr);
		return true;
	}
	err_clear(&ferr);
	/* the server reads the object: it must see the same path (same machine) */
	c->fdw_program = fdw_program(c->st->url + 7, c->job->object_key);
	c->fdw = true;
	return true;
}

/*
 * The foreign table attached in the dropped table's place, under the table
 * or (it has unique indexes) its companion; false with ferr when not.
 */
static bool
foreign_in_place(PgConn *pc, PartCtx *c, PgpError *ferr)
{
	ForeignHome home;
	char *why = NULL, *home_q;
	bool ok;

	if (!archive_sql_create_foreign(pc, c->qualified, c->columns, c->fdw_program, ferr))
		return false;
	/*
	 * The server reads the object as its own OS user, and objects are 0600:
	 * one row read now (zstd stops early) says whether it can, before the
	 * range is handed to a partition no query could read.
	 */
	if (!archive_sql_read_one_row(pc, c->qualified, ferr))
	{
		char *msg = pg_xasprintf("the server cannot read the object (%s); the database server's "
								 "OS user must be able to read the archive files",
								 ferr->message ? ferr->message : "?");

		err_set(ferr, EXIT_RUNTIME, "%s", msg);
		free(msg);
		return false;
	}
	if (!companion_prepare(pc, c->parent_schema, c->parent_name, &home, &why, ferr))
		return false;
	if (why)
	{
		err_set(ferr, EXIT_RUNTIME, "%s", why);
		free(why);
		return false;
	}
	home_q = pgc_quote_qualified(pc, home.schema, home.name);
	ok = partition_lock_for_attach(pc, home_q, ferr) &&
		 partition_attach_range(pc, home_q, c->qualified, c->job->lo, c->job->hi, ferr) &&
		 archive_sql_job_foreign(pc, c->job->id, ferr) &&
		 stmt_savepoint(pc, SAVEPOINT_RELEASE, ARCHIVE_FDW_SAVEPOINT, ferr);
	if (ok && home.companion)
		set_note(c, "queryable in place: read-only file_fdw partition of %s.%s (the table's unique "
					"keys take no foreign partition); read its rows through the view %s.%s",
				 home.schema, home.name, home.schema, home.view_name ? home.view_name : "?");
	else if (ok)
		set_note(c, "queryable in place: read-only file_fdw partition reading the archive");
	free(home_q);
	foreign_home_free(&home);
	return ok;
}

/* in the drop transaction, after the DROP: the foreign partition, or a note why not */
static bool
attach_foreign(PgConn *pc, PartCtx *c, PgpError *err)
{
	PgpError ferr;
	bool ok;

	if (pc->dry_run)
		return true;
	if (!stmt_savepoint(pc, SAVEPOINT_SET, ARCHIVE_FDW_SAVEPOINT, err))
		return false;
	err_init(&ferr);
	if (foreign_in_place(pc, c, &ferr))
		ok = true;
	else if (pgc_error_is_retryable_lock(&ferr))
	{
		/* the whole transaction is tried again */
		err_clear(err);
		*err = ferr;
		err_init(&ferr);
		ok = false;
	}
	else
	{
		set_note(c, "not queryable in place: %s", ferr.message ? ferr.message : "?");
		ok = stmt_savepoint(pc, SAVEPOINT_ROLLBACK, ARCHIVE_FDW_SAVEPOINT, err);
	}
	err_clear(&ferr);
	return ok;
}

/* ---- archived: the drop ------------------------------------------------ */

static bool
drop_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	PartCtx *c = arg;
	long long rows_now;

	if (!archive_sql_lock_exclusive(pc, c->qualified, err))
		return false;
	lock_txn_mark_locked(stats);
	/* a write straight into the detached table after the COPY would be lost */
	if (!archive_sql_count_rows(pc, c->qualified, &rows_now, err))
		return false;
	if (!pc->dry_run && rows_now != c->job->rows)
	{
		err_set(err, EXIT_CHECK, "%s.%s has %lld rows now but %lld were archived; not dropped",
				c->job->pschema, c->job->pname, rows_now, c->job->rows);
		err_detail(err, "Rows were written into the detached table after it was copied.");
		err_hint(err, "Run \"pgpart archive\" again: it archives it anew (job %s).", c->job->id);
		return false;
	}
	if (!archive_sql_drop_table(pc, c->qualified, err))
		return false;
	if (c->fdw && !attach_foreign(pc, c, err))
		return false;
	return archive_sql_job_set_phase(pc, c->job, ARCH_ARCHIVED, err);
}

static bool archive_reattach(PgConn *pc, const LockPolicy *lock, const char *parent_q,
							 ArchJob *job, const char *why, PgpError *err);

static bool
step_drop(PartCtx *c, PgpError *err)
{
	LockStats ls;

	memset(&ls, 0, sizeof(ls));
	if (!c->opt->no_foreign_table && !fdw_prepare(c, err))
		return false;
	if (c->fdw && c->columns == NULL)
	{
		/* resumed after "verified": the columns come from the detached table */
		RelOid rel;

		if (!archive_sql_rel_oid(c->pc, c->job->pschema, c->job->pname, &rel, err))
			return false;
		if (rel && !archive_sql_columns(c->pc, rel, &c->columns, &c->copy_columns, err))
			return false;
	}
	if (!lock_run_txn(c->pc, &c->opt->lock, drop_body, c, &ls, err))
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
	keep_max_lock(c, &ls);
	return true;
}

/* ---- reattached -------------------------------------------------------- */

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

	if (!partition_lock_for_attach(pc, r->parent_q, err) ||
		!partition_attach_range(pc, r->parent_q, r->qualified, r->job->lo, r->job->hi, err))
		return false;
	lock_txn_mark_locked(stats);
	return partition_drop_check(pc, r->qualified, ARCHIVE_BOUNDS_CONSTRAINT, true, err) &&
		   archive_sql_job_reattached(pc, r->job->id, r->why, err);
}

/*
 * After a failure: the partition attached again (if the failure came after
 * the detach) and the job marked "reattached", so the data stays queryable
 * and a re-run starts a new job.
 */
static bool
archive_reattach(PgConn *pc, const LockPolicy *lock, const char *parent_q, ArchJob *job,
				 const char *why, PgpError *err)
{
	char *qualified = pgc_quote_qualified(pc, job->pschema, job->pname);
	ReattachCtx r = {parent_q, qualified, job, why};
	bool exists, attached, pending, ok;

	if (!archive_sql_attach_state(pc, job->pschema, job->pname, &exists, &attached, &pending,
								  err))
		ok = false;
	else if (attached)
		ok = archive_sql_job_reattached(pc, job->id, why, err);
	else
	{
		/* nobody uses the detached table: this scan blocks no one, and ATTACH then skips it */
		ok = archive_sql_add_bounds_check(pc, qualified, job->column, job->lo, job->hi, err);
		if (!ok && strcmp(err->sqlstate, SQLSTATE_DUPLICATE_OBJECT) == 0)
		{
			/* the constraint exists from an earlier attempt */
			err_clear(err);
			ok = true;
		}
		ok = ok && lock_run_txn(pc, lock, reattach_body, &r, NULL, err);
	}
	free(qualified);
	return ok;
}

/* ---- the job ----------------------------------------------------------- */

/* the phases that need the storage: a failure there attaches the partition back */
static bool
upload_and_verify(PartCtx *c, PgpError *err, bool *storage_failed)
{
	*storage_failed = true;
	if (c->job->phase == ARCH_DETACHED)
	{
		if (!archive_sql_columns(c->pc, c->rel, &c->columns, &c->copy_columns, err) ||
			!step_upload(c, err))
			return false;
		ARCHIVE_TEST_KILL("after_object");
		if (!step_manifest(c, err))
			return false;
		*storage_failed = false;
		if (!archive_sql_job_uploaded(c->pc, c->job, &c->copy, err))
			return false;
		ARCHIVE_TEST_KILL("after_upload");
	}
	*storage_failed = true;
	if (c->job->phase == ARCH_UPLOADED)
	{
		if (!step_verify(c, err))
			return false;
		ARCHIVE_TEST_KILL("after_verify");
	}
	*storage_failed = false;
	return true;
}

/* the data must stay queryable: attach the partition back, and say so */
static void
attach_back(PartCtx *c, PgpError *err)
{
	PgpError rerr;

	err_init(&rerr);
	if (archive_reattach(c->pc, &c->opt->lock, c->parent_q, c->job, err->message, &rerr))
		err_detail(err, "Nothing was dropped: %s is attached again and its data stays queryable.",
				   c->out->partition);
	else
		err_detail(err, "%s is detached but intact (%s); run \"pgpart archive\" again to finish or "
						"to attach it back.",
				   c->out->partition, rerr.message ? rerr.message : "re-attach failed");
	if (!err->hint)
		err_hint(err, "Fix the storage problem and run the same command again.");
	err_clear(&rerr);
}

char *
archive_location_url(const Storage *st, const char *key)
{
	return pg_xasprintf("%s/%s", st->url, key);
}

bool
archive_job_run(PgConn *pc, const ArchiveOptions *opt, Storage *st, const PartConfig *cfg,
				bool plain_detach, ArchJob *job, ArchivedPartition *out, PgpError *err)
{
	PartCtx c;
	double t0 = clock_ms();
	bool ok = false, storage_failed = false;

	memset(&c, 0, sizeof(c));
	c.opt = opt;
	c.pc = pc;
	c.st = st;
	c.parent_schema = cfg->parent_schema;
	c.parent_name = cfg->parent_name;
	c.parent = cfg->parent;
	c.job = job;
	c.out = out;
	c.plain_detach = plain_detach;
	c.qualified = pgc_quote_qualified(pc, job->pschema, job->pname);
	c.parent_q = pgc_quote_qualified(pc, cfg->parent_schema, cfg->parent_name);
	out->partition = pg_xasprintf("%s.%s", job->pschema, job->pname);
	out->lo = pg_xstrdup(job->lo);
	out->hi = pg_xstrdup(job->hi);
	out->object_url = archive_location_url(st, job->object_key);
	out->manifest_url = archive_location_url(st, job->manifest_key);

	if (job->phase == ARCH_STARTED)
	{
		if (!step_detach(&c, err))
			goto done;
		ARCHIVE_TEST_KILL("after_detach");
	}
	if ((job->phase == ARCH_DETACHED || job->phase == ARCH_UPLOADED) && !find_detached(&c, err))
		goto done;
	if (!upload_and_verify(&c, err, &storage_failed))
	{
		if (storage_failed)
			attach_back(&c, err);
		goto done;
	}
	if (job->phase == ARCH_VERIFIED && !step_drop(&c, err))
		goto done;
	out->rows = job->rows;
	out->raw_bytes = job->raw_bytes;
	out->compressed_bytes = job->compressed_bytes;
	out->sha256 = job->sha256 ? pg_xstrdup(job->sha256) : NULL;
	ok = true;
done:
	out->total_ms = clock_ms() - t0;
	json_decref(c.columns);
	free(c.copy_columns);
	free(c.fdw_program);
	archcopy_free(&c.copy);
	free(c.qualified);
	free(c.parent_q);
	return ok;
}
