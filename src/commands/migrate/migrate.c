#include "commands/migrate/migrate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/migrate/mirror_sql.h"
#include "commands/migrate/shadow_sql.h"
#include "core/naming.h"
#include "core/plan.h"
#include "pg/target.h"
#include "pg/bounds.h"
#include "pg/clone.h"
#include "pg/config.h"
#include "pg/partition.h"
#include "pg/privilege.h"
#include "pg/schema.h"
#include "pg/textarray.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/progress.h"

void
migratereport_free(MigrateReport *r)
{
	namelist_free(&r->labels);
	namelist_free(&r->values);
	namelist_free(&r->blockers);
	namelist_free(&r->warnings);
	memset(r, 0, sizeof(*r));
}

static void report(MigrateReport *r, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
report(MigrateReport *r, const char *label, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = pg_xvasprintf(fmt, ap);
	va_end(ap);
	namelist_add(&r->labels, label);
	namelist_add(&r->values, v);
	free(v);
}

/* ---- what a migration needs to know before it changes anything ---- */

typedef struct Prepared
{
	RelInfo rel;
	char *source_q;
	ColumnInfo col;
	NameList key, key_types;
	NameList stmts;	  /* for the shadow, after CREATE TABLE ... LIKE */
	NameList changes; /* how keys change */
	char *shadow_name, *old_name;
	Period *periods;
	int nperiods;
	ResolvedBound *bounds;
	char *min_text, *max_text;
} Prepared;

static void
prepared_free(Prepared *p)
{
	relinfo_free(&p->rel);
	free(p->source_q);
	columninfo_free(&p->col);
	namelist_free(&p->key);
	namelist_free(&p->key_types);
	namelist_free(&p->stmts);
	namelist_free(&p->changes);
	free(p->shadow_name);
	free(p->old_name);
	if (p->bounds)
		bounds_free(p->bounds, p->nperiods * 2);
	free(p->bounds);
	free(p->periods);
	free(p->min_text);
	free(p->max_text);
	memset(p, 0, sizeof(*p));
}

/* the primary key, else the first unique constraint whose columns are all NOT NULL */
static bool
find_key(PgConn *pc, RelOid table, NameList *key, NameList *types, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;
	bool ok;

	snprintf(oid, sizeof(oid), "%u", table);
	res = pgc_query(pc,
					"SELECT pg_catalog.array_agg(a.attname ORDER BY k.ord)::text, "
					"       pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) "
					"                            ORDER BY k.ord)::text "
					"FROM pg_catalog.pg_constraint c, "
					"     pg_catalog.unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
					"JOIN pg_catalog.pg_attribute a ON a.attnum = k.attnum "
					"WHERE c.conrelid = $1::pg_catalog.oid AND a.attrelid = c.conrelid "
					"  AND c.contype IN ('p', 'u') "
					"GROUP BY c.oid, c.contype HAVING pg_catalog.bool_and(a.attnotnull) "
					"ORDER BY c.contype = 'p' DESC, c.oid LIMIT 1",
					1, params, err);
	if (res == NULL)
		return false;
	ok = PQntuples(res) == 0 || (text_array_parse(PQgetvalue(res, 0, 0), key) &&
								 text_array_parse(PQgetvalue(res, 0, 1), types));
	PQclear(res);
	if (!ok)
		err_set(err, EXIT_RUNTIME, "cannot read the key of table %u", table);
	return ok;
}

static bool
no_migration_yet(PgConn *pc, const RelInfo *rel, PgpError *err)
{
	Migration m;
	bool found;
	PartConfig *cfg;
	int n;

	if (!migration_load_active(pc, rel->schema, rel->name, false, &m, &found, err))
		return false;
	if (found)
	{
		err_set(err, EXIT_USAGE, "a migration of %s.%s is already in progress (phase %s)",
				rel->schema, rel->name, migration_phase_name(m.phase));
		err_hint(err, "See \"pgpart migrate status %s.%s\".", rel->schema, rel->name);
		migration_free(&m);
		return false;
	}
	if (!config_load(pc, rel->oid, &cfg, &n, err))
		return false;
	partconfig_list_free(cfg, n);
	if (n > 0)
	{
		err_set(err, EXIT_USAGE, "%s.%s is already partitioned and managed by pgpart",
				rel->schema, rel->name);
		return false;
	}
	return true;
}

static bool
plan_periods_from_data(PgConn *pc, const MigrateOptions *opt, Prepared *p, PgpError *err)
{
	CivilDate first;
	bool has_first;
	StrBuf sql;
	PGresult *res;
	const char *params[1] = {opt->time_zone};
	int i;

	/* the data's range, as civil dates in the table's time zone */
	sb_init(&sql);
	sb_append(&sql, "SELECT ");
	for (i = 0; i < 2; i++)
	{
		sb_append(&sql, i == 0 ? "(pg_catalog.min(" : ", (pg_catalog.max(");
		pgc_append_ident(pc, &sql, p->col.name);
		sb_append(&sql, p->col.key_type == KEY_TIMESTAMPTZ ? ") AT TIME ZONE $1)::date::text"
														   : "))::date::text");
	}
	sb_appendf(&sql, " FROM ONLY %s WHERE $1::text IS NOT NULL", p->source_q);
	res = pgc_query(pc, sql.data, 1, params, err);
	sb_free(&sql);
	if (res == NULL)
		return false;
	p->min_text = PQgetisnull(res, 0, 0) ? NULL : pg_xstrdup(PQgetvalue(res, 0, 0));
	p->max_text = PQgetisnull(res, 0, 1) ? NULL : pg_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);

	/* from the oldest row's period; a date outside 1..9999 goes to the default partition */
	has_first = opt->has_start || (p->min_text && cal_date_parse(p->min_text, &first));
	if (opt->has_start)
		first = opt->start;
	return target_plan_periods(pc, opt->time_zone, opt->unit, has_first ? &first : NULL,
							   opt->premake, &p->periods, &p->nperiods, err) &&
		   target_resolve_bounds(pc, p->col.key_type, opt->time_zone, p->periods, p->nperiods,
								 &p->bounds, err);
}

/* everything that can be checked without changing anything; blockers go to r */
static bool
prepare(PgConn *pc, const MigrateOptions *opt, Prepared *p, MigrateReport *r, PgpError *err)
{
	bool found;
	CloneScript cs;
	NameList problems = {0};
	int i;

	memset(p, 0, sizeof(*p));
	if (!schema_require(pc, err) || !catalog_resolve_table(pc, opt->table, &p->rel, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		return false;
	}
	if (p->rel.relkind == 'p')
	{
		err_set(err, EXIT_USAGE, "%s.%s is already partitioned", p->rel.schema, p->rel.name);
		err_hint(err, "\"pgpart create %s.%s --column %s\" takes it over without copying.",
				 p->rel.schema, p->rel.name, opt->column);
		return false;
	}
	if (p->rel.relkind != 'r' || p->rel.is_partition)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not a plain table", p->rel.schema, p->rel.name);
		return false;
	}
	if (!no_migration_yet(pc, &p->rel, err))
		return false;
	p->source_q = pgc_quote_qualified(pc, p->rel.schema, p->rel.name);
	if (!catalog_column(pc, p->rel.oid, opt->column, &p->col, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", opt->column,
				p->rel.schema, p->rel.name);
		return false;
	}
	if (!p->col.key_type_ok || p->col.generated)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" of %s.%s cannot be the partition key (%s%s)",
				opt->column, p->rel.schema, p->rel.name, p->col.type_name,
				p->col.generated ? ", generated" : "");
		err_hint(err, "pgpart partitions by a timestamptz, timestamp or date column.");
		return false;
	}
	if (!find_key(pc, p->rel.oid, &p->key, &p->key_types, err))
		return false;
	if (p->key.n == 0)
		namelist_add(&r->blockers, "it has no primary key and no unique key on NOT NULL columns: "
								   "rows cannot be told apart, so changes cannot be mirrored "
								   "exactly (add a primary key first)");

	p->shadow_name = naming_derive(p->rel.name, "pgpart_new");
	p->old_name = naming_derive(p->rel.name, "pgpart_old");
	for (i = 0; i < 2; i++)
	{
		RelInfo other;
		char *q = pgc_quote_qualified(pc, p->rel.schema, i == 0 ? p->shadow_name : p->old_name);

		if (!catalog_resolve_table(pc, q, &other, &found, err))
		{
			free(q);
			return false;
		}
		relinfo_free(&other);
		if (found)
		{
			char *msg = pg_xasprintf("a table %s already exists (left over from an earlier "
									 "migration?)",
									 q);

			namelist_add(&r->blockers, msg);
			free(msg);
		}
		free(q);
	}

	if (!clone_capture(pc, p->rel.oid, p->rel.schema, p->shadow_name, &cs, err))
		return false;
	for (i = 0; i < cs.blockers.n; i++)
		namelist_add(&r->blockers, cs.blockers.items[i]);
	for (i = 0; i < cs.warnings.n; i++)
		/* migrate gives the source's storage parameters to every partition (start_body) */
		if (strncmp(cs.warnings.items[i], "storage parameters", 18) != 0)
			namelist_add(&r->warnings, cs.warnings.items[i]);
	clonescript_free(&cs);

	if (!shadow_statements(pc, p->rel.oid, p->rel.schema, p->shadow_name, opt->column,
						   opt->extend_keys, &p->stmts, &problems, &p->changes, err))
		return false;
	for (i = 0; i < problems.n; i++)
		namelist_add(&r->blockers, problems.items[i]);
	namelist_free(&problems);
	return plan_periods_from_data(pc, opt, p, err);
}

