/*
 * reshape.h - "pgpart split" and "pgpart merge": partitions of a managed
 * table replaced online by partitions of another interval (a quarter by its
 * months, twelve months by their year), while the application reads and
 * writes them.  The design is in reshape_sql.h; the steps, each its own
 * transaction and recorded in pgpart.reshape_job, are:
 *
 *   prepare  the new partitions (empty, under pgpart's shadow table, with
 *            the old one's indexes, settings and tablespace) and the mirror
 *            triggers on the old ones; one short lock of each old partition
 *   copy     its rows in key order, batch by batch, each checked by count
 *            and checksum; writes meanwhile are mirrored, never lost
 *   verify   count and checksum of every old partition against the rows of
 *            its range in the new ones, in one snapshot
 *   swap     one short transaction under lock_timeout, retried with backoff:
 *            the old partitions detached, the new ones attached, rollups'
 *            triggers and coverage carried over
 *   drop     the old partitions (after the swap, verified; kept with --keep-old)
 *
 * Running the same command again continues an interrupted one from its
 * step; --abort undoes one before its swap.
 */
#ifndef PGPART_COMMANDS_RESHAPE_H
#define PGPART_COMMANDS_RESHAPE_H

#include "core/calendar.h"
#include "core/throttle.h"
#include "pg/lock.h"
#include "util/namelist.h"

typedef struct ReshapeOptions
{
	const char *table;
	bool merge;			   /* merge; else split */
	NameList partitions;   /* as given */
	bool has_unit;		   /* split: required; merge: checked, else the shortest that fits */
	CalUnit unit;
	int batch_rows;		   /* the most rows one copy batch locks */
	int batch_time_ms;	   /* how long a batch may hold its rows locked (0: always batch_rows) */
	bool keep_old;		   /* keep the old partitions, detached */
	bool abort;			   /* undo the split or merge in progress (before its swap) */
	bool show_progress;	   /* a progress bar (stdout is a terminal, not --json) */
	double rate;		   /* rows per second at most (0: no limit) */
	HealthArgs health;	   /* pause the copy while the server is unwell */
	LockPolicy lock;
} ReshapeOptions;

typedef struct ReshapeResult
{
	char *schema; /* the table */
	char *name;
	char *kind;
	NameList sources; /* "name [lo, hi)" */
	NameList targets;
	char *interval;
	char *phase; /* where it ended: done, swapped (--keep-old), aborted, or planned (--dry-run) */
	bool resumed;
	long long rows_copied; /* by this run's batches */
	long long batches;
	int batch_smallest, batch_largest; /* rows of the smallest and largest batch */
	int batches_over_budget;		   /* batches that held their rows longer than --batch-time */
	double copy_ms;
	long long rows_verified;
	LockFelt felt;		 /* the worst locking transaction (the swap, usually) */
	double swap_held_ms; /* the swap's hold of the parent's lock */
	NameList notes;
	char *throttle; /* the copy's pauses, or NULL when none */
} ReshapeResult;

void reshaperesult_free(ReshapeResult *r);
bool ops_reshape(PgConn *pc, const ReshapeOptions *opt, ReshapeResult *res, PgpError *err);

#endif
