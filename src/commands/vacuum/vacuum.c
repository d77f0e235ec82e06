#include "commands/vacuum/vacuum.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pg/config.h"
#include "pg/schema.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

void
parallelresult_free(ParallelResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		free(r->items[i].name);
		free(r->items[i].detail);
	}
	free(r->items);
	free(r->schema);
	free(r->table);
	namelist_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

typedef struct Job
{
	int item;	   /* index into the result's items */
	char *sql;	   /* the statement */
} Job;

typedef struct Worker
{
	PgConn pc;
	int job; /* -1: idle */
	double started;
	char *error;
} Worker;

/*
 * The partitions under $1 (an OID), at any depth, read from pg_inherits:
 * pg_partition_tree() would lock each of them and wait behind a session that
 * holds one.
 */
#define LEAVES_SQL                                                                           \
	"(WITH RECURSIVE tree(relid) AS ("                                                       \
	"  SELECT h.inhrelid FROM pg_catalog.pg_inherits h WHERE h.inhparent = $1::pg_catalog.oid " \
	"  UNION ALL SELECT h.inhrelid FROM pg_catalog.pg_inherits h JOIN tree ON h.inhparent = tree.relid) " \
	" SELECT relid FROM tree)"

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
	char oid[16];
	const char *params[1] = {oid};
	PGresult *r;
	PgpError e;
	int i;

	err_init(&e);
	snprintf(oid, sizeof(oid), "%u", parent);
	r = pgc_query(pc,
				  "SELECT n.nspname, ic.relname FROM " LEAVES_SQL " t "
				  "JOIN pg_catalog.pg_class c ON c.oid = t.relid "
				  /* REINDEX TABLE also rebuilds the index of the partition's TOAST table */
				  "JOIN pg_catalog.pg_index i ON i.indrelid IN (c.oid, c.reltoastrelid) "
				  "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
				  "JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
				  "WHERE NOT i.indisvalid AND ic.relname ~ '_cc(new|old)[0-9]*$' "
				  "ORDER BY 1, 2",
				  1, params, &e);
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
		char *q = pgc_quote_qualified(pc, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
		char *sql = pg_xasprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", q);
		char *note;

		if (pgc_change(pc, sql, 0, NULL, &e))
			note = pg_xasprintf("dropped %s, an invalid leftover of an interrupted reindex",
								PQgetvalue(r, i, 1));
		else
			note = pg_xasprintf("could not drop %s, an invalid leftover of an interrupted "
								"reindex (the next run tries again): %s",
								PQgetvalue(r, i, 1), e.message);
		namelist_add(notes, note);
		free(note);
		free(sql);
		free(q);
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
	char *v = NULL;
	bool yes;

	err_init(&e);
	yes = pgc_query_value(pc, "SELECT pg_catalog.to_regclass('pgpart.run_log') IS NOT NULL", 0,
						  NULL, &v, &e) &&
		  v && v[0] == 't';
	free(v);
	err_clear(&e);
	return yes;
}

/* baselines[i] / has[i]: the counter at partition i's last reindex */
static void
load_reindex_baselines(PgConn *pc, RelOid parent, const ParallelResult *res, int64_t *baselines,
					   bool *has)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *r;
	PgpError e;
	int i, k;

	err_init(&e);
	snprintf(oid, sizeof(oid), "%u", parent);
	r = pgc_query(pc,
				  "SELECT b.key, b.value FROM (SELECT l.summary FROM pgpart.run_log l "
				  "  WHERE l.parent_table = $1::pg_catalog.oid AND l.command = 'reindex' "
				  "  AND l.summary ? 'change_baselines' ORDER BY l.finished_at DESC LIMIT 1) x, "
				  "pg_catalog.jsonb_each_text(x.summary->'change_baselines') b",
				  1, params, &e);
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
	json_t *o = json_object(), *b = json_object();
	PgpError e;
	char *summary;
	int i;

	json_object_set_new(o, "done", json_integer(res->ran));
	json_object_set_new(o, "failed", json_integer(res->failed));
	json_object_set_new(o, "skipped", json_integer(res->skipped));
	json_object_set_new(o, "cancelled", json_boolean(res->cancelled));
	json_object_set_new(o, "only_needed", json_boolean(opt->only_needed));
	json_object_set_new(o, "duration_ms", json_real(res->ms));
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

