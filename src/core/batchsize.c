/*
 * batchsize.c - adaptive backfill batch size (batchsize.h).
 *
 * A batch's time is roughly fixed overhead (round trips, bookkeeping) plus a
 * cost per row (lock, copy with index maintenance, compare).  Dividing the
 * measured time by the rows overstates the per-row cost of small batches, so
 * growing from a small start approaches the budget from below.
 */
#include "core/batchsize.h"

#include "util/mem.h"

/* growth per batch: a cheap first batch (cache hits) must not make the
 * second one enormous */
#define GROW_FACTOR 2.0
/* aim a little under the budget: batches vary, and the budget is a bound */
#define AIM 0.8
/* weight of the newest measurement in the smoothed per-row cost */
#define WEIGHT_NEW 0.5

static int
clamp(double v, int lo, int hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return (int) v;
}

void
batchsizer_init(BatchSizer *s, double budget_ms, int cap)
{
	s->budget_ms = budget_ms;
	s->cap = cap > 0 ? cap : 1;
	s->min = BATCHSIZE_MIN < s->cap ? BATCHSIZE_MIN : s->cap;
	s->next = budget_ms > 0 ? clamp(BATCHSIZE_FIRST, s->min, s->cap) : s->cap;
	s->ms_per_row = -1;
	s->batches = 0;
	s->rows = 0;
	s->total_ms = s->max_ms = 0;
	s->max_ms_rows = 0;
	s->over_budget = 0;
	s->smallest = s->largest = 0;
	s->starved = 0;
	s->fastest_ms = 0;
	s->fastest_ms_rows = 0;
}

static void
note(BatchSizer *s, int rows, double ms)
{
	s->batches++;
	s->rows += rows;
	s->total_ms += ms;
	if (ms > s->max_ms)
	{
		s->max_ms = ms;
		s->max_ms_rows = rows;
	}
	if (s->budget_ms > 0 && ms > s->budget_ms)
		s->over_budget++;
	if (s->smallest == 0 || rows < s->smallest)
		s->smallest = rows;
	if (rows > s->largest)
		s->largest = rows;
	/* a short last batch says nothing about the cost of a batch */
	if (rows >= s->min && (s->fastest_ms_rows == 0 || ms < s->fastest_ms))
	{
		s->fastest_ms = ms;
		s->fastest_ms_rows = rows;
	}
}

void
batchsizer_observe(BatchSizer *s, int rows, double ms)
{
	double per_row, want;

	if (rows <= 0)
		return;
	if (ms < 0)
		ms = 0;
	note(s, rows, ms);
	if (s->budget_ms <= 0)
		return;
	per_row = ms / rows;
	/*
	 * Over the budget: believe this batch alone, so the next one is small at
	 * once (a writer is perhaps waiting behind it, or the cache went cold).
	 * Under it: smooth, so one fast batch does not make the next one slow.
	 */
	if (s->ms_per_row < 0 || ms > s->budget_ms || per_row > s->ms_per_row)
		s->ms_per_row = per_row;
	else
		s->ms_per_row = WEIGHT_NEW * per_row + (1 - WEIGHT_NEW) * s->ms_per_row;
	want = s->ms_per_row > 0 ? s->budget_ms * AIM / s->ms_per_row : (double) s->cap;
	/* before the growth bound, which alone holds a short last batch's successor small */
	if (want < s->min && rows >= s->min && s->min < s->cap)
		s->starved++;
	/* growth is bounded relative to the batch just measured, shrinking is not */
	if (want > rows * GROW_FACTOR)
		want = rows * GROW_FACTOR;
	s->next = clamp(want, s->min, s->cap);
}

/* a few batches are how the sizer learns; then most must have been starved */
#define STARVED_AFTER 10
/*
 * and even the fastest batch took this share of the budget: otherwise small
 * batches can be fast, and what made the others slow was the server (or a
 * writer holding their rows), which the "too busy" warning says
 */
#define STARVED_FASTEST_SHARE 0.25

bool
batchsizer_starved(const BatchSizer *s)
{
	/* no batch of the smallest size yet: fastest_ms is 0, below any share */
	return s->budget_ms > 0 && s->batches >= STARVED_AFTER && s->starved * 2 > s->batches &&
		   s->fastest_ms >= STARVED_FASTEST_SHARE * s->budget_ms;
}

char *
batchsizer_starved_text(const BatchSizer *s)
{
	return pg_xasprintf("--batch-time %.0f ms is close to what a batch costs here with few rows "
						"(the fastest took %.1f ms for %d rows): most batches stayed at the "
						"smallest size, so the copy runs far below its speed; raise --batch-time "
						"(default 50ms)",
						s->budget_ms, s->fastest_ms, s->fastest_ms_rows);
}
