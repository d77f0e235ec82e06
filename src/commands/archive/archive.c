/*
 * archive.c - pgpart archive: which partitions of a table to archive, and
 * the job of each.  One PARTITION is archived (or its unfinished job
 * continued) or refused with the reason; with --older-than, the unfinished
 * jobs at this location are continued first, then every closed partition
 * whose range ended before the cutoff, oldest first.  A job is taken through
 * its phases by archive_job.c; in --dry-run it is only planned: its DETACH
 * and DROP are printed and nothing is recorded.
 */
#include "commands/archive/archive.h"

#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive_int.h"
#include "commands/archive/archive_sql.h"
#include "pg/bounds.h"
#include "pg/citus.h"
#include "pg/schema.h"
#include "pg/worklock.h"
#include "util/mem.h"

void
archiveresult_free(ArchiveResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		FREE_ALL(r->items[i].partition, r->items[i].lo, r->items[i].hi, r->items[i].object_url,
				 r->items[i].manifest_url, r->items[i].sha256, r->items[i].note);
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* what one run of pgpart archive works with, set up once */
typedef struct ArchiveRun
{
	PgConn *pc;
	const ArchiveOptions *opt;
	PartConfig cfg;
	KeyType key_type;
	Storage *st;
	PartitionList parts;
	ArchJob *jobs; /* unfinished jobs of the table */
	int njobs;
	int64_t now_us;
	int64_t cutoff_us; /* --older-than: partitions must end before */
	/* detach plainly: a default partition, or Citus, rules out DETACH ... CONCURRENTLY */
	bool plain_detach;
} ArchiveRun;

/* what PARTITION names: a partition to archive, or one whose archive is unfinished */
typedef enum TargetKind
{
	TARGET_PARTITION,
	TARGET_UNFINISHED_JOB
} TargetKind;

typedef struct Target
{
	TargetKind kind;
	const PartitionInfo *part; /* TARGET_PARTITION */
	ArchJob *job;			   /* TARGET_UNFINISHED_JOB */
} Target;

/* ---- helpers shared with the tier policy -------------------------------- */

bool
archive_age_cutoff(PgConn *pc, const PartConfig *cfg, KeyType key_type, const Age *age,
				   int64_t *cutoff_us, PgpError *err)
{
	CivilDate today, cut;
	ResolvedBound b;

	if (!catalog_today_date(pc, cfg->time_zone, &today, err))
		return false;
	cut = age_subtract(today, *age);
	if (!bounds_resolve(pc, key_type, cfg->time_zone, &cut, 1, &b, err))
		return false;
	*cutoff_us = b.us;
	bounds_free(&b, 1);
	return true;
}

bool
archive_load_config(PgConn *pc, const char *table, PartConfig *cfg, KeyType *key_type,
					PgpError *err)
{
	bool found;
	ColumnInfo col;

	if (!config_load_one_managed(pc, table, cfg, err))
		return false;
	if (!catalog_column(pc, cfg->parent, cfg->column, &col, &found, err))
	{
		partconfig_free(cfg);
		return false;
	}
	*key_type = col.key_type;
	columninfo_free(&col);
	return true;
}

/* ---- a new job ---------------------------------------------------------- */

/*
 * The job of partition p: its objects' names (TABLE/PARTITION-STAMP, the
 * partition's schema only when it differs from the table's), recorded as
 * "started"; in --dry-run only named, not recorded.
 */
static bool
new_job(ArchiveRun *run, const PartitionInfo *p, ArchJob *job, PgpError *err)
{
	const PartConfig *cfg = &run->cfg;
	char *stamp = NULL;
	char *ps = archkey_escape(cfg->parent_schema), *pn = archkey_escape(cfg->parent_name);
	char *xn = archkey_escape(p->name), *xs = archkey_escape(p->schema);
	char *base;
	bool ok = false;

	memset(job, 0, sizeof(*job));
	if (!archive_sql_utc_stamp(run->pc, &stamp, err))
		goto done;
	base = strcmp(p->schema, cfg->parent_schema) == 0
			   ? pg_xasprintf("%s.%s/%s-%s", ps, pn, xn, stamp)
			   : pg_xasprintf("%s.%s/%s.%s-%s", ps, pn, xs, xn, stamp);
	job->object_key = pg_xasprintf("%s.copy.zst", base);
	job->manifest_key = pg_xasprintf("%s.manifest.json", base);
	free(base);
	if (run->pc->dry_run)
	{
		job->id = pg_xstrdup("0");
		job->phase = ARCH_STARTED;
		ok = true;
	}
	else
		ok = archive_sql_job_insert(run->pc, cfg, p, run->st->url, job, err);
done:
	free(stamp);
	free(ps);
	free(pn);
	free(xn);
	free(xs);
	return ok;
}

/* --dry-run: the statements an archive of p would run, the data path as a comment */
static bool
plan(ArchiveRun *run, const PartitionInfo *p, const ArchJob *job, ArchivedPartition *out,
	 PgpError *err)
{
	char *parent_q = pgc_quote_qualified(run->pc, run->cfg.parent_schema, run->cfg.parent_name);
	char *q = pgc_quote_qualified(run->pc, p->schema, p->name);
	char *note;
	bool ok;

	out->dry_run = true;
	out->partition = pg_xasprintf("%s.%s", p->schema, p->name);
	out->lo = pg_xstrdup(p->lo_text);
	out->hi = pg_xstrdup(p->hi_text);
	out->object_url = archive_location_url(run->st, job->object_key);
	out->manifest_url = archive_location_url(run->st, job->manifest_key);
	note = pg_xasprintf("COPY %s TO STDOUT | zstd | sha256 -> %s (+ manifest; read back and "
						"verified)",
						q, out->object_url);
	ok = archive_sql_detach(run->pc, parent_q, q,
							run->plain_detach ? ARCH_DETACH_PLAIN : ARCH_DETACH_CONCURRENTLY, err) &&
		 archive_sql_plan_note(run->pc, note, err) && archive_sql_drop_table(run->pc, q, err);
	free(note);
	free(q);
	free(parent_q);
	return ok;
}

/* a new job for p, run (or planned) into out */
static bool
archive_new(ArchiveRun *run, const PartitionInfo *p, ArchivedPartition *out, PgpError *err)
{
	ArchJob job;
	bool ok;

	if (!new_job(run, p, &job, err))
		return false;
	if (run->pc->dry_run)
		ok = plan(run, p, &job, out, err);
	else
	{
		ARCHIVE_TEST_KILL("after_job");
		ok = archive_job_run(run->pc, run->opt, run->st, &run->cfg, run->plain_detach, &job, out,
							 err);
	}
	archjob_free(&job);
	return ok;
}

static bool
archive_resume(ArchiveRun *run, ArchJob *job, ArchivedPartition *out, PgpError *err)
{
	out->resumed = true;
	return archive_job_run(run->pc, run->opt, run->st, &run->cfg, run->plain_detach, job, out, err);
}

/* ---- one PARTITION ------------------------------------------------------ */

static bool
find_target(ArchiveRun *run, const char *partition, Target *t, PgpError *err)
{
	RelInfo rel;
	bool found;
	int k;

	memset(t, 0, sizeof(*t));
	if (!catalog_resolve_table(run->pc, partition, &rel, &found, err))
		return false;
	if (!found)
	{
		relinfo_free(&rel);
		err_set(err, EXIT_USAGE, "partition \"%s\" does not exist", partition);
		return false;
	}
	/* a job in progress comes first: its partition may be detached already */
	for (k = 0; k < run->njobs && t->job == NULL; k++)
		if (strcmp(run->jobs[k].pschema, rel.schema) == 0 &&
			strcmp(run->jobs[k].pname, rel.name) == 0)
		{
			t->kind = TARGET_UNFINISHED_JOB;
			t->job = &run->jobs[k];
		}
	for (k = 0; k < run->parts.n && t->job == NULL && t->part == NULL; k++)
		if (run->parts.items[k].oid == rel.oid)
		{
			t->kind = TARGET_PARTITION;
			t->part = &run->parts.items[k];
		}
	relinfo_free(&rel);
	if (t->job == NULL && t->part == NULL)
	{
		err_set(err, EXIT_USAGE, "\"%s\" is not a partition of %s.%s", partition,
				run->cfg.parent_schema, run->cfg.parent_name);
		return false;
	}
	return true;
}

/* p can be archived: a closed range wholly in the past, not archived already */
static bool
check_archivable(ArchiveRun *run, const PartitionInfo *p, PgpError *err)
{
	bool foreign;

	if (!archive_is_foreign(run->pc, p->oid, &foreign, err))
		return false;
	if (foreign)
	{
		err_set(err, EXIT_USAGE,
				"%s.%s is already archived (a foreign partition reading its archive)", p->schema,
				p->name);
		return false;
	}
	if (p->is_default || !p->bounds_known || p->lo_unbounded || p->hi_unbounded)
	{
		err_set(err, EXIT_USAGE, "%s.%s has no closed range; only partitions with "
								 "FROM (...) TO (...) bounds can be archived",
				p->schema, p->name);
		return false;
	}
	if (p->hi_us > run->now_us)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not closed: its range ends at %s, in the future",
				p->schema, p->name, p->hi_text);
		err_hint(err, "Only partitions whose whole range is in the past are archived.");
		return false;
	}
	return true;
}