static void
refuse(const Prepared *p, const MigrateReport *r, PgpError *err)
{
	char *list = namelist_join(&r->blockers, "; ");

	err_set(err, EXIT_USAGE, "cannot migrate %s.%s online: %s", p->rel.schema, p->rel.name, list);
	err_hint(err, "Nothing was changed.  \"pgpart migrate plan\" lists what it found.");
	free(list);
}

bool
ops_migrate_plan(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Prepared p;
	PGresult *res;
	char oid[16];
	const char *params[1] = {oid};
	int i;
	double est;

	memset(r, 0, sizeof(*r));
	if (!prepare(pc, opt, &p, r, err))
	{
		prepared_free(&p);
		return false;
	}
	snprintf(oid, sizeof(oid), "%u", p.rel.oid);
	res = pgc_query(pc,
					"SELECT NULL, "
					"       pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid)), "
					"       (SELECT pg_catalog.string_agg(pg_catalog.format('%I (%s)', a.attname, "
					"          CASE WHEN a.attidentity <> '' THEN 'identity: values are copied, "
					"the sequence position is carried over at switch' "
					"               WHEN a.attgenerated <> '' THEN 'generated: recomputed, not copied' "
					"               ELSE 'serial: the sequence is shared, ownership moves at switch' END), '; ') "
					"        FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
					"        AND NOT a.attisdropped AND (a.attidentity <> '' OR a.attgenerated <> '' "
					"        OR pg_catalog.pg_get_serial_sequence(c.oid::pg_catalog.regclass::text, a.attname) IS NOT NULL)), "
					"       (SELECT pg_catalog.string_agg(pg_catalog.format('%I -> %s', con.conname, "
					"          con.confrelid::pg_catalog.regclass), '; ') FROM pg_catalog.pg_constraint con "
					"        WHERE con.conrelid = c.oid AND con.contype = 'f') "
					"FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid",
					1, params, err);
	if (res == NULL)
	{
		prepared_free(&p);
		return false;
	}
	if (!catalog_estimate_rows(pc, p.rel.oid, &est, err))
	{
		PQclear(res);
		prepared_free(&p);
		return false;
	}
	report(r, "table", "%s.%s", p.rel.schema, p.rel.name);
	report(r, "size", "%s", PQgetvalue(res, 0, 1));
	report(r, "rows (estimate)", "%.0f", est);
	report(r, "partition column", "%s (%s)", p.col.name, p.col.type_name);
	report(r, "data range", "%s .. %s", p.min_text ? p.min_text : "(no rows)",
		   p.max_text ? p.max_text : "(no rows)");
	if (p.key.n > 0)
	{
		char *k = namelist_join(&p.key, ", ");

		report(r, "copy key", "(%s): rows are copied in this order, in batches", k);
		free(k);
	}
	for (i = 0; i < p.changes.n; i++)
		report(r, "key change", "%s", p.changes.items[i]);
	if (!PQgetisnull(res, 0, 2))
		report(r, "special columns", "%s", PQgetvalue(res, 0, 2));
	if (!PQgetisnull(res, 0, 3))
		report(r, "foreign keys", "%s (recreated on the new table; checked for every copied row)",
			   PQgetvalue(res, 0, 3));
	PQclear(res);
	if (p.nperiods > 0)
	{
		char *first = naming_derive(p.rel.name, p.periods[0].suffix);
		char *last = naming_derive(p.rel.name, p.periods[p.nperiods - 1].suffix);

		report(r, "partitions", "%d of one %s: %s .. %s, plus %s_default", p.nperiods,
			   cal_unit_name(opt->unit), first, last, p.rel.name);
		free(first);
		free(last);
	}
	report(r, "shadow table", "%s.%s (becomes %s.%s at switch; the old table is renamed %s)",
		   p.rel.schema, p.shadow_name, p.rel.schema, p.rel.name, p.old_name);
	if (opt->rate > 0)
		report(r, "backfill time", "about %.0f s at --rate %.0f rows/s", est / opt->rate,
			   opt->rate);
	else
		report(r, "backfill time", "unthrottled; about %.0f s at 10000 rows/s (set --rate)",
			   est / 10000.0);
	report(r, "next step", "%s", r->blockers.n > 0 ? "none: resolve the blockers first"
												   : "pgpart migrate start (same options)");
	if (r->blockers.n > 0)
		refuse(&p, r, err);
	prepared_free(&p);
	return r->blockers.n == 0;
}

/* ---- triggers ---- */

static char *
function_name(const Migration *m, const char *what)
{
	return pg_xasprintf("pgpart.\"migration_%s_%s\"", m->id, what);
}

/* row and TRUNCATE triggers on table mirroring into the other table */
static bool
create_triggers(PgConn *pc, const Migration *m, const char *table_q, const char *dir,
				PgpError *err)
{
	int t;
	bool ok = true;

	for (t = 0; ok && t < 2; t++)
	{
		char *what = pg_xasprintf("%s%s", dir, t == 0 ? "" : "_truncate");
		char *func = function_name(m, what);
		char *sql = pg_xasprintf(
			"CREATE TRIGGER \"pgpart_migration_%s_%s\" AFTER %s ON %s FOR EACH %s EXECUTE FUNCTION %s()",
			m->id, what, t == 0 ? "INSERT OR UPDATE OR DELETE" : "TRUNCATE", table_q,
			t == 0 ? "ROW" : "STATEMENT", func);

		ok = pgc_change(pc, sql, 0, NULL, err);
		free(sql);
		/* ALWAYS: also for writers with session_replication_role = replica */
		sql = pg_xasprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER \"pgpart_migration_%s_%s\"",
						   table_q, m->id, what);
		ok = ok && pgc_change(pc, sql, 0, NULL, err);
		free(sql);
		free(func);
		free(what);
	}
	return ok;
}

static bool
drop_triggers(PgConn *pc, const Migration *m, const char *table_q, const char *dir, PgpError *err)
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

