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
 * behind it, so a writer's worst wait is queue time + hold time + the time
 * the writers that waited still took after the COMMIT (lock_after.h), and a
 * failed attempt that queued until lock_timeout made writers wait that long
 * too.
 *
 * A caller that names the relations its transaction will lock, the mode it
 * needs on each and how far its statements reach from there (partitions,
 * TOAST tables, indexes: LockScope) (lock_run_txn_on), gets one more guard:
 * before each attempt pg_locks and pg_stat_activity are read for a session
 * that holds, or is already queued for, a conflicting lock on one of them and
 * will not let go soon: it is autovacuum or a prepared transaction, its lock
 * is one no SELECT/INSERT/UPDATE/DELETE takes (SHARE UPDATE EXCLUSIVE or
 * stronger: VACUUM, DDL, an explicit LOCK TABLE), or its transaction has
 * been open for half of lock_timeout or longer (lock_long_xact_ms; idle in
 * it or not: an application's transaction between two of its statements is
 * idle in transaction for a moment, and is not a long holder).  Then the
 * attempt is skipped, not sent: nothing queues behind pgpart, so writers
 * wait nothing for it.  A holder that appears between the look and the
 * request is still bounded by lock_timeout.
 *
 * After an attempt that was sent and not granted, the next one waits at
 * least twice as long as that one queued (lock_backoff_after): under a fixed
 * arrival rate the writers it held back form a backlog, which must drain
 * before the next attempt queues them again, or the stalls add up.
 */
#ifndef PGPART_PG_LOCK_H
#define PGPART_PG_LOCK_H

#include <jansson.h>
#include <stdbool.h>

#include "core/lockmode.h"
#include "pg/catalog.h"
#include "pg/conn.h"

typedef struct LockPolicy
{
	int lock_timeout_ms; /* how long one attempt may wait for a lock */
	int max_attempts;	 /* 1 = no retry */
	int backoff_initial_ms;
	int backoff_max_ms;
} LockPolicy;

/*
 * 50 ms per attempt, 30 attempts, sleeps of 100 ms doubling up to 2 s with
 * full jitter (each 50-100 % of its nominal value, and at least twice the
 * time the attempt before queued): if every attempt failed, pgpart gives up
 * after about 25 to 50 s of sleeping plus at most 1.5 s spent queued, and
 * writers never wait behind a failed attempt for more than 50 ms at a time.
 * 50 ms, not more: a writer that arrives while an attempt queues waits the
 * queue time and then the hold time of the swap (15-70 ms measured by
 * bench/migrate on 2 cores), and issue 21 asks for under 150 ms in all.
 */
#define LOCK_POLICY_DEFAULT {50, 30, 100, 2000}

/*
 * VACUUM, ANALYZE and REINDEX CONCURRENTLY take SHARE UPDATE EXCLUSIVE, which
 * writers do not queue behind, and they are not retried: a short lock_timeout
 * would only make them fail (behind autovacuum, which yields to a waiter
 * after deadlock_timeout, 1 s by default).  They keep this one unless
 * --lock-timeout is given.
 */
#define LOCK_TIMEOUT_WEAK_MS 1000

/*
 * Which relations a statement locks besides the one it names, so that the
 * look covers them all (a conflicting lock on a partition makes LOCK TABLE
 * of the parent wait exactly as one on the parent does)
 */
typedef enum LockScope
{
	LOCK_SCOPE_RELATION = 0, /* the relation alone (LOCK TABLE ONLY, ATTACH, DETACH) */
	LOCK_SCOPE_TREE,		 /* and its inheritance descendants (LOCK TABLE, ALTER TABLE) */
	LOCK_SCOPE_DROP			 /* and their TOAST tables and indexes (DROP TABLE) */
} LockScope;

/* a relation the locked transaction will lock, the strongest mode it takes there, and how far */
typedef struct LockTarget
{
	RelOid rel;
	LockMode mode;
	LockScope scope; /* 0 (LOCK_SCOPE_RELATION) unless given */
} LockTarget;

/*
 * The session that made an attempt skip.  The sizes are the server's own
 * limits (NAMEDATALEN, a prepared transaction's GID of at most 200 bytes);
 * longer text (a relation name with its schema) is cut, it is only shown.
 */
typedef struct LockHolder
{
	bool seen;	   /* false: no attempt was skipped */
	int pid;	   /* 0: a prepared transaction */
	bool granted;  /* false: queued ahead of pgpart for a conflicting lock */
	char who[224]; /* application_name, else backend_type; or "prepared transaction 'gid'" */
	char state[40];		 /* pg_stat_activity.state ("" when not visible) */
	char since[48];		 /* its transaction's start (xact_start, or prepared) */
	char mode[32];		 /* as pg_locks names it, e.g. ShareUpdateExclusiveLock */
	char relation[160];	 /* the relation, as regclass prints it */
} LockHolder;

/* "pid N (who, state, transaction open since T) holds MODE on REL" into buf */
const char *lock_holder_text(const LockHolder *h, char *buf, size_t size);
#define LOCK_HOLDER_TEXT_SIZE 600