static bool
archive_one(ArchiveRun *run, ArchiveResult *res, PgpError *err)
{
	Target t;

	if (!find_target(run, run->opt->partition, &t, err))
		return false;
	if (t.kind == TARGET_UNFINISHED_JOB)
	{
		if (strcmp(t.job->location, run->st->url) != 0)
		{
			err_set(err, EXIT_USAGE, "an unfinished archive of %s.%s goes to %s", t.job->pschema,
					t.job->pname, t.job->location);
			err_hint(err, "Run again with --to %s to finish it.", t.job->location);
			return false;
		}
		res->n = 1;
		return archive_resume(run, t.job, &res->items[0], err);
	}
	if (!check_archivable(run, t.part, err))
		return false;
	res->n = 1;
	return archive_new(run, t.part, &res->items[0], err);
}

/* ---- --older-than ------------------------------------------------------- */

/* due: closed, ended before the cutoff, not read in place already, no job of its own */
static bool
is_due(ArchiveRun *run, const PartitionInfo *p, bool *due, PgpError *err)
{
	bool foreign;
	int k;

	*due = false;
	if (p->is_default || !p->bounds_known || p->lo_unbounded || p->hi_unbounded ||
		p->hi_us > run->now_us || p->hi_us > run->cutoff_us)
		return true;
	if (!archive_is_foreign(run->pc, p->oid, &foreign, err))
		return false;
	if (foreign)
		return true; /* archived already, read in place */
	for (k = 0; k < run->njobs; k++)
		if (strcmp(run->jobs[k].pschema, p->schema) == 0 && strcmp(run->jobs[k].pname, p->name) == 0)
			return true;
	*due = true;
	return true;
}

