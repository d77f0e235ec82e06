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
mirror_row_function_sql(PgConn *pc, const TableCopy *m, const char *func, const char *guard)
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

char *
mirror_truncate_function_sql(PgConn *pc, const TableCopy *m, const char *func,
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

char *
mirror_lock_batch_sql(PgConn *pc, const TableCopy *m, const KeyRange *r)
{
	StrBuf sb;
	int p, i;

	(void) pc;
	sb_init(&sb);
	sb_append(&sb, "WITH locked AS MATERIALIZED (SELECT ");
	tablecopy_append_columns(&sb, &m->key, "s");
	sb_appendf(&sb, " FROM ONLY %s s WHERE ", m->from);
	p = tablecopy_append_range(&sb, m, r, "s");
	sb_append(&sb, " ORDER BY ");
	tablecopy_append_key_order(&sb, m, "s", "");
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
	sb_appendf(&sb, " FROM ONLY %s s WHERE ", m->from);
	p = tablecopy_append_range(&sb, m, r, "s");
	sb_append(&sb, " ORDER BY ");
	tablecopy_append_key_order(&sb, m, "s", "");
	sb_appendf(&sb, " OFFSET $%d::bigint - 1 LIMIT 1", p);
	return sb_steal(&sb);
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
#endif
