/*
 * migration_sql.c - the statements on pgpart.migration, the row that records
 * an online migration (migration_sql.h).  Every step writes it in the same
 * transaction as its work; the phase goes through migration_advance, which
 * applies core/migration_phase.c's transition table.
 */
#include "commands/migrate/migration_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/textarray.h"
#include "util/mem.h"

void
migration_free(Migration *m)
{
	FREE_ALL(m->id, m->schema, m->name, m->shadow_name, m->old_name, m->column, m->time_zone);
	NAMELIST_FREE_ALL(&m->key, &m->key_types, &m->upper_key, &m->last_key);
	FREE_ALL(m->fingerprint, m->verify_summary);
	memset(m, 0, sizeof(*m));
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
		/* column 13, key_types, is a record only: types are read from the catalog (tablecopy_load) */
		ok = ok && text_array_parse(V(12), &m->key) &&
			 text_array_parse(NUL(14) ? NULL : V(14), &m->upper_key) &&
			 text_array_parse(NUL(15) ? NULL : V(15), &m->last_key);
		m->rows_copied = atoll(V(16));
		m->batches = atoll(V(17));
		ok = ok && migration_phase_parse(V(18), &m->phase);
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
	return catalog_oid_bool(pc,
							"SELECT EXISTS (SELECT FROM pgpart.migration "
							"WHERE shadow = $1::pg_catalog.oid AND phase = 'switched')",
							table, yes, err);
}

static const char insert_sql[] =
	"INSERT INTO pgpart.migration (source, shadow, table_schema, table_name, shadow_name, "
	"old_name, part_column, part_interval, start_date, premake, time_zone, key_columns, "
	"key_types, upper_key, fingerprint, phase, backfill_started_at) VALUES ($1::pg_catalog.oid, "
	"$2::pg_catalog.oid, $3, $4, $5, $6, $7, $8, $9::date, $10::integer, $11, $12::name[], "
	"$13::text[], $14::text[], $15, $16, pg_catalog.now())";

bool
migration_insert(PgConn *pc, Migration *m, PgpError *err)
{
	char src[16], shd[16], start[11], premake[16];
	char *key = text_array_literal(&m->key);
	char *types = text_array_literal(&m->key_types);
	char *upper = m->upper_key.n > 0 ? text_array_literal(&m->upper_key) : NULL;
	const char *params[16];
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
	params[15] = migration_phase_name(MIGRATION_BACKFILLING);
	free(m->id);
	m->id = NULL;
	m->phase = MIGRATION_BACKFILLING;
	if (pc->dry_run)
	{
		ok = pgc_change(pc, insert_sql, 16, params, err);
		m->id = pg_xstrdup("0");
	}
	else
	{
		char *sql = pg_xasprintf("%s RETURNING id::text", insert_sql);

		ok = pgc_query_value(pc, sql, 16, params, &m->id, err);
		free(sql);
	}
	FREE_ALL(key, types, upper);
	return ok;
}

/* pgpart's own column that records when a step took the migration to next, if any */
static const char *
timestamp_column(MigrationStep step, MigrationPhase next)
{
	static const char *const column[] = {
		[MIGRATION_STEP_COPIED] = "backfill_finished_at",
		[MIGRATION_STEP_SWITCH] = "switched_at",
		[MIGRATION_STEP_FINISH] = "finished_at",
		[MIGRATION_STEP_ROLLBACK] = "finished_at",
	};

	/* back from switched to backfilled is no end: nothing to stamp */
	if (step == MIGRATION_STEP_ROLLBACK && next != MIGRATION_ROLLED_BACK)
		return NULL;
	return column[step];
}

bool
migration_advance(PgConn *pc, const Migration *m, MigrationStep step, PgpError *err)
{
	MigrationPhase next;
	const char *params[2];
	const char *column;
	char *sql;
	bool ok;

	if (!migration_step_allowed(m->phase, step, &next))
	{
		/* the operations check first: this is pgpart's mistake, not the user's */
		err_set(err, EXIT_RUNTIME, "cannot %s the migration of %s.%s in phase \"%s\"",
				migration_step_verb(step), m->schema, m->name, migration_phase_name(m->phase));
		return false;
	}
	if (next == m->phase)
		return true;
	params[0] = m->id;
	params[1] = migration_phase_name(next);
	column = timestamp_column(step, next);
	/* column is one of pgpart's own column names, never user input */
	sql = pg_xasprintf("UPDATE pgpart.migration SET phase = $2, updated_at = pg_catalog.now()%s%s%s "
					   "WHERE id = $1::bigint",
					   column ? ", " : "", column ? column : "",
					   column ? " = pg_catalog.now()" : "");
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

PGresult *
migration_active_tables(PgConn *pc, PgpError *err)
{
	return pgc_query(pc,
					 "SELECT table_schema, table_name FROM pgpart.migration "
					 "WHERE phase NOT IN ('finished', 'rolled_back') ORDER BY id",
					 0, NULL, err);
}
