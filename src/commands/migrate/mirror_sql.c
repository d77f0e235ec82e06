/*
 * mirror_sql.c - the statements that keep the shadow of an online migration
 * equal to its table (mirror_sql.h): trigger functions, backfill batch,
 * repair and verify's chunks, built from a TableCopy (pg/compare.h) with
 * every name quoted at load and every value a $n parameter.
 */
#include "commands/migrate/mirror_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/stmt.h"
#include "pg/partition.h"
#include "pg/privilege.h"
#include "util/mem.h"

static char *
function_sql(PgConn *pc, const char *func, const char *guard, const char *body)
{
	StrBuf sb;
	char *full = pg_xasprintf("BEGIN\n%s%s", guard, body);

	sb_init(&sb);
	/*
	 * SECURITY DEFINER: a writer allowed to write the source must not need
	 * rights on pgpart's copy; the empty search_path makes that safe, as every
	 * name in the body is qualified.  Safe to hand out only because nobody
	 * else may attach it: the caller runs REVOKE ALL ... FROM PUBLIC in the
	 * creating transaction (priv_secure_function, pg/privilege.c), and the
	 * guard refuses any other table.
	 *
	 * plan_cache_mode: the body's DELETE of the old row from a partitioned
	 * copy has a parameter for each key column, and the plan cache, which
	 * costs a generic plan over every partition but a custom plan over the
	 * one partition the values pick, keeps choosing custom plans: it planned
	 * the DELETE again for every row (perf: a quarter of an UPDATE's time
	 * went to the planner).  The generic plan prunes the other partitions
	 * when it starts and gives the same rows; measured on a 14-partition copy,
	 * the trigger's cost per updated row went from about 78 to 39 us (plain
	 * table: 21 us per UPDATE), per inserted row it stayed about 16 us.
	 * Set for the function's statements only, like search_path, and restored
	 * when it returns.
	 */
	sb_appendf(&sb,
			   "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql "
			   "SECURITY DEFINER SET search_path = '' SET plan_cache_mode = force_generic_plan AS ",
			   func);
	pgc_append_literal(pc, &sb, full);
	free(full);
	return sb_steal(&sb);
}

static char *
row_function_sql(PgConn *pc, const TableCopy *m, const char *func, const char *guard)
{
	StrBuf body;
	char *sql;
	int i;

	StrBuf match;

	sb_init(&match);
	for (i = 0; i < m->key.n; i++)
		sb_appendf(&match, "%sc.%s = OLD.%s", i > 0 ? " AND " : "", m->key.items[i],
				   m->key.items[i]);
	if (m->part_not_null)
		sb_appendf(&match, " AND c.%s = OLD.%s", m->part_column, m->part_column);
	sb_init(&body);
	sb_appendf(&body, "  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n    DELETE FROM %s c WHERE %s;\n",
			   m->to, match.data);
	/*
	 * Under REPEATABLE READ or SERIALIZABLE, a copy that a backfill batch
	 * committed after this transaction's snapshot is invisible here, so the
	 * DELETE above misses it and would leave a ghost row.  Inserting the old
	 * row with ON CONFLICT DO NOTHING makes PostgreSQL detect exactly that
	 * case and raise a serialization failure (40001), which such
	 * applications retry; when there is no copy yet, the probe row is
	 * removed again at once.
	 */
	sb_appendf(&body,
			   "    IF NOT FOUND AND pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN\n"
			   "      INSERT INTO %s (",
			   m->to);
	tablecopy_append_columns(&body, &m->columns, NULL);
	sb_append(&body, ") OVERRIDING SYSTEM VALUE VALUES (");
	tablecopy_append_columns(&body, &m->columns, "OLD");
	sb_appendf(&body, ") ON CONFLICT DO NOTHING;\n      DELETE FROM %s c WHERE %s;\n    END IF;\n",
			   m->to, match.data);
	sb_free(&match);
	sb_append(&body, "  END IF;\n  IF TG_OP IN ('INSERT', 'UPDATE') THEN\n    INSERT INTO ");
	sb_append(&body, m->to);
	sb_append(&body, " (");
	tablecopy_append_columns(&body, &m->columns, NULL);
	/* identity columns keep the application's values */
	sb_append(&body, ") OVERRIDING SYSTEM VALUE VALUES (");
	tablecopy_append_columns(&body, &m->columns, "NEW");
	sb_append(&body, ");\n  END IF;\n  RETURN NULL;\nEND");
	sql = function_sql(pc, func, guard, body.data);
	sb_free(&body);
	return sql;
}