/*
 * "Request sent" is, conservatively, the attempt's start (its BEGIN): the
 * body's first lock request follows within a round trip or two, so the
 * figures can only overstate what writers felt, never understate it.
 */
typedef struct LockStats
{
	int attempts; /* skipped ones included */
	int skipped;  /* attempts not sent because a conflicting holder was seen */
	LockHolder holder; /* the last one seen */
	double queued_ms; /* last attempt: request sent -> locks granted */
	double held_ms;	  /* from the first lock granted to COMMIT, last attempt */
	/*
	 * W: every attempt sent, request sent -> COMMIT or ROLLBACK done, added
	 * up (backoff sleeps and skipped attempts excluded: nothing queues behind
	 * a pgpart that holds and requests no lock).  Added up, not the worst
	 * one, because the writers' backlog from one attempt may not have
	 * drained when the next one queues (bench/migrate measured it).
	 */
	double felt_ms;
	double felt_queued_ms; /* of W: the queue times (a failed attempt only queued) */
	double felt_held_ms;   /* of W: the committed attempt's hold time */
	/*
	 * of W: from the COMMIT until the last transaction that was waiting for
	 * one of its locks when it committed had ended (A).  A DDL change makes
	 * every backend that touches the table rebuild its cached catalog
	 * entries and plans: bench/migrate measured the writers that waited for
	 * a switch ending 15-25 ms after its COMMIT, which Q + H left out.
	 * (lock_after.h says how it is measured.)
	 */
	double after_ms;
	int after_waiters; /* how many transactions were waiting at the COMMIT */
	bool after_capped; /* some were still open LOCK_AFTER_MAX_MS after it */
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
	double writers_wait_ms; /* W of the worst transaction (its attempts added up) */
	double queued_ms;		/* Q of that transaction (all its attempts) */
	double held_ms;			/* H of its committed attempt */
	double after_ms;		/* A of it (LockStats.after_ms) */
	int after_waiters;
	bool after_capped;
	int skipped_attempts;	/* all transactions' skipped attempts */
	LockHolder holder;		/* the last holder that made one skip */
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
/*
 * "writers could have waited up to W ms (queued Q ms + held H ms)", with
 * " + A ms after the COMMIT, until ..." when some writers were followed
 * after it, into buf
 */
const char *lock_felt_text(const LockFelt *f, char *buf, size_t size);
#define LOCK_FELT_TEXT_SIZE 320

/*
 * writers_wait_ms, lock_queued_ms, lock_after_ms, lock_waiters (and
 * lock_after_capped when it was), skipped_attempts and, when one was
 * skipped, lock_holder {pid, who, state, xact_start, mode, granted, relation}
 * into the JSON object o; lock_held_ms is the caller's, because some commands
 * report a hold other than the worst transaction's
 */
void lock_felt_json(json_t *o, const LockFelt *f);

typedef bool (*LockedBody)(PgConn *pc, void *arg, LockStats *stats, PgpError *err);

/*
 * Runs body between BEGIN and COMMIT with SET LOCAL lock_timeout, retrying
 * the whole transaction on lock timeout, deadlock or serialization failure.
 * The body must be safe to run again from the start (it is: the failed
 * attempt was rolled back).  stats may be NULL.
 */
bool lock_run_txn(PgConn *pc, const LockPolicy *policy, LockedBody body, void *arg,
				  LockStats *stats, PgpError *err);

/*
 * lock_run_txn with the look before each attempt described at the top:
 * targets[0..ntargets-1] are the relations body will lock and the mode it
 * needs on each (the strongest it takes there).  Skipped attempts count
 * against policy->max_attempts; when they run out after a skip, the error
 * names the last holder seen.
 */
bool lock_run_txn_on(PgConn *pc, const LockPolicy *policy, const LockTarget *targets,
					 int ntargets, LockedBody body, void *arg, LockStats *stats, PgpError *err);

/*
 * The look before an attempt, for a caller with its own retry loop (a
 * statement that cannot run in a transaction): h->seen says whether a long
 * conflicting holder is there.  Never one in --dry-run or for n 0.
 */
bool lock_find_long_holder(PgConn *pc, const LockPolicy *policy, const LockTarget *targets, int n,
						   LockHolder *h, PgpError *err);
/* the sleep before attempt + 1, in ms: exponential with full jitter */
int lock_backoff_ms(const LockPolicy *policy, int attempt);
/*
 * the same after an attempt that queued queued_ms and was not granted (0: it
 * was skipped): at least twice that, so that the writers' backlog drains
 */
int lock_backoff_after(const LockPolicy *policy, int attempt, double queued_ms);
/* how long a transaction must have been open to count as a long holder: lock_timeout / 2 */
int lock_long_xact_ms(const LockPolicy *policy);
/*
 * The error when the attempts ran out (kind ERR_KIND_LOCKS_NOT_GRANTED),
 * naming h when an attempt was skipped because of it (h NULL or not seen: none)
 */
void lock_error_not_granted(PgpError *err, const LockPolicy *policy, int attempts, int skipped,
							const LockHolder *h);

/* the body calls this once its strong locks are granted */
void lock_txn_mark_locked(LockStats *stats);

#endif
