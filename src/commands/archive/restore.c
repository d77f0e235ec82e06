/*
 * restore.c - pgpart restore: an archived partition back into its table
 * (its statements are in restore_sql.c, the manifest's checks in manifest.c).
 *
 * A manifest is input from outside like any other: every field is
 * type-checked and bounded, and no text in it is ever run as SQL.  It is
 * authenticated by the archive job this database recorded (the SHA-256 of
 * the manifest as written); a manifest no job vouches for (archived in
 * another database) is restored only with --trust-manifest, and a manifest
 * that differs from the one its job recorded never.  What restore takes from
 * it is data: the order of the columns in the COPY stream (their names and
 * types must be the table's), the bounds (one period of the table: they give
 * the partition its name, always in the table's schema), and the object's
 * name, sizes, row count and SHA-256 to check the object against.  Indexes
 * and constraints come from the table's own: the new table is made LIKE it,
 * its partitioned indexes are built on it from the catalog, and ATTACH finds
 * them.  Everything else in the manifest is at most compared and reported.
 *
 * In one transaction restore creates the table (with a CHECK constraint of
 * the bounds), streams the object through zstd into COPY FROM STDIN while
 * hashing it -- stopping as soon as it is longer, or decompresses to more,
 * than the manifest says -- and refuses (rolls everything back) when the
 * checksum, the size or the zstd stream is wrong; then builds the indexes.  A
 * second short transaction under lock_timeout ATTACHes it (the CHECK
 * constraint spares the scan).  A crash between the two leaves a loaded,
 * unattached table marked with the archive's checksum: a re-run attaches it
 * without loading again.
 */
#include "commands/archive/restore.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive_int.h"
#include "commands/archive/archive_sql.h"
#include "commands/archive/manifest.h"
#include "commands/archive/restore_sql.h"
#include "core/naming.h"
#include "pg/companion.h"
#include "pg/bounds.h"
#include "pg/citus.h"
#include "pg/health.h"
#include "pg/partition.h"
#include "pg/stmt.h"
#include "pg/worklock.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/progress.h"

void
restoreresult_free(RestoreResult *r)
{
	FREE_ALL(r->partition, r->lo, r->hi);
	namelist_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

/* ---- what the manifest says, against the database -------------------- */

/* a manifest's counts as text, as pgpart.archive_job gives them */
typedef struct ManifestFigures
{
	char rows[32], raw[32], comp[32];
} ManifestFigures;

/*
 * The job that recorded the manifest's SHA-256 (*found), whose figures
 * must be the manifest's: a job row changed after the archive refuses it.
 */
static bool
recorded_by_job(PgConn *pc, const Manifest *m, const ManifestFigures *f, char **job_id,
				bool *found, PgpError *err)
{
	PGresult *res = restore_sql_job_by_manifest(pc, m->hash, err);

	*found = false;
	if (res == NULL)
		return false;
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		return true;
	}
	if (strcmp(PQgetvalue(res, 0, 1), m->sha256) != 0 || strcmp(PQgetvalue(res, 0, 2), f->rows) != 0 ||
		strcmp(PQgetvalue(res, 0, 3), f->raw) != 0 || strcmp(PQgetvalue(res, 0, 4), f->comp) != 0)
	{
		err_set(err, EXIT_CHECK, "archive job %s recorded this manifest but not its figures",
				PQgetvalue(res, 0, 0));
		err_detail(err, "The job's row in pgpart.archive_job was changed after the archive.");
		err_hint(err, "Nothing was changed.  Find out who changed pgpart.archive_job.");
		PQclear(res);
		return false;
	}
	*job_id = pg_xstrdup(PQgetvalue(res, 0, 0));
	*found = true;
	PQclear(res);
	return true;
}

/*
 * No job recorded this manifest: a job that knows the archive (by its
 * object's checksum or by where the manifest lies) but recorded another
 * manifest refuses it; one from before manifest checksums must agree with
 * it, and --trust-manifest decides; with no job, --trust-manifest decides.
 */
