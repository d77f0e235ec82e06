/*
 * remote_sql.c - the statements of the remote tier (see remote_sql.h).
 */
#include "commands/remote/remote_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "pg/changelog.h"
#include "pg/partition.h"
#include "pg/stmt.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

static void
wipe(char *s)
{
	if (s)
	{
		volatile char *p = s;

		while (*p)
			*p++ = '\0';
	}
}

void
remoteserver_free(RemoteServer *s)
{
	wipe(s->password);
	FREE_ALL(s->host, s->port, s->dbname, s->user, s->password);
	memset(s, 0, sizeof(*s));
}

static char *
value_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_xstrdup(PQgetvalue(res, row, col));
}

/* ---- the foreign server ----------------------------------------------- */

bool
remote_sql_is_superuser(PgConn *pc, bool *super, PgpError *err)
{
	return stmt_query_bool(pc, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER",
						   0, NULL, super, err);
}

bool
remote_sql_fdw_state(PgConn *pc, bool *installed, bool *usage, PgpError *err)
{
	PGresult *res = pgc_query(
		pc,
		"SELECT EXISTS (SELECT FROM pg_catalog.pg_foreign_data_wrapper WHERE fdwname = 'postgres_fdw'), "
		"  COALESCE((SELECT pg_catalog.has_foreign_data_wrapper_privilege(oid, 'USAGE') "
		"    FROM pg_catalog.pg_foreign_data_wrapper WHERE fdwname = 'postgres_fdw'), false)",
		0, NULL, err);

	if (res == NULL)
		return false;
	*installed = PQgetvalue(res, 0, 0)[0] == 't';
	*usage = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	return true;
}

bool
remote_sql_server_load(PgConn *pc, const char *srvname, RemoteServer *s, PgpError *err)
{
	const char *params[1] = {srvname};
	PGresult *res;

	memset(s, 0, sizeof(*s));
	/* umoptions are visible to the mapped user (with USAGE) and to the server's owner */
	res = pgc_query(
		pc,
		"SELECT s.srvowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(s.srvoptions) WHERE option_name = 'host'), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(s.srvoptions) WHERE option_name = 'port'), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(s.srvoptions) WHERE option_name = 'dbname'), "
		"  m.umoptions IS NOT NULL, "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(m.umoptions) WHERE option_name = 'user'), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(m.umoptions) WHERE option_name = 'password') "
		"FROM pg_catalog.pg_foreign_server s "
		"LEFT JOIN LATERAL (SELECT um.umoptions FROM pg_catalog.pg_user_mappings um "
		"  WHERE um.srvid = s.oid AND (um.usename = CURRENT_USER OR um.umuser = 0) "
		"  ORDER BY um.umuser = 0 LIMIT 1) m ON true "
		"WHERE s.srvname = $1",
		1, params, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		s->exists = true;
		s->owner = PQgetvalue(res, 0, 0)[0] == 't';
		s->host = value_or_null(res, 0, 1);
		s->port = value_or_null(res, 0, 2);
		s->dbname = value_or_null(res, 0, 3);
		s->mapping = PQgetvalue(res, 0, 4)[0] == 't';
		s->user = value_or_null(res, 0, 5);
		s->password = value_or_null(res, 0, 6);
		wipe(PQgetvalue(res, 0, 6));
	}
	PQclear(res);
	return true;
}

static void
append_option(PgConn *pc, StrBuf *sb, const char *name, const char *value, bool *first)
{
	if (value == NULL)
		return;
	sb_appendf(sb, "%s%s ", *first ? "" : ", ", name);
	pgc_append_literal(pc, sb, value);
	*first = false;
}

