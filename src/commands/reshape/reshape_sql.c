/*
 * reshape_sql.c - every statement split and merge send (reshape_sql.h).
 * Names are quoted with pgc_append_ident or come from the server's own
 * quote_ident and regclass output; values are $n parameters or literals
 * quoted by libpq.
 */
#include "commands/reshape/reshape_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/migrate/mirror_sql.h"
#include "pg/partition.h"
#include "pg/privilege.h"
#include "pg/stmt.h"
#include "pg/textarray.h"
#include "util/mem.h"
#include "util/strbuf.h"

void
reshapejob_free(ReshapeJob *j)
{
	FREE_ALL(j->kind, j->part_schema, j->interval, j->shadow, j->phase);
	NAMELIST_FREE_ALL(&j->sources, &j->targets, &j->target_from, &j->target_to, &j->last_key);
	memset(j, 0, sizeof(*j));
}

bool
reshape_job_load(PgConn *pc, RelOid parent, bool for_update, ReshapeJob *j, bool *found,
				 PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	char *sql;
	PGresult *res;

	memset(j, 0, sizeof(*j));
	*found = false;
	snprintf(oid, sizeof(oid), "%u", parent);
	sql = pg_xasprintf("SELECT id, kind, part_schema, sources::text, targets::text, "
					   "target_from::text, target_to::text, target_interval, shadow, phase, "
					   "copied_source, COALESCE(last_key, '{}')::text, rows_copied, keep_old "
					   "FROM pgpart.reshape_job WHERE parent_table = $1::pg_catalog.oid "
					   "AND phase IN ('copying', 'copied', 'swapped')%s",
					   for_update ? " FOR UPDATE" : "");
	res = pgc_query(pc, sql, 1, params, err);
	free(sql);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		*found = true;
		j->id = atoi(PQgetvalue(res, 0, 0));
		j->kind = pg_xstrdup(PQgetvalue(res, 0, 1));
		j->part_schema = pg_xstrdup(PQgetvalue(res, 0, 2));
		text_array_parse(PQgetvalue(res, 0, 3), &j->sources);
		text_array_parse(PQgetvalue(res, 0, 4), &j->targets);
		text_array_parse(PQgetvalue(res, 0, 5), &j->target_from);
		text_array_parse(PQgetvalue(res, 0, 6), &j->target_to);
		j->interval = pg_xstrdup(PQgetvalue(res, 0, 7));
		j->shadow = pg_xstrdup(PQgetvalue(res, 0, 8));
		j->phase = pg_xstrdup(PQgetvalue(res, 0, 9));
		j->copied_source = atoi(PQgetvalue(res, 0, 10));
		text_array_parse(PQgetvalue(res, 0, 11), &j->last_key);
		j->rows_copied = atoll(PQgetvalue(res, 0, 12));
		j->keep_old = PQgetvalue(res, 0, 13)[0] == 't';
	}
	PQclear(res);
	return true;
}

static const char insert_job_sql[] =
	"INSERT INTO pgpart.reshape_job (parent_table, kind, part_schema, sources, targets, "
	"target_from, target_to, target_interval, shadow, keep_old, phase) "
	"VALUES ($1::pg_catalog.oid::pg_catalog.regclass, $2, $3, $4::name[], $5::name[], "
	"$6::text[], $7::text[], $8, $9, $10::boolean, 'copying')";

