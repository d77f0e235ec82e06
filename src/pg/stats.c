/*
 * stats.c - reads partition sizes and row estimates from the catalog and the
 * statistics views; exact counts only where asked for, and capped, because a
 * count(*) on a billion-row partition is a scan.
 */
#include "pg/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/citus.h"
#include "pg/stmt.h"
#include "util/mem.h"

void
partitionstatslist_free(PartitionStatsList *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		FREE_ALL(l->items[i].name, l->items[i].from, l->items[i].to, l->items[i].heap_pretty,
				 l->items[i].index_pretty, l->items[i].tablespace, l->items[i].invalid_indexes,
				 l->items[i].missing_indexes);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_xstrdup(PQgetvalue(res, row, col));
}

/*
 * The parts CTE's heap_bytes and index_bytes columns of partition c.  On a
 * Citus coordinator a distributed partition's rows are in its shards on the
 * workers, and its own relation is empty: its sizes are the shards' (Citus
 * asks every worker).
 */
static bool
size_columns(PgConn *pc, StrBuf *cols, PgpError *err)
{
	bool citus;

	sb_init(cols);
	if (!citus_installed(pc, &citus, err))
	{
		sb_free(cols);
		return false;
	}
	if (!citus)
	{
		sb_append(cols, "pg_catalog.pg_table_size(c.oid) AS heap_bytes, "
						"pg_catalog.pg_indexes_size(c.oid) AS index_bytes, ");
		return true;
	}
	sb_append(cols, "CASE WHEN c.oid IN (SELECT d.logicalrelid FROM pg_catalog.pg_dist_partition d "
					"                    WHERE d.partmethod <> 'n') "
					"  THEN pg_catalog.citus_table_size(c.oid) "
					"  ELSE pg_catalog.pg_table_size(c.oid) END AS heap_bytes, "
					"CASE WHEN c.oid IN (SELECT d.logicalrelid FROM pg_catalog.pg_dist_partition d "
					"                    WHERE d.partmethod <> 'n') "
					"  THEN pg_catalog.citus_total_relation_size(c.oid) "
					"       - pg_catalog.citus_table_size(c.oid) "
					"  ELSE pg_catalog.pg_indexes_size(c.oid) END AS index_bytes, ");
	return true;
}