bool
remote_sql_create_server(PgConn *pc, const char *srvname, const char *host, const char *port,
						 const char *dbname, PgpError *err)
{
	StrBuf sql;
	bool first = true, ok;

	sb_init(&sql);
	sb_append(&sql, "CREATE SERVER ");
	pgc_append_ident(pc, &sql, srvname);
	sb_append(&sql, " FOREIGN DATA WRAPPER postgres_fdw OPTIONS (");
	append_option(pc, &sql, "host", host, &first);
	append_option(pc, &sql, "port", port, &first);
	append_option(pc, &sql, "dbname", dbname, &first);
	/* reads of several remote partitions run at once (async Append) */
	append_option(pc, &sql, "async_capable", "true", &first);
	/*
	 * a closed partition is read whole or by ranges: 10000 rows per round
	 * trip instead of postgres_fdw's 100.  Over loopback bench/remote sees no
	 * difference; over a network each round trip costs its latency (2000 of
	 * them for a quarter of 200000 rows at 100 rows each).
	 */
	append_option(pc, &sql, "fetch_size", "10000", &first);
	sb_append(&sql, ")");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
remote_sql_create_mapping(PgConn *pc, const char *srvname, const char *user, const char *password,
						  PgpError *err)
{
	StrBuf head, real, shown;
	bool first = true, ok;

	sb_init(&head);
	sb_init(&real);
	sb_init(&shown);
	sb_append(&head, "CREATE USER MAPPING FOR CURRENT_USER SERVER ");
	pgc_append_ident(pc, &head, srvname);
	sb_append(&head, " OPTIONS (");
	append_option(pc, &head, "user", user, &first);
	sb_append(&real, head.data);
	sb_append(&shown, head.data);
	if (password)
	{
		sb_appendf(&real, "%spassword ", first ? "" : ", ");
		pgc_append_literal(pc, &real, password);
		sb_appendf(&shown, "%spassword '********'", first ? "" : ", ");
	}
	sb_append(&real, ")");
	sb_append(&shown, ")");
	ok = pgc_change_secret(pc, real.data, shown.data, err);
	wipe(real.data);
	sb_free(&head);
	sb_free(&real);
	sb_free(&shown);
	return ok;
}

#define REMOTE_PROBE_SAVEPOINT "pgpart_remote_probe"

bool
remote_sql_probe(PgConn *pc, const char *srvname, PgpError *err)
{
	char *srv_q;
	bool ok;
	long long n = 0;

	if (pc->dry_run)
		return true;
	if (!stmt_savepoint(pc, SAVEPOINT_SET, REMOTE_PROBE_SAVEPOINT, err))
		return false;
	srv_q = pgc_quote_ident(pc, srvname);
	ok = stmt_change_f(pc, err,
					   "CREATE FOREIGN TABLE pgpart.pgpart_remote_probe (datname name) SERVER %s "
					   "OPTIONS (schema_name 'pg_catalog', table_name 'pg_database')",
					   srv_q) &&
		 stmt_query_number(pc, "SELECT pg_catalog.count(*) FROM pgpart.pgpart_remote_probe", 0,
						   NULL, &n, err);
	free(srv_q);
	if (!ok)
		return false;
	return stmt_savepoint(pc, SAVEPOINT_ROLLBACK, REMOTE_PROBE_SAVEPOINT, err) &&
		   stmt_savepoint(pc, SAVEPOINT_RELEASE, REMOTE_PROBE_SAVEPOINT, err);
}

bool
remote_sql_drop_server(PgConn *pc, const char *srvname, PgpError *err)
{
	char *q = pgc_quote_ident(pc, srvname);
	bool ok = stmt_change_f(pc, err, "DROP USER MAPPING IF EXISTS FOR CURRENT_USER SERVER %s", q) &&
			  stmt_change_f(pc, err, "DROP SERVER %s", q);

	free(q);
	return ok;
}

PGresult *
remote_sql_list_servers(PgConn *pc, PgpError *err)
{
	return pgc_query(
		pc,
		"SELECT pg_catalog.substr(s.srvname, pg_catalog.length('" REMOTE_SERVER_PREFIX "') + 1), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(s.srvoptions) WHERE option_name = 'host'), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(s.srvoptions) WHERE option_name = 'port'), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(s.srvoptions) WHERE option_name = 'dbname'), "
		"  (SELECT option_value FROM pg_catalog.pg_user_mappings um, "
		"     pg_catalog.pg_options_to_table(um.umoptions) "
		"   WHERE um.srvid = s.oid AND um.usename = CURRENT_USER AND option_name = 'user'), "
		"  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_foreign_table ft "
		"   JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid WHERE ft.ftserver = s.oid AND c.relispartition), "
		"  COALESCE((SELECT pg_catalog.sum(j.rows) FROM pgpart.remote_job j "
		"   WHERE j.server = pg_catalog.substr(s.srvname, pg_catalog.length('" REMOTE_SERVER_PREFIX "') + 1) "
		"     AND j.kind = 'send' AND j.phase = 'done' AND EXISTS (SELECT FROM pg_catalog.pg_foreign_table ft "
		"       JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"       WHERE ft.ftserver = s.oid AND n.nspname = j.part_schema AND c.relname = j.part_name)), 0) "
		"FROM pg_catalog.pg_foreign_server s "
		"JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw AND w.fdwname = 'postgres_fdw' "
		"WHERE pg_catalog.starts_with(s.srvname, '" REMOTE_SERVER_PREFIX "') ORDER BY 1",
		0, NULL, err);
}

