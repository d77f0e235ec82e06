/* unit tests of core/archurl.c and core/tierplan.c: archive locations, ages, tier planning */
#include <stdlib.h>
#include <string.h>

#include "core/archurl.h"
#include "core/tierplan.h"
#include "tap.h"

static void
check_url(const char *text, int valid, int scheme, const char *bucket, const char *path)
{
	ArchUrl u;
	char *why = NULL;
	int got = archurl_parse(text, &u, &why);

	ok(got == valid, "url \"%s\" %s", text, valid ? "accepted" : "rejected");
	if (got && valid)
	{
		is_int(u.scheme, scheme, "url \"%s\" scheme", text);
		is_str(u.bucket, bucket, "url \"%s\" bucket", text);
		is_str(u.path, path, "url \"%s\" path", text);
		archurl_free(&u);
	}
	if (!got)
		ok(why && why[0], "rejection of \"%s\" says why (%s)", text, why ? why : "");
	free(why);
}

static void
check_age(const char *text, int valid, int n, CalUnit unit)
{
	Age a = {0, CAL_DAY};
	int got = age_parse(text, &a);

	ok(got == valid, "age \"%s\" %s", text, valid ? "accepted" : "rejected");
	if (got && valid)
	{
		is_int(a.n, n, "age \"%s\" count", text);
		is_int(a.unit, unit, "age \"%s\" unit", text);
	}
}

static void
check_sub(CivilDate d, const char *age, CivilDate want)
{
	Age a;
	CivilDate r;

	age_parse(age, &a);
	r = age_subtract(d, a);
	ok(cal_compare(r, want) == 0, "%04d-%02d-%02d minus %s = %04d-%02d-%02d (got %04d-%02d-%02d)",
	   d.year, d.month, d.day, age, want.year, want.month, want.day, r.year, r.month, r.day);
}

