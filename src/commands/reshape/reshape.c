/*
 * pgpart split / merge: partitions replaced online by partitions of another
 * interval (the steps are in reshape.h, the statements in reshape_sql.c).
 *
 * What keeps the rows safe: until the swap the old partitions stay attached
 * and are the truth; the new ones only receive copies (mirrored writes and
 * copied batches) and are compared with them, batch by batch and then as a
 * whole, before the swap may run.  The swap is one transaction.  The old
 * partitions are dropped only after it committed.  Each step records its
 * phase in pgpart.reshape_job in its own transaction, so a crash anywhere
 * leaves either the old partitions attached (run again to continue, or
 * --abort) or the new ones attached and the old ones detached (run again to
 * drop them).
 */
#include "commands/reshape/reshape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/migrate/mirror_sql.h"
#include "commands/migrate/shadow_sql.h"
#include "commands/move/move_sql.h"
#include "commands/reshape/reshape_sql.h"
#include "commands/rollup/rollup_sql.h"
#include "core/batchsize.h"
#include "core/naming.h"
#include "core/reshape.h"
#include "pg/bounds.h"
#include "pg/catalog.h"
#include "pg/config.h"
#include "pg/health.h"
#include "pg/partition.h"
#include "pg/stmt.h"
#include "pg/worklock.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/testhook.h"
#include "util/progress.h"
#include "util/strbuf.h"

#ifdef PGPART_TEST_HOOKS
/*
 * Test builds only: PGPART_TEST_RESHAPE_PAUSE=STEP:SECONDS stops at STEP
 * ("prepared", "copy": after the first batch, "copied", "swapped"), each
 * after its transaction committed, so that tests can write meanwhile or
 * kill pgpart there.
 */
#define test_pause(step) testhook_pause("PGPART_TEST_RESHAPE_PAUSE", (step))
#else
#define test_pause(step) ((void) 0)
#endif

void
reshaperesult_free(ReshapeResult *r)
{
	FREE_ALL(r->schema, r->name, r->kind, r->interval, r->phase, r->throttle);
	NAMELIST_FREE_ALL(&r->sources, &r->targets, &r->notes);
	memset(r, 0, sizeof(*r));
}

/* what one run knows of the job: the record and the tables it names */
typedef struct Work
{
	const ReshapeOptions *opt;
	ReshapeResult *res;
	PartConfig cfg;
	KeyType key_type;
	ReshapeJob job;
	char *parent_q;
	char *label; /* schema.name, for people */
	char *shadow_q;
	NameList key;			 /* the sources' unique key (unquoted) */
	RelOid *src_oid;		 /* 0 once detached */
	char **src_q;			 /* attached name, quoted */
	char **src_lo, **src_hi; /* their bounds, as the server prints them */
	char **src_space;		 /* their tablespaces (NULL: the default) */
	char **old_name;		 /* the name a source takes at the swap */
	char **tgt_q;
	CivilDate *tgt_from, *tgt_to; /* civil bounds of the targets */
	LockPolicy lock;
	BatchSizer sizer; /* rows per batch, from the time the last ones held their locks */
	Throttle throttle; /* --rate and the health limits, between batches */
} Work;

static void
work_free(Work *w)
{
	int i;

	for (i = 0; i < w->job.sources.n; i++)
		FREE_ALL(w->src_q ? w->src_q[i] : NULL, w->src_lo ? w->src_lo[i] : NULL,
				 w->src_hi ? w->src_hi[i] : NULL, w->src_space ? w->src_space[i] : NULL,
				 w->old_name ? w->old_name[i] : NULL);
	for (i = 0; i < w->job.targets.n; i++)
		free(w->tgt_q ? w->tgt_q[i] : NULL);
	FREE_ALL(w->src_oid, w->src_q, w->src_lo, w->src_hi, w->src_space, w->old_name, w->tgt_q,
			 w->tgt_from, w->tgt_to, w->parent_q, w->label, w->shadow_q);
	namelist_free(&w->key);
	reshapejob_free(&w->job);
	partconfig_free(&w->cfg);
}

static void
alloc_tables(Work *w)
{
	size_t ns = (size_t) w->job.sources.n + 1, nt = (size_t) w->job.targets.n + 1;

	w->src_oid = pg_xcalloc(ns, sizeof(RelOid));
	w->src_q = pg_xcalloc(ns, sizeof(char *));
	w->src_lo = pg_xcalloc(ns, sizeof(char *));
	w->src_hi = pg_xcalloc(ns, sizeof(char *));
	w->src_space = pg_xcalloc(ns, sizeof(char *));
	w->old_name = pg_xcalloc(ns, sizeof(char *));
	w->tgt_q = pg_xcalloc(nt, sizeof(char *));
	w->tgt_from = pg_xcalloc(nt, sizeof(CivilDate));
	w->tgt_to = pg_xcalloc(nt, sizeof(CivilDate));
}

static const char *
kind_of(const ReshapeOptions *opt)
{
	return opt->merge ? "merge" : "split";
}