static bool
drop_functions(PgConn *pc, const Migration *m, PgpError *err)
{
	static const char *const what[] = {"forward", "forward_truncate", "reverse",
									   "reverse_truncate"};
	size_t i;
	bool ok = true;

	for (i = 0; ok && i < sizeof(what) / sizeof(what[0]); i++)
	{
		char *func = function_name(m, what[i]);
		char *sql = pg_xasprintf("DROP FUNCTION IF EXISTS %s()", func);

		ok = pgc_change(pc, sql, 0, NULL, err);
		free(sql);
		free(func);
	}
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

/*
 * forward: source -> shadow (by the shadow's name before switch); reverse:
 * new -> old.  CREATE OR REPLACE, then revoked from PUBLIC and given to the
 * table's owner, in the caller's transaction.
 */
static bool
create_functions(PgConn *pc, const Migration *m, const TableCopy *fwd, PgpError *err)
{
	TableCopy rev;
	char *old_q = pgc_quote_qualified(pc, m->schema, m->old_name);
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	char *g_fwd = guard_sql(m, true), *g_rev = guard_sql(m, false);
	char *f[4], *sql[4];
	int i;
	bool ok = true;

	/* same columns and key; after switch the tables have traded names, and the
	 * reverse bodies must use the names valid then */
	rev = *fwd;
	rev.from = new_q;
	rev.to = old_q;
	f[0] = function_name(m, "forward");
	f[1] = function_name(m, "forward_truncate");
	f[2] = function_name(m, "reverse");
	f[3] = function_name(m, "reverse_truncate");
	sql[0] = mirror_row_function_sql(pc, fwd, f[0], g_fwd);
	sql[1] = mirror_truncate_function_sql(pc, fwd, f[1], g_fwd);
	sql[2] = mirror_row_function_sql(pc, &rev, f[2], g_rev);
	sql[3] = mirror_truncate_function_sql(pc, &rev, f[3], g_rev);
	for (i = 0; i < 4; i++)
	{
		char *sig = pg_xasprintf("%s()", f[i]);

		ok = ok && pgc_change(pc, sql[i], 0, NULL, err) &&
			 priv_secure_function(pc, sig, m->source, priv_migration_needs,
								  priv_migration_nneeds, err);
		free(sig);
		free(sql[i]);
		free(f[i]);
	}
	free(g_fwd);
	free(g_rev);
	free(old_q);
	free(new_q);
	return ok;
}

bool
ops_migrate_rebuild_functions(PgConn *pc, NameList *done, NameList *problems, PgpError *err)
{
	PGresult *res;
	int i;
	bool ok = true;

	res = pgc_query(pc,
					"SELECT table_schema, table_name FROM pgpart.migration "
					"WHERE phase NOT IN ('finished', 'rolled_back') ORDER BY id",
					0, NULL, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *schema = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1);
		Migration m;
		TableCopy spec;
		bool found = false;
		char *now = NULL, *shadow_q = NULL, *prefix = NULL, *msg;
		int guarded = 0; /* of its four trigger functions, made by this version */
		PgpError e;

		memset(&spec, 0, sizeof(spec));
		err_init(&e);
		/* one migration that cannot be rebuilt must not keep the others as they were */
		if (!pgc_exec(pc, "SAVEPOINT pgpart_rebuild", 0, NULL, err))
		{
			ok = false;
			break;
		}
		if (migration_load_active(pc, schema, name, false, &m, &found, &e) && found &&
			(prefix = pg_xasprintf("migration_%s_", m.id)) &&
			priv_count_guarded(pc, prefix, &guarded, &e) && guarded < 4 &&
			table_fingerprint(pc, m.source, &now, &e))
		{
			if (now == NULL || strcmp(now, m.fingerprint) != 0)
			{
				/* its definition changed: the migration must be rolled back anyway */
				msg = pg_xasprintf("migration of %s.%s: trigger functions not rebuilt, the table "
								   "changed since it started (roll it back)",
								   schema, name);
				namelist_add(problems, msg);
				free(msg);
			}
			else
			{
				shadow_q = pgc_quote_qualified(pc, m.schema, m.shadow_name);
				if (tablecopy_load(pc, m.source, shadow_q, &m.key, m.column, &spec, &e) &&
					create_functions(pc, &m, &spec, &e))
				{
					msg = pg_xasprintf("migration of %s.%s: trigger functions rebuilt (they run "
									   "only for its two tables)",
									   schema, name);
					namelist_add(done, msg);
					free(msg);
				}
			}
		}
		if (err_is_set(&e))
		{
			PgpError ignored;

			msg = pg_xasprintf("migration of %s.%s: trigger functions not rebuilt: %s", schema,
							   name, e.message);
			namelist_add(problems, msg);
			free(msg);
			err_init(&ignored);
			pgc_exec(pc, "ROLLBACK TO SAVEPOINT pgpart_rebuild", 0, NULL, &ignored);
			err_clear(&ignored);
		}
		ok = pgc_exec(pc, "RELEASE SAVEPOINT pgpart_rebuild", 0, NULL, err);
		free(now);
		free(shadow_q);
		free(prefix);
		tablecopy_free(&spec);
		migration_free(&m);
		err_clear(&e);
	}
	PQclear(res);
	return ok;
}

/* ---- start ---- */

typedef struct StartCtx
{
	const MigrateOptions *opt;
	Prepared *p;
	Migration m;
} StartCtx;

static bool
start_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	StartCtx *c = arg;
	Prepared *p = c->p;
	const MigrateOptions *opt = c->opt;
	Migration *m = &c->m;
	char *shadow_q = pgc_quote_qualified(pc, p->rel.schema, p->shadow_name);
	StrBuf sql;
	TableCopy spec;
	PGresult *res;
	int i;
	bool ok = false;

	memset(&spec, 0, sizeof(spec));
	sb_init(&sql);
	sb_appendf(&sql, "CREATE TABLE %s (LIKE %s INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (",
			   shadow_q, p->source_q);
	pgc_append_ident(pc, &sql, p->col.name);
	sb_append(&sql, ")");
	if (p->rel.tablespace)
	{
		sb_append(&sql, " TABLESPACE ");
		pgc_append_ident(pc, &sql, p->rel.tablespace);
	}
	if (!pgc_change(pc, sql.data, 0, NULL, err))
		goto done;
	for (i = 0; i < p->stmts.n; i++)
		if (!pgc_change(pc, p->stmts.items[i], 0, NULL, err))
			goto done;
	/* nobody uses the shadow yet: PARTITION OF is safe; names are the final ones */
	for (i = 0; i <= p->nperiods; i++)
	{
		NewPartition np;
		char *name = naming_derive(p->rel.name, i < p->nperiods ? p->periods[i].suffix : "default");

		memset(&np, 0, sizeof(np));
		np.parent_schema = p->rel.schema;
		np.parent_name = p->shadow_name;
		np.column = p->col.name;
		np.name = name;
		np.lo_literal = i < p->nperiods ? p->bounds[2 * i].literal : NULL;
		np.hi_literal = i < p->nperiods ? p->bounds[2 * i + 1].literal : NULL;
		ok = partition_create_of(pc, &np, err);
		free(name);
		if (!ok)
			goto done;
	}
	ok = false;
	/* a partitioned table takes no storage parameters: its partitions get the source's */
	{
		char oid[16];
		const char *params[2] = {oid, shadow_q};

		snprintf(oid, sizeof(oid), "%u", p->rel.oid);
		res = pgc_query(pc,
						"SELECT 'ALTER TABLE ' || i.inhrelid::pg_catalog.regclass::text || ' SET (' "
						"  || pg_catalog.array_to_string(c.reloptions, ', ') || ')' "
						"FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i "
						"WHERE c.oid = $1::pg_catalog.oid AND c.reloptions IS NOT NULL "
						"  AND i.inhparent = pg_catalog.to_regclass($2)",
						2, params, err);
		if (res == NULL)
			goto done;
		for (i = 0; i < PQntuples(res); i++)
			if (!pgc_change(pc, PQgetvalue(res, i, 0), 0, NULL, err))
			{
				PQclear(res);
				goto done;
			}
		PQclear(res);
	}

	/* from here on writers wait: keep it short */
	sb_reset(&sql);
	sb_appendf(&sql, "LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", p->source_q);
	if (!pgc_change(pc, sql.data, 0, NULL, err))
		goto done;
	lock_txn_mark_locked(stats);

	memset(m, 0, sizeof(*m));
	m->source = p->rel.oid;
	m->schema = pg_xstrdup(p->rel.schema);
	m->name = pg_xstrdup(p->rel.name);
	m->shadow_name = pg_xstrdup(p->shadow_name);
	m->old_name = pg_xstrdup(p->old_name);
	m->column = pg_xstrdup(p->col.name);
	m->unit = opt->unit;
	m->start = p->nperiods > 0 ? p->periods[0].start : opt->start;
	m->premake = opt->premake;
	m->time_zone = pg_xstrdup(opt->time_zone);
	for (i = 0; i < p->key.n; i++)
	{
		namelist_add(&m->key, p->key.items[i]);
		namelist_add(&m->key_types, p->key_types.items[i]);
	}
	if (!table_fingerprint(pc, p->rel.oid, &m->fingerprint, err))
		goto done;
	if (!pc->dry_run)
	{
		char *oid_text = NULL;
		const char *params[1] = {shadow_q};

		if (!pgc_query_value(pc, "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::text", 1,
							 params, &oid_text, err))
			goto done;
		m->shadow = (RelOid) strtoul(oid_text ? oid_text : "0", NULL, 10);
		free(oid_text);
	}
	if (!tablecopy_load(pc, p->rel.oid, shadow_q, &p->key, p->col.name, &spec, err))
		goto done;
	/* the highest key now: every row above it will have been written through the trigger */
	sb_reset(&sql);
	sb_append(&sql, "SELECT ");
	/* qualified: a bare name in ORDER BY would mean the text output column */
	for (i = 0; i < spec.key.n; i++)
		sb_appendf(&sql, "%ss.%s::text", i ? ", " : "", spec.key.items[i]);
	sb_appendf(&sql, " FROM ONLY %s s ORDER BY ", p->source_q);
	for (i = 0; i < spec.key.n; i++)
		sb_appendf(&sql, "%ss.%s DESC", i ? ", " : "", spec.key.items[i]);
	sb_append(&sql, " LIMIT 1");
	res = pgc_query(pc, sql.data, 0, NULL, err);
	if (res == NULL)
		goto done;
	if (PQntuples(res) == 1)
		for (i = 0; i < spec.key.n; i++)
			namelist_add(&m->upper_key, PQgetvalue(res, 0, i));
	PQclear(res);
	if (!migration_insert(pc, m, err) || !create_functions(pc, m, &spec, err) ||
		!create_triggers(pc, m, p->source_q, "forward", err))
		goto done;
	if (m->upper_key.n == 0 &&
		!migration_advance(pc, m, MIGRATION_STEP_COPIED, err))
		goto done;
	ok = true;
