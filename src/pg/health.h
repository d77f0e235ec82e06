/*
 * health.h - the server's health as a long copy sees it between two
 * batches (standby replay lag, WAL rate, the oldest open transaction, an
 * operator's probe), the limits in force (the command line's, overridden by
 * a row of pgpart.throttle_limit that "pgpart migrate limits" writes while
 * the copy runs), and the one call a copy makes between batches.
 *
 * Used by migrate backfill and the default partition's drain (open once,
 * throttle_between_batches after each batch, close at the end), and by
 * move and restore through health_wait, once before their one long
 * statement.
 */
#ifndef PGPART_PG_HEALTH_H
#define PGPART_PG_HEALTH_H

#include "core/throttle.h"
#include "pg/catalog.h"
#include "pg/conn.h"
#include "util/progress.h"

typedef struct Throttle
{
	ThrottleLimits given;  /* from the command line */
	ThrottleLimits limits; /* in force at the last look */
	char *relid;		   /* the table's OID, text: the key of pgpart.throttle_limit */
	char *label;		   /* "backfill of public.t", for the log lines */
	char *probe_sql;	   /* SELECT "s"."f"()::float8, or NULL */
	bool dry_run;
	bool recorded; /* a state was written, which close clears */
	/* optional, set by the caller: the bar that shows a pause, and its count */
	Progress *progress;
	const long long *progress_done;
	WalRate wal;
	LagClock lag;
	double batch_started_ms;
	double xact_read_ms;   /* when the oldest transaction was last read (0: never) */
	double xact_age_ms;	   /* what it was then (< 0: none open) */
	char *said;			   /* the reason last said (NULL: running) */
	double said_ms;
	int pauses;			   /* pauses for health or by an operator (not --rate) */
	double paused_ms;	   /* their time in all */
	double slowed_ms;	   /* time spent waiting for --rate */
	char *last_reason;	   /* the last pause's reason, for the report */
} Throttle;

/*
 * Checks what the limits need before the first batch: the probe exists,
 * takes no arguments and returns a number (it is called once); standbys'
 * positions are visible to this role when a lag limit is given.  A usage
 * error (exit 2) says what is wrong; nothing has been changed then.
 * relid: the OID (text) of the table the copy serves.
 */
bool throttle_open(Throttle *t, PgConn *pc, const char *relid, const char *label,
				   const ThrottleLimits *given, const char *probe, PgpError *err);
/*
 * Between two batches: reads the limits in force and the health, and
 * sleeps (in slices of at most a second, looking again each time) until
 * the next batch may run.  rows: what the batch just done copied.  Each
 * pause is logged with its reason ("paused: standby lag 12 s > 5 s") and
 * recorded in pgpart.throttle_limit.state.  False only when the server
 * cannot be read (the copy stops; it is resumable).
 */
bool throttle_between_batches(Throttle *t, PgConn *pc, int64_t rows, PgpError *err);
/*
 * throttle_open for the table rel with the command line's health limits and
 * rate (rows per second, 0: none); on failure nothing is left to close.
 */
bool throttle_open_for(Throttle *t, PgConn *pc, RelOid rel, const char *label,
					   const HealthArgs *h, double rate, PgpError *err);
/*
 * Right after throttle_open_for: watches until the readings mean something
 * (a standby behind for up to h's lag limit, one window of WAL), so that
 * the first throttle_between_batches can decide.
 */
bool throttle_settle(Throttle *t, PgConn *pc, const HealthArgs *h, PgpError *err);
/*
 * Before one long statement that cannot pause halfway (a tier move's copy,
 * a restore's load), named by step ("the copy"): waits until the limits of
 * h allow it, and when it waited, says how long in notes ("waited 12.0 s
 * for the server's health before the copy").  No limit given: returns at
 * once.
 */
bool health_wait(PgConn *pc, RelOid rel, const char *label, const HealthArgs *h, const char *step,
				 NameList *notes, PgpError *err);
/* "2 pauses, 12.1 s in all (last: standby lag 12 s > 5 s)"; malloc'd */
char *throttle_summary(const Throttle *t);
/* clears the recorded state (quietly: the copy's own outcome is what counts) */
void throttle_close(Throttle *t, PgConn *pc);

/*
 * pgpart.throttle_limit for "migrate limits": set the limits above 0 in set
 * (the others stay), paused 1/0 (-1: as it is); reset: every limit back to
 * the command line's; read: the row (PQclear it), no row when none was set.
 */
bool throttle_limit_set(PgConn *pc, const char *relid, const ThrottleLimits *set, int paused,
						PgpError *err);
bool throttle_limit_reset(PgConn *pc, const char *relid, PgpError *err);
/* columns: rate, max_lag_ms, max_wal_rate, max_xact_age_ms, max_probe_ms, paused, set_by, set_at, state, state_at */
PGresult *throttle_limit_read(PgConn *pc, const char *relid, PgpError *err);

/* the readings alone, for status displays */
bool health_read(Throttle *t, PgConn *pc, ThrottleReadings *rd, PgpError *err);

#endif