/* leaf partitions with their activity; only those overlapping [from, to) when given */
static bool
load_partitions(PgConn *pc, RelOid parent, const ParallelOptions *opt, ParallelResult *res,
				PartitionActivity **acts, char ***qualified, PgpError *err)
{
	char oid[16];
	const char *params[3] = {oid, opt->from, opt->to};
	PGresult *r;
	int i;

	snprintf(oid, sizeof(oid), "%u", parent);
	r = pgc_query(
		pc,
		/*
		 * Sizes from the catalog's page counts (kept by VACUUM, ANALYZE and
		 * autovacuum), not pg_total_relation_size(): that one opens each
		 * partition and would wait, without a timeout, behind a session that
		 * holds a lock on it.  This query takes no lock on any partition.
		 */
		"SELECT n.nspname, c.relname, "
		"  (c.relpages::pg_catalog.int8 + COALESCE((SELECT pg_catalog.sum(ic.relpages) "
		"     FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"     WHERE i.indrelid = c.oid), 0) + COALESCE((SELECT tc.relpages "
		"     FROM pg_catalog.pg_class tc WHERE tc.oid = c.reltoastrelid), 0)) "
		"   * pg_catalog.current_setting('block_size')::pg_catalog.int8, "
		"  COALESCE(s.n_live_tup, 0), COALESCE(s.n_dead_tup, 0), "
		"  COALESCE(s.n_mod_since_analyze, 0), COALESCE(s.n_tup_upd + s.n_tup_del, 0), "
		"  pg_catalog.age(c.relfrozenxid), "
		"  (s.last_vacuum IS NULL AND s.last_autovacuum IS NULL), "
		"  (s.last_analyze IS NULL AND s.last_autoanalyze IS NULL), c.oid "
		"FROM " LEAVES_SQL " t "
		"JOIN pg_catalog.pg_class c ON c.oid = t.relid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid "
		"WHERE c.relkind = 'r' AND ($2::text IS NULL OR EXISTS ("
		/* the partition's bounds, as FOR VALUES FROM (lo) TO (hi) prints them */
		"  SELECT FROM pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), "
		"    'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)') m "
		"  WHERE m[1]::pg_catalog.timestamptz < $3::pg_catalog.timestamptz "
		"    AND m[2]::pg_catalog.timestamptz > $2::pg_catalog.timestamptz)) "
		"ORDER BY 3 DESC, c.relname",
		3, params, err);
	if (r == NULL)
		return false;
	res->n = PQntuples(r);
	res->items = pg_xcalloc((size_t) res->n + 1, sizeof(PartitionOutcome));
	*acts = pg_xcalloc((size_t) res->n + 1, sizeof(PartitionActivity));
	*qualified = pg_xcalloc((size_t) res->n + 1, sizeof(char *));
	for (i = 0; i < res->n; i++)
	{
		PartitionActivity *a = &(*acts)[i];

		res->items[i].oid = (RelOid) strtoul(PQgetvalue(r, i, 10), NULL, 10);
		res->items[i].name = pg_xstrdup(PQgetvalue(r, i, 1));
		res->items[i].bytes = atoll(PQgetvalue(r, i, 2));
		(*qualified)[i] = pgc_quote_qualified(pc, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
		a->bytes = res->items[i].bytes;
		a->live_rows = atoll(PQgetvalue(r, i, 3));
		a->dead_rows = atoll(PQgetvalue(r, i, 4));
		a->modified_since_analyze = atoll(PQgetvalue(r, i, 5));
		a->updated_or_deleted = atoll(PQgetvalue(r, i, 6));
		a->frozen_xid_age = atoll(PQgetvalue(r, i, 7));
		a->never_vacuumed = PQgetvalue(r, i, 8)[0] == 't';
		a->never_analyzed = PQgetvalue(r, i, 9)[0] == 't';
	}
	PQclear(r);
	return true;
}

static char *
statement(MaintAction action, const char *qualified)
{
	/* CONCURRENTLY: writers and readers of the partition are not blocked while it rebuilds */
	return pg_xasprintf(action == MAINT_VACUUM	  ? "VACUUM %s"
						: action == MAINT_ANALYZE ? "ANALYZE %s"
												  : "REINDEX TABLE CONCURRENTLY %s",
						qualified);
}

/* reads what a worker's statement returned; true when it has finished */
static bool
collect(Worker *w)
{
	PGresult *r;

	if (!PQconsumeInput(w->pc.conn))
	{
		free(w->error);
		w->error = pg_xstrdup(PQerrorMessage(w->pc.conn));
		return true;
	}
	while (!PQisBusy(w->pc.conn))
	{
		r = PQgetResult(w->pc.conn);
		if (r == NULL)
			return true;
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK &&
			w->error == NULL)
		{
			char *m = pg_xstrdup(PQresultErrorMessage(r));
			size_t len = strlen(m);

			while (len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' '))
				m[--len] = '\0';
			w->error = m;
		}
		PQclear(r);
	}
	return false;
}