/* the partition of the table called name (bare: in its list; qualified: that one) */
static const PartitionInfo *
find_partition(PgConn *pc, const PartitionList *parts, const char *name, PgpError *err)
{
	char *schema = NULL, *rel = NULL;
	const PartitionInfo *found = NULL;
	int i;

	if (strchr(name, '.') || name[0] == '"')
	{
		if (!catalog_split_name(pc, name, &schema, &rel, err))
			return NULL;
	}
	for (i = 0; i < parts->n && !found; i++)
	{
		const PartitionInfo *p = &parts->items[i];

		if (rel ? strcmp(p->name, rel) == 0 && strcmp(p->schema, schema) == 0
				: strcmp(p->name, name) == 0)
			found = p;
	}
	FREE_ALL(schema, rel);
	return found;
}

/* the record of a new split or merge, from the command line and the catalog */
static bool
plan_new(PgConn *pc, Work *w, PgpError *err)
{
	const ReshapeOptions *opt = w->opt;
	PartitionList parts;
	ReshapeSource *src = NULL;
	Period *periods = NULL, one;
	CivilDate *dates = NULL;
	ResolvedBound *b = NULL;
	CalUnit unit = opt->unit;
	NameList blockers = {0};
	int n = opt->partitions.n, nt = 0, i;
	char *why = NULL;
	const char *first_space = NULL;
	bool ok = false;

	if (!catalog_partitions(pc, w->cfg.parent, &parts, err))
		return false;
	w->job.kind = pg_xstrdup(kind_of(opt));
	src = pg_xcalloc((size_t) n + 1, sizeof(ReshapeSource));
	for (i = 0; i < n; i++)
	{
		const char *given = opt->partitions.items[i];
		const PartitionInfo *p = find_partition(pc, &parts, given, err);
		int j;

		if (p == NULL)
		{
			if (err->message == NULL)
			{
				err_set(err, EXIT_USAGE, "\"%s\" is not a partition of %s.%s", given,
						w->cfg.parent_schema, w->cfg.parent_name);
				err_hint(err, "\"pgpart status %s.%s\" lists its partitions.",
						 w->cfg.parent_schema, w->cfg.parent_name);
			}
			goto out;
		}
		if (p->is_default || !p->bounds_known || p->lo_unbounded || p->hi_unbounded)
		{
			err_set(err, EXIT_USAGE, "%s.%s has no bounded range to %s", p->schema, p->name,
					kind_of(opt));
			goto out;
		}
		for (j = 0; j < w->job.sources.n; j++)
			if (strcmp(w->job.sources.items[j], p->name) == 0)
			{
				err_set(err, EXIT_USAGE, "%s is named twice", p->name);
				goto out;
			}
		if (w->job.part_schema && strcmp(w->job.part_schema, p->schema) != 0)
		{
			err_set(err, EXIT_USAGE, "the partitions to merge are in different schemas (%s, %s)",
					w->job.part_schema, p->schema);
			goto out;
		}
		if (i > 0 && strcmp(first_space ? first_space : "", p->tablespace ? p->tablespace : "") != 0)
		{
			/* the merged partition can be in one tablespace only: which tier is the user's call */
			err_set(err, EXIT_USAGE, "the partitions to merge are in different tablespaces (%s, %s)",
					first_space ? first_space : "the default", p->tablespace ? p->tablespace : "the default");
			err_hint(err, "Move them to one first (pgpart move).");
			goto out;
		}
		if (i == 0)
			first_space = p->tablespace;
		if (!w->job.part_schema)
			w->job.part_schema = pg_xstrdup(p->schema);
		if (!reshape_civil_bounds(pc, w->key_type, w->cfg.time_zone, p->lo_text, p->hi_text,
								  &src[i].lo, &src[i].hi, err))
			goto out;
		namelist_add(&w->job.sources, p->name);
		{
			char *old = naming_derive(p->name, "pgpart_old"), *comment = NULL;
			RelOid there = 0;

			ok = old && tiermove_find_table(pc, p->schema, old, &there, &comment, err);
			if (ok && there != 0)
			{
				err_set(err, EXIT_USAGE, "a table %s.%s exists already (the name %s takes at the "
										 "swap)",
						p->schema, old, p->name);
				err_hint(err, "Drop it (a partition kept by --keep-old) or rename it first.");
				ok = false;
			}
			FREE_ALL(old, comment);
			if (!ok)
				goto out;
			ok = false;
		}
		if (!tiermove_blockers(pc, w->cfg.parent, p->oid, &blockers, err) ||
			!reshape_blockers(pc, p->oid, &blockers, err))
			goto out;
		if (i == 0)
		{
			NameList types = {0};

			ok = shadow_find_key(pc, p->oid, &w->key, &types, err);
			namelist_free(&types);
			if (!ok)
				goto out;
			ok = false;
			if (w->key.n == 0)
				namelist_add(&blockers, "it has no primary key or unique key of NOT NULL columns, "
										"by which the copy could be kept in step");
		}
	}
	if (blockers.n > 0)
	{
		char *all = namelist_join(&blockers, "; ");

		err_set(err, EXIT_USAGE, "cannot %s: %s", kind_of(opt), all);
		free(all);
		goto out;
	}
	if (opt->merge)
	{
		/* in range order, names with their bounds, as the record keeps them */
		for (i = 1; i < n; i++)
		{
			int j;

			for (j = i; j > 0 && cal_compare(src[j].lo, src[j - 1].lo) < 0; j--)
			{
				ReshapeSource t = src[j];
				char *name = w->job.sources.items[j];

				src[j] = src[j - 1];
				src[j - 1] = t;
				w->job.sources.items[j] = w->job.sources.items[j - 1];
				w->job.sources.items[j - 1] = name;
			}
		}
		if (!reshape_merge(src, n, opt->has_unit, &unit, &one, &why))
			goto refused;
		nt = 1;
		periods = pg_xcalloc(1, sizeof(Period));
		periods[0] = one;
	}
	else if (!reshape_split(src[0], unit, &periods, &nt, &why))
		goto refused;
	if (unit == CAL_DAY || unit == CAL_WEEK)
	{
		Rollup *rl = NULL;
		int nr = 0, k;
		const char *month = NULL;

		if (!rollup_load(pc, w->cfg.parent, 0, &rl, &nr, err))
			goto out;
		for (k = 0; k < nr && !month; k++)
			if (strcmp(rl[k].grain, "month") == 0)
				month = rl[k].summary_name;
		if (month)
		{
			/* a month bucket would span partitions, which refresh cannot summarise */
			err_set(err, EXIT_USAGE, "cannot %s into %ss: rollup %s has month buckets, which "
									 "need partitions of a month or longer",
					kind_of(opt), cal_unit_name(unit), month);
			rollup_list_free(rl, nr);
			goto out;
		}
		rollup_list_free(rl, nr);
	}
	w->job.interval = pg_xstrdup(cal_unit_name(unit));
	/* the new partitions' bounds, as the server turns civil dates into them */
	dates = pg_xcalloc((size_t) nt + 1, sizeof(CivilDate));
	for (i = 0; i < nt; i++)
		dates[i] = periods[i].start;
	dates[nt] = periods[nt - 1].end;
	b = pg_xcalloc((size_t) nt + 1, sizeof(ResolvedBound));
	if (!bounds_resolve(pc, w->key_type, w->cfg.time_zone, dates, nt + 1, b, err))
		goto out;
	for (i = 0; i < nt; i++)
	{
		char *name = naming_derive(w->cfg.parent_name, periods[i].suffix);
		RelOid there = 0;
		char *comment = NULL;

		if (name == NULL)
		{
			err_set(err, EXIT_RUNTIME, "cannot derive a partition name for %s", w->cfg.parent_name);
			goto out;
		}
		namelist_add(&w->job.targets, name);
		namelist_add(&w->job.target_from, b[i].literal);
		namelist_add(&w->job.target_to, b[i + 1].literal);
		ok = tiermove_find_table(pc, w->job.part_schema, name, &there, &comment, err);
		free(comment);
		free(name);
		if (!ok)
			goto out;
		ok = false;
		if (there != 0)
		{
			err_set(err, EXIT_USAGE, "a table %s.%s exists already", w->job.part_schema,
					w->job.targets.items[i]);
			err_hint(err, "The new partitions take pgpart's names for their periods; rename or "
						  "drop that table first.");
			goto out;
		}
	}
	{
		char *s = naming_derive(w->cfg.parent_name, "pgpart_reshape");

		w->job.shadow = s;
	}
	w->job.keep_old = opt->keep_old;
	ok = true;
	goto out;
refused:
	err_set(err, EXIT_USAGE, "cannot %s: %s", kind_of(opt), why);
	if (!opt->merge)
		err_hint(err, "Give an interval whose periods divide the partition (--interval day, "
					  "week, month, quarter or year).");
	free(why);
out:
	if (b)
		bounds_free(b, nt + 1);
	FREE_ALL(b, dates, periods, src);
	namelist_free(&blockers);
	partitionlist_free(&parts);
	return ok;
}