/*
 * TRUNCATE of the source: the copy truncated, or with range_column the
 * source's range [lo, hi) deleted from it (a copy shared by several sources)
 */
static char *
truncate_function_sql(PgConn *pc, const TableCopy *m, const char *func, const char *guard,
					  const char *range_column, const char *lo, const char *hi)
{
	StrBuf body;
	char *sql;

	sb_init(&body);
	if (range_column)
	{
		sb_appendf(&body, "  DELETE FROM %s c WHERE ", m->to);
		partition_append_bounds(pc, &body, range_column, lo, hi);
		sb_append(&body, ";\n  RETURN NULL;\nEND");
	}
	else
		sb_appendf(&body, "  TRUNCATE %s;\n  RETURN NULL;\nEND", m->to);
	sql = function_sql(pc, func, guard, body.data);
	sb_free(&body);
	return sql;
}

/*
 * Runs sql (CREATE OR REPLACE FUNCTION func(), SECURITY DEFINER) and, in the
 * same transaction, takes EXECUTE from PUBLIC (priv_secure_function): no
 * SECURITY DEFINER function of pgpart's exists for a moment without that
 */
static bool
install(PgConn *pc, char *sql, const char *func, RelOid table, const PrivNeed *needs, int nneeds,
		PgpError *err)
{
	char *sig = pg_xasprintf("%s()", func);
	bool ok = pgc_change(pc, sql, 0, NULL, err) &&
			  priv_secure_function(pc, sig, table, needs, nneeds, err);

	free(sig);
	free(sql);
	return ok;
}

bool
mirror_create_copy_functions(PgConn *pc, const TableCopy *m, const char *row_func,
							 const char *truncate_func, const char *guard,
							 const char *range_column, const char *lo, const char *hi,
							 RelOid table, const PrivNeed *needs, int nneeds, PgpError *err)
{
	return install(pc, row_function_sql(pc, m, row_func, guard), row_func, table, needs, nneeds,
				   err) &&
		   install(pc, truncate_function_sql(pc, m, truncate_func, guard, range_column, lo, hi),
				   truncate_func, table, needs, nneeds, err);
}

/*
 * " FROM ONLY <source> s WHERE <r> ORDER BY <key>": the source's rows in r in
 * key order, as a batch or a chunk walks them; the next parameter's number
 */
static int
append_source_rows(StrBuf *sb, const TableCopy *m, const KeyRange *r)
{
	int p;

	sb_appendf(sb, " FROM ONLY %s s WHERE ", m->from);
	p = tablecopy_append_range(sb, m, r, "s");
	sb_append(sb, " ORDER BY ");
	tablecopy_append_key_order(sb, m, "s", "");
	return p;
}

char *
mirror_lock_batch_sql(PgConn *pc, const TableCopy *m, const KeyRange *r)
{
	StrBuf sb;
	int p, i;

	(void) pc;
	sb_init(&sb);
	sb_append(&sb, "WITH locked AS MATERIALIZED (SELECT ");
	tablecopy_append_columns(&sb, &m->key, "s");
	p = append_source_rows(&sb, m, r);
	sb_appendf(&sb, " LIMIT $%d FOR SHARE OF s) SELECT ", p);
	for (i = 0; i < m->key.n; i++)
		sb_appendf(&sb, "l.%s::text, ", m->key.items[i]);
	sb_append(&sb, "(SELECT pg_catalog.count(*) FROM locked)::text FROM locked l ORDER BY ");
	/* rows re-checked after a wait may come back out of order: take the highest */
	tablecopy_append_key_order(&sb, m, "l", " DESC");
	sb_append(&sb, " LIMIT 1");
	return sb_steal(&sb);
}

