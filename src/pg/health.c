/*
 * health.c - the readings and limits behind core/throttle.c's decision, in
 * one statement per look (between two batches, and once a second while
 * waiting), and the waits themselves.
 */
#include "pg/health.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strbuf.h"

/* while paused for the same reason, say so again this often */
#define THROTTLE_REPEAT_MS 10000

/*
 * Everything in one round trip; reads only statistics views and pgpart's
 * own row (no lock a writer would notice).  $1: the table's OID or NULL.
 * pg_stat_activity costs milliseconds (it copies every backend's status),
 * and so does pg_stat_replication, which joins it: the WAL senders are read
 * from the function under that view, and each is read only while a limit
 * in force at the last look needs it (pg_stat_activity at most once a
 * second: an age limit is seconds or minutes, and batches come faster); a limit newly set by "migrate
 * limits" is watched from the look after the one that found it.  Our own
 * session's transaction is not "the oldest transaction"; nor is
 * autovacuum's (backend_type), which yields to writers by itself.
 */
static char *
health_sql(const ThrottleLimits *l, bool read_xact)
{
	StrBuf sb;

	sb_init(&sb);
	sb_append(&sb, "SELECT r.n, r.replay, r.lag_ms,"
				   " CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL"
				   "  ELSE pg_catalog.pg_current_wal_lsn()::text END,");
	if (read_xact)
		sb_append(&sb,
				  " (SELECT EXTRACT(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.min(x.since))"
				  "  * 1000 FROM (SELECT a.xact_start AS since FROM pg_catalog.pg_stat_activity a"
				  "   WHERE a.xact_start IS NOT NULL AND a.pid <> pg_catalog.pg_backend_pid()"
				  "   AND a.backend_type = 'client backend'"
				  "   UNION ALL SELECT p.prepared FROM pg_catalog.pg_prepared_xacts p) x),");
	else
		sb_append(&sb, " NULL,");
	sb_append(&sb, " l.rate, l.max_lag_ms, l.max_wal_rate, l.max_xact_age_ms, l.max_probe_ms, l.paused"
				   " FROM ");
	if (l->max_lag_ms > 0)
		sb_append(&sb, "(SELECT pg_catalog.count(*) AS n, pg_catalog.min(w.replay_lsn)::text AS replay,"
					   " EXTRACT(epoch FROM pg_catalog.max(w.replay_lag)) * 1000 AS lag_ms"
					   " FROM pg_catalog.pg_stat_get_wal_senders() w) AS r");
	else
		sb_append(&sb, "(SELECT 0 AS n, NULL::text AS replay, NULL::numeric AS lag_ms) AS r");
	sb_append(&sb, " LEFT JOIN pgpart.throttle_limit l"
				   " ON l.relation = $1::pg_catalog.oid::pg_catalog.regclass");
	return sb_steal(&sb);
}

static double
number_or(const PGresult *res, int col, double otherwise)
{
	return PQgetisnull(res, 0, col) ? otherwise : atof(PQgetvalue(res, 0, col));
}

/* the command line's limits, each overridden by a non-NULL column of the row */
static void
limits_from_row(Throttle *t, const PGresult *res)
{
	ThrottleLimits *l = &t->limits;

	*l = t->given;
	l->rate = number_or(res, 5, l->rate);
	l->max_lag_ms = number_or(res, 6, l->max_lag_ms);
	l->max_wal_rate = number_or(res, 7, l->max_wal_rate);
	l->max_xact_age_ms = number_or(res, 8, l->max_xact_age_ms);
	l->max_probe_ms = number_or(res, 9, l->max_probe_ms);
	l->paused = !PQgetisnull(res, 0, 10) && strcmp(PQgetvalue(res, 0, 10), "t") == 0;
}

