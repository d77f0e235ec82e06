/*
 * scheduler.c - the loop of "pgpart run": takes and keeps the leader lock
 * on pgpart.scheduler_leader on a connection of its own, names whoever else
 * holds it, and runs each cycle (maintain, then vacuum/analyze) only while
 * the lock is still held.  The design is in scheduler.h.
 */
#include "commands/run/scheduler.h"
#include "commands/run/scheduler_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands/maintain/maintain.h"
#include "commands/vacuum/vacuum.h"
#include "pg/config.h"
#include "pg/schema.h"
#include "pg/standby.h"
#include "util/clock.h"
#include "util/mem.h"

void
schedulerstatus_init(SchedulerStatus *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mutex, NULL);
}

void
schedulerstatus_destroy(SchedulerStatus *s)
{
	pthread_mutex_destroy(&s->mutex);
}

typedef struct Sched
{
	const SchedulerOptions *opt;
	PgConn lock_conn; /* holds the leader lock; nothing else runs on it */
	PgConn work;
	bool leader;
	bool standby; /* the lock connection's server is in recovery: nothing is tried */
	char *squatter; /* who else holds the lock, when it is not a pgpart instance */
	int failures; /* steps failed in the current cycle */
} Sched;

static void
emit(Sched *s, const char *action, const char *table, const char *result, double ms,
	 const char *detail)
{
	SchedulerEvent ev = {action, table, result, ms, detail};

	if (s->opt->log)
		s->opt->log(s->opt->log_arg, &ev);
}

/* what the metrics thread reads of this instance: leader and standby, under its mutex */
static void
publish_role(Sched *s)
{
	if (s->opt->status)
	{
		pthread_mutex_lock(&s->opt->status->mutex);
		s->opt->status->leader = s->leader;
		s->opt->status->standby = s->standby;
		pthread_mutex_unlock(&s->opt->status->mutex);
	}
}

static void
set_leader(Sched *s, bool leader)
{
	s->leader = leader;
	publish_role(s);
}

static void
set_standby(Sched *s, bool standby)
{
	if (standby != s->standby)
		emit(s, "standby", NULL, "info", -1,
			 standby ? "the server is a standby (in recovery): this instance does nothing until "
					   "it is promoted, and asks again as often as a follower polls"
					 : "the server is no longer a standby (promoted): trying to take the leader "
					   "lock");
	s->standby = standby;
	publish_role(s);
}

static bool
stopping(const Sched *s)
{
	return s->opt->stop && *s->opt->stop;
}

/* sleeps up to ms, waking early for a stop or reload signal */
static void
nap(const Sched *s, double ms)
{
	double until = clock_ms() + ms;

	while (!stopping(s) && !(s->opt->reload && *s->opt->reload))
	{
		double left = until - clock_ms();

		if (left <= 0)
			break;
		sleep_ms(left > 100 ? 100 : (int64_t) left + 1);
	}
}

/* is our lock session still there, in its transaction?  (it keeps the lock until it ends) */
static bool
still_leader(Sched *s)
{
	PgpError e;
	bool ok;

	if (!s->leader)
		return false;
	err_init(&e);
	ok = s->lock_conn.conn && PQstatus(s->lock_conn.conn) == CONNECTION_OK &&
		 leader_ping(&s->lock_conn, &e) &&
		 PQtransactionStatus(s->lock_conn.conn) == PQTRANS_INTRANS;
	if (!ok)
	{
		emit(s, "leader", NULL, "failed", -1,
			 e.message ? e.message : "the connection holding the leader lock is gone");
		emit(s, "follower", NULL, "info", -1,
			 "lost the leader lock: stopped acting, trying to take over again");
		pgc_close(&s->lock_conn);
		set_leader(s, false);
	}
	err_clear(&e);
	return ok;
}

/*
 * tries to become the leader; false only when it cannot even try (server,
 * rights, schema).  On a standby it does not try (s->standby).
 */