static bool
unrecorded(PgConn *pc, const Manifest *m, const ManifestFigures *f, const char *url, bool trust,
		   char **job_id, NameList *notes, PgpError *err)
{
	PGresult *res;

	res = restore_sql_job_by_object(pc, m->sha256, url, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 1))
	{
		err_set(err, EXIT_CHECK, "manifest %s is not the one pgpart wrote: it differs from the "
								 "manifest archive job %s recorded",
				url, PQgetvalue(res, 0, 0));
		err_detail(err, "The job recorded a manifest with SHA-256 %s (%s); this one has %s.  It "
						"was changed or replaced after the archive.",
				   PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), m->hash);
		err_hint(err, "Nothing was changed.  Restore from the manifest the job names, or from an "
					  "intact copy; --trust-manifest does not override this.");
		PQclear(res);
		return false;
	}
	if (PQntuples(res) > 0)
	{
		/* archived before manifests were recorded: what the job has must agree */
		static const char *const fields[] = {"sha256", "rows",	 "raw_bytes", "compressed_bytes",
											 "bounds.from", "bounds.to", "partition_column",
											 "partition.schema", "partition.name"};
		const char *mine[] = {m->sha256, f->rows, f->raw, f->comp, m->lo, m->hi, m->column, m->pschema, m->pname};
		NameList diff;
		int k;

		memset(&diff, 0, sizeof(diff));
		for (k = 0; k < (int) (sizeof(fields) / sizeof(fields[0])); k++)
			if (PQgetisnull(res, 0, 3 + k) || strcmp(PQgetvalue(res, 0, 3 + k), mine[k]) != 0)
				namelist_add(&diff, fields[k]);
		if (diff.n > 0)
		{
			char *list = namelist_join(&diff, ", ");

			err_set(err, EXIT_CHECK, "manifest %s differs from archive job %s: %s", url,
					PQgetvalue(res, 0, 0), list);
			err_hint(err, "Nothing was changed.  Restore from an intact copy of the archive.");
			free(list);
			namelist_free(&diff);
			PQclear(res);
			return false;
		}
		if (!trust)
		{
			err_set(err, EXIT_USAGE, "manifest %s cannot be authenticated: archive job %s was "
									 "recorded by a pgpart that kept no manifest checksum",
					url, PQgetvalue(res, 0, 0));
			err_detail(err, "Its object checksum, sizes, row count, bounds and partition agree "
							"with the job; the order of its columns cannot be checked.");
			err_hint(err, "Run again with --trust-manifest if the archive's storage is trusted "
						  "(no SQL text from a manifest is run even then).");
			PQclear(res);
			return false;
		}
		*job_id = pg_xstrdup(PQgetvalue(res, 0, 0));
		namelist_addf(notes,
					  "manifest partly authenticated (--trust-manifest): archive job %s agrees "
					  "on the object, sizes and bounds but kept no manifest checksum",
					  *job_id);
		PQclear(res);
		return true;
	}
	PQclear(res);
	if (!trust)
	{
		err_set(err, EXIT_USAGE, "manifest %s is not authenticated: no archive job of this "
								 "database recorded it",
				url);
		err_detail(err, "Unauthenticated, taken on the manifest's word: the order of the columns "
						"in the data, the bounds [%s, %s), %lld rows, %lld bytes and the object's "
						"SHA-256 %s.  The manifest's own SHA-256 is %s.",
				   m->lo, m->hi, m->rows, m->compressed_bytes, m->sha256, m->hash);
		err_hint(err, "If it was archived in another database and its storage is trusted, run "
					  "again with --trust-manifest; no SQL text from a manifest is run even then, "
					  "and its columns and bounds are still checked against the table.");
		return false;
	}
	namelist_addf(notes,
				  "manifest not authenticated (--trust-manifest): no archive job of this "
				  "database recorded it (SHA-256 %s)",
				  m->hash);
	return true;
}

/*
 * The archive job that vouches for the manifest: the one that recorded its
 * SHA-256 (*authenticated); otherwise as unrecorded() says.
 */