/*
 * The tables of the record as they are now: sources attached (until the
 * swap) with their bounds, targets, and the names the swap gives
 */
static bool
load_tables(PgConn *pc, Work *w, PgpError *err)
{
	PartitionList parts;
	bool swapped = strcmp(w->job.phase ? w->job.phase : "copying", "swapped") == 0;
	int i, j;

	alloc_tables(w);
	w->shadow_q = pgc_quote_qualified(pc, w->job.part_schema, w->job.shadow);
	for (i = 0; i < w->job.targets.n; i++)
	{
		w->tgt_q[i] = pgc_quote_qualified(pc, w->job.part_schema, w->job.targets.items[i]);
		if (!reshape_civil_bounds(pc, w->key_type, w->cfg.time_zone, w->job.target_from.items[i],
								  w->job.target_to.items[i], &w->tgt_from[i], &w->tgt_to[i], err))
			return false;
	}
	for (i = 0; i < w->job.sources.n; i++)
	{
		w->old_name[i] = naming_derive(w->job.sources.items[i], "pgpart_old");
		if (w->old_name[i] == NULL)
		{
			err_set(err, EXIT_RUNTIME, "cannot derive a name for the former %s",
					w->job.sources.items[i]);
			return false;
		}
		w->src_q[i] = pgc_quote_qualified(pc, w->job.part_schema,
										  swapped ? w->old_name[i] : w->job.sources.items[i]);
	}
	if (swapped)
		return true;
	if (!catalog_partitions(pc, w->cfg.parent, &parts, err))
		return false;
	for (i = 0; i < w->job.sources.n; i++)
	{
		for (j = 0; j < parts.n; j++)
			if (strcmp(parts.items[j].schema, w->job.part_schema) == 0 &&
				strcmp(parts.items[j].name, w->job.sources.items[i]) == 0)
			{
				w->src_oid[i] = parts.items[j].oid;
				w->src_lo[i] = pg_xstrdup(parts.items[j].lo_text);
				w->src_hi[i] = pg_xstrdup(parts.items[j].hi_text);
				w->src_space[i] = parts.items[j].tablespace ? pg_xstrdup(parts.items[j].tablespace)
															: NULL;
			}
		if (w->src_oid[i] == 0 && w->opt->abort)
			continue; /* nothing of ours can be on it any more: abort undoes the rest */
		if (w->src_oid[i] == 0)
		{
			err_set(err, EXIT_RUNTIME, "%s.%s, a partition this %s replaces, is no longer a "
									   "partition of %s",
					w->job.part_schema, w->job.sources.items[i], w->job.kind, w->label);
			err_hint(err, "Run it again with --abort to undo what it made.");
			partitionlist_free(&parts);
			return false;
		}
	}
	partitionlist_free(&parts);
	if (w->key.n == 0 && w->src_oid[0] != 0)
	{
		NameList types = {0};
		bool ok = shadow_find_key(pc, w->src_oid[0], &w->key, &types, err);

		namelist_free(&types);
		if (!ok)
			return false;
	}
	return true;
}

