/*
 * lock.h - short transactions that take strong locks without ever queueing
 * the application behind them for long.
 *
 * A DDL statement waiting for an ACCESS EXCLUSIVE lock makes every later query
 * on that table wait behind it, so pgpart never waits without lock_timeout:
 * when the lock is not granted in time the transaction rolls back, sleeps with
 * exponential backoff and jitter, and tries again.  Deadlocks are retried the
 * same way.  The caller learns how often it tried and how long the locks were
 * held, which is what the application felt.
 */
#ifndef PGPART_PG_LOCK_H
#define PGPART_PG_LOCK_H

#include <stdbool.h>

#include "pg/conn.h"

typedef struct LockPolicy
{
	int lock_timeout_ms; /* how long one attempt may wait for a lock */
	int max_attempts;	 /* 1 = no retry */
	int backoff_initial_ms;
	int backoff_max_ms;
} LockPolicy;

#define LOCK_POLICY_DEFAULT {1000, 10, 200, 10000}

typedef struct LockStats
{
	int attempts;
	double held_ms;	  /* from the first lock granted to COMMIT, last attempt */
	double waited_ms; /* lock waits and backoff sleeps, all attempts */
	double attempt_started;
	double locked_at; /* set by lock_txn_mark_locked() */
} LockStats;

typedef bool (*LockedBody)(PgConn *pc, void *arg, LockStats *stats, PgpError *err);

/*
 * Runs body between BEGIN and COMMIT with SET LOCAL lock_timeout, retrying
 * the whole transaction on lock timeout, deadlock or serialization failure.
 * The body must be safe to run again from the start (it is: the failed
 * attempt was rolled back).  stats may be NULL.
 */
bool lock_run_txn(PgConn *pc, const LockPolicy *policy, LockedBody body, void *arg,
				  LockStats *stats, PgpError *err);

/* the body calls this once its strong locks are granted */
void lock_txn_mark_locked(LockStats *stats);

/*
 * Session-level advisory lock on one managed table (its OID), so that two
 * pgpart runs (two hosts, a cron job and a person) never work on the same
 * table at once.  *got is false when another session holds it.
 */
bool lock_table_try(PgConn *pc, unsigned int table, bool *got, PgpError *err);
void lock_table_release(PgConn *pc, unsigned int table);

#endif
