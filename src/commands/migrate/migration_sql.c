#include "commands/migrate/migration_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void
migration_free(Migration *m)
{
	free(m->id);
	free(m->schema);
	free(m->name);
	free(m->shadow_name);
	free(m->old_name);
	free(m->column);
	free(m->time_zone);
	namelist_free(&m->key);
	namelist_free(&m->key_types);
	namelist_free(&m->upper_key);
	namelist_free(&m->last_key);
	free(m->phase);
	free(m->fingerprint);
	free(m->verify_summary);
	memset(m, 0, sizeof(*m));
}

char *
text_array_literal(const NameList *values)
{
	StrBuf sb;
	int i;
	const char *p;

	sb_init(&sb);
	sb_append_char(&sb, '{');
	for (i = 0; i < values->n; i++)
	{
		if (i > 0)
			sb_append_char(&sb, ',');
		sb_append_char(&sb, '"');
		for (p = values->items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				sb_append_char(&sb, '\\');
			sb_append_char(&sb, *p);
		}
		sb_append_char(&sb, '"');
	}
	sb_append_char(&sb, '}');
	return sb_steal(&sb);
}

bool
text_array_parse(const char *lit, NameList *out)
{
	const char *p = lit;
	StrBuf item;

	memset(out, 0, sizeof(*out));
	if (lit == NULL)
		return true;
	if (*p++ != '{')
		return false;
	sb_init(&item);
	if (*p == '}')
	{
		sb_free(&item);
		return true;
	}
	for (;;)
	{
		sb_reset(&item);
		if (*p == '"')
		{
			p++;
			while (*p && *p != '"')
			{
				if (*p == '\\' && p[1])
					p++;
				sb_append_char(&item, *p++);
			}
			if (*p++ != '"')
				break;
		}
		else
			while (*p && *p != ',' && *p != '}')
				sb_append_char(&item, *p++);
		namelist_add(out, item.data);
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == '}')
		{
			sb_free(&item);
			return true;
		}
		break;
	}
	sb_free(&item);
	namelist_free(out);
	return false;
}

static const char select_sql[] =
	"SELECT m.id::text, COALESCE(m.source::pg_catalog.oid, 0)::text, "
	"       COALESCE(m.shadow::pg_catalog.oid, 0)::text, m.table_schema, m.table_name, "
	"       m.shadow_name, m.old_name, m.part_column, m.part_interval, m.start_date::text, "
	"       m.premake::text, m.time_zone, m.key_columns::text, m.key_types::text, "
	"       m.upper_key::text, m.last_key::text, m.rows_copied::text, m.batches::text, m.phase, "
	"       m.fingerprint, m.verify_ok::text, "
	"       (m.verified_at > m.switched_at)::text, m.verify_summary::text, "
	"       m.switch_lock_ms::text, "
	"       EXTRACT(epoch FROM m.updated_at - m.backfill_started_at)::text, "
	"       (SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.oid = m.source)::text "
	"FROM pgpart.migration m "
	"WHERE m.table_schema = $1 AND m.table_name = $2 ";