static bool
copy_for(PgConn *pc, const Work *w, int i, bool check, TableCopy *t, PgpError *err)
{
	char *to = check ? reshape_shadow_range_sql(pc, w->shadow_q, w->cfg.column, w->src_lo[i],
												 w->src_hi[i])
					 : pg_xstrdup(w->shadow_q);
	bool ok = tablecopy_load(pc, w->src_oid[i], to, &w->key, w->cfg.column, t, err);

	free(to);
	return ok;
}

/* ---- prepare ---- */

static bool
prepare_target(PgConn *pc, Work *w, int t, PgpError *err)
{
	int s = 0; /* a split's one source, a merge's first: they share one tablespace */
	char *reloptions = NULL;
	NameList settings = {0};
	TierIndexList idx;
	TierCopy c;
	bool ok;
	int i;

	memset(&idx, 0, sizeof(idx));
	if (!tiermove_reloptions(pc, w->src_oid[s], &reloptions, err))
		return false;
	memset(&c, 0, sizeof(c));
	c.copy_q = w->tgt_q[t];
	c.part_q = w->src_q[s];
	c.column = w->cfg.column;
	c.lo_text = w->job.target_from.items[t];
	c.hi_text = w->job.target_to.items[t];
	c.reloptions = reloptions;
	c.tablespace = w->src_space[s];
	ok = tiermove_create_copy(pc, &c, err) &&
		 tiermove_capture_indexes_as(pc, w->src_oid[s], w->job.sources.items[s], w->tgt_q[t],
									 w->job.targets.items[t], &idx, err) &&
		 tiermove_column_settings(pc, w->src_oid[s], w->tgt_q[t], &settings, err) &&
		 stmt_change_list(pc, &settings, err);
	for (i = 0; ok && i < idx.n; i++)
		ok = pgc_change(pc, idx.items[i].create_sql, 0, NULL, err) &&
			 (idx.items[i].constraint_sql == NULL ||
			  pgc_change(pc, idx.items[i].constraint_sql, 0, NULL, err));
	ok = ok && reshape_attach(pc, w->shadow_q, w->tgt_q[t], c.lo_text, c.hi_text, err) &&
		 tiermove_comment(pc, w->tgt_q[t], RESHAPE_BUILDING_MARK, err);
	tierindexlist_free(&idx);
	namelist_free(&settings);
	free(reloptions);
	return ok;
}

static bool
prepare_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Work *w = arg;
	int i;

	if (!reshape_job_insert(pc, w->cfg.parent, &w->job, err) ||
		!reshape_create_shadow(pc, w->shadow_q, w->src_q[0], w->cfg.column, err))
		return false;
	for (i = 0; i < w->job.targets.n; i++)
		if (!prepare_target(pc, w, i, err))
			return false;
	for (i = 0; i < w->job.sources.n; i++)
	{
		TableCopy t;
		bool ok = copy_for(pc, w, i, false, &t, err) &&
				  reshape_create_mirror(pc, w->job.id, i, w->src_oid[i], w->src_q[i], &t,
										w->cfg.column, w->src_lo[i], w->src_hi[i], err);

		tablecopy_free(&t);
		if (!ok)
			return false;
	}
	lock_txn_mark_locked(stats);
	return true;
}

/*
 * body in a transaction under the lock rules (lock_run_txn_on), which takes
 * mode on every source and, with parent, ACCESS EXCLUSIVE on the table;
 * *held (may be NULL): how long it held them
 */
static bool
run_locked(PgConn *pc, Work *w, bool parent, LockMode mode, LockedBody body, double *held,
		   PgpError *err)
{
	int n = w->job.sources.n + (parent ? 1 : 0), i;
	LockTarget *lt = pg_xcalloc((size_t) n, sizeof(LockTarget));
	LockStats st;
	bool ok;

	n = 0;
	for (i = 0; i < w->job.sources.n; i++)
		if (w->src_oid[i] != 0) /* 0: detached meanwhile (an abort goes on without it) */
		{
			lt[n].rel = w->src_oid[i];
			lt[n++].mode = mode;
		}
	if (parent)
	{
		lt[n].rel = w->cfg.parent;
		lt[n++].mode = LOCK_ACCESS_EXCLUSIVE;
	}
	memset(&st, 0, sizeof(st));
	ok = lock_run_txn_on(pc, &w->lock, lt, n, body, w, &st, err);
	lock_felt_note(&w->res->felt, &st);
	if (held)
		*held = st.held_ms;
	free(lt);
	return ok;
}

