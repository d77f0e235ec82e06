/* pgpart run - maintain every managed table on a schedule, one active instance of several */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli/options.h"
#include "commands/run/metrics_endpoint.h"
#include "commands/run/scheduler.h"
#include "pg/schema.h"
#include "util/mem.h"

/* set by the signal handlers, read by the scheduler between steps */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static const char help[] =
	"pgpart run maintains every table managed by pgpart on a schedule: each cycle\n"
	"runs \"maintain\" (premake, default partition, rollups) on every table, then\n"
	"VACUUM and ANALYZE of the partitions that need it (as --only-needed does).\n\n"
	"Several instances may run at once, on several hosts, against one database: only\n"
	"one acts (it holds the leader lock, an EXCLUSIVE lock on pgpart.scheduler_leader,\n"
	"in a transaction kept open on a connection of its own: docs/security.md), the\n"
	"others wait and take over when its session ends (the process died or was\n"
	"killed, its host or network went away).  Against a hot standby it idles, says\n"
	"so (log line, pgpart_scheduler_standby) and acts once the server is promoted,\n"
	"so the same unit can run on every node.\n\n"
	"Usage:\n"
	"  pgpart run [OPTION]...\n\n"
	"Options:\n"
	"      --every=DUR          time from one cycle's start to the next (default 10m;\n"
	"                           at least 1s): 30s, 10m, 1h\n"
	"      --once               one cycle, then exit (for cron, systemd timers and\n"
	"                           Kubernetes CronJobs); exits 0 at once when another\n"
	"                           instance is active or the server is a standby, 1\n"
	"                           when something that is not a pgpart instance holds\n"
	"                           the leader lock (it is named)\n"
	"  -j, --jobs=N             connections for VACUUM/ANALYZE (default 2, at most 64)\n"
	"      --no-vacuum          only maintain; no VACUUM or ANALYZE\n"
	"      --log-format=FORMAT  text (default) or json: one line per action on stdout\n"
	"                           (--json is the same as --log-format=json)\n"
	"      --metrics-addr=[HOST:]PORT  serve Prometheus metrics at\n"
	"                           http://HOST:PORT/metrics (no HOST: 127.0.0.1 only; the\n"
	"                           endpoint has no authentication, see docs/security.md)\n"
	"      --metrics-cache=DUR  answer scrapes from the last collection for this long\n"
	"                           (default 5s; 0: collect at every scrape)\n"
	"      --metrics-timeout=DUR  longest a collection may take: connect, locks and\n"
	"                           statements (default 5s); then pgpart_up is 0\n\n"
	"Signals: SIGTERM or SIGINT finishes the current maintain step or cancels the\n"
	"running VACUUM/ANALYZE on the server, releases the leader lock and exits 0.\n"
	"SIGHUP reconnects (a changed password, .pgpass or service file applies) and\n"
	"starts a cycle at once with the managed tables re-read from the database.\n\n"
	"Exit status: 0 stopped by a signal, or a --once cycle that succeeded; 1 the\n"
	"server could not be reached or pgpart is not initialised at start, or a step of\n"
	"a --once cycle failed, or a --once run found the leader lock held by something\n"
	"that is not pgpart; 2 invalid options.\n";

/* --log-format, in the order of its choices */
enum
{
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON
};