int
main(void)
{
	char *s, *loc, *name, *why;
	CivilDate d;

	check_url("file:///var/archive", 1, ARCH_FILE, NULL, "/var/archive");
	check_url("file:///var/archive///", 1, ARCH_FILE, NULL, "/var/archive");
	check_url("file://localhost/a b/c", 1, ARCH_FILE, NULL, "/a b/c");
	check_url("file:///", 1, ARCH_FILE, NULL, "/");
	check_url("file://relative/dir", 0, 0, NULL, NULL);
	check_url("file:///a/../etc", 0, 0, NULL, NULL);
	check_url("file:///a/b?x=1", 0, 0, NULL, NULL);
	check_url("s3://my-bucket/pre/fix/", 1, ARCH_S3, "my-bucket", "pre/fix");
	check_url("s3://my.bucket", 1, ARCH_S3, "my.bucket", "");
	check_url("s3://my-bucket/", 1, ARCH_S3, "my-bucket", "");
	check_url("s3://My_Bucket/x", 0, 0, NULL, NULL);
	check_url("s3://ab/x", 0, 0, NULL, NULL);
	check_url("s3://bucket/a/./b", 0, 0, NULL, NULL);
	check_url("http://example.com/x", 0, 0, NULL, NULL);
	check_url("/var/archive", 0, 0, NULL, NULL);
	check_url("", 0, 0, NULL, NULL);
	check_url("file:///a\nb", 0, 0, NULL, NULL);

	{
		ArchUrl u;

		archurl_parse("s3://bkt/p/q/", &u, &why);
		s = archurl_format(&u);
		is_str(s, "s3://bkt/p/q", "s3 url normalised");
		free(s);
		archurl_free(&u);
	}

	ok(archurl_split_last("s3://bkt/p/x.manifest.json", &loc, &name, &why), "split s3 url");
	is_str(loc, "s3://bkt/p", "split location");
	is_str(name, "x.manifest.json", "split name");
	free(loc);
	free(name);
	ok(!archurl_split_last("file:///dir/", &loc, &name, &why), "split refuses a directory");
	free(why);
	ok(!archurl_split_last("nothing", &loc, &name, &why), "split refuses a non-URL");
	free(why);

	ok(!archurl_path_has_dot_segment("t/2025/x.json", true), "plain key has no dot segment");
	ok(archurl_path_has_dot_segment("t/../x", true), "\"..\" segment found");
	ok(archurl_path_has_dot_segment("./x", false), "leading \".\" segment found");
	ok(!archurl_path_has_dot_segment("a//b", false), "empty segment allowed in a location");
	ok(archurl_path_has_dot_segment("a//b", true), "empty segment refused in a key");
	ok(!archurl_path_has_dot_segment("..x/.y", true), "dots inside names are plain names");

	s = archkey_escape("Rev \"Q1\"/x.y");
	is_str(s, "Rev~20~22Q1~22~2Fx~2Ey", "key escape of quotes, space, slash, dot");
	free(s);
	s = archkey_escape("revenues_2025_q1-a");
	is_str(s, "revenues_2025_q1-a", "plain names kept");
	free(s);

	{
		static const struct
		{
			const char *ep;
			bool allow;
			S3EndpointCheck want;
		} eps[] = {
			{"https://s3.example.com", false, S3_ENDPOINT_OK},
			{"https://s3.example.com:9000/", false, S3_ENDPOINT_OK},
			{"https://minio.local/s3", false, S3_ENDPOINT_OK},
			{"http://127.0.0.1:9000", false, S3_ENDPOINT_INSECURE},
			{"http://127.0.0.1:9000", true, S3_ENDPOINT_OK},
			{"HTTP://127.0.0.1", true, S3_ENDPOINT_INVALID},
			{"ftp://x", true, S3_ENDPOINT_INVALID},
			{"127.0.0.1:9000", true, S3_ENDPOINT_INVALID},
			{"https://", false, S3_ENDPOINT_INVALID},
			{"https://:9000", false, S3_ENDPOINT_INVALID},
			{"https://key:secret@s3.example.com", false, S3_ENDPOINT_INVALID},
			{"http://key:secret@127.0.0.1", true, S3_ENDPOINT_INVALID},
			{"https://s3.example.com/?x=1", false, S3_ENDPOINT_INVALID},
			{"https://s3.example.com/a b", false, S3_ENDPOINT_INVALID},
		};
		size_t i;

		for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++)
		{
			S3EndpointCheck got = s3_endpoint_check(eps[i].ep, eps[i].allow, &why);

			is_int(got, eps[i].want, "endpoint \"%s\"%s", eps[i].ep,
				   eps[i].allow ? " (insecure allowed)" : "");
			ok((got == S3_ENDPOINT_OK) == (why == NULL), "endpoint \"%s\": a reason iff refused",
			   eps[i].ep);
			if (why && got == S3_ENDPOINT_INVALID && strchr(eps[i].ep, '@'))
				ok(strstr(why, "secret") == NULL, "the reason does not repeat the password");
			free(why);
		}
		is_int(s3_endpoint_check("https://s3.example.com\n", false, &why), S3_ENDPOINT_INVALID,
			   "a control character is refused");
		free(why);
	}

	check_age("1 quarter", 1, 1, CAL_QUARTER);
	check_age("7 years", 1, 7, CAL_YEAR);
	check_age("90 days", 1, 90, CAL_DAY);
	check_age("1year", 1, 1, CAL_YEAR);
	check_age(" 3 months ", 1, 3, CAL_MONTH);
	check_age("2 weeks", 1, 2, CAL_WEEK);
	check_age("0 days", 0, 0, CAL_DAY);
	check_age("-1 year", 0, 0, CAL_DAY);
	check_age("year", 0, 0, CAL_DAY);
	check_age("1 fortnight", 0, 0, CAL_DAY);
	check_age("1", 0, 0, CAL_DAY);
	check_age("", 0, 0, CAL_DAY);
	{
		Age a = {7, CAL_YEAR};

		s = age_format(a);
		is_str(s, "7 years", "age format plural");
		free(s);
		a.n = 1;
		a.unit = CAL_QUARTER;
		s = age_format(a);
		is_str(s, "1 quarter", "age format singular");
		free(s);
	}

	d = (CivilDate){2026, 5, 31};
	check_sub(d, "1 quarter", (CivilDate){2026, 2, 28});
	check_sub(d, "1 year", (CivilDate){2025, 5, 31});
	check_sub(d, "5 months", (CivilDate){2025, 12, 31});
	check_sub((CivilDate){2024, 2, 29}, "1 year", (CivilDate){2023, 2, 28});
	check_sub((CivilDate){2026, 3, 1}, "1 day", (CivilDate){2026, 2, 28});
	check_sub((CivilDate){2026, 1, 5}, "1 week", (CivilDate){2025, 12, 29});

	{
		TierCutoffs c = {true, true, true, 300, 200, 100, 400, false, 0};
		TierPartition p = {false, true, false, 0, false};

		p.hi_us = 500;
		is_int(tierplan_action(&c, &p), TIER_NONE, "open partition (hi in the future) stays");
		p.hi_us = 400;
		is_int(tierplan_action(&c, &p), TIER_NONE, "partition closed but younger than warm age stays");
		p.hi_us = 300;
		is_int(tierplan_action(&c, &p), TIER_WARM, "warm at exactly the warm cutoff");
		p.in_warm_tablespace = true;
		is_int(tierplan_action(&c, &p), TIER_NONE, "already warm: nothing");
		p.hi_us = 150;
		is_int(tierplan_action(&c, &p), TIER_ARCHIVE, "archive beats warm");
		p.hi_us = 100;
		is_int(tierplan_action(&c, &p), TIER_DROP, "drop beats archive");
		p.is_default = true;
		is_int(tierplan_action(&c, &p), TIER_NONE, "default partition never");
		p.is_default = false;
		p.hi_unbounded = true;
		is_int(tierplan_action(&c, &p), TIER_NONE, "MAXVALUE partition never");
		p.hi_unbounded = false;
		c.has_drop = false;
		is_int(tierplan_action(&c, &p), TIER_ARCHIVE, "no drop step: archive");
		c.has_archive = false;
		p.in_warm_tablespace = false;
		is_int(tierplan_action(&c, &p), TIER_WARM, "only warm step");
		c.has_warm = false;
		is_int(tierplan_action(&c, &p), TIER_NONE, "no policy: nothing");
		c.now_us = 50;
		c.has_drop = true;
		is_int(tierplan_action(&c, &p), TIER_NONE, "never before the range ended");
		is_str(tier_action_name(TIER_ARCHIVE), "archive", "action name");
	}
	return done_testing();
}