/* ---- session settings -------------------------------------------------- */

bool
remote_sql_encoding(PgConn *pc, char **encoding, PgpError *err)
{
	return pgc_query_value(pc, "SELECT pg_catalog.current_setting('server_encoding')", 0, NULL,
						   encoding, err);
}

bool
remote_sql_same_output(PgConn *pc, const char *encoding, PgpError *err)
{
	const char *params[1] = {encoding};

	return pgc_exec(pc,
					"SELECT pg_catalog.set_config('client_encoding', $1, false), "
					"pg_catalog.set_config('datestyle', 'ISO, YMD', false), "
					"pg_catalog.set_config('intervalstyle', 'postgres', false), "
					"pg_catalog.set_config('extra_float_digits', '3', false), "
					"pg_catalog.set_config('bytea_output', 'hex', false)",
					1, params, err);
}

/* ---- columns ----------------------------------------------------------- */

void
remotecolumns_free(RemoteColumns *c)
{
	NAMELIST_FREE_ALL(&c->names, &c->types, &c->notnull);
	free(c->list_q);
	memset(c, 0, sizeof(*c));
}

bool
remote_sql_columns(PgConn *pc, RelOid rel, RemoteColumns *c, PgpError *err)
{
	PGresult *res;
	StrBuf list;
	int i;

	memset(c, 0, sizeof(*c));
	res = catalog_oid_query(pc,
							"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
							"a.attnotnull, a.attgenerated <> '' "
							"FROM pg_catalog.pg_attribute a "
							"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
							"AND NOT a.attisdropped ORDER BY a.attnum",
							rel, err);
	if (res == NULL)
		return false;
	sb_init(&list);
	for (i = 0; i < PQntuples(res); i++)
	{
		namelist_add(&c->names, PQgetvalue(res, i, 0));
		namelist_add(&c->types, PQgetvalue(res, i, 1));
		namelist_add(&c->notnull, PQgetvalue(res, i, 2));
		if (PQgetvalue(res, i, 3)[0] == 't')
			c->generated++;
		if (i)
			sb_append(&list, ", ");
		pgc_append_ident(pc, &list, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	c->list_q = sb_steal(&list);
	return true;
}

/* "col type [NOT NULL], ..." quoted on pc (the connection that runs it) */
static void
append_column_defs(PgConn *pc, StrBuf *sb, const RemoteColumns *c)
{
	int i;

	for (i = 0; i < c->names.n; i++)
	{
		if (i)
			sb_append(sb, ", ");
		pgc_append_ident(pc, sb, c->names.items[i]);
		/* format_type() text: the server's own spelling of the type, quoted where needed */
		sb_appendf(sb, " %s%s", c->types.items[i],
				   c->notnull.items[i][0] == 't' ? " NOT NULL" : "");
	}
}

static char *
quoted_list(PgConn *pc, const RemoteColumns *c)
{
	StrBuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < c->names.n; i++)
	{
		if (i)
			sb_append(&sb, ", ");
		pgc_append_ident(pc, &sb, c->names.items[i]);
	}
	return sb_steal(&sb);
}

/* ---- the table on the remote server ------------------------------------ */

bool
remote_sql_create_table(PgConn *pc, const char *schema, const char *name, const RemoteColumns *c,
						const char *mark, PgpError *err)
{
	char *schema_q = pgc_quote_ident(pc, schema);
	char *table_q = pgc_quote_qualified(pc, schema, name);
	StrBuf sql;
	bool ok;
	const char *params[1] = {schema};
	bool have = false;

	sb_init(&sql);
	ok = stmt_query_bool(pc, "SELECT pg_catalog.to_regnamespace(pg_catalog.quote_ident($1)) IS NOT NULL",
						 1, params, &have, err) &&
		 (have || stmt_change_f(pc, err, "CREATE SCHEMA %s", schema_q));
	if (ok)
	{
		sb_appendf(&sql, "CREATE TABLE %s (", table_q);
		append_column_defs(pc, &sql, c);
		sb_append(&sql, ")");
		ok = stmt_change_sb(pc, &sql, err) && tiermove_comment(pc, table_q, mark, err);
	}
	sb_free(&sql);
	FREE_ALL(schema_q, table_q);
	return ok;
}

bool
remote_sql_drop_table(PgConn *pc, const char *schema, const char *name, PgpError *err)
{
	char *q = pgc_quote_qualified(pc, schema, name);
	bool ok = tiermove_drop_table(pc, q, err);

	free(q);
	return ok;
}

bool
remote_sql_begin_check(PgConn *pc, PgpError *err)
{
	return pgc_exec(pc, "BEGIN", 0, NULL, err);
}

void
remote_sql_rollback(PgConn *pc)
{
	pgc_exec_quiet(pc, "ROLLBACK", 0, NULL);
}

bool
remote_sql_begin_snapshot(PgConn *pc, PgpError *err)
{
	return pgc_change(pc, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, err);
}

bool
remote_sql_lock_share(PgConn *pc, const char *schema, const char *name, PgpError *err)
{
	char *q = pgc_quote_qualified(pc, schema, name);
	bool ok = stmt_change_f(pc, err, "LOCK TABLE %s IN SHARE MODE", q);

	free(q);
	return ok;
}

static void
copy_error(PgConn *pc, PGresult *res, PgpError *err, const char *what)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	err_set(err, EXIT_RUNTIME, "%s: %s", what, primary ? primary : PQerrorMessage(pc->conn));
	if (state)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
}

