/*
 * throttle.c - the decision between two batches of a long copy.  Health
 * limits pause (the server is not well: copying more makes it worse, and
 * waiting is what lets it recover); --rate only spaces the batches out.
 */
#include "core/throttle.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/collist.h"
#include "util/mem.h"

char *
throttle_format_ms(double ms)
{
	if (ms < 1000)
		return pg_xasprintf("%.0f ms", ms);
	if (ms < 120000)
		return pg_xasprintf("%.*f s", ms < 10000 && fmod(ms, 1000) != 0 ? 1 : 0, ms / 1000.0);
	if (ms < 7200000)
		return pg_xasprintf("%.*f min", fmod(ms, 60000) != 0 ? 1 : 0, ms / 60000.0);
	return pg_xasprintf("%.*f h", fmod(ms, 3600000) != 0 ? 1 : 0, ms / 3600000.0);
}

char *
throttle_format_rate(double b)
{
	if (b < 1024)
		return pg_xasprintf("%.0f B/s", b);
	if (b < 1024.0 * 1024)
		return pg_xasprintf("%.0f kB/s", b / 1024);
	if (b < 1024.0 * 1024 * 1024)
		return pg_xasprintf("%.1f MB/s", b / (1024.0 * 1024));
	return pg_xasprintf("%.2f GB/s", b / (1024.0 * 1024 * 1024));
}

/* "<what> <reading> > <limit>" with both formatted by fmt */
static char *
exceeded(const char *what, double reading, double limit, char *(*fmt)(double))
{
	char *r = fmt(reading), *l = fmt(limit);
	char *s = pg_xasprintf("%s %s > %s", what, r, l);

	FREE_ALL(r, l);
	return s;
}

static int64_t
clamp_wait(double ms)
{
	if (ms < 1)
		return 1;
	return ms > THROTTLE_RECHECK_MS ? THROTTLE_RECHECK_MS : (int64_t) ceil(ms);
}

/*
 * The health limit most exceeded (by its ratio to the limit), or none.  A
 * reading not taken never pauses: no standby means no lag to wait for.
 */
static void
decide_health(const ThrottleLimits *lim, const ThrottleReadings *rd, ThrottleDecision *out)
{
	double worst = 1.0;
	int which = -1;
	const double readings[] = {rd->lag_ms, rd->wal_rate, rd->xact_age_ms, rd->probe_ms};
	const double limits[] = {lim->max_lag_ms, lim->max_wal_rate, lim->max_xact_age_ms,
							 lim->max_probe_ms};
	int i;

	for (i = 0; i < 4; i++)
		if (limits[i] > 0 && readings[i] >= 0 && readings[i] / limits[i] > worst)
		{
			worst = readings[i] / limits[i];
			which = i;
		}
	if (which < 0)
		return;
	out->action = THROTTLE_PAUSE;
	out->wait_ms = THROTTLE_RECHECK_MS;
	switch (which)
	{
		case 0:
			out->reason = exceeded("standby lag", rd->lag_ms, lim->max_lag_ms, throttle_format_ms);
			break;
		case 1:
			out->reason =
				exceeded("WAL rate", rd->wal_rate, lim->max_wal_rate, throttle_format_rate);
			break;
		case 2:
			out->reason = exceeded("oldest transaction", rd->xact_age_ms, lim->max_xact_age_ms,
								   throttle_format_ms);
			break;
		default:
			out->reason = exceeded("probe", rd->probe_ms, lim->max_probe_ms, throttle_format_ms);
			break;
	}
}

void
throttle_decide(const ThrottleLimits *lim, const ThrottleReadings *rd, int64_t rows,
				double since_ms, double now_ms, ThrottleDecision *out)
{
	memset(out, 0, sizeof(*out));
	out->action = THROTTLE_GO;
	if (lim->paused)
	{
		out->action = THROTTLE_PAUSE;
		out->wait_ms = THROTTLE_RECHECK_MS;
		out->reason = pg_xstrdup("by an operator (pgpart migrate limits --pause)");
		return;
	}
	decide_health(lim, rd, out);
	if (out->action != THROTTLE_GO)
		return;
	if (lim->rate > 0 && rows > 0)
	{
		double due = since_ms + rows * 1000.0 / lim->rate;

		if (due > now_ms)
		{
			out->action = THROTTLE_SLOW;
			out->wait_ms = clamp_wait(due - now_ms);
			out->reason = pg_xasprintf("--rate %.0f rows/s", lim->rate);
		}
	}
}

void
throttle_decision_free(ThrottleDecision *d)
{
	free(d->reason);
	d->reason = NULL;
}

void
walrate_init(WalRate *w)
{
	memset(w, 0, sizeof(*w));
	w->rate = -1;
}

