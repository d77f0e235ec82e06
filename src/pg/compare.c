/*
 * compare.c - a table and its copy (compare.h): what both share, the pieces
 * of the statements that run over a key range of them, and the two proofs a
 * copy is right (rows by count and checksum, definition by fingerprint).
 * Here because migrate and move both depend on them.
 */
#include "pg/compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/stmt.h"
#include "util/mem.h"

void
tablecopy_free(TableCopy *t)
{
	FREE_ALL(t->from, t->to);
	NAMELIST_FREE_ALL(&t->columns, &t->key, &t->key_types);
	free(t->part_column);
	free(t->digest_as_text);
	memset(t, 0, sizeof(*t));
}

bool
tablecopy_load(PgConn *pc, RelOid from_oid, const char *to, const NameList *key,
			   const char *part_column, TableCopy *t, PgpError *err)
{
	char from_buf[16];
	const char *params[2] = {from_buf, part_column};
	PGresult *res;
	int i;

	memset(t, 0, sizeof(*t));
	snprintf(from_buf, sizeof(from_buf), "%u", from_oid);
	/* with an empty search_path regclass::text is always schema-qualified */
	if (!stmt_text_and_flags(pc,
							 "SELECT $1::pg_catalog.oid::pg_catalog.regclass::text, "
							 "       (SELECT attnotnull FROM pg_catalog.pg_attribute "
							 "        WHERE attrelid = $1::pg_catalog.oid AND attname = $2::text)",
							 2, params, &t->from, 1, &t->part_not_null, err))
		return false;
	t->to = pg_xstrdup(to);
	/*
	 * The types whose equal values always print the same (so hashing the
	 * value, without its text, sees every change the text would): exact
	 * types, no domains, and strings only under deterministic collations
	 */
	res = pgc_query(pc,
					"SELECT a.attname, a.atttypid NOT IN ('pg_catalog.int2'::pg_catalog.regtype, "
					"  'pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype, "
					"  'pg_catalog.bool'::pg_catalog.regtype, 'pg_catalog.date'::pg_catalog.regtype, "
					"  'pg_catalog.timestamp'::pg_catalog.regtype, "
					"  'pg_catalog.timestamptz'::pg_catalog.regtype, "
					"  'pg_catalog.uuid'::pg_catalog.regtype, 'pg_catalog.bytea'::pg_catalog.regtype, "
					"  'pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype) "
					"OR NOT COALESCE((SELECT c.collisdeterministic FROM pg_catalog.pg_collation c "
					"  WHERE c.oid = a.attcollation), true) "
					"FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 "
					"  AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
					1, params, err);
	if (res == NULL)
		return false;
	t->digest_as_text = pg_xcalloc((size_t) PQntuples(res) + 1, sizeof(bool));
	for (i = 0; i < PQntuples(res); i++)
	{
		char *q = pgc_quote_ident(pc, PQgetvalue(res, i, 0));

		namelist_add(&t->columns, q);
		t->digest_as_text[i] = PQgetvalue(res, i, 1)[0] == 't';
		free(q);
	}
	PQclear(res);
	for (i = 0; i < key->n; i++)
	{
		char *q = pgc_quote_ident(pc, key->items[i]);
		char *type = NULL;
		const char *p2[2] = {from_buf, key->items[i]};

		namelist_add(&t->key, q);
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
					t->from);
			err_hint(err, "The table was changed during the migration: roll it back.");
			return false;
		}
		namelist_add(&t->key_types, type);
		free(type);
	}
	t->part_column = pgc_quote_ident(pc, part_column);
	return true;
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

void
tablecopy_append_columns(StrBuf *sb, const NameList *cols, const char *alias)
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

void
tablecopy_append_key_match(StrBuf *sb, const TableCopy *t, const char *a, const char *b)
{
	int i;

	for (i = 0; i < t->key.n; i++)
		sb_appendf(sb, "%s%s.%s = %s.%s", i > 0 ? " AND " : "", a, t->key.items[i], b,
				   t->key.items[i]);
	if (t->part_not_null)
	{
		bool in_key = false;

		for (i = 0; i < t->key.n; i++)
			if (strcmp(t->key.items[i], t->part_column) == 0)
				in_key = true;
		if (!in_key)
			sb_appendf(sb, " AND %s.%s = %s.%s", a, t->part_column, b, t->part_column);
	}
}

int
tablecopy_append_range(StrBuf *sb, const TableCopy *t, const KeyRange *r, const char *alias)
{
	int p = 1, i, b;

	sb_append(sb, "true");
	for (b = 0; b < 2; b++)
	{
		const NameList *bound = b == 0 ? r->lower : r->upper;

		if (bound == NULL || bound->n == 0)
			continue;
		sb_append(sb, " AND (");
		tablecopy_append_columns(sb, &t->key, alias);
		sb_append(sb, b == 0 ? ") > (" : ") <= (");
		for (i = 0; i < t->key.n; i++)
			sb_appendf(sb, "%s$%d::%s", i > 0 ? ", " : "", p + i, t->key_types.items[i]);
		sb_append(sb, ")");
		/*
		 * Implied by the row comparison, but the planner estimates a row
		 * comparison badly (as if it kept most of the table) and then merges
		 * the whole copy for every batch; a range on the first column it
		 * estimates well, and probes the copy's index instead.
		 */
		if (t->key.n > 1)
			sb_appendf(sb, " AND %s.%s %s $%d::%s", alias, t->key.items[0], b == 0 ? ">=" : "<=", p,
					   t->key_types.items[0]);
		p += t->key.n;
	}
	return p;
}

