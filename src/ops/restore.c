/*
 * restore.c - pgpart restore: an archived partition back into its table, and
 * pgpart archive list.
 *
 * Restore reads the manifest, checks that the table's columns still match,
 * then in one transaction creates the table (LIKE the parent, with a CHECK
 * constraint of the bounds), streams the object through zstd into COPY FROM
 * STDIN while hashing it, and refuses (rolls everything back) when the
 * checksum, the size or the zstd stream is wrong; then builds the indexes the
 * partition had.  A second short transaction under lock_timeout ATTACHes it
 * (the CHECK constraint spares the scan).  A crash between the two leaves a
 * loaded, unattached table marked with the archive's checksum: a re-run
 * attaches it without loading again.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/archive_int.h"
#include "pg/partition.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/progress.h"

void
restoreresult_free(RestoreResult *r)
{
	free(r->partition);
	free(r->lo);
	free(r->hi);
	memset(r, 0, sizeof(*r));
}

typedef struct Manifest
{
	json_t *root;
	const char *pschema, *pname, *column, *lo, *hi, *sha256, *object, *copy_columns;
	long long rows, raw_bytes, compressed_bytes;
	json_t *columns, *indexes;
} Manifest;

static bool
manifest_parse(const char *text, size_t len, const char *what, Manifest *m, PgpError *err)
{
	json_error_t jerr;
	json_t *part, *bounds;
	const char *fmt;

	memset(m, 0, sizeof(*m));
	m->root = json_loadb(text, len, 0, &jerr);
	if (m->root == NULL)
	{
		err_set(err, EXIT_CHECK, "manifest %s is not valid JSON: %s (line %d)", what, jerr.text,
				jerr.line);
		err_hint(err, "It is damaged or truncated; nothing was changed.");
		return false;
	}
	fmt = json_string_value(json_object_get(m->root, "format"));
	part = json_object_get(m->root, "partition");
	bounds = json_object_get(m->root, "bounds");
	m->pschema = json_string_value(json_object_get(part, "schema"));
	m->pname = json_string_value(json_object_get(part, "name"));
	m->column = json_string_value(json_object_get(m->root, "partition_column"));
	m->lo = json_string_value(json_object_get(bounds, "from"));
	m->hi = json_string_value(json_object_get(bounds, "to"));
	m->sha256 = json_string_value(json_object_get(m->root, "sha256"));
	m->object = json_string_value(json_object_get(m->root, "object"));
	m->copy_columns = json_string_value(json_object_get(m->root, "copy_columns"));
	m->columns = json_object_get(m->root, "columns");
	m->indexes = json_object_get(m->root, "indexes");
	m->rows = json_integer_value(json_object_get(m->root, "rows"));
	m->raw_bytes = json_integer_value(json_object_get(m->root, "raw_bytes"));
	m->compressed_bytes = json_integer_value(json_object_get(m->root, "compressed_bytes"));
	if (fmt == NULL || strcmp(fmt, "pgpart-archive") != 0)
	{
		err_set(err, EXIT_CHECK, "%s is not a pgpart archive manifest", what);
		json_decref(m->root);
		m->root = NULL;
		return false;
	}
	{
		size_t i;
		json_t *col;

		json_array_foreach(m->columns, i, col)
			if (!json_is_string(json_object_get(col, "name")) ||
				!json_is_string(json_object_get(col, "type")))
				m->columns = NULL;
	}
	if (!m->pschema || !m->pname || !m->column || !m->lo || !m->hi || !m->sha256 || !m->object ||
		!m->copy_columns || !json_is_array(m->columns) || !json_is_array(m->indexes) ||
		!json_is_integer(json_object_get(m->root, "compressed_bytes")) ||
		strchr(m->object, '/') || strlen(m->sha256) != 64)
	{
		err_set(err, EXIT_CHECK, "manifest %s is incomplete", what);
		err_hint(err, "It is damaged; nothing was changed.");
		json_decref(m->root);
		m->root = NULL;
		return false;
	}
	return true;
}

/* the parent's columns must be the archive's (names and types; generated ones aside) */
static bool
check_columns(PgConn *pc, RelOid parent, const Manifest *m, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;
	StrBuf have, want;
	size_t i;
	json_t *col;
	int k;
	bool ok;

	snprintf(oid, sizeof(oid), "%u", parent);
	res = pgc_query(pc,
					"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
					"FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
					"AND a.attgenerated = '' ORDER BY a.attname COLLATE \"C\"",
					1, params, err);
	if (res == NULL)
		return false;
	sb_init(&have);
	sb_init(&want);
	for (k = 0; k < PQntuples(res); k++)
		sb_appendf(&have, "%s%s %s", k ? ", " : "", PQgetvalue(res, k, 0), PQgetvalue(res, k, 1));
	PQclear(res);
	{
		/* the manifest's, sorted the same way */
		NameList l;

		memset(&l, 0, sizeof(l));
		json_array_foreach(m->columns, i, col)
		{
			char *s;

			if (json_is_true(json_object_get(col, "generated")))
				continue;
			s = pg_xasprintf("%s %s", json_string_value(json_object_get(col, "name")),
							 json_string_value(json_object_get(col, "type")));
			namelist_add(&l, s);
			free(s);
		}
		for (int a = 1; a < l.n; a++)
			for (int b = a; b > 0 && strcmp(l.items[b - 1], l.items[b]) > 0; b--)
			{
				char *t = l.items[b];

				l.items[b] = l.items[b - 1];
				l.items[b - 1] = t;
			}
		for (k = 0; k < l.n; k++)
			sb_appendf(&want, "%s%s", k ? ", " : "", l.items[k]);
		namelist_free(&l);
	}
	ok = strcmp(have.data, want.data) == 0;
	if (!ok)
	{
		err_set(err, EXIT_USAGE, "the table's columns differ from the archive's");
		err_detail(err, "Table: %s.  Archive: %s.", have.data, want.data);
		err_hint(err, "Restore into a table with the columns the partition had.");
	}
	sb_free(&have);
	sb_free(&want);
	return ok;
}