static void
on_stop(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static void
on_hup(int sig)
{
	(void) sig;
	reload_requested = 1;
}

typedef struct LogCtx
{
	bool json;
	long pid;
} LogCtx;

static void
log_event(void *arg, const SchedulerEvent *ev)
{
	const LogCtx *lc = arg;
	struct timeval tv;
	struct tm tm;
	char ts[64];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", (long) tv.tv_usec / 1000);
	if (lc->json)
	{
		json_t *o = json_object();
		char *line;

		json_object_set_new(o, "ts", json_string(ts));
		json_object_set_new(o, "pid", json_integer(lc->pid));
		json_object_set_new(o, "action", json_string(ev->action));
		json_object_set_new(o, "table", ev->table ? json_string(ev->table) : json_null());
		json_object_set_new(o, "result", json_string(ev->result));
		json_object_set_new(o, "ms", ev->ms >= 0 ? json_real(ev->ms) : json_null());
		json_object_set_new(o, "detail", ev->detail ? json_string(ev->detail) : json_null());
		line = json_dumps(o, JSON_COMPACT);
		printf("%s\n", line);
		free(line);
		json_decref(o);
	}
	else
	{
		printf("%s pgpart[%ld] %s", ts, lc->pid, ev->action);
		if (ev->table)
			printf(" %s", ev->table);
		printf(": %s", ev->result);
		if (ev->ms >= 0)
			printf(" in %.0f ms", ev->ms);
		if (ev->detail)
		{
			/* one line per action, whatever the server's message holds */
			const char *c;

			fputs(": ", stdout);
			for (c = ev->detail; *c; c++)
				putchar(*c == '\n' || *c == '\r' ? ' ' : *c);
		}
		putchar('\n');
	}
	fflush(stdout);
}

/* a warning in the log, as one line among the actions */
static void
log_warning_event(LogCtx *lc, const char *text)
{
	SchedulerEvent ev = {"warning", NULL, "info", -1, text};

	log_event(lc, &ev);
}

/* at start: the server reachable and pgpart initialised, or a clear error and exit */
static bool
check_database(GlobalOpts *g, PgpError *err)
{
	PgConn pc = {0};
	bool ok = pgc_connect(&pc, g->conninfo, false, err) && schema_require(&pc, err);

	pgc_close(&pc);
	return ok;
}

/* serves --metrics-addr; NULL with err when it cannot listen */
static MetricsServer *
start_metrics(MetricsServerOptions *mo, SchedulerStatus *status, LogCtx *lc, PgpError *err)
{
	MetricsServer *server;
	bool loopback = true;
	sigset_t block, oldmask;
	SchedulerEvent ev = {"metrics", NULL, "info", -1, NULL};
	char *detail;

	/* the HTTP thread inherits a mask without our signals: they come to this thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &oldmask);
	server = metricsd_start(mo, status, &loopback, err);
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	if (server == NULL)
		return NULL;
	detail = pg_xasprintf("serving http://%s/metrics", mo->addr);
	ev.detail = detail;
	log_event(lc, &ev);
	free(detail);
	if (!loopback)
		log_warning_event(lc, "the metrics endpoint is reachable from other hosts and "
							  "has no authentication: anyone who reaches it reads "
							  "table names and sizes; allow only the scrapers "
							  "(firewall, NetworkPolicy)");
	return server;
}

int
cmd_run(int argc, char **argv, GlobalOpts *g)
{
	SchedulerOptions opt;
	SchedulerStatus status;
	MetricsServer *ms_server = NULL;
	LogCtx lc = {false, (long) getpid()};
	MetricsServerOptions mo = {NULL, NULL, 5000, 5000};
	int log_format = LOG_FORMAT_TEXT;
	const CliOption options[] = {
		CLI_DURATION64("every", 0, &opt.every_ms, 1000, (double) INT64_MAX,
					   "at least 1s, e.g. 30s, 10m, 1h"),
		CLI_TRUE("once", 0, &opt.once),
		CLI_INT("jobs", 'j', &opt.jobs, 1, 64),
		CLI_FALSE("no-vacuum", 0, &opt.maintenance),
		CLI_CHOICE("log-format", 0, &log_format, "text|json"),
		CLI_STRING("metrics-addr", 0, &mo.addr),
		CLI_DURATION("metrics-cache", 0, &mo.cache_ms, 0, 3600000, "0 to 1h, e.g. 5s"),
		CLI_DURATION("metrics-timeout", 0, &mo.timeout_ms, 100, 600000, "100ms to 10min, e.g. 5s"),
		CLI_END,
	};
	const CliSpec spec = {"run", help, options, NULL, false};
	PgpError err;
	struct sigaction sa, old_int, old_term, old_hup;
	int first, rc;

	memset(&opt, 0, sizeof(opt));
	opt.every_ms = 600000;
	opt.jobs = 2;
	opt.maintenance = true;
	if ((rc = cli_parse(&spec, argc, argv, g, &first)) != CLI_PARSED)
		return rc;
	if (first < argc)
		return cli_usage_error("run", "unexpected argument \"%s\" (run works on every managed "
									  "table)",
							   argv[first]);
	if (g->dry_run)
		return cli_usage_error("run", "--dry-run is not supported by run; use \"pgpart maintain "
									  "--dry-run\"");
	lc.json = log_format == LOG_FORMAT_JSON || g->json;
	/* a follower retries often enough to take over within one interval */
	opt.poll_ms = opt.every_ms < 5000 ? opt.every_ms / 2 : 5000;
	if (opt.poll_ms < 500)
		opt.poll_ms = 500;
	opt.conninfo = g->conninfo;
	opt.lock = g->lock;
	opt.vacuum_lock_timeout_ms = g->lock_timeout_given ? g->lock.lock_timeout_ms
													   : LOCK_TIMEOUT_WEAK_MS;
	opt.stop = &stop_requested;
	opt.reload = &reload_requested;
	opt.log = log_event;
	opt.log_arg = &lc;
	opt.status = &status;

	rc = EXIT_OK;
	err_init(&err);
	if (!check_database(g, &err))
	{
		rc = cli_fail(&err);
		err_clear(&err);
		return rc;
	}
	schedulerstatus_init(&status);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, &old_hup);
	if (g->password_in_argv)
		log_warning_event(&lc, "a password was given in -d: it is masked in this process's "
							   "arguments now, but it was visible to other local users until "
							   "then and stays in your shell history; put it in a password file "
							   "(PGPASSFILE, ~/.pgpass) or a service file instead");
	if (mo.addr)
	{
		mo.conninfo = g->conninfo;
		ms_server = start_metrics(&mo, &status, &lc, &err);
		if (ms_server == NULL)
			rc = cli_fail(&err);
	}
	if (rc == EXIT_OK && !ops_scheduler_run(&opt, &err))
		rc = cli_fail(&err);
	metricsd_stop(ms_server);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	schedulerstatus_destroy(&status);
	err_clear(&err);
	return rc;
}