done:
	tablecopy_free(&spec);
	sb_free(&sql);
	free(shadow_q);
	return ok;
}

bool
ops_migrate_start(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Prepared p;
	StartCtx c;
	LockStats st;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	if (!prepare(pc, opt, &p, r, err))
		goto done;
	if (r->blockers.n > 0)
	{
		refuse(&p, r, err);
		goto done;
	}
	c.opt = opt;
	c.p = &p;
	if (!lock_run_txn(pc, &opt->lock, start_body, &c, &st, err))
		goto done;
	r->lock_held_ms = st.held_ms;
	r->lock_attempts = st.attempts;
	report(r, "table", "%s.%s", p.rel.schema, p.rel.name);
	report(r, "shadow table", "%s.%s", p.rel.schema, p.shadow_name);
	report(r, "partitions", "%d + default", p.nperiods);
	report(r, "migration id", "%s", c.m.id ? c.m.id : "?");
	report(r, "phase", "%s", c.m.upper_key.n == 0 ? "backfilled (the table was empty)"
												   : "backfilling");
	report(r, "next step", "pgpart migrate backfill %s.%s", p.rel.schema, p.rel.name);
	ok = true;
done:
	migration_free(&c.m);
	prepared_free(&p);
	return ok;
}

/* ---- the steps after start share this ---- */

typedef struct Active
{
	Migration m;
	TableCopy spec; /* source (old) -> shadow (new), whatever their names now */
} Active;

static void
active_free(Active *a)
{
	migration_free(&a->m);
	tablecopy_free(&a->spec);
}

/*
 * schema and name of the table a migration is recorded under: the table the
 * user names if it exists (it may be either side after a switch), else the
 * name as typed (the table may be gone after finish).
 */
static bool
migration_table_name(PgConn *pc, const char *user_name, char **schema, char **name,
					 PgpError *err)
{
	RelInfo rel;
	bool found;

	if (!catalog_resolve_table(pc, user_name, &rel, &found, err))
		return false;
	if (!found)
		return catalog_split_name(pc, user_name, schema, name, err);
	*schema = pg_xstrdup(rel.schema);
	*name = pg_xstrdup(rel.name);
	relinfo_free(&rel);
	return true;
}

static bool
load_active(PgConn *pc, const MigrateOptions *opt, Active *a, PgpError *err)
{
	char *schema = NULL, *name = NULL;
	bool found;
	bool ok = false;

	memset(a, 0, sizeof(*a));
	if (!schema_require(pc, err))
		return false;
	if (!migration_table_name(pc, opt->table, &schema, &name, err))
		return false;
	if (!migration_load_active(pc, schema, name, false, &a->m, &found, err))
		goto done;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "no migration of %s.%s is in progress", schema, name);
		err_hint(err, "Start one with \"pgpart migrate start %s.%s --column COL\".", schema, name);
		goto done;
	}
	if (a->m.shadow != 0)
	{
		char oid[16];
		char *shadow_q = NULL;
		const char *params[1] = {oid};

		snprintf(oid, sizeof(oid), "%u", a->m.shadow);
		if (!pgc_query_value(pc, "SELECT $1::pg_catalog.oid::pg_catalog.regclass::text", 1,
							 params, &shadow_q, err))
			goto done;
		ok = tablecopy_load(pc, a->m.source, shadow_q, &a->m.key, a->m.column, &a->spec, err);
		free(shadow_q);
	}
	else
		ok = true;
done:
	free(schema);
	free(name);
	return ok;
}

static const char *
next_step(const Migration *m)
{
	return migration_next_step(m->phase, m->verified_since_switch && m->verify_ok);
}

static bool
wrong_phase(const Migration *m, MigrationStep step, PgpError *err)
{
	err_set(err, EXIT_USAGE, "cannot %s the migration of %s.%s: it is in phase \"%s\"",
			migration_step_verb(step), m->schema, m->name, migration_phase_name(m->phase));
	err_hint(err, "The next step is: pgpart migrate %s %s.%s.", next_step(m), m->schema, m->name);
	return false;
}

/*
 * ALTER TABLE ... DISABLE TRIGGER (ALL or by name) stops the mirror without
 * any error in the application: every write made meanwhile is missing from the
 * other table.  Checked before each batch, verify and switch; a disable and
 * re-enable between two checks is only caught by verify's comparison.
 */
static bool
check_mirror_triggers(PgConn *pc, const Migration *m, PgpError *err)
{
	bool switched = m->phase == MIGRATION_SWITCHED;
	char oid[16];
	char *prefix = pg_xasprintf("pgpart_migration_%s_%s", m->id, switched ? "reverse" : "forward");
	const char *params[2] = {oid, prefix};
	char *bad = NULL;
	bool ok;

	snprintf(oid, sizeof(oid), "%u", switched ? m->shadow : m->source);
	if (!pgc_query_value(
			pc,
			"SELECT pg_catalog.string_agg(w.name || ' (' || COALESCE(CASE t.tgenabled "
			"  WHEN 'D' THEN 'disabled' WHEN 'O' THEN 'enabled ORIGIN only' "
			"  WHEN 'R' THEN 'enabled REPLICA only' END, 'missing') || ')', ', ') "
			"FROM (VALUES ($2::text), ($2::text || '_truncate')) w(name) "
			"LEFT JOIN pg_catalog.pg_trigger t ON t.tgrelid = $1::pg_catalog.oid "
			"  AND t.tgname = w.name "
			"WHERE t.tgenabled IS DISTINCT FROM 'A'",
			2, params, &bad, err))
	{
		free(prefix);
		return false;
	}
	free(prefix);
	ok = bad == NULL;
	if (!ok)
	{
		err_set(err, EXIT_CHECK, "the triggers that mirror writes of %s.%s are not active: %s",
				m->schema, m->name, bad);
		err_detail(err, "Writes made while they were off reached only one of the two tables.");
		err_hint(err,
				 "Enable them again with ALTER TABLE ... ENABLE ALWAYS TRIGGER, then run "
				 "\"pgpart migrate verify %s.%s --repair\"; or roll back.",
				 m->schema, m->name);
	}
	free(bad);
	return ok;
}

static bool
check_fingerprint(PgConn *pc, const Migration *m, PgpError *err)
{
	char *now = NULL;
	bool same;

	if (!check_mirror_triggers(pc, m, err))
		return false;

	if (!table_fingerprint(pc, m->source, &now, err))
		return false;
	same = now && strcmp(now, m->fingerprint) == 0;
	free(now);
	if (!same)
	{
		err_set(err, EXIT_RUNTIME,
				"the definition of %s.%s changed since the migration started (columns, "
				"indexes or triggers)",
				m->schema, m->name);
		err_detail(err, "The copy was made for the old definition; continuing could lose or "
						"corrupt data.");
		err_hint(err, "Roll back with \"pgpart migrate rollback %s.%s\" and start again.",
				 m->schema, m->name);
		return false;
	}
	return true;
}

