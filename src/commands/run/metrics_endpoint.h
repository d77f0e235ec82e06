/*
 * metrics_endpoint.h - the HTTP endpoint of "pgpart run --metrics-addr": GET /metrics
 * answers in Prometheus' text format, collected on a connection of its own
 * (libmicrohttpd's one internal thread owns it: a libpq connection is never
 * shared between threads), plus the scheduler's own state (leader or not,
 * cycles).  Requests are unauthenticated, so what one can cost is bounded:
 * collections are cached and time-limited, sockets are capped.
 */
#ifndef PGPART_COMMANDS_METRICS_ENDPOINT_H
#define PGPART_COMMANDS_METRICS_ENDPOINT_H

#include "commands/run/scheduler.h"

typedef struct MetricsServer MetricsServer;

typedef struct MetricsServerOptions
{
	const char *addr;	  /* [HOST:]PORT; no host: 127.0.0.1 */
	const char *conninfo; /* NULL: libpq's environment */
	int cache_ms;		  /* scrapes within this of a collection share it */
	int timeout_ms;		  /* bounds the connect and every statement of a collection */
} MetricsServerOptions;

/*
 * Listens on o->addr; NULL with err when it cannot.  *loopback tells whether
 * only this host can reach it.
 */
MetricsServer *metricsd_start(const MetricsServerOptions *o, SchedulerStatus *status,
							  bool *loopback, PgpError *err);
void metricsd_stop(MetricsServer *m);

#endif