static bool
prepare(PgConn *pc, Work *w, PgpError *err)
{
	bool ok = run_locked(pc, w, false, LOCK_SHARE_ROW_EXCLUSIVE, prepare_body, NULL, err);

	free(w->job.phase);
	w->job.phase = pg_xstrdup("copying");
	return ok;
}

/* ---- copy ---- */

typedef struct Batch
{
	Work *w;
	int source;
	const TableCopy *copy;
	const TableCopy *check;
	const NameList *last;
	const NameList *upper;
	NameList highest;
	bool found;
	int locked;
	long long rows;
} Batch;

static bool
batch_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Batch *b = arg;
	KeyRange todo = {b->last, b->upper}, done;
	TableComparison cmp;
	bool ok;

	(void) stats;
	namelist_free(&b->highest);
	b->rows = 0;
	b->locked = 0;
	if (!mirror_lock_batch(pc, b->copy, &todo, b->w->sizer.next, &b->highest, &b->locked,
						   &b->found, err))
		return false;
	if (!b->found)
		return reshape_job_progress(pc, &b->w->job, b->source + 1, &b->highest, 0, err);
	done.lower = b->last;
	done.upper = &b->highest;
	memset(&cmp, 0, sizeof(cmp));
	ok = mirror_copy_missing(pc, b->copy, &done, &b->rows, err) &&
		 mirror_batch_compare(pc, b->check, &done, &cmp, err);
	if (ok && !cmp.equal)
	{
		err_set(err, EXIT_RUNTIME, "the batch of %s after copying differs from the new "
								   "partitions: %s rows (checksum %s) against %s (%s)",
				b->w->src_q[b->source], cmp.from_rows, cmp.from_sum, cmp.to_rows, cmp.to_sum);
		err_hint(err, "Nothing was swapped. Run the command again, or with --abort to undo.");
		ok = false;
	}
	tablecomparison_free(&cmp);
	return ok && reshape_job_progress(pc, &b->w->job, b->source, &b->highest, b->rows, err);
}

static bool
copy_source(PgConn *pc, Work *w, int i, Progress *prog, PgpError *err)
{
	TableCopy copy, check;
	NameList upper = {0}, last = {0};
	Batch b;
	bool ok;
	int k;

	memset(&b, 0, sizeof(b));
	ok = copy_for(pc, w, i, false, &copy, err) && copy_for(pc, w, i, true, &check, err) &&
		 mirror_highest_key(pc, &copy, &upper, err);
	if (ok && i == w->job.copied_source)
		for (k = 0; k < w->job.last_key.n; k++)
			namelist_add(&last, w->job.last_key.items[k]);
	b.w = w;
	b.source = i;
	b.copy = &copy;
	b.check = &check;
	b.upper = &upper;
	while (ok && upper.n > 0)
	{
		double t0 = clock_ms();

		LockStats st;

		memset(&st, 0, sizeof(st));
		b.last = &last;
		ok = lock_run_txn(pc, &w->lock, batch_body, &b, &st, err);
		w->res->copy_ms += clock_ms() - t0;
		if (!ok || !b.found)
			break;
		/* writers of the rows a batch holds FOR SHARE wait for it: keep it near the budget */
		batchsizer_observe(&w->sizer, b.locked, st.felt_ms - st.after_ms);
		if (!(ok = throttle_between_batches(&w->throttle, pc, b.rows, err)))
			break;
		if (w->res->batches++ == 0)
			test_pause("copy");
		w->res->rows_copied += b.rows;
		progress_update(prog, w->job.rows_copied + w->res->rows_copied, NULL);
		namelist_free(&last);
		for (k = 0; k < b.highest.n; k++)
			namelist_add(&last, b.highest.items[k]);
	}
	/* an empty source, or the last batch found the range copied: the next one's turn */
	if (ok && (upper.n == 0 || b.found))
	{
		NameList none = {0};

		ok = stmt_begin(pc, err) && reshape_job_progress(pc, &w->job, i + 1, &none, 0, err) &&
			 stmt_commit(pc, err);
	}
	namelist_free(&b.highest);
	NAMELIST_FREE_ALL(&upper, &last);
	tablecopy_free(&copy);
	tablecopy_free(&check);
	return ok;
}

/*
 * The mirror triggers of every source still enabled ALWAYS: a write made
 * while one was off (a bulk load with DISABLE TRIGGER ALL, a restore with
 * --disable-triggers) is missing from the new partitions, and a swap then
 * would lose it
 */