static void
readings_from_row(Throttle *t, const PGresult *res, double now, ThrottleReadings *rd)
{
	uint64_t lsn = 0, replay;
	bool have_lsn = !PQgetisnull(res, 0, 3) && lsn_parse(PQgetvalue(res, 0, 3), &lsn);

	rd->lag_ms = rd->lag_bytes = rd->wal_rate = rd->probe_ms = -1;
	rd->xact_age_ms = number_or(res, 4, -1);
	if (have_lsn)
	{
		lagclock_sample(&t->lag, now, lsn);
		rd->wal_rate = walrate_sample(&t->wal, now, lsn);
	}
	if (atoi(PQgetvalue(res, 0, 0)) > 0 && !PQgetisnull(res, 0, 1) &&
		lsn_parse(PQgetvalue(res, 0, 1), &replay))
	{
		/* the walsender's figure, or ours when it has none (stuck replay after idle) */
		rd->lag_ms = number_or(res, 2, 0);
		if (have_lsn)
		{
			rd->lag_ms = fmax(rd->lag_ms, lagclock_lag_ms(&t->lag, replay, now));
			rd->lag_bytes = lsn > replay ? (double) (lsn - replay) : 0;
		}
	}
}

static bool
read_probe(Throttle *t, PgConn *pc, ThrottleReadings *rd, PgpError *err)
{
	char *v = NULL;

	if (t->probe_sql == NULL)
		return true;
	if (!pgc_query_value(pc, t->probe_sql, 0, NULL, &v, err))
	{
		err_prefix(err, "the probe function failed");
		return false;
	}
	rd->probe_ms = v ? atof(v) : -1;
	free(v);
	return true;
}

bool
health_read(Throttle *t, PgConn *pc, ThrottleReadings *rd, PgpError *err)
{
	const char *params[1] = {t->relid};
	double now = clock_ms();
	bool read_xact = t->limits.max_xact_age_ms > 0 && now - t->xact_read_ms >= THROTTLE_RECHECK_MS;
	char *sql = health_sql(&t->limits, read_xact);
	PGresult *res = pgc_query(pc, sql, 1, params, err);

	free(sql);
	if (res == NULL)
		return false;
	limits_from_row(t, res);
	readings_from_row(t, res, now, rd);
	if (read_xact)
	{
		t->xact_read_ms = now;
		t->xact_age_ms = rd->xact_age_ms;
	}
	else if (t->limits.max_xact_age_ms > 0 && t->xact_read_ms > 0 && t->xact_age_ms >= 0)
		/* it has aged since; if it ended, the next read (within a second) says so */
		rd->xact_age_ms = t->xact_age_ms + (now - t->xact_read_ms);
	else
		rd->xact_age_ms = -1;
	PQclear(res);
	return read_probe(t, pc, rd, err);
}

/* what the running copy says, for "pgpart migrate limits" to show */
static void
record_state(Throttle *t, PgConn *pc, const char *state)
{
	const char *params[2] = {t->relid, state};

	if (t->relid == NULL || t->dry_run)
		return;
	t->recorded = true;
	pgc_exec_quiet(pc,
				   "INSERT INTO pgpart.throttle_limit AS l (relation, state, state_at)"
				   " VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, pg_catalog.clock_timestamp())"
				   " ON CONFLICT (relation) DO UPDATE SET state = EXCLUDED.state,"
				   " state_at = EXCLUDED.state_at",
				   2, params);
}

/* equal up to the first digit, where the readings begin */
static bool
same_kind(const char *a, const char *b)
{
	size_t n = strcspn(a, "0123456789");

	return n == strcspn(b, "0123456789") && strncmp(a, b, n) == 0;
}

static void
say(Throttle *t, PgConn *pc, const char *verb, const char *reason, double now)
{
	char *line = pg_xasprintf("%s: %s", verb, reason);

	/* the same limit with a new reading ("lag 12 s", "lag 13 s"): not news every second */
	if (t->said && same_kind(t->said, line))
	{
		if (now - t->said_ms >= THROTTLE_REPEAT_MS)
		{
			log_info("%s: %s (still)", t->label, line);
			record_state(t, pc, line);
			free(t->said);
			t->said = line;
			t->said_ms = now;
		}
		else
			free(line);
		return;
	}
	log_info("%s: %s", t->label, line);
	if (t->progress && t->progress_done)
		progress_update(t->progress, *t->progress_done, line);
	record_state(t, pc, line);
	free(t->said);
	t->said = line;
	t->said_ms = now;
}

