/*
 * vacuum.c - "pgpart vacuum|analyze|reindex": decides which partitions need
 * the action (core/maintplan.c), then runs one statement per partition over
 * up to --jobs connections at once, biggest first, each under lock_timeout;
 * a failure on one partition does not stop the others, Ctrl-C cancels the
 * running statements.  Reindex also drops the invalid leftovers of
 * interrupted REINDEX CONCURRENTLY and records, in pgpart.run_log, the
 * change counters --only-needed measures from.
 */
#include "commands/vacuum/vacuum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands/vacuum/vacuum_sql.h"
#include "pg/config.h"
#include "pg/parallel_slot.h"
#include "pg/schema.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

void
parallelresult_free(ParallelResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		FREE_ALL(r->items[i].name, r->items[i].detail);
	FREE_ALL(r->items, r->schema, r->table);
	namelist_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

typedef struct Job
{
	int item;	   /* index into the result's items */
	char *sql;	   /* the statement */
} Job;

/*
 * An interrupted REINDEX CONCURRENTLY (lock timeout, cancel, lost connection)
 * leaves an invalid index named ..._ccnew (the unfinished copy) or ..._ccold
 * (the replaced original).  Writers keep maintaining an invalid index, so
 * they are dropped, CONCURRENTLY, under the lock timeout; what cannot be
 * dropped now is said in the notes and dropped by the next run.
 */
static void
drop_reindex_leftovers(PgConn *pc, RelOid parent, NameList *notes)
{
	PGresult *r;
	PgpError e;
	int i;

	err_init(&e);
	r = vacuum_reindex_leftovers(pc, parent, &e);
	if (r == NULL)
	{
		char *note = pg_xasprintf("could not look for leftovers of interrupted reindexes: %s",
								  e.message);

		namelist_add(notes, note);
		free(note);
		err_clear(&e);
		return;
	}
	for (i = 0; i < PQntuples(r); i++)
	{
		char *note;

		if (vacuum_drop_index(pc, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), &e))
			note = pg_xasprintf("dropped %s, an invalid leftover of an interrupted reindex",
								PQgetvalue(r, i, 1));
		else
			note = pg_xasprintf("could not drop %s, an invalid leftover of an interrupted "
								"reindex (the next run tries again): %s",
								PQgetvalue(r, i, 1), e.message);
		namelist_add(notes, note);
		free(note);
		err_clear(&e);
	}
	PQclear(r);
}

/*
 * History in pgpart.run_log, when pgpart's schema exists (these commands work
 * without it).  For reindex, the summary carries each partition's
 * n_tup_upd + n_tup_del at its last reindex, so that --only-needed counts the
 * changes since then rather than since the statistics were reset.
 */
static bool
run_log_exists(PgConn *pc)
{
	PgpError e;
	bool yes = false;

	err_init(&e);
	vacuum_has_run_log(pc, &yes, &e);
	err_clear(&e);
	return yes;
}

/* baselines[i] / has[i]: the counter at partition i's last reindex */
static void
load_reindex_baselines(PgConn *pc, RelOid parent, const ParallelResult *res, int64_t *baselines,
					   bool *has)
{
	PGresult *r;
	PgpError e;
	int i, k;

	err_init(&e);
	r = vacuum_reindex_baselines(pc, parent, &e);
	if (r != NULL)
	{
		for (k = 0; k < PQntuples(r); k++)
		{
			RelOid part = (RelOid) strtoul(PQgetvalue(r, k, 0), NULL, 10);

			for (i = 0; i < res->n; i++)
				if (res->items[i].oid == part)
				{
					baselines[i] = strtoll(PQgetvalue(r, k, 1), NULL, 10);
					has[i] = true;
				}
		}
		PQclear(r);
	}
	err_clear(&e);
}

static void
log_run(PgConn *pc, RelOid parent, const ParallelOptions *opt, const char *started,
		ParallelResult *res, const int64_t *counters, const int64_t *baselines, const bool *has)
{
	json_t *o, *b = json_object();
	PgpError e;
	char *summary;
	int i;

	o = json_pack("{s:i, s:i, s:i, s:b, s:b, s:f}", "done", res->ran, "failed", res->failed,
				  "skipped", res->skipped, "cancelled", res->cancelled, "only_needed",
				  opt->only_needed, "duration_ms", res->ms);
	if (opt->action == MAINT_REINDEX)
	{
		for (i = 0; i < res->n; i++)
		{
			char key[16];

			snprintf(key, sizeof(key), "%u", res->items[i].oid);
			if (res->items[i].ran && res->items[i].ok)
				json_object_set_new(b, key, json_integer(counters[i]));
			else if (has[i])
				json_object_set_new(b, key, json_integer(baselines[i]));
		}
		json_object_set_new(o, "change_baselines", b);
	}
	else
		json_decref(b);
	summary = json_dumps(o, JSON_COMPACT);
	err_init(&e);
	/* the history must not hide the outcome: a failure to write it is ignored */
	res->logged = config_log_run(pc, parent, maint_action_name(opt->action), started,
								 res->failed == 0 && !res->cancelled, summary, &e);
	err_clear(&e);
	free(summary);
	json_decref(o);
}