static bool
authenticate(PgConn *pc, const Manifest *m, const char *url, bool trust, char **job_id,
			 bool *authenticated, NameList *notes, PgpError *err)
{
	ManifestFigures f;

	*job_id = NULL;
	*authenticated = false;
	snprintf(f.rows, sizeof(f.rows), "%lld", m->rows);
	snprintf(f.raw, sizeof(f.raw), "%lld", m->raw_bytes);
	snprintf(f.comp, sizeof(f.comp), "%lld", m->compressed_bytes);
	if (!recorded_by_job(pc, m, &f, job_id, authenticated, err))
		return false;
	return *authenticated || unrecorded(pc, m, &f, url, trust, job_id, notes, err);
}

typedef struct ColumnPair
{
	const char *name, *type;
} ColumnPair;

static int
cmp_pair(const void *a, const void *b)
{
	return strcmp(((const ColumnPair *) a)->name, ((const ColumnPair *) b)->name);
}

/* the parent's columns must be the archive's: names and types, generated ones aside */
static bool
check_columns(PgConn *pc, RelOid parent, const Manifest *m, PgpError *err)
{
	PGresult *res;
	ColumnPair *want;
	size_t i, n = 0;
	json_t *col;
	int k, ntable;
	bool ok;

	res = restore_sql_columns(pc, parent, err);
	if (res == NULL)
		return false;
	ntable = PQntuples(res);
	want = pg_xcalloc(json_array_size(m->columns) + 1, sizeof(ColumnPair));
	json_array_foreach(m->columns, i, col)
	{
		if (json_is_true(json_object_get(col, "generated")))
			continue;
		want[n].name = json_string_value(json_object_get(col, "name"));
		want[n].type = json_string_value(json_object_get(col, "type"));
		n++;
	}
	qsort(want, n, sizeof(ColumnPair), cmp_pair);
	ok = (int) n == ntable;
	for (k = 0; ok && k < ntable; k++)
		ok = strcmp(PQgetvalue(res, k, 0), want[k].name) == 0 &&
			 strcmp(PQgetvalue(res, k, 1), want[k].type) == 0;
	if (!ok)
	{
		StrBuf have, arch;

		sb_init(&have);
		sb_init(&arch);
		for (k = 0; k < ntable; k++)
			sb_appendf(&have, "%s%s %s", k ? ", " : "", PQgetvalue(res, k, 0), PQgetvalue(res, k, 1));
		for (i = 0; i < n; i++)
			sb_appendf(&arch, "%s%s %s", i ? ", " : "", want[i].name, want[i].type);
		err_set(err, EXIT_USAGE, "the table's columns differ from the archive's");
		err_detail(err, "Table: %s.  Archive: %s.", have.data, arch.data);
		err_hint(err, "Restore into a table with the columns the partition had.");
		sb_free(&have);
		sb_free(&arch);
	}
	PQclear(res);
	free(want);
	return ok;
}

/*
 * The partition the bounds stand for: they must be exactly one period of the
 * table (its interval, in its time zone), which gives the name pgpart uses
 * for it; b[0], b[1] are the bounds as pgpart itself writes them.
 */