static void
say_resumed(Throttle *t, PgConn *pc, double waited_ms)
{
	char *d = throttle_format_ms(waited_ms);

	log_info("%s: resumed after %s", t->label, d);
	free(d);
	if (t->progress && t->progress_done)
		progress_update(t->progress, *t->progress_done, NULL);
	record_state(t, pc, "running");
	free(t->said);
	t->said = NULL;
}

bool
throttle_between_batches(Throttle *t, PgConn *pc, int64_t rows, PgpError *err)
{
	double started = clock_ms(), waited = 0;
	bool paused = false;

	for (;;)
	{
		ThrottleReadings rd;
		ThrottleDecision d;
		double now;

		if (!health_read(t, pc, &rd, err))
			return false;
		now = clock_ms();
		throttle_decide(&t->limits, &rd, rows, t->batch_started_ms, now, &d);
		if (d.action == THROTTLE_GO)
			break;
		if (d.action == THROTTLE_PAUSE)
		{
			if (!paused)
				t->pauses++;
			paused = true;
			free(t->last_reason);
			t->last_reason = pg_xstrdup(d.reason);
			say(t, pc, "paused", d.reason, now);
		}
		else if (waited >= THROTTLE_RECHECK_MS)
			say(t, pc, "slowed", d.reason, now); /* a wait of a second or more is news */
		sleep_ms(d.wait_ms);
		waited += d.wait_ms;
		if (d.action == THROTTLE_PAUSE)
			t->paused_ms += d.wait_ms;
		else
			t->slowed_ms += d.wait_ms;
		throttle_decision_free(&d);
	}
	if (t->said)
		say_resumed(t, pc, clock_ms() - started);
	t->batch_started_ms = clock_ms();
	return true;
}