/*
 * Runs the jobs over up to opt->jobs connections, biggest first as ordered,
 * each job going to whichever connection is free; Ctrl-C (opt->cancel)
 * cancels the running statements and starts no more.  The outcome of each
 * job goes to its item of res.  False only when the connections could not
 * be opened.
 */
static bool
run_jobs(const ParallelOptions *opt, const Job *jobs, int njobs, ParallelResult *res,
		 PgpError *err)
{
	ParallelSlots slots = {NULL, 0};
	bool *ready;
	int next = 0, done = 0, i;

	if (!slots_open(&slots, opt->jobs < njobs ? opt->jobs : njobs, opt->conninfo,
					opt->lock.lock_timeout_ms, err))
	{
		slots_close(&slots);
		return false;
	}
	ready = pg_xcalloc((size_t) slots.n + 1, sizeof(bool));
	if (opt->progress)
		opt->progress(opt->progress_arg, 0, njobs, NULL);
	while (done < njobs)
	{
		/* hand out work to idle connections, unless we are stopping */
		for (i = 0; i < slots.n && !res->cancelled; i++)
			if (slots.items[i].job < 0 && next < njobs)
			{
				PartitionOutcome *o = &res->items[jobs[next].item];

				log_info("%s %s", maint_action_name(opt->action), o->name);
				if (!slot_send(&slots.items[i], next, jobs[next].sql, &o->detail))
				{
					o->ran = true;
					res->failed++;
					done++;
				}
				next++;
			}
		if (slots_busy(&slots) == 0)
		{
			/* cancelled: the rest never started */
			for (; next < njobs; next++, done++)
				res->items[jobs[next].item].detail = pg_xstrdup("not started: cancelled");
			break;
		}
		slots_wait(&slots, 200, ready);
		if (opt->cancel && *opt->cancel && !res->cancelled)
		{
			res->cancelled = true;
			slots_cancel(&slots);
		}
		for (i = 0; i < slots.n; i++)
		{
			ParallelSlot *w = &slots.items[i];
			PartitionOutcome *o;

			if (!ready[i] || !slot_collect(w))
				continue;
			o = &res->items[jobs[w->job].item];
			o->ran = true;
			o->ms = clock_ms() - w->started;
			o->ok = w->error == NULL;
			o->detail = w->error ? w->error : pg_xstrdup("done");
			w->error = NULL;
			if (o->ok)
				res->ran++;
			else
				res->failed++;
			w->job = -1;
			done++;
			if (opt->progress)
				opt->progress(opt->progress_arg, done, njobs, o->name);
		}
	}
	free(ready);
	slots_close(&slots);
	return true;
}

