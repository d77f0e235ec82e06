/* clock.h - monotonic time for measuring lock hold times, rates and backoff. */
#ifndef PGPART_UTIL_CLOCK_H
#define PGPART_UTIL_CLOCK_H

#include <stdint.h>

/* milliseconds from an arbitrary fixed point (CLOCK_MONOTONIC) */
double clock_ms(void);
void sleep_ms(int64_t ms);

#endif
