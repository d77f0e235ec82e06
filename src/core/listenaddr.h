/*
 * listenaddr.h - "[HOST:]PORT" of --metrics-addr: 127.0.0.1:9187, [::1]:9187,
 * localhost:9187; a bare 9187 or :9187 means loopback.
 */
#ifndef PGPART_CORE_LISTENADDR_H
#define PGPART_CORE_LISTENADDR_H

#include <stdbool.h>
#include <stddef.h>

#define LISTENADDR_DEFAULT_HOST "127.0.0.1"

/* splits text into host (without brackets, into a buffer of hostlen) and port 1..65535 */
bool listenaddr_parse(const char *text, char *host, size_t hostlen, int *port);

#endif