bool
reshape_job_insert(PgConn *pc, RelOid parent, ReshapeJob *j, PgpError *err)
{
	char oid[16];
	char *lits[4];
	const char *params[10];
	char *id = NULL;
	bool ok;

	snprintf(oid, sizeof(oid), "%u", parent);
	lits[0] = text_array_literal(&j->sources);
	lits[1] = text_array_literal(&j->targets);
	lits[2] = text_array_literal(&j->target_from);
	lits[3] = text_array_literal(&j->target_to);
	params[0] = oid;
	params[1] = j->kind;
	params[2] = j->part_schema;
	params[3] = lits[0];
	params[4] = lits[1];
	params[5] = lits[2];
	params[6] = lits[3];
	params[7] = j->interval;
	params[8] = j->shadow;
	params[9] = j->keep_old ? "true" : "false";
	if (pc->dry_run)
	{
		/* nothing is made, so no id: the statements print with job 0 */
		j->id = 0;
		ok = pgc_change(pc, insert_job_sql, 10, params, err);
		mem_free_each((void *const[]){lits[0], lits[1], lits[2], lits[3]}, 4);
		return ok;
	}
	{
		char *sql = pg_xasprintf("%s RETURNING id::text", insert_job_sql);

		ok = pgc_query_value(pc, sql, 10, params, &id, err);
		free(sql);
	}
	j->id = ok && id ? atoi(id) : 0;
	free(id);
	mem_free_each((void *const[]){lits[0], lits[1], lits[2], lits[3]}, 4);
	return ok;
}

bool
reshape_job_progress(PgConn *pc, const ReshapeJob *j, int source, const NameList *last_key,
					 long long rows, PgpError *err)
{
	char id[16], src[16], n[24];
	char *key = text_array_literal(last_key);
	const char *params[4] = {id, src, key, n};
	bool ok;

	snprintf(id, sizeof(id), "%d", j->id);
	snprintf(src, sizeof(src), "%d", source);
	snprintf(n, sizeof(n), "%lld", rows);
	ok = pgc_change(pc,
					"UPDATE pgpart.reshape_job SET copied_source = $2::integer, "
					"last_key = NULLIF($3::text[], '{}'), rows_copied = rows_copied + $4::bigint "
					"WHERE id = $1::integer",
					4, params, err);
	free(key);
	return ok;
}

bool
reshape_job_phase(PgConn *pc, const ReshapeJob *j, const char *phase, double swap_lock_ms,
				  PgpError *err)
{
	char id[16], ms[32];
	const char *params[3] = {id, phase, swap_lock_ms >= 0 ? ms : NULL};

	snprintf(id, sizeof(id), "%d", j->id);
	snprintf(ms, sizeof(ms), "%.3f", swap_lock_ms);
	return pgc_change(pc,
					  "UPDATE pgpart.reshape_job SET phase = $2, "
					  "swap_lock_ms = COALESCE($3::double precision, swap_lock_ms), "
					  "swapped_at = CASE WHEN $2 = 'swapped' THEN pg_catalog.now() ELSE swapped_at END, "
					  "ended_at = CASE WHEN $2 IN ('done', 'aborted') THEN pg_catalog.now() END "
					  "WHERE id = $1::integer",
					  3, params, err);
}

/* the bound's civil time in the table's zone, as SQL over the parameter $n */
static char *
local_time_sql(KeyType key_type, int n)
{
	if (key_type == KEY_TIMESTAMPTZ)
		return pg_xasprintf("pg_catalog.timezone($1, $%d::pg_catalog.timestamptz)", n);
	if (key_type == KEY_TIMESTAMP)
		return pg_xasprintf("$%d::pg_catalog.timestamp", n - 1);
	return pg_xasprintf("$%d::pg_catalog.date::pg_catalog.timestamp", n - 1);
}

bool
reshape_civil_bounds(PgConn *pc, KeyType key_type, const char *time_zone, const char *lo_text,
					 const char *hi_text, CivilDate *lo, CivilDate *hi, PgpError *err)
{
	bool tz = key_type == KEY_TIMESTAMPTZ;
	const char *params[3] = {tz ? time_zone : lo_text, tz ? lo_text : hi_text, hi_text};
	char *l = local_time_sql(key_type, 2), *h = local_time_sql(key_type, 3);
	char *sql = pg_xasprintf("SELECT (%s)::pg_catalog.date::text, (%s)::pg_catalog.date::text, "
							 "(%s) = pg_catalog.date_trunc('day', %s) "
							 "AND (%s) = pg_catalog.date_trunc('day', %s)",
							 l, h, l, l, h, h);
	PGresult *res = pgc_query(pc, sql, tz ? 3 : 2, params, err);
	bool ok = res != NULL;

	FREE_ALL(l, h, sql);
	if (!ok)
		return false;
	if (PQgetvalue(res, 0, 2)[0] != 't' || !cal_date_parse(PQgetvalue(res, 0, 0), lo) ||
		!cal_date_parse(PQgetvalue(res, 0, 1), hi))
	{
		err_set(err, EXIT_USAGE, "the bounds %s .. %s are not midnights in time zone %s", lo_text,
				hi_text, time_zone);
		err_hint(err, "split and merge work on partitions of whole days, as pgpart makes them.");
		ok = false;
	}
	PQclear(res);
	return ok;
}

