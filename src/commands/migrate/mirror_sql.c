#include "commands/migrate/mirror_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void
mirrorspec_free(MirrorSpec *m)
{
	free(m->from);
	free(m->to);
	namelist_free(&m->columns);
	namelist_free(&m->key);
	namelist_free(&m->key_types);
	free(m->part_column);
	memset(m, 0, sizeof(*m));
}

bool
mirrorspec_load(PgConn *pc, RelOid from_oid, const char *to, const NameList *key,
				const char *part_column, MirrorSpec *m, PgpError *err)
{
	char from_buf[16];
	const char *params[2] = {from_buf, part_column};
	PGresult *res;
	int i;

	memset(m, 0, sizeof(*m));
	snprintf(from_buf, sizeof(from_buf), "%u", from_oid);
	/* with an empty search_path regclass::text is always schema-qualified */
	res = pgc_query(pc,
					"SELECT $1::pg_catalog.oid::pg_catalog.regclass::text, "
					"       (SELECT attnotnull FROM pg_catalog.pg_attribute "
					"        WHERE attrelid = $1::pg_catalog.oid AND attname = $2::text)",
					2, params, err);
	if (res == NULL)
		return false;
	m->from = pg_xstrdup(PQgetvalue(res, 0, 0));
	m->to = pg_xstrdup(to);
	m->part_not_null = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	res = pgc_query(pc,
					"SELECT a.attname FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
					"  AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
					1, params, err);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		char *q = pgc_quote_ident(pc, PQgetvalue(res, i, 0));

		namelist_add(&m->columns, q);
		free(q);
	}
	PQclear(res);
	for (i = 0; i < key->n; i++)
	{
		char *q = pgc_quote_ident(pc, key->items[i]);
		char *type = NULL;
		const char *p2[2] = {from_buf, key->items[i]};

		namelist_add(&m->key, q);
		free(q);
		/* the server's name of the type, qualified and quoted as needed */
		if (!pgc_query_value(pc,
							 "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) "
							 "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.oid "
							 "AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
							 2, p2, &type, err))
			return false;
		if (type == NULL)
		{
			err_set(err, EXIT_RUNTIME, "key column \"%s\" of %s no longer exists", key->items[i],
					m->from);
			err_hint(err, "The table was changed during the migration: roll it back.");
			return false;
		}
		namelist_add(&m->key_types, type);
		free(type);
	}
	m->part_column = pgc_quote_ident(pc, part_column);
	return true;
}

/* "a.c1, a.c2" */
static void
append_list(StrBuf *sb, const NameList *cols, const char *alias)
{
	int i;

	for (i = 0; i < cols->n; i++)
	{
		if (i > 0)
			sb_append(sb, ", ");
		if (alias)
			sb_appendf(sb, "%s.", alias);
		sb_append(sb, cols->items[i]);
	}
}

/* "a.k1 = b.k1 AND ..." plus the partition column when it cannot be null */
static void
append_key_match(StrBuf *sb, const MirrorSpec *m, const char *a, const char *b)
{
	int i;

	for (i = 0; i < m->key.n; i++)
		sb_appendf(sb, "%s%s.%s = %s.%s", i > 0 ? " AND " : "", a, m->key.items[i], b,
				   m->key.items[i]);
	if (m->part_not_null)
	{
		bool in_key = false;

		for (i = 0; i < m->key.n; i++)
			if (strcmp(m->key.items[i], m->part_column) == 0)
				in_key = true;
		if (!in_key)
			sb_appendf(sb, " AND %s.%s = %s.%s", a, m->part_column, b, m->part_column);
	}
}

/* the row's content as text, with an explicit column list: stable whatever the column order */
static void
append_row_hash(StrBuf *sb, const MirrorSpec *m, const char *alias)
{
	sb_append(sb, "('x' || pg_catalog.substr(pg_catalog.md5(ROW(");
	append_list(sb, &m->columns, alias);
	sb_append(sb, ")::text), 1, 15))::bit(60)::bigint");
}

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
	 */
	sb_appendf(&sb,
			   "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql "
			   "SECURITY DEFINER SET search_path = '' AS ",
			   func);
	pgc_append_literal(pc, &sb, full);
	free(full);
	return sb_steal(&sb);
}

