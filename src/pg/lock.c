/*
 * lock.c - the retry loop around a transaction that takes strong locks: SET
 * LOCAL lock_timeout, attempt, on lock_not_available or deadlock roll back and
 * sleep with jittered exponential backoff.  (The per-table advisory lock
 * that keeps two pgpart processes from working on one table at once is in
 * worklock.c.)
 */
#include "pg/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg/catalog.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strbuf.h"

void
lock_txn_mark_locked(LockStats *stats)
{
	if (stats->locked_at == 0)
		stats->locked_at = clock_ms();
}

void
lock_felt_note(LockFelt *worst, const LockStats *st)
{
	worst->skipped_attempts += st->skipped;
	if (st->holder.seen)
		worst->holder = st->holder;
	if (st->felt_ms >= worst->writers_wait_ms)
	{
		worst->writers_wait_ms = st->felt_ms;
		worst->queued_ms = st->felt_queued_ms;
		worst->held_ms = st->felt_held_ms;
	}
}

void
lock_felt_note_statement(LockFelt *worst, double started, double granted_at, double ended)
{
	LockStats st;

	memset(&st, 0, sizeof(st));
	st.felt_ms = ended - started;
	st.felt_queued_ms = granted_at > 0 ? granted_at - started : 0;
	st.felt_held_ms = ended - (granted_at > 0 ? granted_at : started);
	lock_felt_note(worst, &st);
}

const char *
lock_felt_text(const LockFelt *f, char *buf, size_t size)
{
	snprintf(buf, size, "writers could have waited up to %.1f ms (queued %.1f ms + held %.1f ms)",
			 f->writers_wait_ms, f->queued_ms, f->held_ms);
	return buf;
}

int
lock_backoff_ms(const LockPolicy *policy, int attempt)
{
	long ms = policy->backoff_initial_ms;
	int i;
	static bool seeded;

	if (!seeded)
	{
		srand((unsigned) getpid() ^ (unsigned) clock_ms());
		seeded = true;
	}
	for (i = 1; i < attempt && ms < policy->backoff_max_ms; i++)
		ms *= 2;
	if (ms > policy->backoff_max_ms)
		ms = policy->backoff_max_ms;
	/*
	 * Full jitter: several pgpart instances (or other tools) retrying the same
	 * lock must not wake up in step.
	 */
	return (int) (ms / 2 + (rand() % (ms / 2 + 1)));
}

static bool
run_one_attempt(PgConn *pc, const LockPolicy *policy, LockedBody body, void *arg,
				LockStats *stats, PgpError *err)
{
	char timeout[32];
	const char *params[1];

	if (!pgc_change(pc, "BEGIN", 0, NULL, err))
		return false;
	snprintf(timeout, sizeof(timeout), "%dms", policy->lock_timeout_ms);
	params[0] = timeout;
	if (!pgc_change(pc, "SELECT pg_catalog.set_config('lock_timeout', $1, true)", 1, params,
					err) ||
		!body(pc, arg, stats, err) || !pgc_commit(pc, err))
	{
		if (!pc->dry_run)
			pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
		return false;
	}
	return true;
}

const char *
lock_holder_text(const LockHolder *h, char *buf, size_t size)
{
	char pid[24] = "";

	if (h->pid != 0)
		snprintf(pid, sizeof(pid), "pid %d ", h->pid);
	snprintf(buf, size, "%s(%s%s%s, transaction open since %s) %s %s on %s", pid, h->who,
			 h->state[0] ? ", " : "", h->state, h->since[0] ? h->since : "unknown",
			 h->granted ? "holds" : "is queued for", h->mode, h->relation);
	return buf;
}

void
lock_felt_json(json_t *o, const LockFelt *f)
{
	json_object_set_new(o, "writers_wait_ms", json_real(f->writers_wait_ms));
	json_object_set_new(o, "lock_queued_ms", json_real(f->queued_ms));
	json_object_set_new(o, "skipped_attempts", json_integer(f->skipped_attempts));
	if (!f->holder.seen)
		return;
	json_object_set_new(o, "lock_holder",
						json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:s}", "pid", f->holder.pid,
								  "who", f->holder.who, "state", f->holder.state, "xact_start",
								  f->holder.since, "mode", f->holder.mode, "granted",
								  f->holder.granted, "relation", f->holder.relation));
}