char *
mirror_copy_missing_sql(PgConn *pc, const TableCopy *m, const KeyRange *r)
{
	StrBuf sb;

	(void) pc;
	sb_init(&sb);
	sb_appendf(&sb, "INSERT INTO %s (", m->to);
	tablecopy_append_columns(&sb, &m->columns, NULL);
	sb_append(&sb, ") OVERRIDING SYSTEM VALUE SELECT ");
	tablecopy_append_columns(&sb, &m->columns, "s");
	sb_appendf(&sb, " FROM ONLY %s s WHERE ", m->from);
	tablecopy_append_range(&sb, m, r, "s");
	sb_appendf(&sb, " AND NOT EXISTS (SELECT FROM %s c WHERE ", m->to);
	tablecopy_append_key_match(&sb, m, "c", "s");
	/*
	 * Implied by the key match, but without it the planner, which thinks the
	 * copy as small as when it was last analyzed (empty, during a backfill),
	 * hashes the whole copy for every batch: the backfill grew quadratic.
	 * With it, each batch reads only its own range of the copy's index.
	 */
	sb_append(&sb, " AND ");
	tablecopy_append_range(&sb, m, r, "c");
	sb_append(&sb, ")");
	return sb_steal(&sb);
}

char *
mirror_delete_range_sql(PgConn *pc, const TableCopy *m, const KeyRange *r)
{
	StrBuf sb;

	(void) pc;
	sb_init(&sb);
	sb_appendf(&sb, "DELETE FROM %s c WHERE ", m->to);
	tablecopy_append_range(&sb, m, r, "c");
	return sb_steal(&sb);
}

char *
mirror_chunk_end_sql(PgConn *pc, const TableCopy *m, const KeyRange *r)
{
	StrBuf sb;
	int p, i;

	(void) pc;
	sb_init(&sb);
	sb_append(&sb, "SELECT ");
	for (i = 0; i < m->key.n; i++)
		sb_appendf(&sb, "%ss.%s::text", i > 0 ? ", " : "", m->key.items[i]);
	p = append_source_rows(&sb, m, r);
	sb_appendf(&sb, " OFFSET $%d::bigint - 1 LIMIT 1", p);
	return sb_steal(&sb);
}

/*
 * runs sql (over r, then n as the last parameter); the key columns of its
 * first row, and when count is not NULL the integer in the column after them
 */
static bool
first_key_row(PgConn *pc, char *sql, const TableCopy *m, const KeyRange *r, int n, NameList *key,
			  int *count, bool *found, PgpError *err)
{
	const char *params[130];
	char nbuf[16];
	int np = keyrange_params(r, params), i;
	PGresult *res;

	snprintf(nbuf, sizeof(nbuf), "%d", n);
	params[np++] = nbuf;
	res = pgc_query(pc, sql, np, params, err);
	free(sql);
	if (res == NULL)
		return false;
	*found = PQntuples(res) > 0;
	for (i = 0; *found && i < m->key.n; i++)
		namelist_add(key, PQgetvalue(res, 0, i));
	if (count)
		*count = *found ? atoi(PQgetvalue(res, 0, m->key.n)) : 0;
	PQclear(res);
	return true;
}

bool
mirror_chunk_end(PgConn *pc, const TableCopy *m, const KeyRange *r, int n, NameList *end,
				 bool *found, PgpError *err)
{
	return first_key_row(pc, mirror_chunk_end_sql(pc, m, r), m, r, n, end, NULL, found, err);
}

bool
mirror_lock_batch(PgConn *pc, const TableCopy *m, const KeyRange *r, int n, NameList *highest,
				  int *locked, bool *found, PgpError *err)
{
	return first_key_row(pc, mirror_lock_batch_sql(pc, m, r), m, r, n, highest, locked, found,
						 err);
}

/* runs sql over r; the number of rows it changed */
static bool
change_range(PgConn *pc, char *sql, const KeyRange *r, long long *rows, PgpError *err)
{
	const char *params[130];
	int np = keyrange_params(r, params);
	PGresult *res = pgc_query_change(pc, sql, np, params, err);

	free(sql);
	if (res == NULL)
		return false;
	if (rows)
		*rows = atoll(PQcmdTuples(res));
	PQclear(res);
	return true;
}

bool
mirror_copy_missing(PgConn *pc, const TableCopy *m, const KeyRange *r, long long *rows,
					PgpError *err)
{
	return change_range(pc, mirror_copy_missing_sql(pc, m, r), r, rows, err);
}