static bool
destination(PgConn *pc, const PartConfig *cfg, KeyType kt, const Manifest *m, char **name,
			ResolvedBound b[2], PgpError *err)
{
	const char *type = kt == KEY_TIMESTAMPTZ ? "timestamptz"
					   : kt == KEY_TIMESTAMP ? "timestamp"
											 : "date";
	PGresult *res;
	CivilDate lo, hi;
	char suffix[CAL_SUFFIX_MAX];
	CalUnit unit;
	int64_t lo_us, hi_us;
	bool midnight, dates;
	PgpError qerr;

	memset(b, 0, 2 * sizeof(ResolvedBound));
	*name = NULL;
	err_init(&qerr);
	res = restore_sql_bounds(pc, kt, m->lo, m->hi, cfg->time_zone, &qerr);
	if (res == NULL)
	{
		err_set(err, EXIT_CHECK, "the archive's bounds [%s, %s) are not %s values", m->lo, m->hi,
				type);
		err_detail(err, "%s", qerr.message ? qerr.message : "?");
		err_hint(err, "The manifest is damaged or was edited; nothing was changed.");
		err_clear(&qerr);
		return false;
	}
	midnight = PQgetvalue(res, 0, 2)[0] == 't';
	/* the interval in force at the archive's start: the table may have been repartitioned */
	dates = cal_date_parse(PQgetvalue(res, 0, 0), &lo) && cal_date_parse(PQgetvalue(res, 0, 1), &hi);
	unit = dates ? sched_unit_at(&cfg->sched, lo) : cfg->unit;
	if (!dates || !midnight || cal_compare(cal_period_start(lo, unit), lo) != 0 ||
		cal_compare(cal_period_add(lo, unit, 1), hi) != 0)
	{
		err_set(err, EXIT_USAGE, "the archive's bounds [%s, %s) are not one %s of %s.%s (time zone "
								 "%s)",
				m->lo, m->hi, cal_unit_name(unit), cfg->parent_schema, cfg->parent_name,
				cfg->time_zone);
		err_detail(err, "Restore brings an archive back as the partition pgpart names for its "
						"bounds, and only a period of the table's interval has such a name.");
		err_hint(err, "Restore into a table partitioned by the interval the archive was made "
					  "with.");
		PQclear(res);
		return false;
	}
	lo_us = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	hi_us = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	PQclear(res);
	{
		CivilDate d[2] = {lo, hi};

		if (!bounds_resolve(pc, kt, cfg->time_zone, d, 2, b, err))
			return false;
	}
	if (b[0].literal == NULL || b[1].literal == NULL || b[0].us != lo_us || b[1].us != hi_us)
	{
		err_set(err, EXIT_CHECK, "the archive's bounds [%s, %s) are not where the table's %s "
								 "starting %04d-%02d-%02d lies",
				m->lo, m->hi, cal_unit_name(unit), lo.year, lo.month, lo.day);
		bounds_free(b, 2);
		memset(b, 0, 2 * sizeof(ResolvedBound));
		return false;
	}
	cal_period_suffix(lo, unit, suffix);
	*name = naming_derive(cfg->parent_name, suffix);
	if (*name == NULL)
	{
		err_set(err, EXIT_RUNTIME, "cannot derive a partition name for %s", cfg->parent_name);
		bounds_free(b, 2);
		memset(b, 0, 2 * sizeof(ResolvedBound));
		return false;
	}
	return true;
}

/*
 * The partition gets the table's indexes; the manifest's list (the
 * partition's, at archive time) is only counted: more there means the
 * partition had indexes of its own, which are not made from a manifest.
 */
static bool
compare_indexes(PgConn *pc, RelOid parent, const Manifest *m, NameList *notes, PgpError *err)
{
	long long np;

	if (!restore_sql_count_indexes(pc, parent, &np, err))
		return false;
	if ((long long) json_array_size(m->indexes) > np)
		namelist_addf(notes,
					  "the archive lists %zu indexes, the table has %lld: the table's are "
					  "restored; those only the partition had are not (a manifest's definitions "
					  "are not run; its \"indexes\" show them, to recreate by hand)",
					  json_array_size(m->indexes), np);
	return true;
}

/* ---- loading --------------------------------------------------------- */

typedef struct LoadCtx
{
	PgConn *pc;
	Storage *st;
	const Manifest *m;
	RelOid parent;
	const char *qualified;
	const char *parent_q;
	const char *object_key;
	const char *what;
	const char *lo, *hi; /* bounds as pgpart writes them */
	const char *column;
	double load_ms;
	bool show_progress;
	Progress prog;
	long long sent;
	const char *label;
} LoadCtx;

static bool
copy_sink(void *arg, const void *data, size_t n, PgpError *err)
{
	LoadCtx *l = arg;

	if (PQputCopyData(l->pc->conn, data, (int) n) != 1)
	{
		err_set(err, EXIT_RUNTIME, "COPY into the restored table failed: %s",
				PQerrorMessage(l->pc->conn));
		return false;
	}
	l->sent += (long long) n;
	progress_update(&l->prog, l->sent, l->label);
	return true;
}