char *
mirror_row_function_sql(PgConn *pc, const MirrorSpec *m, const char *func, const char *guard)
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
	append_list(&body, &m->columns, NULL);
	sb_append(&body, ") OVERRIDING SYSTEM VALUE VALUES (");
	append_list(&body, &m->columns, "OLD");
	sb_appendf(&body, ") ON CONFLICT DO NOTHING;\n      DELETE FROM %s c WHERE %s;\n    END IF;\n",
			   m->to, match.data);
	sb_free(&match);
	sb_append(&body, "  END IF;\n  IF TG_OP IN ('INSERT', 'UPDATE') THEN\n    INSERT INTO ");
	sb_append(&body, m->to);
	sb_append(&body, " (");
	append_list(&body, &m->columns, NULL);
	/* identity columns keep the application's values */
	sb_append(&body, ") OVERRIDING SYSTEM VALUE VALUES (");
	append_list(&body, &m->columns, "NEW");
	sb_append(&body, ");\n  END IF;\n  RETURN NULL;\nEND");
	sql = function_sql(pc, func, guard, body.data);
	sb_free(&body);
	return sql;
}

char *
mirror_truncate_function_sql(PgConn *pc, const MirrorSpec *m, const char *func,
							 const char *guard)
{
	StrBuf body;
	char *sql;

	sb_init(&body);
	sb_appendf(&body, "  TRUNCATE %s;\n  RETURN NULL;\nEND", m->to);
	sql = function_sql(pc, func, guard, body.data);
	sb_free(&body);
	return sql;
}

int
keyrange_params(const KeyRange *r, const char **params)
{
	int n = 0, i;

	if (r->lower)
		for (i = 0; i < r->lower->n; i++)
			params[n++] = r->lower->items[i];
	if (r->upper)
		for (i = 0; i < r->upper->n; i++)
			params[n++] = r->upper->items[i];
	return n;
}

/* "(a.k1, a.k2) > ($1::t1, $2::t2) AND (...) <= (...)"; returns the next parameter number */
static int
append_range(StrBuf *sb, const MirrorSpec *m, const KeyRange *r, const char *alias)
{
	int p = 1, i, b;

	sb_append(sb, "true");
	for (b = 0; b < 2; b++)
	{
		const NameList *bound = b == 0 ? r->lower : r->upper;

		if (bound == NULL || bound->n == 0)
			continue;
		sb_append(sb, " AND (");
		append_list(sb, &m->key, alias);
		sb_append(sb, b == 0 ? ") > (" : ") <= (");
		for (i = 0; i < m->key.n; i++)
			sb_appendf(sb, "%s$%d::%s", i > 0 ? ", " : "", p + i, m->key_types.items[i]);
		sb_append(sb, ")");
		/*
		 * Implied by the row comparison, but the planner estimates a row
		 * comparison badly (as if it kept most of the table) and then merges
		 * the whole copy for every batch; a range on the first column it
		 * estimates well, and probes the copy's index instead.
		 */
		if (m->key.n > 1)
			sb_appendf(sb, " AND %s.%s %s $%d::%s", alias, m->key.items[0], b == 0 ? ">=" : "<=", p,
					   m->key_types.items[0]);
		p += m->key.n;
	}
	return p;
}

static void
append_key_order(StrBuf *sb, const MirrorSpec *m, const char *alias, const char *dir)
{
	int i;

	for (i = 0; i < m->key.n; i++)
		sb_appendf(sb, "%s%s.%s%s", i > 0 ? ", " : "", alias, m->key.items[i], dir);
}

char *
mirror_lock_batch_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r)
{
	StrBuf sb;
	int p, i;

	(void) pc;
	sb_init(&sb);
	sb_append(&sb, "WITH locked AS MATERIALIZED (SELECT ");
	append_list(&sb, &m->key, "s");
	sb_appendf(&sb, " FROM ONLY %s s WHERE ", m->from);
	p = append_range(&sb, m, r, "s");
	sb_append(&sb, " ORDER BY ");
	append_key_order(&sb, m, "s", "");
	sb_appendf(&sb, " LIMIT $%d FOR SHARE OF s) SELECT ", p);
	for (i = 0; i < m->key.n; i++)
		sb_appendf(&sb, "l.%s::text, ", m->key.items[i]);
	sb_append(&sb, "(SELECT pg_catalog.count(*) FROM locked)::text FROM locked l ORDER BY ");
	/* rows re-checked after a wait may come back out of order: take the highest */
	append_key_order(&sb, m, "l", " DESC");
	sb_append(&sb, " LIMIT 1");
	return sb_steal(&sb);
}

