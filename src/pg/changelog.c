/*
 * changelog.c - writes pgpart.change_log.  The start is the server's clock
 * less the statement's duration, so rows from several hosts order by one
 * clock; the duration runs from sending the statement to its end, lock
 * waits included, which for a LOCK row is what writers queued behind it.
 */
#include "pg/changelog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/changekind.h"
#include "util/log.h"
#include "util/mem.h"

const char changelog_probe_sql[] =
	"CASE WHEN pg_catalog.to_regclass('pgpart.change_log') IS NULL THEN NULL ELSE "
	"pg_catalog.has_table_privilege(pg_catalog.to_regclass('pgpart.change_log'), 'INSERT') END";

void
changelog_set_state(PgConn *pc, const char *probe_value)
{
	if (probe_value == NULL || probe_value[0] == '\0')
		pc->changelog = CHANGELOG_OFF;
	else
		pc->changelog = probe_value[0] == 't' ? CHANGELOG_ON : CHANGELOG_NO_RIGHT;
}

void
changelog_subject(PgConn *pc, const char *schema, const char *name)
{
	if (pc->subject_name == NULL)
		changelog_work_on(pc, schema, name);
}

void
changelog_work_on(PgConn *pc, const char *schema, const char *name)
{
	FREE_ALL(pc->subject_schema, pc->subject_name);
	pc->subject_schema = pg_xstrdup(schema);
	pc->subject_name = pg_xstrdup(name);
}

static char *
host_name(void)
{
	size_t size = 256;

	for (;;)
	{
		char *buf = pg_xmalloc(size);

		if (gethostname(buf, size) == 0 && memchr(buf, '\0', size) != NULL)
			return buf;
		free(buf);
		if (size >= 65536)
			return pg_xstrdup("unknown");
		size *= 4;
	}
}

static bool
record_kind(PgConn *pc, ChangeKind kind, const char *sql, const PGresult *res,
			double duration_ms, PgpError *err)
{
	const char *tag = PQcmdStatus((PGresult *) res);
	const char *rows = PQcmdTuples((PGresult *) res);
	char duration[32], pid[16];
	char *host;
	const char *params[10];
	bool ok;

	if (kind == CHANGE_NONE || pc->changelog == CHANGELOG_OFF || pc->changelog == CHANGELOG_WARNED)
		return true;
	if (pc->changelog == CHANGELOG_NO_RIGHT)
	{
		log_warning("this session's changes are not in pgpart.change_log: role %s may not "
					"insert into it",
					PQuser(pc->conn));
		log_hint("Run pgpart as the role that ran \"pgpart init\" (docs/security.md).");
		pc->changelog = CHANGELOG_WARNED;
		return true;
	}
	snprintf(duration, sizeof(duration), "%.3f", duration_ms);
	snprintf(pid, sizeof(pid), "%d", (int) getpid());
	host = host_name();
	params[0] = duration;
	params[1] = host;
	params[2] = pid;
	params[3] = pc->command ? pc->command : "pgpart";
	params[4] = pc->subject_schema;
	params[5] = change_kind_name(kind);
	params[6] = sql;
	params[7] = rows && rows[0] ? rows : NULL;
	params[8] = tag;
	params[9] = pc->subject_name;
	ok = pgc_exec(pc,
				  "INSERT INTO pgpart.change_log (started_at, duration_ms, client_host, "
				  "client_pid, command, table_name, kind, statement, rows, outcome) VALUES ("
				  "pg_catalog.clock_timestamp() - pg_catalog.make_interval(secs => $1::float8 / "
				  "1000), $1::float8, $2, $3::integer, $4, "
				  "CASE WHEN $5::text IS NOT NULL THEN pg_catalog.format('%I.%I', $5, $10::text) END, "
				  "$6, $7, $8::bigint, $9)",
				  10, params, err);
	free(host);
	if (!ok)
		err_prefix(err, "could not record the change in pgpart.change_log");
	return ok;
}

bool
changelog_record(PgConn *pc, const char *sql, const PGresult *res, double duration_ms,
				 PgpError *err)
{
	return record_kind(pc, change_kind(PQcmdStatus((PGresult *) res), sql), sql, res,
					   duration_ms, err);
}

bool
changelog_record_own(PgConn *pc, const char *sql, const PGresult *res, PgpError *err)
{
	return record_kind(pc, CHANGE_ROWS, sql, res, 0, err);
}