typedef struct LoadCtx
{
	PgConn *pc;
	Storage *st;
	const Manifest *m;
	const char *qualified;
	const char *parent_q;
	const char *object_key;
	const char *what;
	double load_ms;
	bool show_progress;
	Progress prog;
	long long sent;
} LoadCtx;

static bool
copy_sink(void *arg, const void *data, size_t n, PgpError *err)
{
	LoadCtx *l = arg;

	if (PQputCopyData(l->pc->conn, data, (int) n) != 1)
	{
		err_set(err, EXIT_RUNTIME, "COPY into the restored table failed: %s",
				PQerrorMessage(l->pc->conn));
		return false;
	}
	l->sent += (long long) n;
	progress_update(&l->prog, l->sent, l->m->pname);
	return true;
}

static bool
load_table(LoadCtx *l, PgpError *err)
{
	PgConn *pc = l->pc;
	const Manifest *m = l->m;
	StrBuf sql;
	PGresult *res;
	ArchiveReader r;
	bool ok = false, in_copy = false;
	size_t i;
	json_t *ix;
	double t0 = clock_ms();
	char *comment;

	sb_init(&sql);
	if (!pgc_change(pc, "BEGIN", 0, NULL, err))
		goto done;
	sb_appendf(&sql,
			   "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
			   "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION, "
			   "CONSTRAINT pgpart_archive_bounds CHECK (",
			   l->qualified, l->parent_q);
	arch_append_check(pc, &sql, m->column, m->lo, m->hi);
	sb_append(&sql, "))");
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	/* the mark a re-run looks for when the attach did not happen */
	sb_appendf(&sql, "COMMENT ON TABLE %s IS ", l->qualified);
	comment = pg_xasprintf("pgpart restore %s", m->sha256);
	pgc_append_literal(pc, &sql, comment);
	free(comment);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	{
		/* the column list from the names, quoted here: the manifest is data, not SQL */
		size_t ci;
		json_t *col;
		bool first = true;

		sb_appendf(&sql, "COPY %s (", l->qualified);
		json_array_foreach(m->columns, ci, col)
		{
			if (json_is_true(json_object_get(col, "generated")))
				continue;
			if (!first)
				sb_append(&sql, ", ");
			pgc_append_ident(pc, &sql, json_string_value(json_object_get(col, "name")));
			first = false;
		}
		sb_append(&sql, ") FROM STDIN");
	}
	if (pc->dry_run)
	{
		printf("%s;\n-- (rows of %s)\n", sql.data, l->what);
		sb_reset(&sql);
	}
	else
	{
		log_debug("%s", sql.data);
		res = PQexecParams(pc->conn, sql.data, 0, NULL, NULL, NULL, NULL, 0);
		sb_reset(&sql);
		if (PQresultStatus(res) != PGRES_COPY_IN)
		{
			arch_result_error(pc, res, err, "COPY into the restored table failed");
			PQclear(res);
			goto done;
		}
		PQclear(res);
		in_copy = true;
		archive_reader_init(&r, copy_sink, l);
		progress_start(&l->prog, "bytes", m->raw_bytes, l->show_progress);
		ok = l->st->ops->get(l->st, l->object_key, archive_reader_chunk, &r, err) &&
			 archive_reader_finish(&r, l->what, m->sha256, m->compressed_bytes, m->raw_bytes,
								   err);
		archive_reader_free(&r);
		progress_finish(&l->prog);
		/* a bad object ends the COPY with an error: the server discards every row */
		PQputCopyEnd(pc->conn, ok ? NULL : "pgpart: archive object failed verification");
		in_copy = false;
		res = PQgetResult(pc->conn);
		if (ok && PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			arch_result_error(pc, res, err, "COPY into the restored table failed");
			ok = false;
		}
		else if (ok && strtoll(PQcmdTuples(res), NULL, 10) != m->rows)
		{
			err_set(err, EXIT_CHECK, "%s held %s rows, the manifest says %lld", l->what,
					PQcmdTuples(res), m->rows);
			ok = false;
		}
		PQclear(res);
		while ((res = PQgetResult(pc->conn)) != NULL)
			PQclear(res);
		if (!ok)
			goto done;
		ok = false;
	}
	l->load_ms = clock_ms() - t0;
	/* the partition's indexes, so ATTACH finds them instead of building new ones */
	json_array_foreach(m->indexes, i, ix)
	{
		const char *cdef = json_string_value(json_object_get(ix, "constraint_definition"));
		const char *cname = json_string_value(json_object_get(ix, "constraint"));
		const char *def = json_string_value(json_object_get(ix, "definition"));

		if (cdef && cname && (strncmp(cdef, "PRIMARY KEY", 11) == 0 ||
							  strncmp(cdef, "UNIQUE", 6) == 0 || strncmp(cdef, "EXCLUDE", 7) == 0))
		{
			char *q = pgc_quote_ident(pc, cname);

			sb_appendf(&sql, "ALTER TABLE %s ADD CONSTRAINT %s %s", l->qualified, q, cdef);
			free(q);
		}
		else if (json_is_string(json_object_get(ix, "using")) &&
				 strncmp(json_string_value(json_object_get(ix, "using")), "USING ", 6) == 0)
		{
			char *q = pgc_quote_ident(pc, json_string_value(json_object_get(ix, "name")));

			sb_appendf(&sql, "CREATE %sINDEX %s ON %s %s",
					   json_is_true(json_object_get(ix, "unique")) ? "UNIQUE " : "", q,
					   l->qualified, json_string_value(json_object_get(ix, "using")));
			free(q);
		}
		else if (def && strncmp(def, "CREATE ", 7) == 0)
			sb_append(&sql, def);
		else
			continue;
		if (!arch_exec_sb(pc, &sql, err))
			goto done;
	}
	ok = pgc_change(pc, "COMMIT", 0, NULL, err);
done:
	if (in_copy)
		PQputCopyEnd(pc->conn, "pgpart: aborted");
	if (!ok && !pc->dry_run)
	{
		PgpError ignored;

		err_init(&ignored);
		while ((res = PQgetResult(pc->conn)) != NULL)
			PQclear(res);
		pgc_exec(pc, "ROLLBACK", 0, NULL, &ignored);
		err_clear(&ignored);
	}
	sb_free(&sql);
	return ok;
}