static void
abandon_in(PgConn *pc)
{
	PGresult *res;

	PQputCopyEnd(pc->conn, "pgpart: the source of the rows failed");
	while ((res = PQgetResult(pc->conn)) != NULL)
		PQclear(res);
}

bool
remote_sql_stream(PgConn *from, const char *from_schema, const char *from_name, PgConn *to,
				  const char *to_schema, const char *to_name, const RemoteColumns *c,
				  long long *rows, PgpError *err)
{
	char *src_q = pgc_quote_qualified(from, from_schema, from_name);
	char *src_cols = quoted_list(from, c);
	char *dst_q = pgc_quote_qualified(to, to_schema, to_name);
	char *dst_cols = quoted_list(to, c);
	char *out_sql = pg_xasprintf("COPY (SELECT %s FROM ONLY %s) TO STDOUT", src_cols, src_q);
	char *in_sql = pg_xasprintf("COPY %s (%s) FROM STDIN", dst_q, dst_cols);
	PGresult *res = NULL;
	bool ok = false, out_open = false, in_open = false;
	double started = clock_ms();

	*rows = 0;
	if (from->dry_run || to->dry_run)
	{
		char *note = pg_xasprintf("%s, streamed into %s", out_sql, in_sql);

		pgc_dry_run_note(from, note);
		free(note);
		ok = true;
		goto done;
	}
	log_debug("SQL: %s", in_sql);
	res = PQexecParams(to->conn, in_sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		copy_error(to, res, err, "COPY into the copy failed");
		goto done;
	}
	PQclear(res);
	in_open = true;
	log_debug("SQL: %s", out_sql);
	res = PQexecParams(from->conn, out_sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
	{
		copy_error(from, res, err, "COPY of the rows failed");
		goto done;
	}
	PQclear(res);
	res = NULL;
	out_open = true;
	for (;;)
	{
		char *buf;
		int n = PQgetCopyData(from->conn, &buf, 0);

		if (n == -1)
			break;
		if (n < 0)
		{
			err_set(err, EXIT_RUNTIME, "COPY of the rows failed: %s", PQerrorMessage(from->conn));
			goto done;
		}
		if (PQputCopyData(to->conn, buf, n) != 1)
		{
			PQfreemem(buf);
			err_set(err, EXIT_RUNTIME, "COPY into the copy failed: %s", PQerrorMessage(to->conn));
			goto done;
		}
		PQfreemem(buf);
	}
	out_open = false;
	res = PQgetResult(from->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		copy_error(from, res, err, "COPY of the rows failed");
		goto done;
	}
	PQclear(res);
	while ((res = PQgetResult(from->conn)) != NULL)
		PQclear(res);
	in_open = false;
	if (PQputCopyEnd(to->conn, NULL) != 1)
	{
		err_set(err, EXIT_RUNTIME, "COPY into the copy failed: %s", PQerrorMessage(to->conn));
		goto done;
	}
	res = PQgetResult(to->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		copy_error(to, res, err, "COPY into the copy failed");
		goto done;
	}
	*rows = atoll(PQcmdTuples(res));
	ok = changelog_record(to, in_sql, res, clock_ms() - started, err);
	PQclear(res);
	while ((res = PQgetResult(to->conn)) != NULL)
		PQclear(res);
done:
	if (out_open)
		pgc_copy_abandon(from);
	if (in_open)
		abandon_in(to);
	if (!ok)
		PQclear(res);
	FREE_ALL(src_q, src_cols, dst_q, dst_cols, out_sql, in_sql);
	return ok;
}

bool
remote_sql_checksum(PgConn *pc, const char *schema, const char *name, const RemoteColumns *c,
					char **rows, char **sum, PgpError *err)
{
	char *q = pgc_quote_qualified(pc, schema, name);
	char *cols = quoted_list(pc, c);
	/* each row's text through ROW(...): the same bytes on both sides under the same settings */
	char *sql = pg_xasprintf(
		"SELECT pg_catalog.count(*)::text, COALESCE(pg_catalog.sum(('x' || pg_catalog.substr("
		"pg_catalog.md5(ROW(%s)::text), 1, 15))::bit(60)::bigint), 0)::text FROM ONLY %s",
		cols, q);
	PGresult *res = pgc_query(pc, sql, 0, NULL, err);

	FREE_ALL(q, cols, sql);
	*rows = *sum = NULL;
	if (res == NULL)
		return false;
	*rows = pg_xstrdup(PQgetvalue(res, 0, 0));
	*sum = pg_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return true;
}

bool
remote_sql_analyze(PgConn *pc, const char *schema, const char *name, PgpError *err)
{
	char *q = pgc_quote_qualified(pc, schema, name);
	bool ok = tiermove_analyze(pc, q, err);

	free(q);
	return ok;
}

/* ---- the foreign table -------------------------------------------------- */

bool
remote_sql_create_foreign(PgConn *pc, const char *schema, const char *name, const RemoteColumns *c,
						  const char *srvname, const char *remote_schema, const char *remote_name,
						  PgpError *err)
{
	char *q = pgc_quote_qualified(pc, schema, name);
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "CREATE FOREIGN TABLE %s (", q);
	append_column_defs(pc, &sql, c);
	sb_append(&sql, ") SERVER ");
	pgc_append_ident(pc, &sql, srvname);
	sb_append(&sql, " OPTIONS (schema_name ");
	pgc_append_literal(pc, &sql, remote_schema);
	sb_append(&sql, ", table_name ");
	pgc_append_literal(pc, &sql, remote_name);
	/* the rows are closed: the foreign table only reads */
	sb_append(&sql, ", updatable 'false')");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	free(q);
	return ok;
}