static bool
try_lead(Sched *s, PgpError *err)
{
	PgpError e;
	char *who;
	bool standby;

	if (s->lock_conn.conn == NULL)
	{
		if (!pgc_connect(&s->lock_conn, s->opt->conninfo, false, err))
		{
			pgc_close(&s->lock_conn);
			return false;
		}
		/*
		 * The lock transaction stays open on purpose: no idle timeout may end
		 * it (transaction_timeout exists from PostgreSQL 17 on).
		 */
		if (!schema_require(&s->lock_conn, err) || !leader_session_setup(&s->lock_conn, err))
		{
			pgc_close(&s->lock_conn);
			return false;
		}
	}
	if (!standby_in_recovery(&s->lock_conn, &standby, err))
	{
		pgc_close(&s->lock_conn);
		return false;
	}
	set_standby(s, standby);
	if (standby)
		return true;
	if (!leader_begin(&s->lock_conn, err))
	{
		pgc_close(&s->lock_conn);
		return false;
	}
	err_init(&e);
	if (leader_lock(&s->lock_conn, &e))
	{
		free(s->squatter);
		s->squatter = NULL;
		set_leader(s, true);
		emit(s, "leader", NULL, "ok", -1, "took the leader lock: this instance acts");
		return true;
	}
	leader_rollback(&s->lock_conn);
	if (strcmp(e.sqlstate, SQLSTATE_LOCK_NOT_AVAILABLE) != 0)
	{
		/* e.g. no UPDATE on pgpart.scheduler_leader: this role is not pgpart's */
		err_set(err, EXIT_RUNTIME, "could not take the leader lock: %s", e.message);
		err_hint(err, "\"pgpart run\" must connect as the role that owns schema pgpart (or a "
					  "superuser): see docs/security.md.");
		err_clear(&e);
		pgc_close(&s->lock_conn);
		return false;
	}
	err_clear(&e);
	if (!leader_lock_holders(&s->lock_conn, &who, err))
	{
		pgc_close(&s->lock_conn);
		return false;
	}
	if (who && (s->squatter == NULL || strcmp(who, s->squatter) != 0))
	{
		/* said once per holder, not every poll */
		char *line = pg_xasprintf("the leader lock is held by a session that is not a pgpart "
								  "instance: %s; no pgpart acts until it ends",
								  who);

		emit(s, "leader", NULL, "failed", -1, line);
		free(line);
	}
	free(s->squatter);
	s->squatter = who;
	return true;
}

static void
vacuum_step(Sched *s, const char *qualified, const char *label, MaintAction action)
{
	ParallelOptions po;
	ParallelResult pr;
	PgpError e;
	char *detail;
	bool ok;

	memset(&po, 0, sizeof(po));
	po.table = qualified;
	po.action = action;
	po.jobs = s->opt->jobs;
	po.only_needed = true;
	po.conninfo = s->opt->conninfo;
	po.lock = s->opt->lock;
	if (s->opt->vacuum_lock_timeout_ms > 0)
		po.lock.lock_timeout_ms = s->opt->vacuum_lock_timeout_ms;
	po.cancel = s->opt->stop; /* SIGTERM cancels the running statements */
	err_init(&e);
	ok = ops_parallel(&s->work, &po, &pr, &e);
	if (ok || pr.n > 0)
		detail = pg_xasprintf("%d done, %d skipped (not needed), %d failed%s%s", pr.ran, pr.skipped,
							  pr.failed, ok ? "" : ": ", ok ? "" : e.message);
	else
		detail = pg_xstrdup(e.message ? e.message : "failed");
	if (!ok)
		s->failures++;
	emit(s, maint_action_name(action), label, ok ? "ok" : pr.cancelled ? "cancelled" : "failed",
		 pr.ms, detail);
	free(detail);
	parallelresult_free(&pr);
	err_clear(&e);
}