/* ---- backfill ---- */

typedef struct BatchCtx
{
	Active *a;
	int batch_size;
	NameList next_key;
	long long copied;
	bool done;
} BatchCtx;

static bool
compare_range(PgConn *pc, const TableCopy *spec, const KeyRange *range, bool *equal,
			  long long *rows, char **detail, PgpError *err)
{
	TableComparison c;

	if (!tablecopy_compare(pc, spec, range, &c, err))
		return false;
	*equal = c.equal;
	*rows = c.rows;
	if (detail)
		*detail = pg_xasprintf("source %s rows, copy %s rows%s", c.from_rows, c.to_rows,
							   strcmp(c.from_rows, c.to_rows) == 0
								   ? " (same count, different contents)"
								   : "");
	tablecomparison_free(&c);
	return true;
}

static char *
range_text(const KeyRange *r)
{
	char *lo = r->lower && r->lower->n ? namelist_join(r->lower, ", ") : pg_xstrdup("start");
	char *hi = r->upper && r->upper->n ? namelist_join(r->upper, ", ") : pg_xstrdup("end");
	char *t = pg_xasprintf("keys (%s] .. [%s]", lo, hi);

	free(lo);
	free(hi);
	return t;
}

static bool
batch_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	BatchCtx *c = arg;
	Active *a = c->a;
	KeyRange r1 = {&a->m.last_key, &a->m.upper_key};
	KeyRange r2;
	const char *params[130];
	char limit[16];
	char *sql;
	PGresult *res;
	int np, i, k = a->spec.key.n;
	bool equal;
	long long rows;
	char *detail = NULL;

	namelist_free(&c->next_key);
	c->copied = 0;
	c->done = false;
	/* rows are locked FOR SHARE: a writer's UPDATE or DELETE of them waits for this batch */
	sql = mirror_lock_batch_sql(pc, &a->spec, &r1);
	np = keyrange_params(&r1, params);
	snprintf(limit, sizeof(limit), "%d", c->batch_size);
	params[np++] = limit;
	res = pgc_query(pc, sql, np, params, err);
	free(sql);
	if (res == NULL)
		return false;
	lock_txn_mark_locked(stats);
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		c->done = true;
		return migration_advance(pc, &a->m, MIGRATION_STEP_COPIED, err);
	}
	for (i = 0; i < k; i++)
		namelist_add(&c->next_key, PQgetvalue(res, 0, i));
	PQclear(res);

	/* a new statement, a new snapshot: every writer of the locked rows has committed */
	r2.lower = &a->m.last_key;
	r2.upper = &c->next_key;
	sql = mirror_copy_missing_sql(pc, &a->spec, &r2);
	np = keyrange_params(&r2, params);
	if (pc->dry_run)
	{
		bool ok = pgc_change(pc, sql, np, params, err);

		free(sql);
		c->done = true;
		return ok;
	}
	res = pgc_query(pc, sql, np, params, err);
	free(sql);
	if (res == NULL)
		return false;
	c->copied = atoll(PQcmdTuples(res));
	PQclear(res);

	if (!compare_range(pc, &a->spec, &r2, &equal, &rows, &detail, err))
		return false;
	if (!equal)
	{
		char *rt = range_text(&r2);

		err_set(err, EXIT_CHECK, "batch check failed for %s: %s", rt, detail);
		err_detail(err, "The copy differs from the source in this range; the batch was rolled "
						"back.  Something wrote to one table without the other.");
		err_hint(err, "Run \"pgpart migrate verify %s.%s --repair\", then backfill again.",
				 a->m.schema, a->m.name);
		free(rt);
		free(detail);
		return false;
	}
	free(detail);
	return migration_record_batch(pc, &a->m, &c->next_key, c->copied, err);
}

/* highest replay lag of any standby, in ms; -1 when it cannot be read */
static double
replica_lag_ms(PgConn *pc)
{
	PgpError e;
	char *v = NULL;
	double lag = -1;

	err_init(&e);
	if (pgc_query_value(pc,
						"SELECT COALESCE(EXTRACT(epoch FROM pg_catalog.max(replay_lag)) * 1000, 0)::text "
						"FROM pg_catalog.pg_stat_replication",
						0, NULL, &v, &e) &&
		v)
		lag = atof(v);
	free(v);
	err_clear(&e);
	return lag;
}

#ifdef PGPART_TEST_HOOKS
/*
 * PGPART_TEST_CORRUPT=KIND:BATCH[:COLUMN] damages the copy of that batch
 * (counted from 1 in this run) after it committed, where only verify can see
 * it.  Test builds only: the release binary has no such code.
 */
static bool
test_corrupt_copy(PgConn *pc, Active *a, const NameList *upper, int batch, PgpError *err)
{
	const char *env = getenv("PGPART_TEST_CORRUPT");
	char *spec, *kind, *num, *column;
	KeyRange range = {&a->m.last_key, upper};
	const char *params[130];
	bool ok = true;

	if (env == NULL || pc->dry_run)
		return true;
	spec = pg_xstrdup(env);
	kind = strtok(spec, ":");
	num = strtok(NULL, ":");
	column = strtok(NULL, ":");
	if (kind && num && atoi(num) == batch)
	{
		char *sql = mirror_test_corrupt_sql(pc, &a->spec, &range, kind, column);
		int np = keyrange_params(&range, params);

		log_info("test hook: corrupting the copy of batch %d (%s)", batch, kind);
		if (strcmp(kind, "dup") == 0)
		{
			char *drop = NULL;
			char oid[16];
			const char *p1[1] = {oid};

			/* the copy's unique constraints would refuse the duplicate */
			snprintf(oid, sizeof(oid), "%u", a->m.shadow);
			ok = pgc_query_value(pc,
								 "SELECT pg_catalog.string_agg(pg_catalog.format('ALTER TABLE %s "
								 "DROP CONSTRAINT %I', conrelid::pg_catalog.regclass, conname), '; ') "
								 "FROM pg_catalog.pg_constraint WHERE conrelid = $1::pg_catalog.oid "
								 "AND contype IN ('p', 'u')",
								 1, p1, &drop, err) &&
				 (drop == NULL || pgc_change(pc, drop, 0, NULL, err));
			free(drop);
		}
		ok = ok && sql && pgc_change(pc, sql, np, params, err);
		if (sql == NULL && ok)
			err_set(err, EXIT_USAGE, "PGPART_TEST_CORRUPT: unknown kind \"%s\"", kind);
		ok = ok && sql;
		free(sql);
	}
	free(spec);
	return ok;
}
#endif