bool
stats_partitions(PgConn *pc, RelOid parent, KeyType key_type, const char *time_zone,
				 PartitionStatsList *list, PgpError *err)
{
	char oid[16];
	const char *params[3];
	PGresult *res;
	StrBuf sql;
	StrBuf sizes;
	int i;

	snprintf(oid, sizeof(oid), "%u", parent);
	params[0] = oid;
	params[1] = time_zone;
	params[2] = key_type == KEY_TIMESTAMPTZ ? "timestamptz" : "timestamp";
	memset(list, 0, sizeof(*list));
	if (!size_columns(pc, &sizes, err))
		return false;
	sb_init(&sql);
	sb_append(&sql, "WITH parts AS ("
					"  SELECT c.oid, c.relname, c.reltuples, c.relkind, ");
	sb_append(&sql, sizes.data);
	sb_append(&sql,
		"         pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound, "
		"         COALESCE(t.spcname, (SELECT s.spcname FROM pg_catalog.pg_tablespace s "
		"           JOIN pg_catalog.pg_database d ON d.dattablespace = s.oid "
		"           WHERE d.datname = pg_catalog.current_database())) AS spc "
		"  FROM pg_catalog.pg_inherits h "
		"  JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid "
		"  LEFT JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace "
		"  WHERE h.inhparent = $1::pg_catalog.oid), "
		"b AS ("
		"  SELECT parts.*, pg_catalog.regexp_match(bound, "
		"    '^FOR VALUES FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)$') AS m FROM parts), "
		"shown AS ("
		"  SELECT b.*, "
		"    CASE WHEN $3 = 'timestamptz' "
		"      THEN pg_catalog.to_char(m[1]::timestamptz AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI:SS') "
		"      ELSE pg_catalog.to_char(m[1]::timestamp, 'YYYY-MM-DD HH24:MI:SS') END AS lo_shown, "
		"    CASE WHEN $3 = 'timestamptz' "
		"      THEN pg_catalog.to_char(m[2]::timestamptz AT TIME ZONE $2, 'YYYY-MM-DD HH24:MI:SS') "
		"      ELSE pg_catalog.to_char(m[2]::timestamp, 'YYYY-MM-DD HH24:MI:SS') END AS hi_shown "
		"  FROM b) "
		"SELECT relname, bound = 'DEFAULT', "
		"  pg_catalog.regexp_replace(lo_shown, ' 00:00:00$', ''), "
		"  pg_catalog.regexp_replace(hi_shown, ' 00:00:00$', ''), "
		"  (EXTRACT(epoch FROM m[1]::timestamptz) * 1000000)::bigint, "
		"  reltuples::bigint, heap_bytes, index_bytes, "
		"  pg_catalog.pg_size_pretty(heap_bytes), pg_catalog.pg_size_pretty(index_bytes), spc, "
		"  (SELECT pg_catalog.string_agg(ic.relname, ', ' ORDER BY ic.relname) "
		"   FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
		"   WHERE i.indrelid = shown.oid AND NOT i.indisvalid), "
		"  (SELECT pg_catalog.string_agg(pi.relname, ', ' ORDER BY pi.relname) "
		"   FROM pg_catalog.pg_index px JOIN pg_catalog.pg_class pi ON pi.oid = px.indexrelid "
		"   WHERE px.indrelid = $1::pg_catalog.oid AND NOT EXISTS ("
		"     SELECT FROM pg_catalog.pg_inherits ih "
		"     JOIN pg_catalog.pg_index ci ON ci.indexrelid = ih.inhrelid "
		"     WHERE ih.inhparent = px.indexrelid AND ci.indrelid = shown.oid)), "
		"  relkind = 'f' "
		"FROM shown "
		"ORDER BY bound = 'DEFAULT', m[1]::timestamptz NULLS FIRST, relname");
	res = pgc_query(pc, sql.data, 3, params, err);
	sb_free(&sql);
	sb_free(&sizes);
	if (res == NULL)
		return false;
	list->n = PQntuples(res);
	list->items = pg_xcalloc((size_t) list->n + 1, sizeof(PartitionStats));
	for (i = 0; i < list->n; i++)
	{
		PartitionStats *p = &list->items[i];

		p->name = pg_xstrdup(PQgetvalue(res, i, 0));
		p->is_default = PQgetvalue(res, i, 1)[0] == 't';
		p->from = dup_or_null(res, i, 2);
		p->to = dup_or_null(res, i, 3);
		p->has_lo = !PQgetisnull(res, i, 4);
		p->lo_us = p->has_lo ? strtoll(PQgetvalue(res, i, 4), NULL, 10) : 0;
		p->est_rows = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		p->heap_bytes = strtoll(PQgetvalue(res, i, 6), NULL, 10);
		p->index_bytes = strtoll(PQgetvalue(res, i, 7), NULL, 10);
		p->heap_pretty = pg_xstrdup(PQgetvalue(res, i, 8));
		p->index_pretty = pg_xstrdup(PQgetvalue(res, i, 9));
		p->tablespace = dup_or_null(res, i, 10);
		p->invalid_indexes = dup_or_null(res, i, 11);
		p->missing_indexes = dup_or_null(res, i, 12);
		p->is_foreign = PQgetvalue(res, i, 13)[0] == 't';
	}
	PQclear(res);
	return true;
}

bool
stats_count_rows_capped(PgConn *pc, const char *schema, const char *name, long cap, long *count,
						PgpError *err)
{
	StrBuf sql;
	char capbuf[24];
	const char *params[1] = {capbuf};
	long long n;
	bool ok;

	snprintf(capbuf, sizeof(capbuf), "%ld", cap);
	sb_init(&sql);
	/*
	 * "SELECT 1", not a zero-column "SELECT": Citus runs the LIMIT on the
	 * shards and reads the rows back through read_intermediate_result(),
	 * which cannot describe a row of no columns ("a column definition list
	 * is required for functions returning record")
	 */
	sb_append(&sql, "SELECT pg_catalog.count(*) FROM (SELECT 1 FROM ONLY ");
	pgc_append_qualified(pc, &sql, schema, name);
	sb_append(&sql, " LIMIT $1::bigint) s");
	ok = stmt_query_number(pc, sql.data, 1, params, &n, err);
	*count = (long) n;
	sb_free(&sql);
	return ok;
}
