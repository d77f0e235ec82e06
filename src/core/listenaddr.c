/*
 * listenaddr.c - splits --metrics-addr into host and port.  A bare port means
 * loopback: exposing metrics beyond this machine must be asked for by name.
 */
#include "core/listenaddr.h"

#include <stdlib.h>
#include <string.h>

bool
listenaddr_parse(const char *text, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = text;
	size_t n;
	char *end;
	long p;

	if (text == NULL || *text == '\0')
		return false;
	/* a bare port, or ":PORT": loopback, so that nothing is exposed by omission */
	if (strspn(text, "0123456789") == strlen(text) || (text[0] == ':' && text[1] != '\0' &&
														strspn(text + 1, "0123456789") ==
															strlen(text + 1)))
	{
		const char *digits = text[0] == ':' ? text + 1 : text;

		if (hostlen < sizeof(LISTENADDR_DEFAULT_HOST))
			return false;
		p = strtol(digits, &end, 10);
		if (*end != '\0' || p < 1 || p > 65535)
			return false;
		memcpy(host, LISTENADDR_DEFAULT_HOST, sizeof(LISTENADDR_DEFAULT_HOST));
		*port = (int) p;
		return true;
	}
	if (*text == '[')
	{
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return false;
		h = text + 1;
		n = (size_t) (close - h);
		colon = close + 1;
	}
	else
	{
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t) (colon - text)) != NULL)
			return false; /* an IPv6 address needs brackets */
		n = (size_t) (colon - text);
	}
	if (n == 0 || n >= hostlen)
		return false;
	if (colon[1] < '0' || colon[1] > '9')
		return false;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int) p;
	return true;
}