bool
ops_migrate_backfill(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	BatchCtx c;
	Progress prog;
	double t0 = clock_ms(), last_log = t0;
	long long copied = 0;
	bool ok = false;
#ifdef PGPART_TEST_HOOKS
	int batches = 0;
#endif

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	if (!load_active(pc, opt, &a, err))
		goto out;
	if (migration_phase_copied(a.m.phase))
	{
		r->done = true;
		report(r, "backfill", "already complete (%lld rows copied)", a.m.rows_copied);
		report(r, "next step", "%s", next_step(&a.m));
		ok = true;
		goto out;
	}
	if (!migration_step_allowed(a.m.phase, MIGRATION_STEP_BATCH, NULL))
	{
		wrong_phase(&a.m, MIGRATION_STEP_BATCH, err);
		goto out;
	}
	c.a = &a;
	c.batch_size = opt->batch_size;
	if (a.m.est_rows < 0 && !catalog_estimate_rows(pc, a.m.source, &a.m.est_rows, err))
		goto out;
	progress_start(&prog, "rows", a.m.est_rows > 0 ? (int64_t) a.m.est_rows : 0,
				   opt->show_progress);
	for (;;)
	{
		LockStats st;

		/* DDL on the source since start would make the copy wrong: stop before the batch */
		if (!check_fingerprint(pc, &a.m, err))
			break;
		if (opt->max_lag_ms > 0)
		{
			double lag;

			while ((lag = replica_lag_ms(pc)) > opt->max_lag_ms)
			{
				log_info("replica lag %.0f ms > --max-lag %d ms: pausing", lag, opt->max_lag_ms);
				sleep_ms(1000);
			}
		}
		if (!lock_run_txn(pc, &opt->lock, batch_body, &c, &st, err))
			break;
		if (c.done)
		{
			r->done = !pc->dry_run;
			ok = true;
			break;
		}
#ifdef PGPART_TEST_HOOKS
		if (!test_corrupt_copy(pc, &a, &c.next_key, ++batches, err))
			break;
#endif
		copied += c.copied;
		a.m.rows_copied += c.copied;
		namelist_free(&a.m.last_key);
		a.m.last_key = c.next_key;
		memset(&c.next_key, 0, sizeof(c.next_key));
		progress_update(&prog, a.m.rows_copied, NULL);
		if (opt->max_rows > 0 && copied >= opt->max_rows)
		{
			ok = true; /* a planned stop: the next run continues from here */
			break;
		}
		if (!opt->show_progress && clock_ms() - last_log > 10000)
		{
			char *k = namelist_join(&a.m.last_key, ", ");

			log_info("backfill of %s.%s: %lld rows copied in this run (%.0f rows/s), up to key (%s)",
					 a.m.schema, a.m.name, copied, copied / ((clock_ms() - t0) / 1000.0), k);
			free(k);
			last_log = clock_ms();
		}
		if (opt->rate > 0)
		{
			/* throttle: sleep until this many rows are due */
			double due_ms = copied / opt->rate * 1000.0;
			double elapsed = clock_ms() - t0;

			if (due_ms > elapsed)
				sleep_ms((int) (due_ms - elapsed));
		}
	}
	progress_finish(&prog);
	r->rows = copied;
	{
		double secs = (clock_ms() - t0) / 1000.0;

		report(r, "rows copied", "%lld in this run (%lld in all)", copied, a.m.rows_copied);
		report(r, "rate", "%.0f rows/s", secs > 0 ? copied / secs : 0);
		report(r, "backfill", "%s", r->done ? "complete" : "not complete");
		if (r->done)
			report(r, "next step", "pgpart migrate verify %s.%s", a.m.schema, a.m.name);
	}
out:
	namelist_free(&c.next_key);
	active_free(&a);
	return ok;
}

bool
ops_migrate_batch_sql(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	KeyRange range;
	char *sql;
	int k;

	memset(r, 0, sizeof(*r));
	if (!load_active(pc, opt, &a, err))
		return false;
	if (a.m.shadow == 0 || !migration_step_allowed(a.m.phase, MIGRATION_STEP_BATCH_SQL, NULL))
	{
		wrong_phase(&a.m, MIGRATION_STEP_BATCH_SQL, err);
		active_free(&a);
		return false;
	}
	/* only the number of key columns matters to the text */
	range.lower = &a.spec.key;
	range.upper = &a.spec.key;
	k = a.spec.key.n;
	report(r, "parameters", "$1..$%d lower key (excluded), $%d..$%d upper key (included), "
		   "$%d batch size (lock only)", k, k + 1, 2 * k, 2 * k + 1);
	sql = mirror_lock_batch_sql(pc, &a.spec, &range);
	report(r, "lock", "%s", sql);
	free(sql);
	sql = mirror_copy_missing_sql(pc, &a.spec, &range);
	report(r, "copy", "%s", sql);
	free(sql);
	sql = tablecopy_compare_sql(&a.spec, &range);
	report(r, "compare", "%s", sql);
	free(sql);
	active_free(&a);
	return true;
}

/* ---- verify ---- */

typedef struct RepairCtx
{
	Active *a;
	const KeyRange *range;
	long long fixed;
} RepairCtx;

static bool
repair_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	RepairCtx *c = arg;
	const char *params[130];
	int np;
	char *sql;
	PGresult *res;
	bool equal, ok;
	long long rows;

	/*
	 * Writers of the source wait (milliseconds, under lock_timeout) while the
	 * range is rewritten: with no write in flight, deleting the copy's rows of
	 * the range and copying them again cannot race with the trigger, and it
	 * also removes duplicates and rows that exist only in the copy.
	 */
	sql = pg_xasprintf("LOCK TABLE %s IN SHARE MODE", c->a->spec.from);
	ok = pgc_change(pc, sql, 0, NULL, err);
	free(sql);
	if (!ok)
		return false;
	lock_txn_mark_locked(stats);
	np = keyrange_params(c->range, params);
	sql = mirror_delete_range_sql(pc, &c->a->spec, c->range);
	res = pgc_query(pc, sql, np, params, err);
	free(sql);
	if (res == NULL)
		return false;
	PQclear(res);
	sql = mirror_copy_missing_sql(pc, &c->a->spec, c->range);
	res = pgc_query(pc, sql, np, params, err);
	free(sql);
	if (res == NULL)
		return false;
	c->fixed = atoll(PQcmdTuples(res));
	PQclear(res);
	if (!compare_range(pc, &c->a->spec, c->range, &equal, &rows, NULL, err))
		return false;
	if (!equal)
	{
		err_set(err, EXIT_CHECK, "the repaired range still differs");
		return false;
	}
	return true;
}

bool
ops_migrate_verify(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	NameList cur = {0}, end = {0};
	const NameList *limit;
	long long ranges = 0, checked = 0;
	NameList bad = {0};
	bool ok = false;
	bool last = false;

	memset(r, 0, sizeof(*r));
	if (!load_active(pc, opt, &a, err))
		goto out;
	if (!migration_step_allowed(a.m.phase, MIGRATION_STEP_VERIFY, NULL))
	{
		wrong_phase(&a.m, MIGRATION_STEP_VERIFY, err);
		goto out;
	}
	if (opt->repair && !migration_step_allowed(a.m.phase, MIGRATION_STEP_REPAIR, NULL))
	{
		/* the application writes the new table now: pgpart will not overwrite it from the old */
		err_set(err, EXIT_USAGE, "--repair is only possible before switch");
		err_detail(err, "After switch the partitioned table is the application's table; "
						"repairing would overwrite its rows with the old table's.");
		err_hint(err, "Run verify without --repair to see the differences; \"pgpart migrate "
					  "rollback %s.%s\" returns to the old table, which received every write.",
				 a.m.schema, a.m.name);
		goto out;
	}
	if (!check_fingerprint(pc, &a.m, err))
		goto out;
	/* during backfill only the part already copied can be compared */
	limit = a.m.phase == MIGRATION_BACKFILLING ? &a.m.last_key : NULL;
	if (limit && limit->n == 0)
		last = true;
	while (!last)
	{
		KeyRange probe = {&cur, limit};
		KeyRange range;
		const char *params[130];
		char n[16];
		int np;
		char *sql = mirror_chunk_end_sql(pc, &a.spec, &probe);
		PGresult *res;
		bool equal;
		long long rows;
		char *detail = NULL;

		np = keyrange_params(&probe, params);
		snprintf(n, sizeof(n), "%d", opt->batch_size);
		params[np++] = n;
		res = pgc_query(pc, sql, np, params, err);
		free(sql);
		if (res == NULL)
			goto out;
		namelist_free(&end);
		if (PQntuples(res) == 0)
			last = true; /* the rest, up to the limit (or everything after cur) */
		else
			for (np = 0; np < a.spec.key.n; np++)
				namelist_add(&end, PQgetvalue(res, 0, np));
		PQclear(res);
		range.lower = &cur;
		range.upper = last ? limit : &end;
		ranges++;
		if (opt->sample >= 1.0 || (double) rand() / RAND_MAX < opt->sample)
		{
			if (!compare_range(pc, &a.spec, &range, &equal, &rows, &detail, err))
				goto out;
			checked++;
			r->rows += rows;
			if (!equal)
			{
				char *rt = range_text(&range);
				char *line = pg_xasprintf("%s: %s", rt, detail);

				r->mismatches++;
				if (opt->repair && !pc->dry_run)
				{
					RepairCtx rc = {&a, &range, 0};
					LockStats st;

					if (!lock_run_txn(pc, &opt->lock, repair_body, &rc, &st, err))
					{
						free(rt);
						free(line);
						free(detail);
						goto out;
					}
					r->repaired++;
					free(line);
					line = pg_xasprintf("%s: %s; repaired (%lld rows rewritten)", rt, detail,
										rc.fixed);
				}
				namelist_add(&bad, line);
				free(line);
				free(rt);
			}
			free(detail);
		}
		namelist_free(&cur);
		cur = end;
		memset(&end, 0, sizeof(end));
	}
	{
		bool passed = r->mismatches == r->repaired && opt->sample >= 1.0;
		bool clean = r->mismatches == r->repaired;
		char *summary = pg_xasprintf("{\"ranges\": %lld, \"checked\": %lld, \"rows\": %lld, "
									 "\"mismatches\": %lld, \"repaired\": %lld, \"sample\": %g, "
									 "\"phase\": \"%s\"}",
									 ranges, checked, r->rows, r->mismatches, r->repaired,
									 opt->sample, migration_phase_name(a.m.phase));
		int i;

		/* only a complete, clean pass of a finished copy lets switch and finish go on */
		if (!migration_record_verify(pc, &a.m,
									 passed && a.m.phase != MIGRATION_BACKFILLING, summary,
									 err))
		{
			free(summary);
			goto out;
		}
		free(summary);
		report(r, "ranges", "%lld (%lld checked)", ranges, checked);
		report(r, "rows compared", "%lld", r->rows);
		report(r, "mismatching ranges", "%lld", r->mismatches);
		for (i = 0; i < bad.n; i++)
			report(r, "mismatch", "%s", bad.items[i]);
		if (r->mismatches > 0 && !opt->repair)
		{
			err_set(err, EXIT_CHECK, "%lld key range%s of %s.%s differ between the table and its copy",
					r->mismatches, r->mismatches == 1 ? "" : "s", a.m.schema, a.m.name);
			err_detail(err, "%s", bad.items[0]);
			err_hint(err, "Run \"pgpart migrate verify %s.%s --repair\" to copy them again.",
					 a.m.schema, a.m.name);
			goto out;
		}
		report(r, "result", "%s", clean ? (passed ? "equal" : "equal in the ranges checked")
										: "differences remain");
		report(r, "next step", "%s", next_step(&a.m));
	}
	ok = true;
out:
	namelist_free(&cur);
	namelist_free(&end);
	namelist_free(&bad);
	active_free(&a);
	return ok;
}