static bool
load(PgConn *pc, const char *where_tail, const char *schema, const char *name, Migration *m,
	 bool *found, PgpError *err)
{
	const char *params[2] = {schema, name};
	char *sql = pg_xasprintf("%s%s", select_sql, where_tail);
	PGresult *res = pgc_query(pc, sql, 2, params, err);
	bool ok = true;

	free(sql);
	memset(m, 0, sizeof(*m));
	*found = false;
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
#define V(c) PQgetvalue(res, 0, c)
#define NUL(c) PQgetisnull(res, 0, c)
		*found = true;
		m->id = pg_xstrdup(V(0));
		m->source = (RelOid) strtoul(V(1), NULL, 10);
		m->shadow = (RelOid) strtoul(V(2), NULL, 10);
		m->schema = pg_xstrdup(V(3));
		m->name = pg_xstrdup(V(4));
		m->shadow_name = pg_xstrdup(V(5));
		m->old_name = pg_xstrdup(V(6));
		m->column = pg_xstrdup(V(7));
		ok = cal_unit_parse(V(8), &m->unit) && cal_date_parse(V(9), &m->start);
		m->premake = atoi(V(10));
		m->time_zone = pg_xstrdup(V(11));
		/* column 13, key_types, is a record only: types are read from the catalog (mirrorspec_load) */
		ok = ok && text_array_parse(V(12), &m->key) &&
			 text_array_parse(NUL(14) ? NULL : V(14), &m->upper_key) &&
			 text_array_parse(NUL(15) ? NULL : V(15), &m->last_key);
		m->rows_copied = atoll(V(16));
		m->batches = atoll(V(17));
		m->phase = pg_xstrdup(V(18));
		m->fingerprint = pg_xstrdup(V(19));
		m->verified = !NUL(20);
		m->verify_ok = !NUL(20) && strcmp(V(20), "true") == 0;
		m->verified_since_switch = !NUL(21) && strcmp(V(21), "true") == 0;
		m->verify_summary = NUL(22) ? NULL : pg_xstrdup(V(22));
		m->switch_lock_ms = NUL(23) ? 0 : atof(V(23));
		m->backfill_seconds = NUL(24) ? 0 : atof(V(24));
		m->est_rows = NUL(25) ? -1 : atof(V(25));
#undef V
#undef NUL
		if (!ok)
			err_set(err, EXIT_RUNTIME, "unreadable migration state in pgpart.migration (id %s)",
					m->id);
	}
	PQclear(res);
	return ok;
}

bool
migration_load_active(PgConn *pc, const char *schema, const char *name, bool for_update,
					  Migration *m, bool *found, PgpError *err)
{
	return load(pc,
				for_update ? "AND m.phase NOT IN ('finished', 'rolled_back') FOR UPDATE OF m"
						   : "AND m.phase NOT IN ('finished', 'rolled_back')",
				schema, name, m, found, err);
}

bool
migration_load_latest(PgConn *pc, const char *schema, const char *name, Migration *m,
					  bool *found, PgpError *err)
{
	return load(pc, "ORDER BY m.id DESC LIMIT 1", schema, name, m, found, err);
}

bool
migration_between_switch_and_finish(PgConn *pc, RelOid table, bool *yes, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	char *phase = NULL;

	snprintf(oid, sizeof(oid), "%u", table);
	if (!pgc_query_value(pc,
						 "SELECT phase FROM pgpart.migration "
						 "WHERE shadow = $1::pg_catalog.oid AND phase = 'switched'",
						 1, params, &phase, err))
		return false;
	*yes = phase != NULL;
	free(phase);
	return true;
}