static bool
check_mirror(PgConn *pc, const Work *w, PgpError *err)
{
	int i;

	for (i = 0; i < w->job.sources.n; i++)
	{
		char *prefix = pg_xasprintf("pgpart_reshape_%d_%d", w->job.id, i);
		char *bad = NULL;
		bool ok = mirror_inactive_triggers(pc, w->src_oid[i], prefix, &bad, err);

		free(prefix);
		if (ok && bad)
		{
			err_set(err, EXIT_RUNTIME, "the mirror triggers of %s are not all enabled: %s", w->src_q[i],
					bad);
			err_detail(err, "Writes made while they were off may be missing from the new "
							"partitions; nothing was swapped, the old partition is intact.");
			err_hint(err, "Undo with --abort, then run the %s again.", w->job.kind);
			ok = false;
		}
		free(bad);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- verify ---- */

static bool
verify(PgConn *pc, Work *w, PgpError *err)
{
	bool ok = check_mirror(pc, w, err);
	int i;

	for (i = 0; ok && i < w->job.sources.n; i++)
	{
		TableCopy check;
		TableComparison cmp;
		KeyRange all = {NULL, NULL};

		memset(&cmp, 0, sizeof(cmp));
		ok = copy_for(pc, w, i, true, &check, err) && tablecopy_compare(pc, &check, &all, &cmp, err);
		if (ok && !cmp.equal)
		{
			err_set(err, EXIT_CHECK, "%s and the rows of its range in the new partitions differ: "
									 "%s rows (checksum %s) against %s (%s)",
					w->src_q[i], cmp.from_rows, cmp.from_sum, cmp.to_rows, cmp.to_sum);
			err_hint(err, "Nothing was swapped; the old partition is untouched. Undo with "
						  "--abort and report this.");
			ok = false;
		}
		if (ok)
			w->res->rows_verified += cmp.rows;
		tablecomparison_free(&cmp);
		tablecopy_free(&check);
	}
	for (i = 0; ok && i < w->job.targets.n; i++)
		ok = tiermove_analyze(pc, w->tgt_q[i], err);
	return ok && stmt_begin(pc, err) && reshape_job_phase(pc, &w->job, "copied", -1, err) &&
		   stmt_commit(pc, err);
}

/* ---- swap ---- */

/* the new partition table_q gets the old one's owner, grants and row security */
static bool
carry_over(PgConn *pc, RelOid source, const char *table_q, PgpError *err)
{
	NameList stmts = {0};
	bool ok = tiermove_carry_over(pc, source, table_q, &stmts, err) &&
			  stmt_change_list(pc, &stmts, err);

	namelist_free(&stmts);
	return ok;
}

static bool
swap_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Work *w = arg;
	ReshapeJob now;
	Rollup *rollups = NULL;
	int nrollups = 0, i, j;
	bool found = false, ok;
	NameList from = {0}, to = {0};

	if (!reshape_job_load(pc, w->cfg.parent, true, &now, &found, err))
		return false;
	ok = found && now.id == w->job.id && strcmp(now.phase, "copied") == 0;
	reshapejob_free(&now);
	if (!ok)
	{
		err_set(err, EXIT_RUNTIME, "the %s of %s changed under this run", w->job.kind, w->label);
		return false;
	}
	/* what the swap needs to read, read before the locks */
	if (!rollup_load(pc, w->cfg.parent, 0, &rollups, &nrollups, err))
		return false;
	ok = tiermove_lock_exclusive(pc, w->parent_q, true, err);
	for (i = 0; ok && i < w->job.sources.n; i++)
		ok = tiermove_lock_exclusive(pc, w->src_q[i], false, err);
	if (ok)
		lock_txn_mark_locked(stats);
	/* no write can come in now: the triggers were on since the copy began, or it is refused */
	ok = ok && check_mirror(pc, w, err);
	for (i = 0; ok && i < w->job.sources.n; i++)
		ok = reshape_drop_mirror_triggers(pc, w->job.id, i, w->src_q[i], err);
	for (i = 0; ok && i < w->job.targets.n; i++)
		ok = reshape_detach(pc, w->shadow_q, w->tgt_q[i], err);
	for (i = 0; ok && i < w->job.sources.n; i++)
		ok = reshape_detach(pc, w->parent_q, w->src_q[i], err) &&
			 tiermove_rename(pc, false, w->job.part_schema, w->job.sources.items[i],
							 w->old_name[i], err);
	for (i = 0; ok && i < w->job.targets.n; i++)
	{
		char d0[16], d1[16];

		ok = reshape_attach(pc, w->parent_q, w->tgt_q[i], w->job.target_from.items[i],
							w->job.target_to.items[i], err) &&
			 partition_drop_check(pc, w->tgt_q[i], TIERMOVE_BOUNDS_CONSTRAINT, false, err) &&
			 carry_over(pc, w->src_oid[0], w->tgt_q[i], err) &&
			 tiermove_comment(pc, w->tgt_q[i], NULL, err);
		for (j = 0; ok && j < nrollups; j++)
			ok = rollup_ensure_triggers(pc, &rollups[j], w->job.part_schema,
										w->job.targets.items[i], err);
		cal_date_format(w->tgt_from[i], d0);
		cal_date_format(w->tgt_to[i], d1);
		namelist_add(&from, d0);
		namelist_add(&to, d1);
	}
	for (j = 0; ok && j < nrollups; j++)
	{
		char *summary_q =
			pgc_quote_qualified(pc, rollups[j].summary_schema, rollups[j].summary_name);

		ok = reshape_move_coverage(pc, rollups[j].id, summary_q, &w->job.sources, &w->job.targets,
								   &from, &to, err);
		free(summary_q);
	}
	ok = ok && tiermove_drop_table(pc, w->shadow_q, err) &&
		 reshape_drop_mirror_functions(pc, w->job.id, w->job.sources.n, err);
	for (i = 0; ok && i < w->job.sources.n; i++)
	{
		char *old_q = pgc_quote_qualified(pc, w->job.part_schema, w->old_name[i]);

		ok = tiermove_comment(pc, old_q, w->job.keep_old ? RESHAPE_KEPT_MARK : RESHAPE_OLD_MARK,
							  err);
		free(old_q);
	}
	ok = ok && reshape_job_phase(pc, &w->job, "swapped", clock_ms() - stats->locked_at, err);
	rollup_list_free(rollups, nrollups);
	NAMELIST_FREE_ALL(&from, &to);
	return ok;
}

static bool
swap(PgConn *pc, Work *w, PgpError *err)
{
	bool ok = run_locked(pc, w, true, LOCK_ACCESS_EXCLUSIVE, swap_body, &w->res->swap_held_ms, err);
	int i;

	if (ok)
		for (i = 0; i < w->job.sources.n; i++)
		{
			free(w->src_q[i]);
			w->src_q[i] = pgc_quote_qualified(pc, w->job.part_schema, w->old_name[i]);
		}
	return ok;
}

/* ---- the old partitions ---- */

typedef struct DropArg
{
	const char *table_q;
} DropArg;

static bool
drop_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	const DropArg *d = arg;

	(void) stats;
	return tiermove_drop_table(pc, d->table_q, err);
}