bool
remote_sql_foreign_facts(PgConn *pc, RelOid rel, char **srvname, char **remote_schema,
						 char **remote_name, PgpError *err)
{
	PGresult *res = catalog_oid_query(
		pc,
		"SELECT s.srvname, "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(ft.ftoptions) WHERE option_name = 'schema_name'), "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(ft.ftoptions) WHERE option_name = 'table_name') "
		"FROM pg_catalog.pg_foreign_table ft JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver "
		"WHERE ft.ftrelid = $1::pg_catalog.oid AND pg_catalog.starts_with(s.srvname, '" REMOTE_SERVER_PREFIX "')",
		rel, err);

	*srvname = *remote_schema = *remote_name = NULL;
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 1) && !PQgetisnull(res, 0, 2))
	{
		*srvname = pg_xstrdup(PQgetvalue(res, 0, 0));
		*remote_schema = pg_xstrdup(PQgetvalue(res, 0, 1));
		*remote_name = pg_xstrdup(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return true;
}

bool
remote_sql_guard_stamp(PgConn *pc, RelOid part, char **stamp, PgpError *err)
{
	return catalog_oid_value(
		pc,
		"SELECT c.relfilenode::text || ' ' || COALESCE((SELECT pg_catalog.string_agg("
		"  t.oid::text || ':' || t.xmin::text || ':' || t.tgenabled::text, ',' ORDER BY t.tgname) "
		"  FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid "
		"  AND t.tgname IN ('" TIERMOVE_GUARD_ROW "', '" TIERMOVE_GUARD_TRUNCATE "')), '-') "
		"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid",
		part, stamp, err);
}

bool
remote_sql_detach(PgConn *pc, const char *parent_q, const char *part_q, PgpError *err)
{
	return stmt_change_f(pc, err, "ALTER TABLE %s DETACH PARTITION %s", parent_q, part_q);
}

bool
remote_sql_create_local_copy(PgConn *pc, const char *copy_q, const char *parent_q,
							 const char *column, const char *lo, const char *hi, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	/* LIKE the table: its columns, defaults, CHECK and NOT NULL constraints; indexes come after the rows */
	sb_appendf(&sql, "CREATE TABLE %s (LIKE %s INCLUDING ALL EXCLUDING IDENTITY EXCLUDING INDEXES, "
					 "CONSTRAINT " REMOTE_BOUNDS_CONSTRAINT " CHECK (",
			   copy_q, parent_q);
	partition_append_bounds(pc, &sql, column, lo, hi);
	sb_append(&sql, "))");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
remote_sql_parent_indexes(PgConn *pc, RelOid parent, const char *parent_name, const char *copy_q,
						  const char *part_name, NameList *stmts, PgpError *err)
{
	PGresult *res;
	size_t plen = strlen(parent_name);
	int i;
	bool ok = true;

	/* the prefix pg_get_indexdef prints, computed the same way and checked */
	res = catalog_oid_query(
		pc,
		"SELECT ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid), "
		"  'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' "
		"    || pg_catalog.quote_ident(ic.relname) || ' ON ONLY ' "
		"    || $1::pg_catalog.oid::pg_catalog.regclass::text || ' ', "
		"  CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END, con.contype "
		"FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid "
		"  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u') "
		"WHERE i.indrelid = $1::pg_catalog.oid ORDER BY ic.relname",
		parent, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *name = PQgetvalue(res, i, 0);
		const char *def = PQgetvalue(res, i, 1);
		const char *prefix = PQgetvalue(res, i, 2);
		const char *suffix = strncmp(name, parent_name, plen) == 0 && name[plen] == '_' &&
									 name[plen + 1]
								 ? name + plen + 1
								 : name;
		char *ix = naming_derive(part_name, suffix);
		char *ix_q;

		if (ix == NULL || strncmp(def, prefix, strlen(prefix)) != 0)
		{
			err_set(err, EXIT_RUNTIME, "unexpected definition of index \"%s\": %s", name, def);
			free(ix);
			ok = false;
			break;
		}
		ix_q = pgc_quote_ident(pc, ix);
		namelist_addf(stmts, "CREATE %sINDEX %s ON %s %s", PQgetvalue(res, i, 3), ix_q, copy_q,
					  def + strlen(prefix));
		if (!PQgetisnull(res, i, 4))
			namelist_addf(stmts, "ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s", copy_q,
						  ix_q, PQgetvalue(res, i, 4)[0] == 'p' ? "PRIMARY KEY" : "UNIQUE", ix_q);
		FREE_ALL(ix, ix_q);
	}
	PQclear(res);
	return ok;
}

bool
remote_sql_row_xmin(PgConn *pc, const char *table_q, char **xid, PgpError *err)
{
	char *sql = pg_xasprintf("SELECT xmin::text FROM ONLY %s LIMIT 1", table_q);
	bool ok = pgc_query_value(pc, sql, 0, NULL, xid, err);

	free(sql);
	return ok;
}

PGresult *
remote_sql_partitions(PgConn *pc, RelOid parent, PgpError *err)
{
	return catalog_oid_query(
		pc,
		"SELECT n.nspname || '.' || c.relname, "
		"  pg_catalog.substr(s.srvname, pg_catalog.length('" REMOTE_SERVER_PREFIX "') + 1), s.srvname, "
		"  (SELECT option_value FROM pg_catalog.pg_options_to_table(ft.ftoptions) WHERE option_name = 'schema_name') "
		"  || '.' || (SELECT option_value FROM pg_catalog.pg_options_to_table(ft.ftoptions) WHERE option_name = 'table_name'), "
		"  (SELECT j.rows::text FROM pgpart.remote_job j WHERE j.kind = 'send' AND j.phase = 'done' "
		"   AND j.part_schema = n.nspname AND j.part_name = c.relname ORDER BY j.id DESC LIMIT 1) "
		"FROM pg_catalog.pg_inherits h JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid "
		"JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver "
		"WHERE pg_catalog.starts_with(s.srvname, '" REMOTE_SERVER_PREFIX "') "
		"AND (h.inhparent = $1::pg_catalog.oid OR h.inhparent = (SELECT foreign_parent FROM "
		"  pgpart.part_config WHERE parent_table = $1::pg_catalog.oid)) "
		"ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid)",
		parent, err);
}

/* ---- pgpart.remote_job -------------------------------------------------- */

void
remotejob_free(RemoteJob *j)
{
	FREE_ALL(j->id, j->kind, j->server, j->pschema, j->pname, j->rschema, j->rname, j->column,
			 j->lo, j->hi, j->phase, j->rows, j->checksum);
	memset(j, 0, sizeof(*j));
}

#define JOB_COLUMNS \
	"id::text, kind, server, part_schema, part_name, remote_schema, remote_name, part_column, " \
	"lo, hi, phase, rows::text, checksum "

static void
job_from_row(const PGresult *res, int row, RemoteJob *j)
{
	j->id = value_or_null(res, row, 0);
	j->kind = value_or_null(res, row, 1);
	j->server = value_or_null(res, row, 2);
	j->pschema = value_or_null(res, row, 3);
	j->pname = value_or_null(res, row, 4);
	j->rschema = value_or_null(res, row, 5);
	j->rname = value_or_null(res, row, 6);
	j->column = value_or_null(res, row, 7);
	j->lo = value_or_null(res, row, 8);
	j->hi = value_or_null(res, row, 9);
	j->phase = value_or_null(res, row, 10);
	j->rows = value_or_null(res, row, 11);
	j->checksum = value_or_null(res, row, 12);
}

bool
remote_sql_job_unfinished(PgConn *pc, RelOid parent, RemoteJob *j, bool *found, PgpError *err)
{
	PGresult *res = catalog_oid_query(pc,
									  "SELECT " JOB_COLUMNS "FROM pgpart.remote_job "
									  "WHERE parent_table = $1::pg_catalog.oid "
									  "AND phase IN ('started', 'copied', 'swapped')",
									  parent, err);

	memset(j, 0, sizeof(*j));
	*found = false;
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
	{
		*found = true;
		job_from_row(res, 0, j);
	}
	PQclear(res);
	return true;
}

bool
remote_sql_job_insert(PgConn *pc, RelOid parent, RemoteJob *j, PgpError *err)
{
	char oid[16];
	const char *params[10];
	PGresult *res;

	snprintf(oid, sizeof(oid), "%u", parent);
	params[0] = oid;
	params[1] = j->kind;
	params[2] = j->server;
	params[3] = j->pschema;
	params[4] = j->pname;
	params[5] = j->rschema;
	params[6] = j->rname;
	params[7] = j->column;
	params[8] = j->lo;
	params[9] = j->hi;
	if (pc->dry_run)
	{
		free(j->id);
		free(j->phase);
		j->id = pg_xstrdup("0");
		j->phase = pg_xstrdup("started");
		return pgc_change(pc,
						  "INSERT INTO pgpart.remote_job (parent_table, kind, server, part_schema, "
						  "part_name, remote_schema, remote_name, part_column, lo, hi, phase) "
						  "VALUES ($1::pg_catalog.oid, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'started')",
						  10, params, err);
	}
	res = pgc_query(pc,
					"INSERT INTO pgpart.remote_job (parent_table, kind, server, part_schema, "
					"part_name, remote_schema, remote_name, part_column, lo, hi, phase) "
					"VALUES ($1::pg_catalog.oid, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'started') "
					"RETURNING id::text",
					10, params, err);
	if (res == NULL)
		return false;
	free(j->id);
	j->id = pg_xstrdup(PQgetvalue(res, 0, 0));
	free(j->phase);
	j->phase = pg_xstrdup("started");
	PQclear(res);
	return true;
}

bool
remote_sql_job_phase(PgConn *pc, RemoteJob *j, const char *phase, const char *note, PgpError *err)
{
	const char *params[5] = {j->id, phase, j->rows, j->checksum, note};

	if (!pgc_change(pc,
					"UPDATE pgpart.remote_job SET phase = $2, rows = COALESCE($3::bigint, rows), "
					"checksum = COALESCE($4, checksum), note = COALESCE($5, note), "
					"swapped_at = CASE WHEN $2 = 'swapped' OR (kind = 'send' AND $2 = 'done') "
					"  THEN pg_catalog.clock_timestamp() ELSE swapped_at END, "
					"ended_at = CASE WHEN $2 IN ('done', 'aborted') THEN pg_catalog.clock_timestamp() END "
					"WHERE id = $1::integer",
					5, params, err))
		return false;
	free(j->phase);
	j->phase = pg_xstrdup(phase);
	return true;
}

bool
remote_sql_job_last_sent(PgConn *pc, RelOid parent, const char *schema, const char *name,
						 RemoteJob *j, bool *found, PgpError *err)
{
	const char *args[2] = {schema, name};
	PGresult *res = catalog_oid_query_args(pc,
										   "SELECT " JOB_COLUMNS "FROM pgpart.remote_job "
										   "WHERE parent_table = $1::pg_catalog.oid AND kind = 'send' "
										   "AND phase = 'done' AND part_schema = $2 AND part_name = $3 "
										   "ORDER BY id DESC LIMIT 1",
										   parent, 2, args, err);

	memset(j, 0, sizeof(*j));
	*found = false;
	if (res == NULL)
		return false;
	if (PQntuples(res) > 0)
	{
		*found = true;
		job_from_row(res, 0, j);
	}
	PQclear(res);
	return true;
}

bool
remote_sql_server_in_use(PgConn *pc, const char *server, long long *n, PgpError *err)
{
	const char *params[1] = {server};

	return stmt_query_number(pc,
							 "SELECT pg_catalog.count(*) FROM pgpart.remote_job "
							 "WHERE server = $1 AND phase IN ('started', 'copied', 'swapped')",
							 1, params, n, err);
}
