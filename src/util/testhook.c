/*
 * testhook.c - the pause of test builds (testhook.h).
 */
#include "util/testhook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

void
testhook_pause(const char *env, const char *step)
{
	const char *value = getenv(env);
	size_t n = strlen(step);

	if (value == NULL || strncmp(value, step, n) != 0 || value[n] != ':')
		return;
	fprintf(stderr, "pgpart: test hook: paused at %s\n", step);
	fflush(stderr);
	sleep_ms((int64_t) atoi(value + n + 1) * 1000);
}
