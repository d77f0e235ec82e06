/*
 * throttle.h - when a long copy (migrate backfill, the default partition's
 * drain, a tier move, a restore) may run its next batch: the limits an
 * operator gave, the readings of the server's health, and the decision (go,
 * slow down, pause) with how long and why.  Pure: the readings come from pg/health.c, the clock from the caller.
 */
#ifndef PGPART_CORE_THROTTLE_H
#define PGPART_CORE_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

/* 0 (or less) in a field: no such limit */
typedef struct ThrottleLimits
{
	double rate;		  /* rows per second */
	double max_lag_ms;	  /* standby replay lag */
	double max_wal_rate;  /* WAL bytes per second, the whole server's */
	double max_xact_age_ms; /* age of the oldest open transaction */
	double max_probe_ms;  /* what the operator's probe function returns */
	bool paused;		  /* an operator's "migrate limits --pause" */
} ThrottleLimits;

/*
 * The health limits as a command line gives them (--max-lag, --max-wal-rate,
 * --max-xact-age, --probe with --max-probe); 0 or NULL: not watched.  Every
 * command that copies or moves many rows takes the same options.
 */
typedef struct HealthArgs
{
	int max_lag_ms;
	double max_wal_rate;
	int64_t max_xact_age_ms;
	int64_t max_probe_ms;
	const char *probe;
} HealthArgs;

/* whether any limit is given (a probe alone only reads) */
bool health_args_given(const HealthArgs *h);
/* as the limits a throttle enforces, with rate rows per second (0: none) */
ThrottleLimits health_args_limits(const HealthArgs *h, double rate);

/* a negative field: not measured (no standby, no probe, no window yet) */
typedef struct ThrottleReadings
{
	double lag_ms;
	double lag_bytes;
	double wal_rate;	 /* bytes per second */
	double xact_age_ms;
	double probe_ms;
} ThrottleReadings;

typedef enum ThrottleAction
{
	THROTTLE_GO,
	THROTTLE_SLOW,	/* --rate: the rows of the last batch are not due yet */
	THROTTLE_PAUSE, /* a health limit is exceeded: wait and look again */
} ThrottleAction;

typedef struct ThrottleDecision
{
	ThrottleAction action;
	int64_t wait_ms; /* before looking again; 0 for GO */
	char *reason;	 /* malloc'd, NULL for GO: "standby lag 12 s > 5 s" */
} ThrottleDecision;

/* the longest single wait, so that changed limits and recovered health are seen soon */
#define THROTTLE_RECHECK_MS 1000

/*
 * The decision for the next batch at now_ms.  rows and since_ms: the rows
 * the last batch copied and when it started (the rate's cost runs from
 * there, so a lowered or raised --rate applies to the batch already done).
 * Health limits come first: the most exceeded is the reason.
 */
void throttle_decide(const ThrottleLimits *lim, const ThrottleReadings *rd, int64_t rows,
					 double since_ms, double now_ms, ThrottleDecision *out);
void throttle_decision_free(ThrottleDecision *d);

/*
 * WAL generation rate from pg_current_wal_lsn() samples: a window of at
 * least THROTTLE_WAL_WINDOW_MS, so that one batch's burst is not the rate.
 */
#define THROTTLE_WAL_WINDOW_MS 1000
typedef struct WalRate
{
	bool have;		 /* a first sample was taken */
	double t_ms;	 /* the window's start */
	uint64_t lsn;
	double rate;	 /* bytes/s over the last full window; < 0 none yet */
} WalRate;

void walrate_init(WalRate *w);
/* the rate after this sample (< 0 while the first window is not full) */
double walrate_sample(WalRate *w, double now_ms, uint64_t lsn);

/*
 * Standby lag seen from the primary: pg_stat_replication.replay_lag is
 * NULL while replay is stuck after an idle spell (the walsender clears it
 * when the standby caught up, and measures it again only when replay
 * passes a new sample).  So pgpart keeps its own samples of (time, current
 * LSN): WAL beyond the standby's replay LSN existed at the time of the first
 * sample past it, so the standby is at least that long behind.
 */
#define LAGCLOCK_SAMPLES 64
typedef struct LagClock
{
	int n;
	double t_ms[LAGCLOCK_SAMPLES];
	uint64_t lsn[LAGCLOCK_SAMPLES];
} LagClock;

void lagclock_init(LagClock *c);
/* a sample of pg_current_wal_lsn() at now_ms (a smaller LSN than the last restarts) */
void lagclock_sample(LagClock *c, double now_ms, uint64_t lsn);
/* how long a standby that replayed up to replay_lsn is behind at now_ms (0: caught up) */
double lagclock_lag_ms(const LagClock *c, uint64_t replay_lsn, double now_ms);

/* "16/B374D848" as pg_lsn prints it; false on anything else */
bool lsn_parse(const char *text, uint64_t *lsn);

/*
 * A rate of bytes per second as users type it: "50MB/s", "512kB/s", "1GB/s"
 * or a bare number of bytes per second ("/s" optional; units of 1024, as
 * PostgreSQL's memory settings take them).
 */
bool byterate_parse(const char *text, double *bytes_per_s);

/*
 * The probe's name, "schema.function" (each part folded or "quoted" as SQL
 * does); the schema is required, so search_path never decides which
 * function runs.  false with a malloc'd *why.
 */
bool probe_name_parse(const char *text, char **schema, char **name, char **why);

/* "12 s", "850 ms", "3.2 min" for the reasons; malloc'd */
char *throttle_format_ms(double ms);
/* "48 MB/s", "900 kB/s"; malloc'd */
char *throttle_format_rate(double bytes_per_s);

#endif