/* the object's rows into the COPY begun on l->qualified, checked as they stream */
static bool
load_rows(LoadCtx *l, PgpError *err)
{
	const Manifest *m = l->m;
	ArchiveReader r;
	long long rows;
	bool ok;

	archive_reader_init(&r, l->what, copy_sink, l, m->compressed_bytes, m->raw_bytes);
	progress_start(&l->prog, "bytes", m->raw_bytes, l->show_progress);
	ok = l->st->ops->get(l->st, l->object_key, archive_reader_chunk, &r, err) &&
		 archive_reader_finish(&r, m->sha256, m->compressed_bytes, m->raw_bytes, err);
	archive_reader_free(&r);
	progress_finish(&l->prog);
	/* a bad object ends the COPY with an error: the server discards every row */
	if (!restore_sql_copy_in_end(l->pc, ok, &rows, err))
		return false;
	if (ok && rows != m->rows)
	{
		err_set(err, EXIT_CHECK, "%s held %lld rows, the manifest says %lld", l->what, rows,
				m->rows);
		return false;
	}
	return ok;
}

/* the health limits of the command line, keyed by the table (pgpart.throttle_limit) */
static bool
wait_healthy(PgConn *pc, const RestoreOptions *opt, RelOid parent, const char *dest,
			 RestoreResult *res, PgpError *err)
{
	char *label = pg_xasprintf("restore of %s", dest);
	bool ok = health_wait(pc, parent, label, &opt->health, "the load", &res->notes, err);

	free(label);
	return ok;
}

static bool
load_table(LoadCtx *l, PgpError *err)
{
	PgConn *pc = l->pc;
	const Manifest *m = l->m;
	bool ok = false;
	double t0 = clock_ms();
	char *mark = pg_xasprintf("pgpart restore %s", m->sha256);

	/* the mark is what a re-run looks for when the attach did not happen */
	if (!stmt_begin(pc, err) ||
		!restore_sql_create_like(pc, l->qualified, l->parent_q, l->column, l->lo, l->hi, err) ||
		!restore_sql_mark(pc, l->qualified, mark, err) ||
		!restore_sql_copy_in_begin(pc, l->qualified, m->columns, l->what, err))
		goto done;
	if (!pc->dry_run && !load_rows(l, err))
		goto done;
	l->load_ms = clock_ms() - t0;
	ok = restore_sql_build_indexes(pc, l->parent, l->qualified, err) &&
		 stmt_commit(pc, err);
done:
	if (!ok && !pc->dry_run)
		restore_sql_rollback(pc);
	free(mark);
	return ok;
}

/* ---- attaching ------------------------------------------------------- */

typedef struct AttachCtx
{
	const char *schema;	  /* the table's */
	const char *name;	  /* the partition's, as pgpart names it */
	const char *tmp_name; /* loaded under */
	const char *lo, *hi;
	const char *qualified, *parent_q, *tmp_q;
	const char *pname_q;  /* the partition's own name, quoted (for RENAME) */
	const char *job_id;	  /* the archive job to mark restored, or NULL */
	/* a file_fdw partition of this archive holds the range under this table or its companion */
	const char *foreign_holder_q;
} AttachCtx;

/* indexes made on the loaded table are named after it: rename them after the partition */
static bool
rename_indexes(PgConn *pc, const AttachCtx *a, PgpError *err)
{
	PGresult *res;
	size_t tl = strlen(a->tmp_name);
	int i;
	bool ok = true;

	if (pc->dry_run)
		return true;
	res = restore_sql_indexes_of(pc, a->schema, a->name, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *old = PQgetvalue(res, i, 0);
		char *want;
		RelOid taken = 0;

		if (strncmp(old, a->tmp_name, tl) != 0 || old[tl] != '_')
			continue;
		want = naming_derive(a->name, old + tl + 1);
		if (want == NULL)
			continue;
		ok = archive_sql_rel_oid(pc, a->schema, want, &taken, err);
		if (ok && taken == 0)
			ok = restore_sql_rename_index(pc, a->schema, old, want, err);
		free(want);
	}
	PQclear(res);
	return ok;
}