static bool
finish(PgConn *pc, Work *w, PgpError *err)
{
	bool ok = true;
	int i;

	for (i = 0; ok && !w->job.keep_old && i < w->job.sources.n; i++)
	{
		DropArg d = {w->src_q[i]};

		ok = lock_run_txn(pc, &w->lock, drop_body, &d, NULL, err);
	}
	for (i = 0; ok && w->job.keep_old && i < w->job.sources.n; i++)
	{
		char *line = pg_xasprintf("kept %s (detached; drop it when you no longer need it)",
								  w->src_q[i]);

		namelist_add(&w->res->notes, line);
		free(line);
	}
	return ok && stmt_begin(pc, err) && reshape_job_phase(pc, &w->job, "done", -1, err) &&
		   stmt_commit(pc, err);
}

/* ---- abort ---- */

static bool
abort_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Work *w = arg;
	bool ok = true;
	int i;

	for (i = 0; ok && i < w->job.sources.n; i++)
		if (w->src_oid[i] != 0)
			ok = reshape_drop_mirror_triggers(pc, w->job.id, i, w->src_q[i], err);
	lock_txn_mark_locked(stats);
	return ok && tiermove_drop_table(pc, w->shadow_q, err) &&
		   reshape_drop_mirror_functions(pc, w->job.id, w->job.sources.n, err) &&
		   reshape_job_phase(pc, &w->job, "aborted", -1, err);
}

static bool
abort_job(PgConn *pc, Work *w, PgpError *err)
{
	return run_locked(pc, w, false, LOCK_ACCESS_EXCLUSIVE, abort_body, NULL, err);
}

/* ---- the command ---- */

/* whether the request names the job in progress: same kind, same partitions */
static bool
same_request(PgConn *pc, const Work *w, PgpError *err)
{
	const ReshapeOptions *opt = w->opt;
	bool same = strcmp(w->job.kind, kind_of(opt)) == 0 && opt->partitions.n == w->job.sources.n;
	int i, j;

	for (i = 0; same && i < opt->partitions.n; i++)
	{
		const char *given = opt->partitions.items[i];
		char *schema = NULL, *rel = NULL;
		bool hit = false;

		if (strchr(given, '.') || given[0] == '"')
		{
			if (!catalog_split_name(pc, given, &schema, &rel, err))
				return false;
		}
		for (j = 0; j < w->job.sources.n && !hit; j++)
			hit = rel ? strcmp(rel, w->job.sources.items[j]) == 0 &&
							strcmp(schema, w->job.part_schema) == 0
					  : strcmp(given, w->job.sources.items[j]) == 0;
		FREE_ALL(schema, rel);
		same = hit;
	}
	if (!same)
	{
		StrBuf names;

		sb_init(&names);
		for (i = 0; i < w->job.sources.n; i++)
		{
			char *q = pgc_quote_qualified(pc, w->job.part_schema, w->job.sources.items[i]);
			sb_appendf(&names, " '%s'", q);
			free(q);
		}
		err_set(err, EXIT_USAGE, "a %s of %s is in progress (phase %s)", w->job.kind, w->label,
				w->job.phase);
		err_hint(err, "Run \"pgpart %s '%s'%s\" again to finish it, or add --abort to undo it.",
				 w->job.kind, w->parent_q, names.data);
		sb_free(&names);
	}
	return same;
}

static void
describe(Work *w)
{
	ReshapeResult *r = w->res;
	int i;

	r->kind = pg_xstrdup(w->job.kind);
	r->interval = pg_xstrdup(w->job.interval);
	for (i = 0; i < w->job.sources.n; i++)
		namelist_add(&r->sources, w->job.sources.items[i]);
	for (i = 0; i < w->job.targets.n; i++)
	{
		char d0[16], d1[16];
		char *line;

		cal_date_format(w->tgt_from[i], d0);
		cal_date_format(w->tgt_to[i], d1);
		line = pg_xasprintf("%s [%s, %s)", w->job.targets.items[i], d0, d1);
		namelist_add(&r->targets, line);
		free(line);
	}
}

