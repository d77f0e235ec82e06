/*
 * changelog.c - writes pgpart.change_log.  The start is the server's clock
 * less the statement's duration, so rows from several hosts order by one
 * clock; the duration runs from sending the statement to its end, lock
 * waits included, which for a LOCK row is what writers queued behind it;
 * what they queued for afterwards, the hold, is filled in at the commit.
 */
#include "pg/changelog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/changekind.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strbuf.h"

/*
 * The hold needs UPDATE on lock_hold_ms and, to find the row again, SELECT
 * on id: pgpart's own role has both; an operator granted only INSERT does
 * not, and must not have its COMMIT fail for a figure.
 */
const char changelog_probe_sql[] =
	"CASE WHEN pg_catalog.to_regclass('pgpart.change_log') IS NULL THEN NULL ELSE "
	"pg_catalog.has_table_privilege(pg_catalog.to_regclass('pgpart.change_log'), 'INSERT') END, "
	"CASE WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a "
	"WHERE a.attrelid = pg_catalog.to_regclass('pgpart.change_log') "
	"AND a.attname = 'lock_hold_ms' AND NOT a.attisdropped) THEN false ELSE "
	"pg_catalog.has_column_privilege(pg_catalog.to_regclass('pgpart.change_log'), "
	"'lock_hold_ms', 'UPDATE') AND "
	"pg_catalog.has_column_privilege(pg_catalog.to_regclass('pgpart.change_log'), 'id', "
	"'SELECT') END";

void
changelog_set_state(PgConn *pc, const char *insert_value, const char *hold_value)
{
	if (insert_value == NULL || insert_value[0] == '\0')
		pc->changelog = CHANGELOG_OFF;
	else
		pc->changelog = insert_value[0] == 't' ? CHANGELOG_ON : CHANGELOG_NO_RIGHT;
	pc->changelog_hold =
		pc->changelog == CHANGELOG_ON && hold_value != NULL && hold_value[0] == 't';
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

/* a LOCK row just written, granted at granted_at: its hold is filled in at the commit */
static void
keep_hold(PgConn *pc, const char *id, double granted_at)
{
	if (pc->nheld_locks == pc->held_locks_size)
	{
		pc->held_locks_size = pc->held_locks_size ? pc->held_locks_size * 2 : 4;
		pc->held_locks =
			pg_xrealloc(pc->held_locks, (size_t) pc->held_locks_size * sizeof(HeldLock));
	}
	pc->held_locks[pc->nheld_locks].id = strtoll(id, NULL, 10);
	pc->held_locks[pc->nheld_locks].granted_at = granted_at;
	pc->nheld_locks++;
}

#define CHANGELOG_INSERT                                                                        \
	"INSERT INTO pgpart.change_log (started_at, duration_ms, client_host, "                     \
	"client_pid, command, table_name, kind, statement, rows, outcome) VALUES ("                 \
	"pg_catalog.clock_timestamp() - pg_catalog.make_interval(secs => $1::float8 / "             \
	"1000), $1::float8, $2, $3::integer, $4, "                                                  \
	"CASE WHEN $5::text IS NOT NULL THEN pg_catalog.format('%I.%I', $5, $10::text) END, "       \
	"$6, $7, $8::bigint, $9)"

static bool
record_kind(PgConn *pc, ChangeKind kind, const char *sql, const char *tag, const char *rows,
			double duration_ms, PgpError *err)
{
	/* the statement has just returned: for a LOCK, the lock was granted now */
	double ended = clock_ms();
	bool hold = kind == CHANGE_LOCK && pc->changelog_hold;
	char duration[32], pid[16];
	char *host;
	const char *params[10];
	PGresult *res;

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
	res = pgc_query(pc, hold ? CHANGELOG_INSERT " RETURNING id" : CHANGELOG_INSERT, 10, params,
					err);
	free(host);
	if (res == NULL)
	{
		err_prefix(err, "could not record the change in pgpart.change_log");
		return false;
	}
	if (hold && PQntuples(res) == 1)
		keep_hold(pc, PQgetvalue(res, 0, 0), ended);
	PQclear(res);
	return true;
}

bool
changelog_record(PgConn *pc, const char *sql, const PGresult *res, double duration_ms,
				 PgpError *err)
{
	const char *tag = PQcmdStatus((PGresult *) res);

	return record_kind(pc, change_kind(tag, sql), sql, tag, PQcmdTuples((PGresult *) res),
					   duration_ms, err);
}

bool
changelog_record_ran(PgConn *pc, const char *sql, const char *tag, const char *rows,
					 double duration_ms, PgpError *err)
{
	return record_kind(pc, change_kind(tag, sql), sql, tag, rows, duration_ms, err);
}

bool
changelog_record_own(PgConn *pc, const char *sql, const PGresult *res, PgpError *err)
{
	return record_kind(pc, CHANGE_ROWS, sql, PQcmdStatus((PGresult *) res),
					   PQcmdTuples((PGresult *) res), 0, err);
}

/*
 * Measured on this client's monotonic clock, from the LOCK's return to the
 * COMMIT being sent: the COMMIT's own round trip is not in it, as the
 * LOCK's request was not in duration_ms either.  One statement for every
 * lock of the transaction, each with its own grant time.
 */
bool
changelog_record_holds(PgConn *pc, PgpError *err)
{
	StrBuf ids, holds;
	double now = clock_ms();
	const char *params[2];
	bool ok;
	int i;

	if (pc->nheld_locks == 0)
		return true;
	sb_init(&ids);
	sb_init(&holds);
	sb_append_char(&ids, '{');
	sb_append_char(&holds, '{');
	for (i = 0; i < pc->nheld_locks; i++)
	{
		const HeldLock *h = &pc->held_locks[i];

		sb_appendf(&ids, "%s%lld", i ? "," : "", h->id);
		sb_appendf(&holds, "%s%.3f", i ? "," : "", now - h->granted_at);
	}
	sb_append_char(&ids, '}');
	sb_append_char(&holds, '}');
	params[0] = ids.data;
	params[1] = holds.data;
	ok = pgc_exec(pc,
				  "UPDATE pgpart.change_log c SET lock_hold_ms = h.ms "
				  "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), "
				  "pg_catalog.unnest($2::pg_catalog.float8[])) AS h(id, ms) "
				  "WHERE c.id = h.id",
				  2, params, err);
	sb_free(&ids);
	sb_free(&holds);
	if (!ok)
		err_prefix(err, "could not record how long the locks were held in pgpart.change_log");
	return ok;
}

void
changelog_forget_holds(PgConn *pc)
{
	pc->nheld_locks = 0;
}
