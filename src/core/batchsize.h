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
	/* batches after which even the smallest size looked too slow for the
	 * budget: the budget is about the fixed cost of a batch */
	int starved;
	double fastest_ms; /* the fastest batch, and its size */
	int fastest_ms_rows;
} BatchSizer;

/*
 * budget_ms <= 0 turns the sizing off: every batch is cap rows, as before
 * --batch-time existed.
 */
void batchsizer_init(BatchSizer *s, double budget_ms, int cap);

/* a batch of rows rows (as many as it found, <= what was asked) took ms */
void batchsizer_observe(BatchSizer *s, int rows, double ms);

/*
 * Most batches were held at the smallest size because even that looked too
 * slow: the budget is close to what a batch costs before it copies a row, and
 * the copy crawls (seen: 200k rows in 75 s at --batch-time 5ms, 1.7 s at 50ms).
 */
bool batchsizer_starved(const BatchSizer *s);

/* what to tell the user when starved (caller frees) */
char *batchsizer_starved_text(const BatchSizer *s);

#endif
