/* unit tests of core/throttle.c: go, slow down or pause between two batches, and why */
#include <stdlib.h>
#include <string.h>

#include "core/throttle.h"
#include "tap.h"

static const ThrottleReadings none = {-1, -1, -1, -1, -1};

static void
test_no_limits(void)
{
	ThrottleLimits lim = {0};
	ThrottleReadings rd = {60000, 1e9, 1e9, 1e9, 1e9};
	ThrottleDecision d;

	throttle_decide(&lim, &rd, 5000, 0, 1, &d);
	is_int(d.action, THROTTLE_GO, "no limits: go, whatever the readings");
	ok(d.reason == NULL, "no reason to go");
	throttle_decision_free(&d);
}

static void
test_lag(void)
{
	ThrottleLimits lim = {0};
	ThrottleReadings rd = none;
	ThrottleDecision d;

	lim.max_lag_ms = 5000;
	rd.lag_ms = 12000;
	throttle_decide(&lim, &rd, 100, 0, 0, &d);
	is_int(d.action, THROTTLE_PAUSE, "lag over --max-lag: pause");
	is_str(d.reason, "standby lag 12 s > 5 s", "the reason names both");
	is_int(d.wait_ms, THROTTLE_RECHECK_MS, "and looks again within the recheck interval");
	throttle_decision_free(&d);
	rd.lag_ms = 5000;
	throttle_decide(&lim, &rd, 100, 0, 0, &d);
	is_int(d.action, THROTTLE_GO, "lag equal to the limit: go");
	throttle_decision_free(&d);
	rd.lag_ms = -1;
	throttle_decide(&lim, &rd, 100, 0, 0, &d);
	is_int(d.action, THROTTLE_GO, "no standby (no reading): go");
	throttle_decision_free(&d);
}

static void
test_worst_wins(void)
{
	ThrottleLimits lim = {0};
	ThrottleReadings rd = none;
	ThrottleDecision d;

	lim.max_lag_ms = 1000;
	lim.max_wal_rate = 50.0 * 1024 * 1024;
	lim.max_xact_age_ms = 600000;
	lim.max_probe_ms = 20;
	rd.lag_ms = 1500;				  /* 1.5 x */
	rd.wal_rate = 200.0 * 1024 * 1024; /* 4 x */
	rd.xact_age_ms = 1200000;		  /* 2 x */
	rd.probe_ms = 30;				  /* 1.5 x */
	throttle_decide(&lim, &rd, 0, 0, 0, &d);
	is_int(d.action, THROTTLE_PAUSE, "several limits exceeded: pause");
	is_str(d.reason, "WAL rate 200.0 MB/s > 50.0 MB/s", "the most exceeded is the reason");
	throttle_decision_free(&d);
	rd.wal_rate = 1;
	throttle_decide(&lim, &rd, 0, 0, 0, &d);
	is_str(d.reason, "oldest transaction 20 min > 10 min", "then the oldest transaction");
	throttle_decision_free(&d);
	rd.xact_age_ms = 0;
	rd.lag_ms = 0;
	throttle_decide(&lim, &rd, 0, 0, 0, &d);
	is_str(d.reason, "probe 30 ms > 20 ms", "then the probe");
	throttle_decision_free(&d);
}

static void
test_rate(void)
{
	ThrottleLimits lim = {0};
	ThrottleDecision d;

	lim.rate = 1000;
	/* 500 rows at 1000 rows/s are due 500 ms after the batch started */
	throttle_decide(&lim, &none, 500, 10000, 10200, &d);
	is_int(d.action, THROTTLE_SLOW, "rows not due yet: slow down");
	is_int(d.wait_ms, 300, "for the rest of their time");
	is_str(d.reason, "--rate 1000 rows/s", "the reason is the rate");
	throttle_decision_free(&d);
	throttle_decide(&lim, &none, 500, 10000, 10600, &d);
	is_int(d.action, THROTTLE_GO, "a batch that took longer than its due time: go");
	throttle_decision_free(&d);
	lim.rate = 1;
	throttle_decide(&lim, &none, 500, 10000, 10600, &d);
	is_int(d.wait_ms, THROTTLE_RECHECK_MS, "a long wait is cut so that a changed rate is seen");
	throttle_decision_free(&d);
	lim.rate = 1000;
	lim.max_lag_ms = 10;
	{
		ThrottleReadings rd = none;

		rd.lag_ms = 20;
		throttle_decide(&lim, &rd, 500, 10000, 10200, &d);
		is_int(d.action, THROTTLE_PAUSE, "health comes before the rate");
		throttle_decision_free(&d);
	}
	lim.paused = true;
	throttle_decide(&lim, &none, 0, 0, 0, &d);
	is_int(d.action, THROTTLE_PAUSE, "an operator's pause pauses");
	ok(d.reason && strstr(d.reason, "operator"), "and says so: %s", d.reason);
	throttle_decision_free(&d);
}

static void
test_walrate(void)
{
	WalRate w;

	walrate_init(&w);
	ok(walrate_sample(&w, 0, 1000) < 0, "one sample: no rate yet");
	ok(walrate_sample(&w, 500, 2000) < 0, "half a window: still none");
	is_int((long long) walrate_sample(&w, 2000, 1000 + 4 * 1024 * 1024), 2 * 1024 * 1024,
		   "4 MB in 2 s: 2 MB/s");
	is_int((long long) walrate_sample(&w, 2100, 1ULL << 40), 2 * 1024 * 1024,
		   "inside the next window the last rate stays");
	ok(walrate_sample(&w, 3500, 5) < 0, "an LSN going back restarts the window");
}