bool
ops_reshape(PgConn *pc, const ReshapeOptions *opt, ReshapeResult *res, PgpError *err)
{
	Work w;
	WorkLock wl;
	ColumnInfo col;
	bool found = false, ok = false, throttle_open = false;
	Progress prog;
	int i;

	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	memset(&wl, 0, sizeof(wl));
	memset(&prog, 0, sizeof(prog));
	w.opt = opt;
	w.res = res;
	w.lock = opt->lock;
	batchsizer_init(&w.sizer, opt->batch_time_ms, opt->batch_rows);
	if (!config_load_one_managed(pc, opt->table, &w.cfg, err))
		goto out;
	res->schema = pg_xstrdup(w.cfg.parent_schema);
	res->name = pg_xstrdup(w.cfg.parent_name);
	w.parent_q = pgc_quote_qualified(pc, w.cfg.parent_schema, w.cfg.parent_name);
	w.label = pg_xasprintf("%s.%s", w.cfg.parent_schema, w.cfg.parent_name);
	if (!catalog_column(pc, w.cfg.parent, w.cfg.column, &col, &found, err))
		goto out;
	w.key_type = col.key_type;
	columninfo_free(&col);
	if (!pc->dry_run &&
		!worklock_take(pc, &wl, opt->merge ? "merge" : "split", &w.cfg.parent, 1, err))
		goto out;
	/* the limits are checked before anything is made: a refused one leaves nothing */
	if (!opt->abort && !pc->dry_run)
	{
		if (!throttle_open_for(&w.throttle, pc, w.cfg.parent, w.label, &opt->health, opt->rate,
							   err))
			goto out;
		throttle_open = true;
	}
	if (!reshape_job_load(pc, w.cfg.parent, false, &w.job, &found, err))
		goto out;
	if (found && !same_request(pc, &w, err))
		goto out;
	if (!found && opt->abort)
	{
		err_set(err, EXIT_USAGE, "no %s of %s is in progress", kind_of(opt), w.label);
		goto out;
	}
	if (!found)
	{
		if (!plan_new(pc, &w, err) || !load_tables(pc, &w, err))
			goto out;
		describe(&w);
		if (pc->dry_run)
		{
			/* the statements of the first step; the others depend on what it made */
			ok = prepare(pc, &w, err);
			res->phase = pg_xstrdup("planned");
			goto out;
		}
		if (!prepare(pc, &w, err))
			goto out;
		test_pause("prepared");
	}
	else
	{
		res->resumed = true;
		if (!load_tables(pc, &w, err))
			goto out;
		describe(&w);
	}
	if (opt->abort)
	{
		if (strcmp(w.job.phase, "swapped") == 0)
		{
			err_set(err, EXIT_USAGE, "the %s of %s is past its swap: the new partitions are "
									 "attached",
					w.job.kind, w.label);
			err_hint(err, "Run it again without --abort to finish it; to undo it, %s the new "
						  "partitions back.",
					 strcmp(w.job.kind, "split") == 0 ? "merge" : "split");
			goto out;
		}
		ok = abort_job(pc, &w, err);
		res->phase = pg_xstrdup(ok ? "aborted" : w.job.phase);
		goto out;
	}
	if (strcmp(w.job.phase, "copying") == 0)
	{
		long long est = 0;

		for (i = 0; i < w.job.sources.n; i++)
		{
			double e = 0;

			if (catalog_estimate_rows(pc, w.src_oid[i], &e, err) && e > 0)
				est += (long long) e;
		}
		ok = check_mirror(pc, &w, err) && throttle_settle(&w.throttle, pc, &opt->health, err);
		progress_start(&prog, "rows", est, opt->show_progress);
		for (i = w.job.copied_source; ok && i < w.job.sources.n; i++)
			ok = copy_source(pc, &w, i, &prog, err);
		progress_finish(&prog);
		if (w.throttle.pauses > 0)
			res->throttle = throttle_summary(&w.throttle);
		else if (w.throttle.slowed_ms > 0)
			res->throttle = pg_xasprintf("slowed %.1f s in all to --rate", w.throttle.slowed_ms / 1000);
		if (!ok)
			goto out;
		ok = false;
		if (!verify(pc, &w, err))
			goto out;
		free(w.job.phase);
		w.job.phase = pg_xstrdup("copied");
		test_pause("copied");
	}
	if (strcmp(w.job.phase, "copied") == 0)
	{
		if (!swap(pc, &w, err))
			goto out;
		free(w.job.phase);
		w.job.phase = pg_xstrdup("swapped");
		test_pause("swapped");
	}
	ok = finish(pc, &w, err);
	res->phase = pg_xstrdup(ok ? "done" : w.job.phase);
out:
	progress_finish(&prog);
	if (throttle_open)
		throttle_close(&w.throttle, pc);
	res->batch_smallest = w.sizer.smallest;
	res->batch_largest = w.sizer.largest;
	res->batches_over_budget = w.sizer.over_budget;
	if (batchsizer_starved(&w.sizer))
	{
		char *line = batchsizer_starved_text(&w.sizer);

		namelist_add(&res->notes, line);
		free(line);
	}
	if (res->phase == NULL)
		res->phase = pg_xstrdup(w.job.phase ? w.job.phase : "not started");
	worklock_release(pc, &wl);
	work_free(&w);
	return ok;
}