static bool
archive_due(ArchiveRun *run, ArchiveResult *res, PgpError *err)
{
	bool ok = true, due;
	int i;

	/* unfinished jobs first; one that goes elsewhere waits for its own --to */
	for (i = 0; i < run->njobs && ok; i++)
		if (strcmp(run->jobs[i].location, run->st->url) == 0)
			ok = archive_resume(run, &run->jobs[i], &res->items[res->n++], err);
	for (i = 0; i < run->parts.n && ok; i++)
	{
		const PartitionInfo *p = &run->parts.items[i];

		ok = is_due(run, p, &due, err);
		if (ok && due)
			ok = archive_new(run, p, &res->items[res->n++], err);
	}
	return ok;
}

/* ---- the command -------------------------------------------------------- */

static bool
run_setup(ArchiveRun *run, WorkLock *wl, PgpError *err)
{
	const ArchiveOptions *opt = run->opt;
	PgConn *pc = run->pc;

	if (!archive_load_config(pc, opt->table, &run->cfg, &run->key_type, err))
		return false;
	if (opt->older_than)
	{
		Age age;

		if (!age_parse(opt->older_than, &age))
		{
			err_set(err, EXIT_USAGE, "invalid --older-than \"%s\"", opt->older_than);
			err_hint(err, "Give an age such as \"1 year\", \"2 quarters\" or \"90 days\".");
			return false;
		}
		if (!archive_age_cutoff(pc, &run->cfg, run->key_type, &age, &run->cutoff_us, err))
			return false;
	}
	if (!storage_open(opt->to, &opt->storage, &run->st, err) ||
		!archive_now_us(pc, &run->now_us, err) ||
		!catalog_partitions(pc, run->cfg.parent, &run->parts, err))
		return false;
	run->plain_detach = run->parts.default_index >= 0;
	if (!run->plain_detach && !citus_is_managed(pc, run->cfg.parent, &run->plain_detach, err))
		return false;
	if (!worklock_take(pc, wl, "archive", &run->cfg.parent, 1, err))
		return false;
	return archive_sql_jobs_unfinished(pc, run->cfg.parent_schema, run->cfg.parent_name,
									   &run->jobs, &run->njobs, err);
}

bool
ops_archive(PgConn *pc, const ArchiveOptions *opt, ArchiveResult *res, PgpError *err)
{
	ArchiveRun run;
	WorkLock wl = {0};
	bool ok = false;
	int i;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.pc = pc;
	run.opt = opt;
	run.parts.default_index = -1;
	if (run_setup(&run, &wl, err))
	{
		res->items = pg_xcalloc((size_t) (run.njobs + run.parts.n + 1), sizeof(ArchivedPartition));
		ok = opt->partition ? archive_one(&run, res, err) : archive_due(&run, res, err);
	}
	for (i = 0; i < run.njobs; i++)
		archjob_free(&run.jobs[i]);
	free(run.jobs);
	worklock_release(pc, &wl);
	partitionlist_free(&run.parts);
	storage_close(run.st);
	partconfig_free(&run.cfg);
	return ok;
}