static void
test_lagclock(void)
{
	LagClock c;
	int i;

	lagclock_init(&c);
	is_int((long long) lagclock_lag_ms(&c, 0, 5000), 0, "no samples: no lag");
	lagclock_sample(&c, 1000, 100);
	lagclock_sample(&c, 2000, 200);
	lagclock_sample(&c, 2500, 200);
	lagclock_sample(&c, 3000, 300);
	is_int((long long) lagclock_lag_ms(&c, 300, 9000), 0, "replayed everything: caught up");
	is_int((long long) lagclock_lag_ms(&c, 150, 9000), 7000,
		   "stuck before the WAL of t=2000: 7 s behind at t=9000");
	is_int((long long) lagclock_lag_ms(&c, 50, 9000), 8000, "stuck before all of it: 8 s");
	for (i = 0; i < 1000; i++)
		lagclock_sample(&c, 10000 + i, 1000 + i);
	ok(c.n <= LAGCLOCK_SAMPLES, "the samples stay bounded (%d)", c.n);
	is_int((long long) lagclock_lag_ms(&c, 50, 20000), 19000, "and keep the oldest one");
	lagclock_sample(&c, 30000, 10);
	is_int((long long) lagclock_lag_ms(&c, 5, 31000), 1000, "an LSN going back restarts");
}

static void
test_parsing(void)
{
	uint64_t lsn;
	double r;
	char *s, *f, *why = NULL;

	ok(lsn_parse("16/B374D848", &lsn) && lsn == ((uint64_t) 0x16 << 32 | 0xB374D848),
	   "lsn 16/B374D848");
	ok(!lsn_parse("16B374D848", &lsn), "lsn without / rejected");
	ok(!lsn_parse("", &lsn) && !lsn_parse(NULL, &lsn), "empty lsn rejected");
	ok(byterate_parse("50MB/s", &r) && r == 50.0 * 1024 * 1024, "50MB/s");
	ok(byterate_parse("512kB", &r) && r == 512.0 * 1024, "512kB");
	ok(byterate_parse("1000", &r) && r == 1000, "a bare number is bytes/s");
	ok(!byterate_parse("50 MB/s", &r), "a space is rejected");
	ok(!byterate_parse("0MB/s", &r), "zero rejected");
	ok(!byterate_parse("-5MB/s", &r), "negative rejected");
	ok(!byterate_parse("5TB/s", &r), "unknown unit rejected");
	ok(probe_name_parse("ops.write_latency_ms", &s, &f, &why), "schema.function accepted");
	is_str(s, "ops", "schema");
	is_str(f, "write_latency_ms", "function");
	free(s);
	free(f);
	ok(probe_name_parse("\"Ops\".\"Lat\"\"ency\"()", &s, &f, &why), "quoted names and () accepted");
	is_str(s, "Ops", "quoted schema as written");
	is_str(f, "Lat\"ency", "quoted function as written");
	free(s);
	free(f);
	ok(probe_name_parse("OPS.Lat", &s, &f, &why) && strcmp(s, "ops") == 0 && strcmp(f, "lat") == 0,
	   "unquoted names fold to lower case");
	free(s);
	free(f);
	ok(!probe_name_parse("latency", &s, &f, &why) && why, "no schema rejected");
	free(why);
	why = NULL;
	ok(!probe_name_parse("ops.f(); DROP TABLE t", &s, &f, &why) && why && s == NULL,
	   "SQL after the name rejected");
	free(why);
	why = NULL;
	ok(!probe_name_parse("1; select 1", &s, &f, &why) && why && strstr(why, "not a function name"),
	   "junk rejected, said as a function name: %s", why ? why : "");
	free(why);
}

static void
test_format(void)
{
	char *a = throttle_format_ms(850), *b = throttle_format_ms(12345), *c = throttle_format_ms(600000),
		 *d = throttle_format_rate(50.0 * 1024 * 1024);

	is_str(a, "850 ms", "850 ms");
	is_str(b, "12 s", "12 s");
	is_str(c, "10 min", "10 min");
	is_str(d, "50.0 MB/s", "50 MB/s");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* the command line's limits as a throttle enforces them */
static void
test_health_args(void)
{
	HealthArgs nothing = {0, 0, 0, 0, NULL}, probe_only = {0, 0, 0, 0, "ops.f"};
	HealthArgs all = {5000, 1024.0 * 1024, 600000, 20, "ops.f"};
	ThrottleLimits l = health_args_limits(&all, 250);

	ok(!health_args_given(&nothing), "no limit given");
	ok(!health_args_given(&probe_only), "a probe without --max-probe limits nothing");
	ok(health_args_given(&all), "limits given");
	ok(l.rate == 250 && l.max_lag_ms == 5000 && l.max_wal_rate == 1024.0 * 1024 &&
		   l.max_xact_age_ms == 600000 && l.max_probe_ms == 20 && !l.paused,
	   "each limit lands in its field, the rate too, not paused");
}

int
main(void)
{
	test_health_args();
	test_no_limits();
	test_lag();
	test_worst_wins();
	test_rate();
	test_walrate();
	test_lagclock();
	test_parsing();
	test_format();
	return done_testing();
}
