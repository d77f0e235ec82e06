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
#include "pg/lock_after.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strbuf.h"
#include "util/testhook.h"

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
		worst->after_ms = st->after_ms;
		worst->after_waiters = st->after_waiters;
		worst->after_capped = st->after_capped;
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
	if (f->after_ms <= 0)
		snprintf(buf, size,
				 "writers could have waited up to %.1f ms (queued %.1f ms + held %.1f ms)",
				 f->writers_wait_ms, f->queued_ms, f->held_ms);
	else
		snprintf(buf, size,
				 "writers could have waited up to %.1f ms (queued %.1f ms + held %.1f ms + "
				 "%.1f ms after the COMMIT, until the %d transaction%s waiting then and the "
				 "writers behind them had ended%s)",
				 f->writers_wait_ms, f->queued_ms, f->held_ms, f->after_ms, f->after_waiters,
				 f->after_waiters == 1 ? "" : "s",
				 f->after_capped ? "; some had not, counted up to there" : "");
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

int
lock_backoff_after(const LockPolicy *policy, int attempt, double queued_ms)
{
	int ms = lock_backoff_ms(policy, attempt);

	/*
	 * While the attempt queued, the writers' requests queued behind it; at a
	 * fixed arrival rate they come back as a backlog that the server works
	 * off only with the capacity it has to spare.  Twice the stall is what
	 * that takes while the writers use up to two thirds of the capacity (a
	 * stall of q leaves rate * q requests, drained at capacity - rate).
	 */
	if (queued_ms > 0 && ms < 2 * queued_ms)
		ms = (int) (2 * queued_ms + 0.5);
	return ms;
}

