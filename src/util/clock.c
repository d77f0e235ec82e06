/*
 * clock.c - monotonic clock readings (CLOCK_MONOTONIC: unaffected by changes of
 * the wall clock) and sleeps for backoff.
 */
#include "util/clock.h"

#include <errno.h>
#include <time.h>

double
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	/* a signal (Ctrl-C) cuts the sleep short on purpose: the caller checks */
	nanosleep(&ts, &ts);
}