static void
maintain_step(Sched *s, const char *qualified, const char *label)
{
	MaintainResult mr;
	PgpError e;
	double t0 = clock_ms();
	bool ok, busy;
	char *detail;

	err_init(&e);
	ok = ops_maintain(&s->work, qualified, &s->opt->lock, &mr, &e);
	if (mr.n == 1)
	{
		const TableMaintenance *t = &mr.tables[0];

		char felt[LOCK_FELT_TEXT_SIZE];

		if (t->ok)
			detail = pg_xasprintf("%d partitions created, %ld rows moved out of the default "
								  "partition, locks held at most %.1f ms, %s, %d lock "
								  "attempts%s%s",
								  t->partitions_created.n, t->rows_moved, t->max_lock_held_ms,
								  lock_felt_text(&t->felt, felt, sizeof(felt)), t->lock_attempts,
								  t->notes.n ? "; " : "", t->notes.n ? t->notes.items[0] : "");
		else
			detail = pg_xstrdup(t->error ? t->error : "failed");
	}
	else
		detail = pg_xstrdup(e.message ? e.message : "failed");
	/*
	 * Another pgpart working on the table (a backfill, an archive by hand) is
	 * not a failure of this cycle: the table is skipped, and the next cycle
	 * does it.  The scheduler never waits for it (its connection has no
	 * --wait), so one busy table cannot hold up the others.
	 */
	busy = !ok && e.kind == ERR_KIND_BUSY;
	if (!ok && !busy)
		s->failures++;
	emit(s, "maintain", label, ok ? "ok" : busy ? "skipped" : "failed", clock_ms() - t0, detail);
	free(detail);
	maintainresult_free(&mr);
	err_clear(&e);
}

/* one pass over every managed table; stops acting as soon as the leader lock is gone */
static bool
cycle(Sched *s, PgpError *err)
{
	PartConfig *cfgs = NULL;
	int n = 0, i;
	double t0 = clock_ms();
	char *detail;

	s->failures = 0;
	if (s->work.conn == NULL || PQstatus(s->work.conn) != CONNECTION_OK)
	{
		pgc_close(&s->work);
		s->work.command = "run";
		if (!pgc_connect(&s->work, s->opt->conninfo, false, err))
		{
			pgc_close(&s->work);
			return false;
		}
	}
	if (!schema_require(&s->work, err) || !config_load(&s->work, 0, &cfgs, &n, err))
	{
		/* a broken connection is retried next cycle */
		if (PQstatus(s->work.conn) != CONNECTION_OK)
			pgc_close(&s->work);
		return false;
	}
	for (i = 0; i < n && !stopping(s); i++)
	{
		char *q, *label;

		if (!cfgs[i].parent_exists)
		{
			emit(s, "maintain", cfgs[i].parent_name, "skipped", -1,
				 "the configured table no longer exists");
			continue;
		}
		q = pgc_quote_qualified(&s->work, cfgs[i].parent_schema, cfgs[i].parent_name);
		label = pg_xasprintf("%s.%s", cfgs[i].parent_schema, cfgs[i].parent_name);
		if (still_leader(s))
			maintain_step(s, q, label);
		if (s->opt->maintenance && !stopping(s) && still_leader(s))
			vacuum_step(s, q, label, MAINT_VACUUM);
		if (s->opt->maintenance && !stopping(s) && still_leader(s))
			vacuum_step(s, q, label, MAINT_ANALYZE);
		free(q);
		free(label);
		if (!s->leader)
			break;
	}
	detail = pg_xasprintf("%d tables, %d steps failed%s", n, s->failures,
						  !s->leader ? "; stopped: leader lock lost" : stopping(s) ? "; stopped" : "");
	emit(s, "cycle", NULL, s->failures ? "failed" : "ok", clock_ms() - t0, detail);
	free(detail);
	if (s->opt->status && s->leader)
	{
		SchedulerStatus *st = s->opt->status;

		pthread_mutex_lock(&st->mutex);
		st->cycles++;
		st->last_cycle_end = (double) time(NULL);
		st->last_cycle_seconds = (clock_ms() - t0) / 1000;
		st->last_cycle_ok = s->failures == 0;
		st->failed_steps += s->failures;
		pthread_mutex_unlock(&st->mutex);
	}
	partconfig_list_free(cfgs, n);
	if (s->failures > 0)
	{
		err_set(err, EXIT_RUNTIME, "%d maintenance steps failed", s->failures);
		err_hint(err, "The log lines above say which and why.");
		return false;
	}
	return true;
}

