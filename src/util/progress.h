/*
 * progress.h - a one-line progress bar with rate and ETA, drawn only when
 * stdout is a terminal (so logs and pipes get no control characters).
 */
#ifndef PGPART_UTIL_PROGRESS_H
#define PGPART_UTIL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Progress
{
	bool enabled;
	const char *unit; /* "rows", "partitions" */
	int64_t total;	  /* 0: unknown */
	double started_ms;
	double last_draw_ms;
} Progress;

void progress_start(Progress *p, const char *unit, int64_t total, bool allowed);
void progress_update(Progress *p, int64_t done, const char *label);
void progress_finish(Progress *p);

#endif