double
walrate_sample(WalRate *w, double now_ms, uint64_t lsn)
{
	if (!w->have)
	{
		w->have = true;
		w->t_ms = now_ms;
		w->lsn = lsn;
		return w->rate;
	}
	if (now_ms - w->t_ms >= THROTTLE_WAL_WINDOW_MS)
	{
		/* a smaller LSN (another server after a failover) restarts the window */
		w->rate = lsn >= w->lsn ? (double) (lsn - w->lsn) * 1000.0 / (now_ms - w->t_ms) : -1;
		w->t_ms = now_ms;
		w->lsn = lsn;
	}
	return w->rate;
}

void
lagclock_init(LagClock *c)
{
	memset(c, 0, sizeof(*c));
}

void
lagclock_sample(LagClock *c, double now_ms, uint64_t lsn)
{
	int i, j;

	if (c->n > 0 && lsn < c->lsn[c->n - 1])
		c->n = 0;
	if (c->n > 0 && lsn == c->lsn[c->n - 1])
		return; /* no new WAL: the older sample says when it was written */
	if (c->n == LAGCLOCK_SAMPLES)
	{
		/* halve the resolution, keeping the oldest sample (it gives the largest lag) */
		for (i = 1, j = 1; i < c->n; i += 2, j++)
		{
			c->t_ms[j] = c->t_ms[i + 1 < c->n ? i + 1 : i];
			c->lsn[j] = c->lsn[i + 1 < c->n ? i + 1 : i];
		}
		c->n = j;
	}
	c->t_ms[c->n] = now_ms;
	c->lsn[c->n] = lsn;
	c->n++;
}

double
lagclock_lag_ms(const LagClock *c, uint64_t replay_lsn, double now_ms)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->lsn[i] > replay_lsn)
			return now_ms > c->t_ms[i] ? now_ms - c->t_ms[i] : 0;
	return 0;
}

bool
lsn_parse(const char *text, uint64_t *lsn)
{
	char *end;
	unsigned long long hi, lo;

	if (text == NULL || !isxdigit((unsigned char) text[0]))
		return false;
	hi = strtoull(text, &end, 16);
	if (*end != '/' || !isxdigit((unsigned char) end[1]) || hi > 0xFFFFFFFFULL)
		return false;
	lo = strtoull(end + 1, &end, 16);
	if (*end != '\0' || lo > 0xFFFFFFFFULL)
		return false;
	*lsn = (uint64_t) hi << 32 | lo;
	return true;
}

bool
byterate_parse(const char *text, double *bytes_per_s)
{
	static const struct
	{
		const char *unit;
		double factor;
	} units[] = {{"", 1}, {"B", 1}, {"kB", 1024}, {"MB", 1024.0 * 1024},
				 {"GB", 1024.0 * 1024 * 1024}};
	char *end;
	double v;
	size_t n;
	unsigned i;

	if (text == NULL || !(isdigit((unsigned char) text[0]) || text[0] == '.'))
		return false;
	v = strtod(text, &end);
	if (!(v > 0) || !isfinite(v))
		return false;
	n = strlen(end);
	if (n >= 2 && strcmp(end + n - 2, "/s") == 0)
		n -= 2;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].unit) == n && strncmp(end, units[i].unit, n) == 0)
		{
			*bytes_per_s = v * units[i].factor;
			return true;
		}
	return false;
}

/* collist's message speaks of columns: say what a probe's name must be */
static bool
bad_probe_name(const char *text, char **why)
{
	free(*why);
	*why = pg_xasprintf("\"%s\" is not a function name (schema.function, quoted as SQL quotes names)",
						text);
	return false;
}

bool
probe_name_parse(const char *text, char **schema, char **name, char **why)
{
	const char *p = text;
	char *s, *f;

	*schema = *name = NULL;
	s = collist_parse_name(&p, why);
	if (s == NULL)
		return bad_probe_name(text, why);
	if (*p != '.')
	{
		free(s);
		*why = pg_xstrdup("give the function's schema too, as schema.function");
		return false;
	}
	p++;
	f = collist_parse_name(&p, why);
	if (f == NULL)
	{
		free(s);
		return bad_probe_name(text, why);
	}
	if (*p == '(' && p[1] == ')')
		p += 2;
	if (*p != '\0')
	{
		FREE_ALL(s, f);
		*why = pg_xstrdup("a function's name only, schema.function (no arguments, no SQL)");
		return false;
	}
	*schema = s;
	*name = f;
	return true;
}

bool
health_args_given(const HealthArgs *h)
{
	return h->max_lag_ms > 0 || h->max_wal_rate > 0 || h->max_xact_age_ms > 0 ||
		   h->max_probe_ms > 0;
}

ThrottleLimits
health_args_limits(const HealthArgs *h, double rate)
{
	ThrottleLimits l = {rate, h->max_lag_ms, h->max_wal_rate, (double) h->max_xact_age_ms,
						(double) h->max_probe_ms, false};

	return l;
}