typedef struct AttachCtx
{
	const Manifest *m;
	const char *qualified, *parent_q, *tmp_q;
	const char *pname_q; /* the partition's own name, quoted (for RENAME) */
	bool replace_foreign; /* a file_fdw partition of this archive holds the range */
} AttachCtx;

static bool
attach_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	AttachCtx *a = arg;
	StrBuf sql;
	const char *params[3] = {a->m->pschema, a->m->pname, a->m->sha256};
	bool ok = false;

	sb_init(&sql);
	if (!partition_lock_for_attach(pc, a->parent_q, err))
		goto done;
	if (a->replace_foreign)
	{
		/* the archive read in place gives way to the real rows, in one transaction */
		sb_appendf(&sql, "ALTER TABLE %s DETACH PARTITION %s", a->parent_q, a->qualified);
		if (!arch_exec_sb(pc, &sql, err))
			goto done;
		lock_txn_mark_locked(stats);
		sb_appendf(&sql, "DROP FOREIGN TABLE %s", a->qualified);
		if (!arch_exec_sb(pc, &sql, err))
			goto done;
	}
	sb_appendf(&sql, "ALTER TABLE %s RENAME TO %s", a->tmp_q, a->pname_q);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	sb_appendf(&sql, "ALTER TABLE %s ATTACH PARTITION %s", a->parent_q, a->qualified);
	arch_append_for_values(pc, &sql, a->m->lo, a->m->hi);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	lock_txn_mark_locked(stats);
	sb_appendf(&sql, "ALTER TABLE %s DROP CONSTRAINT pgpart_archive_bounds", a->qualified);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	sb_appendf(&sql, "COMMENT ON TABLE %s IS NULL", a->qualified);
	if (!arch_exec_sb(pc, &sql, err))
		goto done;
	ok = pgc_change(pc,
					"UPDATE pgpart.archive_job SET phase = 'restored', foreign_table = false, "
					"updated_at = pg_catalog.now() "
					"WHERE partition_schema = $1 AND partition_name = $2 AND sha256 = $3 "
					"AND phase = 'archived'",
					3, params, err);