char *
mirror_copy_missing_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r)
{
	StrBuf sb;

	(void) pc;
	sb_init(&sb);
	sb_appendf(&sb, "INSERT INTO %s (", m->to);
	append_list(&sb, &m->columns, NULL);
	sb_append(&sb, ") OVERRIDING SYSTEM VALUE SELECT ");
	append_list(&sb, &m->columns, "s");
	sb_appendf(&sb, " FROM ONLY %s s WHERE ", m->from);
	append_range(&sb, m, r, "s");
	sb_appendf(&sb, " AND NOT EXISTS (SELECT FROM %s c WHERE ", m->to);
	append_key_match(&sb, m, "c", "s");
	sb_append(&sb, ")");
	return sb_steal(&sb);
}

char *
mirror_delete_range_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r)
{
	StrBuf sb;

	(void) pc;
	sb_init(&sb);
	sb_appendf(&sb, "DELETE FROM %s c WHERE ", m->to);
	append_range(&sb, m, r, "c");
	return sb_steal(&sb);
}

char *
mirror_compare_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r)
{
	StrBuf sb;

	(void) pc;
	sb_init(&sb);
	sb_append(&sb, "SELECT src.n::text, src.h::text, dst.n::text, dst.h::text "
				   "FROM (SELECT pg_catalog.count(*) AS n, COALESCE(pg_catalog.sum(");
	append_row_hash(&sb, m, "s");
	sb_appendf(&sb, "), 0) AS h FROM ONLY %s s WHERE ", m->from);
	append_range(&sb, m, r, "s");
	sb_append(&sb, ") src, (SELECT pg_catalog.count(*) AS n, COALESCE(pg_catalog.sum(");
	append_row_hash(&sb, m, "c");
	sb_appendf(&sb, "), 0) AS h FROM %s c WHERE ", m->to);
	append_range(&sb, m, r, "c");
	sb_append(&sb, ") dst");
	return sb_steal(&sb);
}

char *
mirror_chunk_end_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r)
{
	StrBuf sb;
	int p, i;

	(void) pc;
	sb_init(&sb);
	sb_append(&sb, "SELECT ");
	for (i = 0; i < m->key.n; i++)
		sb_appendf(&sb, "%ss.%s::text", i > 0 ? ", " : "", m->key.items[i]);
	sb_appendf(&sb, " FROM ONLY %s s WHERE ", m->from);
	p = append_range(&sb, m, r, "s");
	sb_append(&sb, " ORDER BY ");
	append_key_order(&sb, m, "s", "");
	sb_appendf(&sb, " OFFSET $%d::bigint - 1 LIMIT 1", p);
	return sb_steal(&sb);
}

#ifdef PGPART_TEST_HOOKS
/* "(a.k1, a.k2)" */
static void
append_key_row(StrBuf *sb, const MirrorSpec *m, const char *alias)
{
	sb_append(sb, "(");
	append_list(sb, &m->key, alias);
	sb_append(sb, ")");
}

char *
mirror_test_corrupt_sql(PgConn *pc, const MirrorSpec *m, const KeyRange *r, const char *kind,
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
		append_list(&sb, &m->key, "c");
		sb_appendf(&sb, " FROM %s c WHERE ", m->to);
		append_range(&sb, m, r, "c");
		sb_append(&sb, " ORDER BY ");
		if (kind[0] == 'b')
			sb_appendf(&sb, "pg_catalog.length(c.%s) DESC, ", col);
		append_key_order(&sb, m, "c", "");
		sb_append(&sb, " LIMIT 1)");
	}
	else if (strcmp(kind, "dup") == 0)
	{
		sb_appendf(&sb, "INSERT INTO %s (", m->to);
		append_list(&sb, &m->columns, NULL);
		sb_append(&sb, ") OVERRIDING SYSTEM VALUE SELECT ");
		append_list(&sb, &m->columns, "c");
		sb_appendf(&sb, " FROM %s c WHERE ", m->to);
		append_range(&sb, m, r, "c");
		sb_append(&sb, " ORDER BY ");
		append_key_order(&sb, m, "c", "");
		sb_append(&sb, " LIMIT 1");
	}
	else if (strcmp(kind, "swap") == 0)
	{
		/* the column's values of the first two rows trade places */
		sb_append(&sb, "WITH p AS (SELECT ");
		append_list(&sb, &m->key, "c");
		sb_appendf(&sb, ", c.%s AS v, pg_catalog.row_number() OVER (ORDER BY ", col);
		append_key_order(&sb, m, "c", "");
		sb_appendf(&sb, ") AS rn FROM %s c WHERE ", m->to);
		append_range(&sb, m, r, "c");
		sb_append(&sb, " ORDER BY ");
		append_key_order(&sb, m, "c", "");
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
#endif
