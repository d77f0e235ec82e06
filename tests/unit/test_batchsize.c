/* unit tests of core/batchsize.c: backfill batches sized to a time budget */
#include "core/batchsize.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* a table whose batches cost fixed_ms + per_row_ms per row; n batches */
static BatchSizer
run(double budget, int cap, double fixed_ms, double per_row_ms, int n)
{
	BatchSizer s;
	int i;

	batchsizer_init(&s, budget, cap);
	for (i = 0; i < n; i++)
		batchsizer_observe(&s, s.next, fixed_ms + per_row_ms * s.next);
	return s;
}

int
main(void)
{
	BatchSizer s;
	int before, i;

	/* starts small, under the cap */
	batchsizer_init(&s, 50, 5000);
	is_int(s.next, BATCHSIZE_FIRST, "first batch is small");
	batchsizer_init(&s, 50, 20);
	is_int(s.next, 20, "first batch never above the cap");
	batchsizer_init(&s, 0, 5000);
	is_int(s.next, 5000, "no budget: every batch is the cap");
	batchsizer_observe(&s, 5000, 900);
	is_int(s.next, 5000, "no budget: a slow batch changes nothing");

	/* grows toward the budget, at most doubling per batch */
	batchsizer_init(&s, 50, 1000000);
	batchsizer_observe(&s, 100, 1);
	is_int(s.next, 200, "a fast batch doubles the next one, no more");

	/* converges near the budget: 1 ms fixed + 0.01 ms/row -> about 4000 rows */
	s = run(50, 1000000, 1, 0.01, 30);
	ok(s.next > 3000 && s.next <= 4900, "settles under the budget (%d rows)", s.next);
	is_int(s.over_budget, 0, "a steady table never exceeds the budget");
	ok(s.max_ms <= 50, "slowest batch %.1f ms within 50 ms", s.max_ms);

	/* the cap bounds it */
	s = run(50, 500, 1, 0.001, 30);
	is_int(s.next, 500, "clamped to the cap");
	is_int(s.largest, 500, "largest batch is the cap");

	/* reacts at once to a slow batch: rows became 20 times dearer */
	s = run(50, 1000000, 1, 0.01, 30);
	before = s.next;
	batchsizer_observe(&s, before, 1 + 0.2 * before);
	ok(s.next <= before / 15, "one slow batch shrinks the next (%d -> %d)", before, s.next);
	ok(1 + 0.2 * s.next <= 50, "the next batch fits the budget at the new cost");
	is_int(s.over_budget, 1, "the slow batch is counted over budget");

	/* and grows back, bounded per batch, once rows are cheap again */
	before = s.next;
	batchsizer_observe(&s, before, 1 + 0.01 * before);
	ok(s.next <= before * 2, "recovers gradually (%d -> %d)", before, s.next);
	for (i = 0; i < 30; i++)
		batchsizer_observe(&s, s.next, 1 + 0.01 * s.next);
	ok(s.next > 3000, "back near the budget after recovery (%d)", s.next);

	/* a very slow table: never below the minimum */
	s = run(50, 1000000, 0, 100, 5);
	is_int(s.next, BATCHSIZE_MIN, "never below the minimum");
	batchsizer_init(&s, 50, 3);
	is_int(s.min, 3, "a cap below the minimum lowers the minimum");

	/* the end of the table: fewer rows than asked, and none */
	batchsizer_init(&s, 50, 5000);
	batchsizer_observe(&s, 7, 0.5);
	is_int(s.next, 14, "growth counts the rows found, not asked");
	batchsizer_observe(&s, 0, 10);
	is_int(s.batches, 1, "an empty batch is not counted");
	is_int(s.next, 14, "an empty batch changes nothing");

	/* a batch measured at 0 ms (clock resolution) does not overflow */
	batchsizer_init(&s, 50, 5000);
	batchsizer_observe(&s, 100, 0);
	is_int(s.next, 200, "0 ms: doubling, no division by zero");

	/* a budget about the fixed cost of a batch: starved, and said */
	s = run(5, 1000000, 4.5, 0.001, 40);
	is_int(s.next, BATCHSIZE_MIN, "a budget under the fixed cost keeps batches minimal");
	ok(batchsizer_starved(&s), "and is reported as starved (%d of %d)", s.starved, s.batches);
	ok(s.fastest_ms >= 4.5 && s.fastest_ms_rows >= BATCHSIZE_MIN, "fastest batch %.2f ms, %d rows",
	   s.fastest_ms, s.fastest_ms_rows);
	{
		char *t = batchsizer_starved_text(&s);

		ok(strstr(t, "--batch-time 5 ms") && strstr(t, "raise --batch-time"),
		   "the warning names the budget and what to do");
		free(t);
	}
	s = run(50, 1000000, 1, 0.01, 40);
	ok(!batchsizer_starved(&s), "a budget well above the fixed cost is not starved");
	s = run(5, 1000000, 4.5, 0.001, 5);
	ok(!batchsizer_starved(&s), "too few batches to say");
	s = run(0, 5000, 4.5, 0.001, 40);
	ok(!batchsizer_starved(&s), "no budget: never starved");
	s = run(50, 5, 100, 1, 40);
	ok(!batchsizer_starved(&s), "a cap under the minimum: the cap, not the budget, sizes them");
	/* many short batches (the last of each of many small sources) on a fast server */
	batchsizer_init(&s, 50, 5000);
	for (i = 0; i < 40; i++)
		batchsizer_observe(&s, i % 2 ? 3 : 200, i % 2 ? 0.3 : 4);
	ok(!batchsizer_starved(&s), "short last batches are not starvation (%d)", s.starved);
	is_int(s.fastest_ms_rows, 200, "the fastest is a batch of at least the smallest size");
	/* small batches are fast, but the server (or a writer on the rows) makes most slow */
	batchsizer_init(&s, 50, 5000);
	for (i = 0; i < 40; i++)
		batchsizer_observe(&s, s.next, i % 4 ? 400 : 2);
	ok(!batchsizer_starved(&s), "a busy server is not called a budget under the batch cost");

	/* the report's figures */
	batchsizer_init(&s, 50, 5000);
	batchsizer_observe(&s, 100, 10);
	batchsizer_observe(&s, 200, 60);
	batchsizer_observe(&s, 50, 5);
	is_int(s.batches, 3, "batches counted");
	is_int(s.rows, 350, "rows counted");
	ok(s.max_ms == 60 && s.max_ms_rows == 200, "slowest batch and its size");
	is_int(s.smallest, 50, "smallest batch");
	is_int(s.largest, 200, "largest batch");
	is_int(s.over_budget, 1, "batches over budget");
	return done_testing();
}
