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

void
lock_txn_mark_locked(LockStats *stats)
{
	if (stats->locked_at == 0)
		stats->locked_at = clock_ms();
}

void
lock_felt_note(LockFelt *worst, const LockStats *st)
{
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

static int
backoff_ms(const LockPolicy *policy, int attempt)
{
	long ms = policy->backoff_initial_ms;
	int i;

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
		!body(pc, arg, stats, err) || !pgc_change(pc, "COMMIT", 0, NULL, err))
	{
		if (!pc->dry_run)
			pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
		return false;
	}
	return true;
}

bool
lock_run_txn(PgConn *pc, const LockPolicy *policy, LockedBody body, void *arg,
			 LockStats *stats_out, PgpError *err)
{
	LockStats local;
	LockStats *stats = stats_out ? stats_out : &local;
	int attempt;
	static bool seeded;

	if (!seeded)
	{
		srand((unsigned) getpid() ^ (unsigned) clock_ms());
		seeded = true;
	}
	memset(stats, 0, sizeof(*stats));
	for (attempt = 1;; attempt++)
	{
		double end;

		stats->attempts = attempt;
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
			if (end - stats->attempt_started > stats->felt_ms)
			{
				stats->felt_ms = end - stats->attempt_started;
				stats->felt_queued_ms = stats->queued_ms;
				stats->felt_held_ms = stats->held_ms;
			}
			return true;
		}
		/* after the ROLLBACK: writers queued behind this attempt until now */
		end = clock_ms();
		stats->waited_ms += end - stats->attempt_started;
		if (end - stats->attempt_started > stats->felt_ms)
		{
			stats->felt_ms = end - stats->attempt_started;
			stats->felt_queued_ms = stats->felt_ms;
			stats->felt_held_ms = 0;
		}
		stats->queued_ms = end - stats->attempt_started;
		stats->held_ms = 0;
		if (!pgc_error_is_retryable_lock(err) || attempt >= policy->max_attempts)
		{
			if (pgc_error_is_retryable_lock(err))
			{
				err_set(err, EXIT_RUNTIME,
						"could not get the locks needed after %d attempts (lock_timeout %d ms)",
						attempt, policy->lock_timeout_ms);
				err->kind = ERR_KIND_LOCKS_NOT_GRANTED;
				err_detail(err,
						   "Other sessions held conflicting locks the whole time; nothing "
						   "was changed.");
				err_hint(err,
						 "Look for long-running transactions in pg_stat_activity, or retry "
						 "with a larger --lock-timeout or --retries.");
			}
			return false;
		}
		{
			int sleep = backoff_ms(policy, attempt);

			log_info("lock not granted (attempt %d of %d, %s); retrying in %d ms", attempt,
					 policy->max_attempts, err->message, sleep);
			err_clear(err);
			sleep_ms(sleep);
			stats->waited_ms += sleep;
		}
	}
}