bool
ops_scheduler_run(const SchedulerOptions *opt, PgpError *err)
{
	Sched s;
	bool ok = true;
	bool announced_follower = false;

	memset(&s, 0, sizeof(s));
	s.opt = opt;
	while (!stopping(&s))
	{
		double started;

		if (opt->reload && *opt->reload)
		{
			*opt->reload = 0;
			/* new connections pick up a changed service file, .pgpass or password */
			pgc_close(&s.work);
			emit(&s, "reload", NULL, "info", -1,
				 "reconnecting and re-reading the managed tables now");
		}
		if (!s.leader)
		{
			PgpError e;

			err_init(&e);
			if (!try_lead(&s, &e))
			{
				if (opt->once)
				{
					err_set(err, e.exit_code ? e.exit_code : EXIT_RUNTIME, "%s", e.message);
					err_clear(&e);
					ok = false;
					break;
				}
				emit(&s, "connect", NULL, "failed", -1, e.message);
				err_clear(&e);
				nap(&s, (double) opt->poll_ms);
				continue;
			}
			err_clear(&e);
			if (!s.leader && s.standby)
			{
				/* set_standby said so; a --once run on a standby has nothing to do */
				announced_follower = false;
				if (opt->once)
					break;
				nap(&s, (double) opt->poll_ms);
				continue;
			}
			if (!s.leader)
			{
				if (opt->once && s.squatter)
				{
					/* maintenance is not done and no pgpart does it: that must not look fine */
					err_set(err, EXIT_RUNTIME,
							"the leader lock is held by a session that is not a pgpart instance "
							"(%s); nothing done",
							s.squatter);
					err_hint(err, "End that session (SELECT pg_terminate_backend(pid)), or ask "
								  "why it locks pgpart.scheduler_leader.");
					ok = false;
					break;
				}
				if (opt->once)
				{
					emit(&s, "follower", NULL, "skipped", -1,
						 "another instance holds the leader lock; nothing done");
					break;
				}
				if (s.squatter)
				{
					/* try_lead said who, once; a pgpart instance may take over from it later */
					announced_follower = false;
					nap(&s, (double) opt->poll_ms);
					continue;
				}
				if (!announced_follower)
					emit(&s, "follower", NULL, "info", -1,
						 "another instance holds the leader lock; waiting to take over");
				announced_follower = true;
				nap(&s, (double) opt->poll_ms);
				continue;
			}
			announced_follower = false;
		}
		started = clock_ms();
		{
			PgpError e;

			err_init(&e);
			if (!cycle(&s, &e))
			{
				if (s.failures == 0)
					emit(&s, "cycle", NULL, "failed", clock_ms() - started, e.message);
				if (opt->once)
				{
					err_set(err, e.exit_code ? e.exit_code : EXIT_RUNTIME, "%s", e.message);
					if (e.hint)
						err_hint(err, "%s", e.hint);
					ok = false;
				}
			}
			err_clear(&e);
		}
		if (opt->once)
			break;
		nap(&s, (double) opt->every_ms - (clock_ms() - started));
	}
	if (stopping(&s))
		emit(&s, "stop", NULL, "info", -1, "stopping on a signal");
	pgc_close(&s.work);
	pgc_close(&s.lock_conn); /* ends the session: the leader lock is released */
	set_leader(&s, false);
	free(s.squatter);
	return ok;
}
