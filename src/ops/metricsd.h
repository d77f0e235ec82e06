/*
 * metricsd.h - the HTTP endpoint of "pgpart run --metrics-addr": GET /metrics
 * answers in Prometheus' text format, collected at each scrape on a
 * connection of its own (libmicrohttpd's one internal thread owns it: a
 * libpq connection is never shared between threads), plus the scheduler's
 * own state (leader or not, cycles).
 */
#ifndef PGPART_OPS_METRICSD_H
#define PGPART_OPS_METRICSD_H

#include "ops/scheduler.h"

typedef struct MetricsServer MetricsServer;

/* listens on addr ("HOST:PORT"); NULL with err when it cannot */
MetricsServer *metricsd_start(const char *addr, const char *conninfo, SchedulerStatus *status,
							  PgpError *err);
void metricsd_stop(MetricsServer *m);

#endif