bool
mirror_delete_range(PgConn *pc, const TableCopy *m, const KeyRange *r, PgpError *err)
{
	return change_range(pc, mirror_delete_range_sql(pc, m, r), r, NULL, err);
}

/* "COUNT(*), sum of the rows' hashes FROM table alias WHERE <r>" */
static void
append_range_digest(StrBuf *sb, const TableCopy *m, const KeyRange *r, const char *table,
					const char *only, const char *alias)
{
	int i;

	sb_append(sb, "SELECT pg_catalog.count(*) AS n, COALESCE(pg_catalog.sum("
				  "pg_catalog.hash_record_extended(ROW(");
	for (i = 0; i < m->columns.n; i++)
		sb_appendf(sb, "%s%s.%s%s", i ? ", " : "", alias, m->columns.items[i],
				   m->digest_as_text && m->digest_as_text[i] ? "::pg_catalog.text" : "");
	sb_appendf(sb, "), 0)), 0) AS h FROM %s%s %s WHERE ", only, table, alias);
	tablecopy_append_range(sb, m, r, alias);
}

char *
mirror_batch_compare_sql(const TableCopy *m, const KeyRange *r)
{
	StrBuf sb;

	sb_init(&sb);
	sb_append(&sb, "SELECT src.n::text, src.h::text, dst.n::text, dst.h::text FROM (");
	append_range_digest(&sb, m, r, m->from, "ONLY ", "s");
	sb_append(&sb, ") src, (");
	append_range_digest(&sb, m, r, m->to, "", "c");
	sb_append(&sb, ") dst");
	return sb_steal(&sb);
}

bool
mirror_batch_compare(PgConn *pc, const TableCopy *m, const KeyRange *r, TableComparison *c,
					 PgpError *err)
{
	return tablecomparison_run(pc, mirror_batch_compare_sql(m, r), r, c, err);
}

bool
mirror_vacuum_analyze(PgConn *pc, const TableCopy *m, PgpError *err)
{
	return stmt_change_f(pc, err, "VACUUM (ANALYZE, SKIP_LOCKED) %s", m->to);
}

bool
mirror_session_async_commit(PgConn *pc, PgpError *err)
{
	char *v = NULL;
	bool ok = pgc_query_value(pc,
							  "SELECT pg_catalog.set_config('synchronous_commit', 'off', false)", 0,
							  NULL, &v, err);

	free(v);
	return ok;
}

/* ---- the triggers and their functions ---- */

static char *
function_name(const Migration *m, const char *what)
{
	return pg_xasprintf("pgpart.\"migration_%s_%s\"", m->id, what);
}

bool
mirror_create_triggers(PgConn *pc, const Migration *m, const char *table_q, const char *dir,
					   PgpError *err)
{
	int t;
	bool ok = true;

	for (t = 0; ok && t < 2; t++)
	{
		char *what = pg_xasprintf("%s%s", dir, t == 0 ? "" : "_truncate");
		char *func = function_name(m, what);
		char *name = pg_xasprintf("pgpart_migration_%s_%s", m->id, what);

		ok = priv_create_trigger(pc, name, t == 0 ? "INSERT OR UPDATE OR DELETE" : "TRUNCATE",
								 table_q, NULL, t == 0 ? "ROW" : "STATEMENT", func, err);
		free(name);
		free(func);
		free(what);
	}
	return ok;
}

bool
mirror_drop_triggers(PgConn *pc, const Migration *m, const char *table_q, const char *dir,
					 PgpError *err)
{
	int t;
	bool ok = true;

	for (t = 0; ok && t < 2; t++)
	{
		char *sql = pg_xasprintf("DROP TRIGGER IF EXISTS \"pgpart_migration_%s_%s%s\" ON %s",
								 m->id, dir, t == 0 ? "" : "_truncate", table_q);

		ok = pgc_change(pc, sql, 0, NULL, err);
		free(sql);
	}
	return ok;
}

bool
mirror_drop_functions(PgConn *pc, const Migration *m, PgpError *err)
{
	static const char *const what[] = {"forward", "forward_truncate", "reverse",
									   "reverse_truncate"};
	char *prefix = pg_xasprintf("migration_%s_", m->id);
	bool ok = priv_drop_functions(pc, prefix, what, (int) (sizeof(what) / sizeof(what[0])), err);

	free(prefix);
	return ok;
}

