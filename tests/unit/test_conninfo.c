/* test_conninfo - the password of -d is masked in place, whatever the syntax */
#include <stdlib.h>
#include <string.h>

#include "core/conninfo.h"
#include "tap.h"

static void
check(const char *given, const char *want, size_t want_masked)
{
	char *s = strdup(given);
	size_t n = conninfo_mask_password(s);

	is_str(s, want, "masked: %s", given);
	is_int(n, want_masked, "characters masked: %s", given);
	free(s);
}

int
main(void)
{
	check("dbname=app", "dbname=app", 0);
	check("app", "app", 0);
	check("host=db1 password=secret dbname=app", "host=db1 password=****** dbname=app", 6);
	check("password = secret", "password = ******", 6);
	check("password='se cr\\'et' user=x", "password='*********' user=x", 9);
	check("password=se\\ cret host=h", "password=******** host=h", 8);
	check("passwordx=notit password=", "passwordx=notit password=", 0);
	check("user=password host=password", "user=password host=password", 0);
	check("postgresql://app:secret@db1/app", "postgresql://app:******@db1/app", 6);
	check("postgres://app@db1/app?password=s3&sslmode=require",
		  "postgres://app@db1/app?password=**&sslmode=require", 2);
	check("postgresql://db1:5432/app", "postgresql://db1:5432/app", 0);
	check("postgresql://a:b@h/d?password=c", "postgresql://a:*@h/d?password=*", 2);
	check("postgresql:///app?host=/tmp", "postgresql:///app?host=/tmp", 0);
	check("", "", 0);
	is_int(conninfo_mask_password(NULL), 0, "NULL: nothing");
	return done_testing();
}
