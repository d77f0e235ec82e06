/* test_listenaddr - the [HOST:]PORT of --metrics-addr */
#include <string.h>

#include "core/listenaddr.h"
#include "tap.h"

static void
check(const char *text, const char *want_host, int want_port)
{
	char host[64] = "";
	int port = -1;
	bool ok_ = listenaddr_parse(text, host, sizeof(host), &port);

	if (want_host == NULL)
		ok(!ok_, "\"%s\" is refused", text);
	else
	{
		ok(ok_, "\"%s\" is accepted", text);
		is_str(ok_ ? host : NULL, want_host, "\"%s\": host", text);
		is_int(port, want_port, "\"%s\": port", text);
	}
}

int
main(void)
{
	check("127.0.0.1:9187", "127.0.0.1", 9187);
	check("localhost:1", "localhost", 1);
	check("[::1]:9187", "::1", 9187);
	check("0.0.0.0:9187", "0.0.0.0", 9187);
	/* no host: loopback, never every interface */
	check("9187", "127.0.0.1", 9187);
	check(":9187", "127.0.0.1", 9187);
	check("65535", "127.0.0.1", 65535);
	check("0", NULL, 0);
	check("65536", NULL, 0);
	check(":", NULL, 0);
	check("", NULL, 0);
	check("host:", NULL, 0);
	check("127.0.0.1", NULL, 0);
	check("127.0.0.1:70000", NULL, 0);
	check("host:x1", NULL, 0);
	check("host:1x", NULL, 0);
	check("::1:9187", NULL, 0);
	check("[::1]9187", NULL, 0);
	check("[::1", NULL, 0);
	check("[]:9187", NULL, 0);
	{
		char tiny[4];
		int port;

		ok(!listenaddr_parse("9187", tiny, sizeof(tiny), &port), "a host buffer too small is refused");
		ok(!listenaddr_parse("abcd:1", tiny, sizeof(tiny), &port), "a host longer than the buffer is refused");
	}
	return done_testing();
}
