/*
 * batchsize.h - the size of the next backfill batch, from how long the last
 * ones took: each locking transaction should last about a time budget, so a
 * writer that waits for a batch's row locks never waits much longer than it.
 * Pure arithmetic (no clock, no I/O): the caller measures and reports.
 */
#ifndef PGPART_CORE_BATCHSIZE_H
#define PGPART_CORE_BATCHSIZE_H

#include <stdbool.h>

/* the first batch: small, as nothing is known yet about this table's rows */
#define BATCHSIZE_FIRST 100
/* the smallest batch: below it the per-transaction overhead dominates */
#define BATCHSIZE_MIN 10

typedef struct BatchSizer
{
	double budget_ms; /* target duration of one batch transaction */
	int min, cap;	  /* the size stays within [min, cap] */
	int next;		  /* rows the next batch locks */
	double ms_per_row; /* smoothed cost of one row; < 0: nothing measured yet */

	/* what was observed, for the report */
	int batches;
	long long rows;
	double total_ms, max_ms;
	int max_ms_rows;	   /* the size of the slowest batch */
	int over_budget;	   /* batches that took longer than the budget */
	int smallest, largest; /* rows of the smallest and largest batch */
} BatchSizer;

/*
 * budget_ms <= 0 turns the sizing off: every batch is cap rows, as before
 * --batch-time existed.
 */
void batchsizer_init(BatchSizer *s, double budget_ms, int cap);

/* a batch of rows rows (as many as it found, <= what was asked) took ms */
void batchsizer_observe(BatchSizer *s, int rows, double ms);

#endif
