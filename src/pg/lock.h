/*
 * lock.h - short transactions that take strong locks without ever queueing
 * the application behind them for long.
 *
 * A DDL statement waiting for an ACCESS EXCLUSIVE lock makes every later query
 * on that table wait behind it, so pgpart never waits without lock_timeout:
 * when the lock is not granted in time the transaction rolls back, sleeps with
 * exponential backoff and jitter, and tries again.  Deadlocks are retried the
 * same way.  The caller learns how often it tried, how long the locks were
 * held, and what writers could have felt: while pgpart's request waits in the
 * lock queue, every later conflicting request (an application's INSERT) waits
 * behind it, so a writer's worst wait is queue time + hold time, and a failed
 * attempt that queued until lock_timeout made writers wait that long too.
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

/*
 * "Request sent" is, conservatively, the attempt's start (its BEGIN): the
 * body's first lock request follows within a round trip or two, so the
 * figures can only overstate what writers felt, never understate it.
 */
typedef struct LockStats
{
	int attempts;
	double queued_ms; /* last attempt: request sent -> locks granted */
	double held_ms;	  /* from the first lock granted to COMMIT, last attempt */
	double felt_ms;	  /* worst single attempt: request sent -> COMMIT or ROLLBACK done
					   * (backoff sleeps excluded: nothing queues behind a pgpart that
					   * holds and requests no lock) */
	double felt_queued_ms; /* the worst attempt's own queue and hold times: a failed */
	double felt_held_ms;   /* attempt only queued (its locks went with its ROLLBACK) */
	double waited_ms; /* lock waits and backoff sleeps, all attempts */
	double attempt_started;
	double locked_at; /* set by lock_txn_mark_locked() */
} LockStats;

/*
 * What writers could have felt from one operation that runs several locking
 * transactions (or statements): the worst one's W and its Q and H.
 */
typedef struct LockFelt
{
	double writers_wait_ms; /* W: the worst request -> end */
	double queued_ms;		/* Q of that transaction's worst attempt */
	double held_ms;			/* H of that attempt */
} LockFelt;

/* keeps the transaction of st in *worst when its W is the largest so far */
void lock_felt_note(LockFelt *worst, const LockStats *st);
/*
 * the same for one statement that takes its lock outside lock_run_txn:
 * started = when it was sent, ended = when it returned; its lock is queued
 * and held inside it, so it is counted as held (Q 0) unless granted_at says
 * when the lock was granted (0: unknown)
 */
void lock_felt_note_statement(LockFelt *worst, double started, double granted_at, double ended);
/* "writers could have waited up to W ms (queued Q ms + held H ms)" into buf */
const char *lock_felt_text(const LockFelt *f, char *buf, size_t size);
#define LOCK_FELT_TEXT_SIZE 96

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

#endif