/* ---- switch, rollback, finish ---- */

typedef struct SwapCtx
{
	const MigrateOptions *opt;
	Active *a;
	const char *step; /* "switch", "rollback", "finish" */
} SwapCtx;

static bool
lock_both(PgConn *pc, Active *a, LockStats *stats, PgpError *err)
{
	/*
	 * In the order writers reach them, or the lock waits on a writer that
	 * waits on it: before switch they write the source and their trigger the
	 * copy; after switch the new table and their trigger the old one.
	 */
	bool switched = a->m.phase == MIGRATION_SWITCHED;
	char *sql = pg_xasprintf("LOCK TABLE %s, %s IN ACCESS EXCLUSIVE MODE",
							 switched ? a->spec.to : a->spec.from,
							 switched ? a->spec.from : a->spec.to);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	if (ok)
		lock_txn_mark_locked(stats);
	return ok;
}

static bool
rename_table(PgConn *pc, const char *from_q, const char *to_name, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "ALTER TABLE %s RENAME TO ", from_q);
	pgc_append_ident(pc, &sql, to_name);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	return ok;
}

/* reloads the state under a row lock: another pgpart may have moved it on */
static bool
recheck_phase(PgConn *pc, Active *a, MigrationPhase want, PgpError *err)
{
	Migration now;
	bool found, ok;

	if (!migration_load_active(pc, a->m.schema, a->m.name, true, &now, &found, err))
		return false;
	ok = found && now.phase == want;
	if (!ok)
		err_set(err, EXIT_USAGE, "the migration of %s.%s changed phase meanwhile (now %s)",
				a->m.schema, a->m.name, found ? migration_phase_name(now.phase) : "ended");
	migration_free(&now);
	return ok;
}

static bool
switch_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;
	Migration *m = &a->m;
	char *old_q = pgc_quote_qualified(pc, m->schema, m->old_name);
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	PartConfig cfg;
	bool ok;

	memset(&cfg, 0, sizeof(cfg));
	cfg.parent = m->shadow;
	cfg.column = m->column;
	cfg.unit = m->unit;
	cfg.start = m->start;
	cfg.premake = m->premake;
	cfg.time_zone = m->time_zone;
	ok = recheck_phase(pc, a, MIGRATION_BACKFILLED, err) && lock_both(pc, a, stats, err) &&
		 check_fingerprint(pc, m, err) &&
		 shadow_copy_identity_positions(pc, m->source, m->shadow, err) &&
		 shadow_move_owned_sequences(pc, m->source, m->shadow, err) &&
		 shadow_swap_index_names(pc, m->source, m->shadow, "pgpart_old", "pgpart_new", err) &&
		 shadow_swap_identity_sequence_names(pc, m->source, m->shadow, "pgpart_old", err) &&
		 rename_table(pc, a->spec.from, m->old_name, err) &&
		 rename_table(pc, a->spec.to, m->name, err) &&
		 drop_triggers(pc, m, old_q, "forward", err) &&
		 /* the old table keeps receiving every write: rollback loses nothing */
		 create_triggers(pc, m, new_q, "reverse", err) && config_insert(pc, &cfg, err) &&
		 migration_advance(pc, m, MIGRATION_STEP_SWITCH, err);
	free(old_q);
	free(new_q);
	return ok;
}

static bool
rollback_switched_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;
	Migration *m = &a->m;
	char *old_q = pgc_quote_qualified(pc, m->schema, m->old_name);
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	char *src_q = pgc_quote_qualified(pc, m->schema, m->name);
	char oid[16];
	const char *params[1] = {oid};
	bool ok;

	snprintf(oid, sizeof(oid), "%u", m->shadow);
	ok = recheck_phase(pc, a, MIGRATION_SWITCHED, err) && lock_both(pc, a, stats, err) &&
		 shadow_copy_identity_positions(pc, m->shadow, m->source, err) &&
		 shadow_move_owned_sequences(pc, m->shadow, m->source, err) &&
		 shadow_swap_index_names(pc, m->shadow, m->source, "pgpart_new", "pgpart_old", err) &&
		 shadow_swap_identity_sequence_names(pc, m->shadow, m->source, "pgpart_new", err) &&
		 drop_triggers(pc, m, new_q, "reverse", err) &&
		 rename_table(pc, new_q, m->shadow_name, err) &&
		 rename_table(pc, old_q, m->name, err) &&
		 create_triggers(pc, m, src_q, "forward", err) &&
		 pgc_change(pc,
					"DELETE FROM pgpart.part_config WHERE parent_table = $1::pg_catalog.oid",
					1, params, err) &&
		 migration_advance(pc, m, MIGRATION_STEP_ROLLBACK, err);
	free(old_q);
	free(new_q);
	free(src_q);
	return ok;
}

static bool
rollback_unswitched_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;
	Migration *m = &a->m;
	char *sql;
	bool ok;

	if (!recheck_phase(pc, a, m->phase, err))
		return false;
	sql = pg_xasprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", a->spec.from);
	ok = pgc_change(pc, sql, 0, NULL, err);
	free(sql);
	if (!ok)
		return false;
	lock_txn_mark_locked(stats);
	sql = pg_xasprintf("DROP TABLE %s", a->spec.to);
	ok = drop_triggers(pc, m, a->spec.from, "forward", err) && pgc_change(pc, sql, 0, NULL, err) &&
		 drop_functions(pc, m, err) &&
		 migration_advance(pc, m, MIGRATION_STEP_ROLLBACK, err);
	free(sql);
	return ok;
}

static bool
finish_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;
	Migration *m = &a->m;
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	bool ok;

	(void) c;
	/* the old table is dropped afterwards, in its own transaction: see ops_migrate_finish */
	ok = recheck_phase(pc, a, MIGRATION_SWITCHED, err) && lock_both(pc, a, stats, err) &&
		 drop_triggers(pc, m, new_q, "reverse", err) && drop_functions(pc, m, err) &&
		 migration_advance(pc, m, MIGRATION_STEP_FINISH, err);
	free(new_q);
	return ok;
}

/*
 * Who holds locks on the two tables now, for the error message: sessions
 * and, easy to forget because no session shows them, prepared transactions.
 */