bool
migration_insert(PgConn *pc, Migration *m, PgpError *err)
{
	char src[16], shd[16], start[11], premake[16];
	char *key = text_array_literal(&m->key);
	char *types = text_array_literal(&m->key_types);
	char *upper = m->upper_key.n > 0 ? text_array_literal(&m->upper_key) : NULL;
	const char *params[15];
	bool ok;

	snprintf(src, sizeof(src), "%u", m->source);
	snprintf(shd, sizeof(shd), "%u", m->shadow);
	cal_date_format(m->start, start);
	snprintf(premake, sizeof(premake), "%d", m->premake);
	params[0] = src;
	params[1] = shd;
	params[2] = m->schema;
	params[3] = m->name;
	params[4] = m->shadow_name;
	params[5] = m->old_name;
	params[6] = m->column;
	params[7] = cal_unit_name(m->unit);
	params[8] = start;
	params[9] = premake;
	params[10] = m->time_zone;
	params[11] = key;
	params[12] = types;
	params[13] = upper;
	params[14] = m->fingerprint;
	free(m->id);
	m->id = NULL;
	if (pc->dry_run)
	{
		ok = pgc_change(pc,
						"INSERT INTO pgpart.migration (source, shadow, table_schema, table_name, "
						"shadow_name, old_name, part_column, part_interval, start_date, premake, "
						"time_zone, key_columns, key_types, upper_key, fingerprint, phase, "
						"backfill_started_at) VALUES ($1::pg_catalog.oid, $2::pg_catalog.oid, $3, "
						"$4, $5, $6, $7, $8, $9::date, $10::integer, $11, $12::name[], $13::text[], "
						"$14::text[], $15, 'backfilling', pg_catalog.now())",
						15, params, err);
		m->id = pg_xstrdup("0");
	}
	else
		ok = pgc_query_value(pc,
							 "INSERT INTO pgpart.migration (source, shadow, table_schema, "
							 "table_name, shadow_name, old_name, part_column, part_interval, "
							 "start_date, premake, time_zone, key_columns, key_types, upper_key, "
							 "fingerprint, phase, backfill_started_at) VALUES "
							 "($1::pg_catalog.oid, $2::pg_catalog.oid, $3, $4, $5, $6, $7, $8, "
							 "$9::date, $10::integer, $11, $12::name[], $13::text[], $14::text[], "
							 "$15, 'backfilling', pg_catalog.now()) RETURNING id::text",
							 15, params, &m->id, err);
	free(key);
	free(types);
	free(upper);
	return ok;
}

bool
migration_set_phase(PgConn *pc, const Migration *m, const char *phase,
					const char *timestamp_column, PgpError *err)
{
	const char *params[2] = {m->id, phase};
	char *sql;
	bool ok;

	/* timestamp_column is one of pgpart's own column names, never user input */
	sql = pg_xasprintf("UPDATE pgpart.migration SET phase = $2, updated_at = pg_catalog.now()%s%s%s "
					   "WHERE id = $1::bigint",
					   timestamp_column ? ", " : "", timestamp_column ? timestamp_column : "",
					   timestamp_column ? " = pg_catalog.now()" : "");
	ok = pgc_change(pc, sql, 2, params, err);
	free(sql);
	return ok;
}

bool
migration_record_batch(PgConn *pc, const Migration *m, const NameList *last_key, long long rows,
					   PgpError *err)
{
	char *key = text_array_literal(last_key);
	char nrows[32];
	const char *params[3] = {m->id, key, nrows};
	bool ok;

	snprintf(nrows, sizeof(nrows), "%lld", rows);
	ok = pgc_change(pc,
					"UPDATE pgpart.migration SET last_key = $2::text[], "
					"rows_copied = rows_copied + $3::bigint, batches = batches + 1, "
					"updated_at = pg_catalog.now() WHERE id = $1::bigint",
					3, params, err);
	free(key);
	return ok;
}

bool
migration_record_verify(PgConn *pc, const Migration *m, bool ok_, const char *summary_json,
						PgpError *err)
{
	const char *params[3] = {m->id, ok_ ? "true" : "false", summary_json};

	return pgc_change(pc,
					  "UPDATE pgpart.migration SET verified_at = pg_catalog.clock_timestamp(), "
					  "verify_ok = $2::boolean, verify_summary = $3::jsonb, "
					  "updated_at = pg_catalog.now() WHERE id = $1::bigint",
					  3, params, err);
}

bool
migration_record_switch_ms(PgConn *pc, const Migration *m, double ms, PgpError *err)
{
	char buf[32];
	const char *params[2] = {m->id, buf};

	snprintf(buf, sizeof(buf), "%.3f", ms);
	return pgc_change(pc,
					  "UPDATE pgpart.migration SET switch_lock_ms = $2::double precision "
					  "WHERE id = $1::bigint",
					  2, params, err);
}

bool
migration_fingerprint(PgConn *pc, RelOid table, char **fingerprint, PgpError *err)
{
	char buf[16];
	const char *params[1] = {buf};

	snprintf(buf, sizeof(buf), "%u", table);
	return pgc_query_value(
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
		1, params, fingerprint, err);
}
