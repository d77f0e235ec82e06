/*
 * metrics_endpoint.c - the HTTP server of "pgpart run --metrics-addr"
 * (libmicrohttpd): answers GET /metrics from a cached collection on a
 * connection only its one thread uses, within the bounds the header
 * describes (unauthenticated requests must not cost the database much).
 */
#include "commands/run/metrics_endpoint.h"

#include <microhttpd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/listenaddr.h"
#include "commands/metrics/metrics.h"
#include "util/clock.h"
#include "util/mem.h"

/*
 * Each scrape arrives unauthenticated: what it may cost the database is
 * bounded here.  Collections are cached for cache_ms (any number of scrapers
 * share one), each is bounded by timeout_ms (connect, locks, statements), one
 * runs at a time on one connection, and libmicrohttpd caps the sockets.
 */
#define METRICS_MAX_CONNECTIONS 16
#define METRICS_MAX_PER_IP 8
#define METRICS_IDLE_TIMEOUT_S 10

struct MetricsServer
{
	struct MHD_Daemon *daemon;
	char *conninfo;
	int cache_ms;
	int timeout_ms;
	SchedulerStatus *status;
	pthread_mutex_t mutex; /* one collection at a time on the connection */
	PgConn pc;
	char *cached; /* the database's part of the last exposition */
	double cached_at;
};

static void
add_scheduler_metrics(MetricsServer *m, PromSet *set)
{
	SchedulerStatus *st = m->status;
	int f_leader, f_standby, f_cycles, f_end, f_ok, f_fail;

	if (st == NULL)
		return;
	f_leader = prom_family(set, "pgpart_scheduler_leader", "gauge",
						   "1 if this \"pgpart run\" instance holds the leader lock and acts.");
	f_standby = prom_family(set, "pgpart_scheduler_standby", "gauge",
							"1 if the server this instance connects to is a standby (in "
							"recovery): it idles until a promotion.");
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
	prom_add(set, f_standby, st->standby ? 1 : 0, 0);
	prom_add(set, f_cycles, (double) st->cycles, 0);
	if (st->last_cycle_end > 0)
	{
		prom_add(set, f_end, st->last_cycle_end, 0);
		prom_add(set, f_ok, st->last_cycle_ok ? 1 : 0, 0);
	}
	prom_add(set, f_fail, (double) st->failed_steps, 0);
	pthread_mutex_unlock(&st->mutex);
}

/* the database's families, rendered; "pgpart_up 0" when they cannot be read */
static char *
collect(MetricsServer *m)
{
	PromSet set;
	PgpError err;
	char *text;
	bool ok;

	err_init(&err);
	promset_init(&set);
	if (m->pc.conn && PQstatus(m->pc.conn) != CONNECTION_OK)
		pgc_close(&m->pc);
	ok = (m->pc.conn != NULL ||
		  pgc_connect_bounded(&m->pc, m->conninfo, (m->timeout_ms + 999) / 1000, &err)) &&
		 ops_metrics_collect(&m->pc, m->timeout_ms, &set, &err);
	if (!ok)
	{
		/* a scrape that fails says so with pgpart_up 0; the next one reconnects */
		promset_free(&set);
		promset_init(&set);
		ops_metrics_down(&set);
		pgc_close(&m->pc);
	}
	text = prom_render(&set);
	promset_free(&set);
	err_clear(&err);
	return text;
}

static char *
scrape(MetricsServer *m)
{
	PromSet set;
	char *db, *own, *text;

	pthread_mutex_lock(&m->mutex);
	/* a failed collection is cached too: a struggling server is not asked again at once */
	if (m->cached == NULL || clock_ms() - m->cached_at >= m->cache_ms)
	{
		free(m->cached);
		m->cached = collect(m);
		m->cached_at = clock_ms();
	}
	db = pg_xstrdup(m->cached);
	pthread_mutex_unlock(&m->mutex);
	/* this instance's own state is always current: it costs the database nothing */
	promset_init(&set);
	add_scheduler_metrics(m, &set);
	own = prom_render(&set);
	promset_free(&set);
	text = pg_xasprintf("%s%s", db, own);
	free(db);
	free(own);
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

static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *) sa)->sin6_addr);
	return false;
}

MetricsServer *
metricsd_start(const MetricsServerOptions *o, SchedulerStatus *status, bool *loopback,
			   PgpError *err)
{
	char host[256];
	int port, rc;
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage sa;
	MetricsServer *m;
	char portbuf[16];

	if (!listenaddr_parse(o->addr, host, sizeof(host), &port))
	{
		err_set(err, EXIT_USAGE, "invalid --metrics-addr \"%s\"", o->addr);
		err_hint(err, "Use [HOST:]PORT, e.g. 9187 (loopback), 127.0.0.1:9187 or [::1]:9187.");
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
	*loopback = is_loopback((struct sockaddr *) &sa);
	m = pg_xcalloc(1, sizeof(MetricsServer));
	m->conninfo = o->conninfo ? pg_xstrdup(o->conninfo) : NULL;
	m->cache_ms = o->cache_ms;
	m->timeout_ms = o->timeout_ms;
	m->status = status;
	pthread_mutex_init(&m->mutex, NULL);
	m->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		(uint16_t) port, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) METRICS_IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int) METRICS_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) METRICS_MAX_PER_IP, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (m->daemon == NULL)
	{
		err_set(err, EXIT_RUNTIME, "cannot serve metrics on %s", o->addr);
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
	free(m->cached);
	free(m->conninfo);
	free(m);
}
