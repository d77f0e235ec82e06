/*
 * remote_server.c - pgpart's remotes: "remote add" makes the postgres_fdw
 * server pgpart_remote_NAME and the current user's mapping from a
 * connection pgpart made itself (the user and password libpq used), "remote
 * drop" removes them, and remote_connect reaches the remote again from what
 * PostgreSQL keeps (server options, pg_user_mappings), so that later
 * commands name it by NAME only.
 */
#include "commands/remote/remote.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/remote/remote_sql.h"
#include "pg/schema.h"
#include "pg/stmt.h"
#include "util/mem.h"

void
remoteresult_free(RemoteResult *r)
{
	FREE_ALL(r->name, r->server, r->host, r->port, r->dbname, r->user, r->partition,
			 r->remote_table, r->job_id, r->checksum);
	namelist_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

bool
remote_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 49 || !islower((unsigned char) name[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char) name[i]) && !isdigit((unsigned char) name[i]) && name[i] != '_')
			return false;
	return true;
}

static bool
check_name(const char *name, PgpError *err)
{
	if (name && remote_name_valid(name))
		return true;
	err_set(err, EXIT_USAGE, "invalid remote name \"%s\"", name ? name : "");
	err_hint(err, "A remote's name is 1 to 49 lower-case letters, digits and underscores, "
				  "starting with a letter; its foreign server is " REMOTE_SERVER_PREFIX "NAME.");
	return false;
}

static bool
require_fdw(PgConn *pc, PgpError *err)
{
	bool installed = false, usage = false;

	if (!remote_sql_fdw_state(pc, &installed, &usage, err))
		return false;
	if (installed && usage)
		return true;
	err_set(err, EXIT_RUNTIME,
			installed ? "permission denied for foreign-data wrapper postgres_fdw"
					  : "the extension postgres_fdw is not installed in this database");
	err_detail(err, "pgpart creates no extension: the remote tier needs postgres_fdw, installed "
					"by the DBA, with USAGE granted to the role pgpart runs as.");
	err_hint(err, "As a superuser (or the database owner on managed PostgreSQL): CREATE EXTENSION "
				  "postgres_fdw; GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO <role>; "
				  "(docs/security.md, \"The remote tier\")");
	return false;
}

/* a conninfo value: single-quoted, with \ and ' escaped (libpq's rules) */
static void
append_conn_value(StrBuf *sb, const char *key, const char *value)
{
	const char *p;

	if (value == NULL)
		return;
	sb_appendf(sb, "%s%s='", sb->len ? " " : "", key);
	for (p = value; *p; p++)
	{
		if (*p == '\\' || *p == '\'')
			sb_append_char(sb, '\\');
		sb_append_char(sb, *p);
	}
	sb_append_char(sb, '\'');
}

bool
remote_connect(PgConn *pc, const char *name, PgConn *rpc, PgpError *err)
{
	char *srvname;
	RemoteServer s;
	StrBuf ci;
	bool ok;

	memset(rpc, 0, sizeof(*rpc));
	if (!check_name(name, err))
		return false;
	srvname = pg_xasprintf(REMOTE_SERVER_PREFIX "%s", name);
	ok = remote_sql_server_load(pc, srvname, &s, err);
	if (ok && !s.exists)
	{
		err_set(err, EXIT_USAGE, "unknown remote \"%s\" (no foreign server %s)", name, srvname);
		err_hint(err, "\"pgpart remote list\" lists the remotes; \"pgpart remote add\" adds one.");
		ok = false;
	}
	else if (ok && (!s.mapping || s.user == NULL))
	{
		err_set(err, EXIT_RUNTIME, "no user mapping of the current user for remote \"%s\" that "
								   "pgpart can read",
				name);
		err_hint(err, "pgpart connects to the remote with the user mapping of the role it runs as "
					  "(CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (user ..., "
					  "password ...)), or \"pgpart remote add\" again after \"remote drop\".",
				 srvname);
		ok = false;
	}
	if (ok)
	{
		sb_init(&ci);
		append_conn_value(&ci, "host", s.host);
		append_conn_value(&ci, "port", s.port);
		append_conn_value(&ci, "dbname", s.dbname);
		append_conn_value(&ci, "user", s.user);
		append_conn_value(&ci, "password", s.password);
		ok = pgc_connect(rpc, ci.data, pc->dry_run, err);
		memset(ci.data, 0, ci.len);
		sb_free(&ci);
		if (!ok)
		{
			err_prefix(err, "remote \"%s\"", name);
			err_hint(err, "pgpart reaches it with the options of server %s and the user mapping "
						  "of the current user (pg_user_mappings); check both, and that the "
						  "remote accepts this machine.",
					 srvname);
		}
		else
			rpc->changelog = 0; /* what pgpart does there is recorded here, with the job */
	}
	remoteserver_free(&s);
	free(srvname);
	return ok;
}