static void
cancel_running(Worker *workers, int nw)
{
	int i;
	char buf[256];

	for (i = 0; i < nw; i++)
		if (workers[i].job >= 0)
		{
			PGcancel *c = PQgetCancel(workers[i].pc.conn);

			if (c)
			{
				PQcancel(c, buf, sizeof(buf));
				PQfreeCancel(c);
			}
		}
}

bool
ops_parallel(PgConn *pc, const ParallelOptions *opt, ParallelResult *res, PgpError *err)
{
	RelInfo rel;
	bool found, ok = false;
	PartitionActivity *acts = NULL;
	char **qualified = NULL;
	int *order = NULL;
	Job *jobs = NULL;
	Worker *workers = NULL;
	int njobs = 0, nw = 0, next = 0, done = 0, i;
	double t0 = clock_ms();
	char timeout[32];
	int64_t *counters = NULL, *baselines = NULL;
	bool *has_baseline = NULL;
	bool history = false;
	char *started = NULL;

	memset(res, 0, sizeof(*res));
	if (!catalog_resolve_table(pc, opt->table, &rel, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		return false;
	}
	res->schema = pg_xstrdup(rel.schema);
	res->table = pg_xstrdup(rel.name);
	if (rel.relkind != 'p')
	{
		err_set(err, EXIT_USAGE, "%s.%s is not a partitioned table", rel.schema, rel.name);
		err_hint(err, "Run %s on it directly; pgpart works partition by partition.",
				 opt->action == MAINT_REINDEX ? "REINDEX" : opt->action == MAINT_VACUUM ? "VACUUM" : "ANALYZE");
		relinfo_free(&rel);
		return false;
	}
	snprintf(timeout, sizeof(timeout), "%dms", opt->lock.lock_timeout_ms);
	{
		const char *params[1] = {timeout};

		/* this connection's own statements (leftover drops) wait no longer than the workers' */
		if (!pgc_exec(pc, "SELECT pg_catalog.set_config('lock_timeout', $1, false)", 1, params,
					  err))
			goto out;
	}
	if (!load_partitions(pc, rel.oid, opt, res, &acts, &qualified, err))
		goto out;
	counters = pg_xcalloc((size_t) res->n + 1, sizeof(int64_t));
	baselines = pg_xcalloc((size_t) res->n + 1, sizeof(int64_t));
	has_baseline = pg_xcalloc((size_t) res->n + 1, sizeof(bool));
	history = !pc->dry_run && run_log_exists(pc);
	if (history)
	{
		PgpError e;

		err_init(&e);
		if (!pgc_query_value(pc, "SELECT pg_catalog.clock_timestamp()::text", 0, NULL, &started,
							 &e))
			history = false;
		err_clear(&e);
	}
	for (i = 0; i < res->n; i++)
		counters[i] = acts[i].updated_or_deleted;
	if (opt->action == MAINT_REINDEX)
	{
		if (history)
			load_reindex_baselines(pc, rel.oid, res, baselines, has_baseline);
		for (i = 0; i < res->n; i++)
			acts[i].updated_or_deleted =
				maint_changes_since(counters[i], has_baseline[i], baselines[i]);
		drop_reindex_leftovers(pc, rel.oid, &res->notes);
	}
	order = pg_xcalloc((size_t) res->n + 1, sizeof(int));
	jobs = pg_xcalloc((size_t) res->n + 1, sizeof(Job));
	maint_order(acts, res->n, order);
	for (i = 0; i < res->n; i++)
	{
		int k = order[i];
		const char *why;
		bool needed = maint_needed(opt->action, &acts[k], opt->only_needed, &why);

		if (!needed)
		{
			res->items[k].detail = pg_xstrdup(why);
			res->skipped++;
			continue;
		}
		jobs[njobs].item = k;
		jobs[njobs].sql = statement(opt->action, qualified[k]);
		njobs++;
	}
	if (pc->dry_run)
	{
		for (i = 0; i < njobs; i++)
			pgc_change(pc, jobs[i].sql, 0, NULL, err);
		ok = true;
		goto out;
	}

	nw = opt->jobs < njobs ? opt->jobs : njobs;
	workers = pg_xcalloc((size_t) nw + 1, sizeof(Worker));
	for (i = 0; i < nw; i++)
	{
		const char *params[1] = {timeout};

		workers[i].job = -1;
		if (!pgc_connect(&workers[i].pc, opt->conninfo, false, err) ||
			!pgc_exec(&workers[i].pc, "SELECT pg_catalog.set_config('lock_timeout', $1, false)", 1,
					  params, err))
		{
			nw = i + (workers[i].pc.conn != NULL);
			goto out;
		}
	}
	if (opt->progress)
		opt->progress(opt->progress_arg, 0, njobs, NULL);
	while (done < njobs)
	{
		struct pollfd *fds = pg_xcalloc((size_t) nw, sizeof(struct pollfd));
		int busy = 0;

		/* hand out work to idle workers, unless we are stopping */
		for (i = 0; i < nw && !res->cancelled; i++)
			if (workers[i].job < 0 && next < njobs)
			{
				log_info("%s %s", maint_action_name(opt->action), res->items[jobs[next].item].name);
				/* the extended protocol, as every statement of pgpart: one statement per call */
				if (!PQsendQueryParams(workers[i].pc.conn, jobs[next].sql, 0, NULL, NULL, NULL,
									   NULL, 0))
				{
					PartitionOutcome *o = &res->items[jobs[next].item];

					o->ran = true;
					o->detail = pg_xstrdup(PQerrorMessage(workers[i].pc.conn));
					res->failed++;
					done++;
					next++;
					continue;
				}
				workers[i].job = next++;
				workers[i].started = clock_ms();
			}
		for (i = 0; i < nw; i++)
		{
			fds[i].fd = workers[i].job >= 0 ? PQsocket(workers[i].pc.conn) : -1;
			fds[i].events = POLLIN;
			busy += workers[i].job >= 0;
		}
		if (busy == 0)
		{
			free(fds);
			/* cancelled: the rest never started */
			for (; next < njobs; next++, done++)
				res->items[jobs[next].item].detail = pg_xstrdup("not started: cancelled");
			break;
		}
		poll(fds, (nfds_t) nw, 200);
		if (opt->cancel && *opt->cancel && !res->cancelled)
		{
			res->cancelled = true;
			cancel_running(workers, nw);
		}
		for (i = 0; i < nw; i++)
		{
			Worker *w = &workers[i];

			if (w->job < 0 || !(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			if (collect(w))
			{
				PartitionOutcome *o = &res->items[jobs[w->job].item];

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
		free(fds);
	}
	ok = true;
	if (opt->action == MAINT_REINDEX && res->failed > 0)
		drop_reindex_leftovers(pc, rel.oid, &res->notes);
	res->ms = clock_ms() - t0;
	if (history)
		log_run(pc, rel.oid, opt, started, res, counters, baselines, has_baseline);
out:
	res->ms = clock_ms() - t0;
	free(started);
	free(counters);
	free(baselines);
	free(has_baseline);
	for (i = 0; i < nw; i++)
	{
		free(workers[i].error);
		pgc_close(&workers[i].pc);
	}
	free(workers);
	for (i = 0; i < njobs; i++)
		free(jobs[i].sql);
	free(jobs);
	free(order);
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