static char *
lock_holders(PgConn *pc, const Active *a)
{
	char src[16], dst[16];
	const char *params[2] = {src, dst};
	char *text = NULL;
	PgpError e;

	snprintf(src, sizeof(src), "%u", a->m.source);
	snprintf(dst, sizeof(dst), "%u", a->m.shadow);
	err_init(&e);
	if (!pgc_query_value(
			pc,
			"SELECT pg_catalog.string_agg(DISTINCT CASE WHEN l.pid IS NULL "
			"  THEN pg_catalog.format('prepared transaction %L (COMMIT PREPARED or ROLLBACK "
			"PREPARED it)', p.gid) "
			"  ELSE pg_catalog.format('pid %s (%s, %s lock, transaction open since %s)', l.pid, "
			"    s.state, l.mode, s.xact_start) END, '; ') "
			"FROM pg_catalog.pg_locks l "
			"LEFT JOIN pg_catalog.pg_stat_activity s ON s.pid = l.pid "
			/* a prepared transaction's locks have no pid; its xid is on its transactionid lock */
			"LEFT JOIN pg_catalog.pg_locks x ON l.pid IS NULL AND x.pid IS NULL "
			"  AND x.locktype = 'transactionid' AND x.virtualtransaction = l.virtualtransaction "
			"LEFT JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = x.transactionid "
			"WHERE l.locktype = 'relation' AND l.granted "
			"  AND l.relation IN ($1::pg_catalog.oid, $2::pg_catalog.oid) "
			"  AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()",
			2, params, &text, &e))
		err_clear(&e);
	return text;
}

static bool
drop_old_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Active *a = arg;
	char *sql = pg_xasprintf("DROP TABLE IF EXISTS %s",  a->spec.from);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	lock_txn_mark_locked(stats);
	free(sql);
	return ok;
}

static bool
run_swap(PgConn *pc, const MigrateOptions *opt, Active *a, LockedBody body, const char *step,
		 MigrateReport *r, PgpError *err)
{
	SwapCtx c = {opt, a, step};
	LockStats st;

	if (!lock_run_txn(pc, &opt->lock, body, &c, &st, err))
	{
		if (err->kind == ERR_KIND_LOCKS_NOT_GRANTED)
		{
			char *holders = lock_holders(pc, a);

			err_detail(err, "%s did not happen; the tables are as they were.%s%s", step,
					   holders ? "  Locks are held by: " : "", holders ? holders : "");
			free(holders);
		}
		return false;
	}
	r->lock_held_ms = st.held_ms;
	r->lock_attempts = st.attempts;
	report(r, "locks held", "%.1f ms (%d attempt%s)", st.held_ms, st.attempts,
		   st.attempts == 1 ? "" : "s");
	return true;
}

bool
ops_migrate_switch(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	if (!load_active(pc, opt, &a, err))
		goto out;
	if (!migration_step_allowed(a.m.phase, MIGRATION_STEP_SWITCH, NULL))
	{
		wrong_phase(&a.m, MIGRATION_STEP_SWITCH, err);
		goto out;
	}
	if (!a.m.verified || !a.m.verify_ok)
	{
		err_set(err, EXIT_USAGE, "the copy of %s.%s has not passed a full verify yet",
				a.m.schema, a.m.name);
		err_hint(err, "Run \"pgpart migrate verify %s.%s\" first.", a.m.schema, a.m.name);
		goto out;
	}
	if (!run_swap(pc, opt, &a, switch_body, "switch", r, err))
		goto out;
	if (!pc->dry_run && !migration_record_switch_ms(pc, &a.m, r->lock_held_ms, err))
		goto out;
	report(r, "table", "%s.%s is now partitioned; the old table is %s.%s and still receives "
		   "every write", a.m.schema, a.m.name, a.m.schema, a.m.old_name);
	report(r, "next step", "pgpart migrate verify %s.%s, then finish (or rollback)", a.m.schema,
		   a.m.name);
	ok = true;
out:
	active_free(&a);
	return ok;
}

bool
ops_migrate_rollback(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	bool ok = false;
	bool switched;

	memset(r, 0, sizeof(*r));
	if (!load_active(pc, opt, &a, err))
		goto out;
	switched = a.m.phase == MIGRATION_SWITCHED;
	if (!run_swap(pc, opt, &a, switched ? rollback_switched_body : rollback_unswitched_body,
				  "rollback", r, err))
		goto out;
	if (switched)
	{
		report(r, "table", "%s.%s is the original table again; the partitioned copy is %s.%s "
			   "and kept in sync", a.m.schema, a.m.name, a.m.schema, a.m.shadow_name);
		report(r, "next step", "pgpart migrate switch again, or rollback again to drop the copy");
	}
	else
		report(r, "table", "%s.%s is unchanged; the copy and the triggers are gone", a.m.schema,
			   a.m.name);
	ok = true;
out:
	active_free(&a);
	return ok;
}

bool
ops_migrate_finish(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	if (!load_active(pc, opt, &a, err))
		goto out;
	if (!migration_step_allowed(a.m.phase, MIGRATION_STEP_FINISH, NULL))
	{
		wrong_phase(&a.m, MIGRATION_STEP_FINISH, err);
		goto out;
	}
	if (!a.m.verified_since_switch || !a.m.verify_ok)
	{
		err_set(err, EXIT_USAGE, "refusing to finish: no passing verify since the switch");
		err_detail(err, "finish drops the old table; that needs proof that nothing is missing.");
		err_hint(err, "Run \"pgpart migrate verify %s.%s\" first.", a.m.schema, a.m.name);
		goto out;
	}
	if (!run_swap(pc, opt, &a, finish_body, "finish", r, err))
		goto out;
	if (opt->keep_old)
		report(r, "old table", "%s.%s kept (no longer synchronised)", a.m.schema, a.m.old_name);
	else
	{
		/*
		 * Nothing uses the old table any more, so dropping it (unlinking
		 * gigabytes can take a while) holds no lock the application waits for.
		 */
		LockStats st;
		PgpError derr;

		err_init(&derr);
		if (lock_run_txn(pc, &opt->lock, drop_old_body, &a, &st, &derr))
			report(r, "old table", "%s.%s dropped (its lock held %.1f ms, alone)", a.m.schema,
				   a.m.old_name, st.held_ms);
		else
			report(r, "old table", "%s.%s NOT dropped (%s): the migration is finished; drop "
								   "it yourself",
				   a.m.schema, a.m.old_name, derr.message ? derr.message : "error");
		err_clear(&derr);
	}
	report(r, "table", "%s.%s is partitioned and managed by pgpart (see pgpart status)",
		   a.m.schema, a.m.name);
	ok = true;
out:
	active_free(&a);
	return ok;
}

bool
ops_migrate_status(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Migration m;
	bool found;
	char *schema = NULL, *name = NULL;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	memset(&m, 0, sizeof(m));
	if (!schema_require(pc, err) || !migration_table_name(pc, opt->table, &schema, &name, err))
		return false;
	if (!migration_load_latest(pc, schema, name, &m, &found, err))
		goto out;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "%s has never been migrated by pgpart", opt->table);
		goto out;
	}
	report(r, "table", "%s.%s", m.schema, m.name);
	report(r, "phase", "%s", migration_phase_name(m.phase));
	report(r, "rows copied", "%lld in %lld batches", m.rows_copied, m.batches);
	if (m.phase == MIGRATION_BACKFILLING)
	{
		double rate = m.backfill_seconds > 0 ? m.rows_copied / m.backfill_seconds : 0;

		if (m.est_rows > 0)
			report(r, "progress", "%.0f%% of about %.0f rows",
				   100.0 * (double) m.rows_copied / m.est_rows, m.est_rows);
		report(r, "rate", "%.0f rows/s", rate);
		if (rate > 0 && m.est_rows > m.rows_copied)
			report(r, "eta", "%.0f s", (m.est_rows - (double) m.rows_copied) / rate);
	}
	if (m.last_key.n > 0)
	{
		char *k = namelist_join(&m.last_key, ", ");

		report(r, "last key copied", "(%s)", k);
		free(k);
	}
	report(r, "last verify", "%s", !m.verified ? "never" : m.verify_ok ? "passed" : "FAILED");
	if (m.verify_summary)
		report(r, "verify summary", "%s", m.verify_summary);
	if (m.switch_lock_ms > 0)
		report(r, "switch lock held", "%.1f ms", m.switch_lock_ms);
	report(r, "next step", "%s", next_step(&m));
	ok = true;
out:
	migration_free(&m);
	free(schema);
	free(name);
	return ok;
}