done:
	sb_free(&sql);
	return ok;
}

bool
ops_restore(PgConn *pc, const RestoreOptions *opt, RestoreResult *res, PgpError *err)
{
	PartConfig cfg;
	KeyType key_type;
	char *location = NULL, *mkey = NULL, *why = NULL, *text = NULL, *objkey = NULL;
	char *qualified = NULL, *parent_q = NULL, *mark = NULL;
	char *tmp_name = NULL, *tmp_q = NULL, *pname_q = NULL;
	bool replace_foreign = false;
	size_t len = 0;
	Storage *st = NULL;
	Manifest m;
	bool ok = false, locked = false, cfg_loaded = false;
	double t0 = clock_ms();
	LockStats ls;

	memset(res, 0, sizeof(*res));
	memset(&m, 0, sizeof(m));
	memset(&ls, 0, sizeof(ls));
	if (!archurl_split_last(opt->from, &location, &mkey, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --from \"%s\"", opt->from);
		err_detail(err, "%s", why);
		err_hint(err, "Give the URL of a manifest, as \"pgpart archive list\" shows it.");
		goto done;
	}
	if (!archive_load_config(pc, opt->table, &cfg, &key_type, err))
		goto done;
	cfg_loaded = true;
	if (!storage_open(location, &opt->storage, &st, err))
		goto done;
	if (!storage_get_all(st, mkey, 16u << 20, &text, &len, err))
		goto done;
	if (!manifest_parse(text, len, opt->from, &m, err))
		goto done;
	/* the object lives beside its manifest */
	{
		const char *slash = strrchr(mkey, '/');

		objkey = slash ? pg_xasprintf("%.*s/%s", (int) (slash - mkey), mkey, m.object)
					   : pg_xstrdup(m.object);
	}
	res->partition = pg_xasprintf("%s.%s", m.pschema, m.pname);
	res->lo = pg_xstrdup(m.lo);
	res->hi = pg_xstrdup(m.hi);
	res->rows = m.rows;
	res->compressed_bytes = m.compressed_bytes;
	if (strcmp(m.column, cfg.column) != 0)
	{
		err_set(err, EXIT_USAGE, "the archive was partitioned by \"%s\", the table by \"%s\"",
				m.column, cfg.column);
		goto done;
	}
	if (!check_columns(pc, cfg.parent, &m, err))
		goto done;
	if (!ops_try_table_lock(pc, cfg.parent, &locked, err))
		goto done;
	if (!locked)
	{
		err_set(err, EXIT_RUNTIME, "another pgpart is working on %s.%s", cfg.parent_schema,
				cfg.parent_name);
		err_hint(err, "Wait for it to finish; pgpart processes take turns per table.");
		goto done;
	}
	qualified = pgc_quote_qualified(pc, m.pschema, m.pname);
	parent_q = pgc_quote_qualified(pc, cfg.parent_schema, cfg.parent_name);
	/* loaded under a name of its own, renamed when attached */
	tmp_name = pg_xasprintf("pgpart_restore_%.16s", m.sha256);
	tmp_q = pgc_quote_qualified(pc, m.pschema, tmp_name);
	pname_q = pgc_quote_ident(pc, m.pname);
	{
		char poid[16];
		const char *params[3] = {m.pschema, m.pname, poid};
		PGresult *r;

		snprintf(poid, sizeof(poid), "%u", cfg.parent);
		r = pgc_query(pc,
					  "SELECT c.relkind = 'f' AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h "
					  "  WHERE h.inhrelid = c.oid AND h.inhparent = $3::pg_catalog.oid) "
					  "AND EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_table ft "
					  "  JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver "
					  "  WHERE ft.ftrelid = c.oid AND s.srvname = 'pgpart_archive') "
					  "FROM pg_catalog.pg_class c "
					  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					  "WHERE n.nspname = $1 AND c.relname = $2",
					  3, params, err);
		if (r == NULL)
			goto done;
		if (PQntuples(r) > 0 && PQgetvalue(r, 0, 0)[0] == 't')
			replace_foreign = true;
		else if (PQntuples(r) > 0)
		{
			err_set(err, EXIT_USAGE, "%s.%s already exists", m.pschema, m.pname);
			err_hint(err, "The partition is there (or another table has its name); drop or "
						  "rename it first to restore the archive.");
			PQclear(r);
			goto done;
		}
		PQclear(r);
		params[1] = tmp_name;
		r = pgc_query(pc,
					  "SELECT pg_catalog.obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c "
					  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					  "WHERE n.nspname = $1 AND c.relname = $2",
					  2, params, err);
		if (r == NULL)
			goto done;
		if (PQntuples(r) > 0)
		{
			char *want = pg_xasprintf("pgpart restore %s", m.sha256);

			if (!PQgetisnull(r, 0, 0) && strcmp(PQgetvalue(r, 0, 0), want) == 0)
				mark = want; /* loaded by an earlier run that stopped before ATTACH */
			else
			{
				free(want);
				err_set(err, EXIT_USAGE, "%s.%s already exists", m.pschema, tmp_name);
				err_hint(err, "pgpart loads restores under that name; drop it if it is not "
							  "yours.");
				PQclear(r);
				goto done;
			}
		}
		PQclear(r);
	}
	if (mark == NULL)
	{
		LoadCtx l;

		memset(&l, 0, sizeof(l));
		l.pc = pc;
		l.st = st;
		l.m = &m;
		l.qualified = tmp_q;
		l.parent_q = parent_q;
		l.object_key = objkey;
		l.what = opt->from;
		l.show_progress = opt->show_progress;

		if (!load_table(&l, err))
			goto done;
		res->load_ms = l.load_ms;
#ifdef PGPART_TEST_HOOKS
		archive_test_kill("restore_loaded");
#endif
	}
	{
		AttachCtx a = {&m, qualified, parent_q, tmp_q, pname_q, replace_foreign};

		if (!lock_run_txn(pc, &opt->lock, attach_body, &a, &ls, err))
		{
			if (strcmp(err->sqlstate, "23514") == 0)
				err_hint(err, "Rows for this range arrived in the default partition after it was "
							  "archived; move them out (\"pgpart maintain\" gives them a partition "
							  "of their own) and restore into that partition's place.");
			err_prefix(err, "could not attach the restored %s.%s", m.pschema, m.pname);
			if (!pc->dry_run)
				err_detail(err, "The rows are loaded into %s.%s, which is not attached; running "
								"the same restore again attaches it.",
						   m.pschema, tmp_name);
			goto done;
		}
	}
	res->max_lock_held_ms = ls.held_ms;
	ok = true;
done:
	res->total_ms = clock_ms() - t0;
	if (locked)
		ops_release_table_lock(pc, cfg.parent);
	json_decref(m.root);
	storage_close(st);
	if (cfg_loaded)
		partconfig_free(&cfg);
	free(location);
	free(mkey);
	free(why);
	free(text);
	free(objkey);
	free(qualified);
	free(parent_q);
	free(mark);
	free(tmp_name);
	free(tmp_q);
	free(pname_q);
	return ok;
}