static bool
attach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	AttachCtx *a = arg;

	bool companion = a->foreign_holder_q && strcmp(a->foreign_holder_q, a->parent_q) != 0;

	/*
	 * The archive read in place gives way to the real rows, in one
	 * transaction.  Under a companion it leaves first: its DETACH waits for
	 * the readers of the view while nothing of the table is locked yet, so
	 * the application's writers never queue behind them.
	 */
	if (companion &&
		(!archive_sql_detach(pc, a->foreign_holder_q, a->qualified, ARCH_DETACH_PLAIN, err) ||
		 !partition_drop_foreign(pc, a->qualified, err)))
		return false;
	if (!partition_lock_for_attach(pc, a->parent_q, err))
		return false;
	if (a->foreign_holder_q && !companion)
	{
		if (!archive_sql_detach(pc, a->foreign_holder_q, a->qualified, ARCH_DETACH_PLAIN, err))
			return false;
		lock_txn_mark_locked(stats);
		if (!partition_drop_foreign(pc, a->qualified, err))
			return false;
	}
	if (!restore_sql_rename_table(pc, a->tmp_q, a->pname_q, err) ||
		!partition_attach_range(pc, a->parent_q, a->qualified, a->lo, a->hi, err))
		return false;
	lock_txn_mark_locked(stats);
	return partition_drop_check(pc, a->qualified, ARCHIVE_BOUNDS_CONSTRAINT, false, err) &&
		   restore_sql_mark(pc, a->qualified, NULL, err) && rename_indexes(pc, a, err) &&
		   (a->job_id == NULL || restore_sql_job_restored(pc, a->job_id, err));
}

/*
 * The names restore takes must be free: the partition's (or a file_fdw
 * partition of this table or its companion reading an archive holds it:
 * *foreign_holder_q, the table it is attached to),
 * and the one it loads under (or an earlier run of this archive loaded the
 * table and stopped before ATTACH: *loaded).
 */
static bool
check_names_free(PgConn *pc, const PartConfig *cfg, const char *dest, const char *tmp_name,
				 const char *sha256, char **foreign_holder_q, bool *loaded, PgpError *err)
{
	bool exists, owners;
	char *comment = NULL, *want;

	*loaded = false;
	if (!restore_sql_foreign_state(pc, cfg->parent_schema, dest, cfg->parent, &exists,
								   foreign_holder_q, err))
		return false;
	if (exists && *foreign_holder_q == NULL)
	{
		err_set(err, EXIT_USAGE, "%s.%s already exists", cfg->parent_schema, dest);
		err_hint(err, "The partition is there (or another table has its name); drop or "
					  "rename it first to restore the archive.");
		return false;
	}
	/* a table left by an earlier run counts only if it is the table owner's, unattached */
	if (!restore_sql_leftover(pc, cfg->parent_schema, tmp_name, cfg->parent, &exists, &comment,
							  &owners, err))
		return false;
	if (!exists)
		return true;
	want = pg_xasprintf("pgpart restore %s", sha256);
	*loaded = comment && strcmp(comment, want) == 0 && owners;
	FREE_ALL(want, comment);
	if (!*loaded)
	{
		err_set(err, EXIT_USAGE, "%s.%s already exists", cfg->parent_schema, tmp_name);
		err_hint(err, "pgpart loads restores under that name; drop it if it is not "
					  "yours (a table left by an earlier restore counts only when the "
					  "table's owner owns it).");
		return false;
	}
	return true;
}

/*
 * The manifest mkey at location, read and checked (manifest.c); *objkey is
 * its object (beside it), *url where it lies, for messages and the job's
 * records.
 */
static bool
read_manifest(const char *location, const char *mkey, const RestoreOptions *opt, Storage **st,
			  Manifest *m, char **objkey, char **url, PgpError *err)
{
	char *text = NULL;
	size_t len = 0;
	const char *slash;
	bool ok;

	ok = storage_open(location, &opt->storage, st, err) &&
		 storage_get_all(*st, mkey, MANIFEST_MAX_BYTES, &text, &len, err) &&
		 manifest_parse(text, len, opt->from, m, err);
	free(text);
	if (!ok)
		return false;
	slash = strrchr(mkey, '/');
	*objkey = slash ? pg_xasprintf("%.*s/%s", (int) (slash - mkey), mkey, m->object)
					: pg_xstrdup(m->object);
	*url = pg_xasprintf("%s/%s", (*st)->url, mkey);
	return true;
}

