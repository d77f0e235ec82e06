/*
 * scheduler.h - "pgpart run": maintain every managed table on a schedule.
 *
 * Several instances (hosts) may run at once for high availability; only the
 * one holding the leader lock (an EXCLUSIVE lock on pgpart.scheduler_leader,
 * in a transaction kept open on a connection of its own: see scheduler.c)
 * acts.  The server releases that lock when the session ends (the process
 * died, was killed, or its host vanished and TCP keepalive noticed), and a
 * follower, polling with LOCK ... NOWAIT, takes over.  The leader checks its
 * lock connection before every step and stops acting at once when it is
 * gone.  When something that is not a pgpart instance holds the lock, it is
 * named in the log, and a --once run fails.
 *
 * Against a hot standby (pg_is_in_recovery()) an instance does not even try
 * the lock (LOCK TABLE in EXCLUSIVE mode is refused in recovery): it idles,
 * says so once in the log and in pgpart_scheduler_standby, and asks again
 * as often as a follower polls, so that after a promotion it leads within one
 * interval.  The same unit can thus run on every node; only the primary's
 * acts.
 *
 * Each cycle, for every managed table: maintain (premake, default partition,
 * rollups, tier policy), then VACUUM and ANALYZE of the
 * partitions that need it (--only-needed), over a few connections.
 */
#ifndef PGPART_COMMANDS_SCHEDULER_H
#define PGPART_COMMANDS_SCHEDULER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "pg/conn.h"
#include "pg/lock.h"

/* what a metrics scrape may read while the scheduler runs (other thread) */
typedef struct SchedulerStatus
{
	pthread_mutex_t mutex;
	bool leader;
	bool standby; /* the server is a standby: this instance idles until a promotion */
	long cycles;	   /* completed by this process as leader */
	double last_cycle_end; /* Unix time; 0: none yet */
	double last_cycle_seconds;
	bool last_cycle_ok;
	long failed_steps; /* over this process' life */
} SchedulerStatus;

void schedulerstatus_init(SchedulerStatus *s);
void schedulerstatus_destroy(SchedulerStatus *s);

/* one action, for the log: one line each */
typedef struct SchedulerEvent
{
	const char *action; /* leader, follower, maintain, vacuum, analyze, cycle, reload, stop, ... */
	const char *table;	/* schema.name, or NULL */
	const char *result; /* ok, failed, skipped, info */
	double ms;			/* < 0: not timed */
	const char *detail; /* or NULL */
} SchedulerEvent;

typedef struct SchedulerOptions
{
	const char *conninfo;
	int64_t every_ms;
	bool once;
	int jobs;		   /* connections for vacuum/analyze */
	bool maintenance;  /* vacuum/analyze --only-needed after maintain */
	LockPolicy lock;
	int vacuum_lock_timeout_ms; /* vacuum/analyze's (LOCK_TIMEOUT_WEAK_MS); 0: lock's */
	int64_t poll_ms;   /* how often a follower tries to take over */
	volatile sig_atomic_t *stop;   /* SIGTERM/SIGINT: finish or cancel the step, return */
	volatile sig_atomic_t *reload; /* SIGHUP */
	void (*log)(void *arg, const SchedulerEvent *ev);
	void *log_arg;
	SchedulerStatus *status; /* may be NULL */
} SchedulerOptions;

/*
 * Runs until *stop (true: a clean stop) or, with once, after one cycle (true
 * when every step succeeded, or when another pgpart instance is the leader,
 * or the server is a standby; false when the lock is held by anything else).
 * false with err: it could not start (the server unreachable at the start of
 * a --once run, pgpart not initialised) or a step failed in a --once run.
 */
bool ops_scheduler_run(const SchedulerOptions *opt, PgpError *err);

#endif