bool
ops_remote_add(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err)
{
	RemoteServer s;
	PgConn rpc;
	bool super = false, ok = false;
	const char *host, *port, *dbname, *user, *password;

	memset(res, 0, sizeof(*res));
	memset(&rpc, 0, sizeof(rpc));
	memset(&s, 0, sizeof(s));
	if (!check_name(opt->name, err) || !require_fdw(pc, err) || !schema_require(pc, err))
		return false;
	res->name = pg_xstrdup(opt->name);
	res->server = pg_xasprintf(REMOTE_SERVER_PREFIX "%s", opt->name);
	if (!remote_sql_server_load(pc, res->server, &s, err))
		return false;
	if (s.exists)
	{
		err_set(err, EXIT_USAGE, "remote \"%s\" exists already (foreign server %s)", opt->name,
				res->server);
		err_hint(err, "\"pgpart remote drop %s\" removes it, while no partition is there.",
				 opt->name);
		remoteserver_free(&s);
		return false;
	}
	remoteserver_free(&s);
	if (!remote_sql_is_superuser(pc, &super, err))
		return false;
	/* the remote as libpq reaches it: conninfo, PG* variables, .pgpass, PGPASSFILE */
	if (!pgc_connect(&rpc, opt->conninfo, pc->dry_run, err))
	{
		err_prefix(err, "remote \"%s\"", opt->name);
		err_hint(err, "Check --remote (a connection string or URI); the password may come from "
					  "it, PGPASSWORD or the password file (~/.pgpass, PGPASSFILE).");
		return false;
	}
	host = PQhost(rpc.conn);
	port = PQport(rpc.conn);
	dbname = PQdb(rpc.conn);
	user = PQuser(rpc.conn);
	password = PQpass(rpc.conn);
	if (!super && (!PQconnectionUsedPassword(rpc.conn) || password == NULL || password[0] == '\0'))
	{
		err_set(err, EXIT_USAGE, "remote \"%s\" did not ask for a password", opt->name);
		err_detail(err, "postgres_fdw lets a role that is not a superuser connect only with a "
						"password the remote server asks for; nothing was changed.");
		err_hint(err, "Have the remote authenticate this client with scram-sha-256 (pg_hba.conf) "
					  "and give the password in --remote, PGPASSWORD or the password file.");
		goto done;
	}
	if (host && host[0] == '/')
	{
		err_set(err, EXIT_USAGE, "remote \"%s\" is reached over a Unix socket (%s)", opt->name,
				host);
		err_hint(err, "Give a host name or address in --remote: the database server connects to "
					  "the remote itself, with the same host.");
		goto done;
	}
	res->host = host ? pg_xstrdup(host) : NULL;
	res->port = port ? pg_xstrdup(port) : NULL;
	res->dbname = dbname ? pg_xstrdup(dbname) : NULL;
	res->user = user ? pg_xstrdup(user) : NULL;
	ok = stmt_begin(pc, err) &&
		 remote_sql_create_server(pc, res->server, host, port, dbname, err) &&
		 remote_sql_create_mapping(pc, res->server, user, password, err);
	/* the database server, not only this client, must reach the remote with the mapping */
	if (ok && !remote_sql_probe(pc, res->server, err))
	{
		err_prefix(err, "the database server cannot use remote \"%s\"", opt->name);
		err_detail(err, "pgpart reached %s:%s itself, but postgres_fdw, connecting from the "
						"database server with the user mapping, did not; nothing was changed.",
				   host ? host : "?", port ? port : "?");
		err_hint(err, "Give --remote an address the database server can reach, and let the "
					  "remote accept it (pg_hba.conf, scram-sha-256).");
		ok = false;
	}
	ok = ok && stmt_commit(pc, err);
	if (!ok && !pc->dry_run)
		remote_sql_rollback(pc);
done:
	pgc_close(&rpc);
	return ok;
}

