/*
 * progress.c - draws the progress line at most a few times a second and only on
 * a terminal, computing the rate and ETA from the monotonic clock.
 */
#include "util/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "util/clock.h"

void
progress_start(Progress *p, const char *unit, int64_t total, bool allowed)
{
	p->enabled = allowed && isatty(STDOUT_FILENO);
	p->unit = unit;
	p->total = total;
	p->started_ms = clock_ms();
	p->last_draw_ms = 0;
}

void
progress_update(Progress *p, int64_t done, const char *label)
{
	double now = clock_ms();
	double elapsed_s = (now - p->started_ms) / 1000.0;
	double rate = elapsed_s > 0 ? (double) done / elapsed_s : 0;

	if (!p->enabled)
		return;
	/* redraw at most 10 times a second, always for the last step */
	if (now - p->last_draw_ms < 100 && done != p->total)
		return;
	p->last_draw_ms = now;
	if (p->total > 0)
	{
		int width = 30, filled = (int) ((double) done * width / (double) p->total), i;
		double eta = rate > 0 ? (double) (p->total - done) / rate : 0;

		printf("\r[");
		for (i = 0; i < width; i++)
			putchar(i < filled ? '#' : '.');
		printf("] %lld/%lld %s, %.1f/s, ETA %02d:%02d %-30.30s", (long long) done,
			   (long long) p->total, p->unit, rate, (int) eta / 60, (int) eta % 60,
			   label ? label : "");
	}
	else
		printf("\r%lld %s, %.1f/s %-30.30s", (long long) done, p->unit, rate, label ? label : "");
	fflush(stdout);
}

void
progress_finish(Progress *p)
{
	if (!p->enabled)
		return;
	printf("\r\033[K");
	fflush(stdout);
}