/* ---- archive list ---------------------------------------------------- */

void
archivelistresult_free(ArchiveListResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		ArchiveEntry *e = &r->items[i];

		free(e->manifest_key);
		free(e->table);
		free(e->partition);
		free(e->lo);
		free(e->hi);
		free(e->archived_at);
		free(e->problem);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static char *
dup_json(json_t *o, const char *k1, const char *k2)
{
	json_t *v = k2 ? json_object_get(json_object_get(o, k1), k2) : json_object_get(o, k1);

	return json_is_string(v) ? pg_xstrdup(json_string_value(v)) : NULL;
}

bool
ops_archive_list(const char *url, const StorageOptions *so, ArchiveListResult *res,
				 PgpError *err)
{
	Storage *st = NULL;
	NameList keys;
	int i, n = 0;
	static const char suffix[] = ".manifest.json";

	memset(res, 0, sizeof(*res));
	memset(&keys, 0, sizeof(keys));
	if (!storage_open(url, so, &st, err))
		return false;
	if (!st->ops->list(st, "", &keys, err))
	{
		storage_close(st);
		return false;
	}
	res->items = pg_xcalloc((size_t) keys.n + 1, sizeof(ArchiveEntry));
	for (i = 0; i < keys.n; i++)
	{
		size_t kl = strlen(keys.items[i]);
		ArchiveEntry *e;
		char *text = NULL;
		size_t len;
		PgpError merr;
		Manifest m;

		if (kl <= sizeof(suffix) - 1 || strcmp(keys.items[i] + kl - (sizeof(suffix) - 1), suffix) != 0)
			continue;
		e = &res->items[n++];
		e->manifest_key = pg_xasprintf("%s/%s", st->url, keys.items[i]);
		err_init(&merr);
		if (!storage_get_all(st, keys.items[i], 16u << 20, &text, &len, &merr) ||
			!manifest_parse(text, len, keys.items[i], &m, &merr))
		{
			e->problem = pg_xstrdup(merr.message ? merr.message : "unreadable");
			err_clear(&merr);
			free(text);
			continue;
		}
		{
			char *ts = dup_json(m.root, "table", "schema"), *tn = dup_json(m.root, "table", "name");

			e->table = pg_xasprintf("%s.%s", ts ? ts : "?", tn ? tn : "?");
			free(ts);
			free(tn);
		}
		e->partition = pg_xasprintf("%s.%s", m.pschema, m.pname);
		e->lo = pg_xstrdup(m.lo);
		e->hi = pg_xstrdup(m.hi);
		e->rows = m.rows;
		e->raw_bytes = m.raw_bytes;
		e->compressed_bytes = m.compressed_bytes;
		e->archived_at = dup_json(m.root, "archived_at", NULL);
		json_decref(m.root);
		free(text);
	}
	res->n = n;
	namelist_free(&keys);
	storage_close(st);
	return true;
}
