/*
 * tap.h - minimal Test Anything Protocol output for the C unit tests, so that
 * prove runs them beside the integration tests and counts them the same way.
 */
#ifndef PGPART_TAP_H
#define PGPART_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

#define ok(cond, ...)                                                          \
	do                                                                         \
	{                                                                          \
		int tap_ok_ = (cond) ? 1 : 0;                                          \
		tap_count++;                                                           \
		if (!tap_ok_)                                                          \
			tap_failed++;                                                      \
		printf("%sok %d - ", tap_ok_ ? "" : "not ", tap_count);                \
		printf(__VA_ARGS__);                                                   \
		printf("\n");                                                          \
		if (!tap_ok_)                                                          \
			printf("#   failed at %s line %d\n", __FILE__, __LINE__);          \
	} while (0)

#define is_int(got, want, ...)                                                 \
	do                                                                         \
	{                                                                          \
		long long tap_g_ = (long long) (got), tap_w_ = (long long) (want);     \
		ok(tap_g_ == tap_w_, __VA_ARGS__);                                     \
		if (tap_g_ != tap_w_)                                                  \
			printf("#   got: %lld\n#   expected: %lld\n", tap_g_, tap_w_);     \
	} while (0)

#define is_str(got, want, ...)                                                 \
	do                                                                         \
	{                                                                          \
		const char *tap_g_ = (got), *tap_w_ = (want);                          \
		int tap_eq_ = (tap_g_ && tap_w_) ? strcmp(tap_g_, tap_w_) == 0         \
										 : tap_g_ == tap_w_;                   \
		ok(tap_eq_, __VA_ARGS__);                                              \
		if (!tap_eq_)                                                          \
			printf("#   got: '%s'\n#   expected: '%s'\n",                      \
				   tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)");    \
	} while (0)

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
