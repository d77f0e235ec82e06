#include "ops/metricsd.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/listenaddr.h"
#include "ops/metrics.h"
#include "util/mem.h"

struct MetricsServer
{
	struct MHD_Daemon *daemon;
	char *conninfo;
	SchedulerStatus *status;
	pthread_mutex_t mutex; /* one scrape at a time on the connection */
	PgConn pc;
};

static void
add_scheduler_metrics(MetricsServer *m, PromSet *set)
{
	SchedulerStatus *st = m->status;
	int f_leader, f_cycles, f_end, f_ok, f_fail;

	if (st == NULL)
		return;
	f_leader = prom_family(set, "pgpart_scheduler_leader", "gauge",
						   "1 if this \"pgpart run\" instance holds the leader lock and acts.");
	f_cycles = prom_family(set, "pgpart_scheduler_cycles_total", "counter",
						   "Maintenance cycles this instance completed as the leader.");
	f_end = prom_family(set, "pgpart_scheduler_last_cycle_end_timestamp_seconds", "gauge",
						"When this instance's last cycle ended (Unix time).");
	f_ok = prom_family(set, "pgpart_scheduler_last_cycle_ok", "gauge",
					   "1 if every step of this instance's last cycle succeeded.");
	f_fail = prom_family(set, "pgpart_scheduler_failed_steps_total", "counter",
						 "Maintenance steps that failed in this instance's cycles.");
	pthread_mutex_lock(&st->mutex);
	prom_add(set, f_leader, st->leader ? 1 : 0, 0);
	prom_add(set, f_cycles, (double) st->cycles, 0);
	if (st->last_cycle_end > 0)
	{
		prom_add(set, f_end, st->last_cycle_end, 0);
		prom_add(set, f_ok, st->last_cycle_ok ? 1 : 0, 0);
	}
	prom_add(set, f_fail, (double) st->failed_steps, 0);
	pthread_mutex_unlock(&st->mutex);
}

static char *
scrape(MetricsServer *m)
{
	PromSet set;
	PgpError err;
	char *text;
	bool ok;

	err_init(&err);
	promset_init(&set);
	pthread_mutex_lock(&m->mutex);
	if (m->pc.conn && PQstatus(m->pc.conn) != CONNECTION_OK)
		pgc_close(&m->pc);
	ok = (m->pc.conn != NULL || pgc_connect(&m->pc, m->conninfo, false, &err)) &&
		 ops_metrics_collect(&m->pc, &set, &err);
	if (!ok)
	{
		/* a scrape that fails says so with pgpart_up 0; the next one reconnects */
		promset_free(&set);
		promset_init(&set);
		ops_metrics_down(&set);
		pgc_close(&m->pc);
	}
	pthread_mutex_unlock(&m->mutex);
	add_scheduler_metrics(m, &set);
	text = prom_render(&set);
	promset_free(&set);
	err_clear(&err);
	return text;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	MetricsServer *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int code = MHD_HTTP_OK;
	const char *type = "text/plain; version=0.0.4; charset=utf-8";
	char *body;

	(void) version;
	(void) upload_data;
	(void) upload_data_size;
	(void) con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
	{
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		body = pg_xstrdup("only GET\n");
	}
	else if (strcmp(url, "/metrics") == 0)
		body = scrape(m);
	else if (strcmp(url, "/") == 0)
		body = pg_xstrdup("pgpart run: metrics at /metrics\n");
	else
	{
		code = MHD_HTTP_NOT_FOUND;
		body = pg_xstrdup("not found; metrics are at /metrics\n");
	}
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

MetricsServer *
metricsd_start(const char *addr, const char *conninfo, SchedulerStatus *status, PgpError *err)
{
	char host[256];
	int port, rc;
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage sa;
	MetricsServer *m;
	char portbuf[16];

	if (!listenaddr_parse(addr, host, sizeof(host), &port))
	{
		err_set(err, EXIT_USAGE, "invalid --metrics-addr \"%s\"", addr);
		err_hint(err, "Use HOST:PORT, e.g. 127.0.0.1:9187 or [::1]:9187.");
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	rc = getaddrinfo(host, portbuf, &hints, &ai);
	if (rc != 0 || ai == NULL)
	{
		err_set(err, EXIT_USAGE, "cannot resolve --metrics-addr host \"%s\": %s", host,
				gai_strerror(rc));
		if (ai)
			freeaddrinfo(ai);
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
	m = pg_xcalloc(1, sizeof(MetricsServer));
	m->conninfo = conninfo ? pg_xstrdup(conninfo) : NULL;
	m->status = status;
	pthread_mutex_init(&m->mutex, NULL);
	m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
									 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
								 (uint16_t) port, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR,
								 (struct sockaddr *) &sa, MHD_OPTION_CONNECTION_TIMEOUT,
								 (unsigned int) 30, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (m->daemon == NULL)
	{
		err_set(err, EXIT_RUNTIME, "cannot serve metrics on %s", addr);
		err_hint(err, "Is the port in use, or the address not one of this host's?");
		pthread_mutex_destroy(&m->mutex);
		free(m->conninfo);
		free(m);
		return NULL;
	}
	return m;
}

void
metricsd_stop(MetricsServer *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->daemon);
	pgc_close(&m->pc);
	pthread_mutex_destroy(&m->mutex);
	free(m->conninfo);
	free(m);
}