/*
 * The guard of a migration's trigger functions: forward ones serve the
 * source, reverse ones the shadow (cloned to its partitions: a row trigger
 * fires with the partition's OID).  OIDs do not change at switch or rollback.
 */
static char *
guard_sql(const Migration *m, bool forward)
{
	StrBuf sb;
	char *check = pg_xasprintf("EXISTS (SELECT FROM pgpart.migration m WHERE m.id = %s "
							   "AND m.%s::pg_catalog.oid = pgpart_root)",
							   m->id, forward ? "source" : "shadow");

	sb_init(&sb);
	priv_append_trigger_guard(&sb, forward ? m->source : m->shadow, check);
	free(check);
	return sb_steal(&sb);
}

bool
mirror_create_functions(PgConn *pc, const Migration *m, const TableCopy *fwd, PgpError *err)
{
	TableCopy rev;
	char *old_q = pgc_quote_qualified(pc, m->schema, m->old_name);
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	char *g_fwd = guard_sql(m, true), *g_rev = guard_sql(m, false);
	char *f[4];
	int i;
	bool ok;

	/* same columns and key; after switch the tables have traded names, and the
	 * reverse bodies must use the names valid then */
	rev = *fwd;
	rev.from = new_q;
	rev.to = old_q;
	f[0] = function_name(m, "forward");
	f[1] = function_name(m, "forward_truncate");
	f[2] = function_name(m, "reverse");
	f[3] = function_name(m, "reverse_truncate");
	ok = mirror_create_copy_functions(pc, fwd, f[0], f[1], g_fwd, NULL, NULL, NULL, m->source,
									  priv_migration_needs, priv_migration_nneeds, err) &&
		 mirror_create_copy_functions(pc, &rev, f[2], f[3], g_rev, NULL, NULL, NULL, m->source,
									  priv_migration_needs, priv_migration_nneeds, err);
	for (i = 0; i < 4; i++)
		free(f[i]);
	free(g_fwd);
	free(g_rev);
	free(old_q);
	free(new_q);
	return ok;
}


bool
mirror_lock_writers(PgConn *pc, const char *table_q, const char *mode, PgpError *err)
{
	char *sql = pg_xasprintf("LOCK TABLE %s IN %s MODE", table_q, mode);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	return ok;
}

bool
mirror_inactive_triggers(PgConn *pc, RelOid table, const char *prefix, char **bad, PgpError *err)
{
	return catalog_oid_value_args(
		pc,
		"SELECT pg_catalog.string_agg(w.name || ' (' || COALESCE(CASE t.tgenabled "
		"  WHEN 'D' THEN 'disabled' WHEN 'O' THEN 'enabled ORIGIN only' "
		"  WHEN 'R' THEN 'enabled REPLICA only' END, 'missing') || ')', ', ') "
		"FROM (VALUES ($2::text), ($2::text || '_truncate')) w(name) "
		"LEFT JOIN pg_catalog.pg_trigger t ON t.tgrelid = $1::pg_catalog.oid "
		"  AND t.tgname = w.name "
		"WHERE t.tgenabled IS DISTINCT FROM 'A'",
		table, 1, &prefix, bad, err);
}