bool
ops_remote_drop(PgConn *pc, const RemoteOptions *opt, RemoteResult *res, PgpError *err)
{
	RemoteServer s;
	PGresult *list;
	long long jobs = 0;
	int i;
	bool ok;

	memset(res, 0, sizeof(*res));
	if (!check_name(opt->name, err) || !schema_require(pc, err))
		return false;
	res->name = pg_xstrdup(opt->name);
	res->server = pg_xasprintf(REMOTE_SERVER_PREFIX "%s", opt->name);
	if (!remote_sql_server_load(pc, res->server, &s, err))
		return false;
	ok = s.exists;
	remoteserver_free(&s);
	if (!ok)
	{
		err_set(err, EXIT_USAGE, "unknown remote \"%s\" (no foreign server %s)", opt->name,
				res->server);
		return false;
	}
	if (!remote_sql_server_in_use(pc, opt->name, &jobs, err) ||
		(list = remote_sql_list_servers(pc, err)) == NULL)
		return false;
	for (i = 0; i < PQntuples(list); i++)
		if (strcmp(PQgetvalue(list, i, 0), opt->name) == 0)
			jobs += atoll(PQgetvalue(list, i, 5));
	PQclear(list);
	if (jobs > 0)
	{
		err_set(err, EXIT_USAGE, "remote \"%s\" is in use: partitions are there or on the way",
				opt->name);
		err_hint(err, "\"pgpart remote fetch\" brings each back (\"pgpart status\" shows them).");
		return false;
	}
	ok = stmt_begin(pc, err) && remote_sql_drop_server(pc, res->server, err) &&
		 stmt_commit(pc, err);
	if (!ok && !pc->dry_run)
		remote_sql_rollback(pc);
	return ok;
}

bool
ops_remote_list(PgConn *pc, PGresult **rows, PgpError *err)
{
	if (!schema_require(pc, err))
		return false;
	*rows = remote_sql_list_servers(pc, err);
	return *rows != NULL;
}

bool
remote_status_lines(PgConn *pc, RelOid parent, NameList *lines, PgpError *err)
{
	PGresult *res = remote_sql_partitions(pc, parent, err);
	int i;

	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
		namelist_addf(lines, "%s on remote %s (server %s, table %s): %s rows",
					  PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
					  PQgetvalue(res, i, 3), PQgetisnull(res, i, 4) ? "?" : PQgetvalue(res, i, 4));
	PQclear(res);
	return true;
}

bool
remote_partition_server(PgConn *pc, const char *schema, const char *table, char **name,
						PgpError *err)
{
	char *srv = NULL, *rs = NULL, *rn = NULL, *comment = NULL;
	RelOid rel = 0;

	*name = NULL;
	if (!tiermove_find_table(pc, schema, table, &rel, &comment, err))
		return false;
	free(comment);
	if (rel == 0)
		return true;
	if (!remote_sql_foreign_facts(pc, rel, &srv, &rs, &rn, err))
		return false;
	if (srv)
		*name = pg_xstrdup(srv + strlen(REMOTE_SERVER_PREFIX));
	FREE_ALL(srv, rs, rn);
	return true;
}