/*
 * What the manifest says, against the table: its partition column, the
 * job that vouches for it (*job_id), its columns, and its bounds, which
 * give the partition's name (*dest) and bounds (b).  res gets the figures
 * and the notes of what differs.
 */
static bool
check_manifest(PgConn *pc, const RestoreOptions *opt, const PartConfig *cfg, KeyType key_type,
			   const Manifest *m, const char *url, char **dest, ResolvedBound b[2],
			   char **job_id, RestoreResult *res, PgpError *err)
{
	if (strcmp(m->column, cfg->column) != 0)
	{
		err_set(err, EXIT_USAGE, "the archive was partitioned by \"%s\", the table by \"%s\"",
				m->column, cfg->column);
		return false;
	}
	if (!authenticate(pc, m, url, opt->trust_manifest, job_id, &res->authenticated, &res->notes,
					  err) ||
		!check_columns(pc, cfg->parent, m, err) ||
		!destination(pc, cfg, key_type, m, dest, b, err))
		return false;
	res->partition = pg_xasprintf("%s.%s", cfg->parent_schema, *dest);
	res->lo = pg_xstrdup(b[0].literal);
	res->hi = pg_xstrdup(b[1].literal);
	res->rows = m->rows;
	res->compressed_bytes = m->compressed_bytes;
	if (strcmp(m->pschema, cfg->parent_schema) != 0 || strcmp(m->pname, *dest) != 0)
		namelist_addf(&res->notes, "restored as %s; the archive calls the partition %s.%s",
					  res->partition, m->pschema, m->pname);
	if (strcmp(m->tschema, cfg->parent_schema) != 0 || strcmp(m->tname, cfg->parent_name) != 0)
		namelist_addf(&res->notes, "the archive was made of table %s.%s", m->tschema, m->tname);
	return compare_indexes(pc, cfg->parent, m, &res->notes, err);
}

/*
 * No other partition of the table's companion may hold any of the range: the
 * restored rows and its would both be read through the view, twice.  (The
 * one named dest is the archive read in place, which the restore replaces.)
 */
static bool
check_companion_free(PgConn *pc, const PartConfig *cfg, const char *dest, const ResolvedBound *b,
					 PgpError *err)
{
	ForeignHome home;
	PartitionList parts;
	int i;
	bool ok = true;

	if (!companion_find(pc, cfg->parent_schema, cfg->parent_name, &home, err))
		return false;
	if (home.name == NULL)
		return true;
	if (!catalog_partitions(pc, home.oid, &parts, err))
	{
		foreign_home_free(&home);
		return false;
	}
	for (i = 0; ok && i < parts.n; i++)
	{
		const PartitionInfo *p = &parts.items[i];

		if (strcmp(p->schema, cfg->parent_schema) == 0 && strcmp(p->name, dest) == 0)
			continue;
		if (!p->bounds_known || ((p->lo_unbounded || p->lo_us < b[1].us) &&
								 (p->hi_unbounded || p->hi_us > b[0].us)))
		{
			err_set(err, EXIT_USAGE, "%s.%s, a partition of %s.%s, already holds rows of the range",
					p->schema, p->name, home.schema, home.name);
			err_detail(err, "Restored, those rows would be read twice through the view.");
			err_hint(err, "Restore the archive %s.%s reads, or drop it first.", p->schema, p->name);
			ok = false;
		}
	}
	partitionlist_free(&parts);
	foreign_home_free(&home);
	return ok;
}