bool
mirror_highest_key(PgConn *pc, const TableCopy *m, NameList *key, PgpError *err)
{
	StrBuf sql;
	PGresult *res;
	int i;

	sb_init(&sql);
	sb_append(&sql, "SELECT ");
	/* qualified: a bare name in ORDER BY would mean the text output column */
	for (i = 0; i < m->key.n; i++)
		sb_appendf(&sql, "%ss.%s::text", i ? ", " : "", m->key.items[i]);
	sb_appendf(&sql, " FROM ONLY %s s ORDER BY ", m->from);
	tablecopy_append_key_order(&sql, m, "s", " DESC");
	sb_append(&sql, " LIMIT 1");
	res = pgc_query(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
		for (i = 0; i < m->key.n; i++)
			namelist_add(key, PQgetvalue(res, 0, i));
	PQclear(res);
	return true;
}

#ifdef PGPART_TEST_HOOKS
/* "(a.k1, a.k2)" */
static void
append_key_row(StrBuf *sb, const TableCopy *m, const char *alias)
{
	sb_append(sb, "(");
	tablecopy_append_columns(sb, &m->key, alias);
	sb_append(sb, ")");
}

char *
mirror_test_corrupt_sql(PgConn *pc, const TableCopy *m, const KeyRange *r, const char *kind,
						const char *column)
{
	StrBuf sb;
	char *col = pgc_quote_ident(pc, column ? column : "");

	sb_init(&sb);
	if (strcmp(kind, "drop") == 0 || strcmp(kind, "byte") == 0)
	{
		if (kind[0] == 'd')
			sb_appendf(&sb, "DELETE FROM %s d WHERE ", m->to);
		else
			/* one changed character in the middle of the longest value */
			sb_appendf(&sb,
					   "UPDATE %s d SET %s = pg_catalog.overlay(d.%s, CASE WHEN "
					   "pg_catalog.substr(d.%s, pg_catalog.length(d.%s) / 2, 1) = 'x' THEN 'y' "
					   "ELSE 'x' END, pg_catalog.length(d.%s) / 2, 1) WHERE ",
					   m->to, col, col, col, col, col);
		append_key_row(&sb, m, "d");
		sb_append(&sb, " = (SELECT ");
		tablecopy_append_columns(&sb, &m->key, "c");
		sb_appendf(&sb, " FROM %s c WHERE ", m->to);
		tablecopy_append_range(&sb, m, r, "c");
		sb_append(&sb, " ORDER BY ");
		if (kind[0] == 'b')
			sb_appendf(&sb, "pg_catalog.length(c.%s) DESC, ", col);
		tablecopy_append_key_order(&sb, m, "c", "");
		sb_append(&sb, " LIMIT 1)");
	}
	else if (strcmp(kind, "dup") == 0)
	{
		sb_appendf(&sb, "INSERT INTO %s (", m->to);
		tablecopy_append_columns(&sb, &m->columns, NULL);
		sb_append(&sb, ") OVERRIDING SYSTEM VALUE SELECT ");
		tablecopy_append_columns(&sb, &m->columns, "c");
		sb_appendf(&sb, " FROM %s c WHERE ", m->to);
		tablecopy_append_range(&sb, m, r, "c");
		sb_append(&sb, " ORDER BY ");
		tablecopy_append_key_order(&sb, m, "c", "");
		sb_append(&sb, " LIMIT 1");
	}
	else if (strcmp(kind, "swap") == 0)
	{
		/* the column's values of the first two rows trade places */
		sb_append(&sb, "WITH p AS (SELECT ");
		tablecopy_append_columns(&sb, &m->key, "c");
		sb_appendf(&sb, ", c.%s AS v, pg_catalog.row_number() OVER (ORDER BY ", col);
		tablecopy_append_key_order(&sb, m, "c", "");
		sb_appendf(&sb, ") AS rn FROM %s c WHERE ", m->to);
		tablecopy_append_range(&sb, m, r, "c");
		sb_append(&sb, " ORDER BY ");
		tablecopy_append_key_order(&sb, m, "c", "");
		sb_appendf(&sb, " LIMIT 2) UPDATE %s d SET %s = q.v FROM p, p q WHERE ", m->to, col);
		append_key_row(&sb, m, "d");
		sb_append(&sb, " = ");
		append_key_row(&sb, m, "p");
		sb_append(&sb, " AND q.rn = 3 - p.rn");
	}
	free(col);
	if (sb.len == 0)
	{
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}
bool
mirror_test_drop_unique(PgConn *pc, RelOid copy, PgpError *err)
{
	char *drop = NULL;
	bool ok;

	ok = catalog_oid_value(pc,
						   "SELECT pg_catalog.string_agg(pg_catalog.format('ALTER TABLE %s "
						   "DROP CONSTRAINT %I', conrelid::pg_catalog.regclass, conname), '; ') "
						   "FROM pg_catalog.pg_constraint WHERE conrelid = $1::pg_catalog.oid "
						   "AND contype IN ('p', 'u')",
						   copy, &drop, err) &&
		 (drop == NULL || pgc_change(pc, drop, 0, NULL, err));
	free(drop);
	return ok;
}
#endif