static void
copy_field(char *dst, size_t size, const PGresult *res, int col)
{
	snprintf(dst, size, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

/* the pairs (relation, conflicting mode) of targets as two array literals */
static void
conflict_arrays(const LockTarget *targets, int n, StrBuf *rels, StrBuf *modes)
{
	int i, k;

	sb_append(rels, "{");
	sb_append(modes, "{");
	for (i = 0; i < n; i++)
	{
		const char *names[LOCK_MODE_COUNT + 1];

		lockmode_conflicting_names(targets[i].mode, names);
		for (k = 0; names[k]; k++)
		{
			const char *sep = rels->data[1] ? "," : "";

			sb_appendf(rels, "%s%u", sep, targets[i].rel);
			sb_appendf(modes, "%s%s", sep, names[k]);
		}
	}
	sb_append(rels, "}");
	sb_append(modes, "}");
}

/*
 * Sessions whose state this role may not see (other roles' without
 * pg_read_all_stats) count as short: their attempt is still bounded by
 * lock_timeout.  The granted ones first, oldest first.
 */
bool
lock_find_long_holder(PgConn *pc, const LockPolicy *policy, const LockTarget *targets, int n,
					  LockHolder *h, PgpError *err)
{
	StrBuf rels, modes;
	char min_age[16];
	const char *params[3];
	PGresult *res;

	memset(h, 0, sizeof(*h));
	/* --dry-run sends no lock request, so nothing can wait for it */
	if (n == 0 || pc->dry_run)
		return true;
	sb_init(&rels);
	sb_init(&modes);
	conflict_arrays(targets, n, &rels, &modes);
	snprintf(min_age, sizeof(min_age), "%d", policy->lock_timeout_ms);
	params[0] = rels.data;
	params[1] = modes.data;
	params[2] = min_age;
	res = pgc_query(
		pc,
		"SELECT coalesce(l.pid, 0), "
		"  CASE WHEN l.pid IS NULL THEN pg_catalog.format('prepared transaction %L', p.gid) "
		"  ELSE coalesce(nullif(s.application_name, ''), s.backend_type, 'unknown') END, "
		"  s.state, coalesce(s.xact_start, p.prepared)::pg_catalog.text, l.mode, l.granted, "
		"  l.relation::pg_catalog.regclass::pg_catalog.text "
		"FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), "
		"  pg_catalog.unnest($2::pg_catalog.text[])) AS t(rel, mode) "
		"JOIN pg_catalog.pg_locks l ON l.locktype = 'relation' AND l.relation = t.rel "
		"  AND l.mode = t.mode AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
		"    WHERE d.datname = pg_catalog.current_database()) "
		"LEFT JOIN pg_catalog.pg_stat_activity s ON s.pid = l.pid "
		/* a prepared transaction's locks have no pid; its xid is on its transactionid lock */
		"LEFT JOIN pg_catalog.pg_locks x ON l.pid IS NULL AND x.pid IS NULL "
		"  AND x.locktype = 'transactionid' AND x.virtualtransaction = l.virtualtransaction "
		"LEFT JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = x.transactionid "
		"WHERE l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid() "
		"  AND (l.pid IS NULL OR s.state LIKE 'idle in transaction%' "
		"    OR s.backend_type = 'autovacuum worker' "
		"    OR s.xact_start <= pg_catalog.clock_timestamp() "
		"       - pg_catalog.make_interval(secs => $3::pg_catalog.float8 / 1000)) "
		"ORDER BY l.granted DESC, coalesce(s.xact_start, p.prepared) LIMIT 1",
		3, params, err);
	sb_free(&rels);
	sb_free(&modes);
	if (res == NULL)
	{
		err_prefix(err, "could not look for sessions holding conflicting locks");
		return false;
	}
	if (PQntuples(res) == 1)
	{
		h->seen = true;
		h->pid = atoi(PQgetvalue(res, 0, 0));
		copy_field(h->who, sizeof(h->who), res, 1);
		copy_field(h->state, sizeof(h->state), res, 2);
		copy_field(h->since, sizeof(h->since), res, 3);
		copy_field(h->mode, sizeof(h->mode), res, 4);
		h->granted = PQgetvalue(res, 0, 5)[0] == 't';
		copy_field(h->relation, sizeof(h->relation), res, 6);
	}
	PQclear(res);
	return true;
}

void
lock_error_not_granted(PgpError *err, const LockPolicy *policy, int attempts, int skipped,
					   const LockHolder *h)
{
	char holder[LOCK_HOLDER_TEXT_SIZE];

	if (h && h->seen)
	{
		err_set(err, EXIT_RUNTIME, "could not get the locks needed after %d attempts: %s",
				attempts, lock_holder_text(h, holder, sizeof(holder)));
		err_detail(err,
				   "%d of the attempts were skipped, not sent, because a session like this one "
				   "would have made them wait; the others timed out (lock_timeout %d ms). "
				   "Nothing was changed.",
				   skipped, policy->lock_timeout_ms);
		if (h->pid != 0)
			err_hint(err,
					 "Let it finish and run the command again, or end it if that is safe "
					 "(SELECT pg_cancel_backend(%d), or pg_terminate_backend(%d) if it is idle "
					 "in transaction); --retries gives pgpart more patience.",
					 h->pid, h->pid);
		else
			err_hint(err, "COMMIT PREPARED or ROLLBACK PREPARED it, then run the command again.");
	}
	else
	{
		err_set(err, EXIT_RUNTIME,
				"could not get the locks needed after %d attempts (lock_timeout %d ms)",
				attempts, policy->lock_timeout_ms);
		err_detail(err, "Other sessions held conflicting locks the whole time; nothing "
						"was changed.");
		err_hint(err, "Look for long-running transactions in pg_stat_activity, or retry "
					  "with a larger --lock-timeout or --retries.");
	}
	err->kind = ERR_KIND_LOCKS_NOT_GRANTED;
}

/* one attempt sent: true when it committed; otherwise err says why */
static bool
run_attempt_timed(PgConn *pc, const LockPolicy *policy, LockedBody body, void *arg,
				  LockStats *stats, PgpError *err)
{
	double end;

	stats->attempt_started = clock_ms();
	stats->locked_at = 0;
	if (run_one_attempt(pc, policy, body, arg, stats, err))
	{
		end = clock_ms();
		if (stats->locked_at == 0)
			stats->locked_at = stats->attempt_started;
		stats->held_ms = end - stats->locked_at;
		stats->queued_ms = stats->locked_at - stats->attempt_started;
		stats->waited_ms += stats->queued_ms;
		stats->felt_ms += end - stats->attempt_started;
		stats->felt_queued_ms += stats->queued_ms;
		stats->felt_held_ms = stats->held_ms;
		return true;
	}
	/* after the ROLLBACK: writers queued behind this attempt until now */
	end = clock_ms();
	stats->waited_ms += end - stats->attempt_started;
	stats->felt_ms += end - stats->attempt_started;
	stats->felt_queued_ms += end - stats->attempt_started;
	stats->queued_ms = end - stats->attempt_started;
	stats->held_ms = 0;
	return false;
}

bool
lock_run_txn(PgConn *pc, const LockPolicy *policy, LockedBody body, void *arg,
			 LockStats *stats_out, PgpError *err)
{
	return lock_run_txn_on(pc, policy, NULL, 0, body, arg, stats_out, err);
}

bool
lock_run_txn_on(PgConn *pc, const LockPolicy *policy, const LockTarget *targets, int ntargets,
				LockedBody body, void *arg, LockStats *stats_out, PgpError *err)
{
	LockStats local;
	LockStats *stats = stats_out ? stats_out : &local;
	int attempt;

	memset(stats, 0, sizeof(*stats));
	for (attempt = 1;; attempt++)
	{
		LockHolder h;
		char why[LOCK_HOLDER_TEXT_SIZE];
		int sleep;

		stats->attempts = attempt;
		if (!lock_find_long_holder(pc, policy, targets, ntargets, &h, err))
			return false;
		if (h.seen)
		{
			stats->skipped++;
			stats->holder = h;
			lock_holder_text(&h, why, sizeof(why));
		}
		else if (run_attempt_timed(pc, policy, body, arg, stats, err))
			return true;
		else if (!pgc_error_is_retryable_lock(err))
			return false;
		else
			snprintf(why, sizeof(why), "%s", err->message);
		if (attempt >= policy->max_attempts)
		{
			lock_error_not_granted(err, policy, stats->attempts, stats->skipped, &stats->holder);
			return false;
		}
		sleep = lock_backoff_ms(policy, attempt);
		if (h.seen)
			log_info("lock attempt %d of %d skipped: %s; retrying in %d ms", attempt,
					 policy->max_attempts, why, sleep);
		else
			log_info("lock not granted (attempt %d of %d, %s); retrying in %d ms", attempt,
					 policy->max_attempts, why, sleep);
		err_clear(err);
		sleep_ms(sleep);
		stats->waited_ms += sleep;
	}
}
