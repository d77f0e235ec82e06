/* pgpart run - maintain every managed table on a schedule, one active instance of several */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/duration.h"
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
	"killed, its host or network went away).\n\n"
	"Usage:\n"
	"  pgpart run [OPTION]...\n\n"
	"Options:\n"
	"      --every=DUR          time from one cycle's start to the next (default 10m;\n"
	"                           at least 1s): 30s, 10m, 1h\n"
	"      --once               one cycle, then exit (for cron, systemd timers and\n"
	"                           Kubernetes CronJobs); exits 0 at once when another\n"
	"                           instance is active, 1 when something that is not a\n"
	"                           pgpart instance holds the leader lock (it is named)\n"
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

enum
{
	OPT_EVERY = OPT_FIRST_COMMAND_OPTION,
	OPT_ONCE,
	OPT_NO_VACUUM,
	OPT_LOG_FORMAT,
	OPT_METRICS_ADDR,
	OPT_METRICS_CACHE,
	OPT_METRICS_TIMEOUT
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

/* at start: the server reachable and pgpart initialised, or a clear error and exit */
static bool
check_database(GlobalOpts *g, PgpError *err)
{
	PgConn pc = {0};
	bool ok = pgc_connect(&pc, g->conninfo, false, err) && schema_require(&pc, err);

	pgc_close(&pc);
	return ok;
}

int
cmd_run(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG_OPTIONS,
		{"every", required_argument, NULL, OPT_EVERY},
		{"once", no_argument, NULL, OPT_ONCE},
		{"jobs", required_argument, NULL, 'j'},
		{"no-vacuum", no_argument, NULL, OPT_NO_VACUUM},
		{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
		{"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
		{"metrics-cache", required_argument, NULL, OPT_METRICS_CACHE},
		{"metrics-timeout", required_argument, NULL, OPT_METRICS_TIMEOUT},
		{NULL, 0, NULL, 0},
	};
	SchedulerOptions opt;
	SchedulerStatus status;
	MetricsServer *ms_server = NULL;
	LogCtx lc = {false, (long) getpid()};
	MetricsServerOptions mo = {NULL, NULL, 5000, 5000};
	int64_t ms;
	PgpError err;
	struct sigaction sa, old_int, old_term, old_hup;
	sigset_t block, oldmask;
	int c, rc = EXIT_OK;

	memset(&opt, 0, sizeof(opt));
	opt.every_ms = 600000;
	opt.jobs = 2;
	opt.maintenance = true;
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS "j:", opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf("%s%s", help, CLI_COMMON_HELP);
				return EXIT_OK;
			case OPT_EVERY:
				if (!duration_parse_ms(optarg, &opt.every_ms) || opt.every_ms < 1000)
					return cli_usage_error("run", "invalid interval --every \"%s\" (at least 1s, "
												  "e.g. 30s, 10m, 1h)",
										   optarg);
				break;
			case OPT_ONCE:
				opt.once = true;
				break;
			case 'j':
				if (!cli_parse_int(optarg, 1, 64, &opt.jobs))
					return cli_usage_error("run", "invalid --jobs \"%s\" (1 to 64)", optarg);
				break;
			case OPT_NO_VACUUM:
				opt.maintenance = false;
				break;
			case OPT_LOG_FORMAT:
				if (strcmp(optarg, "json") == 0)
					lc.json = true;
				else if (strcmp(optarg, "text") == 0)
					lc.json = false;
				else
					return cli_usage_error("run", "invalid --log-format \"%s\" (text or json)",
										   optarg);
				break;
			case OPT_METRICS_ADDR:
				mo.addr = optarg;
				break;
			case OPT_METRICS_CACHE:
				if (!duration_parse_ms(optarg, &ms) || ms < 0 || ms > 3600000)
					return cli_usage_error("run", "invalid --metrics-cache \"%s\" (0 to 1h, e.g. 5s)",
										   optarg);
				mo.cache_ms = (int) ms;
				break;
			case OPT_METRICS_TIMEOUT:
				if (!duration_parse_ms(optarg, &ms) || ms < 100 || ms > 600000)
					return cli_usage_error("run",
										   "invalid --metrics-timeout \"%s\" (100ms to 10min, e.g. 5s)",
										   optarg);
				mo.timeout_ms = (int) ms;
				break;
			default:
				return cli_usage_error("run", "invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument \"%s\" (run works on every managed "
									  "table)",
							   argv[optind]);
	if (g->dry_run)
		return cli_usage_error("run", "--dry-run is not supported by run; use \"pgpart maintain "
									  "--dry-run\"");
	if (g->json)
		lc.json = true;
	/* a follower retries often enough to take over within one interval */
	opt.poll_ms = opt.every_ms < 5000 ? opt.every_ms / 2 : 5000;
	if (opt.poll_ms < 500)
		opt.poll_ms = 500;
	opt.conninfo = g->conninfo;
	opt.lock = g->lock;
	opt.stop = &stop_requested;
	opt.reload = &reload_requested;
	opt.log = log_event;
	opt.log_arg = &lc;
	opt.status = &status;

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
	{
		SchedulerEvent ev = {"warning", NULL, "info", -1,
							 "a password was given in -d: it is masked in this process's "
							 "arguments now, but it was visible to other local users until "
							 "then and stays in your shell history; put it in a password file "
							 "(PGPASSFILE, ~/.pgpass) or a service file instead"};

		log_event(&lc, &ev);
	}
	if (mo.addr)
	{
		bool loopback = true;

		/* the HTTP thread inherits a mask without our signals: they come to this thread */
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &block, &oldmask);
		mo.conninfo = g->conninfo;
		ms_server = metricsd_start(&mo, &status, &loopback, &err);
		pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
		if (ms_server == NULL)
			rc = cli_fail(&err);
		else
		{
			SchedulerEvent ev = {"metrics", NULL, "info", -1, NULL};
			char *d = pg_xasprintf("serving http://%s/metrics", mo.addr);

			ev.detail = d;
			log_event(&lc, &ev);
			free(d);
			if (!loopback)
			{
				SchedulerEvent w = {"warning", NULL, "info", -1,
									"the metrics endpoint is reachable from other hosts and "
									"has no authentication: anyone who reaches it reads "
									"table names and sizes; allow only the scrapers "
									"(firewall, NetworkPolicy)"};

				log_event(&lc, &w);
			}
		}
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