void
tablecopy_append_key_order(StrBuf *sb, const TableCopy *t, const char *alias, const char *dir)
{
	int i;

	for (i = 0; i < t->key.n; i++)
		sb_appendf(sb, "%s%s.%s%s", i > 0 ? ", " : "", alias, t->key.items[i], dir);
}

/* the row's content as text, with an explicit column list: stable whatever the column order */
static void
append_row_hash(StrBuf *sb, const TableCopy *t, const char *alias)
{
	sb_append(sb, "('x' || pg_catalog.substr(pg_catalog.md5(ROW(");
	tablecopy_append_columns(sb, &t->columns, alias);
	sb_append(sb, ")::text), 1, 15))::bit(60)::bigint");
}

char *
tablecopy_compare_sql(const TableCopy *t, const KeyRange *r)
{
	StrBuf sb;

	sb_init(&sb);
	sb_append(&sb, "SELECT src.n::text, src.h::text, dst.n::text, dst.h::text "
				   "FROM (SELECT pg_catalog.count(*) AS n, COALESCE(pg_catalog.sum(");
	append_row_hash(&sb, t, "s");
	sb_appendf(&sb, "), 0) AS h FROM ONLY %s s WHERE ", t->from);
	tablecopy_append_range(&sb, t, r, "s");
	sb_append(&sb, ") src, (SELECT pg_catalog.count(*) AS n, COALESCE(pg_catalog.sum(");
	append_row_hash(&sb, t, "c");
	sb_appendf(&sb, "), 0) AS h FROM %s c WHERE ", t->to);
	tablecopy_append_range(&sb, t, r, "c");
	sb_append(&sb, ") dst");
	return sb_steal(&sb);
}

void
tablecomparison_free(TableComparison *c)
{
	FREE_ALL(c->from_rows, c->from_sum, c->to_rows, c->to_sum);
	memset(c, 0, sizeof(*c));
}

bool
tablecopy_compare(PgConn *pc, const TableCopy *t, const KeyRange *r, TableComparison *c,
				  PgpError *err)
{
	return tablecomparison_run(pc, tablecopy_compare_sql(t, r), r, c, err);
}

bool
tablecomparison_run(PgConn *pc, char *sql, const KeyRange *r, TableComparison *c, PgpError *err)
{
	const char *params[130];
	int np = keyrange_params(r, params);
	PGresult *res = pgc_query(pc, sql, np, params, err);

	free(sql);
	memset(c, 0, sizeof(*c));
	if (res == NULL)
		return false;
	c->from_rows = pg_xstrdup(PQgetvalue(res, 0, 0));
	c->from_sum = pg_xstrdup(PQgetvalue(res, 0, 1));
	c->to_rows = pg_xstrdup(PQgetvalue(res, 0, 2));
	c->to_sum = pg_xstrdup(PQgetvalue(res, 0, 3));
	PQclear(res);
	c->rows = atoll(c->from_rows);
	c->equal = strcmp(c->from_rows, c->to_rows) == 0 && strcmp(c->from_sum, c->to_sum) == 0;
	return true;
}

bool
table_fingerprint(PgConn *pc, RelOid table, char **fingerprint, PgpError *err)
{
	return catalog_oid_value(
		pc,
		"SELECT pg_catalog.md5(COALESCE((SELECT pg_catalog.string_agg(pg_catalog.format("
		"  '%s %s %s %s %s', a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
		"  a.attnotnull, a.attgenerated), ';' ORDER BY a.attnum) "
		"  FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::pg_catalog.oid "
		"  AND a.attnum > 0 AND NOT a.attisdropped), '') || '|' || "
		/* index definitions without their names, which switch swaps */
		" COALESCE((SELECT pg_catalog.string_agg(d, ';' ORDER BY d) FROM (SELECT pg_catalog.format("
		"  '%s %s %s %s %s', i.indisunique, i.indkey, i.indclass, "
		"  pg_catalog.pg_get_expr(i.indexprs, i.indrelid), "
		"  pg_catalog.pg_get_expr(i.indpred, i.indrelid)) AS d FROM pg_catalog.pg_index i "
		"  WHERE i.indrelid = $1::pg_catalog.oid) x), '') || '|' || "
		" COALESCE((SELECT pg_catalog.string_agg(t.tgname || ':' || t.tgtype || ':' || t.tgfoid::text, ';' ORDER BY t.tgname) "
		"  FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::pg_catalog.oid "
		"  AND NOT t.tgisinternal AND t.tgname !~ '^pgpart_migration_'), ''))",
		table, fingerprint, err);
}
