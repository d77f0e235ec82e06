/*
 * check_sql.h - the statements of "pgpart check": pg_stat_statements, the
 * EXPLAIN of one statement from it (never run), and the catalog facts its
 * advice is made of.  Every read takes at most ACCESS SHARE; the EXPLAIN
 * runs in a READ ONLY transaction under statement_timeout.
 */
#ifndef PGPART_COMMANDS_CHECK_SQL_H
#define PGPART_COMMANDS_CHECK_SQL_H

#include "pg/catalog.h"
#include "pg/conn.h"

/* the schema pg_stat_statements is installed in (malloc'd), NULL when it is not */
bool check_pgss_schema(PgConn *pc, char **schema, PgpError *err);

typedef struct PgssRow
{
	char *queryid;
	char *query;
	long long calls;
	double total_ms;
	double mean_ms;
} PgssRow;

void pgssrow_list_free(PgssRow *rows, int n);

/*
 * The SELECT, WITH and PREPARE statements of this database in pg_stat_statements,
 * costliest (total execution time) first, up to limit; pgpart's own (they
 * name pg_catalog. or pgpart.) left out.
 */
bool check_read_statements(PgConn *pc, const char *pgss_schema, int limit, PgssRow **rows,
						   int *n, PgpError *err);

/*
 * EXPLAIN (FORMAT JSON, VERBOSE) of text, which the caller screened (one
 * SELECT, no semicolon).  Without parameters: EXPLAIN of the text itself.
 * With: PREPARE (types inferred by the server), then EXPLAIN EXECUTE of its
 * generic plan (plan_cache_mode = force_generic_plan) with one
 * representative value per parameter type, then DEALLOCATE.  All in a READ
 * ONLY transaction rolled back at the end, with the user's search_path and
 * statement_timeout = timeout_ms.  *plan malloc'd.
 */
bool check_explain(PgConn *pc, const char *text, bool has_params, int timeout_ms, char **plan,
				   PgpError *err);

/* the first (at most two) key columns of each index of parent, "a,b" */
bool check_index_leads(PgConn *pc, RelOid parent, NameList *leads, PgpError *err);
/* one line per index of parent (not unique) that no partition's copy was ever scanned by */
bool check_unused_indexes(PgConn *pc, RelOid parent, NameList *lines, PgpError *err);
/* one line per partition with data over 4 times or under a quarter of the median size */
bool check_size_outliers(PgConn *pc, RelOid parent, NameList *lines, PgpError *err);

#endif
