/*
 * bench-gen - synthetic rows for the seed schema's revenues table, written as
 * COPY text on stdout (columns org_id, property_id, occurred_at, amount,
 * status, category, description), for "COPY t (...) FROM STDIN".
 *
 * The distribution is that of bench/gen.sql: organisation n is drawn with
 * probability roughly proportional to 1/n (a few big tenants, a long tail);
 * each organisation has --props properties (ids org_id * 1000 + k); rows come
 * in time order over [--from, --to) as an application appends them, with a
 * few minutes of jitter; status two-thirds approved; seven categories;
 * amounts skewed toward small; 1 % long descriptions (3200 characters, TOAST).
 *
 *   bench-gen --rows N --orgs N [--props N] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--seed N]
 *
 * Exit status 0, or 2 for bad arguments, 1 when stdout fails.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

/* splitmix64: fast, good enough for synthetic data, reproducible per seed */
static uint64_t next_u64(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double next_unit(void) /* [0, 1) */
{
	return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

/* days since 1970-01-01 of a civil date, and back (proleptic Gregorian) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int parse_date(const char *s, int64_t *days)
{
	int y, m, d;
	char tail;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

static int parse_count(const char *s, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end || x < 0)
		return -1;
	*v = x;
	return 0;
}

/* output buffer: one fwrite per 1 MiB */
static char obuf[1 << 20];
static size_t olen;

static void flush_out(void)
{
	if (olen && fwrite(obuf, 1, olen, stdout) != olen) {
		fprintf(stderr, "bench-gen: error: writing stdout: %s\n", strerror(errno));
		exit(1);
	}
	olen = 0;
}

static void put(const char *s, size_t n)
{
	if (olen + n > sizeof obuf)
		flush_out();
	memcpy(obuf + olen, s, n);
	olen += n;
}

static void put_u(uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(tmp + i, sizeof tmp - (size_t)i);
}

static void put_2(int v)
{
	char tmp[2] = {(char)('0' + v / 10), (char)('0' + v % 10)};
	put(tmp, 2);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-gen --rows N --orgs N [--props N] [--from YYYY-MM-DD] "
					"[--to YYYY-MM-DD] [--seed N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rows", required_argument, NULL, 'r'}, {"orgs", required_argument, NULL, 'o'},
		{"props", required_argument, NULL, 'p'}, {"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},	 {"seed", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0}};
	int64_t rows = -1, orgs = -1, props = 20, seed = 42, d0, d1;
	const char *from = "2024-10-01", *to = "2026-10-01";
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': if (parse_count(optarg, &rows)) usage(); break;
		case 'o': if (parse_count(optarg, &orgs) || orgs < 1) usage(); break;
		case 'p': if (parse_count(optarg, &props) || props < 1 || props > 999) usage(); break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 's': if (parse_count(optarg, &seed)) usage(); break;
		default: usage();
		}
	}
	if (rows < 0 || orgs < 1 || optind != argc || parse_date(from, &d0) || parse_date(to, &d1) || d1 <= d0)
		usage();
	rng_state = (uint64_t)seed;

	static const char *const status[] = {"approved", "approved", "approved", "pending", "rejected", "void"};
	static const char *const category[] = {"rent", "fees", "parking", "utilities", "repairs", "services", "other"};
	static const char hex[] = "0123456789abcdef";
	const double span = (double)(d1 - d0) * 86400.0, lnorgs = log((double)orgs + 1.0);
	const int64_t base = d0 * 86400;
	for (int64_t i = 0; i < rows; i++) {
		int64_t org = (int64_t)floor(exp(next_unit() * lnorgs));
		if (org > orgs) org = orgs;
		if (org < 1) org = 1;
		int64_t prop = org * 1000 + 1 + (int64_t)(next_unit() * (double)props);
		/* in order of time, a few minutes of jitter, kept inside the range */
		double off = span * ((double)i + 0.5) / (double)rows + (next_unit() - 0.5) * 600.0;
		if (off < 0) off = 0;
		if (off >= span) off = span - 1;
		int64_t ts = base + (int64_t)off, y;
		int mo, dd;
		civil_from_days(ts / 86400, &y, &mo, &dd);
		int sod = (int)(ts % 86400);
		double u = next_unit() * next_unit();
		uint64_t cents = (uint64_t)llround(u * 500000.0);

		put_u((uint64_t)org); put("\t", 1);
		put_u((uint64_t)prop); put("\t", 1);
		put_u((uint64_t)y); put("-", 1); put_2(mo); put("-", 1); put_2(dd); put(" ", 1);
		put_2(sod / 3600); put(":", 1); put_2(sod / 60 % 60); put(":", 1); put_2(sod % 60);
		put("+00\t", 4);
		put_u(cents / 100); put(".", 1); put_2((int)(cents % 100)); put("\t", 1);
		const char *s = status[next_u64() % 6];
		put(s, strlen(s)); put("\t", 1);
		s = category[next_u64() % 7];
		put(s, strlen(s)); put("\t", 1);
		if (next_unit() < 0.01) {
			/* 32 random hex digits repeated 100 times, as bench/gen.sql's
			 * repeat(md5(...), 100): long, and compressible the same way */
			char chunk[32];
			for (int k = 0; k < 32; k++)
				chunk[k] = hex[next_u64() & 15];
			for (int k = 0; k < 100; k++)
				put(chunk, sizeof chunk);
		} else {
			put("transaction ", 12);
			put_u((uint64_t)i + 1);
		}
		put("\n", 1);
	}
	flush_out();
	if (fflush(stdout) != 0) {
		fprintf(stderr, "bench-gen: error: writing stdout: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