static bool
run_one_attempt(PgConn *pc, const LockPolicy *policy, LockedBody body, void *arg,
				LockStats *stats, LockAfter *after, PgpError *err)
{
	char timeout[32];
	const char *params[1];
	bool ok;

	if (!pgc_change(pc, "BEGIN", 0, NULL, err))
		return false;
	snprintf(timeout, sizeof(timeout), "%dms", policy->lock_timeout_ms);
	params[0] = timeout;
	ok = pgc_change(pc, "SELECT pg_catalog.set_config('lock_timeout', $1, true)", 1, params,
					err) &&
		 body(pc, arg, stats, err);
	if (ok && stats->locked_at != 0)
	{
		/* a test holds the locks here while its writers queue */
		testhook_pause("PGPART_TEST_LOCK_PAUSE", "held");
		/* as late as can be: what it misses, lock_after_follow picks up */
		ok = pc->dry_run || lock_after_note(pc, after, err);
	}
	if (!ok || !pgc_commit(pc, err))
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
	json_object_set_new(o, "lock_after_ms", json_real(f->after_ms));
	json_object_set_new(o, "lock_waiters", json_integer(f->after_waiters));
	if (f->after_capped)
		json_object_set_new(o, "lock_after_capped", json_true());
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

/*
 * The triples (relation, conflicting mode, scope) of targets as three array
 * literals: the look matches every mode that conflicts with the one needed.
 */
static void
conflict_arrays(const LockTarget *targets, int n, StrBuf *rels, StrBuf *modes, StrBuf *scopes)
{
	int i, k;

	sb_append(rels, "{");
	sb_append(modes, "{");
	sb_append(scopes, "{");
	for (i = 0; i < n; i++)
	{
		const char *names[LOCK_MODE_COUNT + 1];

		lockmode_conflicting_names(targets[i].mode, names);
		for (k = 0; names[k]; k++)
		{
			const char *sep = rels->data[1] ? "," : "";

			sb_appendf(rels, "%s%u", sep, targets[i].rel);
			sb_appendf(modes, "%s%s", sep, names[k]);
			sb_appendf(scopes, "%s%d", sep, (int) targets[i].scope);
		}
	}
	sb_append(rels, "}");
	sb_append(modes, "}");
	sb_append(scopes, "}");
}

int
lock_long_xact_ms(const LockPolicy *policy)
{
	return policy->lock_timeout_ms / 2;
}

/*
 * Sessions whose state this role may not see (other roles' without
 * pg_read_all_stats) count as short unless their mode says otherwise: their
 * attempt is still bounded by lock_timeout.  The granted ones first, oldest
 * first.
 */
bool
lock_find_long_holder(PgConn *pc, const LockPolicy *policy, const LockTarget *targets, int n,
					  LockHolder *h, PgpError *err)
{
	StrBuf rels, modes, scopes;
	char min_age[16];
	const char *params[4];
	PGresult *res;

	memset(h, 0, sizeof(*h));
	/* --dry-run sends no lock request, so nothing can wait for it */
	if (n == 0 || pc->dry_run)
		return true;
	sb_init(&rels);
	sb_init(&modes);
	sb_init(&scopes);
	conflict_arrays(targets, n, &rels, &modes, &scopes);
	snprintf(min_age, sizeof(min_age), "%d", lock_long_xact_ms(policy));
	params[0] = rels.data;
	params[1] = modes.data;
	params[2] = scopes.data;
	params[3] = min_age;
	res = pgc_query(
		pc,
		/*
		 * What the attempt will lock (LockScope): the relation; with its
		 * inheritance descendants, as LOCK TABLE and DROP TABLE recurse; with
		 * their TOAST tables and indexes, which DROP TABLE locks too.
		 */
		"WITH RECURSIVE t(rel, mode, scope) AS ("
		"  SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), "
		"    pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.int4[]))), "
		"tree(rel, mode, scope) AS ("
		"  SELECT rel, mode, scope FROM t "
		"  UNION SELECT i.inhrelid, tree.mode, tree.scope FROM tree "
		"    JOIN pg_catalog.pg_inherits i ON i.inhparent = tree.rel WHERE tree.scope >= 1), "
		"heaps(rel, mode, scope) AS ("
		"  SELECT rel, mode, scope FROM tree "
		"  UNION SELECT c.reltoastrelid, tree.mode, tree.scope FROM tree "
		"    JOIN pg_catalog.pg_class c ON c.oid = tree.rel "
		"    WHERE tree.scope >= 2 AND c.reltoastrelid <> 0), "
		"a(rel, mode) AS ("
		"  SELECT rel, mode FROM heaps "
		"  UNION SELECT x.indexrelid, heaps.mode FROM heaps "
		"    JOIN pg_catalog.pg_index x ON x.indrelid = heaps.rel WHERE heaps.scope >= 2) "
		"SELECT coalesce(l.pid, 0), "
		"  CASE WHEN l.pid IS NULL THEN pg_catalog.format('prepared transaction %L', p.gid) "
		"  ELSE coalesce(nullif(s.application_name, ''), s.backend_type, 'unknown') END, "
		"  s.state, coalesce(s.xact_start, p.prepared)::pg_catalog.text, l.mode, l.granted, "
		"  l.relation::pg_catalog.regclass::pg_catalog.text "
		"FROM a "
		"JOIN pg_catalog.pg_locks l ON l.locktype = 'relation' AND l.relation = a.rel "
		"  AND l.mode = a.mode AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d "
		"    WHERE d.datname = pg_catalog.current_database()) "
		"LEFT JOIN pg_catalog.pg_stat_activity s ON s.pid = l.pid "
		/* a prepared transaction's locks have no pid; its xid is on its transactionid lock */
		"LEFT JOIN pg_catalog.pg_locks x ON l.pid IS NULL AND x.pid IS NULL "
		"  AND x.locktype = 'transactionid' AND x.virtualtransaction = l.virtualtransaction "
		"LEFT JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = x.transactionid "
		"WHERE l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid() "
		"  AND (l.pid IS NULL OR s.backend_type = 'autovacuum worker' "
		/* modes no SELECT, INSERT, UPDATE or DELETE takes: VACUUM, DDL, LOCK TABLE */
		"    OR l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock') "
		/* an application's transaction (idle in it or not) is short unless it is old */
		"    OR s.xact_start <= pg_catalog.clock_timestamp() "
		"       - pg_catalog.make_interval(secs => $4::pg_catalog.float8 / 1000)) "
		"ORDER BY l.granted DESC, coalesce(s.xact_start, p.prepared) LIMIT 1",
		4, params, err);
	sb_free(&scopes);
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
	LockAfter after = LOCK_AFTER_INIT;

	stats->attempt_started = clock_ms();
	stats->locked_at = 0;
	if (run_one_attempt(pc, policy, body, arg, stats, &after, err))
	{
		end = clock_ms();
		if (stats->locked_at == 0)
			stats->locked_at = stats->attempt_started;
		stats->held_ms = end - stats->locked_at;
		stats->queued_ms = stats->locked_at - stats->attempt_started;
		stats->waited_ms += stats->queued_ms;
		stats->felt_queued_ms += stats->queued_ms;
		stats->felt_held_ms = stats->held_ms;
		if (lock_after_follow(pc, &after, end))
		{
			stats->after_ms = after.after_ms;
			stats->after_waiters = after.waiters_n;
			stats->after_capped = after.capped;
		}
		lock_after_free(&after);
		stats->felt_ms += end - stats->attempt_started + stats->after_ms;
		return true;
	}
	lock_after_free(&after);
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
		sleep = lock_backoff_after(policy, attempt, h.seen ? 0 : stats->queued_ms);
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