/* the probe named on the command line: a function without arguments that returns a number */
static bool
check_probe(Throttle *t, PgConn *pc, const char *probe, PgpError *err)
{
	char *schema = NULL, *name = NULL, *why = NULL, *v = NULL;
	const char *params[2];
	PGresult *res = NULL;
	bool ok = false;

	if (!probe_name_parse(probe, &schema, &name, &why))
	{
		err_set(err, EXIT_USAGE, "--probe: %s", why);
		err_hint(err, "Name a function you created, e.g. --probe ops.write_latency_ms; "
					  "nothing was changed.");
		goto out;
	}
	params[0] = schema;
	params[1] = name;
	res = pgc_query(pc,
					"SELECT pg_catalog.format_type(p.prorettype, NULL),"
					" p.prorettype::pg_catalog.regtype = ANY (ARRAY['pg_catalog.int2', 'pg_catalog.int4',"
					"  'pg_catalog.int8', 'pg_catalog.numeric', 'pg_catalog.float4',"
					"  'pg_catalog.float8']::pg_catalog.regtype[]) AND NOT p.proretset,"
					" pg_catalog.has_function_privilege(p.oid, 'EXECUTE')"
					" FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
					" WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = 0 AND p.prokind = 'f'",
					2, params, err);
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 0)
	{
		err_set(err, EXIT_USAGE, "--probe: there is no function %s.%s() without arguments", schema,
				name);
		err_hint(err, "Create it first (it returns the milliseconds your check took); "
					  "nothing was changed.");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
	{
		err_set(err, EXIT_USAGE, "--probe: function %s.%s() returns %s, not a number of milliseconds",
				schema, name, PQgetvalue(res, 0, 0));
		err_hint(err, "Make it return a number (integer, numeric or double precision); "
					  "nothing was changed.");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
	{
		err_set(err, EXIT_USAGE, "--probe: this role may not execute %s.%s()", schema, name);
		err_hint(err, "GRANT EXECUTE ON FUNCTION to pgpart's role; nothing was changed.");
		goto out;
	}
	{
		char *fn = pgc_quote_qualified(pc, schema, name);

		t->probe_sql = pg_xasprintf("SELECT %s()::pg_catalog.float8", fn);
		free(fn);
	}
	/* called once now, so that a probe that fails says so before any batch */
	if (!pgc_query_value(pc, t->probe_sql, 0, NULL, &v, err))
	{
		err->exit_code = EXIT_USAGE;
		err_prefix(err, "--probe: %s.%s() failed", schema, name);
		goto out;
	}
	if (v == NULL || atof(v) < 0)
	{
		err_set(err, EXIT_USAGE, "--probe: %s.%s() returned %s, not a number of milliseconds",
				schema, name, v ? v : "NULL");
		err_hint(err, "Nothing was changed.");
		goto out;
	}
	ok = true;
out:
	PQclear(res);
	FREE_ALL(schema, name, why, v);
	return ok;
}

/*
 * Lag and transaction age are read from statistics views that show other
 * roles' sessions only to members of pg_read_all_stats: without it the
 * limit would never pause, which is worse than refusing to start.
 */
static bool
check_visibility(PgConn *pc, const ThrottleLimits *given, PgpError *err)
{
	char *v = NULL;
	bool ok;

	if (given->max_lag_ms <= 0 && given->max_xact_age_ms <= 0)
		return true;
	if (!pgc_query_value(pc, "SELECT pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')::text",
						 0, NULL, &v, err))
		return false;
	ok = v && strcmp(v, "true") == 0;
	free(v);
	if (!ok)
	{
		err_set(err, EXIT_USAGE, "%s needs the rights to see other sessions' statistics",
				given->max_lag_ms > 0 ? "--max-lag" : "--max-xact-age");
		err_detail(err, "pg_stat_replication and pg_stat_activity show other roles' positions "
						"and transactions only to members of pg_read_all_stats.");
		err_hint(err, "GRANT pg_monitor TO the role pgpart runs as; nothing was changed.");
	}
	return ok;
}

bool
throttle_open(Throttle *t, PgConn *pc, const char *relid, const char *label,
			  const ThrottleLimits *given, const char *probe, PgpError *err)
{
	ThrottleReadings rd;

	memset(t, 0, sizeof(*t));
	t->given = *given;
	t->limits = *given;
	t->relid = relid ? pg_xstrdup(relid) : NULL;
	t->label = pg_xstrdup(label);
	t->dry_run = pc->dry_run;
	walrate_init(&t->wal);
	lagclock_init(&t->lag);
	if (probe && !check_probe(t, pc, probe, err))
		return false;
	if (given->max_probe_ms > 0 && probe == NULL)
	{
		err_set(err, EXIT_USAGE, "--max-probe needs --probe FUNCTION");
		err_hint(err, "Nothing was changed.");
		return false;
	}
	if (!check_visibility(pc, given, err))
		return false;
	/* the first samples of LSN and time, so that the first batch's WAL has a start */
	if (!health_read(t, pc, &rd, err))
		return false;
	t->batch_started_ms = clock_ms();
	return true;
}

bool
throttle_open_for(Throttle *t, PgConn *pc, RelOid rel, const char *label, const HealthArgs *h,
				  double rate, PgpError *err)
{
	ThrottleLimits given = health_args_limits(h, rate);
	char relid[16];

	snprintf(relid, sizeof(relid), "%u", rel);
	if (throttle_open(t, pc, relid, label, &given, h->probe, err))
		return true;
	throttle_close(t, pc);
	return false;
}

/*
 * A look right after opening sees no lag and no WAL rate yet: the lag is
 * timed from pgpart's own samples of the WAL position (a standby's
 * replay_lag stays NULL while its replay is stuck), the rate over a window
 * of a second.  So while a standby is behind, watch it for up to the lag
 * limit, and with a WAL limit for one window, before the first decision;
 * a standby that has replayed everything ends the watch at once.
 */
bool
throttle_settle(Throttle *t, PgConn *pc, const HealthArgs *h, PgpError *err)
{
	double started = clock_ms();

	for (;;)
	{
		ThrottleReadings rd;
		double seen;

		if (!health_read(t, pc, &rd, err))
			return false;
		seen = clock_ms() - started;
		if (!(h->max_lag_ms > 0 && rd.lag_bytes > 0 && seen <= h->max_lag_ms) &&
			!(h->max_wal_rate > 0 && seen < THROTTLE_RECHECK_MS + 100))
			return true;
		sleep_ms(200);
	}
}

bool
health_wait(PgConn *pc, RelOid rel, const char *label, const HealthArgs *h, const char *step,
			NameList *notes, PgpError *err)
{
	Throttle t;
	bool ok;

	if (pc->dry_run || (!health_args_given(h) && h->probe == NULL))
		return true;
	if (!throttle_open_for(&t, pc, rel, label, h, 0, err))
		return false;
	ok = throttle_settle(&t, pc, h, err) && throttle_between_batches(&t, pc, 0, err);
	if (ok && t.paused_ms > 0)
		namelist_addf(notes, "waited %.1f s for the server's health before %s",
					  t.paused_ms / 1000.0, step);
	throttle_close(&t, pc);
	return ok;
}

char *
throttle_summary(const Throttle *t)
{
	char *p = throttle_format_ms(t->paused_ms), *s;

	if (t->pauses == 0)
		s = pg_xstrdup("none");
	else
		s = pg_xasprintf("%d, %s in all (last: %s)", t->pauses, p, t->last_reason);
	free(p);
	return s;
}

void
throttle_close(Throttle *t, PgConn *pc)
{
	const char *params[1] = {t->relid};

	if (t->recorded && pc && pc->conn)
		pgc_exec_quiet(pc,
					   "UPDATE pgpart.throttle_limit SET state = NULL, state_at = pg_catalog.clock_timestamp()"
					   " WHERE relation = $1::pg_catalog.oid::pg_catalog.regclass",
					   1, params);
	FREE_ALL(t->relid, t->label, t->probe_sql, t->said, t->last_reason);
	memset(t, 0, sizeof(*t));
}

static char *
number_param(double v)
{
	return v > 0 ? pg_xasprintf("%.17g", v) : NULL;
}

bool
throttle_limit_set(PgConn *pc, const char *relid, const ThrottleLimits *set, int paused,
				   PgpError *err)
{
	char *rate = number_param(set->rate), *lag = number_param(set->max_lag_ms),
		 *wal = number_param(set->max_wal_rate), *age = number_param(set->max_xact_age_ms),
		 *probe = number_param(set->max_probe_ms);
	const char *params[7] = {relid, rate, lag, wal, age, probe,
							 paused < 0 ? NULL : paused ? "true" : "false"};
	bool ok = pgc_change(pc,
						 "INSERT INTO pgpart.throttle_limit AS l (relation, rate, max_lag_ms,"
						 " max_wal_rate, max_xact_age_ms, max_probe_ms, paused, set_by, set_at)"
						 " VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3, $4, $5, $6,"
						 " COALESCE($7::boolean, false), CURRENT_USER, pg_catalog.now())"
						 " ON CONFLICT (relation) DO UPDATE SET"
						 " rate = COALESCE(EXCLUDED.rate, l.rate),"
						 " max_lag_ms = COALESCE(EXCLUDED.max_lag_ms, l.max_lag_ms),"
						 " max_wal_rate = COALESCE(EXCLUDED.max_wal_rate, l.max_wal_rate),"
						 " max_xact_age_ms = COALESCE(EXCLUDED.max_xact_age_ms, l.max_xact_age_ms),"
						 " max_probe_ms = COALESCE(EXCLUDED.max_probe_ms, l.max_probe_ms),"
						 " paused = COALESCE($7::boolean, l.paused),"
						 " set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at",
						 7, params, err);

	FREE_ALL(rate, lag, wal, age, probe);
	return ok;
}

bool
throttle_limit_reset(PgConn *pc, const char *relid, PgpError *err)
{
	const char *params[1] = {relid};

	return pgc_change(pc,
					  "UPDATE pgpart.throttle_limit SET rate = NULL, max_lag_ms = NULL,"
					  " max_wal_rate = NULL, max_xact_age_ms = NULL, max_probe_ms = NULL,"
					  " paused = false, set_by = CURRENT_USER, set_at = pg_catalog.now()"
					  " WHERE relation = $1::pg_catalog.oid::pg_catalog.regclass",
					  1, params, err);
}

PGresult *
throttle_limit_read(PgConn *pc, const char *relid, PgpError *err)
{
	const char *params[1] = {relid};

	return pgc_query(pc,
					 "SELECT rate, max_lag_ms, max_wal_rate, max_xact_age_ms, max_probe_ms,"
					 " paused::text, set_by, set_at::text, state, state_at::text"
					 " FROM pgpart.throttle_limit"
					 " WHERE relation = $1::pg_catalog.oid::pg_catalog.regclass",
					 1, params, err);
}