bool
reshape_blockers(PgConn *pc, RelOid part, NameList *blockers, PgpError *err)
{
	PGresult *res = catalog_oid_query(
		pc,
		"SELECT 'it has a trigger of its own, ' || pg_catalog.quote_ident(t.tgname) "
		"       || ' (not carried over to the new partitions)' "
		"FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::pg_catalog.oid AND NOT t.tgisinternal "
		"  AND t.tgparentid = 0 AND t.tgname !~ '^pgpart_(rollup|reshape)_[0-9]+_' "
		"UNION ALL "
		/* a foreign key of the table is checked over every row by ATTACH, under its lock */
		"SELECT 'the table has foreign key ' || pg_catalog.quote_ident(k.conname) || ' to ' "
		"       || k.confrelid::pg_catalog.regclass::text || ' (ATTACH would check every row of "
		"the new partitions while the table is locked; not supported yet)' "
		"FROM pg_catalog.pg_constraint k WHERE k.conrelid = $1::pg_catalog.oid AND k.contype = 'f' "
		"UNION ALL "
		"SELECT 'its replica identity is an index (not carried over to the new partitions)' "
		"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid AND c.relreplident = 'i'",
		part, err);
	int i;

	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
		namelist_add(blockers, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}

bool
reshape_create_shadow(PgConn *pc, const char *shadow_q, const char *like_q, const char *column,
					  PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	/* the new partitions' columns must match: generated ones too, defaults for the record */
	sb_appendf(&sql,
			   "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED) "
			   "PARTITION BY RANGE (",
			   shadow_q, like_q);
	pgc_append_ident(pc, &sql, column);
	sb_append(&sql, ")");
	if (!stmt_change_sb(pc, &sql, err))
	{
		sb_free(&sql);
		return false;
	}
	sb_reset(&sql);
	sb_appendf(&sql, "COMMENT ON TABLE %s IS ", shadow_q);
	pgc_append_literal(pc, &sql,
					   "pgpart split/merge: routes the mirrored rows to the new partitions");
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

static char *
mirror_name(int id, int i, const char *what)
{
	return pg_xasprintf("reshape_%d_%d%s", id, i, what);
}

bool
reshape_create_mirror(PgConn *pc, int id, int i, RelOid source, const char *source_q,
					  const TableCopy *copy, const char *column, const char *lo, const char *hi,
					  PgpError *err)
{
	StrBuf guard;
	char *fn[2], *fq[2], *trig[2];
	bool ok;
	int k;

	sb_init(&guard);
	priv_append_trigger_guard(&guard, source, "false");
	fn[0] = mirror_name(id, i, "");
	fn[1] = mirror_name(id, i, "_truncate");
	for (k = 0; k < 2; k++)
	{
		StrBuf q;

		sb_init(&q);
		sb_append(&q, "pgpart.");
		pgc_append_ident(pc, &q, fn[k]);
		fq[k] = sb_steal(&q);
		trig[k] = pg_xasprintf("pgpart_%s", fn[k]);
	}
	/* TRUNCATE of a source empties its range only: a merge's shadow holds the others' rows too */
	ok = mirror_create_copy_functions(pc, copy, fq[0], fq[1], guard.data, column, lo, hi, source,
									  NULL, 0, err) &&
		 priv_create_trigger(pc, trig[0], "INSERT OR UPDATE OR DELETE", source_q, NULL, "ROW",
							 fq[0], err) &&
		 priv_create_trigger(pc, trig[1], "TRUNCATE", source_q, NULL, "STATEMENT", fq[1], err);
	for (k = 0; k < 2; k++)
		FREE_ALL(fn[k], fq[k], trig[k]);
	sb_free(&guard);
	return ok;
}

bool
reshape_drop_mirror_triggers(PgConn *pc, int id, int i, const char *source_q, PgpError *err)
{
	char *row = mirror_name(id, i, ""), *trunc = mirror_name(id, i, "_truncate");
	bool ok = stmt_change_f(pc, err, "DROP TRIGGER IF EXISTS \"pgpart_%s\" ON %s", row, source_q) &&
			  stmt_change_f(pc, err, "DROP TRIGGER IF EXISTS \"pgpart_%s\" ON %s", trunc, source_q);

	free(row);
	free(trunc);
	return ok;
}

bool
reshape_drop_mirror_functions(PgConn *pc, int id, int nsources, PgpError *err)
{
	char *prefix = pg_xasprintf("reshape_%d_", id);
	bool ok = true;
	int i;

	for (i = 0; ok && i < nsources; i++)
	{
		char *a = pg_xasprintf("%d", i), *b = pg_xasprintf("%d_truncate", i);
		const char *what[2] = {a, b};

		ok = priv_drop_functions(pc, prefix, what, 2, err);
		free(a);
		free(b);
	}
	free(prefix);
	return ok;
}

bool
reshape_attach(PgConn *pc, const char *parent_q, const char *table_q, const char *lo,
			   const char *hi, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "ALTER TABLE %s ATTACH PARTITION %s", parent_q, table_q);
	partition_append_bound_spec(pc, &sql, lo, hi);
	ok = stmt_change_sb(pc, &sql, err);
	sb_free(&sql);
	return ok;
}

bool
reshape_detach(PgConn *pc, const char *parent_q, const char *table_q, PgpError *err)
{
	return stmt_change_f(pc, err, "ALTER TABLE %s DETACH PARTITION %s", parent_q, table_q);
}

char *
reshape_shadow_range_sql(PgConn *pc, const char *shadow_q, const char *column, const char *lo,
						 const char *hi)
{
	StrBuf sb;

	sb_init(&sb);
	sb_appendf(&sb, "(SELECT * FROM %s WHERE ", shadow_q);
	partition_append_bounds(pc, &sb, column, lo, hi);
	sb_append(&sb, ")");
	return sb_steal(&sb);
}

bool
reshape_move_coverage(PgConn *pc, int rollup_id, const char *summary_q, const NameList *sources,
					  const NameList *targets, const NameList *from, const NameList *to,
					  PgpError *err)
{
	char id[16], nsrc[16];
	char *names = text_array_literal(sources);
	const char *params[3] = {id, names, nsrc};
	bool all = false, ok;
	int i;

	snprintf(id, sizeof(id), "%d", rollup_id);
	snprintf(nsrc, sizeof(nsrc), "%d", sources->n);
	ok = stmt_query_bool(pc,
						 "SELECT pg_catalog.count(*) = $3::integer FROM pgpart.rollup_coverage "
						 "WHERE rollup_id = $1::integer AND partition_name = ANY($2::name[])",
						 3, params, &all, err) &&
		 pgc_change(pc,
					"DELETE FROM pgpart.rollup_coverage WHERE rollup_id = $1::integer "
					"AND partition_name = ANY($2::name[])",
					2, params, err);
	for (i = 0; ok && all && i < targets->n; i++)
	{
		const char *p[4] = {id, from->items[i], to->items[i], targets->items[i]};
		char *sql = pg_xasprintf(
			"INSERT INTO pgpart.rollup_coverage (rollup_id, lo, hi, partition_name, summary_rows) "
			"SELECT $1::integer, $2::pg_catalog.date, $3::pg_catalog.date, $4, "
			"(SELECT pg_catalog.count(*) FROM %s s WHERE s.bucket >= $2::pg_catalog.date "
			"AND s.bucket < $3::pg_catalog.date)",
			summary_q);

		ok = pgc_change(pc, sql, 4, p, err);
		free(sql);
	}
	free(names);
	return ok;
}
