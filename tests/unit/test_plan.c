/* unit tests of core/plan.c: which partitions a table should get */
#include <stdlib.h>

#include "core/plan.h"
#include "tap.h"

static CivilDate
d(int y, int m, int dd)
{
	CivilDate c = {y, m, dd};

	return c;
}

int
main(void)
{
	Period *p = NULL;
	int n, which;
	ExistingRange existing[3] = {
		{false, false, 100, 200},
		{false, false, 200, 300},
		{true, false, 0, 50}, /* MINVALUE .. 50 */
	};

	n = plan_periods(d(2024, 11, 15), d(2025, 8, 1), CAL_QUARTER, &p);
	is_int(n, 4, "2024-11-15 .. 2025-08-01 spans four quarters");
	is_str(p[0].suffix, "2024_q4", "first is 2024_q4");
	is_int(p[0].start.month, 10, "starts on the quarter's first day");
	is_str(p[3].suffix, "2025_q3", "last is 2025_q3");
	is_int(p[3].end.month, 10, "last ends 2025-10-01");
	is_int(cal_compare(p[1].start, p[0].end), 0, "periods are contiguous");
	free(p);

	n = plan_periods(d(2025, 3, 1), d(2025, 2, 1), CAL_MONTH, &p);
	is_int(n, 0, "an empty range gives no periods");
	free(p);

	n = plan_periods(d(2025, 1, 1), d(2025, 1, 1), CAL_DAY, &p);
	is_int(n, 1, "one day");
	is_str(p[0].suffix, "20250101", "day suffix");
	free(p);

	n = plan_periods(d(1900, 1, 1), d(2025, 1, 1), CAL_DAY, &p);
	is_int(n, -1, "refuses more than PLAN_MAX_PERIODS");
	ok(p == NULL, "and allocates nothing");

	is_int(plan_classify(100, 200, existing, 3, &which), SLOT_PRESENT, "exact match is present");
	is_int(which, 0, "matching range reported");
	is_int(plan_classify(300, 400, existing, 3, &which), SLOT_MISSING, "adjacent range is missing");
	is_int(which, -1, "missing has no range");
	is_int(plan_classify(150, 250, existing, 3, &which), SLOT_PRESENT,
		   "held whole by two partitions of another size: present");
	is_int(which, 0, "the first of them is named");
	is_int(plan_classify(150, 350, existing, 3, &which), SLOT_CONFLICT, "partly held is a conflict");
	is_int(plan_classify(120, 180, existing, 3, &which), SLOT_PRESENT, "inside a bigger partition: present");
	is_int(plan_classify(20, 40, existing, 3, &which), SLOT_PRESENT, "inside the unbounded range: present");
	is_int(plan_classify(60, 100, existing, 3, &which), SLOT_MISSING, "touching the next start is fine");
	is_int(plan_classify(40, 60, existing, 3, &which), SLOT_CONFLICT, "overlap with an unbounded range");
	is_int(which, 2, "the unbounded range is named");
	is_int(plan_classify(0, 1000, existing, 3, &which), SLOT_CONFLICT, "covering several with gaps is a conflict");
	{
		ExistingRange gap[2] = {{false, false, 100, 150}, {false, false, 160, 200}};

		is_int(plan_classify(100, 200, gap, 2, &which), SLOT_CONFLICT, "a gap between them: conflict");
	}
	is_int(plan_classify(500, 600, NULL, 0, &which), SLOT_MISSING, "no partitions at all");
	return done_testing();
}