/* opt->table, which must be a partitioned table; its names go to res */
static bool
check_table(PgConn *pc, const ParallelOptions *opt, ParallelResult *res, RelInfo *rel,
			PgpError *err)
{
	bool found;

	if (!catalog_resolve_table(pc, opt->table, rel, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		return false;
	}
	res->schema = pg_xstrdup(rel->schema);
	res->table = pg_xstrdup(rel->name);
	if (rel->relkind != 'p')
	{
		err_set(err, EXIT_USAGE, "%s.%s is not a partitioned table", rel->schema, rel->name);
		err_hint(err, "Run %s on it directly; pgpart works partition by partition.",
				 opt->action == MAINT_REINDEX ? "REINDEX" : opt->action == MAINT_VACUUM ? "VACUUM" : "ANALYZE");
		relinfo_free(rel);
		return false;
	}
	return true;
}

/* the run's record in pgpart.run_log, and reindex's change counters of the last run */
typedef struct History
{
	bool on; /* pgpart's schema exists (and this is no --dry-run) */
	char *started;
	int64_t *counters; /* each partition's n_tup_upd + n_tup_del now */
	int64_t *baselines; /* ... at its last reindex, where has_baseline */
	bool *has_baseline;
} History;

/*
 * Reads the history; for reindex, each partition's changes count from its
 * last reindex (not from the last statistics reset), and the leftovers of
 * interrupted reindexes are dropped first.
 */
static void
load_history(PgConn *pc, RelOid parent, const ParallelOptions *opt, ParallelResult *res,
			 PartitionActivity *acts, History *h)
{
	int i;

	h->counters = pg_xcalloc((size_t) res->n + 1, sizeof(int64_t));
	h->baselines = pg_xcalloc((size_t) res->n + 1, sizeof(int64_t));
	h->has_baseline = pg_xcalloc((size_t) res->n + 1, sizeof(bool));
	h->on = !pc->dry_run && run_log_exists(pc);
	if (h->on)
	{
		PgpError e;

		err_init(&e);
		if (!config_run_started(pc, &h->started, &e))
			h->on = false;
		err_clear(&e);
	}
	for (i = 0; i < res->n; i++)
		h->counters[i] = acts[i].updated_or_deleted;
	if (opt->action == MAINT_REINDEX)
	{
		if (h->on)
			load_reindex_baselines(pc, parent, res, h->baselines, h->has_baseline);
		for (i = 0; i < res->n; i++)
			acts[i].updated_or_deleted =
				maint_changes_since(h->counters[i], h->has_baseline[i], h->baselines[i]);
		drop_reindex_leftovers(pc, parent, &res->notes);
	}
}

static void
history_free(History *h)
{
	FREE_ALL(h->started, h->counters, h->baselines, h->has_baseline);
}

/* the partitions that need the action, biggest first (core/maintplan.c); the others skipped */
static Job *
plan_jobs(const ParallelOptions *opt, const PartitionActivity *acts, char **qualified,
		  ParallelResult *res, int *njobs)
{
	int *order = pg_xcalloc((size_t) res->n + 1, sizeof(int));
	Job *jobs = pg_xcalloc((size_t) res->n + 1, sizeof(Job));
	int i;

	*njobs = 0;
	maint_order(acts, res->n, order);
	for (i = 0; i < res->n; i++)
	{
		int k = order[i];
		const char *why;

		if (!maint_needed(opt->action, &acts[k], opt->only_needed, &why))
		{
			res->items[k].detail = pg_xstrdup(why);
			res->skipped++;
			continue;
		}
		jobs[*njobs].item = k;
		jobs[*njobs].sql = vacuum_statement(opt->action, qualified[k]);
		(*njobs)++;
	}
	free(order);
	return jobs;
}

bool
ops_parallel(PgConn *pc, const ParallelOptions *opt, ParallelResult *res, PgpError *err)
{
	RelInfo rel;
	bool ok = false;
	PartitionActivity *acts = NULL;
	char **qualified = NULL;
	Job *jobs = NULL;
	int njobs = 0, i;
	double t0 = clock_ms();
	History h;

	memset(res, 0, sizeof(*res));
	memset(&h, 0, sizeof(h));
	if (!check_table(pc, opt, res, &rel, err))
		return false;
	/* this connection's own statements (leftover drops) wait no longer than the workers' */
	if (!vacuum_session_lock_timeout(pc, opt->lock.lock_timeout_ms, err) ||
		!vacuum_load_partitions(pc, rel.oid, opt, res, &acts, &qualified, err))
		goto out;
	load_history(pc, rel.oid, opt, res, acts, &h);
	jobs = plan_jobs(opt, acts, qualified, res, &njobs);
	if (pc->dry_run)
	{
		for (i = 0; i < njobs; i++)
			pgc_change(pc, jobs[i].sql, 0, NULL, err);
		ok = true;
		goto out;
	}
	if (!run_jobs(opt, jobs, njobs, res, err))
		goto out;
	ok = true;
	if (opt->action == MAINT_REINDEX && res->failed > 0)
		drop_reindex_leftovers(pc, rel.oid, &res->notes);
	res->ms = clock_ms() - t0;
	if (h.on)
		log_run(pc, rel.oid, opt, h.started, res, h.counters, h.baselines, h.has_baseline);
out:
	res->ms = clock_ms() - t0;
	history_free(&h);
	for (i = 0; i < njobs; i++)
		free(jobs[i].sql);
	free(jobs);
	if (qualified)
		for (i = 0; i < res->n; i++)
			free(qualified[i]);
	free(qualified);
	free(acts);
	relinfo_free(&rel);
	if (ok && res->cancelled)
	{
		err_set(err, EXIT_RUNTIME, "cancelled: %d partitions done, the running statements were "
								   "cancelled on the server",
				res->ran);
		ok = false;
	}
	else if (ok && res->failed > 0)
	{
		err_set(err, EXIT_RUNTIME, "%s failed on %d of %d partitions", maint_action_name(opt->action),
				res->failed, res->failed + res->ran);
		err_hint(err, "The summary above lists the errors; the other partitions are done.");
		ok = false;
	}
	return ok;
}