bool
ops_restore(PgConn *pc, const RestoreOptions *opt, RestoreResult *res, PgpError *err)
{
	PartConfig cfg;
	KeyType key_type;
	char *location = NULL, *mkey = NULL, *why = NULL, *objkey = NULL;
	char *qualified = NULL, *parent_q = NULL, *url = NULL;
	char *tmp_name = NULL, *tmp_q = NULL, *pname_q = NULL, *dest = NULL, *job_id = NULL;
	ResolvedBound b[2];
	bool have_bounds = false;
	char *foreign_holder_q = NULL;
	bool loaded = false;
	Storage *st = NULL;
	Manifest m;
	bool ok = false, cfg_loaded = false;
	WorkLock wl = {0};
	double t0 = clock_ms();
	LockStats ls;

	memset(res, 0, sizeof(*res));
	memset(&m, 0, sizeof(m));
	memset(&ls, 0, sizeof(ls));
	memset(b, 0, sizeof(b));
	if (!archurl_split_last(opt->from, &location, &mkey, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --from \"%s\"", opt->from);
		err_detail(err, "%s", why);
		err_hint(err, "Give the URL of a manifest, as \"pgpart archive list\" shows it.");
		goto done;
	}
	if (!archive_load_config(pc, opt->table, &cfg, &key_type, err))
		goto done;
	cfg_loaded = true;
	if (!read_manifest(location, mkey, opt, &st, &m, &objkey, &url, err))
		goto done;
	if (!check_manifest(pc, opt, &cfg, key_type, &m, url, &dest, b, &job_id, res, err))
		goto done;
	have_bounds = true;
	if (!worklock_take(pc, &wl, "restore", &cfg.parent, 1, err))
		goto done;
	qualified = pgc_quote_qualified(pc, cfg.parent_schema, dest);
	parent_q = pgc_quote_qualified(pc, cfg.parent_schema, cfg.parent_name);
	/* loaded under a name of its own, renamed when attached */
	tmp_name = pg_xasprintf("pgpart_restore_%.16s", m.sha256);
	tmp_q = pgc_quote_qualified(pc, cfg.parent_schema, tmp_name);
	pname_q = pgc_quote_ident(pc, dest);
	if (!check_names_free(pc, &cfg, dest, tmp_name, m.sha256, &foreign_holder_q, &loaded, err) ||
		!check_companion_free(pc, &cfg, dest, b, err))
		goto done;
	if (!loaded)
	{
		LoadCtx l;

		memset(&l, 0, sizeof(l));
		l.pc = pc;
		l.st = st;
		l.m = &m;
		l.parent = cfg.parent;
		l.qualified = tmp_q;
		l.parent_q = parent_q;
		l.object_key = objkey;
		l.what = opt->from;
		l.lo = b[0].literal;
		l.hi = b[1].literal;
		l.column = cfg.column;
		l.show_progress = opt->show_progress;
		l.label = dest;

		if (!wait_healthy(pc, opt, cfg.parent, dest, res, err) || !load_table(&l, err))
			goto done;
		res->load_ms = l.load_ms;
		ARCHIVE_TEST_KILL("restore_loaded");
	}
	{
		AttachCtx a = {cfg.parent_schema, dest,	   tmp_name, b[0].literal,	 b[1].literal,
					   qualified,		  parent_q, tmp_q,	  pname_q,		job_id,
					   foreign_holder_q};

		bool attached = citus_distribute_as_parent(pc, tmp_q, cfg.parent, err) &&
						lock_run_txn(pc, &opt->lock, attach_body, &a, &ls, err);

		lock_felt_note(&res->felt, &ls);
		if (!attached)
		{
			if (strcmp(err->sqlstate, SQLSTATE_CHECK_VIOLATION) == 0)
				err_hint(err, "Rows for this range arrived in the default partition after it was "
							  "archived; move them out (\"pgpart maintain\" gives them a partition "
							  "of their own) and restore into that partition's place.");
			err_prefix(err, "could not attach the restored %s.%s", cfg.parent_schema, dest);
			if (!pc->dry_run)
				err_detail(err, "The rows are loaded into %s.%s, which is not attached; running "
								"the same restore again attaches it.",
						   cfg.parent_schema, tmp_name);
			goto done;
		}
	}
	res->max_lock_held_ms = ls.held_ms;
	ok = true;
done:
	res->total_ms = clock_ms() - t0;
	worklock_release(pc, &wl);
	manifest_free(&m);
	storage_close(st);
	if (cfg_loaded)
		partconfig_free(&cfg);
	if (have_bounds)
		bounds_free(b, 2);
	free(location);
	free(mkey);
	free(why);
	free(objkey);
	free(url);
	free(qualified);
	free(parent_q);
	free(tmp_name);
	free(tmp_q);
	free(pname_q);
	free(dest);
	free(job_id);
	free(foreign_holder_q);
	return ok;
}
